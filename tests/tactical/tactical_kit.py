"""Shared helpers of the tactical tests: state-vector files shaped unlike the samples."""

from __future__ import annotations

from pathlib import Path


def blank_column(source: Path, target: Path, column: str) -> Path:
    """A copy of ``source`` with ``column`` emptied in every row (as some OpenSky exports are)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    k = lines[0].split(",").index(column)
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[k] = ""
        out.append(",".join(cells))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target
