"""The OpenSky state-vector reader, on the two real files and on broken ones."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tactical_kit import blank_column

from shared_data import SHARED_DATA
from truceline.domain.track import PRESSURE_CODE, alt_ref_code
from truceline.errors import FormatError
from truceline.geo.altitude import AltitudeReference
from truceline.io.statevectors import REASONS, parse_state_vectors, read_state_vectors

DATA = SHARED_DATA / "adsb"
PARIS = DATA / "paris_2021-10-07_1200-1500Z.csv"
KALININGRAD = DATA / "kaliningrad_routes_2022-02-22.csv"
HEADER = ("time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
          "baroaltitude,geoaltitude,lastposupdate,lastcontact")


@pytest.fixture(scope="module")
def paris():
    return read_state_vectors(PARIS)


@pytest.fixture(scope="module")
def kaliningrad():
    return read_state_vectors(KALININGRAD)


def test_kaliningrad_skips_rows_with_no_position_and_stale_positions(kaliningrad):
    c = kaliningrad.skipped.counts
    assert c["no_position"] == 12  # the README's 12 rows heard without a position
    assert c["stale_position"] > 0
    assert c["bad_value"] == 0
    assert len(kaliningrad.rows) + kaliningrad.skipped.total == 7583
    # nothing kept is older than the limit
    assert len(kaliningrad.rows) == 7583 - 12 - c["stale_position"] - c["stale_contact"] - c["no_velocity"] \
        - c["no_altitude"]


def test_kaliningrad_stale_count_follows_the_limit():
    strict = read_state_vectors(KALININGRAD, max_position_age_s=10.0).skipped.counts["stale_position"]
    loose = read_state_vectors(KALININGRAD, max_position_age_s=30.0).skipped.counts["stale_position"]
    # README: time - lastposupdate exceeds 10 s in 1,364 rows (a few of them have no position)
    assert 1300 < strict <= 1364
    assert loose < strict


def test_kaliningrad_uses_geoaltitude_labelled_w84(kaliningrad):
    w84 = alt_ref_code(AltitudeReference.W84)
    assert (kaliningrad.rows.alt_ref == w84).mean() > 0.95
    assert (kaliningrad.rows.alt_ref == PRESSURE_CODE).any()  # rows with baro only
    baro = read_state_vectors(KALININGRAD, altitude_source="baro")
    assert (baro.rows.alt_ref == PRESSURE_CODE).all()


def test_paris_counts(paris):
    c = paris.skipped.counts
    assert c["no_velocity"] == 7478  # README: velocity/heading/vertrate empty in 7,478 rows
    assert c["no_position"] == 0 and c["stale_position"] == 0 and c["bad_value"] == 0
    assert c["no_altitude"] > 0  # airborne rows without baroaltitude
    assert len(paris.rows) + paris.skipped.total == 57109
    assert (paris.rows.alt_ref == PRESSURE_CODE).all()
    # on-ground rows may have no altitude; airborne ones always have one
    assert np.isnan(paris.rows.alt_m[~paris.rows.on_ground]).sum() == 0
    assert np.isnan(paris.rows.alt_m[paris.rows.on_ground]).any()
    # impossible altitudes are kept as data (22,098 m reported on the ground at LFPV)
    assert paris.rows.alt_m[np.isfinite(paris.rows.alt_m)].max() == pytest.approx(22098.0)


def test_paris_snapshot_is_the_latest_state_per_aircraft(paris):
    snap = paris.snapshot(1633612000.0, max_age_s=30.0)
    assert 10 < len(snap) < 45
    assert len(set(snap.ids.tolist())) == len(snap)
    assert (snap.t <= 1633612000.0).all() and (snap.t > 1633612000.0 - 30).all()
    for i in range(len(snap)):
        mine = (paris.rows.ids == snap.ids[i]) & (paris.rows.t <= 1633612000.0)
        assert snap.t[i] == paris.rows.t[mine].max()


def test_paris_parties_default_to_the_aircraft(paris):
    assert (paris.rows.parties == paris.rows.ids).all()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "states.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_columns_name_the_file_and_the_columns(tmp_path):
    path = write(tmp_path, "time,icao24,latitude,longitude,velocity,heading,vertrate,onground\n")
    with pytest.raises(FormatError) as err:
        read_state_vectors(path)
    text = str(err.value)
    assert str(path) in text and "lat" in text and "lon" in text and "baroaltitude or geoaltitude" in text


def test_empty_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError):
        read_state_vectors(write(tmp_path, ""))


def test_bad_values_are_skipped_and_located(tmp_path):
    rows = [
        "100,abc123,48.1,2.1,200,90,0,X,False,,,,3000,,,",  # line 2: good
        "100,abc124,48.1,north,200,90,0,X,False,,,,3000,,,",  # line 3: bad lon
        "100,abc125,48.1,2.1,200,90,0,X,maybe,,,,3000,,,",  # line 4: bad bool
        "100,abc126,148.1,2.1,200,90,0,X,False,,,,3000,,,",  # line 5: lat out of range
        "100,abc127,48.1,2.1,200,90,0,X,False,,,,3000,,",  # line 6: 15 fields
        "100,abc128,48.1,2.1,nan,90,0,X,False,,,,3000,,,",  # line 7: not finite
        "100,abc129,,,200,90,0,X,False,,,,3000,,,",  # line 8: no position
        "100,abc12a,48.1,2.1,,,,X,True,,,,,,,",  # line 9: no velocity
        "100,abc12b,48.1,2.1,200,90,0,X,False,,,,,,,",  # line 10: airborne, no altitude
        "100,abc12c,48.1,2.1,5,90,0,X,True,,,,,,,",  # line 11: ground, no altitude: kept
    ]
    sv = read_state_vectors(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert sv.skipped.counts["bad_value"] == 5
    assert sv.skipped.first_lines["bad_value"] == [3, 4, 5, 6, 7]
    assert "lon 'north' is not a number" in sv.skipped.first_messages["bad_value"][0]
    assert sv.skipped.first_lines["no_position"] == [8]
    assert sv.skipped.first_lines["no_velocity"] == [9]
    assert sv.skipped.first_lines["no_altitude"] == [10]
    assert sv.rows.ids.tolist() == ["abc123", "abc12c"]
    assert math.isnan(sv.rows.alt_m[1]) and sv.rows.on_ground[1]
    # every reason names its column
    summary = sv.skipped.summary()
    for part in ("bad_value in lon 1 (lines 3)", "bad_value in onground 1 (lines 4)",
                 "bad_value in lat 1 (lines 5)", "bad_value in (row) 1 (lines 6)",
                 "bad_value in velocity 1 (lines 7)", "no_position in lat 1 (lines 8)",
                 "no_velocity in velocity 1 (lines 9)",
                 "no_altitude in geoaltitude or baroaltitude 1 (lines 10)"):
        assert part in summary
    assert sv.skipped.by_column["bad_value", "onground"].first_messages == [
        "onground 'maybe' is not True or False"]
    assert sv.skipped.by_column["bad_value", "velocity"].first_messages == ["velocity 'nan' is not finite"]
    assert sv.skipped.by_column["bad_value", "(row)"].first_messages == ["15 fields, header has 16"]


def test_party_column_and_stale_contact(tmp_path):
    header = "time,icao24,lat,lon,velocity,heading,vertrate,onground,baroaltitude,lastcontact,party"
    rows = ["100,aaa001,48,2,200,0,0,False,3000,99.5,blue", "100,aaa002,48,2,200,0,0,False,3000,20,red",
            "100,aaa003,48,2,200,0,0,False,3000,,"]
    sv = read_state_vectors(write(tmp_path, header + "\n" + "\n".join(rows) + "\n"))
    assert sv.rows.parties.tolist() == ["blue", "aaa003"]
    assert sv.skipped.counts["stale_contact"] == 1


@settings(max_examples=50, deadline=None)
@given(cells=st.lists(st.text(alphabet="0123456789.-eE,TrueFals x", max_size=12), min_size=16, max_size=16))
def test_random_rows_never_crash(tmp_path_factory, cells):
    path = tmp_path_factory.mktemp("rand") / "s.csv"
    path.write_text(HEADER + "\n" + ",".join(c.replace(",", "") for c in cells) + "\n", encoding="utf-8")
    sv = read_state_vectors(path)
    assert len(sv.rows) + sv.skipped.total == 1


def test_an_onground_column_empty_in_every_row_is_unknown_not_bad(tmp_path, paris):
    path = tmp_path / "paris-no-onground.csv"
    blank_column(PARIS, path, "onground")
    sv = read_state_vectors(path)
    c = sv.skipped.counts
    assert c["bad_value"] == 0
    # every row with a position, a velocity and an altitude is kept, airborne
    assert not sv.rows.on_ground.any()
    assert len(sv.rows) == int(np.isfinite(paris.rows.alt_m).sum())
    assert c["no_altitude"] == paris.skipped.counts["no_altitude"] + int(np.isnan(paris.rows.alt_m).sum())
    assert ("no_altitude", "geoaltitude or baroaltitude") in sv.skipped.by_column


def test_empty_optional_columns_stay_typed_and_squawk_stays_text(tmp_path):
    rows = ["100,abc123,48.1,2.1,200,90,0,,,,,0252,3000,,,",
            "100,abc124,48.2,2.1,200,90,0,,,,,7500x,3000,,,"]  # squawk is text: nothing to parse
    sv = read_state_vectors(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert sv.skipped.total == 0 and len(sv.rows) == 2
    assert not sv.rows.on_ground.any()
    assert sv.callsigns.tolist() == ["", ""]


def test_line_numbers_count_blank_lines_and_crlf(tmp_path):
    good = "100,abc123,48.1,2.1,200,90,0,X,False,,,,3000,,,"
    text = "\r\n".join([HEADER, good, "", "100,abc124,48.1,2.1,200,90,0,X,False,,,,3000,,", "",
                        "100,abc125,,2.1,200,90,0,X,False,,,,3000,,,", good.replace("123", "126")]) + "\r\n"
    sv = read_state_vectors(write(tmp_path, text))
    assert sv.skipped.first_lines["bad_value"] == [4]
    assert sv.skipped.first_lines["no_position"] == [6]
    assert sv.rows.ids.tolist() == ["abc123", "abc126"]


def test_a_quoted_field_with_a_line_break_keeps_later_line_numbers(tmp_path):
    rows = ['100,abc123,48.1,2.1,200,90,0,"A\nB",False,,,,3000,,,',
            "100,abc124,48.1,north,200,90,0,X,False,,,,3000,,,"]
    sv = read_state_vectors(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert sv.callsigns.tolist() == ["A\nB"]
    assert sv.skipped.first_lines["bad_value"] == [4]


def test_json_of_the_skipped_rows_names_the_columns(tmp_path):
    rows = ["100,abc123,48.1,2.1,,90,0,X,False,,,,3000,,,", "100,abc124,48.1,2.1,200,,0,X,False,,,,3000,,,"]
    out = read_state_vectors(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")).skipped.to_json()
    assert out["total"] == 2 and out["counts"]["no_velocity"] == 2
    assert [(e["reason"], e["column"], e["count"], e["first_lines"]) for e in out["columns"]] == [
        ("no_velocity", "velocity", 1, [2]), ("no_velocity", "heading", 1, [3])]


CELL = st.one_of(st.just(""), st.text(alphabet="0123456789.-eE TrueFals x", max_size=8),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.lists(CELL, min_size=14, max_size=17), st.booleans()), max_size=8))
def test_every_line_is_kept_or_skipped_once_with_its_line_number(tmp_path_factory, rows):
    """Any mix of good, bad, short and blank lines: each data line is kept or skipped exactly
    once, and the lines named are the data lines (in order)."""
    lines = [HEADER]
    data_lines = []
    for cells, blank_after in rows:
        lines.append("100,abc123," + ",".join(c.replace(",", "") for c in cells))
        data_lines.append(len(lines))
        if blank_after:
            lines.append("")
    path = tmp_path_factory.mktemp("mix") / "s.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sv = read_state_vectors(path)
    assert len(sv.rows) + sv.skipped.total == len(data_lines)
    for e in sv.skipped.by_column.values():
        assert e.first_lines == sorted(e.first_lines) and set(e.first_lines) <= set(data_lines)


def test_a_column_given_twice_is_refused(tmp_path):
    path = write(tmp_path, "time,icao24,lat,lon,velocity,heading,vertrate,baroaltitude,lat\n"
                           "100,abc,48,2,200,0,0,3000,49\n")
    with pytest.raises(FormatError) as err:
        read_state_vectors(path)
    assert "lat appear more than once" in str(err.value)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=400), header=st.booleans())
def test_any_bytes_are_read_or_refused_as_a_format_error(tmp_path_factory, body, header):
    """Whatever the bytes (garbage, NULs, stray quotes and carriage returns, invalid UTF-8),
    the reader returns rows and skips, or raises FormatError naming the file: nothing else."""
    path = tmp_path_factory.mktemp("bytes") / "s.csv"
    path.write_bytes((HEADER.encode() + b"\n" if header else b"") + body)
    try:
        sv = read_state_vectors(path)
    except FormatError as error:
        assert str(path) in str(error)
        return
    assert len(sv.rows) + sv.skipped.total >= 0


def test_bytes_that_are_not_utf8_are_a_bad_value_of_their_row(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"time,icao24,lat,lon,velocity,heading,vertrate,baroaltitude\n"
                     b"100,ab\xa3c,48,2,200,0,0\n"  # short, and not UTF-8
                     b"100,ab\xffd,48,2,200,0,0,3000\n"  # an id that is not UTF-8
                     b"100,abe,48,2,200,0,0,3000\n")
    sv = read_state_vectors(path)
    assert sv.rows.ids.tolist() == ["abe"]
    assert sv.skipped.by_column["bad_value", "(row)"].first_lines == [2]
    assert sv.skipped.by_column["bad_value", "icao24"].first_messages == ["icao24 is not UTF-8 text"]
    assert sv.skipped.by_column["bad_value", "icao24"].first_lines == [3]


def test_a_time_no_clock_can_show_is_a_bad_value(tmp_path):
    sv = read_state_vectors(write(tmp_path, "time,icao24,lat,lon,velocity,heading,vertrate,baroaltitude\n"
                                            "1e15,abc,48,2,200,0,0,3000\n100,abd,48,2,200,0,0,3000\n"))
    assert sv.rows.ids.tolist() == ["abd"]
    assert sv.skipped.by_column["bad_value", "time"].first_lines == [2]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.lists(CELL, min_size=14, max_size=17), st.booleans()), min_size=1,
                     max_size=12))
def test_a_body_read_with_every_row_says_each_line_once(rows):
    """``parse_state_vectors(keep_every=True)`` (a POST /tracks body): every data line is kept
    (``kept_lines``) or refused (``skipped.refusals``), exactly once, whatever is in it."""
    lines = [HEADER]
    data_lines = []
    for cells, blank_after in rows:
        lines.append("100,abc123," + ",".join(c.replace(",", "") for c in cells))
        data_lines.append(len(lines))
        if blank_after:
            lines.append("")
    sv = parse_state_vectors(("\n".join(lines) + "\n").encode(), "body", keep_every=True)
    told = sv.kept_lines.tolist() + [r.line for r in sv.skipped.refusals]
    assert sorted(told) == data_lines
    assert len(sv.skipped.refusals) == sv.skipped.total
    assert all(r.reason in REASONS and r.message for r in sv.skipped.refusals)
