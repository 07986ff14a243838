"""A fake Search Console API on 127.0.0.1, for tests and `make demo` (no Google account needed).

Why a real HTTP server rather than mocks: the production client (google-api-python-client,
static discovery, httplib2) is exercised end to end - URL encoding of the property, JSON bodies,
paging, error bodies, retries - by pointing it here with `GSC_API_ENDPOINT`.

What it implements, with the real API's quirks:
- `POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query`: `startDate`/`endDate`,
  `dimensions` (any case), `type`/`searchType`, `dataState` (`final`, `all`), `aggregationType`,
  `dimensionFilterGroups`, `rowLimit` (<= 25,000) and `startRow`; rows sorted by clicks, `rows`
  ABSENT when there are none, `metadata.first_incomplete_date` for `all` + date grouping, counts
  as doubles. Days from `first_incomplete_date` on have no final data yet.
- `POST /v1/urlInspection/index:inspect`: results that follow the demo shop's planted facts.
- `GET /webmasters/v3/sites`: the property list.
- Faults: `inject(429)`, `inject(500, times=10)`, `deny()` (403 for the property), answered in
  Google's error JSON, optionally with `Retry-After`; `override_inspection(url, lastCrawlTime=
  "garbage")` for malformed results, `ignore_start_row()` for a server that never ends paging.

    with FakeSearchConsole("http://127.0.0.1:8765") as fake:
        os.environ["GSC_API_ENDPOINT"] = fake.endpoint

`python -m demo.gsc_server --site-url http://127.0.0.1:8765/ --port 8766` serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from demo.background import BackgroundServer
from demo.gsc_data import Cell, SearchModel, synthetic_cells
from ingest.config import SiteConfig

MAX_ROW_LIMIT = 25_000
_FULL_GRAIN = {"page", "query", "device", "country"}
_DIMENSIONS = {"date", "query", "page", "country", "device", "searchappearance"}
_QUERY_PATH = re.compile(r"^/webmasters/v3/sites/([^/]+)/searchAnalytics/query$")
_INSPECT_PATH = "/v1/urlInspection/index:inspect"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _pacific_today() -> date:
    from ingest.gsc.budget import pacific_today

    return pacific_today()


@dataclass
class Fault:
    """An error answer for `times` matching requests (`-1`: every one) after `after` succeed."""

    status: int
    times: int = 1
    method: str = "any"  # "query", "inspect" or "any"
    retry_after: float | None = None
    message: str | None = None
    after: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    method: str  # "query" | "inspect" | "sites"
    path: str
    body: dict[str, Any]
    status: int


@dataclass
class _State:
    model: SearchModel
    properties: tuple[str, ...]
    today: date | None
    first_incomplete_date: date | None
    final_lag_days: int
    history_days: int
    metadata_style: str
    synthetic_rows: dict[date, int]
    faults: list[Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: OrderedDict[str, list[dict[str, Any]]] = field(default_factory=OrderedDict)
    inspection_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignore_start_row: bool = False


class FakeSearchConsole(BackgroundServer):
    """The fake API serving the demo shop at `site_url` (the property is `site_url` + `/`).

    `today` (Pacific) and `first_incomplete_date` default to the real calendar: final data ends
    `final_lag_days` before today, fresh (`all`) data runs until today. Tests pin both. A built
    `model` can be shared by several servers (it is read-only apart from its day cache), which
    saves rebuilding the same days in every test.
    """

    thread_name = "fake-gsc"

    def __init__(
        self,
        site_url: str = "http://127.0.0.1:8765",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 7,
        today: date | None = None,
        first_incomplete_date: date | None = None,
        final_lag_days: int = 3,
        history_days: int = 486,
        metadata_style: str = "snake",
        synthetic_rows: dict[date, int] | None = None,
        extra_properties: Iterable[str] = (),
        model: SearchModel | None = None,
    ) -> None:
        model = model or SearchModel(site_url.rstrip("/"), seed)
        self.model = model
        self.property_url = model.base_url + "/"
        self._state = _State(
            model=model,
            properties=(self.property_url, *extra_properties),
            today=today,
            first_incomplete_date=first_incomplete_date,
            final_lag_days=final_lag_days,
            history_days=history_days,
            metadata_style=metadata_style,
            synthetic_rows=dict(synthetic_rows or {}),
        )
        self._httpd = _FakeHTTPServer((host, port), _Handler)
        self._httpd.state = self._state
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host, self.port = str(bound_host), int(bound_port)
        self.endpoint = f"http://{self.host}:{self.port}"

    # -- control --------------------------------------------------------------------------------

    def inject(
        self,
        status: int,
        times: int = 1,
        method: str = "any",
        retry_after: float | None = None,
        message: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer `times` requests of `method` with `status` (Google's error JSON), once `after`
        matching requests have gone through normally."""
        with self._state.lock:
            self._state.faults.append(Fault(status, times, method, retry_after, message, after))

    def deny(self, method: str = "any") -> None:
        """Every request for the property gets the 403 Google sends to an account without access."""
        self.inject(403, times=-1, method=method)

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    def set_first_incomplete_date(self, day: date | None) -> None:
        """Move the final-data frontier (a later date = more days have settled)."""
        with self._state.lock:
            self._state.first_incomplete_date = day
            self._state.cache.clear()

    def set_synthetic_rows(self, day: date, n: int) -> None:
        """Serve `n` distinct full-grain rows for `day` instead of the model's (paging tests)."""
        with self._state.lock:
            self._state.synthetic_rows[day] = n
            self._state.cache.clear()

    def override_inspection(self, url: str, **index_status: object) -> None:
        """Answer inspections of `url` with these `indexStatusResult` fields replaced, e.g.
        `lastCrawlTime="not a time"` to see a malformed value Google might send."""
        with self._state.lock:
            self._state.inspection_overrides[url] = dict(index_status)

    def ignore_start_row(self, ignore: bool = True) -> None:
        """Serve the first page whatever `startRow` says (a broken server or proxy): a client
        that pages until an empty page would loop forever."""
        with self._state.lock:
            self._state.ignore_start_row = ignore

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def today(self) -> date:
        return self._state.today or _pacific_today()

    @property
    def first_incomplete_date(self) -> date:
        return _first_incomplete(self._state)


