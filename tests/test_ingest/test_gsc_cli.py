"""`linkwarehouse gsc pull|inspect` against the fake API: output lines, exit codes, one-line errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from demo.gsc_data import SearchModel
from demo.gsc_server import FakeSearchConsole
from ingest.gsc.budget import pacific_today
from ingest.gsc.landing import landed_days


def write_gsc_config(
    monkeypatch: pytest.MonkeyPatch, path: Path, sites: list[dict[str, object]]
) -> Path:
    """Write a config whose sites may carry `gsc:` and make it the active config."""
    path.write_text(yaml.safe_dump({"sites": sites}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LINKWAREHOUSE_CONFIG", str(path))
    return path


@pytest.fixture(scope="module")
def shop_model() -> SearchModel:
    return SearchModel("http://cli.test")


@pytest.fixture
def fake(shop_model: SearchModel) -> Iterator[FakeSearchConsole]:
    with FakeSearchConsole(model=shop_model) as server:
        yield server


@pytest.fixture
def config(fake: FakeSearchConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GSC_API_ENDPOINT", fake.endpoint)
    gsc = {"property_url": fake.property_url, "retries": 2, "backoff_base_s": 0.001}
    return write_gsc_config(
        monkeypatch,
        tmp_path / "config.yaml",
        [
            {"id": "shop", "start_urls": [fake.property_url], "gsc": gsc},
            {"id": "nogsc", "start_urls": ["https://other.example/"]},
        ],
    )


def _main(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    from ingest import cli
    from ingest.gsc.cli import register

    registers = cli._extension_commands()
    if register not in registers:
        monkeypatch.setattr(cli, "_extension_commands", lambda: [*registers, register])
    return cli.main(argv)


def test_gsc_pull_lands_each_day_and_prints_a_line_per_day(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    end = pacific_today() - timedelta(days=3)  # the first day without final data
    start = end - timedelta(days=2)
    code = _main(
        ["gsc", "pull", "--site", "shop", "--start", str(start), "--end", str(end)], monkeypatch
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(landed_days("shop")) == 3
    assert out[0].startswith(f"{start}: ") and "(final)" in out[0]
    assert out[2].startswith(f"{end}: ") and "(provisional)" in out[2]
    assert "rows over 3 days" in out[-1]


def test_gsc_pull_with_a_403_prints_one_line_naming_the_property_and_account(
    config: Path,
    fake: FakeSearchConsole,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    email = "reader@proj.iam.gserviceaccount.com"
    key = base64.b64encode(json.dumps({"type": "service_account", "client_email": email}).encode())
    monkeypatch.setenv("GSC_CREDENTIALS_B64", key.decode())
    fake.deny()
    day = str(pacific_today() - timedelta(days=10))
    code = _main(["gsc", "pull", "--site", "shop", "--start", day, "--end", day], monkeypatch)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("error: ")
    assert email in err[0] and fake.property_url in err[0]
    assert "Traceback" not in err[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "shop", "--start", "2026-11-10", "--end", "2026-11-01"], "is after --end"),
        (["--site", "shop", "--start", "2026-11-01", "--end", "2999-01-01"], "in the future"),
        (["--site", "shop", "--start", "11/01/2026", "--end", "2026-11-01"], "YYYY-MM-DD"),
        (["--site", "nogsc", "--start", "2026-11-01", "--end", "2026-11-01"], "no gsc section"),
        (["--site", "nope", "--start", "2026-11-01", "--end", "2026-11-01"], "no site 'nope'"),
    ],
)
def test_gsc_pull_usage_problems_exit_2_with_one_line(
    args: list[str],
    message: str,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _main(["gsc", "pull", *args], monkeypatch)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and message in err[0]


def test_gsc_without_credentials_names_the_env_vars_to_set(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GSC_API_ENDPOINT")
    monkeypatch.delenv("GSC_CREDENTIALS_B64", raising=False)
    monkeypatch.delenv("GSC_CREDENTIALS_FILE", raising=False)
    day = str(pacific_today() - timedelta(days=10))
    code = _main(["gsc", "pull", "--site", "shop", "--start", day, "--end", day], monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and "GSC_CREDENTIALS_FILE" in err and "GSC_CREDENTIALS_B64" in err


def test_gsc_inspect_prints_verdicts_and_the_canonical_google_chose(
    config: Path,
    fake: FakeSearchConsole,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    listing = fake.model.site.url("/c/women/dresses/?page=2")
    home = fake.model.site.url("/")
    code = _main(["gsc", "inspect", "--site", "shop", home, listing], monkeypatch)
    out = capsys.readouterr().out
    assert code == 0
    assert f"{home}: PASS - Submitted and indexed" in out
    assert f"Google canonical {fake.model.site.url('/c/women/dresses/')}" in out
    assert "budget left today: 1998" in out
