from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.build.outdir import recover
from publisher.build.writer import write_outputs
from publisher.errors import OutputError
from publisher.render.output import Output


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_writes_skips_unchanged_and_prunes(tmp_path: Path):
    out = tmp_path / "out"
    first = write_outputs([Output("a.txt", b"1"), Output("d/b.txt", b"2")], out)
    assert first.written == (".publisher-out", "a.txt", "d/b.txt")
    stamp = (out / "a.txt").stat().st_mtime_ns, (out / "a.txt").stat().st_ino
    second = write_outputs([Output("a.txt", b"1"), Output("e/c.txt", b"3")], out)
    # The marker changes with the content: it names the tree (outdir.tree_id).
    assert (second.written, second.unchanged, second.removed) == ((".publisher-out", "e/c.txt"), 1, ("d/b.txt",))
    assert tree(out) == {".publisher-out": tree(out)[".publisher-out"], "a.txt": b"1", "e/c.txt": b"3"}
    assert not (out / "d").exists()
    # The unchanged file is the very same file: same inode, same modification time.
    assert ((out / "a.txt").stat().st_mtime_ns, (out / "a.txt").stat().st_ino) == stamp
    third = write_outputs([Output("a.txt", b"1"), Output("e/c.txt", b"3")], out)
    assert (third.written, third.removed) == ((), ())
    assert sorted(os.listdir(tmp_path)) == [".out.lock", "out"]  # no staging folder left behind


@pytest.mark.parametrize("path", ["../x", "/etc/x", "a/../../x", "a//b", "./a", "", "a\\b", "a/\0"])
def test_unsafe_paths_are_refused_and_nothing_is_written(tmp_path: Path, path: str):
    with pytest.raises(OutputError) as raised:
        write_outputs([Output("ok.txt", b"1"), Output(path, b"x")], tmp_path / "out")
    assert "unsafe output path refused" in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_the_same_path_twice_is_refused(tmp_path: Path):
    with pytest.raises(OutputError, match="two outputs want the same path"):
        write_outputs([Output("a", b"1"), Output("a", b"2")], tmp_path / "out")


def test_a_folder_publisher_did_not_write_is_never_replaced(tmp_path: Path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="did not write"):
        write_outputs([Output("a.txt", b"1")], tmp_path / "home")
    assert (tmp_path / "home" / "precious.txt").read_text() == "keep me"


def test_leftovers_of_a_killed_build_are_recovered(tmp_path: Path):
    out = tmp_path / "out"
    write_outputs([Output("a.txt", b"1")], out)
    # Killed between the two renames of the fallback swap: only the old tree remains.
    out.rename(tmp_path / ".out.old")
    (tmp_path / ".out.staging").mkdir()
    (tmp_path / ".out.staging" / "half").write_bytes(b"tru")
    recover(out)
    assert tree(out)["a.txt"] == b"1"
    assert sorted(os.listdir(tmp_path)) == [".out.lock", "out"]


def test_two_writers_on_one_folder_are_refused(tmp_path: Path):
    from publisher.build.writer import Writer

    with Writer(tmp_path / "out"), pytest.raises(OutputError, match="another publisher build"):
        Writer(tmp_path / "out", wait=0)


def test_keep_all_links_files_as_last_written_and_refuses_edited_ones(tmp_path: Path):
    from publisher.build.writer import Writer

    out, manifest = tmp_path / "out", tmp_path / "cache" / "manifest.json"
    write_outputs([Output("a.txt", b"1"), Output("b.txt", b"2")], out, manifest)
    with Writer(out, manifest) as writer:
        assert writer.keep_all(["a.txt", "b.txt"])
        report = writer.commit()
    assert (report.written, report.unchanged, report.removed) == ((), 3, ())
    (out / "b.txt").write_bytes(b"edited by hand")
    with Writer(out, manifest) as writer:
        assert not writer.keep_all(["a.txt", "b.txt"])  # b.txt is not as written: render it again
        writer.add(Output("a.txt", b"1"))
        writer.add(Output("b.txt", b"2"))
        report = writer.commit()
    assert report.changed == ("b.txt",) and (out / "b.txt").read_bytes() == b"2"  # the same tree again


