"""Vendor header alias tables, and detection of the vendor and report from a header row.

Why alias tables and never positions: the same vendor's export changes its column set with the
export date and options (Ahrefs' 37-column export, its 35-column re-save through Google Sheets with
a leading `#`, its older `Ref. page URL`/`DR` names), and Search Console translates its headers into
the user's UI language. So each report is a table `field -> header names`, header names are
compared after folding case, accents, spaces and punctuation (`Source url`, `source_url` and
`SourceURL` are one name), and a report is recognized by the columns it has, whatever their order.

Provenance of the names: Ahrefs Backlinks and Referring IPs, Semrush Referring Domains and the
Semrush API-derived snake_case header are byte-verified real headers (tests/fixtures/backlinks).
Semrush Backlinks, Semrush Backlink Audit, Majestic (CSV download and GetBackLinkData) and the GSC
Links reports in English are taken from independent third-party parsers. Moz Link Explorer and the
German, French and Spanish GSC headers are not verified against a real export (see docs/backlinks.md).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache


class BacklinkImportError(ValueError):
    """A file that cannot be imported at all; the message says why in one line."""


class UnknownHeaderError(BacklinkImportError):
    """The header matches no known backlink export."""


class NotABacklinkReportError(BacklinkImportError):
    """A known export of a vendor, but one without links (referring domains, anchors, IPs...)."""


@dataclass(frozen=True)
class Authority:
    """One vendor authority metric: the field holding it and its scale (0..scale_max)."""

    field: str
    metric: str
    scale_max: float


@dataclass(frozen=True)
class ReportFormat:
    """One vendor report: the header names of each field, and what identifies the report."""

    vendor: str
    report: str
    label: str
    grain: str
    fields: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    # Header names of which at least one must be present: what tells this report from the others.
    signature: tuple[str, ...]
    known: tuple[str, ...] = ()
    known_prefixes: tuple[str, ...] = ()
    authority: tuple[Authority, ...] = ()
    # Header names written in a language that uses decimal commas (de, fr, es GSC exports).
    decimal_comma_names: tuple[str, ...] = ()
    is_backlinks: bool = True
    hint: str = ""
    _lookup: dict[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        lookup: dict[str, str] = {}
        for name, aliases in self.fields.items():
            for alias in aliases:
                key = header_key(alias)
                if lookup.get(key, name) != name:
                    raise ValueError(f"{self.vendor}/{self.report}: {alias!r} maps to two fields")
                lookup[key] = name
        object.__setattr__(self, "_lookup", lookup)

    @property
    def id(self) -> str:
        return f"{self.vendor}/{self.report}"

    def field_of(self, key: str) -> str | None:
        """The field a folded header name stands for in this report, if any."""
        return self._lookup.get(key)

    def knows(self, key: str) -> bool:
        return (
            key in self._lookup
            or key in _keys(self.known)
            or any(key.startswith(p) for p in _keys(self.known_prefixes))
        )


@lru_cache(maxsize=4096)
def header_key(name: str) -> str:
    """Fold a header name for matching: no BOM, accents, case, spaces or punctuation."""
    name = unicodedata.normalize("NFKD", name.replace("\ufeff", "")).casefold()
    return "".join(c for c in name if c.isalnum() and not unicodedata.combining(c))


@lru_cache(maxsize=256)
def _keys(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(header_key(n) for n in names)


# -- the tables -------------------------------------------------------------------------------

AHREFS_BACKLINKS = ReportFormat(
    vendor="ahrefs",
    report="backlinks",
    label="Ahrefs Site Explorer Backlinks",
    grain="link",
    fields={
        "source_url": ("Referring page URL", "Ref. page URL", "Referring page", "Ref. page"),
        "source_title": ("Referring page title", "Ref. page title"),
        "target_url": ("Target URL", "Link URL"),
        "anchor_text": ("Anchor", "Link Anchor", "Anchor text"),
        "nofollow": ("Nofollow", "No follow"),
        "ugc": ("UGC",),
        "sponsored": ("Sponsored",),
        "link_type": ("Type", "Backlink type", "Link type"),
        "first_seen": ("First seen",),
        "last_seen": ("Last seen", "Last check", "Last visited"),
        "lost": ("Lost", "Day lost", "Lost date"),
        "lost_status": ("Lost status", "BackLink Status"),
        "ahrefs_ur": ("UR", "URL Rating"),
        "ahrefs_dr": ("Domain rating", "DR"),
    },
    required=("source_url", "target_url"),
    signature=("Referring page URL", "Ref. page URL", "Referring page", "Ref. page"),
    known=(
        "#",
        "Language",
        "Platform",
        "Referring page HTTP code",
        "HTTP status code",
        "Domain traffic",
        "Referring domains",
        "Linked domains",
        "External links",
        "Page traffic",
        "Keywords",
        "Kw.",
        "Left context",
        "Right context",
        "TextPre",
        "TextPost",
        "Redirect Chain URLs",
        "Redirect Chain status codes",
        "Is spam",
        "Content",
        "Rendered",
        "Raw",
        "Drop reason",
        "Discovered status",
        "Author",
        "Page type",
        "Page category",
        "Links in group",
        "Target page HTTP code",
        "Internal Links Count",
        "External Links Count",
        "Traffic",
    ),
    authority=(
        Authority("ahrefs_ur", "ahrefs_ur", 100.0),
        Authority("ahrefs_dr", "ahrefs_dr", 100.0),
    ),
)

# The UI export (`Page ascore,Source url,...,New link,Lost link`) and the API-derived snake_case
# header (`page_ascore,source_url,...`) fold to the same names, so one table reads both.
SEMRUSH_BACKLINKS = ReportFormat(
    vendor="semrush",
    report="backlinks",
    label="Semrush Backlink Analytics Backlinks",
    grain="link",
    fields={
        "source_url": ("Source url",),
        "source_title": ("Source title",),
        "target_url": ("Target url",),
        "anchor_text": ("Anchor",),
        "nofollow": ("Nofollow",),
        "sponsored": ("Sponsored",),
        "ugc": ("Ugc",),
        "is_text": ("Text",),
        "is_frame": ("Frame",),
        "is_form": ("Form",),
        "is_image": ("Image",),
        "first_seen": ("First seen",),
        "last_seen": ("Last seen",),
        "lost": ("Lost link", "lostlink"),
        "semrush_page_ascore": ("Page ascore",),
    },
    required=("source_url", "target_url"),
    signature=("Page ascore",),
    known=(
        "External links",
        "Internal links",
        "external_num",
        "internal_num",
        "Sitewide",
        "New link",
        "newlink",
    ),
    authority=(Authority("semrush_page_ascore", "semrush_page_ascore", 100.0),),
)

SEMRUSH_BACKLINK_AUDIT = ReportFormat(
    vendor="semrush",
    report="backlink_audit",
    label="Semrush Backlink Audit",
    grain="link",
    fields={
        "source_url": ("Source URL",),
        "source_title": ("Source Page Title",),
        "source_domain": ("Source Domain",),
        "target_url": ("Target URL",),
        "anchor_text": ("Anchor",),
        "link_type": ("Link Type",),
        "nofollow": ("No Follow", "Nofollow"),
        "first_seen": ("First Seen",),
        "last_seen": ("Last Seen",),
        "semrush_page_ascore": ("Page Authority Score",),
        "semrush_domain_ascore": ("Domain Authority Score",),
    },
    required=("source_url", "target_url"),
    signature=("Toxic Score", "Page Authority Score", "Domain Authority Score"),
    known=("Anchor Type", "Toxic Score", "Comment"),
    authority=(
        Authority("semrush_page_ascore", "semrush_page_ascore", 100.0),
        Authority("semrush_domain_ascore", "semrush_domain_ascore", 100.0),
    ),
)

# Site Explorer's CSV download (`Source Crawl Date`, `FlagImageLink`) and the GetBackLinkData API
# names (`LastSeenDate`, `FlagImages`, `ACRank`) in one table: they never disagree on a name.
MAJESTIC_BACKLINKS = ReportFormat(
    vendor="majestic",
    report="backlinks",
    label="Majestic Backlinks",
    grain="link",
    fields={
        "source_url": ("Source URL",),
        "target_url": ("Target URL",),
        "anchor_text": ("Anchor Text",),
        "last_seen": ("Source Crawl Date", "LastSeenDate", "Date"),  # `Date`: last crawl
        "first_seen": ("Source First Found Date", "FirstIndexedDate"),
        "nofollow": ("FlagNoFollow",),
        "is_image": ("FlagImageLink", "FlagImages"),
        "is_redirect": ("FlagRedirect",),
        "is_frame": ("FlagFrame",),
        "is_mention": ("FlagMention",),
        "lost": ("FlagDeleted",),
        "lost_date": ("DateLost",),
        "lost_status": ("ReasonLost",),
        "link_type": ("LinkType",),
        "majestic_trust_flow": ("SourceTrustFlow",),
        "majestic_citation_flow": ("SourceCitationFlow",),
        "majestic_ac_rank": ("ACRank",),
    },
    required=("source_url", "target_url"),
    signature=("FlagNoFollow", "SourceTrustFlow", "SourceCitationFlow", "ACRank", "FlagRedirect"),
    known=(
        "FlagOldCrawl",
        "FlagAltText",
        "TargetCitationFlow",
        "TargetTrustFlow",
        "DomainID",
        "LinkSubType",
    ),
    known_prefixes=(
        "SourceTopicalTrustFlow",
        "RefDomainTopicalTrustFlow",
        "TargetTopicalTrustFlow",
    ),
    authority=(
        Authority("majestic_trust_flow", "majestic_trust_flow", 100.0),
        Authority("majestic_citation_flow", "majestic_citation_flow", 100.0),
        Authority("majestic_ac_rank", "majestic_ac_rank", 15.0),
    ),
)

# Not verified against a real export (none was found): names from Moz's UI and Links API fields.
MOZ_INBOUND_LINKS = ReportFormat(
    vendor="moz",
    report="inbound_links",
    label="Moz Link Explorer Inbound Links",
    grain="link",
    fields={
        "source_url": ("URL", "Source URL", "Linking Page", "Linking Page URL", "Page URL"),
        "source_title": ("Title", "Linking Page Title"),
        "target_url": ("Target URL", "Target"),
        "anchor_text": ("Anchor Text",),
        "nofollow": ("Nofollow", "No Follow", "Follow/Nofollow", "Link State"),
        "link_type": ("Link Type",),
        "first_seen": ("Date First Seen", "First Seen"),
        "last_seen": ("Date Last Seen", "Last Seen"),
        "lost_date": ("Date Lost", "Lost"),
        "moz_pa": ("Page Authority", "PA"),
        "moz_da": ("Domain Authority", "DA"),
    },
    required=("source_url", "target_url"),
    signature=("Page Authority", "Domain Authority", "Spam Score"),
    known=("Spam Score", "Linking Domains", "Inbound Links", "HTTP Status"),
    authority=(Authority("moz_pa", "moz_pa", 100.0), Authority("moz_da", "moz_da", 100.0)),
)

# Search Console writes headers in the UI language. en from third-party importers; de/fr/es are
# the UI's wording as best known and unverified: matching is accent- and case-blind.
_GSC_LINKING_PAGE = (
    "Linking page",
    "Verweisende Seite",
    "Verlinkende Seite",
    "Page d'origine du lien",
    "Page de provenance",
    "Page avec lien",
    "Page à l'origine du lien",
    "Página que enlaza",
    "Página de enlace",
    "Página de origen del enlace",
)
_GSC_LAST_CRAWLED = (
    "Last crawled",
    "Zuletzt gecrawlt",
    "Letzter Crawl",
    "Dernière exploration",
    "Date de la dernière exploration",
    "Último rastreo",
    "Última rastreo",
    "Rastreada por última vez",
)
_GSC_SITE = ("Site", "Website", "Sitio", "Sitio web", "Domain")
_GSC_LINKING_PAGES = (
    "Linking pages",
    "Verweisende Seiten",
    "Verlinkende Seiten",
    "Pages d'origine des liens",
    "Pages de provenance",
    "Pages avec lien",
    "Páginas que enlazan",
    "Páginas de enlace",
    "Páginas de origen del enlace",
)
_GSC_TARGET_PAGES = (
    "Target pages",
    "Zielseiten",
    "Pages cibles",
    "Páginas de destino",
    "Páginas objetivo",
)
_GSC_TARGET_PAGE = (
    "Target page",
    "Zielseite",
    "Page cible",
    "Página de destino",
    "Página objetivo",
)
_GSC_INCOMING_LINKS = (
    "Incoming links",
    "Eingehende Links",
    "Liens entrants",
    "Enlaces entrantes",
)
_GSC_LINKING_SITES = (
    "Linking sites",
    "Verweisende Websites",
    "Verlinkende Websites",
    "Sites d'origine des liens",
    "Sites de provenance",
    "Sites avec lien",
    "Sitios que enlazan",
    "Sitios web que enlazan",
    "Sitios de enlace",
)
_GSC_LINKING_TEXT = (
    "Linking text",
    "Verweisender Text",
    "Linktext",
    "Texte des liens",
    "Texte du lien",
    "Texto del enlace",
    "Texto de enlace",
)
_GSC_DECIMAL_COMMA = tuple(
    name
    for names in (
        _GSC_LINKING_PAGE,
        _GSC_LAST_CRAWLED,
        _GSC_SITE,
        _GSC_LINKING_PAGES,
        _GSC_TARGET_PAGES,
        _GSC_TARGET_PAGE,
        _GSC_INCOMING_LINKS,
        _GSC_LINKING_SITES,
    )
    for name in names[1:]
    if header_key(name) not in {"site", "domain"}
)

GSC_LATEST_LINKS = ReportFormat(
    vendor="gsc",
    report="latest_links",
    label="Search Console Links: Latest links",
    grain="linking_page",
    fields={"source_url": _GSC_LINKING_PAGE, "last_seen": _GSC_LAST_CRAWLED},
    required=("source_url", "last_seen"),
    signature=_GSC_LINKING_PAGE,
    decimal_comma_names=_GSC_DECIMAL_COMMA,
)

GSC_TOP_LINKING_SITES = ReportFormat(
    vendor="gsc",
    report="top_linking_sites",
    label="Search Console Links: Top linking sites",
    grain="linking_site",
    fields={
        "source_domain": _GSC_SITE,
        "n_linking_pages": _GSC_LINKING_PAGES,
        "n_target_pages": _GSC_TARGET_PAGES,
    },
    required=("source_domain", "n_linking_pages"),
    signature=_GSC_LINKING_PAGES,
    decimal_comma_names=_GSC_DECIMAL_COMMA,
)

GSC_TOP_LINKED_PAGES_EXTERNALLY = ReportFormat(
    vendor="gsc",
    report="top_linked_pages_externally",
    label="Search Console Links: Top linked pages - externally",
    grain="target_page",
    fields={
        "target_url": _GSC_TARGET_PAGE,
        "n_links": _GSC_INCOMING_LINKS,
        "n_linking_sites": _GSC_LINKING_SITES,
    },
    required=("target_url", "n_linking_sites"),
    signature=_GSC_LINKING_SITES,
    decimal_comma_names=_GSC_DECIMAL_COMMA,
)

BACKLINK_REPORTS: tuple[ReportFormat, ...] = (
    AHREFS_BACKLINKS,
    SEMRUSH_BACKLINKS,
    SEMRUSH_BACKLINK_AUDIT,
    MAJESTIC_BACKLINKS,
    MOZ_INBOUND_LINKS,
    GSC_LATEST_LINKS,
    GSC_TOP_LINKING_SITES,
    GSC_TOP_LINKED_PAGES_EXTERNALLY,
)


def _other(
    vendor: str,
    report: str,
    label: str,
    columns: Sequence[str],
    signature: Sequence[str],
    required: Mapping[str, tuple[str, ...]],
    hint: str,
) -> ReportFormat:
    """A known export without links: recognized so the error can say what to export instead."""
    return ReportFormat(
        vendor=vendor,
        report=report,
        label=label,
        grain="none",
        fields=dict(required),
        required=tuple(required),
        signature=tuple(signature),
        known=tuple(columns),
        is_backlinks=False,
        hint=hint,
    )


_BACKLINKS_INSTEAD = "export Site Explorer > Backlinks instead"

OTHER_REPORTS: tuple[ReportFormat, ...] = (
    _other(
        "ahrefs",
        "referring_ips",
        "Ahrefs Referring IPs",
        (
            "Subnet",
            "IPs in subnet",
            "Ref. domains",
            "Top DR",
            "Links to target",
            "New links",
            "Lost links",
            "Dofollow links",
            "First seen",
            "Lost",
            "Country",
            "ISP",
        ),
        ("Subnet", "IPs in subnet"),
        {"subnet": ("Subnet",)},
        _BACKLINKS_INSTEAD,
    ),
    _other(
        "ahrefs",
        "referring_domains",
        "Ahrefs Referring domains",
        (
            "Domain",
            "DR",
            "Dofollow ref. domains",
            "Links to target",
            "Dofollow linked domains",
            "Dofollow links",
            "Traffic",
            "First seen",
            "Lost",
            "Is spam",
        ),
        ("Links to target", "Dofollow ref. domains", "Dofollow linked domains"),
        {"domain": ("Domain",)},
        _BACKLINKS_INSTEAD,
    ),
    _other(
        "ahrefs",
        "anchors",
        "Ahrefs Anchors",
        (
            "Anchor text",
            "Ref. domains",
            "Top DR",
            "Ref. pages",
            "Links to target",
            "New links",
            "Lost links",
            "Dofollow links",
            "First seen",
            "Lost",
        ),
        ("Ref. pages", "Ref. domains", "Links to target"),
        {"anchor": ("Anchor text", "Anchor")},
        _BACKLINKS_INSTEAD,
    ),
    _other(
        "semrush",
        "referring_domains",
        "Semrush Referring Domains",
        (
            "Domain ascore",
            "Domain",
            "Backlinks",
            "IP Address",
            "Country",
            "First seen",
            "Last seen",
        ),
        ("Domain ascore",),
        {"domain": ("Domain",)},
        "export Backlink Analytics > Backlinks instead",
    ),
    _other(
        "gsc",
        "top_linked_pages_internally",
        "Search Console Links: Top linked pages - internally",
        _GSC_TARGET_PAGE + _GSC_INCOMING_LINKS,
        _GSC_INCOMING_LINKS,
        {"target": _GSC_TARGET_PAGE},
        "internal links come from the crawl; export the external links reports",
    ),
    _other(
        "gsc",
        "top_linking_text",
        "Search Console Links: Top linking text",
        _GSC_LINKING_TEXT + _GSC_LINKING_SITES,
        _GSC_LINKING_TEXT,
        {},
        "anchor text alone has no source or target; export Latest links",
    ),
)


# -- detection --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectedFormat:
    """A header row read as one report: which column holds which field."""

    format: ReportFormat
    header: tuple[str, ...]
    columns: Mapping[str, int]
    unrecognized: tuple[str, ...]
    decimal_comma: bool

    @property
    def authority(self) -> Authority | None:
        """The first of the report's authority metrics this file actually has."""
        return next((a for a in self.format.authority if a.field in self.columns), None)


