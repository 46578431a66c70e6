"""Replay and the ``conflicts`` / ``replay`` commands on the real Paris recording (a 20-minute
slice, to stay fast) and on small synthetic files."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared_data import SHARED_DATA
from truceline.cli import app
from truceline.domain.activity import Activity
from truceline.domain.zone import Zone, ZoneKind, ZoneRule
from truceline.engines.incursion import AltitudePolicy
from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import Circle
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.geojson import save_geojson
from truceline.io.statevectors import REASONS, read_state_vectors
from truceline.service.replay import ScanOptions, replay, scan_snapshot

DATA = SHARED_DATA / "adsb"
PARIS = DATA / "paris_2021-10-07_1200-1500Z.csv"
START = 1633608001.0  # 12:00:01Z
SLICE_END = START + 20 * 60
runner = CliRunner()


@pytest.fixture(scope="module")
def paris():
    return read_state_vectors(PARIS)


def lfpb_zone() -> Zone:
    vol = Volume4D(Circle(center=(2.4419, 48.9694), radius_m=3000.0),
                   AltitudeBand(0, 600, AltitudeReference.AMSL),
                   TimeWindow(datetime(2021, 10, 7, 12, 0, tzinfo=UTC)))
    return Zone("lfpb", ZoneKind.NO_FLY, (vol,), ZoneRule(activity=Activity.AIR), party="guarantor")


def test_replay_slice_raises_sensible_alerts_once(paris):
    seen = []
    steps = []
    summary = replay(paris, start_s=START, end_s=SLICE_END, on_alert=seen.append,
                     on_step=lambda done, total: steps.append((done, total)))
    assert summary.steps == 241 and steps[-1] == (241, 241)
    assert 10 <= summary.peak_tracks <= 41
    conflicts = [a for a in seen if a.kind == "conflict"]
    assert conflicts and summary.counts["conflict"] == len(conflicts)
    for a in conflicts:
        d = a.data
        assert d["a"] < d["b"]
        assert 0.0 <= d["tlos_s"] < 300.0
        assert d["los"] == (d["tlos_s"] == 0.0)
        if d["los"]:
            assert d["dist_m"] < 5 * 1852 and d["dz_m"] < 304.8
    # once per episode: the same pair is not raised again within the clear-after time
    keys = [(a.key, a.time_s) for a in conflicts]
    for (k1, t1), (k2, t2) in itertools.pairwise(keys):
        assert not (k1 == k2 and t2 - t1 <= 30.0)
    assert len({a.key for a in conflicts}) >= len(conflicts) // 3


def test_ground_filter_removes_runway_pairs(paris):
    plain = replay(paris, start_s=START, end_s=SLICE_END)
    filtered = replay(paris, start_s=START, end_s=SLICE_END, options=ScanOptions(ground_below_m=450.0))
    assert filtered.counts["conflict"] < plain.counts["conflict"]


def test_replay_with_a_zone_needs_an_explicit_altitude_stand_in(paris):
    with pytest.raises(AltitudeReferenceError):
        replay(paris, zones=[lfpb_zone()], start_s=START, end_s=START + 60)
    options = ScanOptions(policy=AltitudePolicy(pressure_as=AltitudeReference.AMSL))
    summary = replay(paris, zones=[lfpb_zone()], options=options, start_s=START, end_s=SLICE_END)
    assert summary.counts["incursion"] > 0
    assert all(a.data["zone"] == "lfpb" for a in summary.alerts if a.kind == "incursion")


def test_speed_paces_through_the_injected_sleep(paris):
    naps: list[float] = []
    replay(paris, start_s=START, end_s=START + 20, speed=10.0, sleep=naps.append)
    assert naps == [0.5] * 5
    with pytest.raises(ValidationError):
        replay(paris, speed=-1.0)


def test_scan_snapshot(paris):
    scan = scan_snapshot(paris, at_s=1633612000.0)
    assert scan.at_s <= 1633612000.0 and len(scan.tracks) > 10
    assert len(scan.conflicts) == sum(a.kind == "conflict" for a in scan.alerts)


def test_conflicts_command_json(tmp_path):
    path = tmp_path / "states.csv"
    path.write_text(
        "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,party\n"
        "100,aaaaaa,48.0,2.0,200,0,0,A1,False,6000,blue\n"
        "100,bbbbbb,48.5,2.0,200,180,0,B1,False,6000,red\n"
        "100,cccccc,48.0,2.05,200,0,0,C1,False,6000,blue\n", encoding="utf-8")
    result = runner.invoke(app, ["conflicts", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output
    answer = json.loads(result.stdout)
    assert answer["tracks"] == 3 and answer["at_s"] == 100.0 and answer["alerts"] == []
    assert answer["skipped"] == {"total": 0, "counts": dict.fromkeys(REASONS, 0), "columns": []}
    assert answer["settings"]["horizontal_m"] == 9260.0 and answer["settings"]["vertical_m"] == 304.8
    records = answer["conflicts"]
    assert [(r["a"], r["b"]) for r in records] == [("aaaaaa", "bbbbbb"), ("bbbbbb", "cccccc")]
    assert set(records[0]) == {"a", "b", "tcpa_s", "dcpa_m", "dalt_m", "tlos_s", "los"}
    assert records[0]["los"] is False and 0 < records[0]["tlos_s"] < records[0]["tcpa_s"]
    all_pairs = json.loads(runner.invoke(app, ["conflicts", str(path), "--format", "json",
                                               "--pairs", "all"]).stdout)["conflicts"]
    assert len(all_pairs) == 3  # the two blue aircraft fly side by side 2 NM apart
    # the minima are settings: at 1.5 NM the two blue aircraft (2 NM apart) are not in conflict
    narrow = json.loads(runner.invoke(app, ["conflicts", str(path), "--format", "json", "--pairs", "all",
                                            "--min-horizontal-nm", "1.5"]).stdout)
    assert ("aaaaaa", "cccccc") not in {(r["a"], r["b"]) for r in narrow["conflicts"]}
    assert narrow["settings"]["horizontal_m"] == pytest.approx(1.5 * 1852)


def test_conflicts_command_table_and_errors(tmp_path):
    result = runner.invoke(app, ["conflicts", str(PARIS), "--at", "1633612000"])
    assert result.exit_code in (0, 1) and "tracks at 2021-10-07" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("time,icao24\n1,abc\n", encoding="utf-8")
    result = runner.invoke(app, ["conflicts", str(bad)])
    assert result.exit_code == 2 and "missing required column" in result.output


def test_replay_command_end_to_end_on_a_slice(tmp_path):
    zones = tmp_path / "zones.geojson"
    save_geojson(zones, zones=[lfpb_zone()])
    result = runner.invoke(app, ["replay", str(PARIS), "--zones", str(zones),
                                 "--pressure-altitude-as", "AMSL",
                                 "--start", str(START), "--end", str(START + 600)])
    assert result.exit_code == 0, result.output
    assert "Replayed 121 steps" in result.stdout
    assert "ZONE lfpb" in result.stdout or "incursion" in result.stdout
    assert "Skipped rows: no_velocity" in result.stdout


def _zone_alerts(zones: Path, stand_in: str, at: float) -> set[tuple[str, ...]]:
    result = runner.invoke(app, ["conflicts", str(PARIS), "--zones", str(zones), "--pressure-altitude-as",
                                 stand_in, "--at", str(at), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return {tuple(sorted(str(v) for k, v in a.items() if k in ("kind", "track", "zone")))
            for a in json.loads(result.stdout)["alerts"]}


def test_pressure_altitudes_compare_with_an_amsl_zone_as_flight_levels_widened_outward(tmp_path):
    # baroaltitude is pressure altitude: as FL it is converted to the zone's AMSL band through
    # the standard atmosphere and its margin (no QNH given), never refused; the margin only
    # widens the band, so every alert of the (optimistic) AMSL stand-in is raised as FL too.
    zones = tmp_path / "zones.geojson"
    save_geojson(zones, zones=[lfpb_zone()])
    found_more = False
    for at in (START + 300, START + 600, START + 900):
        as_amsl, as_fl = _zone_alerts(zones, "AMSL", at), _zone_alerts(zones, "FL", at)
        assert as_amsl <= as_fl, at
        found_more |= as_fl > as_amsl
    assert found_more  # the margin is real: some track near the band's edge is caught only as FL
