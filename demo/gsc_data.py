"""What Google "knows" about the demo shop: search demand per day and URL Inspection results.

Why it exists: the fake Search Console API (`demo/gsc_server.py`) must serve data a reviewer can
check against the demo shop. Every figure here is derived from the shop's own pages (paths,
kinds, canonicals, robots rules, sitemap membership), and seeded by (page, query, day), so the
same day always has the same rows whatever order days are asked in.

Planted on purpose, so downstream models have something to find:
- cannibalization: `jackets` (women's and men's jackets), `best <sub>` (subcategory vs its buying
  guide, swapping places over time) and duplicate products (`/p/x/` and `/p/x-2/`, same name);
- striking distance: subcategory and generic product queries averaging positions 4-20;
- canonicals: duplicate products and paginated listings where Google chose a different canonical
  than the page declares, variants and the AMP post as proper alternates;
- Unicode queries (`café crème`, `größentabelle`, `robe d'été`, `ワンピース`) in their countries.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from demo.site import LOOP_A, LOOP_B, SITEMAP_CHILDREN, DemoPage, DemoSite, build_demo_site

DEVICES = (("MOBILE", 0.60, 0.3), ("DESKTOP", 0.34, -0.2), ("TABLET", 0.06, 0.6))
COUNTRIES = (
    ("gbr", 0.42),
    ("usa", 0.22),
    ("irl", 0.08),
    ("can", 0.07),
    ("aus", 0.06),
    ("deu", 0.05),
    ("fra", 0.05),
    ("nld", 0.05),
)
_CTR_TOP10 = (0.30, 0.16, 0.10, 0.07, 0.055, 0.04, 0.032, 0.026, 0.022, 0.02)
_INDEXED_KINDS = frozenset(
    {"home", "category", "subcategory", "product", "blog_index", "blog_post", "guide_index",
     "guide", "static", "legacy"}
)  # fmt: skip
_DUPLICATE_SLUG = re.compile(r"^/p/(.+)-(\d+)/$")


def _seed(*parts: object) -> int:
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _unit(*parts: object) -> float:
    return _seed(*parts) / 2**64


def expected_ctr(position: float) -> float:
    """A typical organic CTR curve: 30 % at 1, about 2 % at 10, under 1 % on page two."""
    if position <= 1:
        return _CTR_TOP10[0]
    if position < 10:
        low = int(position)
        frac = position - low
        return _CTR_TOP10[low - 1] * (1 - frac) + _CTR_TOP10[low] * frac
    if position <= 20:
        return 0.012 - (position - 10) * 0.0006
    return 0.002


@dataclass(frozen=True, slots=True)
class Topic:
    """One (page, query) pair Google ranks the shop for, with its typical figures."""

    path: str
    query: str
    position: float
    impressions: float  # per day, before weekday/season/noise
    countries: tuple[tuple[str, float], ...] = COUNTRIES
    swing: float = 0.0  # amplitude of a 2-week position wave (cannibalizing pages swap)
    phase: float = 0.0


@dataclass(frozen=True, slots=True)
class Cell:
    """A full-grain row of one day: the fake server groups these by the requested dimensions."""

    page: str
    query: str
    device: str
    country: str
    clicks: int
    impressions: int
    position: float


def _words(slug: str) -> str:
    return slug.strip("/").replace("-", " ")


def _between(key: str, low: float, high: float) -> float:
    return low + (high - low) * _unit(key)


class SearchModel:
    """Deterministic search demand and index state for the demo shop served at `base_url`."""

    def __init__(self, base_url: str = "http://127.0.0.1:8765", seed: int = 7) -> None:
        self.site: DemoSite = build_demo_site(seed)
        self.site.base_url = base_url
        self.base_url = self.site.base_url
        self.seed = seed
        self.pages: dict[str, DemoPage] = self.site.pages
        self.topics: tuple[Topic, ...] = tuple(self._topics())
        self._cells: dict[date, list[Cell]] = {}
        self._lock = threading.Lock()

    # -- topics ---------------------------------------------------------------------------------

    def indexed_paths(self) -> list[str]:
        """Pages Google shows in search: 200 HTML, indexable, self-canonical, not blocked."""
        return [
            path
            for path, page in self.pages.items()
            if page.kind in _INDEXED_KINDS
            and page.status == 200
            and not page.is_noindex
            and not page.robots_disallowed
            and not page.is_orphan
            and page.canonical in (None, page.url)
            and self.duplicate_of(path) is None
        ]

    def duplicate_of(self, path: str) -> str | None:
        """`/p/x-2/` duplicates `/p/x/` (same product name): Google folds it into the original."""
        match = _DUPLICATE_SLUG.match(path)
        if match and f"/p/{match.group(1)}/" in self.pages:
            return f"/p/{match.group(1)}/"
        return None

    def _topics(self) -> Iterable[Topic]:
        paths = set(self.indexed_paths())
        for path in sorted(paths):
            yield from self._page_topics(path, self.pages[path].kind)
        # Duplicate products still collect impressions for the shared name before Google settles.
        for path, page in sorted(self.pages.items()):
            original = self.duplicate_of(path)
            if page.kind == "product" and original in paths:
                name = _words(original[len("/p/") :])
                yield Topic(path, name, _between(path + "dup", 2.5, 6), _between(path, 3, 12),
                            swing=2.5, phase=math.pi)  # fmt: skip
                if _unit(original + "seen") >= 0.6:  # else the original has this query already
                    yield Topic(original, name, _between(original + "dup", 2, 5),
                                _between(path, 3, 12), swing=2.5)  # fmt: skip
        yield Topic("/legacy/cafe-creme.html", "café crème", 6.5, 25,
                    countries=(("fra", 0.6), ("gbr", 0.4)))  # fmt: skip
        if "/guides/size-guide/" in paths:
            yield Topic("/guides/size-guide/", "größentabelle", 9.0, 40, countries=(("deu", 1.0),))
        if "/c/women/dresses/" in paths:
            yield Topic("/c/women/dresses/", "robe d'été", 14.0, 60, countries=(("fra", 1.0),))
            yield Topic("/c/women/dresses/", "ワンピース", 24.0, 30, countries=(("jpn", 1.0),))

    def _page_topics(self, path: str, kind: str) -> Iterable[Topic]:
        key = path
        if kind == "home":
            yield Topic(path, "demo shop", 1.05, 320)
            yield Topic(path, "demo shop discount code", 3.2, 45)
        elif kind == "category":
            words = _words(path[len("/c/") :])
            query = f"{words} clothing" if words in ("women", "men", "kids") else f"{words} online"
            yield Topic(path, query, _between(key + "p", 6, 14), _between(key + "i", 200, 600))
        elif kind == "subcategory":
            cat, sub = path.strip("/").split("/")[1:3]
            sub_words = _words(sub)
            yield Topic(path, f"{cat} {sub_words}", _between(key + "p", 4, 12),
                        _between(key + "i", 100, 300))  # fmt: skip
            # The generic term: `jackets` is claimed by both women's and men's jackets, with the
            # same demand (keyed by the query), so they split it and swap places over time.
            yield Topic(path, sub_words, _between(key + "g", 14, 20),
                        _between(sub_words + "gi", 300, 1500), swing=3.0,
                        phase=_unit(key) * 2 * math.pi)  # fmt: skip
            guide = f"/guides/buying-guide-{cat}-{sub}/"
            if guide in self.pages:
                yield Topic(path, f"best {sub_words}", _between(key + "b", 7, 12),
                            _between(key + "bi", 150, 400), swing=4.0)  # fmt: skip
        elif kind == "product":
            name = _words(path[len("/p/") :])
            if _unit(key + "seen") < 0.6:
                yield Topic(path, name, _between(key + "p", 1.2, 4.0), _between(key + "i", 0.3, 4))
            if _unit(key + "generic") < 0.25:
                generic = " ".join(name.split()[1:])
                yield Topic(
                    path, generic, _between(key + "gp", 5, 20), _between(key + "gi", 10, 80)
                )
        elif kind == "blog_post":
            slug = path[len("/blog/") :].strip("/")
            base = re.sub(r"-\d{1,2}$", "", slug)  # `-2`: a second post with the same title
            title = _words(base if f"/blog/{base}/" in self.pages else slug)
            yield Topic(path, title, _between(key + "p", 3, 9), _between(key + "i", 5, 90))
        elif kind == "guide":
            slug = path[len("/guides/") :].strip("/")
            if slug.startswith("buying-guide-"):
                cat, *sub = slug[len("buying-guide-") :].split("-")
                sub_words = " ".join(sub)
                yield Topic(path, f"{sub_words} buying guide", _between(key + "p", 2.5, 6),
                            _between(key + "i", 40, 160))  # fmt: skip
                # Competes with the subcategory for `best <sub>`; the two swap places over time.
                yield Topic(path, f"best {sub_words}", _between(key + "b", 7, 12),
                            _between(key + "bi", 150, 400), swing=4.0, phase=math.pi)  # fmt: skip
            else:
                yield Topic(
                    path, _words(slug), _between(key + "p", 2, 9), _between(key + "i", 60, 500)
                )
        elif kind == "static":
            yield Topic(path, f"demo shop {_words(path)}", _between(key + "p", 1.0, 2.2),
                        _between(key + "i", 10, 60))  # fmt: skip
        elif kind == "blog_index" and path == "/blog/":
            yield Topic(path, "demo shop blog", 1.4, 35)
        elif kind == "guide_index":
            yield Topic(path, "style guides", _between(key + "p", 8, 16), 80)

    # -- one day --------------------------------------------------------------------------------

    def cells(self, day: date) -> list[Cell]:
        """Final (settled) full-grain rows of `day`; cached, same answer every time."""
        with self._lock:
            cached = self._cells.get(day)
        if cached is not None:
            return cached
        merged: dict[tuple[str, str, str, str], Cell] = {}
        for topic in self.topics:
            for cell in self._topic_cells(topic, day):
                key = (cell.page, cell.query, cell.device, cell.country)
                if key in merged:  # one row per full-grain key, as Search Console reports
                    cell = _merge(merged[key], cell)
                merged[key] = cell
        cells = list(merged.values())
        with self._lock:
            if len(self._cells) > 128:
                self._cells.clear()
            self._cells[day] = cells
        return cells

    def _topic_cells(self, topic: Topic, day: date) -> list[Cell]:
        rng = random.Random(_seed(self.seed, topic.path, topic.query, day.toordinal()))
        ordinal = day.toordinal()
        weekday = (1.15, 1.0, 1.0, 1.0, 0.95, 1.1, 1.2)[day.weekday()]
        season = 1.0 + 0.15 * math.sin(2 * math.pi * ordinal / 365.25)
        expected = topic.impressions * weekday * season * rng.uniform(0.75, 1.25)
        impressions = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        if impressions <= 0:
            return []
        wave = topic.swing * math.sin(2 * math.pi * ordinal / 14 + topic.phase)
        position = max(1.0, topic.position + wave + rng.gauss(0, 0.4))
        expected_clicks = impressions * expected_ctr(position)
        clicks = int(expected_clicks) + (1 if rng.random() < expected_clicks % 1 else 0)
        # Smaller markets and tablets only show up on some days for a small page, as in real
        # data (it also keeps a day of the demo at a few thousand rows).
        combos = [
            (device, offset, country, d_share * c_share * rng.uniform(0.6, 1.4))
            for device, d_share, offset in DEVICES
            for country, c_share in topic.countries
            if len(topic.countries) == 1
            or rng.random() < min(1.0, d_share * c_share * impressions / 4)
        ] or [("MOBILE", DEVICES[0][2], topic.countries[0][0], 1.0)]
        split = _largest_remainder(impressions, [w for *_, w in combos])
        click_split = _largest_remainder(min(clicks, impressions), split)
        url = self.site.url(topic.path)
        out = []
        for (device, offset, country, _w), n, c in zip(combos, split, click_split, strict=True):
            if n:
                cell_position = round(max(1.0, position + offset + rng.gauss(0, 0.3)), 1)
                out.append(Cell(url, topic.query, device, country, min(c, n), n, cell_position))
        return out

    def provisional_cells(self, day: date, today: date) -> list[Cell]:
        """The same day while Google is still collecting it: fewer impressions and clicks."""
        lag = (today - day).days
        completeness = {0: 0.3, 1: 0.65, 2: 0.9}.get(lag, 0.97)
        out = []
        for cell in self.cells(day):
            share = cell.impressions * completeness
            impressions = int(share) + (
                1 if _unit(day, cell.page, cell.query, cell.device, cell.country) < share % 1 else 0
            )
            if impressions:
                expected = cell.clicks * completeness
                bump = (
                    _unit(day, cell.page, cell.query, cell.device, cell.country, "c") < expected % 1
                )
                clicks = min(impressions, int(expected) + bump)
                out.append(
                    Cell(
                        cell.page,
                        cell.query,
                        cell.device,
                        cell.country,
                        clicks,
                        impressions,
                        cell.position,
                    )  # fmt: skip
                )
        return out

    # -- URL inspection -------------------------------------------------------------------------

    def inspect(self, url: str, today: date) -> dict[str, object]:
        """An `inspectionResult` for a URL of the shop, following the page's planted facts."""
        link = (
            "https://search.google.com/search-console/inspect?resource_id="
            f"{self.base_url}/&id={_seed(url) % 10**12:012d}&utm_medium=link&utm_source=api"
        )
        try:
            path = self.site.path_of(url)
        except ValueError:
            path = ""
        page = self.pages.get(path)
        if page is None:
            return {"inspectionResultLink": link, "indexStatusResult": _unknown()}
        status = self._index_status(path, page, today)
        result: dict[str, object] = {"inspectionResultLink": link, "indexStatusResult": status}
        if status.get("verdict") == "PASS" and page.kind != "pdf":
            result["mobileUsabilityResult"] = {"verdict": "PASS"}
        return result

    def _index_status(self, path: str, page: DemoPage, today: date) -> dict[str, object]:
        crawled = today - timedelta(days=1 + _seed(path, "crawl") % 20)
        seconds = _seed(path, "time") % 86_400
        crawl_time = f"{crawled.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
        status: dict[str, object] = {
            "verdict": "PASS",
            "robotsTxtState": "ALLOWED",
            "indexingState": "INDEXING_ALLOWED",
            "pageFetchState": "SUCCESSFUL",
            "lastCrawlTime": crawl_time,
            "crawledAs": "MOBILE",
        }
        if page.in_sitemap:
            status["sitemap"] = [self.site.url(_sitemap_child(path))]
        if page.kind in ("category", "subcategory", "guide_index", "blog_index"):
            status["referringUrls"] = [self.site.url("/")]
        if page.robots_disallowed:
            status.update(verdict="NEUTRAL", coverageState="Blocked by robots.txt",
                          robotsTxtState="DISALLOWED", indexingState="INDEXING_STATE_UNSPECIFIED",
                          pageFetchState="BLOCKED_ROBOTS_TXT")  # fmt: skip
            status.pop("lastCrawlTime")
        elif page.status == 404:
            status.update(
                verdict="FAIL", coverageState="Not found (404)", pageFetchState="NOT_FOUND"
            )
        elif page.redirect_target is not None:
            if path in (LOOP_A, LOOP_B):
                status.update(verdict="FAIL", coverageState="Redirect error",
                              pageFetchState="REDIRECT_ERROR")  # fmt: skip
            else:
                status.update(verdict="NEUTRAL", coverageState="Page with redirect")
        elif page.is_orphan:
            status.update(verdict="NEUTRAL", coverageState="Discovered - currently not indexed",
                          indexingState="INDEXING_STATE_UNSPECIFIED",
                          pageFetchState="PAGE_FETCH_STATE_UNSPECIFIED")  # fmt: skip
            status.pop("lastCrawlTime")
            status.pop("crawledAs")
        elif page.is_noindex:
            state = (
                "BLOCKED_BY_HTTP_HEADER"
                if page.noindex_source == "header"
                else "BLOCKED_BY_META_TAG"
            )
            status.update(verdict="NEUTRAL", coverageState="Excluded by ‘noindex’ tag",
                          indexingState=state)  # fmt: skip
        elif page.canonical not in (None, page.url):
            status.update(verdict="NEUTRAL", coverageState="Alternate page with proper canonical tag",
                          googleCanonical=page.canonical, userCanonical=page.canonical)  # fmt: skip
        elif page.kind == "listing" or self.duplicate_of(path):
            chosen = self.duplicate_of(path) or path.split("?", 1)[0]
            status.update(verdict="NEUTRAL",
                          coverageState="Duplicate, Google chose different canonical than user",
                          googleCanonical=self.site.url(chosen), userCanonical=page.url)  # fmt: skip
        elif page.kind in ("product", "blog_post") and _unit(path, "crawled-not-indexed") < 0.06:
            status.update(verdict="NEUTRAL", coverageState="Crawled - currently not indexed",
                          indexingState="INDEXING_STATE_UNSPECIFIED", userCanonical=page.url)  # fmt: skip
        else:
            status["coverageState"] = (
                "Submitted and indexed" if page.in_sitemap else "Indexed, not submitted in sitemap"
            )
            status["googleCanonical"] = page.canonical or page.url
            if page.canonical:
                status["userCanonical"] = page.canonical
        return status


