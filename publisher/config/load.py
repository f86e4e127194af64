"""Reading `publisher.toml` (or `[tool.publisher]` in pyproject.toml) into a `Config`.

Unknown keys and bad values are errors that name the key and its line; all problems of a file are
reported at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

from ..errors import ConfigError, Diagnostic, shown_path
from ..text import topic_key
from .model import CONFIG_NAME, SECTIONS, Alias, Config, Topics


def default_theme_dir() -> Path:
    """The built-in theme: inside the installed package, or the repository's `templates/`."""
    package = Path(__file__).parent.parent
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def theme_dirs(config: Config) -> tuple[Path, ...]:
    """The theme's folders, the one that wins last: the built-in theme, then `paths.templates`."""
    return (default_theme_dir(),) if config.paths.templates is None else (default_theme_dir(), config.paths.templates)


def find_config(start: Path) -> Path | None:
    """publisher.toml in the folder, else a pyproject.toml with [tool.publisher], else None."""
    for name in (CONFIG_NAME, "pyproject.toml"):
        candidate = start / name
        if candidate.is_file() and (name == CONFIG_NAME or b"[tool.publisher" in candidate.read_bytes()):
            return candidate
    return None


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; None gives the defaults. Paths resolve against its folder."""
    if path is None:
        return Config()
    shown = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Diagnostic(shown, None, "config file not found")) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(Diagnostic(shown, None, f"cannot read config file: {error}")) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_from_message(str(error))
        raise ConfigError(Diagnostic(shown, line, f"not valid TOML: {error}")) from None
    prefix = ""
    if path.name == "pyproject.toml":
        data, prefix = data.get("tool", {}).get("publisher", {}), "tool.publisher."
    return parse_config(data, shown, text, path.parent, prefix)


def parse_config(data: dict[str, Any], shown: str, text: str = "", root: Path = Path("."), prefix: str = "") -> Config:
    problems: list[Diagnostic] = []

    def problem(key: str, message: str) -> None:
        problems.append(Diagnostic(shown, _line_of(text, key, prefix), f"{key}: {message}"))

    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in SECTIONS:
            problem(name, f"unknown section{_suggest(name, SECTIONS)}")
        elif not isinstance(table, dict):
            problem(name, "must be a table, e.g. [" + name + "]")
        elif name == "topics":
            sections[name] = _read_topics(
                table, lambda line, msg: problems.append(Diagnostic(shown, line, msg)), _alias_lines(text, prefix)
            )
        else:
            sections[name] = _read_section(name, table, root, problem)
    if problems:
        raise ConfigError(problems)
    return Config(**sections, source=shown)


def _read_section(name: str, table: dict[str, Any], root: Path, problem) -> Any:
    cls = SECTIONS[name]
    known = {f.name: f for f in fields(cls)}
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{name}.{key}"
        if key not in known:
            problem(dotted, f"unknown key{_suggest(key, known)}")
            continue
        try:
            value = _coerce(value, hints[key], root)
            validator = known[key].metadata.get("check")
            values[key] = validator(value) if validator else value
        except (TypeError, ValueError) as error:
            problem(dotted, str(error))
    return cls(**values)


def _read_topics(table: dict[str, Any], report, lines: dict[str, int]) -> Topics:
    """`[topics.aliases]`: each topic's other spellings. A spelling may name one topic only."""
    for key in table:
        if key != "aliases":
            report(lines.get(key), f"topics.{key}: unknown key{_suggest(key, ['aliases'])}")
    aliases = table.get("aliases", {})
    if not isinstance(aliases, dict):
        report(lines.get("aliases"), 'topics.aliases: must be a table: [topics.aliases] "topic" = ["spelling", …]')
        return Topics()
    owner: dict[str, tuple[str, int | None]] = {}  # spelling's key → (topic, line)
    read = []
    for topic, spellings in aliases.items():
        dotted = f'topics.aliases."{topic}"'
        line = lines.get(topic, lines.get("aliases"))
        if not isinstance(spellings, list) or not all(isinstance(s, str) and s.strip("# ") for s in spellings):
            report(line, f'{dotted}: must be a list of tags, e.g. ["rl", "reinforcement_learning"]')
            continue
        names = tuple(dict.fromkeys(s.strip().removeprefix("#") for s in spellings))
        for name in (topic.removeprefix("#"), *names):
            other = owner.setdefault(topic_key(name), (topic, line))
            if other[0] != topic:
                report(
                    line,
                    f'{dotted}: "{name}" is also a spelling of topic "{other[0]}" (line {other[1]}): '
                    "a spelling names one topic",
                )
        read.append(Alias(topic.removeprefix("#"), names, line))
    return Topics(tuple(read))


def _coerce(value: Any, hint: Any, root: Path) -> Any:
    """Check a TOML value against a field's type; paths resolve against the config's folder."""
    if hint in (Path, Path | None):
        if not isinstance(value, str):
            raise TypeError("must be a path (a string)")
        if not value and hint == Path | None:
            return None
        return root / value if root != Path(".") else Path(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint == dt.date | None:  # a TOML date (2024-07-25) or the same as a string; "" for none
        if isinstance(value, str) and not value:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
        if type(value) is dt.date:
            return value
        raise ValueError(f"must be a date such as 2024-07-25, not {value!r}")
    expected = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    if type(value) is not hint:
        raise TypeError(f"must be {expected.get(hint, hint)}, not {type(value).__name__} {value!r}")
    return value


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _line_of(text: str, dotted: str, prefix: str = "") -> int | None:
    """The line where a key is set: after its [section] header when there is one. `prefix` is where
    the config lives in the file: "tool.publisher." in pyproject.toml."""
    section, _, key = (prefix + dotted).rpartition(".")
    lines = text.splitlines()
    own_table = re.compile(rf"^\s*\[\s*{re.escape(prefix + dotted)}\s*\]")
    found = next((i for i, line in enumerate(lines) if own_table.match(line)), None)
    if found is not None:  # a key that is a table itself: `[site]`
        return found + 1
    start = 0
    if section:
        header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), 0)
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for index in range(start, len(lines)):
        if pattern.match(lines[index]):
            return index + 1
    return None


def _alias_lines(text: str, prefix: str = "") -> dict[str, int]:
    """Where each key of `[topics.aliases]` is set (topic names may hold dots, so not _line_of);
    also where `aliases` itself is, for an inline table under `[topics]`."""
    lines: dict[str, int] = {}
    table = None
    key = re.compile(r"""^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            table = header[1].replace(" ", "").removeprefix(prefix.rstrip(".")).lstrip(".")
            continue
        found = key.match(line)
        if found and table in ("topics.aliases", "topics"):
            name = next(group for group in found.groups() if group is not None)
            lines.setdefault(name, number)
    return lines


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match[1]) if match else None
