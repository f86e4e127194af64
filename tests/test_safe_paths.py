"""Tags and output paths: hostile tags give safe, distinct paths inside out/; nothing is ever
written outside out/ and the cache; a folder publisher did not write is never replaced."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.build.writer import check_path, write_outputs
from publisher.errors import OutputError
from publisher.render import paths
from publisher.render.output import Output
from publisher.text import SLUG_MAX, slugify

from .conftest import ROOT, run_cli

LONG_A = "long-" + "가" * 200 + "-a"
LONG_B = "long-" + "가" * 200 + "-b"
HOSTILE_TAGS = ["../../etc", "CON", "con.txt", "a/b", "수학", ".", "..", "...", "%2e%2e", "\u202eexe", LONG_A, LONG_B]
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}


def make_project(root: Path, digests: dict[str, str]) -> Path:
    """A project folder (config, seeds) a few levels down, so that `../..` from out/ still lands in tmp."""
    project = root / "deep" / "er" / "project"
    (project / "seeds").mkdir(parents=True)
    shutil.copy(ROOT / "publisher.toml", project / "publisher.toml")
    for name, text in digests.items():
        (project / "seeds" / name).write_text(text, encoding="utf-8")
    return project


def every_file(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def hostile_digest(date: str = "2024-08-01") -> str:
    lines = [date]
    for n, tag in enumerate(HOSTILE_TAGS):
        lines += [f"Note {n}", "노트", f"#{tag} #common"]
    return "\n".join(lines) + "\n"


def test_hostile_tags_get_safe_distinct_paths_inside_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = make_project(tmp_path, {"a.txt": hostile_digest()})
    before = every_file(tmp_path)
    monkeypatch.chdir(project)
    assert run_cli("build").exit_code == 0
    slugs = [slugify(tag) for tag in HOSTILE_TAGS]
    assert len(set(slugs)) == len(slugs)  # distinct
    merged = {"..", "..."}  # one topic with "." (`.` is a separator): their folders keep only feeds
    for tag, slug in zip(HOSTILE_TAGS, slugs, strict=True):
        assert slug and "/" not in slug and "\\" not in slug and slug not in (".", ".."), tag
        assert slug.split(".")[0] not in WINDOWS_RESERVED and len(slug) <= SLUG_MAX + 9, tag
        assert slug.isprintable() and "\u202e" not in slug, tag
        page = project / "out" / "tags" / slug / "index.html"
        assert page.resolve().is_relative_to((project / "out").resolve()), tag
        assert (page.parent / "feed.xml").is_file() and page.is_file() == (tag not in merged), tag
        if tag not in merged:
            assert f"#{tag}".replace("&", "&amp;").replace("<", "&lt;") in page.read_text("utf-8"), tag
    assert slugify("../../etc") == "etc" and slugify("수학") == "수학" and slugify("CON") == "con-tag"
    # Nothing anywhere under tmp but out/ and the cache folder (and the writer's spare tree beside out/).
    created = every_file(tmp_path) - before
    mine = ("deep/er/project/out/", "deep/er/project/.publisher-cache/", "deep/er/project/.out.lock")
    outside = {p for p in created if not p.startswith(mine)}
    assert outside == set()


def test_a_rebuild_also_writes_nowhere_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The second build swaps trees (the first only renames one into place): check that path too."""
    project = make_project(tmp_path, {"a.txt": hostile_digest()})
    monkeypatch.chdir(project)
    assert run_cli("build").exit_code == 0
    (project / "seeds" / "b.txt").write_text(hostile_digest("2024-08-02").replace("Note", "Other"), "utf-8")
    before = every_file(tmp_path)
    assert run_cli("build").exit_code == 0
    created = every_file(tmp_path) - before
    mine = ("deep/er/project/out/", "deep/er/project/.publisher-cache/", "deep/er/project/.out.spare/")
    mine += ("deep/er/project/.out.lock",)  # the lock file beside out/
    assert {p for p in created if not p.startswith(mine)} == set()
    left = [p for p in os.listdir(project) if p.startswith(".out.") and p not in (".out.spare", ".out.lock")]
    assert not left  # no staging, no old


def test_colliding_slugs_get_distinct_folders_with_a_warning(tmp_path: Path, monkeypatch):
    """#a/b and #a-b are two topics with one natural slug: the first used keeps it, the other gets
    a stable suffix; nothing is overwritten and the build succeeds."""
    project = make_project(tmp_path, {"a.txt": "2024-08-01\nOne\n노트\n#a/b\nTwo\n노트\n#a-b\n"})
    monkeypatch.chdir(project)
    result = run_cli("build")
    assert result.exit_code == 0, result.output
    assert 'seeds/a.txt:5: tag "#a-b" and "#a/b" (seeds/a.txt:2) are different topics with the same URL slug' in (
        result.output
    )
    folders = sorted(p.name for p in (project / "out" / "tags").iterdir() if p.is_dir())
    assert folders[0] == "a-b" and re.fullmatch(r"a-b-[0-9a-f]{6}", folders[1]) and len(folders) == 2
    assert "#a/b" in (project / "out/tags/a-b/index.html").read_text("utf-8")
    assert "#a-b" in (project / f"out/tags/{folders[1]}/index.html").read_text("utf-8")
    assert run_cli("build", "--strict").exit_code == 1  # a warning: --strict refuses it


