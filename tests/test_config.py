from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from publisher.config import Config, find_config, load_config, parse_config
from publisher.errors import ConfigError

from .conftest import ROOT


def test_the_repository_config_loads_and_resolves_paths_against_its_folder():
    config = load_config(ROOT / "publisher.toml")
    assert config.site.language == "ko" and config.site.timezone == "Asia/Seoul"
    assert config.paths.seeds == ROOT / "seeds"
    assert config.site.base_url.endswith("/")


def test_publish_time_is_local_and_timezone_aware():
    published = Config().site.published(dt.date(2024, 7, 25))
    assert published.isoformat() == "2024-07-25T07:00:00+09:00"


def test_all_problems_are_reported_at_once_with_keys_and_lines():
    text = '[site]\ntitel = "x"\nbase_url = "ftp://x"\ntimezone = "Mars/Olympus"\n[feedz]\n[feeds]\nsize = "5"\n'
    with pytest.raises(ConfigError) as raised:
        parse_config(__import__("tomllib").loads(text), "p.toml", text)
    assert str(raised.value).splitlines() == [
        'p.toml:2: site.titel: unknown key (did you mean "title"?)',
        "p.toml:3: site.base_url: must be an absolute http(s) URL such as https://example.com/digest/",
        "p.toml:4: site.timezone: must be an IANA time zone such as Asia/Seoul",
        'p.toml:5: feedz: unknown section (did you mean "feeds"?)',
        "p.toml:7: feeds.size: must be a whole number, not str '5'",
    ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[site]\npublish_time = "7am"', 'site.publish_time: must be a local time such as "07:00"'),
        ('[feeds]\nid_authority = "https://x.com"', "feeds.id_authority: must be"),
        ("[feeds]\nsize = 0", "feeds.size: must be a whole number of at least 1"),
        ('[smtp]\nsecurity = "tls"', 'smtp.security: must be "starttls", "ssl" or "plain"'),
        ("[smtp]\nport = 70000", "smtp.port: must be a TCP port from 1 to 65535"),
        ('[email]\nfrom_address = "nobody"', "email.from_address: must be an e-mail address"),
        # Addresses a message could not carry are refused here, with the line, not in mid-build.
        ('[email]\nlist_address = "digest@mail.x"', "email.list_address: must be an e-mail address"),
        ('[email]\nfrom_address = "jörg@example.com"', "email.from_address: must be an e-mail address"),
        ('[email]\nunsubscribe_mailto = "mailto:u@x"', "email.unsubscribe_mailto: must be a mailto: URL"),
        ('site = "x"', "site: must be a table"),
        # Required by RSS and Atom: refused here, with the line, rather than as a traceback in mid-build.
        ('[site]\ntitle = ""', "publisher.toml:2: site.title: must not be empty"),
        ('[site]\ndescription = "  "', "publisher.toml:2: site.description: must not be empty"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, toml: str, message: str):
    path = tmp_path / "publisher.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert message in str(raised.value)


def test_invalid_toml_names_the_line(tmp_path: Path):
    path = tmp_path / "publisher.toml"
    path.write_text("[site]\ntitle = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert ":2: not valid TOML" in str(raised.value)


def test_pyproject_table_is_found_when_there_is_no_publisher_toml(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.publisher.site]\ntitle = "From pyproject"\n', encoding="utf-8")
    path = find_config(tmp_path)
    assert path == tmp_path / "pyproject.toml"
    assert load_config(path).site.title == "From pyproject"
    (tmp_path / "publisher.toml").write_text('[site]\ntitle = "Own file"\n', encoding="utf-8")
    assert load_config(find_config(tmp_path)).site.title == "Own file"


def test_no_config_gives_defaults(tmp_path: Path):
    assert find_config(tmp_path) is None
    assert load_config(None) == Config()


def test_errors_in_pyproject_name_the_line_in_the_publisher_table(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndescription = "the project"\n\n[tool.publisher.site]\ndescription = 3\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "pyproject.toml")
    assert "pyproject.toml:6: site.description" in str(raised.value)


def test_topic_aliases_are_read_with_their_lines(tmp_path: Path):
    path = tmp_path / "publisher.toml"
    path.write_text('[site]\ntitle = "x"\n\n[topics.aliases]\n"reinforcement-learning" = ["rl", "#RL_"]\n', "utf-8")
    (alias,) = load_config(path).topics.aliases
    assert (alias.topic, alias.spellings, alias.line) == ("reinforcement-learning", ("rl", "RL_"), 5)


def test_a_spelling_mapped_to_two_topics_is_an_error_naming_both_lines(tmp_path: Path):
    path = tmp_path / "publisher.toml"
    text = '[topics.aliases]\n"reinforcement-learning" = ["rl"]\n"gpt.4" = ["gpt-4o"]\n"robot-learning" = ["RL"]\n'
    path.write_text(text + 'bad = "rl"\n', "utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).splitlines() == [
        f'{path}:4: topics.aliases."robot-learning": "RL" is also a spelling of topic "reinforcement-learning" '
        "(line 2): a spelling names one topic",
        f'{path}:5: topics.aliases."bad": must be a list of tags, e.g. ["rl", "reinforcement_learning"]',
    ]
