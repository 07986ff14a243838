"""Cell values as vendors write them: every spelling parses to one value, or fails with a message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.backlinks.values import (
    DAY_FIRST,
    MONTH_FIRST,
    DateOrderError,
    first_date_order,
    normalize_link_type,
    parse_bool,
    parse_date,
    parse_float,
    parse_int,
    parse_nofollow,
    spreadsheet_safe,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1240", 1240),
        ("1,240", 1240),
        ("1.240", 1240),
        ("1 240", 1240),
        ("1\u00a0240", 1240),
        ("1\u202f240", 1240),
        ("1'240", 1240),
        ("12,345,678", 12345678),
        (" 7 ", 7),
        ("", None),
        ("-", None),
    ],
)
def test_locale_whole_numbers_parse(text: str, expected: int | None) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize("text", ["1,5", "1,24", "12,3456", "abc", "1.240,5", "1,240.000.1"])
def test_a_count_that_is_not_a_whole_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a whole number"):
        parse_int(text)


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("4.5", False, 4.5),
        ("4,5", False, 4.5),
        ("0.9", False, 0.9),
        ("1,234.5", False, 1234.5),
        ("1.234,5", False, 1234.5),
        ("1 234,5", False, 1234.5),
        ("1,240", False, 1240.0),
        ("1,240", True, 1.24),
        ("1.240", True, 1240.0),
        ("71,6%", False, 71.6),
        ("", False, None),
    ],
)
def test_locale_decimals_parse(text: str, decimal_comma: bool, expected: float | None) -> None:
    assert parse_float(text, decimal_comma) == expected


def test_a_metric_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="'high' is not a number"):
        parse_float("high")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-15", datetime(2026, 9, 15, tzinfo=UTC)),
        ("2026-09-15 08:30:00", datetime(2026, 9, 15, 8, 30, tzinfo=UTC)),
        ("2026-09-15T08:30:00Z", datetime(2026, 9, 15, 8, 30, tzinfo=UTC)),
        ("2026-09-15T10:30:00+02:00", datetime(2026, 9, 15, 8, 30, tzinfo=UTC)),
        ("Sep 15, 2026", datetime(2026, 9, 15, tzinfo=UTC)),
        ("September 15, 2026", datetime(2026, 9, 15, tzinfo=UTC)),
        ("15 Sep 2026", datetime(2026, 9, 15, tzinfo=UTC)),
        ("15. Sept. 2026", datetime(2026, 9, 15, tzinfo=UTC)),
        ("15. März 2026", datetime(2026, 3, 15, tzinfo=UTC)),
        ("15 sept. 2026", datetime(2026, 9, 15, tzinfo=UTC)),
        ("3 févr. 2026", datetime(2026, 2, 3, tzinfo=UTC)),
        ("15 de septiembre de 2026", datetime(2026, 9, 15, tzinfo=UTC)),
        ("28/09/2026", datetime(2026, 9, 28, tzinfo=UTC)),
        ("03/04/2026", datetime(2026, 4, 3, tzinfo=UTC)),  # day-first when ambiguous
        ("09/28/2026", datetime(2026, 9, 28, tzinfo=UTC)),  # month-first only when it must be
        ("28.09.2026", datetime(2026, 9, 28, tzinfo=UTC)),
        ("28.09.26", datetime(2026, 9, 28, tzinfo=UTC)),
        ("2026/09/28", datetime(2026, 9, 28, tzinfo=UTC)),
        ("28/09/2026 14:05", datetime(2026, 9, 28, 14, 5, tzinfo=UTC)),
        ("", None),
    ],
)
def test_dates_parse_in_every_vendor_spelling(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_an_ambiguous_date_follows_the_order_given_and_a_contradiction_is_refused() -> None:
    assert parse_date("03/04/2026", MONTH_FIRST) == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_date("03/04/2026", DAY_FIRST) == datetime(2026, 4, 3, tzinfo=UTC)
    assert parse_date("09/15/2026", MONTH_FIRST) == datetime(2026, 9, 15, tzinfo=UTC)
    with pytest.raises(DateOrderError, match="'15/09/2026' can only be day-first, but this"):
        parse_date("15/09/2026", MONTH_FIRST)
    assert first_date_order(["2026-01-02", "03/04/2026", "09/15/2026 08:00"]) == (
        MONTH_FIRST,
        "09/15/2026",
    )
    assert first_date_order(["15.09.26"]) == (DAY_FIRST, "15.09.26")
    assert first_date_order(["03/04/2026", "2026-09-15", "Sep 15, 2026"]) is None


@pytest.mark.parametrize("text", ["true", "yesterday", "32/13/2026", "Sep 2026", "15 Foo 2026"])
def test_a_date_that_is_not_a_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("Y", True),
        ("ja", True),
        ("oui", True),
        ("sí", True),
        ("si", True),
        ("wahr", True),
        ("vrai", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("nein", False),
        ("non", False),
        ("falso", False),
        ("faux", False),
        ("", None),
        ("-", None),
    ],
)
def test_booleans_parse_in_every_vendor_spelling(text: str, expected: bool | None) -> None:
    assert parse_bool(text) is expected


def test_a_flag_that_is_not_a_flag_is_refused() -> None:
    with pytest.raises(ValueError, match="'maybe' is not a yes/no value"):
        parse_bool("maybe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("nofollow", True), ("No Follow", True), ("follow", False), ("dofollow", False), ("1", True)],
)
def test_nofollow_also_reads_the_link_state_words(text: str, expected: bool) -> None:
    assert parse_nofollow(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("text", "text"),
        ("a", "text"),
        ("Href", "text"),
        ("image", "image"),
        ("img", "image"),
        ("ImgHref", "image"),
        ("redirect", "redirect"),
        ("301", "redirect"),
        ("iframe", "frame"),
        ("form", "form"),
        ("canonical", "canonical"),
        ("Mention", "mention"),
        ("rss", "other"),
        ("", None),
    ],
)
def test_link_types_map_to_one_vocabulary(text: str, expected: str | None) -> None:
    assert normalize_link_type(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain = fine", "plain = fine"),
        ("", ""),
    ],
)
def test_formula_looking_text_is_written_so_no_spreadsheet_runs_it(
    value: str, expected: str
) -> None:
    assert spreadsheet_safe(value) == expected
