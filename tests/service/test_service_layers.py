"""The service's shape: decisions only (the store owns SQL), one entry vocabulary and one
projector, and the strategic index read through its public accessors."""

from __future__ import annotations

import ast
from pathlib import Path

from truceline.ledger.entries import Entry, EntryType
from truceline.service import projection

SRC = Path(projection.__file__).resolve().parents[1]
# What a service module may take from sqlalchemy: the types of what it is handed.
_SQLALCHEMY_TYPES = {"Connection", "Engine"}


def _imports_from(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == module
        for alias in node.names
    }


def test_the_service_modules_build_no_sql() -> None:
    found = {
        path.name: names
        for path in sorted((SRC / "service").glob("*.py"))
        if (names := _imports_from(path, "sqlalchemy") - _SQLALCHEMY_TYPES)
    }
    assert found == {}
    tables = {p.name for p in (SRC / "service").glob("*.py") if "store.schema" in p.read_text("utf-8")}
    assert tables == set()  # tables are the store's business


def test_no_module_outside_the_engines_reads_the_index_privately() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name == "engines":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("_zones", "_operations", "_bound", "_cells"):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_every_entry_type_has_its_projector_and_an_unknown_type_projects_nothing() -> None:
    assert set(projection.PROJECTORS) == set(EntryType)

    class Untouchable:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"an unknown entry type reached the database ({name})")

    later = Entry(0, 0, "operator", "sighting.logged", {}, None, b"", b"")
    projection.project(Untouchable(), later)  # type: ignore[arg-type]
