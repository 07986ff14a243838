"""`<lastmod>` values: W3C Datetime in every form the protocol allows, plus common near-misses.

Why lenient: sitemaps.org asks for W3C Datetime (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, and date-times
with minutes, seconds or fractions and a `Z`/`+hh:mm` zone), but real generators also write a
space instead of `T`, `+0000` without the colon, or leave the zone out. Those still say exactly
when, so they are read (no zone = UTC). Anything else (`2024-13-45`, `yesterday`, `30/06/2024`)
is not guessed at: the caller keeps the raw text and flags it.

Memoized because a sitemap of 50,000 URLs usually carries a few hundred distinct values.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_W3C = re.compile(
    r"""
    (?P<y>\d{4})
    (?:-(?P<m>\d{2})
      (?:-(?P<d>\d{2})
        (?:[Tt\ ](?P<H>\d{2}):(?P<M>\d{2})
          (?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?
          \s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?
        )?
      )?
    )?
    """,
    re.VERBOSE,
)


def _zone(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("zone offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


@lru_cache(maxsize=65_536)
def parse_w3c_datetime(raw: str) -> datetime | None:
    """UTC datetime of a W3C Datetime (or near-miss), or None when it is not one."""
    text = raw.strip()
    match = _W3C.fullmatch(text)
    if match is None:
        return None
    g = match.groupdict()
    try:
        fraction = g["f"] or "0"
        value = datetime(
            int(g["y"]),
            int(g["m"] or 1),
            int(g["d"] or 1),
            int(g["H"] or 0),
            int(g["M"] or 0),
            int(g["S"] or 0),
            int(fraction[:6].ljust(6, "0")),
            tzinfo=_zone(g["tz"]),
        )
    except ValueError:
        return None
    if value.year < 1970 and g["H"] is None and g["m"] is None:
        return None  # a bare number like "0001" is not a plausible year of a web page
    return value.astimezone(UTC)


@lru_cache(maxsize=16_384)
def parse_feed_datetime(raw: str) -> datetime | None:
    """RSS `<pubDate>` (RFC 822, `Sat, 13 Dec 2003 18:30:02 GMT`) or an Atom/W3C datetime."""
    value = parse_w3c_datetime(raw)
    if value is not None:
        return value
    try:
        parsed = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch: how Parquet stores `timestamp[us, UTC]`.

    Rows carry these integers rather than datetime objects because Arrow converts integers
    several times faster, and 50,000 lastmods per file add up.
    """
    return (value - EPOCH) // _MICROSECOND


@lru_cache(maxsize=65_536)
def lastmod_micros(raw: str, feed: bool = False) -> int | None:
    """`to_micros` of a `<lastmod>` (`feed`: an RSS/Atom date), None when unreadable."""
    value = parse_feed_datetime(raw) if feed else parse_w3c_datetime(raw)
    return None if value is None else to_micros(value)
