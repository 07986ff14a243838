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


def test_sitemap_settings_reach_the_sitemap_reader_and_unset_ones_keep_its_defaults(
    tmp_path: Path,
) -> None:
    from ingest.sitemaps.records import SitemapOptions

    path = tmp_path / "c.yaml"
    path.write_text(
        "sites:\n  - id: s\n    start_urls: ['http://a.com/']\n"
        "    sitemap_settings: {max_depth: 2, file_timeout_s: 7.5, probe_defaults: false}\n"
        "    crawl: {seed_from_sitemaps: true, sitemap_seed_limit: 10}\n"
    )
    site = load_config(path).site("s")
    assert site.sitemap_settings is not None
    assert site.sitemap_settings.max_depth == 2
    assert site.crawl.seed_from_sitemaps is True
    assert site.crawl.sitemap_seed_limit == 10
    options = SitemapOptions.for_site(site, concurrency=1)
    assert (options.max_depth, options.file_timeout_s, options.probe_defaults) == (2, 7.5, False)
    assert options.concurrency == 1  # an explicit override wins over the config
    assert options.max_sitemaps == SitemapOptions().max_sitemaps  # unset: the reader's default


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ("sitemap_settings: {max_depth: deep}", r"sites\.0\.sitemap_settings\.max_depth"),
        ("sitemap_settings: {max_dept: 2}", r"sites\.0\.sitemap_settings\.max_dept"),
        ("crawl: {sitemap_seed_limit: 0}", r"sites\.0\.crawl\.sitemap_seed_limit"),
    ],
)
def test_a_wrong_sitemap_setting_names_the_file_and_the_field(
    tmp_path: Path, block: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"sites:\n  - id: s\n    start_urls: ['http://a.com/']\n    {block}\n")
    with pytest.raises(ConfigError, match=rf"bad\.yaml: {field}"):
        load_config(path)
