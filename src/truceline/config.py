"""The environment Truceline is configured by, read in this one place into a typed Config.

The server side (`serve`, `import`, `party ...`, `log ...`):

- ``TRUCELINE_DB``: the database, a URL or a SQLite file path (default: the SQLite file
  ``truceline-data/truceline.db``);
- ``TRUCELINE_KEYS_DIR``: the folder of the log's key, an absolute path (default: beside
  a SQLite file, else the user's config home: ``$XDG_CONFIG_HOME/truceline/keys``, else
  ``~/.config/truceline/keys``);
- ``TRUCELINE_BUS``: ``nats://host:4222`` links several servers and takes parties' tracks
  from the JetStream stream ``TRACKS`` (default: in-process);
- ``TRUCELINE_SCAN_INTERVAL_S``: seconds between two scans of the live tracks (default 2;
  ``0`` turns continuous detection off) and ``TRUCELINE_TRACK_MAX_AGE_S``: a track not
  reported for that long is dropped from the live picture (default 60);
- ``TRUCELINE_LOG_LEVEL``: ``debug|info|warning|error`` (default ``info``) and
  ``TRUCELINE_LOG_FORMAT``: ``json|text`` (default ``json``), the server's logs.

The client commands' ``TRUCELINE_URL``, ``TRUCELINE_TOKEN`` and ``TRUCELINE_KEY`` are the
defaults of their ``--url``, ``--token`` and ``--key`` flags (Typer reads them, named here).

Read when asked (``load_config()``), not at import: each command, and each test, sees the
environment as it is then.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from truceline.errors import ValidationError

DB_ENV = "TRUCELINE_DB"
KEYS_DIR_ENV = "TRUCELINE_KEYS_DIR"
BUS_ENV = "TRUCELINE_BUS"
URL_ENV = "TRUCELINE_URL"
TOKEN_ENV = "TRUCELINE_TOKEN"
KEY_ENV = "TRUCELINE_KEY"
CACHE_DIR_ENV = "TRUCELINE_CACHE_DIR"
AOT_ENV = "TRUCELINE_AOT"
LOG_LEVEL_ENV = "TRUCELINE_LOG_LEVEL"
LOG_FORMAT_ENV = "TRUCELINE_LOG_FORMAT"
SCAN_INTERVAL_ENV = "TRUCELINE_SCAN_INTERVAL_S"
TRACK_MAX_AGE_ENV = "TRUCELINE_TRACK_MAX_AGE_S"
LOG_LEVELS = ("debug", "info", "warning", "error")


class LogFormat(enum.Enum):
    JSON = "json"  # one JSON object a line, for a log collector
    TEXT = "text"  # for a person at a terminal


@dataclass(frozen=True, slots=True)
class Config:
    """What the environment configures; None where it says nothing (the default applies)."""

    db: str | None = None  # a URL or a SQLite file path, as given
    keys_dir: Path | None = None  # absolute, ``~`` expanded
    bus: str | None = None
    config_home: Path = field(default_factory=lambda: Path.home() / ".config")  # XDG Base Directory's
    log_level: str = "info"  # one of LOG_LEVELS
    log_format: LogFormat = LogFormat.JSON
    scan_interval_s: float = 2.0  # 0: no continuous detection
    track_max_age_s: float = 60.0


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The Config of ``environ`` (default: ``os.environ``). An empty variable counts as unset.
    Raises ValidationError naming the variable (a relative ``TRUCELINE_KEYS_DIR``: a
    relative folder would depend on the working folder, and a ``party add`` run elsewhere
    would make a second log key)."""
    env = os.environ if environ is None else environ
    keys_dir = None
    configured = env.get(KEYS_DIR_ENV, "")
    if configured:
        keys_dir = Path(configured).expanduser()
        if not keys_dir.is_absolute():
            raise ValidationError(
                f"must be an absolute path (a relative one depends on the working folder), "
                f"got {configured!r}",
                field=KEYS_DIR_ENV,
            )
    # XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and must be ignored.
    config_home = Path(env.get("XDG_CONFIG_HOME", ""))
    if not config_home.is_absolute():
        home = env.get("HOME", "")
        config_home = (Path(home) if home else Path.home()) / ".config"
    log_level = (env.get(LOG_LEVEL_ENV) or "info").lower()
    if log_level not in LOG_LEVELS:
        raise ValidationError(
            f"must be one of {', '.join(LOG_LEVELS)}, got {env.get(LOG_LEVEL_ENV)!r}", field=LOG_LEVEL_ENV
        )
    log_format = (env.get(LOG_FORMAT_ENV) or "json").lower()
    if log_format not in {f.value for f in LogFormat}:
        raise ValidationError(f"must be json or text, got {env.get(LOG_FORMAT_ENV)!r}", field=LOG_FORMAT_ENV)
    scan_interval_s = _seconds(env, SCAN_INTERVAL_ENV, 2.0, zero_ok=True)
    track_max_age_s = _seconds(env, TRACK_MAX_AGE_ENV, 60.0, zero_ok=False)
    return Config(
        db=env.get(DB_ENV) or None,
        keys_dir=keys_dir,
        bus=env.get(BUS_ENV) or None,
        config_home=config_home,
        log_level=log_level,
        log_format=LogFormat(log_format),
        scan_interval_s=scan_interval_s,
        track_max_age_s=track_max_age_s,
    )


def _seconds(env: Mapping[str, str], name: str, default: float, *, zero_ok: bool) -> float:
    text = env.get(name) or ""
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
        bound = ">= 0" if zero_ok else "> 0"
        raise ValidationError(f"must be a number of seconds {bound}, got {text!r}", field=name)
    return value


@dataclass(frozen=True, slots=True)
class CompileCache:
    """Where compiled kernels are kept (engines.pairgrid_aot), and whether to build them.
    Apart from Config because an offline scan reads only this: a bad TRUCELINE_KEYS_DIR must
    not stop `truceline conflicts`."""

    folder: Path  # .../truceline/aot
    enabled: bool
    compiler: str  # the C compiler numba.pycc calls ($CC, else cc)


def load_compile_cache(environ: Mapping[str, str] | None = None) -> CompileCache:
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_DIR_ENV, "")
    if explicit:
        folder = Path(explicit) / "aot"
    else:
        base = env.get("XDG_CACHE_HOME", "")
        folder = (Path(base) if Path(base).is_absolute() else Path.home() / ".cache") / "truceline" / "aot"
    return CompileCache(folder=folder, enabled=env.get(AOT_ENV, "1") != "0", compiler=env.get("CC") or "cc")
