"""`linkwarehouse import-backlinks FILE --site ID`: a summary on success, one line on failure."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

import ingest.cli
from demo.backlinks import samples
from ingest.backlinks import cli as backlinks_cli


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run the console script in process, with the import-backlinks command registered."""
    monkeypatch.setattr(ingest.cli, "_extension_commands", lambda: [backlinks_cli.register])

    def invoke(*args: str) -> tuple[int, str, str]:
        code = ingest.cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"sites": [{"id": "shop", "start_urls": ["https://shop.example/"]}]})
    )
    return path


def test_an_import_prints_the_counts_and_lands_the_files(
    run, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("LINKWAREHOUSE_DATA", str(data))
    header = samples.fixture_header(samples.AHREFS_FIXTURE)
    export = tmp_path / "shop.example-backlinks-subdomains.csv"
    export.write_bytes(
        samples.ahrefs_bytes(
            header,
            [
                samples.row_for(
                    header,
                    {
                        "Referring page URL": "https://a.example.com/",
                        "Target URL": "https://shop.example/",
                    },
                ),
                samples.row_for(
                    header,
                    {
                        "Referring page URL": "https://a.example.com/",
                        "Target URL": "https://elsewhere.example/",
                    },
                ),
            ],
        )
    )
    code, out, err = run("import-backlinks", str(export), "--site", "shop", "--config", str(config))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "shop.example-backlinks-subdomains.csv: Ahrefs Site Explorer Backlinks (UTF-16 LE with BOM, "
        "tab): 2 rows in, 1 landed, 1 quarantined (target_out_of_scope 1)"
    )
    assert (
        "total: 2 rows in = 1 landed + 1 quarantined + 0 blank; 0 repeated source/target pairs"
        in lines
    )
    assert lines[-1].startswith("merged 1 link rows of 1 file(s) into 1 links (0 duplicates merged")
    manifests = list((data / "landing" / "backlinks" / "shop").glob("*/import.json"))
    assert [json.loads(m.read_text())["quarantined"] for m in manifests] == [1]
    assert (data / "landing" / "backlinks" / "shop" / "backlinks_merged.parquet").exists()


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 2, "error: no such file: "),
        (b"", 1, "error: export.csv: the file is empty"),
        (
            b"Keyword,Volume\nshoes,1\n",
            1,
            "error: export.csv: unknown backlink export: columns seen: 'Keyword', 'Volume'",
        ),
        (
            (samples.FIXTURES / samples.SEMRUSH_REFDOMAINS_FIXTURE).read_bytes(),
            1,
            "error: export.csv: this is a Semrush Referring Domains export, which has no links",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_one_line_and_a_nonzero_exit(
    run, config: Path, tmp_path: Path, content: bytes | None, code: int, message: str
) -> None:
    export = tmp_path / "export.csv"
    if content is not None:
        export.write_bytes(content)
    got, out, err = run("import-backlinks", str(export), "--site", "shop", "--config", str(config))
    assert got == code
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_blank_records_are_in_the_summary(
    run, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKWAREHOUSE_DATA", str(tmp_path / "data"))
    header = samples.SEMRUSH_BACKLINKS_HEADER
    row = samples.row_for(
        header, {"Source url": "https://a.example/", "Target url": "https://shop.example/"}
    )
    export = tmp_path / "semrush.csv"
    samples.write_export(export, header, [row, [""] * len(header), [""] * len(header)])
    code, out, err = run(
        "import-backlinks", str(export), "--site", "shop", "--config", str(config), "--no-merge"
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].endswith(": 3 rows in, 1 landed, 0 quarantined, 2 blank")
    assert (
        "total: 3 rows in = 1 landed + 0 quarantined + 2 blank; 0 repeated source/target pairs"
        in lines
    )


def test_a_damaged_archive_is_one_line_naming_the_file_and_member(
    run, config: Path, tmp_path: Path
) -> None:
    header = samples.MAJESTIC_CSV_HEADER
    rows = [samples.row_for(header, {"Source URL": f"https://g.example/{i}"}) for i in range(3000)]
    packed = gzip.compress(samples.encode_export(header, rows))
    export = tmp_path / "majestic.csv.gz"
    export.write_bytes(packed[: len(packed) // 2])
    code, _, err = run("import-backlinks", str(export), "--site", "shop", "--config", str(config))
    assert code == 1
    assert err.startswith(
        "error: majestic.csv.gz!majestic.csv: the gzip stream is damaged or cut short"
    ), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_unknown_site_and_a_missing_site_flag_are_usage_errors(
    run, config: Path, tmp_path: Path
) -> None:
    export = tmp_path / "x.csv"
    export.write_text("a\n")
    code, _, err = run("import-backlinks", str(export), "--site", "nope", "--config", str(config))
    assert code == 2 and "no site 'nope' in the config (known: shop)" in err
    code, _, err = run("import-backlinks", str(export))
    assert code == 2 and "the following arguments are required: --site" in err
