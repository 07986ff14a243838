"""Vendor and report detection from header rows: by name, never by position."""

from __future__ import annotations

import random

import pytest

from demo.backlinks import samples
from ingest.backlinks.formats import (
    BACKLINK_REPORTS,
    OTHER_REPORTS,
    NotABacklinkReportError,
    UnknownHeaderError,
    detect_format,
    header_key,
)


@pytest.mark.parametrize(
    ("header", "report_id", "authority"),
    [
        (samples.fixture_header(samples.AHREFS_FIXTURE), "ahrefs/backlinks", "ahrefs_ur"),
        (samples.AHREFS_SHEETS_HEADER, "ahrefs/backlinks", "ahrefs_ur"),
        (samples.AHREFS_OLD_HEADER, "ahrefs/backlinks", "ahrefs_ur"),
        (["Ref. page URL", "DR", "Anchor", "Target URL"], "ahrefs/backlinks", "ahrefs_dr"),
        (samples.SEMRUSH_BACKLINKS_HEADER, "semrush/backlinks", "semrush_page_ascore"),
        (
            samples.fixture_header(samples.SEMRUSH_API_FIXTURE),
            "semrush/backlinks",
            "semrush_page_ascore",
        ),
        (samples.SEMRUSH_AUDIT_HEADER, "semrush/backlink_audit", "semrush_page_ascore"),
        (samples.MAJESTIC_CSV_HEADER, "majestic/backlinks", "majestic_trust_flow"),
        (samples.MAJESTIC_API_HEADER, "majestic/backlinks", "majestic_trust_flow"),
        (samples.MOZ_HEADER, "moz/inbound_links", "moz_pa"),
    ],
)
def test_each_vendor_header_is_detected(header: list[str], report_id: str, authority: str) -> None:
    detected = detect_format(header)
    assert detected.format.id == report_id
    assert detected.authority is not None and detected.authority.metric == authority
    assert header[detected.columns["source_url"]].replace(" ", "").lower() in {
        "referringpageurl",
        "ref.pageurl",
        "sourceurl",
        "source_url",
        "url",
    }
    assert detected.unrecognized == ()


def test_the_real_ahrefs_header_maps_every_field_it_has() -> None:
    header = samples.fixture_header(samples.AHREFS_FIXTURE)
    columns = detect_format(header).columns
    assert {header[i]: f for f, i in columns.items()} == {
        "Referring page URL": "source_url",
        "Referring page title": "source_title",
        "Target URL": "target_url",
        "Anchor": "anchor_text",
        "Nofollow": "nofollow",
        "UGC": "ugc",
        "Sponsored": "sponsored",
        "Type": "link_type",
        "First seen": "first_seen",
        "Last seen": "last_seen",
        "Lost": "lost",
        "Lost status": "lost_status",
        "UR": "ahrefs_ur",
        "Domain rating": "ahrefs_dr",
    }


def test_column_order_does_not_matter() -> None:
    header = samples.fixture_header(samples.AHREFS_FIXTURE)
    shuffled = header[:]
    random.Random(3).shuffle(shuffled)
    detected = detect_format(shuffled)
    assert detected.format.id == "ahrefs/backlinks"
    assert shuffled[detected.columns["target_url"]] == "Target URL"


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
@pytest.mark.parametrize(
    ("headers", "report_id", "grain"),
    [
        (samples.GSC_LATEST_LINKS, "gsc/latest_links", "linking_page"),
        (samples.GSC_TOP_LINKING_SITES, "gsc/top_linking_sites", "linking_site"),
        (samples.GSC_TOP_LINKED_PAGES, "gsc/top_linked_pages_externally", "target_page"),
    ],
)
def test_gsc_links_reports_are_detected_in_four_languages(
    language: str, headers: dict[str, list[str]], report_id: str, grain: str
) -> None:
    detected = detect_format(headers[language])
    assert detected.format.id == report_id
    assert detected.format.grain == grain
    assert detected.decimal_comma is (language != "en")


def test_headers_match_whatever_the_case_accents_and_spacing() -> None:
    detected = detect_format(["PAGINA QUE ENLAZA", "ultimo  rastreo"])
    assert detected.format.id == "gsc/latest_links"
    assert detect_format(["\ufeffSource_URL", "target-url", "PAGE ASCORE"]).format.id == (
        "semrush/backlinks"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (samples.fixture_header(samples.AHREFS_REFIPS_FIXTURE), "Ahrefs Referring IPs export"),
        (samples.fixture_header(samples.SEMRUSH_REFDOMAINS_FIXTURE), "Semrush Referring Domains"),
        (["Target page", "Incoming links"], "Top linked pages - internally"),
        (["Linking text", "Linking sites"], "Top linking text"),
        (["Anchor text", "Ref. domains", "Ref. pages", "Links to target"], "Ahrefs Anchors"),
    ],
)
def test_an_export_without_links_says_what_to_export_instead(
    header: list[str], message: str
) -> None:
    with pytest.raises(NotABacklinkReportError, match=message) as info:
        detect_format(header)
    assert "instead" in str(info.value) or "crawl" in str(info.value) or "Latest" in str(info.value)


def test_an_unknown_header_lists_the_columns_seen_and_the_closest_vendor() -> None:
    with pytest.raises(UnknownHeaderError) as info:
        detect_format(["Referring page URL", "Anchor", "Nofollow", "Colour"])
    message = str(info.value)
    assert message.startswith("unknown backlink export: columns seen: ")
    assert "'Referring page URL', 'Anchor', 'Nofollow', 'Colour'" in message
    assert (
        "closest: Ahrefs Site Explorer Backlinks (3 of 4 columns known, missing 'Target URL')"
        in message
    )


def test_a_header_nobody_knows_still_gets_the_closest_vendor_by_spelling() -> None:
    with pytest.raises(UnknownHeaderError, match=r"closest: Majestic Backlinks \(0 of 2 columns"):
        detect_format(["FlagNoFolow", "SourceTrustFlo"])


def test_a_generic_header_without_a_vendor_signature_is_unknown() -> None:
    with pytest.raises(UnknownHeaderError, match="columns seen: 'Source URL', 'Target URL'"):
        detect_format(["Source URL", "Target URL", "Anchor"])


def test_no_alias_is_shared_by_two_fields_of_one_report() -> None:
    for fmt in (*BACKLINK_REPORTS, *OTHER_REPORTS):
        seen: dict[str, str] = {}
        for field, aliases in fmt.fields.items():
            for alias in aliases:
                assert seen.setdefault(header_key(alias), field) == field, (fmt.id, alias)
