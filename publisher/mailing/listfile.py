"""The list as a CSV file: `publisher subscribers import` reads one, `export` writes one.

The import format is `email,name,tags` (tags space-separated, empty = everything). An export adds
columns that carry everything else the store knows of a person, so the same file moves a list
between stores (SQLite to PostgreSQL and back) and out of the tool:

    paused             yes: the reader paused their mail
    added              when they became a subscriber (UTC)
    suppressed         why they get no mail (unsubscribed, forgotten); empty: active
    suppressed_at      since when
    consent_*          the evidence of their confirmed sign-up: topics, page, hashed IP, requested,
                       confirmed (the latest one)

A forgotten person (`subscribers forget`) appears only as `sha256:…` of their address, suppressed.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import Diagnostic, SendError, shown_path
from .subscribers import (
    ConsentRecord,
    Entry,
    ImportReport,
    Store,
    Subscriber,
    Suppression,
    normalise_address,
    parse_tags,
)

CSV_COLUMNS = ("email", "name", "tags")
CONSENT_COLUMNS = ("consent_tags", "consent_page", "consent_ip_hash", "consent_requested", "consent_confirmed")
EXPORT_COLUMNS = (*CSV_COLUMNS, "paused", "added", "suppressed", "suppressed_at", *CONSENT_COLUMNS)
_HASHED = re.compile(r"sha256:[0-9a-f]{64}")
_YES, _NO = {"yes", "true", "1"}, {"", "no", "false", "0"}


def read_csv(path: Path) -> tuple[list[Entry], list[Diagnostic]]:
    """Read the rows of an import file or an export, and every problem, each as `file:line: reason`.
    Raises only when the file as a whole is unusable."""
    shown = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets like to add a BOM
    except FileNotFoundError:
        raise SendError(Diagnostic(shown, None, "file not found")) from None
    except UnicodeDecodeError:
        raise SendError(Diagnostic(shown, None, "not UTF-8 text; save the CSV as UTF-8")) from None
    except OSError as error:
        raise SendError(Diagnostic(shown, None, f"cannot read: {error.strerror}")) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = [cell.strip().lower() for cell in next(reader, [])]
    unknown = [column for column in header if column not in EXPORT_COLUMNS]
    if "email" not in header or unknown or len(set(header)) != len(header):
        raise SendError(
            Diagnostic(
                shown,
                1,
                f"the header must name the columns email,name,tags (or those of an export: "
                f"{','.join(EXPORT_COLUMNS)}); got {','.join(header)!r}",
            )
        )
    rows: list[Entry] = []
    problems: list[Diagnostic] = []
    first_line: dict[str, int] = {}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(Diagnostic(shown, start, f"{len(cells)} fields, but the header names {len(header)}"))
            continue
        values = {column: cell.strip() for column, cell in zip(header, cells, strict=False)}
        try:
            entry = _entry(values)
        except ValueError as error:
            problems.append(Diagnostic(shown, start, str(error)))
            continue
        if entry.key in first_line:
            shown_as = entry.subscriber.address if entry.subscriber else entry.key
            problems.append(Diagnostic(shown, start, f"{shown_as} is already on line {first_line[entry.key]}"))
            continue
        first_line[entry.key] = start
        rows.append(entry)
    return rows, problems


def _entry(values: dict[str, str]) -> Entry:
    """One row as the store takes it; ValueError says what is wrong with it."""
    reason = values.get("suppressed", "")
    suppression = Suppression(reason, values.get("suppressed_at", "")) if reason else None
    if suppression is not None and not suppression.at:
        raise ValueError("a suppressed row needs suppressed_at")
    email = values.get("email", "")
    if email.startswith("sha256:"):
        if not _HASHED.fullmatch(email) or suppression is None:
            raise ValueError(f"{email[:20]}…: a forgotten address is sha256: and 64 hex digits, and suppressed")
        return Entry(email, None, suppression=suppression)
    address = normalise_address(email)
    paused = values.get("paused", "").lower()
    if paused not in _YES | _NO:
        raise ValueError(f"paused must be yes or empty, not {values['paused']!r}")
    subscriber = Subscriber(address, values.get("name", ""), parse_tags(values.get("tags", "")), paused in _YES)
    consent = None
    if values.get("consent_confirmed"):
        consent = ConsentRecord(*(values.get(column, "") for column in CONSENT_COLUMNS))
    if suppression is not None and not values.get("added"):
        return Entry(subscriber.key, None, suppression=suppression)  # suppressed, not a subscriber
    return Entry(subscriber.key, subscriber, values.get("added", ""), suppression, consent, "paused" in values)


def import_csv(store: Store, path: Path, *, skip_invalid: bool = False) -> ImportReport:
    """All or nothing: any bad row stops the import (nothing written) unless `skip_invalid`."""
    rows, problems = read_csv(path)
    if problems and not skip_invalid:
        raise SendError(
            [*problems, Diagnostic(shown_path(path), None, "nothing imported (--skip-invalid leaves bad rows out)")]
        )
    return store.import_subscribers(rows, problems)


def export_csv(store: Store) -> str:
    """Everyone in the store as CSV text (EXPORT_COLUMNS), in key order: the same store, the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for entry in store.entries():
        person, suppression, consent = entry.subscriber, entry.suppression, entry.consent
        writer.writerow(
            [
                person.address if person else entry.key,
                person.name if person else "",
                " ".join(f"#{tag}" for tag in person.tags) if person else "",
                "yes" if person and person.paused else "",
                entry.added,
                suppression.reason if suppression else "",
                suppression.at if suppression else "",
                *(
                    (consent.tags, consent.page, consent.ip_hash, consent.requested, consent.confirmed)
                    if consent
                    else ("",) * len(CONSENT_COLUMNS)
                ),
            ]
        )
    return buffer.getvalue()
