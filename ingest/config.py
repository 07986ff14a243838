"""The one YAML configuration file, validated by pydantic, with per-site settings.

Secrets never live here: only names of environment variables. `${VAR:-default}` placeholders are
expanded from the environment when the file is loaded so one config serves the demo on any port.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.gsc.settings import GscSettings
from ingest.urls import (
    DEFAULT_TRACKING_PARAMS,
    InvalidURL,
    Scope,
    UrlPolicy,
    host_of,
    normalize_url,
)

POSITIONS = ("header", "nav", "breadcrumb", "sidebar", "content", "footer")
Position = Literal["header", "nav", "breadcrumb", "sidebar", "content", "footer"]

_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the offending field."""


def _check_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UrlSettings(_Strict):
    strip_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS
    sort_query: bool = False
    trailing_slash: Literal["keep", "add", "strip"] = "keep"

    def policy(self) -> UrlPolicy:
        return UrlPolicy(
            strip_params=self.strip_params,
            sort_query=self.sort_query,
            trailing_slash=self.trailing_slash,
        )


class PatternLimit(_Strict):
    """Trap guard: at most `max_urls` URLs whose path+query matches `pattern` (a regex)."""

    pattern: str
    max_urls: int = Field(ge=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _check_regex(value)
        return value


class CrawlSettings(_Strict):
    user_agent: str = "linkwarehouse/0.1 (+https://github.com/linkwarehouse/linkwarehouse)"
    robots_user_agent: str = "linkwarehouse"
    obey_robots: bool = True
    concurrency: int = Field(default=32, ge=1, le=512)
    per_host_concurrency: int = Field(default=32, ge=1, le=512)
    delay_s: float = Field(default=0.0, ge=0)
    honour_crawl_delay: bool = True
    max_crawl_delay_s: float = Field(default=30.0, ge=0)
    max_depth: int | None = Field(default=None, ge=0)
    max_pages: int | None = Field(default=None, ge=1)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    pattern_limits: tuple[PatternLimit, ...] = ()
    max_response_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_body_text_chars: int = Field(default=20_000, ge=0)
    timeout_s: float = Field(default=20.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    max_redirects: int = Field(default=10, ge=0, le=50)
    follow_nofollow: bool = True
    error_window: int = Field(default=50, ge=5)
    error_rate_threshold: float = Field(default=0.5, gt=0, le=1)
    throttle_max_slowdowns: int = Field(default=4, ge=0)
    allow_private: bool = False
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    progress_interval_s: float = Field(default=5.0, gt=0)
    # HTML parse worker processes (ingest/crawl/parse_pool.py): None = one on a machine with
    # a spare core, none on a single core; 0 = parse in the crawler's process. At most one.
    parse_workers: int | None = Field(default=None, ge=0, le=1)
    include_subdomains: bool = False
    # Also queue the URLs the site's sitemaps list (read at the start of a new run), so pages no
    # link reaches (orphans) are crawled too: their status, canonical and indexability land.
    # They are queued behind every linked page (see docs/sitemaps.md) and land with
    # `discovered_via = 'sitemap'`; click depth and orphans in the warehouse are unaffected.
    seed_from_sitemaps: bool = False
    # At most this many sitemap URLs are queued (None: all of them; max_pages still applies).
    sitemap_seed_limit: int | None = Field(default=None, ge=1)

    @field_validator("include", "exclude")
    @classmethod
    def _regexes_compile(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _check_regex(value)
        return values


class SitemapSettings(_Strict):
    """Per-site limits of the sitemap reader (ingest.sitemaps.SitemapOptions).

    Every field is optional: an unset one keeps the reader's own default, so the defaults live in
    one place (SitemapOptions) and a config only names what it changes.
    """

    max_depth: int | None = Field(default=None, ge=0)  # index nesting below a root
    max_sitemaps: int | None = Field(default=None, ge=1)  # files per run
    max_bytes: int | None = Field(default=None, ge=1024)  # per file, after decompression
    concurrency: int | None = Field(default=None, ge=1, le=64)
    probe_defaults: bool | None = None  # try /sitemap.xml, /sitemap_index.xml when none is named
    check_robots: bool | None = None  # per-URL robots verdicts (ours and Googlebot's)
    file_timeout_s: float | None = Field(default=None, gt=0)
    batch_rows: int | None = Field(default=None, ge=1)
    fast_xml: bool | None = None


class PageRankConfig(_Strict):
    """Per-site PageRank settings (the `pagerank:` block of a site).

    Mirrors the user-facing fields of `linking.graph.PageRankSettings`, which owns the defaults:
    every field here is optional and an unset one keeps PageRankSettings' default (the linking
    layer converts with `linking.warehouse.pagerank_settings_of`). `position_weights` names only
    the positions it changes; the others keep their default weight. Bounds are checked here so a
    bad value is reported with the file and field when the config is loaded.
    """

    alpha: float | None = Field(default=None, gt=0, lt=1)
    tol: float | None = Field(default=None, gt=0)  # per-node tolerance (default 1e-6 / n)
    max_iter: int | None = Field(default=None, ge=1)
    position_weights: dict[Position, float] | None = None
    unknown_position_weight: float | None = Field(default=None, ge=0)
    boilerplate_share: float | None = Field(default=None, ge=0, le=1)
    boilerplate_factor: float | None = Field(default=None, ge=0)
    # What nofollow (ugc, sponsored) internal links do in the policy and TIPR variants:
    # evaporate (count in their page's divisor, pass nothing), drop (ignored) or follow
    # (treated as followed links in every variant). page_link_equity.nofollow_policy reports it.
    nofollow: Literal["evaporate", "drop", "follow"] | None = None
    links_to_ineligible: Literal["evaporate", "drop"] | None = None
    tipr_mix: float | None = Field(default=None, ge=0, le=1)
    link_score_variant: Literal["raw", "weighted", "policy", "tipr"] | None = None
    hoarder_min_tipr_quantile: float | None = Field(default=None, ge=0, le=1)
    hoarder_max_outlinks_ratio: float | None = Field(default=None, ge=0)
    waster_max_tipr_quantile: float | None = Field(default=None, ge=0, le=1)
    waster_min_outlinks_ratio: float | None = Field(default=None, ge=0)

    @field_validator("position_weights")
    @classmethod
    def _non_negative(cls, values: dict[str, float] | None) -> dict[str, float] | None:
        for position, weight in (values or {}).items():
            if not (weight >= 0 and weight != float("inf")):
                raise ValueError(f"weight of {position!r} must be a finite number >= 0")
        return values

    def overrides(self) -> dict[str, object]:
        """The fields the config sets (unset ones keep PageRankSettings' defaults)."""
        return self.model_dump(exclude_none=True)


class SiteConfig(_Strict):
    """One site: where to start, what belongs to it, and how politely to crawl it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    start_urls: tuple[str, ...] = Field(min_length=1)
    allowed_hosts: tuple[str, ...] = ()
    crawl: CrawlSettings = CrawlSettings()
    urls: UrlSettings = UrlSettings()
    # Per-site overrides of link position detection: position -> CSS selectors of regions.
    positions: dict[Position, tuple[str, ...]] = Field(default_factory=dict)
    sitemaps: tuple[str, ...] = ()
    # Limits of the sitemap reader for this site (unset fields keep the reader's defaults).
    sitemap_settings: SitemapSettings | None = None
    # Search Console property and credentials (env var names only); None = no GSC for this site.
    gsc: GscSettings | None = None
    # PageRank settings of this site (unset fields keep linking.graph.PageRankSettings' defaults).
    pagerank: PageRankConfig | None = None

    @field_validator("start_urls")
    @classmethod
    def _absolute(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for value in values:
            try:
                out.append(normalize_url(value))
            except InvalidURL as exc:
                raise ValueError(str(exc)) from exc
        return tuple(out)

    @property
    def url_policy(self) -> UrlPolicy:
        return self.urls.policy()

    def scope(self) -> Scope:
        hosts = set(self.allowed_hosts) or {host_of(u) for u in self.start_urls}
        return Scope(frozenset(h.lower() for h in hosts), self.crawl.include_subdomains)


class Config(_Strict):
    sites: tuple[SiteConfig, ...] = Field(min_length=1)

    def site(self, site_id: str) -> SiteConfig:
        for site in self.sites:
            if site.id == site_id:
                return site
        known = ", ".join(s.id for s in self.sites)
        raise ConfigError(f"no site {site_id!r} in the config (known: {known})")


def _expand_env(text: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value is None:
            if default is None:
                raise ConfigError(f"environment variable {name} is not set and has no default")
            return default
        return value

    return _ENV_RE.sub(sub, text)


def default_config_path() -> Path:
    env = os.environ.get("LINKWAREHOUSE_CONFIG")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "demo" / "config.yaml"


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the config; every problem is reported with the file and field path."""
    path = Path(path) if path is not None else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(_expand_env(text))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'sites' list at the top level")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc


def site_from_start_url(start_url: str, site_id: str = "adhoc", **crawl: object) -> SiteConfig:
    """A SiteConfig for a one-off crawl from the CLI: scope is the start URL's host."""
    return SiteConfig(id=site_id, start_urls=(start_url,), crawl=CrawlSettings(**crawl))
