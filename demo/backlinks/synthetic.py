"""Large synthetic Ahrefs Backlinks exports, written the way Ahrefs writes them.

Why: no real export may be redistributed (tests/fixtures/backlinks/SOURCES.md), yet the importer
must be shown to stay in bounded memory on 1,000,000 rows and be benchmarked against pandas. The
file uses the real 37-column header byte for byte and Ahrefs' format: UTF-16 LE with a BOM, tabs,
every field double-quoted, LF line endings. Values follow the formats observed in real exports
(decimal DR/UR, `true`/`false`, `YYYY-MM-DD HH:MM:SS`). Deterministic for a given seed.
"""

from __future__ import annotations

import codecs
import random
from pathlib import Path

FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "tests"
    / "fixtures"
    / "backlinks"
    / "ahrefs__site-explorer_backlinks__HEADER-ONLY.utf16le.tsv"
)

AHREFS_COLUMNS = (
    "Referring page title",
    "Referring page URL",
    "Language",
    "Platform",
    "Referring page HTTP code",
    "Domain rating",
    "UR",
    "Domain traffic",
    "Referring domains",
    "Linked domains",
    "External links",
    "Page traffic",
    "Keywords",
    "Target URL",
    "Left context",
    "Anchor",
    "Right context",
    "Redirect Chain URLs",
    "Redirect Chain status codes",
    "Type",
    "Is spam",
    "Content",
    "Nofollow",
    "UGC",
    "Sponsored",
    "Rendered",
    "Raw",
    "Lost status",
    "Drop reason",
    "Discovered status",
    "First seen",
    "Last seen",
    "Lost",
    "Author",
    "Page type",
    "Page category",
    "Links in group",
)

_WORDS = (
    "garden",
    "running",
    "shoes",
    "kitchen",
    "review",
    "best",
    "guide",
    "how",
    "to",
    "choose",
    "cheap",
    "lamp",
    "coffee",
    "travel",
    "winter",
    "jacket",
    "tent",
    "bike",
    "yoga",
    "mat",
)


def ahrefs_header_line() -> str:
    """The real Ahrefs header row (from the byte-exact fixture), without its line ending."""
    if FIXTURE.exists():
        return FIXTURE.read_bytes().decode("utf-16").rstrip("\r\n")
    return "\t".join(f'"{c}"' for c in AHREFS_COLUMNS)


def write_large_ahrefs_export(
    path: Path,
    n_rows: int,
    *,
    base_url: str = "http://127.0.0.1:8765",
    rows_per_source: int = 4,
    out_of_scope_every: int = 1000,
    compact: bool = False,
    seed: int = 1,
) -> dict[str, int]:
    """Write `n_rows` data rows; return how many are in scope and how many point elsewhere.

    Each referring page links to `rows_per_source` targets (real exports list several links per
    page); every `out_of_scope_every`-th row targets another site and must be quarantined.
    `compact` keeps the contexts short so a test can write a million rows quickly.
    """
    rng = random.Random(seed)
    base = base_url.rstrip("/")
    targets = (
        [f"{base}/p/product-{i}/" for i in range(400)]
        + [f"{base}/c/category-{i}/" for i in range(40)]
        + [f"{base}/blog/post-{i}/" for i in range(60)]
    )
    context_words = 3 if compact else 12

    def phrases(count: int, words: int) -> list[str]:
        return [" ".join(rng.choice(_WORDS) for _ in range(words)) for _ in range(count)]

    # Pools with prime sizes, indexed by row number: varied, deterministic and cheap to write.
    titles = [t.title() for t in phrases(997, 4)]
    contexts = phrases(1009, context_words)
    anchors = phrases(101, 2)
    first_seen = [f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 0{i % 10}:15:00" for i in range(420)]
    # Each row is title + source + middle + target + tail; the three fixed parts come from pools
    # of prime sizes, so rows vary without formatting 37 fields per row.
    heads = [f'"{t}"\t"' for t in titles]
    middles = [
        f'"\t"en"\t"{"wordpress" if k % 3 else "ecommerce, wordpress"}"\t"200"\t'
        f'"{(k % 1000) / 10:.1f}"\t"{(k % 300) / 10:.1f}"\t"{k * 37 % 100_000}"\t"{k % 977}"\t'
        f'"{k % 131}"\t"{k % 57}"\t"{k % 1000}"\t"{k % 23}"\t"'
        for k in range(1013)
    ]
    tails = [
        f'"\t"{contexts[k]}"\t"{anchors[k % 101]}"\t"{contexts[(k * 13) % 1009]}"\t""\t""\t'
        f'"{"image" if k % 11 == 0 else "text"}"\t"false"\t"true"\t'
        f'"{"true" if k % 5 == 0 else "false"}"\t"false"\t"false"\t"false"\t"true"\t""\t""\t'
        f'"linkfound"\t"{first_seen[k % 420]}"\t"2026-01-{1 + k % 28:02d} 12:00:00"\t""\t""\t'
        f'"Article > Blog"\t"Home & Garden"\t"1"'
        for k in range(1009)
    ]
    n_targets = len(targets)
    out_of_scope = 0
    with open(path, "wb") as raw:
        raw.write(codecs.BOM_UTF16_LE)
        raw.write((ahrefs_header_line() + "\n").encode("utf-16-le"))
        lines: list[str] = []
        for i in range(n_rows):
            source_id = i // rows_per_source
            if out_of_scope_every and i % out_of_scope_every == out_of_scope_every - 1:
                target = f"https://elsewhere.example.org/page-{i}/"
                out_of_scope += 1
            else:
                target = targets[(i * 7) % n_targets]
            lines.append(
                f"{heads[i % 997]}https://site{source_id % 10_000}.example.com/articles/"
                f"{source_id}/story{middles[i % 1013]}{target}{tails[i % 1009]}"
            )
            if len(lines) == 20_000:
                raw.write(("\n".join(lines) + "\n").encode("utf-16-le"))
                lines.clear()
        if lines:
            raw.write(("\n".join(lines) + "\n").encode("utf-16-le"))
    return {"rows": n_rows, "in_scope": n_rows - out_of_scope, "out_of_scope": out_of_scope}


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    counts = write_large_ahrefs_export(Path(sys.argv[1]), int(sys.argv[2]))
    print(counts)
