"""truceline.config: the TRUCELINE_* environment read in one place, into a typed Config."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.config import Config, load_config
from truceline.errors import ValidationError
from truceline.ledger.keys import KeySource, keys_location
from truceline.store.database import default_url

SRC = Path(__file__).resolve().parents[1] / "src" / "truceline"


def test_the_environment_becomes_a_typed_config() -> None:
    config = load_config(
        {"TRUCELINE_DB": "postgresql://u@h/db", "TRUCELINE_KEYS_DIR": "/srv/keys",
         "TRUCELINE_BUS": "nats://h:4222", "HOME": "/home/officer"}
    )  # fmt: skip
    assert config == Config(
        db="postgresql://u@h/db",
        keys_dir=Path("/srv/keys"),
        bus="nats://h:4222",
        config_home=Path("/home/officer/.config"),
    )


def test_empty_variables_are_unset_and_a_relative_xdg_home_is_ignored() -> None:
    config = load_config({"TRUCELINE_DB": "", "TRUCELINE_BUS": "", "TRUCELINE_KEYS_DIR": "",
                          "XDG_CONFIG_HOME": "relative", "HOME": "/home/o"})  # fmt: skip
    assert (config.db, config.bus, config.keys_dir) == (None, None, None)
    assert config.config_home == Path("/home/o/.config")
    assert load_config({"XDG_CONFIG_HOME": "/etc/xdg"}).config_home == Path("/etc/xdg")


def test_a_relative_keys_dir_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValidationError) as refused:
        load_config({"TRUCELINE_KEYS_DIR": "keys"})
    assert refused.value.field == "TRUCELINE_KEYS_DIR" and "absolute" in str(refused.value)


def test_the_store_and_the_keys_read_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRUCELINE_DB", str(tmp_path / "t.db"))
    assert default_url() == f"sqlite:///{tmp_path / 't.db'}"
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys"))
    found = keys_location(default_url())
    assert (found.path, found.source) == (tmp_path / "keys", KeySource.ENVIRONMENT)


def test_a_relative_keys_dir_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", "keys")
    monkeypatch.setenv("TRUCELINE_DB", str(tmp_path / "t.db"))
    result = CliRunner().invoke(app, ["log", "public-key"])
    assert result.exit_code == 2
    assert result.stderr.startswith("truceline: error: TRUCELINE_KEYS_DIR: must be an absolute path")
    assert result.stderr.count("\n") == 1 and not (tmp_path / "t.db").exists()


def test_only_the_config_module_reads_the_environment() -> None:
    """``os.environ`` / ``os.getenv`` appear in truceline.config alone (Typer's ``envvar=``
    flags name the variables from there)."""
    readers = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(path.relative_to(SRC).as_posix())
    assert sorted(set(readers)) == ["config.py"]


def test_altitude_settings_from_the_environment(tmp_path):
    from truceline.config import AltitudeSettings, load_altitude

    assert load_altitude({}) == AltitudeSettings()
    tile = tmp_path / "N46E006.hgt"
    tile.write_bytes(b"\0" * 8)
    settings = load_altitude({"TRUCELINE_TERRAIN": str(tile), "TRUCELINE_QNH": "1008.5"})
    assert settings == AltitudeSettings(terrain=tile, qnh_hpa=1008.5)
    # a --qnh flag wins over the variable
    assert load_altitude({"TRUCELINE_QNH": "1008"}, qnh_hpa=1020.0).qnh_hpa == 1020.0
    with pytest.raises(ValidationError, match="TRUCELINE_QNH: must be a pressure in hPa, got 'high'"):
        load_altitude({"TRUCELINE_QNH": "high"})
    with pytest.raises(ValidationError, match="TRUCELINE_TERRAIN: no such file or folder"):
        load_altitude({"TRUCELINE_TERRAIN": str(tmp_path / "none")})


def test_notice_lead_times_are_configured_in_seconds() -> None:
    from truceline.config import EMERGENCY_NOTICE_LEAD_S, NOTICE_LEAD_S

    assert (load_config({}).notice_lead_s, load_config({}).emergency_notice_lead_s) == (
        NOTICE_LEAD_S,
        EMERGENCY_NOTICE_LEAD_S,
    ) == (48 * 3600, 24 * 3600)
    config = load_config({"TRUCELINE_NOTICE_LEAD_S": "7200", "TRUCELINE_EMERGENCY_NOTICE_LEAD_S": "60"})
    assert (config.notice_lead_s, config.emergency_notice_lead_s) == (7200, 60)
    with pytest.raises(ValidationError) as raised:
        load_config({"TRUCELINE_NOTICE_LEAD_S": "two days"})
    assert raised.value.field == "TRUCELINE_NOTICE_LEAD_S"