@dataclass(frozen=True)
class _Score:
    format: ReportFormat
    recognized: int
    matches: bool


def _score(fmt: ReportFormat, keys: Sequence[str]) -> _Score:
    present = {k for k in keys if k}
    recognized = sum(1 for k in present if fmt.knows(k))
    fields = {fmt.field_of(k) for k in present} - {None}
    signature = _keys(fmt.signature) & present
    matches = set(fmt.required) <= fields and bool(signature)
    return _Score(fmt, recognized, matches)


def recognized_columns(header: Sequence[str]) -> int:
    """How many columns of `header` some report knows (used to choose the delimiter)."""
    keys = [header_key(h) for h in header]
    return max(_score(f, keys).recognized for f in (*BACKLINK_REPORTS, *OTHER_REPORTS))


def detect_format(header: Sequence[str]) -> DetectedFormat:
    """The report `header` belongs to; raises with the columns seen and the closest report."""
    header = tuple(h.strip() for h in header)
    keys = [header_key(h) for h in header]
    scores = [_score(f, keys) for f in (*BACKLINK_REPORTS, *OTHER_REPORTS)]
    matching = [s for s in scores if s.matches]
    if matching:
        best = max(matching, key=lambda s: s.recognized)
        fmt = best.format
        if not fmt.is_backlinks:
            raise NotABacklinkReportError(
                f"this is a {fmt.label} export, which has no links: {fmt.hint}"
            )
        return _detected(fmt, header, keys)
    raise UnknownHeaderError(_unknown_message(header, keys, scores))


