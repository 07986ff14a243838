"""Config loading: valid files load, every problem names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import ConfigError, load_config


def test_the_demo_config_loads_with_a_demo_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKWAREHOUSE_DEMO_URL", "http://127.0.0.1:9999/")
    site = load_config().site("demo")
    assert site.start_urls == ("http://127.0.0.1:9999/",)
    assert site.crawl.allow_private is True
    assert site.scope().contains("http://127.0.0.1:9999/p/x/")
    assert not site.scope().contains("http://127.0.0.1:9998/p/x/")


def test_an_unknown_field_is_reported_with_file_and_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "sites:\n  - id: s\n    start_urls: ['http://a.com/']\n    crawl: {concurency: 3}\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml: sites\.0\.crawl\.concurency"):
        load_config(path)


def test_a_bad_start_url_and_a_bad_regex_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sites:\n  - id: s\n    start_urls: ['ftp://a.com/']\n")
    with pytest.raises(ConfigError, match="not an http"):
        load_config(path)
    path.write_text(
        "sites:\n  - id: s\n    start_urls: ['http://a.com/']\n    crawl: {exclude: ['(']}\n"
    )
    with pytest.raises(ConfigError, match="exclude"):
        load_config(path)


def test_missing_file_and_unset_variable_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = tmp_path / "c.yaml"
    path.write_text("sites:\n  - id: s\n    start_urls: ['${NOT_SET_ANYWHERE}']\n")
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE is not set"):
        load_config(path)


def test_an_unknown_site_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: demo"):
        load_config().site("nope")
