"""Where a site's sitemaps are: its config, its robots.txt `Sitemap:` lines, the usual places.

Order and precedence: sitemaps named in the site config come first (the owner said so), then
every `Sitemap:` line of robots.txt (absolute, relative or protocol-relative; the crawler's robots
layer resolves them against the robots.txt URL). Only when neither names one are the conventional
locations `/sitemap.xml` and `/sitemap_index.xml` probed, so a site that lists its sitemaps never
gets a phantom "404 sitemap" finding for a file it never claimed to have.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from ingest.config import SiteConfig
from ingest.sitemaps.robots import RobotsRecord
from ingest.urls import InvalidURL, normalize_url

DEFAULT_LOCATIONS = ("/sitemap.xml", "/sitemap_index.xml")
Source = Literal["config", "robots", "default", "index", "input"]
InputKind = Literal["file", "robots", "site", "sitemap"]


@dataclass(frozen=True)
class Root:
    """A sitemap to read and why we read it."""

    url: str  # normalized URL, or an absolute file path for local files
    source: Source
    parent: str | None = None  # the robots.txt that listed it
    is_file: bool = False


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def site_origins(site: SiteConfig) -> list[str]:
    """Origins of the site's start URLs, in config order, without repeats."""
    out: list[str] = []
    for url in site.start_urls:
        origin = origin_of(url)
        if origin not in out:
            out.append(origin)
    return out


def classify_input(text: str) -> InputKind:
    """What the CLI was given: a local file, a robots.txt URL, a site (root URL), a sitemap."""
    if not text.lower().startswith(("http://", "https://")):
        return "file"
    path = urlsplit(text).path
    if path.rstrip("/").lower().endswith("/robots.txt") or path.lower() == "robots.txt":
        return "robots"
    if path in ("", "/"):
        return "site"
    return "sitemap"


def config_roots(site: SiteConfig) -> tuple[list[Root], list[str]]:
    roots: list[Root] = []
    problems: list[str] = []
    for raw in site.sitemaps:
        try:
            roots.append(Root(normalize_url(raw, policy=site.url_policy), "config"))
        except InvalidURL as exc:
            problems.append(f"invalid_config_sitemap: {raw!r} in the site config: {exc}")
    return roots, problems


def robots_roots(record: RobotsRecord) -> tuple[list[Root], list[str]]:
    roots: list[Root] = []
    problems: list[str] = []
    for url in record.sitemaps:
        try:
            roots.append(Root(normalize_url(url), "robots", record.rules.robots_url))
        except InvalidURL as exc:
            problems.append(f"invalid_robots_sitemap: {url!r} in {record.rules.robots_url}: {exc}")
    return roots, problems


def default_roots(origin: str) -> list[Root]:
    return [Root(origin + path, "default") for path in DEFAULT_LOCATIONS]


def file_root(path: str | Path) -> Root:
    return Root(str(Path(path).resolve()), "input", is_file=True)


def discover_roots(
    site: SiteConfig, records: dict[str, RobotsRecord], *, probe_defaults: bool = True
) -> tuple[list[Root], list[str]]:
    """Roots for a whole site (config, then robots.txt of each origin, else the defaults)."""
    roots, problems = config_roots(site)
    for origin in site_origins(site):
        record = records.get(origin)
        if record is not None:
            found, bad = robots_roots(record)
            roots += found
            problems += bad
    if not roots and probe_defaults:
        for origin in site_origins(site):
            roots += default_roots(origin)
    return dedupe(roots), problems


def dedupe(roots: list[Root]) -> list[Root]:
    seen: set[str] = set()
    out: list[Root] = []
    for root in roots:
        if root.url not in seen:
            seen.add(root.url)
            out.append(root)
    return out
