"""`publisher new`: today's digest, in the site's time zone, that `publisher check` accepts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.digests.parse import parse_digest
from publisher.digests.scaffold import file_name, skeleton, today

from .conftest import run_cli

DAY = dt.date(2024, 8, 1)


def test_the_skeleton_is_a_digest_with_the_date_line_and_one_entry():
    text = skeleton(DAY)
    assert text.startswith("2024년 8월 1일\n\n")
    assert text.endswith("#태그\n")
    parsed = parse_digest(text.encode(), "new.txt")
    assert parsed.warnings == ()
    digest = parsed.digest
    assert digest.date == DAY
    [entry] = digest.entries
    assert entry.title == "논문 제목"
    assert entry.authors == ("저자",)
    assert entry.abstract == ()
    assert len(entry.commentary) == 1 and "노트" in entry.commentary[0]  # Korean: the writer's note
    assert [tag.name for tag in entry.tags] == ["태그"]


def test_the_file_name_is_the_iso_date():
    assert file_name(DAY) == "2024-08-01.txt"


def test_today_is_the_date_in_the_sites_time_zone():
    instant = dt.datetime(2024, 7, 24, 16, 30, tzinfo=dt.UTC)  # 01:30 on the 25th in Seoul
    assert today("Asia/Seoul", instant) == dt.date(2024, 7, 25)
    assert today("UTC", instant) == dt.date(2024, 7, 24)
    assert today("America/Los_Angeles", instant) == dt.date(2024, 7, 24)


def test_new_writes_the_file_prints_its_path_and_check_accepts_it(project: Path):
    result = run_cli("new", "--date", "2024-08-01")
    assert result.exit_code == 0, result.output
    assert result.output == "seeds/2024-08-01.txt\n"
    assert (project / "seeds" / "2024-08-01.txt").read_text(encoding="utf-8") == skeleton(DAY)
    checked = run_cli("check")
    assert checked.exit_code == 0, checked.output
    assert "2024-08-01    1 entries  #태그  (seeds/2024-08-01.txt)" in checked.output
    assert "2024-08-01.txt:" not in checked.output


def test_new_without_a_date_takes_today_in_the_configured_zone(project: Path):
    before = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()
    result = run_cli("new")
    after = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()
    assert result.exit_code == 0, result.output
    assert result.output.strip() in {f"seeds/{before.isoformat()}.txt", f"seeds/{after.isoformat()}.txt"}


def test_new_refuses_to_overwrite_a_file(project: Path):
    existing = project / "seeds" / "2024-08-01.txt"
    existing.write_text("not even a digest\n", encoding="utf-8")
    result = run_cli("new", "--date", "2024-08-01")
    assert result.exit_code == 1
    assert result.output == "seeds/2024-08-01.txt: already exists: not overwritten\n"
    assert existing.read_text(encoding="utf-8") == "not even a digest\n"


def test_new_refuses_a_second_digest_of_a_date_under_another_name(project: Path):
    result = run_cli("new", "--date", "2024-07-25")
    assert result.exit_code == 1
    assert result.output == "seeds/000_05ad73aa49aa7872.txt: already holds the digest of 2024-07-25: edit that file\n"
    assert not (project / "seeds" / "2024-07-25.txt").exists()


def test_new_twice_refuses_the_second_time(project: Path):
    assert run_cli("new", "--date", "2024-08-01").exit_code == 0
    result = run_cli("new", "--date", "2024-08-01")
    assert result.exit_code == 1
    assert "seeds/2024-08-01.txt: already holds the digest of 2024-08-01" in result.output


def test_new_makes_the_seeds_folder_when_there_is_none(project: Path, tmp_path: Path):
    result = run_cli("new", "--date", "2024-08-01", "--seeds", tmp_path / "fresh")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh" / "2024-08-01.txt").is_file()


def test_a_bad_date_option_is_refused(project: Path):
    result = run_cli("new", "--date", "2024-13-01")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output or "2024-13-01" in result.output
