"""Big inputs build without errors and without quadratic slow-down: a 5 MB digest, a digest with
500 entries, 5,000 distinct tags. The email issue of a digest too big for one email keeps the
first notes that fit and links the rest, for the list and for every personal copy.

Timings compare two sizes (2× apart): the ratio must stay well under the 4× of quadratic growth.
Absolute bounds are generous, so that a slow CI machine cannot make them flake.
"""

from __future__ import annotations

import email
import json
import time
from email import policy
from pathlib import Path

import pytest

from publisher.build.pipeline import build
from publisher.config import load_config
from publisher.render import paths, words
from publisher.render.assemble import BuiltIssue, personalise

from .conftest import ROOT

CONFIG = load_config(ROOT / "publisher.toml")
UNSUBSCRIBE = "https://example.github.io/publisher/unsubscribe/?token=abc&email=reader%40example.org"


def project(root: Path, digests: dict[str, str]) -> Path:
    (root / "seeds").mkdir(parents=True)
    (root / "publisher.toml").write_bytes((ROOT / "publisher.toml").read_bytes())
    for name, text in digests.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    return root


def timed_build(root: Path) -> tuple[float, object]:
    config = load_config(root / "publisher.toml")
    # CPU seconds of this process (one job: the build runs here), not wall time: other work on the
    # machine must not make a linear build look quadratic.
    started = time.process_time()
    report = build(config, jobs=1, use_cache=False)
    return time.process_time() - started, report


def entries_digest(count: int, date: str = "2024-01-01") -> str:
    """`count` short entries; #late marks only the last tenth, #all every one."""
    lines = [date]
    for n in range(count):
        late = " #late" if n >= count * 9 // 10 else ""
        lines += [
            f"Entry {n} on scaling and alignment",
            f"(Author {n}, Other {n})",
            "An abstract line.",
            f"노트 {n}입니다.",
        ]
        lines.append(f"#all #t{n % 7}{late}")
    return "\n".join(lines) + "\n"


