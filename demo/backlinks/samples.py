"""Small backlink exports written on demand from each vendor's real header row (tests, docs).

The byte-exact real headers are in tests/fixtures/backlinks (Ahrefs Backlinks and Referring IPs,
Semrush Referring Domains, the Semrush API-derived header); the others are the header rows
documented in shared/reference/formats.md section 4. `write_export` encodes rows the way the
vendor does (or any other way a test wants: encoding, delimiter, quoting, BOM, line ending).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "backlinks"


def fixture_header(name: str) -> list[str]:
    """The header row of a byte-exact fixture file, decoded the way its bytes say."""
    data = (FIXTURES / name).read_bytes()
    text = data.decode("utf-16") if data.startswith(codecs.BOM_UTF16_LE) else data.decode("utf-8")
    line = text.splitlines()[0]
    delimiter = "\t" if "\t" in line else ","
    return next(csv.reader([line], delimiter=delimiter))


def _columns(header_line: str) -> list[str]:
    """A header row quoted verbatim from the docs, as its column names."""
    return header_line.split(",")


AHREFS_FIXTURE = "ahrefs__site-explorer_backlinks__HEADER-ONLY.utf16le.tsv"
AHREFS_REFIPS_FIXTURE = "ahrefs__site-explorer_referring-ips__HEADER-ONLY.utf16le.tsv"
SEMRUSH_API_FIXTURE = "semrush-api-derived__backlinks__HEADER-ONLY.csv"
SEMRUSH_REFDOMAINS_FIXTURE = "semrush__backlinks_refdomains__HEADER-ONLY.csv"

# The Dec 2025 Ahrefs export re-saved through Google Sheets: 35 columns, a leading `#`.
AHREFS_SHEETS_HEADER = _columns(
    "#,Referring page title,Referring page URL,Language,Platform,Referring page HTTP code,"
    "Domain rating,UR,Domain traffic,Referring domains,Linked domains,External links,Page traffic,"
    "Keywords,Target URL,Left context,Anchor,Right context,Redirect Chain URLs,"
    "Redirect Chain status codes,Type,Content,Nofollow,UGC,Sponsored,Rendered,Raw,Lost status,"
    "Drop reason,Discovered status,First seen,Last seen,Lost,Author,Links in group"
)
# An older Ahrefs export as public alias maps spell it.
AHREFS_OLD_HEADER = ["Ref. page URL", "DR", "UR", "Anchor", "Target URL", "Kw.", "First seen"]
SEMRUSH_BACKLINKS_HEADER = _columns(
    "Page ascore,Source title,Source url,Target url,Anchor,External links,Internal links,Nofollow,"
    "Sponsored,Ugc,Text,Frame,Form,Image,Sitewide,First seen,Last seen,New link,Lost link"
)
SEMRUSH_AUDIT_HEADER = _columns(
    "Domain Authority Score,Page Authority Score,Source URL,Source Page Title,Source Domain,"
    "Target URL,Anchor,Anchor Type,Link Type,No Follow,Toxic Score,First Seen,Last Seen,Comment"
)
MAJESTIC_CSV_HEADER = _columns(
    "Target URL,Source URL,Anchor Text,Source Crawl Date,Source First Found Date,FlagNoFollow,"
    "FlagImageLink,FlagRedirect,FlagFrame,FlagOldCrawl,FlagAltText,FlagMention,SourceCitationFlow,"
    "SourceTrustFlow,TargetCitationFlow,TargetTrustFlow,SourceTopicalTrustFlow_Topic_0,"
    "SourceTopicalTrustFlow_Value_0,RefDomainTopicalTrustFlow_Topic_0,"
    "RefDomainTopicalTrustFlow_Value_0"
)
MAJESTIC_API_HEADER = _columns(
    "SourceURL,ACRank,AnchorText,Date,FlagRedirect,FlagFrame,FlagNoFollow,FlagImages,FlagDeleted,"
    "FlagAltText,FlagMention,TargetURL,DomainID,FirstIndexedDate,LastSeenDate,DateLost,ReasonLost,"
    "LinkType,LinkSubType,TargetCitationFlow,TargetTrustFlow,TargetTopicalTrustFlow_Topic_0,"
    "TargetTopicalTrustFlow_Value_0,SourceCitationFlow,SourceTrustFlow,"
    "SourceTopicalTrustFlow_Topic_0,SourceTopicalTrustFlow_Value_0"
)
MOZ_HEADER = [
    "URL",
    "Title",
    "Anchor Text",
    "Spam Score",
    "Domain Authority",
    "Page Authority",
    "Target URL",
    "Link Type",
    "Date First Seen",
    "Date Last Seen",
    "Date Lost",
]
GSC_LATEST_LINKS = {
    "en": ["Linking page", "Last crawled"],
    "de": ["Verweisende Seite", "Zuletzt gecrawlt"],
    "fr": ["Page d'origine du lien", "Dernière exploration"],
    "es": ["Página que enlaza", "Último rastreo"],
}
GSC_TOP_LINKING_SITES = {
    "en": ["Site", "Linking pages", "Target pages"],
    "de": ["Website", "Verweisende Seiten", "Zielseiten"],
    "fr": ["Site", "Pages d'origine des liens", "Pages cibles"],
    "es": ["Sitio", "Páginas que enlazan", "Páginas de destino"],
}
GSC_TOP_LINKED_PAGES = {
    "en": ["Target page", "Incoming links", "Linking sites"],
    "de": ["Zielseite", "Eingehende Links", "Verweisende Websites"],
    "fr": ["Page cible", "Liens entrants", "Sites d'origine des liens"],
    "es": ["Página de destino", "Enlaces entrantes", "Sitios que enlazan"],
}


def row_for(header: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """A row for `header` with `values` by column name (every other cell empty)."""
    unknown = set(values) - set(header)
    if unknown:
        raise KeyError(f"not in the header: {sorted(unknown)}")
    return [values.get(column, "") for column in header]


def encode_export(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    delimiter: str = ",",
    quote_all: bool = False,
    line_ending: str = "\n",
) -> bytes:
    """The bytes of an export: `encoding` is a codec without BOM (`utf-16-le`, `cp1252`...)."""
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=delimiter,
        lineterminator=line_ending,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    if bom:
        boms = {
            "utf-8": codecs.BOM_UTF8,
            "utf-16-le": codecs.BOM_UTF16_LE,
            "utf-16-be": codecs.BOM_UTF16_BE,
        }
        data = boms[encoding] + data
    return data


def ahrefs_bytes(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """Ahrefs' own format: UTF-16 LE with BOM, tabs, every field quoted, LF."""
    return encode_export(
        header, rows, encoding="utf-16-le", bom=True, delimiter="\t", quote_all=True
    )


def write_export(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], **kw) -> Path:
    path.write_bytes(encode_export(header, rows, **kw))
    return path
