"""The ``conflicts`` and ``replay`` commands on files shaped unlike the samples: an empty
``onground`` column, every row skipped, no track at the scan time, bad settings; and the cold
start of an offline scan (no store, SQLAlchemy, FastAPI or geometry stack imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tactical_kit import blank_column
from typer.testing import CliRunner

from shared_data import SHARED_DATA
from truceline.cli import app

PARIS = SHARED_DATA / "adsb" / "paris_2021-10-07_1200-1500Z.csv"
AT = 1633612000.0
SRC = Path(__file__).resolve().parents[2] / "src"
runner = CliRunner()


def one_error_line(stderr: str) -> str:
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("truceline: error: ")
    return lines[0]


def test_paris_with_an_empty_onground_column_is_scanned_not_skipped(tmp_path):
    path = blank_column(PARIS, tmp_path / "no-onground.csv", "onground")
    result = runner.invoke(app, ["conflicts", str(path), "--at", str(AT), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    answer = json.loads(result.stdout)
    assert answer["tracks"] > 10
    skipped = answer["skipped"]
    assert skipped["counts"]["bad_value"] == 0
    columns = {(e["reason"], e["column"]): e for e in skipped["columns"]}
    assert columns["no_velocity", "velocity"]["count"] == 7478
    assert ("no_altitude", "geoaltitude or baroaltitude") in columns
    assert all(e["first_lines"] and e["first_lines"][0] >= 2 for e in columns.values())


def test_every_row_skipped_is_one_line_and_exit_2(tmp_path):
    path = blank_column(PARIS, tmp_path / "no-velocity.csv", "velocity")
    for command in ("conflicts", "replay"):
        result = runner.invoke(app, [command, str(path)])
        assert result.exit_code == 2, result.output
        line = one_error_line(result.stderr)
        assert "no usable row: all 57109 rows skipped" in line and "no_velocity in velocity 57109" in line
        assert result.stdout == ""


def test_a_header_only_file_is_exit_2(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("time,icao24,lat,lon,velocity,heading,vertrate,baroaltitude\n", encoding="utf-8")
    result = runner.invoke(app, ["conflicts", str(path)])
    assert result.exit_code == 2 and "no data row after the header" in one_error_line(result.stderr)


def test_no_track_at_the_scan_time_is_exit_2():
    for fmt in ("table", "json"):
        result = runner.invoke(app, ["conflicts", str(PARIS), "--at", "0", "--format", fmt])
        assert result.exit_code == 2, result.output
        line = one_error_line(result.stderr)
        assert "no track at 1970-01-01T00:00:00Z (0)" in line
        assert "2021-10-07T12:00:01Z (1633608001) to 2021-10-07T14:59:55Z (1633618795)" in line
        assert result.stdout == ""


@pytest.mark.parametrize(("flag", "value"), [("--min-horizontal-nm", "-1"), ("--min-vertical-ft", "0"),
                                             ("--min-ground-m", "nan"), ("--lookahead", "0"),
                                             ("--pairs", "some")])
def test_bad_settings_name_their_flag(flag, value):
    result = runner.invoke(app, ["conflicts", str(PARIS), flag, value])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert flag in line
    if flag != "--pairs":  # judged in the flag's own unit: the message quotes what was typed
        assert f"{float(value)!r} must be a positive finite number" in line


def test_replay_tells_each_episode_when_it_opens_and_when_it_ends():
    result = runner.invoke(app, ["replay", str(PARIS), "--start", "1633608001", "--end", "1633608601"])
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    opened = [x for x in out if "conflict in" in x or "LOSS OF SEPARATION" in x]
    ended = [x for x in out if "  ended: " in x]
    assert opened and ended
    summary = next(x for x in out if x.startswith("Replayed 121 steps"))
    n_alerts = int(summary.split(" conflict alert")[0].rsplit(" ", 1)[1])
    assert f"{len(ended)} episodes ended" in summary
    assert n_alerts <= len(opened) and len(ended) == n_alerts


def test_replay_outside_the_file_is_exit_2():
    result = runner.invoke(app, ["replay", str(PARIS), "--start", "1733608001"])
    assert result.exit_code == 2 and "no scan time in --start/--end" in one_error_line(result.stderr)


HEAVY = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "truceline.store", "truceline.service.register",
         "truceline.ledger", "truceline.api", "shapely", "pyproj", "h3")


def loaded_modules(tmp_path: Path, argv: list[str]) -> tuple[int, set[str]]:
    """Run ``truceline ARGV`` in a fresh interpreter; its exit code and every module it loaded."""
    out = tmp_path / "modules.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(out)!r}, 'w').write(chr(10).join(sorted(sys.modules))))\n"
        "from truceline.cli import app\n"
        f"app({argv!r}, prog_name='truceline')\n"
    )
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, set(out.read_text().split("\n"))


def test_an_offline_scan_imports_no_store_sql_web_or_geometry(tmp_path):
    code, modules = loaded_modules(tmp_path, ["conflicts", str(PARIS), "--at", str(AT), "--format", "json"])
    assert code in (0, 1)
    assert "truceline.engines.tactical" in modules and "orjson" in modules  # not vacuous
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []


def test_zone_files_bring_the_geometry_in(tmp_path):
    # the check above would notice: with zones the geometry stack is loaded
    zones = tmp_path / "zones.geojson"
    zones.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    argv = ["conflicts", str(PARIS), "--at", str(AT), "--zones", str(zones)]
    code, modules = loaded_modules(tmp_path, argv)
    assert code in (0, 1)
    assert "shapely" in modules and "sqlalchemy" not in modules


def test_with_the_ahead_of_time_kernel_a_scan_does_not_import_numba(tmp_path):
    from truceline.engines import pairgrid_aot

    if pairgrid_aot.load_or_build() is None:
        pytest.skip("no ahead-of-time module here (no C compiler)")
    code, modules = loaded_modules(tmp_path, ["conflicts", str(PARIS), "--at", str(AT), "--format", "json"])
    assert code in (0, 1)
    assert "numba" not in modules and "llvmlite" not in modules


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
def test_a_scan_time_that_is_no_epoch_time_names_its_flag(value):
    for command, flag in (("conflicts", "--at"), ("replay", "--start"), ("replay", "--end")):
        result = runner.invoke(app, [command, str(PARIS), flag, value])
        assert result.exit_code == 2, result.output
        assert f"{flag}: {float(value)!r} is not an epoch time" in one_error_line(result.stderr)


def test_a_bad_speed_is_one_line():
    result = runner.invoke(app, ["replay", str(PARIS), "--speed", "-1"])
    assert result.exit_code == 2 and "--speed: -1.0 must be 0" in one_error_line(result.stderr)
