"""The crawler against real local servers misbehaving on purpose.

Every test reads what landed (pages/links/errors Parquet, crawl_run.json) and what the server
saw (requests per path), never how long things took, except where the contract is a minimum
wait (Retry-After).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ingest.config import CrawlSettings, PatternLimit, SiteConfig
from ingest.crawl.crawler import CrawlSummary, crawl_site
from tests.servers import Reply, Request, TestServer, html, links_page

ROBOTS_404 = {"/robots.txt": Reply(404, b"", content_type="text/plain")}


def site_for(server: TestServer, start: str = "/", **crawl: Any) -> SiteConfig:
    allowed = crawl.pop("allowed_hosts", ())
    settings = {"allow_private": True, "timeout_s": 5, "backoff_base_s": 0.0, **crawl}
    return SiteConfig(
        id="t",
        start_urls=(server.url(start),),
        allowed_hosts=allowed,
        crawl=CrawlSettings(**settings),
    )


def run(
    site: SiteConfig, run_dir: Path, **kwargs: Any
) -> tuple[CrawlSummary, dict[str, dict], list[dict]]:
    summary = crawl_site(site, run_dir, **kwargs)
    pages = pq.read_table(run_dir / "pages.parquet").to_pylist()
    by_url = {p["url"]: p for p in pages}
    assert len(by_url) == len(pages), "one row per URL"
    errors = pq.read_table(run_dir / "errors.parquet").to_pylist()
    return summary, by_url, errors


def kinds(errors: list[dict]) -> Counter[str]:
    return Counter(e["kind"] for e in errors)


# -- retries and throttling ---------------------------------------------------------------------


def test_a_429_with_retry_after_is_waited_out_and_the_page_lands(tmp_path: Path) -> None:
    answers = iter([Reply(429, b"slow down", headers={"Retry-After": "1"})])

    def page(request: Request) -> Reply:
        return next(answers, links_page(title="finally"))

    routes = {**ROBOTS_404, "/": links_page("/limited"), "/limited": page}
    with TestServer(routes) as server:
        summary, pages, errors = run(site_for(server, retries=2, backoff_max_s=5), tmp_path)
        first, second = server.times("/limited")
    assert second - first >= 1.0 - 0.01  # the retry waited at least Retry-After
    landed = pages[server.url("/limited")]
    assert landed["status"] == 200
    assert landed["crawl_state"] == "ok"
    assert landed["title"] == "finally"
    assert summary.counts["retries"] == 1
    assert summary.complete and errors == []


def test_a_503_storm_slows_the_crawl_down_then_stops_it_with_a_clear_message(
    tmp_path: Path,
) -> None:
    targets = [f"/p{i}" for i in range(80)]
    routes = {**ROBOTS_404, "/": links_page(*targets)}
    with TestServer(routes, fallback=lambda r: Reply(503, b"overloaded")) as server:
        site = site_for(
            server,
            retries=0,
            concurrency=8,
            per_host_concurrency=8,
            error_window=10,
            error_rate_threshold=0.5,
            throttle_max_slowdowns=2,
        )
        summary, pages, errors = run(site, tmp_path)
        fetched = sum(server.count(t) for t in targets)
    assert summary.stop_reason == "error_rate"
    assert summary.complete is False
    assert summary.message and "errors" in summary.message and "slowdowns" in summary.message
    run_json = json.loads((tmp_path / "crawl_run.json").read_text())
    assert run_json["throttle"]["slowdowns"] == 2
    assert run_json["throttle"]["concurrency"] == 2  # 8 -> 4 -> 2
    assert 0 < fetched < len(targets)  # it stopped before hammering everything
    assert all(p["crawl_state"] == "error" for u, p in pages.items() if u != server.url("/"))
    # Nothing silently dropped: every target either has a page row or a not_crawled error.
    not_crawled = {e["url"] for e in errors if e["kind"] == "not_crawled"}
    assert {server.url(t) for t in targets} == set(pages) - {server.url("/")} | not_crawled


# -- redirects, caps, guard, encodings ----------------------------------------------------------


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_redirect_hops_get_their_own_rows_and_are_fetched_once(
    tmp_path: Path, transport: str
) -> None:
    routes = {
        **ROBOTS_404,
        "/": links_page("/old", "/new", "/mid"),
        "/old": Reply(301, headers={"Location": "/mid"}),
        "/mid": Reply(302, headers={"Location": "/new"}),
        "/new": links_page(title="new"),
    }
    with TestServer(routes) as server:
        summary, pages, _ = run(site_for(server, transport=transport), tmp_path)
        counts = server.counts()
    assert summary.transport == transport
    assert counts["/old"] == counts["/mid"] == counts["/new"] == 1
    old = pages[server.url("/old")]
    assert old["status"] == 301 and old["crawl_state"] == "redirect"
    assert old["final_url"] == server.url("/new") and old["final_status"] == 200
    assert [h["url"] for h in old["redirect_chain"]][0] == server.url("/old")
    assert old["redirect_chain"][-1] == {"url": server.url("/new"), "status": 200}
    mid = pages[server.url("/mid")]
    assert mid["status"] == 302 and mid["final_status"] == 200
    assert pages[server.url("/new")]["title"] == "new"
    assert pages[server.url("/new")]["depth"] == 1


def test_a_redirect_loop_is_recorded_as_an_error(tmp_path: Path) -> None:
    routes = {
        **ROBOTS_404,
        "/": links_page("/loop-a"),
        "/loop-a": Reply(301, headers={"Location": "/loop-b"}),
        "/loop-b": Reply(302, headers={"Location": "/loop-a"}),
    }
    with TestServer(routes) as server:
        summary, pages, errors = run(site_for(server), tmp_path)
        assert server.count("/loop-a") == 1 and server.count("/loop-b") == 1
    loop = [e for e in errors if e["kind"] == "redirect_loop"]
    assert len(loop) == 1 and loop[0]["stage"] == "fetch"
    assert "loop-b" in loop[0]["message"]
    assert pages[server.url("/loop-a")]["crawl_state"] == "error"
    assert pages[server.url("/loop-b")]["crawl_state"] == "error"
    assert summary.counts["errors_by_kind"] == {"redirect_loop": 1}


def test_a_20_mb_response_is_cut_at_max_response_bytes(tmp_path: Path) -> None:
    limit = 1024 * 1024
    total = 20 * 1024 * 1024
    chunk = b"<p>" + b"x" * 65_530 + b"</p>"

    def big(request: Request) -> Reply:
        head = b"<html><head><title>big</title></head><body><a href='/after'>a</a>"
        body = [head] + [chunk] * (total // len(chunk) + 1)
        return Reply(body=(c for c in body), content_length=sum(map(len, body)))

    routes = {**ROBOTS_404, "/": links_page("/big"), "/big": big, "/after": links_page()}
    with TestServer(routes) as server:
        summary, pages, errors = run(site_for(server, max_response_bytes=limit), tmp_path)
    row = pages[server.url("/big")]
    assert row["truncated"] is True
    assert row["bytes"] == limit
    assert row["title"] == "big"  # the bytes we kept are still parsed
    assert server.url("/after") in pages
    assert [e["kind"] for e in errors] == ["truncated"]


def test_a_link_to_the_metadata_address_is_refused_without_a_request(tmp_path: Path) -> None:
    metadata = "http://169.254.169.254/latest/meta-data/"
    routes = {
        **ROBOTS_404,
        "/": Reply(body=html(f"<a href='{metadata}'>m</a><a href='/ok'>ok</a>")),
    }
    routes["/ok"] = links_page()
    with TestServer(routes) as server:
        # In scope and allow_private on: only the metadata rule stands in the way.
        site = site_for(server, allowed_hosts=(server.netloc, "169.254.169.254"))
        summary, pages, errors = run(site, tmp_path)
    row = pages[metadata]
    assert row["crawl_state"] == "error"
    assert row["status"] is None and row["response_ms"] is None
    refused = [e for e in errors if e["stage"] == "address_guard"]
    assert [(e["url"], e["kind"]) for e in refused] == [(metadata, "address_refused")]
    assert "metadata" in refused[0]["message"]
    assert "http://169.254.169.254" not in summary.data["robots"]  # not even robots.txt
    assert pages[server.url("/ok")]["crawl_state"] == "ok"


def test_non_utf8_pages_land_with_correctly_decoded_titles(tmp_path: Path) -> None:
    cp1252 = "Café crème – “Ångström” €5"
    sjis = "東京の天気予報"
    routes = {
        **ROBOTS_404,
        "/": links_page("/cp1252", "/sjis"),
        "/cp1252": Reply(
            body=f"<html><head><title>{cp1252}</title></head><body>x</body></html>".encode(
                "cp1252"
            ),
            content_type="text/html; charset=windows-1252",
        ),
        "/sjis": Reply(
            body=(
                "<html><head><meta charset='Shift_JIS'>"
                f"<title>{sjis}</title></head><body>天気</body></html>"
            ).encode("shift_jis"),
            content_type="text/html",
        ),
    }
    with TestServer(routes) as server:
        _, pages, _ = run(site_for(server), tmp_path)
    assert pages[server.url("/cp1252")]["title"] == cp1252
    assert pages[server.url("/sjis")]["title"] == sjis
    assert pages[server.url("/sjis")]["encoding"].lower().replace("_", "-") in (
        "shift-jis",
        "cp932",
    )


def test_robots_blocked_urls_get_a_row_but_no_request(tmp_path: Path) -> None:
    routes = {
        "/robots.txt": Reply(body=b"User-agent: *\nDisallow: /secret\n", content_type="text/plain"),
        "/": links_page("/secret/a", "/open"),
        "/open": links_page(),
    }
    with TestServer(routes) as server:
        summary, pages, _ = run(site_for(server), tmp_path)
        assert server.count("/secret/a") == 0
    blocked = pages[server.url("/secret/a")]
    assert blocked["crawl_state"] == "blocked_by_robots" and blocked["status"] is None
    assert summary.counts["pages_by_state"] == {"blocked_by_robots": 1, "ok": 2}


def test_crawl_delay_from_robots_spaces_the_requests(tmp_path: Path) -> None:
    robots = b"User-agent: *\nCrawl-delay: 0.3\n"
    routes = {
        "/robots.txt": Reply(body=robots, content_type="text/plain"),
        "/": links_page("/a", "/b", "/c"),
    }
    with TestServer(routes, fallback=lambda r: links_page()) as server:
        summary, pages, _ = run(site_for(server, concurrency=8), tmp_path)
        arrivals = sorted(r.at for r in server.requests if r.path != "/robots.txt")
    assert len(pages) == 4
    # Request starts are spaced by the delay whatever the concurrency; arrivals can shift by a
    # connection set-up, so the assertion is on the whole span (a minimum, never a maximum).
    assert arrivals[-1] - arrivals[0] >= 3 * 0.3 - 0.05
    assert summary.data["robots"][server.base_url]["crawl_delay"] == 0.3


def test_non_html_responses_are_not_read_to_the_end(tmp_path: Path) -> None:
    pdf = b"%PDF-1.7\n" + b"x" * 3_000_000
    routes = {
        **ROBOTS_404,
        "/": links_page("/doc.pdf"),
        "/doc.pdf": Reply(body=pdf, content_type="application/pdf"),
    }
    with TestServer(routes) as server:
        summary, pages, errors = run(site_for(server), tmp_path)
    row = pages[server.url("/doc.pdf")]
    assert row["crawl_state"] == "not_html" and row["is_html"] is False
    assert row["bytes"] == len(pdf)  # the announced size, though the body was not downloaded
    assert row["truncated"] is False and errors == []


def test_nofollow_links_are_not_followed_when_configured(tmp_path: Path) -> None:
    body = html("<a href='/followed'>f</a><a rel='nofollow' href='/skipped'>s</a>")
    routes = {**ROBOTS_404, "/": Reply(body=body)}
    with TestServer(routes, fallback=lambda r: links_page()) as server:
        summary, pages, errors = run(site_for(server, follow_nofollow=False), tmp_path)
        assert server.count("/skipped") == 0
    assert set(pages) == {server.url("/"), server.url("/followed")}
    assert [(e["url"], e["kind"]) for e in errors] == [(server.url("/skipped"), "nofollow")]
    assert summary.complete


def test_a_second_crawl_into_a_busy_run_dir_is_refused(tmp_path: Path) -> None:
    from ingest.crawl.crawler import RunDirBusy

    routes = {**ROBOTS_404, "/": links_page("/slow"), "/slow": Reply(body=html(""), delay_s=1.0)}
    with TestServer(routes) as server:
        first = threading.Thread(target=crawl_site, args=(site_for(server), tmp_path))
        first.start()
        try:
            deadline = time.monotonic() + 30
            while server.count("/slow") == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            with pytest.raises(RunDirBusy):
                crawl_site(site_for(server), tmp_path)
        finally:
            first.join()
    assert json.loads((tmp_path / "crawl_run.json").read_text())["complete"] is True


# -- limits and traps -------------------------------------------------------------------------------


def test_max_pages_caps_the_rows_and_reports_the_rest(tmp_path: Path) -> None:
    targets = [f"/p{i}" for i in range(30)]
    routes = {**ROBOTS_404, "/": links_page(*targets)}
    with TestServer(routes, fallback=lambda r: links_page()) as server:
        summary, pages, errors = run(site_for(server, max_pages=10), tmp_path)
        fetched = sum(server.count(t) for t in targets)
    assert len(pages) == 10 and fetched == 9
    assert summary.stop_reason == "max_pages" and summary.complete is False
    assert kinds(errors) == {"max_pages": 21}
    assert summary.counts["skipped_by_reason"] == {"max_pages": 21}


def test_max_depth_stops_at_the_limit(tmp_path: Path) -> None:
    routes = {**ROBOTS_404}
    for depth in range(6):
        routes["/" if depth == 0 else f"/d{depth}"] = links_page(f"/d{depth + 1}")
    with TestServer(routes) as server:
        summary, pages, errors = run(site_for(server, max_depth=2), tmp_path)
        assert server.count("/d3") == 0
    assert sorted(p["depth"] for p in pages.values()) == [0, 1, 2]
    assert [(e["url"], e["kind"]) for e in errors] == [(server.url("/d3"), "max_depth")]
    assert summary.stop_reason == "frontier_empty" and summary.complete is False


def test_a_long_chain_of_single_links_is_followed_to_its_end(tmp_path: Path) -> None:
    """One URL per level (pagination): each level is claimed on its own, none is dropped."""
    routes = {**ROBOTS_404}
    for n in range(30):
        routes["/" if n == 0 else f"/page/{n}/"] = links_page(f"/page/{n + 1}/", "/")
    routes["/page/30/"] = links_page("/")
    with TestServer(routes) as server:
        summary, pages, errors = run(site_for(server, concurrency=4), tmp_path)
    assert len(pages) == 31 and errors == []
    assert pages[server.url("/page/30/")]["depth"] == 30
    assert summary.stop_reason == "frontier_empty" and summary.complete


def test_excluded_paths_are_reported_not_fetched(tmp_path: Path) -> None:
    routes = {**ROBOTS_404, "/": links_page("/private/a", "/public", "/x?sessionid=1")}
    with TestServer(routes, fallback=lambda r: links_page()) as server:
        site = site_for(server, exclude=(r"^/private/", r"sessionid="))
        summary, pages, errors = run(site, tmp_path)
        assert server.count("/private/a") == 0
    assert set(pages) == {server.url("/"), server.url("/public")}
    assert kinds(errors) == {"excluded": 2}
    assert summary.complete  # an exclusion is a choice, not a limit


def test_a_calendar_trap_is_guarded_by_pattern_limits(tmp_path: Path) -> None:
    def calendar(request: Request) -> Reply:
        month = int(request.path.split("month=")[1])
        return links_page(f"/calendar?month={month + 1}", "/about")

    routes = {**ROBOTS_404, "/": links_page("/calendar?month=1"), "/about": links_page()}
    with TestServer(routes, fallback=calendar) as server:
        limit = PatternLimit(pattern=r"^/calendar", max_urls=5)
        summary, pages, errors = run(site_for(server, pattern_limits=(limit,)), tmp_path)
    calendar_rows = [u for u in pages if "calendar" in u]
    assert len(calendar_rows) == 5
    assert [(e["url"], e["kind"]) for e in errors] == [
        (server.url("/calendar?month=6"), "pattern_limit")
    ]
    assert summary.stop_reason == "frontier_empty" and summary.complete is False


# -- resume ------------------------------------------------------------------------------------------

KILL_SITE_PAGES = 300


def _tree_site(request: Request) -> Reply:
    """Page n links to 4n+1..4n+4: a 300-page tree, a little slow so a kill lands mid-crawl."""
    path = request.path
    n = 0 if path == "/" else int(path.strip("/p"))
    children = [f"/p{c}" for c in range(4 * n + 1, 4 * n + 5) if c < KILL_SITE_PAGES]
    return Reply(body=html("".join(f"<a href='{c}'>{c}</a>" for c in children)), delay_s=0.02)


_CHILD = """
import sys
from pathlib import Path
from ingest.config import CrawlSettings, SiteConfig
from ingest.crawl.crawler import crawl_site
base, run_dir = sys.argv[1], Path(sys.argv[2])
site = SiteConfig(id="t", start_urls=(base + "/",),
                  crawl=CrawlSettings(allow_private=True, concurrency=4, per_host_concurrency=4))
