"""geo.units: feet and nautical miles written once."""

from __future__ import annotations

import ast
from pathlib import Path

from truceline.engines import tactical
from truceline.geo import altitude
from truceline.geo.units import FOOT_M, NM_M

SRC = Path(__file__).resolve().parents[2] / "src" / "truceline"


def test_the_units_are_the_international_ones_and_shared() -> None:
    assert (FOOT_M, NM_M) == (0.3048, 1852.0)
    # The older homes of the names hold the same objects, for callers that import them there.
    assert altitude.FOOT_M is FOOT_M and tactical.NM_M is NM_M
    assert altitude.to_metres(1000, "ft") == 1000 * FOOT_M


def test_no_module_but_units_writes_a_foot_or_a_nautical_mile_as_a_number() -> None:
    spelled = sorted(
        {
            path.relative_to(SRC).as_posix()
            for path in SRC.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and type(node.value) in (int, float)
            and node.value in (1852, 0.3048)
        }
    )
    assert spelled == ["geo/units.py"]