class _FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    state: _State


class _ApiError(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSearchConsole/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _FakeHTTPServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.rstrip("/") == "/webmasters/v3/sites":
            self._handle("sites", {}, lambda _b: _sites(self.server.state))
        else:
            self._send(404, _error_body(404, f"no such method: GET {path}"))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, _error_body(400, "Invalid JSON payload received."))
            return
        if not isinstance(body, dict):
            self._send(400, _error_body(400, "Invalid JSON payload received."))
            return
        state = self.server.state
        match = _QUERY_PATH.match(path)
        if match:
            site_url = unquote(match.group(1))
            self._handle("query", body, lambda b: _query(state, site_url, b), site_url)
        elif path == _INSPECT_PATH:
            self._handle("inspect", body, lambda b: _inspect(state, b))
        else:
            self._send(404, _error_body(404, f"no such method: POST {path}"))

    def _handle(
        self,
        method: str,
        body: dict[str, Any],
        answer: Callable[[dict[str, Any]], dict[str, Any]],
        site_url: str | None = None,
    ) -> None:
        state = self.server.state
        status, payload, headers = 200, None, {}
        try:
            fault = _take_fault(state, method)
            if fault is not None:
                message = fault.message or _fault_message(fault.status, method, site_url or body)
                raise _ApiError(fault.status, message, fault.retry_after)
            payload = answer(body)
        except _ApiError as exc:
            status, payload = exc.status, _error_body(exc.status, exc.message)
            if exc.retry_after is not None:
                headers["Retry-After"] = f"{exc.retry_after:g}"
        with state.lock:
            state.requests.append(RecordedRequest(method, self.path, body, status))
        self._send(status, payload, headers)

    def _send(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: tests make thousands of requests."""


# -- behaviour ----------------------------------------------------------------------------------


def _take_fault(state: _State, method: str) -> Fault | None:
    with state.lock:
        for fault in state.faults:
            if fault.times != 0 and fault.method in ("any", method):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.times > 0:
                    fault.times -= 1
                return fault
    return None


def _fault_message(status: int, method: str, target: object) -> str:
    if status == 403:
        if method == "inspect":
            return "You do not own this site, or the inspected URL is not part of this property."
        return (
            f"User does not have sufficient permission for site '{target}'. "
            "See also: https://support.google.com/webmasters/answer/2451999."
        )
    if status == 429:
        return (
            "Quota exceeded for quota metric 'Search Analytics queries' and limit 'Queries per "
            "minute per site' of service 'searchconsole.googleapis.com'."
        )
    if status == 503:
        return "The service is currently unavailable."
    return "Internal error encountered." if status >= 500 else f"HTTP {status}"


def _error_body(status: int, message: str) -> dict[str, Any]:
    reason = {429: "rateLimitExceeded", 403: "forbidden", 400: "badRequest"}.get(
        status, "backendError"
    )
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def _today(state: _State) -> date:
    return state.today or _pacific_today()


def _first_incomplete(state: _State) -> date:
    return state.first_incomplete_date or _today(state) - timedelta(days=state.final_lag_days)


def _check_property(state: _State, site_url: str) -> None:
    if site_url not in state.properties:
        raise _ApiError(403, _fault_message(403, "query", site_url))


def _sites(state: _State) -> dict[str, Any]:
    return {
        "siteEntry": [
            {"siteUrl": url, "permissionLevel": "siteFullUser"} for url in state.properties
        ]
    }


def _parse_date(body: dict[str, Any], name: str) -> date:
    value = body.get(name)
    if not value:
        raise _ApiError(400, f"Request contains an invalid argument: '{name}' is required.")
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _ApiError(
            400, f"Invalid value at '{name}' ({value!r}): expected YYYY-MM-DD"
        ) from None


def _query(state: _State, site_url: str, body: dict[str, Any]) -> dict[str, Any]:
    _check_property(state, site_url)
    start, end = _parse_date(body, "startDate"), _parse_date(body, "endDate")
    if end < start:
        raise _ApiError(400, "endDate must not be before startDate.")
    dims = [str(d).lower() for d in body.get("dimensions") or []]
    unknown = [d for d in dims if d not in _DIMENSIONS]
    if unknown:
        raise _ApiError(400, f"Invalid value at 'dimensions' ({unknown[0]!r}).")
    if "searchappearance" in dims:
        raise _ApiError(400, "searchAppearance is not simulated by the fake Search Console.")
    state_name = str(body.get("dataState") or "final").lower()
    if state_name not in ("final", "all"):
        raise _ApiError(
            400, f"dataState {state_name!r} is not supported by the fake Search Console."
        )
    aggregation = str(body.get("aggregationType") or "auto").replace("_", "").lower()
    if aggregation == "byproperty" and "page" in dims:
        raise _ApiError(400, "Cannot group by page when aggregating by property.")
    row_limit = int(body.get("rowLimit") or 1_000)
    if not 1 <= row_limit <= MAX_ROW_LIMIT:
        raise _ApiError(400, f"rowLimit must be between 1 and {MAX_ROW_LIMIT}, got {row_limit}.")
    start_row = int(body.get("startRow") or 0)
    search_type = str(body.get("type") or body.get("searchType") or "web").lower()

    cache_key = json.dumps([site_url, start, end, dims, state_name, search_type,
                            body.get("dimensionFilterGroups")], default=str)  # fmt: skip
    with state.lock:
        rows = state.cache.get(cache_key)
        first_incomplete = _first_incomplete(state)
        if state.ignore_start_row:
            start_row = 0
    if rows is None:
        cells = _cells(state, start, end, state_name) if search_type == "web" else []
        cells = _filtered(cells, body.get("dimensionFilterGroups") or [])
        rows = _grouped(cells, dims)
        with state.lock:
            state.cache[cache_key] = rows
            while len(state.cache) > 32:
                state.cache.popitem(last=False)
    answer: dict[str, Any] = {}
    page = rows[start_row : start_row + row_limit]
    if page:
        answer["rows"] = page
    answer["responseAggregationType"] = (
        "byPage" if "page" in dims or aggregation == "bypage" else "byProperty"
    )
    if state_name == "all" and "date" in dims and end >= first_incomplete:
        key = "first_incomplete_date" if state.metadata_style == "snake" else "firstIncompleteDate"
        answer["metadata"] = {key: first_incomplete.isoformat()}
    return answer


def _cells(state: _State, start: date, end: date, data_state: str) -> list[tuple[date, Cell]]:
    today = _today(state)
    first_incomplete = _first_incomplete(state)
    oldest = today - timedelta(days=state.history_days)
    out: list[tuple[date, Cell]] = []
    day = start
    while day <= end:
        if oldest <= day <= today:
            synthetic = state.synthetic_rows.get(day)
            if day < first_incomplete:
                cells = (
                    synthetic_cells(state.model.base_url, synthetic)
                    if synthetic
                    else state.model.cells(day)
                )
            elif data_state == "all":
                cells = (
                    synthetic_cells(state.model.base_url, synthetic)
                    if synthetic
                    else state.model.provisional_cells(day, today)
                )
            else:
                cells = []
            out.extend((day, cell) for cell in cells)
        day += timedelta(days=1)
    return out


def _dimension_value(day: date, cell: Cell, dim: str) -> str:
    if dim == "date":
        return day.isoformat()
    return getattr(cell, dim)


def _filtered(
    cells: list[tuple[date, Cell]], groups: list[dict[str, Any]]
) -> list[tuple[date, Cell]]:
    tests: list[Callable[[date, Cell], bool]] = []
    for group in groups:
        for flt in group.get("filters") or []:
            tests.append(_filter_test(flt))
    if not tests:
        return cells
    return [(day, cell) for day, cell in cells if all(t(day, cell) for t in tests)]


def _filter_test(flt: dict[str, Any]) -> Callable[[date, Cell], bool]:
    dim = str(flt.get("dimension", "")).lower()
    if dim not in _DIMENSIONS - {"searchappearance"}:
        raise _ApiError(400, f"Invalid filter dimension {flt.get('dimension')!r}.")
    operator = str(flt.get("operator") or "equals").replace("_", "").lower()
    expression = str(flt.get("expression", ""))
    needle = expression.lower()
    pattern = re.compile(expression, re.IGNORECASE) if "regex" in operator else None

    def test(day: date, cell: Cell) -> bool:
        value = _dimension_value(day, cell, dim).lower()
        if operator == "equals":
            return value == needle
        if operator == "notequals":
            return value != needle
        if operator == "contains":
            return needle in value
        if operator == "notcontains":
            return needle not in value
        if operator == "includingregex":
            return bool(pattern and pattern.search(value))
        if operator == "excludingregex":
            return not (pattern and pattern.search(value))
        raise _ApiError(400, f"Invalid filter operator {flt.get('operator')!r}.")

    return test


def _grouped(cells: list[tuple[date, Cell]], dims: list[str]) -> list[dict[str, Any]]:
    """Sum clicks and impressions per key; position is the impression-weighted average.

    Cells are unique per (day, page, query, device, country), so grouping by all of those is
    the identity: that common case (every default pull) skips the dictionary.
    """
    if set(dims) >= _FULL_GRAIN and (
        len(cells) < 2 or "date" in dims or cells[0][0] == cells[-1][0]
    ):
        ordered = sorted(
            ((tuple(_dimension_value(day, c, d) for d in dims), c) for day, c in cells),
            key=lambda kc: (-kc[1].clicks, -kc[1].impressions, kc[0]),
        )
        return [
            _row(key, c.clicks, c.impressions, c.position * c.impressions, dims)
            for key, c in ordered
        ]
    groups: dict[tuple[str, ...], list[float]] = {}
    for day, cell in cells:
        key = tuple(_dimension_value(day, cell, d) for d in dims)
        acc = groups.get(key)
        if acc is None:
            groups[key] = [cell.clicks, cell.impressions, cell.position * cell.impressions]
        else:
            acc[0] += cell.clicks
            acc[1] += cell.impressions
            acc[2] += cell.position * cell.impressions
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [_row(key, *sums, dims) for key, sums in ordered]


def _row(
    key: tuple[str, ...], clicks: float, impressions: float, position_sum: float, dims: list[str]
) -> dict[str, Any]:
    """One API row: counts as doubles (`109.0`), ctr a fraction, position 1-based."""
    row: dict[str, Any] = {"keys": list(key)} if dims else {}
    row["clicks"] = float(clicks)
    row["impressions"] = float(impressions)
    row["ctr"] = clicks / impressions if impressions else 0.0
    row["position"] = position_sum / impressions if impressions else 0.0
    return row


def _inspect(state: _State, body: dict[str, Any]) -> dict[str, Any]:
    url = str(body.get("inspectionUrl") or "")
    site_url = str(body.get("siteUrl") or "")
    if not url or not site_url:
        raise _ApiError(400, "inspectionUrl and siteUrl are required.")
    if site_url not in state.properties or not url.startswith(state.model.base_url + "/"):
        raise _ApiError(403, _fault_message(403, "inspect", site_url))
    result = dict(state.model.inspect(url, _today(state)))
    with state.lock:
        override = state.inspection_overrides.get(url)
    if override:
        status = result.get("indexStatusResult")
        result["indexStatusResult"] = {**(status if isinstance(status, dict) else {}), **override}
    return {"inspectionResult": result}


# -- make demo ----------------------------------------------------------------------------------


def pull_demo_search_console(
    site_url: str,
    days: int = 28,
    *,
    site: SiteConfig | None = None,
    base: Path | None = None,
    inspect: int = 60,
) -> list[str]:
    """Start the fake API for the demo shop at `site_url`, pull the last `days` days through the
    real client (final days plus the fresh, provisional ones), inspect `inspect` URLs, and
    return summary lines. Used by `make demo`; lands under `$LINKWAREHOUSE_DATA` (or `base`).
    """
    from ingest.gsc.budget import InspectionBudget, default_budget_path
    from ingest.gsc.client import SearchConsoleClient
    from ingest.gsc.inspection import inspect_urls, summarize
    from ingest.gsc.search_analytics import pull_days
    from ingest.gsc.settings import ENDPOINT_ENV, GscSettings

    with FakeSearchConsole(site_url) as fake:
        site = site or SiteConfig(id="demo", start_urls=(fake.property_url,))
        # The fake serves exactly one property: the shop's URL, whatever the config says.
        configured = getattr(site, "gsc", None) or GscSettings(property_url=fake.property_url)
        gsc = configured.model_copy(update={"property_url": fake.property_url})
        client = SearchConsoleClient.from_settings(gsc, {ENDPOINT_ENV: fake.endpoint})
        end = fake.today - timedelta(days=1)
        results = pull_days(
            site, end - timedelta(days=days - 1), end, gsc=gsc, base=base, client=client,
            today=fake.today,
        )  # fmt: skip
        lines = [result.line() for result in results]
        rows = sum(r.rows for r in results)
        provisional = sum(r.provisional_rows for r in results)
        lines.append(
            f"search console: {rows} rows over {len(results)} days ({provisional} provisional)"
            f" for {fake.property_url}"
        )
        if inspect:
            sample = demo_inspection_sample(fake.model, inspect)
            budget = InspectionBudget(default_budget_path(base), gsc.inspection_daily_budget)
            run = inspect_urls(site, sample, gsc=gsc, base=base, client=client, budget=budget)
            lines.extend(summarize(run))
    return lines


def demo_inspection_sample(model: SearchModel, n: int) -> list[str]:
    """A few URLs of every kind (so every coverage state shows up), then the rest, up to `n`."""
    by_kind: dict[str, list[str]] = {}
    for path, page in sorted(model.pages.items()):
        by_kind.setdefault(page.kind, []).append(path)
    duplicates = sorted(p for p in model.pages if model.duplicate_of(p))
    picked = duplicates[:3] + [p for paths in by_kind.values() for p in paths[:3]]
    rest = [p for p in sorted(model.pages) if p not in picked]
    return [model.site.url(p) for p in (picked + rest)[:n]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the fake Search Console API.")
    parser.add_argument("--site-url", default="http://127.0.0.1:8765/", help="demo shop URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    try:
        fake = FakeSearchConsole(args.site_url, host=args.host, port=args.port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"fake Search Console for {fake.property_url} on {fake.endpoint}")
    print(f"export GSC_API_ENDPOINT={fake.endpoint}")
    fake.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
