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


PAGERANK_SITE = """\
sites:
  - id: shop
    start_urls: ['http://shop.example/']
    pagerank:
      alpha: 0.7
      position_weights: {footer: 0.0, nav: 0.9}
      nofollow: drop
      tipr_mix: 0.25
  - id: blog
    start_urls: ['http://blog.example/']
"""


def test_a_sites_pagerank_block_becomes_its_pagerank_settings_over_the_defaults(
    tmp_path: Path,
) -> None:
    from linking.graph import PageRankSettings
    from linking.warehouse import pagerank_settings_by_site

    path = tmp_path / "c.yaml"
    path.write_text(PAGERANK_SITE)
    by_site = pagerank_settings_by_site(load_config(path))
    defaults = PageRankSettings()
    shop = by_site["shop"]
    assert (shop.alpha, shop.nofollow, shop.tipr_mix) == (0.7, "drop", 0.25)
    # named positions change, the others keep the default weights
    assert shop.position_weights == {**defaults.position_weights, "footer": 0.0, "nav": 0.9}
    assert shop.position_weights["content"] == defaults.position_weights["content"]
    unset = set(PageRankSettings.model_fields) - {"alpha", "position_weights", "nofollow"}
    unset -= {"tipr_mix"}
    assert {f: getattr(shop, f) for f in unset} == {f: getattr(defaults, f) for f in unset}
    assert by_site["blog"] == defaults  # no block: the defaults


def test_the_pagerank_block_mirrors_every_user_facing_pagerank_setting() -> None:
    from ingest.config import PageRankConfig
    from linking.graph import PageRankSettings

    # threads is how fast, not what is computed: a machine setting, not a site's
    assert set(PageRankConfig.model_fields) == set(PageRankSettings.model_fields) - {"threads"}
    for name, config_field in PageRankConfig.model_fields.items():
        assert config_field.default is None, name  # the defaults live in PageRankSettings only


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ("{position_weights: {menu: 0.2}}", r"sites\.0\.pagerank\.position_weights\.menu"),
        ("{position_weights: {footer: -1}}", r"sites\.0\.pagerank\.position_weights"),
        ("{alpha: high}", r"sites\.0\.pagerank\.alpha"),
        ("{alpha: 1.5}", r"sites\.0\.pagerank\.alpha"),
        ("{nofollow: ignore}", r"sites\.0\.pagerank\.nofollow"),
        ("{damping: 0.8}", r"sites\.0\.pagerank\.damping"),
    ],
)
def test_a_wrong_pagerank_setting_names_the_file_and_the_field(
    tmp_path: Path, block: str, field: str
) -> None:
    path = tmp_path / "pr.yaml"
    path.write_text(
        f"sites:\n  - id: s\n    start_urls: ['http://a.com/']\n    pagerank: {block}\n"
    )
    with pytest.raises(ConfigError, match=rf"pr\.yaml: {field}"):
        load_config(path)


def test_parse_workers_is_a_crawl_setting_that_reaches_the_parse_pool(tmp_path: Path) -> None:
    from ingest.crawl.crawler import _Crawl
    from ingest.crawl.parse_pool import default_workers

    path = tmp_path / "c.yaml"
    path.write_text(
        "sites:\n"
        "  - id: auto\n    start_urls: ['http://a.com/']\n"
        "  - id: local\n    start_urls: ['http://b.com/']\n    crawl: {parse_workers: 0}\n"
        "  - id: worker\n    start_urls: ['http://c.com/']\n    crawl: {parse_workers: 1}\n"
    )
    config = load_config(path)
    assert config.site("auto").crawl.parse_workers is None  # default: as before, by core count
    enabled = {
        site_id: _Crawl(config.site(site_id), tmp_path / site_id, None, None).parser._enabled
        for site_id in ("auto", "local", "worker")
    }
    assert enabled == {"auto": default_workers() > 0, "local": False, "worker": True}
    path.write_text(
        "sites:\n  - id: s\n    start_urls: ['http://a.com/']\n    crawl: {parse_workers: 2}\n"
    )
    with pytest.raises(ConfigError, match=r"c\.yaml: sites\.0\.crawl\.parse_workers"):
        load_config(path)