crawl_site(site, run_dir)
"""


def _frontier_state(path: Path) -> tuple[int, int, set[str]]:
    if not path.exists():
        return 0, 0, set()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        done = db.execute("SELECT COUNT(*) FROM urls WHERE state = 2").fetchone()[0]
        parts = db.execute("SELECT COUNT(*) FROM parts").fetchone()[0]
        in_flight = {r[0] for r in db.execute("SELECT url FROM urls WHERE state = 1")}
        return done, parts, in_flight
    except sqlite3.OperationalError:  # tables not created yet
        return 0, 0, set()
    finally:
        db.close()


def test_a_crawl_killed_with_sigkill_resumes_without_refetching(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    state = run_dir / ".state" / "frontier.sqlite"
    routes = {**ROBOTS_404, "/": _tree_site}
    with TestServer(routes, fallback=_tree_site) as server:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, server.base_url, str(run_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and child.poll() is None:
                done, parts, _ = _frontier_state(state)
                if done >= 60 and parts >= 1:
                    break
                time.sleep(0.02)
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        done_at_kill, _, in_flight_at_kill = _frontier_state(state)
        assert 0 < done_at_kill < KILL_SITE_PAGES
        assert not (run_dir / "crawl_run.json").exists()

        site = SiteConfig(
            id="t",
            start_urls=(server.url("/"),),
            crawl=CrawlSettings(allow_private=True, concurrency=4, per_host_concurrency=4),
        )
        summary, pages, errors = run(site, run_dir)
        counts = server.counts()

    expected = {server.url("/")} | {server.url(f"/p{i}") for i in range(1, KILL_SITE_PAGES)}
    assert set(pages) == expected
    assert summary.complete and summary.stop_reason == "frontier_empty"
    assert summary.data["sessions"] == 2
    fetched_twice = {server.url(p) for p, n in counts.items() if n > 1 and p != "/robots.txt"}
    assert fetched_twice <= in_flight_at_kill
    assert max(n for p, n in counts.items() if p != "/robots.txt") <= 2
    assert errors == []
    assert not (run_dir / ".state").exists()


def test_a_finished_run_returns_its_summary_without_fetching_again(tmp_path: Path) -> None:
    routes = {**ROBOTS_404, "/": links_page("/a"), "/a": links_page()}
    with TestServer(routes) as server:
        first = crawl_site(site_for(server), tmp_path)
        before = len(server.requests)
        again = crawl_site(site_for(server), tmp_path)
        assert len(server.requests) == before
    assert again.counts == first.counts and again.finished_at == first.finished_at


def test_a_stopped_crawl_resumes_on_the_next_call(tmp_path: Path) -> None:
    targets = [f"/p{i}" for i in range(40)]

    def slow(request: Request) -> Reply:
        return Reply(body=html(""), delay_s=0.05)

    routes = {**ROBOTS_404, "/": links_page(*targets)}
    stop = threading.Event()
    seen: list[int] = []

    def progress(snapshot: Any) -> None:
        seen.append(snapshot.pages)
        if snapshot.pages >= 5:
            stop.set()

    with TestServer(routes, fallback=slow) as server:
        site = site_for(server, concurrency=2, per_host_concurrency=2, progress_interval_s=0.1)
        stopped = crawl_site(site, tmp_path, progress=progress, stop_event=stop)
        assert stopped.stop_reason == "stopped" and not stopped.complete
        partial = pq.read_table(tmp_path / "pages.parquet").num_rows
        assert 0 < partial < 41
        summary, pages, errors = run(site_for(server, concurrency=8), tmp_path)
        counts = server.counts()
    assert summary.stop_reason == "frontier_empty" and summary.complete
    assert len(pages) == 41 and errors == []
    # Jobs in flight at the stop were allowed to finish: nothing was fetched twice
    # (robots.txt is read once per session).
    assert max(n for path, n in counts.items() if path != "/robots.txt") == 1
    assert seen  # the callback got progress snapshots


# -- the parse worker ----------------------------------------------------------------------------


def test_pages_parsed_in_the_worker_match_in_process_and_survive_its_death() -> None:
    """The worker process gives the same result as in-process parsing; if it dies, pending and
    later pages are parsed in process, none is lost."""
    import asyncio

    from ingest.crawl.parse_pool import ParseConfig, ParsePool

    site = SiteConfig(id="t", start_urls=("http://example.com/",))
    config = ParseConfig(site.scope(), site.url_policy, {}, 1000)
    bodies = [
        html(f"<h1>page {i}</h1><a href='/p{i + 1}'>next</a><a href='http://other/x'>x</a>")
        for i in range(6)
    ]
    headers = {"content-type": "text/html; charset=utf-8"}

    async def go() -> tuple[list[Any], list[Any], bool]:
        pool = ParsePool(config, workers=1, start_after=1)
        local = ParsePool(config, workers=0)
        try:
            first = await pool.parse(bodies[0], "http://example.com/p0", 200, headers)
            while not pool.in_worker:  # the worker says "ready" after its imports
                await asyncio.sleep(0.05)
            remote = [first] + [
                await pool.parse(b, f"http://example.com/p{i}", 200, headers)
                for i, b in enumerate(bodies[1:3], start=1)
            ]
            used_worker = pool.in_worker
            assert pool._proc is not None
            pool._proc.kill()
            await pool._proc.wait()
            remote += [
                await pool.parse(b, f"http://example.com/p{i}", 200, headers)
                for i, b in enumerate(bodies[3:], start=3)
            ]
            expected = [
                await local.parse(b, f"http://example.com/p{i}", 200, headers)
                for i, b in enumerate(bodies)
            ]
            return remote, expected, used_worker
        finally:
            await pool.aclose()
            await local.aclose()

    remote, expected, used_worker = asyncio.run(go())
    assert used_worker
    assert remote == expected
    assert remote[2].fields["h1"] == "page 2"
    assert remote[2].targets == ["http://example.com/p3", "http://other/x"]


def test_the_error_window_judges_full_windows_and_starts_over_after_a_verdict() -> None:
    from ingest.crawl.fetch import ErrorWindow

    window = ErrorWindow(size=4, threshold=0.5)
    assert [window.record(e) for e in (True, True, False)] == [None, None, None]  # not full
    assert window.record(False) == 0.5  # full, at the threshold
    assert [window.record(e) for e in (True, False, False, False)] == [None] * 4  # 25%
    assert window.record(True) is None  # sliding: F F F T = 25%
    assert window.record(True) == 0.5  # F F T T
