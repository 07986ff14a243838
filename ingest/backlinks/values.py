"""Cell values as vendors write them: locale numbers, dates, booleans, link types, formula text.

Exports are made for spreadsheets in whatever language the user's UI speaks, so the same number
arrives as `1240`, `"1,240"`, `1.240` or `1 240`, a date as `2026-09-15 08:00:00`, `Sep 15, 2026`
or `15/09/2026`, and a flag as `true`, `TRUE`, `1`, `ja` or `oui`. Every parser here either returns
the value or raises `ValueError` with a message naming the text, so the importer can quarantine
the row with the reason instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

# -- booleans ---------------------------------------------------------------------------------

_TRUE = frozenset(
    ["true", "t", "yes", "y", "1", "x", "on", "wahr", "ja", "oui", "vrai", "si", "sí", "verdadero"]
)
_FALSE = frozenset(["false", "f", "no", "n", "0", "off", "falsch", "nein", "non", "faux", "falso"])
_EMPTY = frozenset(("", "-", "--", "n/a", "na", "null", "none", "(not set)"))


def parse_bool(text: str) -> bool | None:
    """`true`/`TRUE`/`1`/`yes`/`ja`/`oui`/`sí` -> True; their opposites -> False; empty -> None."""
    value = text.strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value in _EMPTY:
        return None
    raise ValueError(f"{text!r} is not a yes/no value")


_NOFOLLOW_WORDS = {
    "nofollow": True,
    "no follow": True,
    "no-follow": True,
    "follow": False,
    "dofollow": False,
    "do follow": False,
    "do-follow": False,
}


def parse_nofollow(text: str) -> bool | None:
    """A nofollow flag, also spelled as the link's state (`nofollow` / `follow` / `dofollow`)."""
    word = _NOFOLLOW_WORDS.get(text.strip().casefold())
    return word if word is not None else parse_bool(text)


# -- numbers ----------------------------------------------------------------------------------

# Thousands separators seen in exports: comma, dot, space, no-break space, narrow no-break space,
# apostrophe (Swiss). A number uses one of them consistently in groups of three.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([,.\u00a0\u202f' ])\d{3})(?:\1\d{3})*$")
_PLAIN = re.compile(r"^[+-]?\d+$")
_DECIMAL_DOT = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:[,\u00a0\u202f' ]\d{3})+)?\.\d+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:[.\u00a0\u202f' ]\d{3})+)?,\d+$")
_SEPARATORS = str.maketrans("", "", ",.\u00a0\u202f' ")


def parse_int(text: str) -> int | None:
    """A whole count: `1240`, `"1,240"`, `1.240`, `1 240` -> 1240; empty -> None."""
    value = text.strip()
    if value in _EMPTY:
        return None
    if _PLAIN.match(value):
        return int(value)
    if _GROUPED.match(value):
        return int(value.translate(_SEPARATORS))
    raise ValueError(f"{text!r} is not a whole number")


def parse_float(text: str, decimal_comma: bool = False) -> float | None:
    """A decimal metric: `4.5`, `4,5`, `1,234.5`, `1.234,5`; empty -> None.

    A lone separator followed by exactly three digits (`1,240`, `1.240`) is ambiguous; it is read
    as a thousands separator unless the file is known to write decimal commas (`decimal_comma`),
    in which case `1,240` is 1.24 and `1.240` is 1240.
    """
    value = text.strip().rstrip("%").strip()
    if value in _EMPTY:
        return None
    if _PLAIN.match(value):
        return float(value)
    grouped = _GROUPED.match(value)
    if grouped and not (decimal_comma and grouped.group(1) == ","):
        return float(value.translate(_SEPARATORS))
    if _DECIMAL_DOT.match(value):
        return float(
            value.replace(",", "")
            .replace("\u00a0", "")
            .replace("\u202f", "")
            .replace("'", "")
            .replace(" ", "")
        )
    if _DECIMAL_COMMA.match(value):
        whole, frac = value.rsplit(",", 1)
        return float(whole.translate(_SEPARATORS) + "." + frac)
    raise ValueError(f"{text!r} is not a number")


# -- dates ------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january januar janvier janv enero ene jänner",
        "feb february februar fevrier févr fev fév février febrero",
        "mar march märz marz mars marzo mär",
        "apr april avril abril avr",
        "may mai mayo",
        "jun june juni juin junio",
        "jul july juli juillet juil julio",
        "aug august août aout ago agosto",
        "sep sept september septembre septiembre set setiembre",
        "oct october oktober okt octobre octubre",
        "nov november novembre noviembre",
        "dec december dezember dez décembre decembre déc diciembre dic",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})" + _TIME + r"$")
_YEAR_FIRST_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})" + _TIME + r"$")
_WORDS_DATE = re.compile(r"[a-zà-ÿ]+|\d+", re.IGNORECASE)


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )


_FOLDED_MONTHS = {_fold(k): v for k, v in _MONTHS.items()}


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) == 2 else year


def _build(
    year: int, month: int, day: int, h: str | None, mi: str | None, s: str | None
) -> datetime:
    return datetime(year, month, day, int(h or 0), int(mi or 0), int(s or 0), tzinfo=UTC)


DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"

# A numeric date whose order shows: a first number 13-31 with a month second, or the reverse.
_UNAMBIGUOUS_DATE = re.compile(
    r"^\s*(?:(?:1[3-9]|2\d|3[01])[./-](?:0?[1-9]|1[0-2])|(?:0?[1-9]|1[0-2])[./-](?:1[3-9]|2\d|3[01]))"
    r"[./-](?:\d{4}|\d{2})\b",
    re.MULTILINE,
)


