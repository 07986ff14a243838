"""Sample backlink exports for the demo shop, in four vendor formats, written deterministically.

Why generated and committed: no real export may be redistributed, and the demo must show every
path of the importer on a site it knows: Ahrefs' UTF-16 LE tab-separated quoted export, Semrush's
UTF-8 CSV, Majestic's CSV with 0/1 flags and a Search Console Links ZIP (three reports plus one
that is skipped). The same links appear at several vendors so the merge has work to do, and some
rows must be quarantined (targets on other sites, a missing target, a source that is not a URL, a
column-shifted date). Targets are real pages of `demo.site.DemoSite`.

`python -m demo.backlinks.generate` rewrites the committed files in demo/backlinks/exports/;
`write_demo_exports(folder, base_url)` writes them for another port (used by the demo run).
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from demo.backlinks.synthetic import AHREFS_COLUMNS, ahrefs_header_line

EXPORTS = Path(__file__).resolve().parent / "exports"
DEFAULT_BASE = "http://127.0.0.1:8765"
_ZIP_TIME = (2026, 2, 1, 10, 0, 0)  # fixed member dates: the ZIP is byte-identical every run

AHREFS_FILE = "127.0.0.1-backlinks-subdomains_2026-02-01_10-00-00.csv"
SEMRUSH_FILE = "127.0.0.1-backlinks.csv"
MAJESTIC_FILE = "majestic_127.0.0.1_backlinks.csv"
GSC_FILE = "127.0.0.1-Links-2026-02-01.zip"

SEMRUSH_COLUMNS = (
    "Page ascore",
    "Source title",
    "Source url",
    "Target url",
    "Anchor",
    "External links",
    "Internal links",
    "Nofollow",
    "Sponsored",
    "Ugc",
    "Text",
    "Frame",
    "Form",
    "Image",
    "Sitewide",
    "First seen",
    "Last seen",
    "New link",
    "Lost link",
)
MAJESTIC_COLUMNS = (
    "Target URL",
    "Source URL",
    "Anchor Text",
    "Source Crawl Date",
    "Source First Found Date",
    "FlagNoFollow",
    "FlagImageLink",
    "FlagRedirect",
    "FlagFrame",
    "FlagOldCrawl",
    "FlagAltText",
    "FlagMention",
    "SourceCitationFlow",
    "SourceTrustFlow",
    "TargetCitationFlow",
    "TargetTrustFlow",
    "SourceTopicalTrustFlow_Topic_0",
    "SourceTopicalTrustFlow_Value_0",
    "RefDomainTopicalTrustFlow_Topic_0",
    "RefDomainTopicalTrustFlow_Value_0",
)

_SITES = (
    "www.trailrunners-journal.example",
    "sneakerforum.example",
    "blog.homeandgarden.example",
    "www.styleweekly.example",
    "deals.bargainhunter.example",
    "www.outdoorgearlab.example",
    "news.fashiontoday.example",
    "www.kitchenmagazine.example",
    "community.yogamats.example",
    "www.travelwithkids.example",
    "reviews.techandhome.example",
    "www.cityguide.example",
)
_ANCHORS = (
    "running shoes",
    "this blazer",
    "click here",
    "great guide",
    "our favourite bag",
    "read more",
    "best jackets",
    "the shop",
    "winter sale",
    "see the collection",
)


@dataclass(frozen=True)
class DemoLink:
    source: str
    target: str
    anchor: str
    nofollow: bool
    first_seen: str
    last_seen: str
    authority: float


def demo_targets(base_url: str) -> list[str]:
    """Real pages of the demo shop: products, categories and blog posts, in a fixed order."""
    from demo.site import DemoSite

    site = DemoSite(base_url=base_url)
    urls = sorted(site.sitemap_urls())
    products = [u for u in urls if "/p/" in u][::97][:8]
    categories = [u for u in urls if "/c/" in u][::7][:4]
    posts = [u for u in urls if "/blog/" in u and "/tag/" not in u and "/page/" not in u]
    return products + categories + [p for p in posts if p.rstrip("/") != f"{base_url}/blog"][:4]


def _links(base_url: str, rng: random.Random, count: int) -> list[DemoLink]:
    targets = demo_targets(base_url)
    links = []
    for i in range(count):
        site = _SITES[i % len(_SITES)]
        links.append(
            DemoLink(
                source=f"https://{site}/{2024 + i % 3}/{i:02d}/{_ANCHORS[i % 10].replace(' ', '-')}/",
                target=targets[(i * 5) % len(targets)],
                anchor=_ANCHORS[(i * 3) % len(_ANCHORS)],
                nofollow=i % 4 == 3,
                first_seen=f"2025-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}",
                last_seen=f"2026-01-{1 + i % 28:02d}",
                authority=round(rng.uniform(5, 80), 1),
            )
        )
    return links


# -- Ahrefs -----------------------------------------------------------------------------------


def ahrefs_export(base_url: str) -> bytes:
    """UTF-16 LE with BOM, tabs, every field quoted, LF: as Ahrefs writes its Excel export."""
    rng = random.Random(11)
    rows = []
    for link in _links(base_url, rng, 30):
        rows.append(_ahrefs_row(link))
    # Rows the importer must quarantine, one per reason, and one formula-looking anchor it keeps.
    odd = _links(base_url, rng, 36)[30:]
    rows.append(_ahrefs_row(odd[0], target="https://www.competitor.example/p/blazer/"))
    rows.append(_ahrefs_row(odd[1], target="https://shop.other.example/c/bags/"))
    rows.append(_ahrefs_row(odd[2], target=""))
    rows.append(_ahrefs_row(odd[3], source="javascript:void(0)"))
    rows.append(_ahrefs_row(odd[4], first_seen="yesterday"))
    rows.append(_ahrefs_row(odd[5], anchor='=HYPERLINK("http://evil.example","free")'))
    text = ahrefs_header_line() + "\n" + "\n".join(rows) + "\n"
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def _ahrefs_row(
    link: DemoLink,
    *,
    target: str | None = None,
    source: str | None = None,
    first_seen: str | None = None,
    anchor: str | None = None,
) -> str:
    values = dict.fromkeys(AHREFS_COLUMNS, "")
    values.update(
        {
            "Referring page title": f"{(anchor or link.anchor).title()} | {link.source.split('/')[2]}",
            "Referring page URL": link.source if source is None else source,
            "Language": "en",
            "Platform": "wordpress",
            "Referring page HTTP code": "200",
            "Domain rating": f"{link.authority:.1f}",
            "UR": f"{link.authority / 3:.1f}",
            "Target URL": link.target if target is None else target,
            "Left context": "we loved",
            "Anchor": link.anchor if anchor is None else anchor,
            "Right context": "and so will you",
            "Type": "text",
            "Is spam": "false",
            "Content": "true",
            "Nofollow": "true" if link.nofollow else "false",
            "UGC": "false",
            "Sponsored": "false",
            "Rendered": "false",
            "Raw": "true",
            "Discovered status": "linkfound",
            "First seen": f"{link.first_seen} 08:00:00" if first_seen is None else first_seen,
            "Last seen": f"{link.last_seen} 12:00:00",
            "Links in group": "1",
        }
    )
    return "\t".join('"' + values[c].replace('"', '""') + '"' for c in AHREFS_COLUMNS)


# -- Semrush ----------------------------------------------------------------------------------


def semrush_export(base_url: str) -> bytes:
    """UTF-8 without BOM, commas, quoted only when needed: the Backlink Analytics export."""
    rng = random.Random(11)
    links = _links(base_url, rng, 30)[10:30]  # overlaps Ahrefs' rows 10-29 (same pairs)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEMRUSH_COLUMNS)
    for link in links:
        writer.writerow(_semrush_row(link))
    extra = _links(base_url, random.Random(5), 40)[36:]
    writer.writerow(_semrush_row(extra[0], target="https://www.competitor.example/"))
    writer.writerow(_semrush_row(extra[1], source=""))
    writer.writerow(_semrush_row(extra[2], lost=True))
    writer.writerow(_semrush_row(extra[3], first_seen="true"))  # a column-shifted row
    return out.getvalue().encode("utf-8")


def _semrush_row(
    link: DemoLink,
    *,
    target: str | None = None,
    source: str | None = None,
    lost: bool = False,
    first_seen: str | None = None,
) -> list[str]:
    flag = {True: "true", False: "false"}
    return [
        str(int(link.authority / 2)),
        f"{link.anchor.title()} - {link.source.split('/')[2]}",
        link.source if source is None else source,
        link.target if target is None else target,
        link.anchor,
        "12",
        "40",
        flag[link.nofollow],
        "false",
        "false",
        "true",
        "false",
        "false",
        "false",
        "false",
        link.first_seen if first_seen is None else first_seen,
        link.last_seen,
        "false",
        flag[lost],
    ]


# -- Majestic ---------------------------------------------------------------------------------


def majestic_export(base_url: str) -> bytes:
    """UTF-8 with BOM, commas, 0/1 flags, Site Explorer's download column names."""
    rng = random.Random(11)
    links = _links(base_url, rng, 30)[20:30] + _links(base_url, random.Random(3), 48)[40:48]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MAJESTIC_COLUMNS)
    for i, link in enumerate(links):
        writer.writerow(_majestic_row(link, image=i % 6 == 5))
    writer.writerow(_majestic_row(links[0], target="ftp://127.0.0.1/files/"))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _majestic_row(link: DemoLink, *, image: bool = False, target: str | None = None) -> list[str]:
    return [
        link.target if target is None else target,
        link.source,
        "" if image else link.anchor,
        link.last_seen,
        link.first_seen,
        "1" if link.nofollow else "0",
        "1" if image else "0",
        "0",
        "0",
        "0",
        "1" if image else "0",
        "0",
        str(int(link.authority * 0.6)),
        str(int(link.authority * 0.4)),
        "21",
        "14",
        "Shopping",
        "12",
        "Shopping",
        "18",
    ]


