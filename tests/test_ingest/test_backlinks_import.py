"""Importing whole files: each vendor, encoding and delimiter, every malformed input, archives.

Files are written by the tests from the vendors' real header rows (demo.backlinks.samples), so
each count below is exact: rows in = landed + quarantined, checked against the Parquet files.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from demo.backlinks import samples
from ingest.backlinks.containers import ArchiveLimits, ArchiveRefusedError, DamagedArchiveError
from ingest.backlinks.formats import (
    BacklinkImportError,
    NotABacklinkReportError,
    UnknownHeaderError,
)
from ingest.backlinks.importer import ImportResult, import_backlinks
from ingest.backlinks.sniff import EmptyFileError
from ingest.config import SiteConfig, site_from_start_url

AHREFS = samples.fixture_header(samples.AHREFS_FIXTURE)
SHOP = "https://shop.example"


@pytest.fixture
def site() -> SiteConfig:
    return site_from_start_url(f"{SHOP}/", "shop")


def ahrefs_row(**values: str) -> list[str]:
    base = {
        "Referring page URL": "https://blog.example.org/post/1",
        "Target URL": f"{SHOP}/p/red-shoes/",
        "Anchor": "red shoes",
        "Domain rating": "45.5",
        "UR": "12.3",
        "Nofollow": "false",
        "UGC": "false",
        "Sponsored": "false",
        "Type": "text",
        "First seen": "2025-03-04 05:06:07",
        "Last seen": "2026-02-01 00:00:00",
    }
    base.update(values)
    return samples.row_for(AHREFS, base)


def landed(result: ImportResult) -> list[dict]:
    return pq.read_table(result.backlinks_path).to_pylist()


def refused(result: ImportResult) -> list[dict]:
    return pq.read_table(result.quarantine_path).to_pylist()


def assert_counts(
    result: ImportResult,
    rows_in: int,
    landed_rows: int,
    reasons: dict[str, int],
    blank: int = 0,
) -> None:
    """rows in (every record after the header) = landed + quarantined + blank, everywhere."""
    refused_rows = rows_in - landed_rows - blank
    assert result.rows_in == rows_in
    assert result.landed == landed_rows
    assert result.blank_rows == blank
    assert result.quarantined == refused_rows == sum(reasons.values())
    assert result.reasons == reasons
    assert pq.read_metadata(result.backlinks_path).num_rows == landed_rows
    assert pq.read_metadata(result.quarantine_path).num_rows == refused_rows
    manifest = json.loads((result.out_dir / "import.json").read_text())
    assert (manifest["landed"], manifest["quarantined"], manifest["blank_rows"]) == (
        landed_rows,
        refused_rows,
        blank,
    )
    assert manifest["rows_in"] == rows_in


# -- encodings and delimiters -----------------------------------------------------------------

ANCHOR = "Café Müller – Schuhe"


@pytest.mark.parametrize(
    ("options", "encoding_label", "delimiter_label"),
    [
        (
            dict(encoding="utf-16-le", bom=True, delimiter="\t", quote_all=True),
            "UTF-16 LE with BOM",
            "tab",
        ),
        (
            dict(encoding="utf-16-be", bom=True, delimiter="\t", quote_all=True),
            "UTF-16 BE with BOM",
            "tab",
        ),
        (dict(encoding="utf-16-le", delimiter="\t"), "UTF-16 LE without BOM", "tab"),
        (dict(encoding="utf-8", bom=True, delimiter=","), "UTF-8 with BOM", "comma"),
        (dict(encoding="utf-8", delimiter=","), "UTF-8", "comma"),
        (dict(encoding="utf-8", delimiter=";"), "UTF-8", "semicolon"),
        (dict(encoding="utf-8", delimiter="\t", line_ending="\r\n"), "UTF-8", "tab"),
        (dict(encoding="cp1252", delimiter=";"), "cp1252 (detected)", "semicolon"),
    ],
)
def test_each_encoding_and_delimiter_is_sniffed(
    tmp_path: Path, site: SiteConfig, options: dict, encoding_label: str, delimiter_label: str
) -> None:
    rows = [ahrefs_row(Anchor=ANCHOR), ahrefs_row(**{"Referring page URL": "https://b.example/x"})]
    path = samples.write_export(tmp_path / "export.csv", AHREFS, rows, **options)
    result = import_backlinks(path, site, tmp_path / "data")
    member = result.members[0]
    assert (member.vendor, member.report) == ("ahrefs", "backlinks")
    assert (member.encoding, member.delimiter) == (encoding_label, delimiter_label)
    assert_counts(result, 2, 2, {})
    assert [r["anchor_text"] for r in landed(result)] == [ANCHOR, "red shoes"]


def test_excel_sep_line_sets_the_delimiter_and_is_not_a_row(
    tmp_path: Path, site: SiteConfig
) -> None:
    data = samples.encode_export(
        samples.SEMRUSH_BACKLINKS_HEADER,
        [
            samples.row_for(
                samples.SEMRUSH_BACKLINKS_HEADER,
                {
                    "Source url": "https://a.example/",
                    "Target url": f"{SHOP}/",
                    "Page ascore": "7",
                },
            )
        ],
        delimiter=";",
    )
    path = tmp_path / "semrush.csv"
    path.write_bytes(b"sep=;\n" + data)
    result = import_backlinks(path, site, tmp_path / "data")
    assert result.members[0].delimiter == "semicolon"
    assert result.members[0].header_line == 2
    assert_counts(result, 1, 1, {})
    assert landed(result)[0]["row_number"] == 3


def test_a_declared_encoding_that_contradicts_the_bom_is_refused(
    tmp_path: Path, site: SiteConfig
) -> None:
    path = tmp_path / "ahrefs.csv"
    path.write_bytes(samples.ahrefs_bytes(AHREFS, [ahrefs_row()]))
    with pytest.raises(
        BacklinkImportError, match="'utf-8' was declared but the file starts with a UTF-16 LE"
    ):
        import_backlinks(path, site, tmp_path / "data", encoding="utf-8")
    result = import_backlinks(path, site, tmp_path / "data", encoding="utf-16")
    assert_counts(result, 1, 1, {})


def test_bytes_invalid_in_the_declared_encoding_quarantine_only_their_rows(
    tmp_path: Path, site: SiteConfig
) -> None:
    """A UTF-8 BOM declares UTF-8; two rows were pasted in from a cp1252 file."""
    good = samples.encode_export(
        samples.SEMRUSH_BACKLINKS_HEADER,
        [
            samples.row_for(
                samples.SEMRUSH_BACKLINKS_HEADER,
                {
                    "Source url": f"https://a.example/{i}",
                    "Target url": f"{SHOP}/",
                    "Anchor": "ok",
                    "Page ascore": "5",
                },
            )
            for i in range(3)
        ],
    )
    bad_rows = "".join(
        f"5,,https://b.example/{i},{SHOP}/,Caf\xe9 {i},,,,,,,,,,,,,,\n" for i in range(2)
    ).encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(codecs.BOM_UTF8 + good + bad_rows)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 5, 3, {"undecodable_text": 2})
    assert [r["row_number"] for r in refused(result)] == [5, 6]
    assert refused(result)[0]["detail"] == "bytes that are not valid UTF-8 with BOM"


def _semrush_rows(n: int, anchor: str, start: int = 0) -> list[list[str]]:
    return [
        samples.row_for(
            samples.SEMRUSH_BACKLINKS_HEADER,
            {
                "Source url": f"https://a.example/{i}",
                "Target url": f"{SHOP}/",
                "Anchor": f"{anchor} {i}",
                "Page ascore": "5",
            },
        )
        for i in range(start, start + n)
    ]


def test_a_cp1252_file_ascii_for_its_first_64_kb_is_re_read_as_cp1252(
    tmp_path: Path, site: SiteConfig
) -> None:
    """The sniff sees ASCII only and says UTF-8; the first accented row switches the file."""
    ascii_rows = _semrush_rows(1500, "plain")
    accented = _semrush_rows(3, "Crème brûlée – Café", start=1500)
    data = samples.encode_export(
        samples.SEMRUSH_BACKLINKS_HEADER, ascii_rows + accented, encoding="cp1252"
    )
    first_accent = data.index("è".encode("cp1252"))
    assert first_accent > 64 * 1024 and data[:first_accent].isascii()
    path = tmp_path / "semrush.csv"
    path.write_bytes(data)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 1503, 1503, {})
    rows = landed(result)
    assert [r["row_number"] for r in rows] == list(range(2, 1505))
    assert [r["anchor_text"] for r in rows[-3:]] == [
        f"Crème brûlée – Café {i}" for i in range(1500, 1503)
    ]
    assert rows[0]["anchor_text"] == "plain 0"
    member = result.members[0]
    line = data[:first_accent].count(b"\n") + 1
    assert member.encoding == f"cp1252 (detected at line {line:,})"
    assert member.warnings == [
        f"semrush.csv: read as UTF-8 (the first 64 KB are ASCII), but line {line:,} "
        f"(byte {first_accent:,}) is not UTF-8: the file was re-read as cp1252"
    ]
    manifest = json.loads((result.out_dir / "import.json").read_text())
    assert manifest["members"][0]["warnings"] == member.warnings


def test_a_bomless_utf8_file_with_pasted_cp1252_rows_quarantines_them_with_a_warning(
    tmp_path: Path, site: SiteConfig
) -> None:
    """Real UTF-8 text came first, so re-reading as cp1252 would garble it: the file stays UTF-8."""
    good = samples.encode_export(
        samples.SEMRUSH_BACKLINKS_HEADER,
        _semrush_rows(1500, "Müller"),
    )
    pasted = "".join(
        f"5,,https://b.example/{i},{SHOP}/,Caf\xe9 {i},,,,,,,,,,,,,,\n" for i in range(2)
    ).encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(good + pasted)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 1502, 1500, {"undecodable_text": 2})
    assert [r["row_number"] for r in refused(result)] == [1502, 1503]
    assert landed(result)[0]["anchor_text"] == "Müller 0"
    assert result.members[0].encoding == "UTF-8"
    assert refused(result)[0]["detail"] == "bytes that are not valid UTF-8"
    assert len(result.members[0].warnings) == 1
    assert "quarantined as undecodable_text" in result.members[0].warnings[0]


def test_utf8_declared_for_a_cp1252_file_quarantines_the_accented_rows(
    tmp_path: Path, site: SiteConfig
) -> None:
    """A declared encoding is what the user said: it is not revised, and the rows it cannot read
    are quarantined with the encoding named (the file imports; the fix is to declare cp1252)."""
    rows = _semrush_rows(2, "plain") + _semrush_rows(1, "Crème brûlée", start=2)
    path = samples.write_export(
        tmp_path / "old.csv", samples.SEMRUSH_BACKLINKS_HEADER, rows, encoding="cp1252"
    )
    result = import_backlinks(path, site, tmp_path / "data", encoding="utf-8")
    assert_counts(result, 3, 2, {"undecodable_text": 1})
    row = refused(result)[0]
    assert (row["row_number"], row["file"]) == (4, "old.csv")
    assert row["detail"] == "bytes that are not valid utf-8 (declared)"
    assert result.members[0].encoding == "utf-8 (declared)"
    assert result.members[0].warnings == []


def test_a_legacy_file_declared_as_such_decodes(tmp_path: Path, site: SiteConfig) -> None:
    path = samples.write_export(
        tmp_path / "old.csv", AHREFS, [ahrefs_row(Anchor="Crème brûlée")], encoding="cp1252"
    )
    result = import_backlinks(path, site, tmp_path / "data", encoding="cp1252")
    assert landed(result)[0]["anchor_text"] == "Crème brûlée"
    assert result.members[0].encoding == "cp1252 (declared)"


# -- each vendor ------------------------------------------------------------------------------


def test_ahrefs_native_export_normalizes_every_field(tmp_path: Path, site: SiteConfig) -> None:
    rows = [
        ahrefs_row(
            Nofollow="true",
            UGC="true",
            Type="image",
            Lost="2026-01-05 10:00:00",
            **{"Lost status": "removedfromhtml"},
        ),
        ahrefs_row(
            **{
                "Referring page URL": "HTTPS://News.Example.co.uk:443/a/../b?utm_source=x#top",
                "Target URL": f"{SHOP}/p/red-shoes/?gclid=1",
                "Sponsored": "true",
            }
        ),
    ]
    path = tmp_path / "shop.example-backlinks-subdomains.csv"
    path.write_bytes(samples.ahrefs_bytes(AHREFS, rows))
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 2, 2, {})
    first, second = landed(result)
    assert first["source_url"] == "https://blog.example.org/post/1"
    assert first["source_domain"] == "example.org"
    assert first["target_url"] == f"{SHOP}/p/red-shoes/"
    assert (first["is_nofollow"], first["is_ugc"], first["is_sponsored"]) == (True, True, False)
    assert first["link_type"] == "image"
    assert first["is_lost"] is True
    assert first["first_seen"].replace(tzinfo=None) == datetime(2025, 3, 4, 5, 6, 7)
    assert (first["authority_raw"], first["authority_metric"], first["authority_0_100"]) == (
        12.3,
        "ahrefs_ur",
        12.3,
    )
    assert (first["vendor"], first["report"], first["grain"], first["row_number"]) == (
        "ahrefs",
        "backlinks",
        "link",
        2,
    )
    assert second["source_url"] == "https://news.example.co.uk/b"
    assert second["source_domain"] == "example.co.uk"
    assert second["target_key"] == first["target_key"]
    assert (second["is_sponsored"], second["is_lost"]) == (True, False)
    assert result.duplicates == 0


def test_ahrefs_sheets_resave_with_row_numbers_and_upper_case_flags(
    tmp_path: Path, site: SiteConfig
) -> None:
    header = samples.AHREFS_SHEETS_HEADER
    rows = [
        samples.row_for(
            header,
            {
                "#": str(i),
                "Referring page URL": f"https://a.example/{i}",
                "Target URL": f"{SHOP}/",
                "Nofollow": "TRUE" if i else "FALSE",
                "Domain rating": "3.2",
                "UR": "",
                "First seen": "2025-12-01 00:00:00",
            },
        )
        for i in range(3)
    ]
    path = samples.write_export(tmp_path / "sheets.csv", header, rows)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 3, 3, {})
    assert [r["is_nofollow"] for r in landed(result)] == [False, True, True]
    # UR is empty here: no authority is made up from another column.
    assert [r["authority_metric"] for r in landed(result)] == [None, None, None]


def test_semrush_ui_and_api_exports(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.SEMRUSH_BACKLINKS_HEADER
    rows = [
        samples.row_for(
            header,
            {
                "Page ascore": "34",
                "Source url": "https://a.example/x",
                "Target url": f"{SHOP}/c/shoes/",
                "Anchor": "shoes",
                "Nofollow": "false",
                "Image": "true",
                "Text": "false",
                "First seen": "2025-01-02",
                "Last seen": "2026-01-02",
                "Lost link": "true",
            },
        ),
        samples.row_for(
            header,
            {
                "Page ascore": "1,2",
                "Source url": "https://a.example/y",
                "Target url": f"{SHOP}/",
                "Text": "true",
            },
        ),
    ]
    result = import_backlinks(
        samples.write_export(tmp_path / "semrush.csv", header, rows), site, tmp_path / "data"
    )
    assert_counts(result, 2, 2, {})
    first, second = landed(result)
    assert (first["link_type"], first["is_lost"], first["authority_raw"]) == ("image", True, 34.0)
    assert (second["link_type"], second["is_lost"], second["authority_raw"]) == ("text", False, 1.2)

    api = samples.fixture_header(samples.SEMRUSH_API_FIXTURE)
    api_rows = [
        samples.row_for(
            api,
            {
                "page_ascore": "12",
                "source_url": "https://c.example/",
                "target_url": f"{SHOP}/",
                "nofollow": "true",
                "first_seen": "2025-05-05",
                "last_seen": "2026-01-01",
            },
        ),
        # The real API-derived file is column-shifted: first_seen holds a boolean.
        samples.row_for(
            api,
            {
                "page_ascore": "12",
                "source_url": "https://d.example/",
                "target_url": f"{SHOP}/",
                "first_seen": "false",
            },
        ),
    ]
    result = import_backlinks(
        samples.write_export(tmp_path / "api.csv", api, api_rows), site, tmp_path / "data"
    )
    assert_counts(result, 2, 1, {"invalid_value": 1})
    assert refused(result)[0]["detail"] == "first_seen: 'false' is not a date"


def test_semrush_backlink_audit(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.SEMRUSH_AUDIT_HEADER
    rows = [
        samples.row_for(
            header,
            {
                "Domain Authority Score": "40",
                "Page Authority Score": "22",
                "Source URL": "https://a.example/p",
                "Source Domain": "a.example",
                "Target URL": f"{SHOP}/",
                "Link Type": "img",
                "No Follow": "true",
                "Toxic Score": "3",
                "First Seen": "Sep 15, 2025",
                "Last Seen": "15/01/2026",
            },
        )
    ]
    result = import_backlinks(
        samples.write_export(tmp_path / "audit.csv", header, rows), site, tmp_path / "data"
    )
    row = landed(result)[0]
    assert (row["link_type"], row["is_nofollow"], row["authority_metric"]) == (
        "image",
        True,
        "semrush_page_ascore",
    )
    assert row["first_seen"].date().isoformat() == "2025-09-15"
    assert row["last_seen"].date().isoformat() == "2026-01-15"


@pytest.mark.parametrize("api", [False, True])
def test_majestic_csv_and_api_names(tmp_path: Path, site: SiteConfig, api: bool) -> None:
    if api:
        header = samples.MAJESTIC_API_HEADER
        values = {
            "SourceURL": "https://m.example/a",
            "TargetURL": f"{SHOP}/p/x/",
            "AnchorText": "x",
            "FlagNoFollow": "1",
            "FlagImages": "0",
            "FlagRedirect": "1",
            "FlagDeleted": "1",
            "SourceTrustFlow": "27",
            "LastSeenDate": "2026-01-03",
            "FirstIndexedDate": "2024-02-03",
            "ACRank": "3",
        }
    else:
        header = samples.MAJESTIC_CSV_HEADER
        values = {
            "Source URL": "https://m.example/a",
            "Target URL": f"{SHOP}/p/x/",
            "Anchor Text": "x",
            "FlagNoFollow": "1",
            "FlagImageLink": "0",
            "FlagRedirect": "1",
            "SourceTrustFlow": "27",
            "Source Crawl Date": "2026-01-03",
            "Source First Found Date": "2024-02-03",
        }
    result = import_backlinks(
        samples.write_export(tmp_path / "majestic.csv", header, [samples.row_for(header, values)]),
        site,
        tmp_path / "data",
    )
    row = landed(result)[0]
    assert (row["vendor"], row["is_nofollow"], row["link_type"]) == ("majestic", True, "redirect")
    assert (row["authority_metric"], row["authority_0_100"]) == ("majestic_trust_flow", 27.0)
    assert row["is_lost"] is (True if api else None)
    assert row["last_seen"].date().isoformat() == "2026-01-03"


def test_moz_inbound_links(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.MOZ_HEADER
    rows = [
        samples.row_for(
            header,
            {
                "URL": "https://moz-fan.example/a",
                "Title": "A",
                "Anchor Text": "a",
                "Spam Score": "1%",
                "Domain Authority": "55",
                "Page Authority": "31",
                "Target URL": f"{SHOP}/",
                "Link Type": "nofollow",
                "Date First Seen": "2025-02-01",
            },
        )
    ]
    result = import_backlinks(
        samples.write_export(tmp_path / "moz.csv", header, rows), site, tmp_path / "data"
    )
    row = landed(result)[0]
    assert (row["vendor"], row["authority_metric"], row["authority_raw"]) == ("moz", "moz_pa", 31.0)
    assert row["link_type"] == "text"
    assert row["is_lost"] is False


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_gsc_links_zip_in_each_language(tmp_path: Path, site: SiteConfig, language: str) -> None:
    thousands = "1,240" if language == "en" else "1.240"
    date = {
        "en": "Sep 15, 2026",
        "de": "15.09.2026",
        "fr": "15 sept. 2026",
        "es": "15 de septiembre de 2026",
    }[language]
    tables = {
        "Latest links.csv": (
            samples.GSC_LATEST_LINKS[language],
            [
                ["https://a.example/post", date],
                ["", date],
                ["https://b.example/x", "2026-09-16"],
            ],
        ),
        "Top linking sites.csv": (
            samples.GSC_TOP_LINKING_SITES[language],
            [
                ["a.example", thousands, "3"],
                ["www.b-site.co.uk", "12", "1"],
            ],
        ),
        "Top linked pages - externally.csv": (
            samples.GSC_TOP_LINKED_PAGES[language],
            [
                [f"{SHOP}/p/x/", thousands, "7"],
                ["https://elsewhere.example/", "1", "1"],
            ],
        ),
        "Top linking text.csv": (["Linking text", "Linking sites"], [["shoes", "2"]]),
        "Top linked pages - internally.csv": (
            ["Target page", "Incoming links"],
            [[f"{SHOP}/", "9"]],
        ),
    }
    path = tmp_path / "shop.example-Links.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (header, rows) in tables.items():
            archive.writestr(name, samples.encode_export(header, rows, bom=True))
        archive.writestr("nested.zip", b"PK\x05\x06" + bytes(18))
    result = import_backlinks(path, site, tmp_path / "data")
    reports = {m.report: (m.rows_in, m.landed) for m in result.members}
    assert reports == {
        "latest_links": (3, 2),
        "top_linking_sites": (2, 2),
        "top_linked_pages_externally": (2, 1),
    }
    assert result.reasons == {"missing_source": 1, "target_out_of_scope": 1}
    assert sorted(s["name"].split("!")[1] for s in result.skipped) == [
        "Top linked pages - internally.csv",
        "Top linking text.csv",
        "nested.zip",
    ]
    rows = {(r["report"], r["row_number"]): r for r in landed(result)}
    latest = rows[("latest_links", 2)]
    assert latest["last_seen"].date().isoformat() == "2026-09-15"
    assert (latest["grain"], latest["target_url"]) == ("linking_page", None)
    sites = rows[("top_linking_sites", 2)]
    assert (sites["source_domain"], sites["n_linking_pages"], sites["n_target_pages"]) == (
        "a.example",
        1240,
        3,
    )
    assert rows[("top_linking_sites", 3)]["source_domain"] == "b-site.co.uk"
    pages = rows[("top_linked_pages_externally", 2)]
    assert (pages["target_url"], pages["n_links"], pages["n_linking_sites"]) == (
        f"{SHOP}/p/x/",
        1240,
        7,
    )
    assert pages["file"] == "shop.example-Links.zip!Top linked pages - externally.csv"


def test_an_xlsx_export_is_read_with_typed_cells(tmp_path: Path, site: SiteConfig) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Backlinks"
    sheet.append(samples.SEMRUSH_BACKLINKS_HEADER)
    row = dict.fromkeys(samples.SEMRUSH_BACKLINKS_HEADER)
    row.update(
        {
            "Page ascore": 21,
            "Source url": "https://x.example/a",
            "Target url": f"{SHOP}/",
            "Anchor": "=1+1",
            "Nofollow": True,
            "First seen": datetime(2025, 6, 7, 8, 9),
            "Last seen": datetime(2026, 1, 1),
        }
    )
    sheet.append(list(row.values()))
    sheet.cell(row=2, column=5).data_type = "s"  # a text cell that starts with "=", not a formula
    sheet.append([None] * len(row))
    book.create_sheet("Notes").append(["exported by", "someone"])
    path = tmp_path / "semrush.xlsx"
    book.save(path)
    result = import_backlinks(path, site, tmp_path / "data")
    assert [m.encoding for m in result.members] == ["xlsx"]
    assert result.members[0].blank_rows == 1
    assert result.skipped[0]["name"] == "semrush.xlsx!Notes"
    got = landed(result)[0]
    assert (got["anchor_text"], got["is_nofollow"], got["authority_raw"]) == ("=1+1", True, 21.0)
    assert got["first_seen"].replace(tzinfo=None) == datetime(2025, 6, 7, 8, 9)


def _semrush_dated(rows: list[tuple[str, str]]) -> list[list[str]]:
    return [
        samples.row_for(
            samples.SEMRUSH_BACKLINKS_HEADER,
            {
                "Source url": f"https://a.example/{i}",
                "Target url": f"{SHOP}/",
                "First seen": first,
                "Last seen": last,
            },
        )
        for i, (first, last) in enumerate(rows)
    ]


def test_a_us_file_keeps_its_ambiguous_dates_month_first(tmp_path: Path, site: SiteConfig) -> None:
    """03/04/2026 before 09/15/2026 in a month-first column is March 4, not April 3."""
    rows = _semrush_dated(
        [
            ("03/04/2026", "03/05/2026"),  # ambiguous in both columns
            ("09/15/2026", "04/01/2026"),  # First seen shows month-first
            ("01/02/2026", "12/20/2026"),  # Last seen shows month-first (its own evidence)
            ("15/09/2026", "01/01/2026"),  # day-first in a month-first column: refused
        ]
    )
    path = samples.write_export(tmp_path / "us.csv", samples.SEMRUSH_BACKLINKS_HEADER, rows)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 4, 3, {"invalid_value": 1})
    got = [(r["first_seen"].date(), r["last_seen"].date()) for r in landed(result)]
    assert [tuple(d.isoformat() for d in pair) for pair in got] == [
        ("2026-03-04", "2026-03-05"),
        ("2026-09-15", "2026-04-01"),
        ("2026-01-02", "2026-12-20"),
    ]
    assert refused(result)[0]["detail"] == (
        "First seen: '15/09/2026' can only be day-first, but this column's dates are month-first"
    )
    assert result.members[0].warnings == []


def test_a_day_first_file_keeps_its_ambiguous_dates_day_first(
    tmp_path: Path, site: SiteConfig
) -> None:
    rows = _semrush_dated([("03/04/2026", "01/02/2026"), ("28/09/2026", "05/06/2026")])
    path = samples.write_export(tmp_path / "eu.csv", samples.SEMRUSH_BACKLINKS_HEADER, rows)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 2, 2, {})
    firsts = [r["first_seen"].date().isoformat() for r in landed(result)]
    lasts = [r["last_seen"].date().isoformat() for r in landed(result)]
    assert firsts == ["2026-04-03", "2026-09-28"]
    # Last seen shows no order of its own: it follows the file's First seen (day-first) and says so.
    assert lasts == ["2026-02-01", "2026-06-05"]
    assert result.members[0].warnings == [
        "eu.csv: Last seen: 2 distinct date value(s) read both ways (like 03/04/2026) and none "
        "only one way: read day-first like the file's other dates"
    ]


def test_an_order_shown_only_after_a_chunk_of_ambiguous_dates_is_reported(
    tmp_path: Path, site: SiteConfig
) -> None:
    """Rows are normalized a chunk at a time; ambiguous dates of an earlier chunk were read
    day-first before a later chunk showed month-first: the import says so, row counts unchanged."""
    rows = _semrush_dated([("03/04/2026", "")] * 3 + [("09/15/2026", ""), ("03/04/2026", "")])
    path = samples.write_export(tmp_path / "late.csv", samples.SEMRUSH_BACKLINKS_HEADER, rows)
    result = import_backlinks(path, site, tmp_path / "data", chunk_rows=3)
    assert_counts(result, 5, 5, {})
    firsts = [r["first_seen"].date().isoformat() for r in landed(result)]
    assert firsts == ["2026-04-03"] * 3 + ["2026-09-15", "2026-03-04"]
    assert result.members[0].warnings == [
        "late.csv: First seen: 1 distinct ambiguous date value(s) of earlier rows were read "
        "day-first before '09/15/2026' showed the column is month-first"
    ]


def test_a_gzipped_export_is_read(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.MAJESTIC_CSV_HEADER
    data = samples.encode_export(
        header,
        [
            samples.row_for(
                header,
                {
                    "Source URL": "https://g.example/",
                    "Target URL": f"{SHOP}/",
                    "FlagNoFollow": "0",
                },
            )
        ],
    )
    path = tmp_path / "majestic.csv.gz"
    path.write_bytes(gzip.compress(data))
    result = import_backlinks(path, site, tmp_path / "data")
    assert result.members[0].name == "majestic.csv.gz!majestic.csv"
    assert_counts(result, 1, 1, {})


# -- malformed input --------------------------------------------------------------------------


def test_every_row_problem_is_quarantined_with_its_reason(tmp_path: Path, site: SiteConfig) -> None:
    rows = [
        ahrefs_row(),
        ahrefs_row(**{"Referring page URL": ""}),
        ahrefs_row(**{"Target URL": " "}),
        ahrefs_row(**{"Referring page URL": "javascript:void(0)"}),
        ahrefs_row(**{"Target URL": "http://[::1"}),
        ahrefs_row(**{"Target URL": "https://competitor.example/p/red-shoes/"}),
        ahrefs_row(**{"Last seen": "soon"}),
        ahrefs_row(**{"Nofollow": "perhaps"}),
        ahrefs_row(UR="high"),
        ahrefs_row(Lost="whenever"),
    ]
    path = tmp_path / "ahrefs.csv"
    path.write_bytes(samples.ahrefs_bytes(AHREFS, rows))
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(
        result,
        10,
        1,
        {
            "invalid_source_url": 1,
            "invalid_target_url": 1,
            "invalid_value": 4,
            "missing_source": 1,
            "missing_target": 1,
            "target_out_of_scope": 1,
        },
    )
    details = {r["row_number"]: (r["reason"], r["detail"]) for r in refused(result)}
    assert details == {
        3: ("missing_source", "the source URL is empty"),
        4: ("missing_target", "the target URL is empty"),
        5: ("invalid_source_url", "not an http(s) URL: 'javascript:void(0)'"),
        6: ("invalid_target_url", "cannot parse URL 'http://[::1': Invalid IPv6 URL"),
        7: ("target_out_of_scope", "competitor.example is not a host of this site"),
        8: ("invalid_value", "Last seen: 'soon' is not a date"),
        9: ("invalid_value", "Nofollow: 'perhaps' is not a yes/no value"),
        10: ("invalid_value", "UR: 'high' is not a number"),
        11: ("invalid_value", "Lost: 'whenever' is neither a yes/no value nor a date"),
    }
    raw = json.loads(refused(result)[0]["raw_row"])
    assert raw["Target URL"] == f"{SHOP}/p/red-shoes/" and raw["Referring page URL"] == ""


def test_a_truncated_utf16_file_keeps_every_complete_row(tmp_path: Path, site: SiteConfig) -> None:
    rows = [ahrefs_row(**{"Referring page URL": f"https://a.example/{i}"}) for i in range(5)]
    data = samples.ahrefs_bytes(AHREFS, rows)
    path = tmp_path / "cut.csv"
    path.write_bytes(data[: len(data) - 301])  # mid-row, mid-character (odd byte count)
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 5, 4, {"malformed_row": 1})
    assert refused(result)[0]["row_number"] == 6
    assert "unexpected end of data" in refused(result)[0]["detail"]


def test_a_file_cut_between_fields_quarantines_the_short_row(
    tmp_path: Path, site: SiteConfig
) -> None:
    rows = [ahrefs_row(), ahrefs_row(**{"Referring page URL": "https://z.example/"})]
    text = samples.ahrefs_bytes(AHREFS, rows).decode("utf-16")
    cut = text[: text.rindex('"\t"', 0, text.index("z.example") + 200) + 1]
    path = tmp_path / "cut.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + cut.encode("utf-16-le"))
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 2, 1, {"wrong_column_count": 1})
    assert refused(result)[0]["detail"].endswith("fields where the header has 37")


def test_broken_quoting_mid_file_loses_only_that_record(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.SEMRUSH_BACKLINKS_HEADER
    good = samples.encode_export(
        header,
        [
            samples.row_for(
                header,
                {
                    "Source url": f"https://a.example/{i}",
                    "Target url": f"{SHOP}/",
                    "Page ascore": "1",
                },
            )
            for i in range(2)
        ],
    ).decode()
    lines = good.splitlines()
    broken = '1,"title"oops,https://b.example/,' + SHOP + "/" + "," * 15
    path = tmp_path / "semrush.csv"
    path.write_text("\n".join([lines[0], lines[1], broken, lines[2]]) + "\n\n\n")
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 5, 2, {"malformed_row": 1}, blank=2)
    assert refused(result)[0]["row_number"] == 3
    assert result.members[0].blank_rows == 2


def test_blank_records_are_counted_in_rows_in_and_reported(
    tmp_path: Path, site: SiteConfig
) -> None:
    """Empty records between and after the data are neither landed nor refused: they are shown."""
    header = samples.SEMRUSH_BACKLINKS_HEADER
    row = samples.row_for(header, {"Source url": "https://a.example/", "Target url": f"{SHOP}/"})
    out_of_scope = samples.row_for(
        header, {"Source url": "https://a.example/", "Target url": "https://other.example/"}
    )
    empty = [""] * len(header)
    path = samples.write_export(
        tmp_path / "semrush.csv", header, [row, empty, out_of_scope, empty, row, empty]
    )
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 6, 2, {"target_out_of_scope": 1}, blank=3)
    member = result.members[0]
    assert member.rows_in == member.landed + member.quarantined + member.blank_rows
    assert [r["row_number"] for r in landed(result)] == [2, 6]


def test_extra_cells_are_refused_unless_empty(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.SEMRUSH_BACKLINKS_HEADER
    row = samples.row_for(
        header, {"Source url": "https://a.example/", "Target url": f"{SHOP}/", "Page ascore": "1"}
    )
    path = samples.write_export(tmp_path / "s.csv", header, [row + [""], row + ["surprise"]])
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 2, 1, {"wrong_column_count": 1})
    assert json.loads(refused(result)[0]["raw_row"])["_extra"] == ["surprise"]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"", EmptyFileError, "the file is empty"),
        (codecs.BOM_UTF16_LE, EmptyFileError, "the file is empty"),
        (b"\n\n\r\n", EmptyFileError, "no header row"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
            BacklinkImportError,
            "legacy Excel .xls",
        ),
        (b"PK\x03\x04garbage", BacklinkImportError, "not a readable ZIP archive"),
        (b"Keyword,Volume\nshoes,100\n", UnknownHeaderError, "columns seen: 'Keyword', 'Volume'"),
    ],
)
def test_a_file_that_cannot_be_imported_raises_one_clear_error(
    tmp_path: Path, site: SiteConfig, content: bytes, error: type, message: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(error, match=message):
        import_backlinks(path, site, tmp_path / "data")
    assert not (tmp_path / "data" / "landing").exists() or not any(
        (tmp_path / "data" / "landing").rglob("*.parquet")
    )


def test_the_ahrefs_referring_ips_export_is_refused_as_not_backlinks(
    tmp_path: Path, site: SiteConfig
) -> None:
    path = tmp_path / "refips.csv"
    path.write_bytes((Path(samples.FIXTURES) / samples.AHREFS_REFIPS_FIXTURE).read_bytes())
    with pytest.raises(NotABacklinkReportError, match="export Site Explorer > Backlinks instead"):
        import_backlinks(path, site, tmp_path / "data")


def test_a_header_only_export_lands_two_empty_files(tmp_path: Path, site: SiteConfig) -> None:
    path = tmp_path / "ahrefs.csv"
    path.write_bytes((Path(samples.FIXTURES) / samples.AHREFS_FIXTURE).read_bytes())
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 0, 0, {})
    assert pq.read_schema(result.backlinks_path).names[:3] == [
        "source_url",
        "source_domain",
        "target_url",
    ]


def test_preamble_lines_before_the_header_are_skipped(tmp_path: Path, site: SiteConfig) -> None:
    header = samples.SEMRUSH_BACKLINKS_HEADER
    body = samples.encode_export(
        header,
        [
            samples.row_for(
                header,
                {"Source url": "https://a.example/", "Target url": f"{SHOP}/", "Page ascore": "2"},
            )
        ],
    )
    path = tmp_path / "s.csv"
    path.write_bytes(b"Backlinks for shop.example\nExported 2026-02-01\n" + body)
    result = import_backlinks(path, site, tmp_path / "data")
    assert result.members[0].header_line == 3
    assert landed(result)[0]["row_number"] == 4


def test_formula_values_stay_data_and_are_neutralized_in_the_csv(
    tmp_path: Path, site: SiteConfig
) -> None:
    rows = [
        ahrefs_row(Anchor='=HYPERLINK("http://evil.example")'),
        ahrefs_row(Anchor="@SUM(1)", **{"Target URL": "https://other.example/"}),
        ahrefs_row(Anchor="-2+3", **{"Referring page URL": "+cmd"}),
    ]
    path = tmp_path / "ahrefs.csv"
    path.write_bytes(samples.ahrefs_bytes(AHREFS, rows))
    result = import_backlinks(path, site, tmp_path / "data")
    assert landed(result)[0]["anchor_text"] == '=HYPERLINK("http://evil.example")'
    assert json.loads(refused(result)[0]["raw_row"])["Anchor"] == "@SUM(1)"
    with open(result.out_dir / "quarantine.csv", encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written[0] == [
        "file",
        "row_number",
        "reason",
        "detail",
        "source_url",
        "target_url",
        "row",
    ]
    assert written[2][4] == "'+cmd"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in written for cell in row)


def test_repeated_pairs_are_counted_and_still_landed(tmp_path: Path, site: SiteConfig) -> None:
    rows = [
        ahrefs_row(Anchor="a"),
        ahrefs_row(Anchor="b"),
        ahrefs_row(Anchor="c"),
        ahrefs_row(**{"Target URL": f"{SHOP}/other/"}),
    ]
    path = tmp_path / "ahrefs.csv"
    path.write_bytes(samples.ahrefs_bytes(AHREFS, rows))
    result = import_backlinks(path, site, tmp_path / "data")
    assert_counts(result, 4, 4, {})
    assert result.duplicates == 2


# -- archives ---------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_anything_is_decompressed(
    tmp_path: Path, site: SiteConfig
) -> None:
    path = tmp_path / "links.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "Latest links.csv", b"Linking page,Last crawled\n" + bytes(64 * 1024 * 1024)
        )
    assert path.stat().st_size < 200_000
    with pytest.raises(
        ArchiveRefusedError,
        match=r"refused as a likely zip bomb, Latest links.csv expands [0-9,]+x \(limit 250x\)",
    ):
        import_backlinks(path, site, tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_an_archive_with_too_many_files_is_refused(tmp_path: Path, site: SiteConfig) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(65):
            archive.writestr(f"part-{i}.csv", "Linking page,Last crawled\n")
    with pytest.raises(ArchiveRefusedError, match=r"65 files in the archive \(limit 64\)"):
        import_backlinks(path, site, tmp_path / "data")


def test_an_archive_over_the_size_caps_is_refused(tmp_path: Path, site: SiteConfig) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.csv", b"x" * 5000)
        archive.writestr("b.csv", b"y" * 5000)
    with pytest.raises(
        ArchiveRefusedError, match=r"a.csv would expand to 5,000 bytes \(limit 4,096\)"
    ):
        import_backlinks(path, site, tmp_path / "data", limits=ArchiveLimits(max_member_bytes=4096))
    with pytest.raises(ArchiveRefusedError, match=r"would expand to 10,000 bytes \(limit 8,000\)"):
        import_backlinks(path, site, tmp_path / "data", limits=ArchiveLimits(max_total_bytes=8000))


def test_a_gzip_that_expands_past_the_cap_is_stopped_while_reading(
    tmp_path: Path, site: SiteConfig
) -> None:
    header = samples.MAJESTIC_CSV_HEADER
    rows = [
        samples.row_for(header, {"Source URL": f"https://g.example/{i}", "Target URL": f"{SHOP}/"})
        for i in range(2000)
    ]
    path = tmp_path / "majestic.csv.gz"
    path.write_bytes(gzip.compress(samples.encode_export(header, rows)))
    with pytest.raises(ArchiveRefusedError, match="expanded past 100,000 bytes while reading"):
        import_backlinks(
            path, site, tmp_path / "data", limits=ArchiveLimits(max_member_bytes=100_000)
        )


def _majestic_bytes(n: int) -> bytes:
    header = samples.MAJESTIC_CSV_HEADER
    rows = [
        samples.row_for(header, {"Source URL": f"https://g.example/{i}", "Target URL": f"{SHOP}/"})
        for i in range(n)
    ]
    return samples.encode_export(header, rows)


def _no_import_landed(data: Path) -> bool:
    return not list((data / "landing").rglob("*.parquet")) if data.exists() else True


def test_a_cut_gzip_is_one_error_naming_the_file(tmp_path: Path, site: SiteConfig) -> None:
    packed = gzip.compress(_majestic_bytes(3000))
    path = tmp_path / "majestic.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DamagedArchiveError) as caught:
        import_backlinks(path, site, tmp_path / "data")
    assert str(caught.value).startswith(
        "majestic.csv.gz!majestic.csv: the gzip stream is damaged or cut short"
    )
    assert "end-of-stream marker" in str(caught.value)
    assert _no_import_landed(tmp_path / "data")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_zip_member_with_corrupted_bytes_is_one_error_naming_it(
    tmp_path: Path, site: SiteConfig, method: int
) -> None:
    path = tmp_path / "links.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("Latest links.csv", _majestic_bytes(3000))
    damaged = bytearray(path.read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = b"\xff" * 64  # inside the member's data, not its headers
    path.write_bytes(bytes(damaged))
    with pytest.raises(
        DamagedArchiveError,
        match=r"^links\.zip!Latest links\.csv: the ZIP member is damaged or cut short",
    ):
        import_backlinks(path, site, tmp_path / "data")
    assert _no_import_landed(tmp_path / "data")


def test_a_broken_xlsx_sheet_is_one_error_naming_the_sheet(
    tmp_path: Path, site: SiteConfig
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Backlinks"
    sheet.append(samples.SEMRUSH_BACKLINKS_HEADER)
    for i in range(200):
        sheet.append(
            samples.row_for(
                samples.SEMRUSH_BACKLINKS_HEADER,
                {"Source url": f"https://x.example/{i}", "Target url": f"{SHOP}/"},
            )
        )
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    path = tmp_path / "semrush.xlsx"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) // 2]  # the sheet's XML ends mid-row
            out.writestr(info, data)
    with pytest.raises(
        DamagedArchiveError,
        match=r"^semrush\.xlsx!Backlinks: the worksheet is damaged or cut short",
    ):
        import_backlinks(path, site, tmp_path / "data")
    assert _no_import_landed(tmp_path / "data")


# -- idempotency ------------------------------------------------------------------------------


def test_importing_the_same_bytes_again_rewrites_the_same_folder(
    tmp_path: Path, site: SiteConfig
) -> None:
    path = tmp_path / "ahrefs.csv"
    path.write_bytes(samples.ahrefs_bytes(AHREFS, [ahrefs_row(), ahrefs_row(Anchor="b")]))
    first = import_backlinks(path, site, tmp_path / "data")
    before = pq.read_table(first.backlinks_path)
    second = import_backlinks(path, site, tmp_path / "data")
    assert second.out_dir == first.out_dir
    assert pq.read_table(second.backlinks_path).equals(before)
    folders = list((tmp_path / "data" / "landing" / "backlinks" / "shop").iterdir())
    assert folders == [first.out_dir]
    assert sorted(p.name for p in first.out_dir.iterdir()) == [
        "backlinks.parquet",
        "backlinks_quarantine.parquet",
        "import.json",
        "quarantine.csv",
    ]


def test_a_missing_file_is_an_error(tmp_path: Path, site: SiteConfig) -> None:
    with pytest.raises(BacklinkImportError, match="no such file"):
        import_backlinks(tmp_path / "nope.csv", site, tmp_path / "data")


def test_rows_keep_their_physical_line_numbers_across_quoted_newlines(
    tmp_path: Path, site: SiteConfig
) -> None:
    header = samples.SEMRUSH_BACKLINKS_HEADER
    rows = [
        samples.row_for(
            header,
            {
                "Source url": "https://a.example/",
                "Target url": f"{SHOP}/",
                "Source title": "two\nlines",
                "Page ascore": "1",
            },
        ),
        samples.row_for(
            header,
            {
                "Source url": "https://b.example/",
                "Target url": "https://x.example/",
                "Page ascore": "1",
            },
        ),
    ]
    result = import_backlinks(
        samples.write_export(tmp_path / "s.csv", header, rows), site, tmp_path / "data"
    )
    assert landed(result)[0]["row_number"] == 2
    assert refused(result)[0]["row_number"] == 4