def synthetic_cells(base_url: str, n: int) -> list[Cell]:
    """`n` distinct full-grain rows (for paging tests): no two share a key."""
    return [
        Cell(
            f"{base_url}/p/synthetic-{i % 997}/",
            f"synthetic query {i:06d}",
            DEVICES[i % 3][0],
            "gbr",
            (n - i) % 7,
            7 + (n - i) % 50,
            1.0 + (i % 400) / 10,
        )
        for i in range(n)
    ]


def _merge(a: Cell, b: Cell) -> Cell:
    impressions = a.impressions + b.impressions
    position = (a.position * a.impressions + b.position * b.impressions) / impressions
    return Cell(a.page, a.query, a.device, a.country, a.clicks + b.clicks, impressions, position)


def _unknown() -> dict[str, object]:
    return {
        "verdict": "NEUTRAL",
        "coverageState": "URL is unknown to Google",
        "robotsTxtState": "ROBOTS_TXT_STATE_UNSPECIFIED",
        "indexingState": "INDEXING_STATE_UNSPECIFIED",
        "pageFetchState": "PAGE_FETCH_STATE_UNSPECIFIED",
    }


def _sitemap_child(path: str) -> str:
    if path.startswith("/p/"):
        return SITEMAP_CHILDREN[0]
    if path.startswith("/blog/"):
        return SITEMAP_CHILDREN[2]
    return SITEMAP_CHILDREN[1]


def _largest_remainder(total: int, weights: list[float] | list[int]) -> list[int]:
    """Split an integer total in proportion to weights, exactly (the parts sum to `total`)."""
    weight_sum = float(sum(weights))
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(r) for r in raw]
    leftover = total - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in order[:leftover]:
        parts[i] += 1
    return parts