def test_full_width_and_ascii_are_one_topic(tmp_path: Path, monkeypatch):
    project = make_project(
        tmp_path, {"a.txt": "2024-08-01\nOne\n노트\n#수학\n", "b.txt": "2024-08-02\nTwo\n노트\n#ＣＯＮ\n"}
    )
    (project / "seeds" / "c.txt").write_text("2024-08-03\nThree\n노트\n#con\n", "utf-8")
    monkeypatch.chdir(project)
    result = run_cli("build")
    assert result.exit_code == 0 and "same URL slug" not in result.output
    page = (project / "out/tags/con-tag/index.html").read_text("utf-8")
    assert "Two" in page and "Three" in page and "ＣＯＮ" in page  # also written as #ＣＯＮ


@pytest.mark.parametrize("where", ["foreign", ".", "seeds", "seeds/..", "/"])
def test_out_pointing_at_a_folder_publisher_did_not_write_is_refused(tmp_path: Path, monkeypatch, where: str):
    project = make_project(tmp_path, {"a.txt": hostile_digest()})
    (project / "foreign").mkdir()
    (project / "foreign" / "precious.txt").write_text("keep me", "utf-8")
    monkeypatch.chdir(project)
    before = {p: (project / p).read_bytes() for p in every_file(project)}
    result = run_cli("build", "--out", where)
    assert result.exit_code == 1
    assert "output folder has files that publisher did not write" in result.output or (
        where == "/" and "/: the output folder cannot be a file system root" in result.output
    )
    assert {p: (project / p).read_bytes() for p in every_file(project) if not p.startswith(".publisher-cache/")} == {
        p: data for p, data in before.items()
    }


def test_a_symbolic_link_planted_in_out_is_never_followed(tmp_path: Path, monkeypatch):
    project = make_project(tmp_path, {"a.txt": hostile_digest()})
    monkeypatch.chdir(project)
    assert run_cli("build").exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("not publisher's", "utf-8")
    shutil.rmtree(project / "out" / "tags" / "common")
    os.symlink(elsewhere, project / "out" / "tags" / "common")  # out/tags/common → a folder outside
    os.symlink(elsewhere / "index.html", project / "out" / "index.html.link")
    (project / "seeds" / "a.txt").write_text(hostile_digest().replace("Note 1", "Changed"), "utf-8")
    assert run_cli("build").exit_code == 0
    assert (
        every_file(elsewhere) == {"index.html"} and (elsewhere / "index.html").read_text("utf-8") == "not publisher's"
    )
    assert (project / "out" / "tags" / "common").is_dir() and not (project / "out" / "tags" / "common").is_symlink()
    assert not (project / "out" / "index.html.link").exists()


# ---------------------------------------------------------------- the writer's own check, over any string


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(st.sampled_from(["a", "b", ".", "/", "\\", "\0", " ", "~", "가", "\u202e", ":"]), max_size=12))
def test_the_writer_never_writes_outside_its_folder(relpath: str):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        out = root / "inner" / "out"
        refused = check_path(relpath) is not None
        try:
            write_outputs([Output(relpath, b"x")], out)
        except OutputError as error:
            assert refused or "both a file and a folder" in str(error), (relpath, str(error))
            assert not out.exists()
            return
        assert not refused
        assert posixpath.normpath(relpath) == relpath and not relpath.startswith("/")
        assert (out / relpath).resolve().is_relative_to(out.resolve()) and (out / relpath).read_bytes() == b"x"
        assert every_file(root) == {f"inner/out/{relpath}", f"inner/out/{paths.MARKER}", "inner/.out.lock"}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_check_path_accepts_only_normal_relative_paths(relpath: str):
    if check_path(relpath) is None:
        parts = relpath.split("/")
        assert relpath and not relpath.startswith("/") and "\0" not in relpath and "\\" not in relpath
        assert all(part not in ("", ".", "..") for part in parts)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(min_size=1, max_size=300).filter(lambda t: "#" not in t and not any(c.isspace() for c in t)))
def test_any_tag_slug_makes_safe_output_paths(name: str):
    from publisher.digests.model import Tag

    tag = Tag(name, slugify(name))
    for relpath in (paths.tag_page(tag), paths.feed("rss", tag), paths.feed_archive(1, tag), paths.tag_page(tag, 2)):
        assert check_path(relpath) is None, relpath
        assert relpath.startswith(f"tags/{tag.slug}/") and relpath.count("/") in (2, 3, 4)
