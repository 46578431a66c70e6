"""Schema migrations: a new database is created at head; the revisions, run from the start,
build exactly the schema the code declares; a database that the code of commit c4a606c
(before migrations) made is refused until ``truceline db upgrade``, which keeps every row.

The old database is made by c4a606c's own code (``git archive`` of that commit, run with
PYTHONPATH pointing at it), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, table
from typer.testing import CliRunner

import truceline.store.tables  # noqa: F401
from truceline.cli import app
from truceline.errors import SchemaOutOfDateError
from truceline.store.database import create_schema, metadata, open_engine
from truceline.store.migrate import BASELINE, downgrade, head_revision, schema_state, upgrade

REPO = Path(__file__).resolve().parents[2]
OLD_COMMIT = "c4a606c"
RUN_CLI = "from truceline.cli import app; app()"


@pytest.fixture(scope="session")
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``src`` folder of commit c4a606c (today's main when migrations came)."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", OLD_COMMIT, "src"], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        # A shallow clone (or an unpacked release) has no history to build the old database
        # from; anything else going wrong in CI is a failure.
        shallow = subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{OLD_COMMIT}^{{commit}}"], capture_output=True
        ).returncode != 0
        if os.environ.get("CI") and not shallow:
            raise
        pytest.skip(f"git cannot give commit {OLD_COMMIT}: {error}")
    folder = tmp_path_factory.mktemp("c4a606c")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def cli(src: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    if (cwd / "truceline-data" / "keys").is_dir():
        # c4a606c kept a server database's log key in ./truceline-data/keys, this version in
        # the config home: an operator upgrading points TRUCELINE_KEYS_DIR at the old folder.
        env["TRUCELINE_KEYS_DIR"] = str(cwd / "truceline-data" / "keys")
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def row_counts(url: str) -> dict[str, int]:
    engine = open_engine(url)
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
        counts = {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names}
    engine.dispose()
    return counts


def schema_differences(url: str) -> list[object]:
    engine = open_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    return differences


def stamped(url: str) -> str | None:
    engine = open_engine(url)
    with engine.connect() as conn:
        revision = schema_state(conn).revision
    engine.dispose()
    return revision


def sqlite_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


# --- a new database ----------------------------------------------------------------------------


def new_database_is_at_head(url: str) -> None:
    engine = open_engine(url)
    create_schema(engine)
    create_schema(engine)  # a second open accepts it
    engine.dispose()
    assert stamped(url) == head_revision()
    assert schema_differences(url) == []


def test_a_new_sqlite_database_is_created_at_head(tmp_path: Path) -> None:
    new_database_is_at_head(sqlite_url(tmp_path, "new.db"))


@pytest.mark.postgres
def test_a_new_postgresql_database_is_created_at_head(postgres_url: str) -> None:
    new_database_is_at_head(postgres_url)


def revisions_build_the_declared_schema(url: str) -> None:
    engine = open_engine(url)
    result = upgrade(engine)
    engine.dispose()
    assert (result.before, result.after, result.created) == (None, head_revision(), True)
    # What the code declares and what the migrations build are the same tables, columns,
    # types, keys and indexes: a table added to the code without a revision fails here.
    assert schema_differences(url) == []


def test_the_revisions_build_the_declared_schema_on_sqlite(tmp_path: Path) -> None:
    revisions_build_the_declared_schema(sqlite_url(tmp_path, "migrated.db"))


@pytest.mark.postgres
def test_the_revisions_build_the_declared_schema_on_postgresql(postgres_url: str) -> None:
    revisions_build_the_declared_schema(postgres_url)


def test_a_database_at_an_older_revision_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path, "old.db")
    engine = open_engine(url)
    create_schema(engine)
    downgrade(engine, BASELINE)
    with pytest.raises(SchemaOutOfDateError, match=f"is at revision {BASELINE}.*truceline db upgrade"):
        create_schema(engine)
    assert upgrade(engine).before == BASELINE
    create_schema(engine)
    engine.dispose()
    assert schema_differences(url) == []


def test_db_upgrade_of_a_url_that_does_not_parse_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", "nosuch://x"])
    assert result.exit_code == 2
    assert "db" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- a database made by c4a606c's code ------------------------------------------------------


def upgrades_an_old_database(old_code: Path, url: str, db_arg: str, work: Path) -> None:
    made = cli(old_code, "demo", "--db", db_arg, "--report", str(work / "report.geojson"), cwd=work)
    assert made.returncode == 0, made.stderr
    made = cli(old_code, "party", "add", "Old observer", "--role", "observer", "--db", db_arg, cwd=work)
    assert made.returncode == 0, made.stderr
    before = row_counts(url)
    assert before["ledger_entries"] > 0 and before["zones"] > 0 and before["operations"] > 0
    assert "request_nonces" not in before  # c4a606c's schema

    new_code = REPO / "src"
    # Every command of this version refuses the old schema with one line, and writes nothing.
    for command in (["serve", "--port", "9"], ["party", "add", "New party"], ["log", "rebuild"]):
        refused = cli(new_code, *command, "--db", db_arg, cwd=work)
        assert refused.returncode == 2, (command, refused.stderr)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "run `truceline db upgrade`" in lines[0], refused.stderr
        assert "Traceback" not in refused.stderr
    assert row_counts(url) == before

    upgraded = cli(new_code, "db", "upgrade", "--db", db_arg, cwd=work)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from before migrations to revision {head_revision()}" in upgraded.stdout
    again = cli(new_code, "db", "upgrade", "--db", db_arg, cwd=work)
    assert "already at revision" in again.stdout, again.stderr

    # Nothing lost: every old table holds the rows it held; the schema is the declared one.
    after = row_counts(url)
    assert {name: after[name] for name in before} == before
    assert schema_differences(url) == []

    # The log verifies, the projections rebuild from it to the same rows, and it takes writes.
    exported = cli(new_code, "log", "export", str(work / "export"), "--db", db_arg, cwd=work)
    assert exported.returncode == 0, exported.stderr
    verified = cli(new_code, "log", "verify", str(work / "export"), cwd=work)
    assert verified.returncode == 0 and "OK:" in verified.stdout, verified.stdout + verified.stderr
    rebuilt = cli(new_code, "log", "rebuild", "--db", db_arg, cwd=work)
    assert rebuilt.returncode == 0, rebuilt.stderr
    # Coverings are rebuilt by this version's covering (geo.cells, another cell count than
    # c4a606c's for the same shapes); every other table holds the same rows.
    rebuilt_counts = {name: n for name, n in row_counts(url).items() if name in before}
    assert rebuilt_counts.pop("volume_cells") > 0
    assert rebuilt_counts == {name: n for name, n in before.items() if name != "volume_cells"}
    added = cli(new_code, "party", "add", "New party", "--db", db_arg, cwd=work)
    assert added.returncode == 0, added.stderr
    assert row_counts(url)["ledger_entries"] == before["ledger_entries"] + 1


@pytest.mark.slow
def test_db_upgrade_brings_a_sqlite_database_of_c4a606c_to_head(old_code: Path, tmp_path: Path) -> None:
    db = tmp_path / "data" / "old.db"
    upgrades_an_old_database(old_code, sqlite_url(tmp_path, "data/old.db"), str(db), tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_db_upgrade_brings_a_postgresql_database_of_c4a606c_to_head(
    old_code: Path, postgres_url: str, tmp_path: Path
) -> None:
    upgrades_an_old_database(old_code, postgres_url, postgres_url, tmp_path)