def tags_digests(count: int, per_digest: int = 50) -> dict[str, str]:
    """`count` distinct tags, `per_digest` to a digest, one entry each (plus #common everywhere)."""
    digests = {}
    for d in range(count // per_digest):
        tags = " ".join(f"#topic-{d * per_digest + j}" for j in range(per_digest))
        digests[f"{d:04d}.txt"] = (
            f"{2000 + d // 300}-{d // 25 % 12 + 1:02d}-{d % 25 + 1:02d}\nNote {d}\n노트\n{tags} #common\n"
        )
    return digests


def test_a_warm_up_build(tmp_path: Path):
    """Loads what a first build loads (templates, premailer), so that the timings below compare work."""
    timed_build(project(tmp_path, {"a.txt": entries_digest(3)}))


def test_a_5_mb_digest_builds(tmp_path: Path):
    abstract = "We study long documents with many references and careful ablations of each part. " * 600
    note = "긴 문서를 다루는 논문인데 실험이 꼼꼼하고 결과도 설득력이 있습니다. " * 700
    entries = [f"Paper {n}\n(Someone)\n{abstract}\n{note}\n#big #part-{n % 5}" for n in range(50)]
    text = "2024-03-01\n" + "\n".join(entries) + "\n"
    assert len(text.encode("utf-8")) > 5_000_000
    seconds, report = timed_build(project(tmp_path, {"big.txt": text}))
    assert seconds < 60, seconds
    page = (tmp_path / "out" / paths.issue_page(report.catalog.digests[0].date)).read_text("utf-8")
    assert page.count(note.strip()) == 50  # no line cut on the web page
    html = (tmp_path / "out" / "email" / "2024-03-01.html").read_bytes()
    assert len(html) < CONFIG.email.max_bytes  # the email is shortened, on purpose, to fit


def test_500_entries_scale_linearly_and_the_email_links_what_it_cannot_hold(tmp_path: Path):
    small, _ = timed_build(project(tmp_path / "small", {"a.txt": entries_digest(250)}))
    large, report = timed_build(project(tmp_path / "large", {"a.txt": entries_digest(500)}))
    print(f"250 entries {small:.2f} s, 500 entries {large:.2f} s, ratio {large / small:.2f}")
    assert large < 60 and large / small < 3, (small, large)
    assert report.catalog.entry_count == 500

    out = tmp_path / "large" / "out"
    html, manifest = (
        (out / "email/2024-01-01.html").read_text("utf-8"),
        (out / "send/2024-01-01.json").read_text("utf-8"),
    )
    issue = BuiltIssue.from_files(html, manifest)
    shown = json.loads(manifest)["shown"]
    assert 0 < shown < 500 and issue.shown == shown and len(html.encode()) < CONFIG.email.max_bytes
    message = email.message_from_bytes((out / "email/2024-01-01.eml").read_bytes(), policy=policy.default)
    assert message["Subject"] == words.email_subject(CONFIG.site.title, report.catalog.digests[0].date, 500)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    lines = text.split("\n")
    assert all(f"Entry {n} on scaling and alignment" in lines for n in range(shown))
    assert f"Entry {shown} on scaling and alignment" not in lines
    assert words.email_rest(500 - shown) in lines
    assert f"<{CONFIG.site.base_url}issues/2024-01-01/>" in text

    # Personal copies count their own entries left out; a copy of only left-out entries still links them.
    late = personalise(issue, ["late"], UNSUBSCRIBE)
    assert words.email_rest(50) in late.text and "Entry 499" not in late.text and late.subject.endswith("50편")
    t0 = personalise(issue, ["t0"], UNSUBSCRIBE)
    left_out = len([n for n in range(shown, 500) if n % 7 == 0])
    assert words.email_rest(left_out) in t0.text and words.email_rest(left_out) in t0.html
    assert len(t0.html.encode()) < CONFIG.email.max_bytes
    whole = personalise(issue, None, issue.unsubscribe_url)
    assert whole.html == html and whole.text == (out / "email/2024-01-01.txt").read_text("utf-8")


def test_a_small_digest_email_has_no_link_to_entries_left_out(tmp_path: Path):
    timed_build(project(tmp_path, {"a.txt": entries_digest(20)}))
    manifest = json.loads((tmp_path / "out" / "send/2024-01-01.json").read_text("utf-8"))
    assert "shown" not in manifest
    text = (tmp_path / "out" / "email/2024-01-01.txt").read_text("utf-8")
    assert "웹에서 보기\n<" not in text and "외 " not in text


def test_5000_tags_scale_linearly(tmp_path: Path):
    small, _ = timed_build(project(tmp_path / "small", tags_digests(2500)))
    large, report = timed_build(project(tmp_path / "large", tags_digests(5000)))
    print(f"2,500 tags {small:.2f} s, 5,000 tags {large:.2f} s, ratio {large / small:.2f}")
    assert large < 120 and large / small < 3, (small, large)
    assert len(report.catalog.topics) == 5001
    tags_page = (tmp_path / "large" / "out" / paths.TAGS_INDEX).read_text("utf-8")
    assert "#topic-4999" in tags_page and "#topic-0" in tags_page
    assert (tmp_path / "large" / "out" / "tags" / "topic-4999" / "feed.xml").is_file()


@pytest.mark.parametrize("count", [1, 2, 300])
def test_an_email_too_small_for_any_note_is_a_clear_error(tmp_path: Path, count: int):
    root = project(tmp_path, {"a.txt": entries_digest(count)})
    config = (root / "publisher.toml").read_text("utf-8").replace("max_bytes = 100000", "max_bytes = 4000")
    (root / "publisher.toml").write_text(config, "utf-8")
    from publisher.errors import OutputError

    with pytest.raises(OutputError, match=r"a.txt:1: email issue is .* bytes even without any note, over the 2,000"):
        timed_build(root)
    assert not (root / "out").exists()
