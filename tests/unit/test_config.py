"""Reading seedfeed.toml: defaults, the shipped file, and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config import DEFAULT_CONFIG, find_config_file, load_config
from feeds.errors import ConfigError
from tests.conftest import REPO


def test_no_file_gives_the_defaults() -> None:
    assert load_config(None) == DEFAULT_CONFIG
    assert DEFAULT_CONFIG.port == 8080
    assert DEFAULT_CONFIG.taxonomy == ()
    assert "Short Url" in DEFAULT_CONFIG.boilerplate


def test_the_shipped_file_documents_every_default() -> None:
    shipped = load_config(REPO / "seedfeed.toml")
    for field in (
        "site_title",
        "base_url",
        "language",
        "port",
        "publish_every",
        "reconcile_every",
        "settle",
        "max_entries",
        "summary_length",
        "timezone",
        "max_file_bytes",
        "boilerplate",
        "ignore",
        "auto_topics",
        "auto_min_entries",
        "auto_min_share",
        "max_auto_topics",
        "auto_never",
        "auto_merge",
    ):
        assert getattr(shipped, field) == getattr(DEFAULT_CONFIG, field), field
    assert shipped.seeds_dir == REPO / "seeds"
    slugs = {rule.slug for rule in shipped.taxonomy}
    assert {"pakistan", "afghanistan", "counterterrorism", "sco", "politics"} <= slugs


def test_auto_topics_take_a_share_a_cap_and_lists_of_names(tmp_path: Path) -> None:
    path = tmp_path / "seedfeed.toml"
    path.write_text(
        '[auto_topics]\nmin_share = 0.01\nmax_auto_topics = 40\nnever = ["Reuters"]\n'
        '[auto_topics.merge]\n"European Community" = ["EC", "Common Market"]\n'
    )
    config = load_config(path)
    assert (config.auto_min_share, config.max_auto_topics) == (0.01, 40)
    assert config.auto_never == ("Reuters",)
    assert config.auto_merge == (("European Community", ("EC", "Common Market")),)


def test_paths_resolve_against_the_file_folder(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "seedfeed.toml"
    path.parent.mkdir()
    path.write_text('[paths]\nseeds = "clips"\n')
    assert load_config(path).seeds_dir == tmp_path / "conf" / "clips"


def test_find_config_file_prefers_the_given_one(tmp_path: Path) -> None:
    assert find_config_file(None, tmp_path) is None
    (tmp_path / "seedfeed.toml").write_text("")
    assert find_config_file(None, tmp_path) == tmp_path / "seedfeed.toml"
    assert find_config_file(Path("other.toml"), tmp_path) == Path("other.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[feeds]\nmax_entries = 0\n", "feeds.max_entries"),
        ("[feeds]\nmax_entrys = 5\n", "unknown key feeds.max_entrys"),
        ("[colours]\n", "unknown table"),
        ('[feeds]\ntimezone = "Mars/Olympus"\n', "feeds.timezone"),
        ('[site]\nbase_url = "ftp://x"\n', "site.base_url"),
        ('[site]\nlanguage = "English please"\n', "site.language"),
        ("[topics.water]\nmatch = []\n", "topics.water.match"),
        ("[topics.all]\nmatch = ['x']\n", "topics.all"),
        ("[feeds\n", "not valid TOML"),
        ("[auto_topics]\nmin_share = 2\n", "auto_topics.min_share"),
        ("[auto_topics]\nmax_auto_topics = -1\n", "auto_topics.max_auto_topics"),
        ('[auto_topics]\nmerge = ["EC"]\n', "auto_topics.merge"),
        ("[auto_topics]\nnever = 3\n", "auto_topics.never"),
    ],
)
def test_errors_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "seedfeed.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml")


def test_base_url_and_language_are_read(tmp_path: Path) -> None:
    path = tmp_path / "seedfeed.toml"
    path.write_text('[site]\nbase_url = "https://news.example.org/seed"\nlanguage = "pt-BR"\n')
    config = load_config(path)
    assert (config.base_url, config.language) == ("https://news.example.org/seed/", "pt-BR")
    path.write_text('[site]\nbase_url = ""\n')
    assert load_config(path).base_url is None
    assert (DEFAULT_CONFIG.base_url, DEFAULT_CONFIG.language) == (None, "en")
