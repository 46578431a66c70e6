"""A database that cannot be opened is one line naming its URL (password hidden) and exit 2,
for every command that opens one; never a traceback."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy
from typer.testing import CliRunner

from truceline.cli import app

runner = CliRunner()

UNREACHABLE = "postgresql+psycopg://u:secret@127.0.0.1:1/x"


def _zone_file(folder: Path) -> Path:
    ring = [[36.0, 33.0], [36.1, 33.0], [36.1, 33.1], [36.0, 33.1], [36.0, 33.0]]
    feature = {
        "type": "Feature",
        "id": "z1",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "kind": "no_fly", "restricts": "all", "activity": "any", "entry": "forbidden", "party": "A",
            "altitude_lower_m": 0, "altitude_upper_m": 1000,
            "time_start": "2017-07-10T08:00:00Z", "time_end": "2017-07-10T10:00:00Z",
        },
    }  # fmt: skip
    path = folder / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def _commands(folder: Path) -> list[list[str]]:
    return [
        ["serve"],
        ["party", "add", "Someone"],
        ["log", "export", str(folder / "export")],
        ["log", "prove", "0"],
        ["log", "consistency", "0", "1"],
        ["log", "rebuild"],
        ["log", "public-key"],
        ["import", str(_zone_file(folder))],
        ["demo", "--report", str(folder / "report.geojson")],
    ]


COMMAND_NAMES = ["serve", "party add", "log export", "log prove", "log consistency", "log rebuild",
                 "log public-key", "import", "demo"]  # fmt: skip


def _assert_one_line(args: list[str], db: str, shown: str, reason: str) -> None:
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"truceline: error: {shown}: cannot ")
    assert reason in lines[0]
    assert "secret" not in result.output and "Traceback" not in result.output


@pytest.fixture(autouse=True)
def _keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The log key's folder is configured, so only the database can be at fault.
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("TRUCELINE_DB", raising=False)


@pytest.mark.parametrize("index", range(len(COMMAND_NAMES)), ids=COMMAND_NAMES)
def test_an_unreachable_server_is_one_line(tmp_path: Path, index: int) -> None:
    shown = "postgresql+psycopg://u:***@127.0.0.1:1/x"
    _assert_one_line(_commands(tmp_path)[index], UNREACHABLE, shown, "Connection refused")


@pytest.mark.postgres
@pytest.mark.parametrize("index", range(len(COMMAND_NAMES)), ids=COMMAND_NAMES)
def test_a_missing_database_on_the_real_server_is_one_line(
    tmp_path: Path, index: int, postgres_url: str
) -> None:
    # The fixture's server, with a database name that does not exist on it.
    name = f"truceline_missing_{uuid.uuid4().hex[:12]}"
    url = sqlalchemy.make_url(postgres_url).set(password="secret", database=name)
    db = url.render_as_string(hide_password=False)
    shown = url.render_as_string(hide_password=True)
    _assert_one_line(_commands(tmp_path)[index], db, shown, f'database "{name}" does not exist')


def test_a_sqlite_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    db = str(blocker / "data" / "truceline.db")
    _assert_one_line(["party", "add", "Someone"], db, f"sqlite:///{db}", "Not a directory")


def test_a_url_that_does_not_parse_names_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["log", "public-key", "--db", "postgresql+psycopg://u:secret@h:port/x"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "truceline: error: postgresql+psycopg://u:***@h:port/x: db: is not a database URL: "
        "invalid literal for int() with base 10: 'port'"
    )


def test_notifications_status_refuses_bad_input_in_one_line(tmp_path) -> None:
    from typer.testing import CliRunner as Runner

    from truceline.cli import app as cli

    naive = Runner().invoke(cli, ["notifications", "status", "--at", "2017-07-12T11:00:00", "--lon", "36",
                                  "--lat", "35", "--export", str(tmp_path)])  # fmt: skip
    assert naive.exit_code == 2 and "--at" in naive.output and naive.output.count("\n") == 1, naive.output
    missing = Runner().invoke(cli, ["notifications", "status", "--at", "2017-07-12T11:00:00Z", "--lon", "36",
                                    "--lat", "35", "--export", str(tmp_path / "none")])  # fmt: skip
    assert missing.exit_code == 2 and missing.output.startswith("truceline: error:"), missing.output
    far = Runner().invoke(cli, ["notifications", "status", "--at", "2017-07-12T11:00:00Z", "--lon", "200",
                                "--lat", "35", "--export", str(tmp_path)])  # fmt: skip
    assert far.exit_code == 2 and "lon" in far.output, far.output