def _detected(fmt: ReportFormat, header: tuple[str, ...], keys: list[str]) -> DetectedFormat:
    columns: dict[str, int] = {}
    ranks: dict[str, int] = {}
    unrecognized: list[str] = []
    for index, key in enumerate(keys):
        name = fmt.field_of(key)
        if name is not None:
            # Two columns for one field (Majestic's `Date` and `LastSeenDate`): the name listed
            # first in the alias table wins, then the first column.
            rank = [header_key(a) for a in fmt.fields[name]].index(key)
            if name not in columns or rank < ranks[name]:
                columns[name], ranks[name] = index, rank
        elif key and not fmt.knows(key):
            unrecognized.append(header[index])
    decimal_comma = bool(_keys(fmt.decimal_comma_names) & set(keys))
    return DetectedFormat(fmt, header, columns, tuple(unrecognized), decimal_comma)


def _unknown_message(header: Sequence[str], keys: list[str], scores: list[_Score]) -> str:
    seen = ", ".join(repr(h) for h in header) or "(none)"
    backlink_scores = [s for s in scores if s.format.is_backlinks]
    best = max(backlink_scores, key=lambda s: s.recognized)
    if best.recognized == 0:
        # Nothing known: suggest by spelling, so a typo'd or translated header still gets a hint.
        best = max(backlink_scores, key=lambda s: _similarity(s.format, keys))
    fmt = best.format
    present = {fmt.field_of(k) for k in keys} - {None}
    missing = [fmt.fields[f][0] for f in fmt.required if f not in present]
    if not (_keys(fmt.signature) & set(keys)):
        missing.append(fmt.signature[0])
    return (
        f"unknown backlink export: columns seen: {seen}; closest: {fmt.label} "
        f"({best.recognized} of {len([k for k in keys if k])} columns known, "
        f"missing {', '.join(repr(m) for m in missing)})"
    )


def _similarity(fmt: ReportFormat, keys: Sequence[str]) -> float:
    names = list(_keys(tuple(a for aliases in fmt.fields.values() for a in aliases) + fmt.known))
    total = 0.0
    for key in keys:
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.0)
        if close:
            total += difflib.SequenceMatcher(None, key, close[0]).ratio()
    return total


def looks_like_header(cells: Sequence[str]) -> bool:
    """Whether a record could be a header row at all (used to skip preamble lines)."""
    return any(re.search(r"[^\W\d_]", c) for c in cells)
