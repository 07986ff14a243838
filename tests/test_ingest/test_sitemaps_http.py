"""Whole sitemap runs against a real HTTP server on 127.0.0.1: discovery, wrong content types,
index recursion with its loops and limits, redirects, retries, broken downloads, audit facts,
the landing files and the command line."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.config import CrawlSettings, SiteConfig
from ingest.sitemaps.collect import FileResult, SitemapOptions, Target, collect_sitemaps
from ingest.sitemaps.schema import ROBOTS_SCHEMA, SITEMAP_URLS_SCHEMA, SITEMAPS_SCHEMA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sitemaps"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    truncate_at: int | None = None  # announce the full length, send this many bytes, hang up


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        route = self.server.routes.get(self.path)
        if callable(route):
            route = route(self.server.hits[self.path])
        if route is None:
            route = Route(404, b"not found", "text/html")
        self.send_response(route.status)
        if route.content_type:
            self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.truncate_at is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        body = route.body if route.truncate_at is None else route.body[: route.truncate_at]
        self.wfile.write(body)
        if route.truncate_at is not None:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route | Callable[[int], Route]]
    hits: dict[str, int]


class FixtureServer:
    """Serves `routes` (path -> Route); `url(path)` is absolute; `hits` counts requests."""

    def __init__(self) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.routes = {}
        self._httpd.hits = {}
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def routes(self) -> dict[str, Route | Callable[[int], Route]]:
        return self._httpd.routes

    @property
    def hits(self) -> dict[str, int]:
        return self._httpd.hits

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    srv = FixtureServer()
    yield srv
    srv.stop()


def site_for(server: FixtureServer, **fields: object) -> SiteConfig:
    crawl = CrawlSettings(allow_private=True, retries=1, backoff_base_s=0.0, backoff_max_s=0.0,
                          timeout_s=10)  # fmt: skip
    return SiteConfig(id="t", start_urls=(server.url("/"),), crawl=crawl, **fields)  # type: ignore[arg-type]


def urlset(*paths: str, base: str = "") -> bytes:
    rows = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{rows}</urlset>'.encode()


def index(*urls: str) -> bytes:
    rows = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{rows}</sitemapindex>'.encode()
    )


def run(server: FixtureServer, out: Path, inputs: list[str] | None = None, site=None, **options):  # noqa: ANN001
    summary = collect_sitemaps(
        site or site_for(server), out, inputs=inputs, options=SitemapOptions(**options)
    )
    files = {r["sitemap_url"]: r for r in pq.read_table(out / "sitemaps.parquet").to_pylist()}
    urls = pq.read_table(out / "sitemap_urls.parquet").to_pylist()
    return summary, files, urls


def codes(row: dict) -> list[str]:
    return [w.split(":", 1)[0] for w in row["warnings"]]


# -- content decides, not names or headers --------------------------------------------------

WRONG_TYPES = {
    "advertools__regular_sitemap.xml": ("text/html; charset=utf-8", "urlset", 5, False),
    "advertools__regular_sitemap.xml.gz": ("application/gzip", "urlset", 5, False),
    "advertools__zipped_sitemap.xml.gz": ("text/xml", "urlset", 5, True),
    "crawler-commons__xmlSitemap.gz": ("application/octet-stream", "urlset", 5, True),
    "crawler-commons__sitemap.txt.gz": ("text/plain", "text", 5, True),
    "crawler-commons__sitemap-with-bom.txt": (None, "text", 2, False),
    "trafilatura__sitemap.xml.gz": ("application/x-gzip", "urlset", 84, True),
    "advertools__news_sitemap.xml": ("application/rss+xml", "urlset", 6, False),
    "crawler-commons__atom.xml": ("text/plain", "atom", 1, False),
    "crawler-commons__sitemap.badns.xml": ("application/json", "urlset", 2, False),
}


def test_every_fixture_is_read_by_its_content_whatever_it_is_served_as(
    server: FixtureServer, tmp_path: Path
) -> None:
    for name, (content_type, *_rest) in WRONG_TYPES.items():
        server.routes[f"/{name}"] = Route(body=(FIXTURES / name).read_bytes(),
                                          content_type=content_type)  # fmt: skip
    inputs = [server.url(f"/{name}") for name in WRONG_TYPES]
    summary, files, urls = run(server, tmp_path / "out", inputs, check_robots=False)
    assert summary.n_errors == 0
    for name, (content_type, kind, n, is_gzip) in WRONG_TYPES.items():
        row = files[server.url(f"/{name}")]
        assert (row["kind"], row["n_urls"], row["is_gzip"]) == (kind, n, is_gzip), name
        assert row["status"] == 200 and row["content_type"] == content_type
        odd = content_type is None or content_type.split(";")[0] in ("text/html", "application/json",
                                                                     "application/octet-stream")  # fmt: skip
        assert ("unexpected_content_type" in codes(row)) == odd, name
    assert len(urls) == sum(n for *_x, n, _g in WRONG_TYPES.values())
    badns = files[server.url("/crawler-commons__sitemap.badns.xml")]
    assert "legacy_namespace" in codes(badns)


def test_garbage_served_as_octet_stream_is_refused(server: FixtureServer, tmp_path: Path) -> None:
    server.routes["/sitemap.xml"] = Route(body=bytes(range(256)) * 4,
                                          content_type="application/octet-stream")  # fmt: skip
    summary, files, urls = run(server, tmp_path / "out", [server.url("/sitemap.xml")])
    row = files[server.url("/sitemap.xml")]
    assert row["error_kind"] == "not_a_sitemap" and "binary data" in row["error"]
    assert row["kind"] is None and not urls and summary.n_errors == 1


# -- discovery ------------------------------------------------------------------------------


def test_robots_txt_sitemap_lines_absolute_relative_and_protocol_relative(
    server: FixtureServer, tmp_path: Path
) -> None:
    host = server.base.removeprefix("http:")
    server.routes["/robots.txt"] = Route(
        body=(f"User-agent: *\nDisallow: /private/\n\nSitemap: {server.url('/a.xml')}\n"
              f"Sitemap: /b.xml\nsitemap: {host}/c.xml\nSitemap: {server.url('/a.xml')}\n").encode(),
        content_type="text/plain",
    )  # fmt: skip
    server.routes["/a.xml"] = Route(body=urlset("/1", "/private/2", base=server.base))
    server.routes["/b.xml"] = Route(body=urlset("/3", base=server.base))
    server.routes["/c.xml"] = Route(body=urlset("/4", base=server.base))
    summary, files, urls = run(server, tmp_path / "out")
    assert list(files) == [server.url(p) for p in ("/a.xml", "/b.xml", "/c.xml")]
    assert all(r["source"] == "robots" for r in files.values())
    assert all(r["parent"] == server.url("/robots.txt") for r in files.values())
    assert server.hits.get("/sitemap.xml") is None  # robots named sitemaps: no probing
    blocked = {u["url"]: (u["is_robots_blocked"], u["is_googlebot_blocked"]) for u in urls}
    assert blocked[server.url("/private/2")] == (True, True)
    assert blocked[server.url("/1")] == (False, False)
    assert files[server.url("/a.xml")]["n_robots_blocked"] == 1
    robots = pq.read_table(tmp_path / "out" / "robots.parquet").to_pylist()
    assert len(robots) == 1 and robots[0]["sitemaps"] == list(files)
    assert robots[0]["sitemaps_raw"][1:3] == ["/b.xml", f"{host}/c.xml"]
    assert [w.split(":")[0] for w in robots[0]["warnings"]] == ["relative_sitemap"]
    assert summary.roots == list(files)


def test_without_any_named_sitemap_the_usual_locations_are_probed(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.routes["/sitemap.xml"] = Route(body=urlset("/x", base=server.base))
    summary, files, urls = run(server, tmp_path / "out")
    assert list(files) == [server.url("/sitemap.xml"), server.url("/sitemap_index.xml")]
    assert files[server.url("/sitemap.xml")]["source"] == "default" and len(urls) == 1
    missing = files[server.url("/sitemap_index.xml")]
    assert (missing["status"], missing["error_kind"]) == (404, "http_status")
    robots = pq.read_table(tmp_path / "out" / "robots.parquet").to_pylist()
    assert robots[0]["outcome"] == "unavailable" and robots[0]["status"] == 404


def test_config_sitemaps_come_first_and_robots_ones_follow(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.routes["/robots.txt"] = Route(body=b"Sitemap: /from-robots.xml\n",
                                         content_type="text/plain")  # fmt: skip
    server.routes["/from-config.xml"] = Route(body=urlset("/1", base=server.base))
    server.routes["/from-robots.xml"] = Route(body=urlset("/2", base=server.base))
    site = site_for(server, sitemaps=(server.url("/from-config.xml"),))
    _, files, _ = run(server, tmp_path / "out", site=site)
    assert [(u, r["source"]) for u, r in files.items()] == [
        (server.url("/from-config.xml"), "config"),
        (server.url("/from-robots.xml"), "robots"),
    ]


# -- indexes --------------------------------------------------------------------------------


def test_index_recursion_loops_limits_and_failures_are_all_recorded(
    server: FixtureServer, tmp_path: Path
) -> None:
    u = server.url
    server.routes["/index.xml"] = Route(body=index(
        u("/index.xml"),            # itself
        u("/robots.txt"),           # index -> robots.txt -> index would loop
        u("/products.xml.gz"),      # real gzip served as octet-stream
        u("/nested.xml"),           # an index inside the index
        u("/missing.xml"),          # 404
        u("/flaky.xml"),            # 503 once, then fine (retried)
        u("/products.xml.gz"),      # listed twice
    ))  # fmt: skip
    server.routes["/products.xml.gz"] = Route(
        body=gzip.compress(urlset("/p/1", "/p/2", "/p/2", base=server.base)),
        content_type="application/octet-stream",
    )
    server.routes["/nested.xml"] = Route(body=index(u("/deep.xml"), u("/index.xml")))
    server.routes["/deep.xml"] = Route(body=index(u("/deeper.xml")))
    server.routes["/deeper.xml"] = Route(body=urlset("/too/deep", base=server.base))
    server.routes["/flaky.xml"] = lambda hit: (
        Route(503, b"busy", "text/plain")
        if hit == 1
        else Route(body=urlset("/f", base=server.base))
    )
    summary, files, urls = run(server, tmp_path / "out", [u("/index.xml")], max_depth=2)
    assert list(files) == [u(p) for p in ("/index.xml", "/products.xml.gz", "/nested.xml",
                                          "/missing.xml", "/flaky.xml", "/deep.xml")]  # fmt: skip
    root = files[u("/index.xml")]
    assert root["kind"] == "index" and root["n_urls"] == 7 and root["n_children"] == 7
    assert codes(root) == ["self_reference", "robots_txt_child", "already_listed"]
    assert codes(files[u("/nested.xml")]) == ["already_listed"]
    assert codes(files[u("/deep.xml")]) == ["depth_limit"]
    assert [files[u(p)]["depth"] for p in ("/index.xml", "/nested.xml", "/deep.xml")] == [0, 1, 2]
    assert files[u("/deep.xml")]["parent"] == u("/nested.xml")
    assert files[u("/missing.xml")]["status"] == 404 and files[u("/missing.xml")]["error"]
    assert files[u("/flaky.xml")]["status"] == 200 and server.hits["/flaky.xml"] == 2
    products = files[u("/products.xml.gz")]
    assert products["is_gzip"] and products["n_urls"] == 3 and products["n_duplicates_within"] == 1
    assert server.hits["/products.xml.gz"] == 1 and "/robots.txt" not in {
        k for k, v in server.hits.items() if k == "/robots.txt" and v > 1
    }
    assert sorted(r["url"] for r in urls) == sorted(u(p) for p in ("/p/1", "/p/2", "/p/2", "/f"))
    assert summary.n_errors == 1


def test_a_redirected_sitemap_keeps_its_chain(server: FixtureServer, tmp_path: Path) -> None:
    server.routes["/old.xml"] = Route(301, headers={"Location": "/new.xml"}, content_type=None)
    server.routes["/new.xml"] = Route(body=urlset("/a", base=server.base))
    _, files, urls = run(server, tmp_path / "out", [server.url("/old.xml")])
    row = files[server.url("/old.xml")]
    assert row["final_url"] == server.url("/new.xml")
    assert row["redirect_chain"] == [server.url("/old.xml")] and row["status"] == 200
    assert urls[0]["sitemap_url"] == server.url("/old.xml") and not urls[0]["is_cross_host"]


def test_relative_locs_resolve_against_the_url_the_sitemap_was_redirected_to(
    server: FixtureServer, tmp_path: Path
) -> None:
    moved = FixtureServer()  # another origin (another port)
    try:
        server.routes["/old.xml"] = Route(
            301, headers={"Location": moved.url("/new.xml")}, content_type=None
        )
        moved.routes["/new.xml"] = Route(body=urlset("/a"))  # <loc>/a</loc>
        _, files, urls = run(server, tmp_path / "out", [server.url("/old.xml")])
    finally:
        moved.stop()
    assert files[server.url("/old.xml")]["final_url"] == moved.url("/new.xml")
    (row,) = urls
    assert row["url"] == moved.url("/a")  # not the pre-redirect origin's /a
    assert "relative_loc" in row["warnings"]


def test_a_download_that_breaks_off_keeps_the_urls_read_before(
    server: FixtureServer, tmp_path: Path
) -> None:
    body = urlset(*[f"/p/{i}" for i in range(5000)], base=server.base)
    server.routes["/cut.xml"] = Route(body=body, truncate_at=len(body) // 2)
    summary, files, urls = run(server, tmp_path / "out", [server.url("/cut.xml")])
    row = files[server.url("/cut.xml")]
    assert row["is_partial"] and row["error_kind"] in ("connection_broken", "xml_error")
    assert 1000 < len(urls) < 5000 and row["n_urls"] == len(urls)
    assert summary.n_partial == 1


def test_a_file_that_trickles_past_its_timeout_keeps_its_urls_and_is_partial(
    tmp_path: Path,
) -> None:
    from tests.servers import Reply, TestServer

    stop = threading.Event()

    def trickle(base: str) -> Iterator[bytes]:
        yield f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>'.encode()
        # enough at once to get past the reader's sniffing and parse buffers (tens of KiB)
        yield "".join(f"<url><loc>{base}/fast/{i}</loc></url>" for i in range(2000)).encode()
        for i in range(100):  # one URL every 0.2 s: far slower than the 1 s file timeout
            if stop.wait(0.2):
                return
            yield f"<url><loc>{base}/slow/{i}</loc></url>".encode()
        yield b"</urlset>"

    with TestServer({}) as web:
        base = web.url("").rstrip("/")
        web.route("/slow.xml", lambda _: Reply(body=trickle(base), content_type="application/xml"))
        site = SiteConfig(
            id="t",
            start_urls=(web.url("/"),),
            crawl=CrawlSettings(allow_private=True, retries=0, timeout_s=10),
        )
        out = tmp_path / "out"
        try:
            summary = collect_sitemaps(
                site, out, inputs=[web.url("/slow.xml")], options=SitemapOptions(file_timeout_s=1)
            )
        finally:
            stop.set()
    (row,) = pq.read_table(out / "sitemaps.parquet").to_pylist()
    urls = pq.read_table(out / "sitemap_urls.parquet").to_pylist()
    assert row["error_kind"] == "timeout" and "not read within 1s" in row["error"]
    assert row["is_partial"] is True and row["kind"] == "urlset"
    # the rows read before the timeout landed, and the file's row counts exactly those
    assert 1000 <= len(urls) < 2100 and row["n_urls"] == len(urls)
    assert f"{base}/fast/0" in {u["url"] for u in urls}
    assert summary.n_partial == 1 and summary.n_urls == len(urls)


def test_gzip_content_encoding_on_a_gzip_file_and_an_unsupported_encoding(
    server: FixtureServer, tmp_path: Path
) -> None:
    inner = gzip.compress(urlset("/a", "/b", base=server.base))
    server.routes["/double.xml.gz"] = Route(body=gzip.compress(inner),
                                            headers={"Content-Encoding": "gzip"})  # fmt: skip
    server.routes["/br.xml"] = Route(body=b"\x00", headers={"Content-Encoding": "br"})
    _, files, urls = run(server, tmp_path / "out",
                         [server.url("/double.xml.gz"), server.url("/br.xml")])  # fmt: skip
    assert files[server.url("/double.xml.gz")]["n_urls"] == 2 and len(urls) == 2
    assert files[server.url("/br.xml")]["error_kind"] == "unsupported_encoding"


# -- audit facts ----------------------------------------------------------------------------


def test_duplicates_across_files_cross_host_and_the_url_limit(
    server: FixtureServer, tmp_path: Path
) -> None:
    many = [f"/p/{i}" for i in range(50_001)]
    server.routes["/big.xml"] = Route(body=urlset(*many, base=server.base))
    server.routes["/small.xml"] = Route(
        body=urlset("/p/1", "/p/2", "https://elsewhere.example/x", base="").replace(
            b"<loc>/p", f"<loc>{server.base}/p".encode()
        )
    )
    _, files, urls = run(server, tmp_path / "out",
                         [server.url("/big.xml"), server.url("/small.xml")], check_robots=False)  # fmt: skip
    big, small = files[server.url("/big.xml")], files[server.url("/small.xml")]
    assert big["n_urls"] == 50_001 and big["is_over_url_limit"] and not big["is_over_size_limit"]
    assert big["n_duplicates_across"] == 2 and small["n_duplicates_across"] == 2
    assert small["n_cross_host"] == 1 and not small["is_over_url_limit"]
    assert len(urls) == 50_004


def test_the_size_limit_is_50_mib_uncompressed() -> None:
    result = FileResult(Target(0, "https://e.com/s.xml", "input", None, 0), kind="urlset")
    result.bytes = 52_428_800
    assert not result.row()["is_over_size_limit"]
    result.bytes += 1
    assert result.row()["is_over_size_limit"]


# -- safety ---------------------------------------------------------------------------------


def test_private_addresses_are_refused_unless_allowed(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.routes["/sitemap.xml"] = Route(body=urlset("/a", base=server.base))
    site = SiteConfig(id="t", start_urls=(server.url("/"),))
    summary, files, urls = run(server, tmp_path / "out", [server.url("/sitemap.xml")], site=site)
    row = files[server.url("/sitemap.xml")]
    assert row["error_kind"] == "address_refused" and "loopback" in row["error"]
    assert not urls and server.hits == {}
    robots = pq.read_table(tmp_path / "out" / "robots.parquet").to_pylist()
    assert robots[0]["outcome"] == "refused"


# -- landing --------------------------------------------------------------------------------


def test_a_run_lands_atomically_under_landing_sitemaps(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.routes["/robots.txt"] = Route(body=b"Sitemap: /s.xml\n", content_type="text/plain")
    server.routes["/s.xml"] = Route(body=urlset("/a", base=server.base))
    summary = collect_sitemaps(site_for(server), base=tmp_path)
    root = tmp_path / "landing" / "sitemaps" / "t"
    assert [p.name for p in root.iterdir()] == [summary.run_dir.name]
    assert sorted(p.name for p in summary.run_dir.iterdir()) == [
        "robots.parquet", "sitemap_run.json", "sitemap_urls.parquet", "sitemaps.parquet",
    ]  # fmt: skip
    assert pq.read_schema(summary.run_dir / "sitemap_urls.parquet") == SITEMAP_URLS_SCHEMA
    assert pq.read_schema(summary.run_dir / "sitemaps.parquet") == SITEMAPS_SCHEMA
    assert pq.read_schema(summary.run_dir / "robots.parquet") == ROBOTS_SCHEMA
    assert summary.n_urls == 1 and summary.lines()[0].startswith("sitemaps: 1 files (1 urlset)")


# -- the command line ---------------------------------------------------------------------


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    import ingest.cli
    from ingest.sitemaps.cli import register

    monkeypatch.setattr(ingest.cli, "_extension_commands", lambda: [register])
    return ingest.cli.main(argv)


def test_the_cli_reads_a_site_and_a_local_file(
    server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # noqa: ANN001
    server.routes["/robots.txt"] = Route(body=b"Sitemap: /s.xml\n", content_type="text/plain")
    server.routes["/s.xml"] = Route(body=urlset("/a", "/b", base=server.base))
    code = _cli(["sitemaps", server.url("/"), "--out", str(tmp_path / "a"), "--allow-private"],
                monkeypatch)  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "2 URLs" in out and (tmp_path / "a" / "sitemap_urls.parquet").exists()
    local = FIXTURES / "trafilatura__sitemap.xml.gz"
    assert _cli(["sitemaps", str(local), "--out", str(tmp_path / "b")], monkeypatch) == 0
    rows = pq.read_table(tmp_path / "b" / "sitemaps.parquet").to_pylist()
    assert rows[0]["n_urls"] == 84 and rows[0]["source"] == "input" and rows[0]["is_gzip"]
    assert rows[0]["n_cross_host"] == 0  # a local file has no host to differ from


def test_cli_failures_are_one_line(
    server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # noqa: ANN001
    code = _cli(["sitemaps", server.url("/nothing.xml"), "--out", str(tmp_path / "a"),
                 "--allow-private"], monkeypatch)  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: no sitemap could be read: http_status:")
    assert _cli(["sitemaps", str(tmp_path / "none.xml"), "--out", str(tmp_path / "b")],
                monkeypatch) == 2  # fmt: skip
    assert capsys.readouterr().err.startswith("error: no such file")
    code = _cli(["sitemaps", server.url("/x.xml"), "--out", str(tmp_path / "c")], monkeypatch)
    err = capsys.readouterr().err
    assert code == 1 and "address_refused" in err and "Traceback" not in err