def test_the_retired_tree_is_recycled_and_never_shares_a_written_file(tmp_path: Path):
    out, manifest = tmp_path / "out", tmp_path / "cache" / "manifest.json"
    spare = tmp_path / ".out.spare"
    write_outputs([Output("a.txt", b"A1"), Output("b.txt", b"B1"), Output("d/c.txt", b"C1")], out, manifest)
    write_outputs([Output("a.txt", b"A2"), Output("b.txt", b"B1"), Output("d/c.txt", b"C1")], out, manifest)
    assert tree(spare) == {
        ".publisher-out": tree(spare)[".publisher-out"],
        "a.txt": b"A1",
        "b.txt": b"B1",
        "d/c.txt": b"C1",
    }
    # b.txt is one inode in both trees; writing a new b.txt must not write through it.
    assert (spare / "b.txt").stat().st_ino == (out / "b.txt").stat().st_ino
    report = write_outputs([Output("a.txt", b"A2"), Output("b.txt", b"B3"), Output("e.txt", b"E3")], out, manifest)
    assert (report.added, report.changed, report.removed) == (("e.txt",), (".publisher-out", "b.txt"), ("d/c.txt",))
    assert tree(out) == {".publisher-out": tree(out)[".publisher-out"], "a.txt": b"A2", "b.txt": b"B3", "e.txt": b"E3"}
    assert tree(spare)["b.txt"] == b"B1" and tree(spare)["a.txt"] == b"A2"
    assert not (out / "d").exists()


def test_a_tampered_spare_is_never_trusted(tmp_path: Path):
    out, manifest = tmp_path / "out", tmp_path / "cache" / "manifest.json"
    spare = tmp_path / ".out.spare"
    write_outputs([Output("a.txt", b"A1"), Output("b.txt", b"B1")], out, manifest)
    write_outputs([Output("a.txt", b"A2"), Output("b.txt", b"B1")], out, manifest)
    (spare / "b.txt").unlink()
    (spare / "b.txt").write_bytes(b"tampered")  # same name, another file
    (spare / "junk.txt").write_bytes(b"not from any build")
    write_outputs([Output("a.txt", b"A3"), Output("b.txt", b"B1")], out, manifest)
    assert tree(out) == {".publisher-out": tree(out)[".publisher-out"], "a.txt": b"A3", "b.txt": b"B1"}


def test_a_staging_folder_left_by_a_killed_build_is_deleted_not_used(tmp_path: Path):
    out, manifest = tmp_path / "out", tmp_path / "cache" / "manifest.json"
    write_outputs([Output("a.txt", b"A1")], out, manifest)
    (tmp_path / ".out.staging").mkdir()
    (tmp_path / ".out.staging" / "a.txt").write_bytes(b"half")
    write_outputs([Output("a.txt", b"A2")], out, manifest)
    assert tree(out)["a.txt"] == b"A2" and not (tmp_path / ".out.staging").exists()


def test_files_staged_by_workers_are_adopted_like_written_ones(tmp_path: Path):
    from publisher.build.writer import Writer, stage

    out, manifest = tmp_path / "out", tmp_path / "cache" / "manifest.json"
    with Writer(out, manifest) as writer:
        staging = writer.fresh_staging()
        assert staging is not None  # a first build: every file is new
        writer.add(stage(staging, Output("issues/a/index.html", b"A")))  # as a worker does
        writer.add(Output("b.txt", b"B"))
        report = writer.commit()
    assert report.added == (".publisher-out", "b.txt", "issues/a/index.html")
    assert tree(out)["issues/a/index.html"] == b"A"
    with Writer(out, manifest) as writer:
        assert writer.fresh_staging() is None  # out/ has files now: compare and keep instead
        assert writer.keep_all(["issues/a/index.html", "b.txt"])  # the staged file's record is true
        assert writer.commit().written == ()