# -- Search Console ---------------------------------------------------------------------------


def gsc_export(base_url: str) -> bytes:
    """The Links report's ZIP: three external-link tables and `Top linking text` (skipped)."""
    rng = random.Random(11)
    links = _links(base_url, rng, 30)
    latest = [["Linking page", "Last crawled"]] + [
        [link.source, _gsc_date(link.last_seen)] for link in links[:12]
    ]
    latest.append(["", "Jan 3, 2026"])
    sites: dict[str, set[str]] = {}
    for link in links:
        sites.setdefault(link.source.split("/")[2], set()).add(link.target)
    top_sites = [["Site", "Linking pages", "Target pages"]] + [
        [host.removeprefix("www."), f"{len(targets) * 1210:,}", str(len(targets))]
        for host, targets in sorted(sites.items())
    ]
    targets: dict[str, int] = {}
    for link in links:
        targets[link.target] = targets.get(link.target, 0) + 1
    top_pages = [["Target page", "Incoming links", "Linking sites"]] + [
        [target, f"{count * 1001:,}", str(count)] for target, count in sorted(targets.items())
    ]
    top_pages.append(["https://www.competitor.example/", "4", "1"])
    text = [["Linking text", "Linking sites"]] + [[a, "3"] for a in _ANCHORS[:5]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, table in (
            ("Latest links.csv", latest),
            ("Top linking sites.csv", top_sites),
            ("Top linked pages - externally.csv", top_pages),
            ("Top linking text.csv", text),
        ):
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(table)
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, codecs.BOM_UTF8 + out.getvalue().encode("utf-8"))
    return buffer.getvalue()


def _gsc_date(iso: str) -> str:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    year, month, day = iso.split("-")
    return f"{months[int(month) - 1]} {int(day)}, {year}"


# -- all of them ------------------------------------------------------------------------------


def write_demo_exports(folder: Path, base_url: str = DEFAULT_BASE) -> list[Path]:
    """Write the four demo exports for a demo shop served at `base_url`; return their paths."""
    base = base_url.rstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        AHREFS_FILE: ahrefs_export(base),
        SEMRUSH_FILE: semrush_export(base),
        MAJESTIC_FILE: majestic_export(base),
        GSC_FILE: gsc_export(base),
    }
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover - regenerates the committed files
    for written in write_demo_exports(EXPORTS):
        print(written)
