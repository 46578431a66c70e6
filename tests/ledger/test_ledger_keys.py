"""One log, one key: where the key lives, the key the log records, and a process holding
another key refused before it writes (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger_testkit import NOW
from sqlalchemy import delete, func, select

from truceline.errors import FormatError, LogKeyError, ValidationError
from truceline.ledger import (
    EntryDraft,
    KeysLocation,
    Ledger,
    fingerprint,
    keys_location,
    load_or_create_log_key,
    open_ledger,
)
from truceline.ledger.canonical import b64encode
from truceline.ledger.keys import KeySource, parse_public_key, raw_public_key
from truceline.store.database import create_schema, open_engine
from truceline.store.schema import ledger_entries, ledger_log_key

DRAFTS = [EntryDraft("message.sent", "system", {"n": i}) for i in range(3)]


def test_a_server_database_keeps_its_key_under_the_config_home_wherever_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://postgres@db.example/truceline"
    env = {"XDG_CONFIG_HOME": "/etc/xdg-home", "HOME": "/home/officer"}
    first = keys_location(url, env)
    monkeypatch.chdir(tmp_path)
    assert keys_location(url, env) == first == KeysLocation(
        Path("/etc/xdg-home/truceline/keys"), KeySource.CONFIG_HOME
    )
    # No XDG_CONFIG_HOME, or a relative one (invalid per the XDG spec): ~/.config.
    for other in ({"HOME": "/home/officer"}, {"XDG_CONFIG_HOME": "conf", "HOME": "/home/officer"}):
        assert keys_location(url, other).path == Path("/home/officer/.config/truceline/keys")
    assert "config home" in str(first) and "/etc/xdg-home/truceline/keys" in str(first)


def test_keys_dir_env_wins_and_must_be_absolute(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'a.db'}"
    assert keys_location(sqlite, {"TRUCELINE_KEYS_DIR": "/srv/keys"}) == KeysLocation(
        Path("/srv/keys"), KeySource.ENVIRONMENT
    )
    with pytest.raises(ValidationError) as refused:
        keys_location(sqlite, {"TRUCELINE_KEYS_DIR": "keys"})
    assert refused.value.field == "TRUCELINE_KEYS_DIR" and "absolute" in str(refused.value)


def test_a_sqlite_file_keeps_its_key_beside_it_as_an_absolute_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = keys_location("sqlite:///data/t.db", {})
    assert found == KeysLocation(tmp_path / "data" / "keys", KeySource.BESIDE_DATABASE)


def test_fingerprint_is_sha256_of_the_raw_key_shortened() -> None:
    raw = bytes(range(32))
    assert fingerprint(raw) == "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
    assert fingerprint(raw) != fingerprint(bytes(32))


def test_parse_public_key_names_the_field() -> None:
    raw = bytes(range(32))
    assert parse_public_key(f"  {b64encode(raw)}\n", field="--key") == raw
    with pytest.raises(FormatError) as short:
        parse_public_key(b64encode(raw[:31]), field="--key")
    assert short.value.field == "--key"


def recorded_key(ledger: Ledger) -> bytes | None:
    with ledger.engine.connect() as conn:
        value = conn.execute(select(ledger_log_key.c.public_key)).scalar()
    return None if value is None else bytes(value)


def entry_count(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ledger_entries)).scalar() or 0


def refuses_another_key(url: str, tmp_path: Path) -> None:
    engine = open_engine(url)
    create_schema(engine)
    ours = open_ledger(engine, KeysLocation(tmp_path / "ours", KeySource.ENVIRONMENT))
    # Opened while the log is still empty: nothing to compare with yet.
    theirs = open_ledger(engine, KeysLocation(tmp_path / "theirs", KeySource.CONFIG_HOME))
    with engine.begin() as conn:
        ours.append(conn, DRAFTS, NOW)
    assert recorded_key(ours) == ours.public_key

    with pytest.raises(LogKeyError) as refused, engine.begin() as conn:
        theirs.append(conn, DRAFTS, NOW)
    line = str(refused.value)
    assert fingerprint(ours.public_key) in line and fingerprint(theirs.public_key) in line
    assert str(tmp_path / "theirs") in line and "\n" not in line
    assert (refused.value.log_key, refused.value.process_key) == (ours.public_key, theirs.public_key)
    assert entry_count(ours) == 3  # nothing written by the refused process

    # A process started later with that key is refused when it opens the log.
    with pytest.raises(LogKeyError, match=fingerprint(theirs.public_key)):
        open_ledger(engine, KeysLocation(tmp_path / "theirs", KeySource.CONFIG_HOME))
    with engine.begin() as conn:
        ours.append(conn, DRAFTS, NOW)
    with engine.connect() as conn:
        assert ours.verify(conn) == 6
    engine.dispose()


def test_a_process_with_another_key_refuses_to_write_on_sqlite(tmp_path: Path) -> None:
    refuses_another_key(f"sqlite:///{tmp_path / 'log.db'}", tmp_path)


@pytest.mark.postgres
def test_a_process_with_another_key_refuses_to_write_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    refuses_another_key(postgres_url, tmp_path)


def test_a_log_written_before_the_record_gets_its_key_from_entry_0(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_schema(engine)
    key = load_or_create_log_key(tmp_path / "keys")
    with engine.begin() as conn:
        Ledger(engine, key).append(conn, DRAFTS, NOW)
        conn.execute(delete(ledger_log_key))  # as a log of a version without the table
    stranger = Ledger(engine, Ed25519PrivateKey.generate())
    with pytest.raises(LogKeyError, match="entry 0 does not verify") as refused, engine.begin() as conn:
        stranger.append(conn, DRAFTS, NOW)
    assert fingerprint(stranger.public_key) in str(refused.value)

    same = Ledger(engine, key)
    with engine.begin() as conn:
        same.append(conn, DRAFTS, NOW)
    assert recorded_key(same) == raw_public_key(key.public_key())
    with engine.connect() as conn:
        assert conn.execute(select(ledger_log_key.c.recorded_at_size)).scalar() == 3
    engine.dispose()


def test_a_log_with_entries_and_no_key_where_configured_makes_no_new_key(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_schema(engine)
    ours = open_ledger(engine, KeysLocation(tmp_path / "ours", KeySource.ENVIRONMENT))
    with engine.begin() as conn:
        ours.append(conn, DRAFTS, NOW)
    empty = KeysLocation(tmp_path / "elsewhere", KeySource.CONFIG_HOME)
    with pytest.raises(LogKeyError) as refused:
        open_ledger(engine, empty)
    line = str(refused.value)
    assert "no log key in" in line and str(empty.path) in line and fingerprint(ours.public_key) in line
    assert not empty.path.exists()
    engine.dispose()