class DateOrderError(ValueError):
    """A numeric date in the other order than the one its column was decided to use."""


def numeric_date_order(text: str) -> str | None:
    """DAY_FIRST for `15/09/2026`, MONTH_FIRST for `09/15/2026`; None if ambiguous or not numeric."""
    match = _NUMERIC_DATE.match(text.strip())
    if not match:
        return None
    return _shown_order(int(match.group(1)), int(match.group(2)))


def is_numeric_date(text: str) -> bool:
    """Whether `text` is a day/month/year date of numbers only (`03/04/2026`, `15.09.26`)."""
    return _NUMERIC_DATE.match(text.strip()) is not None


def first_date_order(values: Sequence[str]) -> tuple[str, str] | None:
    """The order shown by the first unambiguous numeric date in `values`, and that value.

    One regular-expression search over the joined values, so a column of ISO dates costs one C
    scan per chunk instead of a Python call per value.
    """
    found = _UNAMBIGUOUS_DATE.search("\n".join(values))
    if found is None:
        return None
    value = found.group(0).strip()
    order = numeric_date_order(value)
    return (order, value) if order is not None else None


def _shown_order(first: int, second: int) -> str | None:
    if first > 12 and second <= 12:
        return DAY_FIRST
    if second > 12 and first <= 12:
        return MONTH_FIRST
    return None


def parse_date(text: str, order: str | None = None) -> datetime | None:
    """A date or date-time as exports write it, as a UTC datetime; empty -> None.

    ISO (`2026-09-15`, `2026-09-15 08:00:00`, `...T08:00:00Z`), month names in en/de/fr/es
    (`Sep 15, 2026`, `15. Sept. 2026`, `15 de septiembre de 2026`) and numeric dates. A numeric
    date that reads both ways (`03/04/2026`) is read in `order` (DAY_FIRST or MONTH_FIRST, decided
    once per column by the caller), day-first when none is given; one that reads only one way
    (`09/15/2026`) is read that way, and raises DateOrderError if that contradicts `order`.
    A value without a time zone is taken as UTC.
    """
    value = text.strip()
    if value in _EMPTY:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    try:
        return _parse_other_date(value, order)
    except DateOrderError:
        raise
    except ValueError:
        raise ValueError(f"{text!r} is not a date") from None


def _parse_other_date(value: str, order: str | None = None) -> datetime:
    match = _NUMERIC_DATE.match(value)
    if match:
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        shown = _shown_order(first, second)
        if shown is not None and order is not None and shown != order:
            raise DateOrderError(
                f"{value!r} can only be {shown}, but this column's dates are {order}"
            )
        day_first = (shown or order or DAY_FIRST) == DAY_FIRST
        day, month = (first, second) if day_first else (second, first)
        return _build(year, month, day, *match.group(4, 5, 6))
    match = _YEAR_FIRST_SLASH.match(value)
    if match:
        return _build(
            int(match.group(1)), int(match.group(2)), int(match.group(3)), *match.group(4, 5, 6)
        )
    time_match = re.search(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", value)
    clock = time_match.groups() if time_match else (None, None, None)
    date_part = value[: time_match.start()] if time_match else value
    tokens = _WORDS_DATE.findall(date_part)
    month = None
    numbers: list[str] = []
    for token in tokens:
        if token.isdigit():
            numbers.append(token)
        elif _fold(token) in _FOLDED_MONTHS and month is None:
            month = _FOLDED_MONTHS[_fold(token)]
        elif _fold(token) not in {"de", "del", "of", "the", "am", "le"}:
            raise ValueError(value)
    if month is None or len(numbers) != 2:
        raise ValueError(value)
    a, b = numbers
    day, year = (a, b) if len(b) == 4 or int(a) <= 31 < int(b) else (b, a)
    if len(year) != 4:
        raise ValueError(value)
    return _build(int(year), month, int(day), *clock)


# -- link types -------------------------------------------------------------------------------

LINK_TYPES = ("text", "image", "redirect", "frame", "form", "canonical", "mention", "other")

_LINK_TYPE_WORDS = {
    "text": "text",
    "href": "text",
    "a": "text",
    "link": "text",
    "hyperlink": "text",
    "textlink": "text",
    "image": "image",
    "img": "image",
    "imghref": "image",
    "imagelink": "image",
    "images": "image",
    "redirect": "redirect",
    "301": "redirect",
    "302": "redirect",
    "307": "redirect",
    "308": "redirect",
    "metarefresh": "redirect",
    "frame": "frame",
    "iframe": "frame",
    "form": "form",
    "canonical": "canonical",
    "mention": "mention",
    # Moz writes the follow state where others write the type: the link is a plain text link.
    "follow": "text",
    "nofollow": "text",
    "dofollow": "text",
}


def normalize_link_type(text: str) -> str | None:
    """Vendor link type (`text`, `a`, `img`, `iframe`, `Redirect`, ...) -> one of LINK_TYPES."""
    value = re.sub(r"[^a-z0-9]", "", text.casefold())
    if not value:
        return None
    return _LINK_TYPE_WORDS.get(value, "other")


# -- formula text -----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet will show, never run: a leading `= + - @` (or tab/CR) gets a `'`.

    The stored data keeps the value exactly as the vendor wrote it; only files written for
    people to open (the quarantine CSV) pass through here.
    """
    if value and value.startswith(_FORMULA_START):
        return "'" + value
    return value
