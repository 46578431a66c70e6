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
- ``TRUCELINE_SCAN_CLOCK``: ``wall`` (default: the server scans every interval at its own
  clock) or ``tracks`` (a replay server: the recording's time drives the picture and each scan
  runs when the feeder says a recording step is complete, ``POST /picture/scan``; docs/tactical.md);
- ``TRUCELINE_LOG_LEVEL``: ``debug|info|warning|error`` (default ``info``) and
  ``TRUCELINE_LOG_FORMAT``: ``json|text`` (default ``json``), the server's logs;
- ``TRUCELINE_NOTICE_LEAD_S`` and ``TRUCELINE_EMERGENCY_NOTICE_LEAD_S``: the lead time a
  humanitarian movement should be notified with before its departure (default 48 h, and
  24 h when flagged ``emergency``); a shorter one is accepted with a warning.

Incident reports (``load_incident_settings``): ``TRUCELINE_CORROBORATION_DISTANCE_M``
(default 2000) and ``TRUCELINE_CORROBORATION_WINDOW_S`` (default 1800): how near in place
and time an independent report must be for a corroboration to be suggested.

Altitude conversions (``load_altitude``, read apart so that `truceline check` needs no
server settings): ``TRUCELINE_TERRAIN``, the terrain model for AGL (a GeoTIFF, an SRTM
``.hgt`` tile or a folder of them; default: none, so AGL meets other references only at the
ground or unlimited) and ``TRUCELINE_QNH``, the sea-level pressure in hPa for flight levels
(default: the standard atmosphere with a margin; see docs/formats.md).

The client commands' ``TRUCELINE_URL``, ``TRUCELINE_TOKEN`` and ``TRUCELINE_KEY`` are the
defaults of their ``--url``, ``--token`` and ``--key`` flags (Typer reads them, named here).

Read when asked (``load_config()``), not at import: each command, and each test, sees the
environment as it is then.
"""

from __future__ import annotations

import enum
import math
import os
import re
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
# What time the live scan follows (``serve`` and ``truceline worker`` read it alike).
SCAN_CLOCK_ENV = "TRUCELINE_SCAN_CLOCK"


class ScanClock(enum.Enum):
    WALL = "wall"  # the server's clock, every TRUCELINE_SCAN_INTERVAL_S
    TRACKS = "tracks"  # the reports' time, one scan per recording step (a replay server)


def _scan_clock(env: Mapping[str, str]) -> ScanClock:
    text = (env.get(SCAN_CLOCK_ENV) or "wall").lower()
    try:
        return ScanClock(text)
    except ValueError:
        raise ValidationError(f"must be wall or tracks, got {env.get(SCAN_CLOCK_ENV)!r}",
                              field=SCAN_CLOCK_ENV) from None


CORROBORATION_DISTANCE_ENV = "TRUCELINE_CORROBORATION_DISTANCE_M"
CORROBORATION_WINDOW_ENV = "TRUCELINE_CORROBORATION_WINDOW_S"
TERRAIN_ENV = "TRUCELINE_TERRAIN"
QNH_ENV = "TRUCELINE_QNH"
NOTICE_LEAD_ENV = "TRUCELINE_NOTICE_LEAD_S"
EMERGENCY_NOTICE_LEAD_ENV = "TRUCELINE_EMERGENCY_NOTICE_LEAD_S"
NOTICE_LEAD_S = 48 * 3600  # humanitarian movements: notified 48 h before departure
EMERGENCY_NOTICE_LEAD_S = 24 * 3600  # ... or 24 h when flagged emergency


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
    notice_lead_s: int = NOTICE_LEAD_S
    emergency_notice_lead_s: int = EMERGENCY_NOTICE_LEAD_S
    scan_interval_s: float = 2.0  # 0: no continuous detection
    track_max_age_s: float = 60.0
    scan_clock: ScanClock = ScanClock.WALL  # TRUCELINE_SCAN_CLOCK


def _whole_seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of seconds >= 0 from ``env[name]`` (empty or unset: ``default``)."""
    text = env.get(name, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ValidationError(f"must be a whole number of seconds >= 0, got {text!r}", field=name)
    return value


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
        notice_lead_s=_whole_seconds(env, NOTICE_LEAD_ENV, NOTICE_LEAD_S),
        emergency_notice_lead_s=_whole_seconds(env, EMERGENCY_NOTICE_LEAD_ENV, EMERGENCY_NOTICE_LEAD_S),
        scan_interval_s=scan_interval_s,
        track_max_age_s=track_max_age_s,
        scan_clock=_scan_clock(env),
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


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """How the register suggests corroboration: another reporter's report whose uncertainty
    area comes within ``corroboration_distance_m`` of this one's, and whose observed time
    within ``corroboration_window_s`` of this one's (the defaults: 2 km and 30 min)."""

    corroboration_distance_m: float = 2_000.0
    corroboration_window_s: float = 1_800.0

    def __post_init__(self) -> None:
        for name, env in (
            ("corroboration_distance_m", CORROBORATION_DISTANCE_ENV),
            ("corroboration_window_s", CORROBORATION_WINDOW_ENV),
        ):
            value = getattr(self, name)
            if not (0 <= value <= 1_000_000):
                raise ValidationError(f"must be a number from 0 to 1000000, got {value}", field=env)


def load_incident_settings(environ: Mapping[str, str] | None = None) -> IncidentSettings:
    """The IncidentSettings of ``environ`` (default: ``os.environ``); ValidationError names
    the variable."""
    env = os.environ if environ is None else environ
    values: dict[str, float] = {}
    for name, variable in (
        ("corroboration_distance_m", CORROBORATION_DISTANCE_ENV),
        ("corroboration_window_s", CORROBORATION_WINDOW_ENV),
    ):
        text = env.get(variable, "")
        if text:
            try:
                values[name] = float(text)
            except ValueError:
                raise ValidationError(f"must be a number, got {text!r}", field=variable) from None
    return IncidentSettings(**values)


@dataclass(frozen=True, slots=True)
class AltitudeSettings:
    """What the environment says about altitude conversions (geo.altitude.AltitudeModel)."""

    terrain: Path | None = None  # a GeoTIFF, a .hgt tile or a folder of tiles, ``~`` expanded
    qnh_hpa: float | None = None


def load_altitude(
    environ: Mapping[str, str] | None = None, *, qnh_hpa: float | None = None
) -> AltitudeSettings:
    """The altitude settings of ``environ`` (default: ``os.environ``); ``qnh_hpa`` (a ``--qnh``
    flag) wins over ``TRUCELINE_QNH``. Raises ValidationError naming the variable."""
    env = os.environ if environ is None else environ
    terrain = Path(env[TERRAIN_ENV]).expanduser() if env.get(TERRAIN_ENV) else None
    if terrain is not None and not terrain.exists():
        raise ValidationError(f"no such file or folder: {str(terrain)!r}", field=TERRAIN_ENV)
    if qnh_hpa is None and env.get(QNH_ENV):
        try:
            qnh_hpa = float(env[QNH_ENV])
        except ValueError:
            raise ValidationError(f"must be a pressure in hPa, got {env[QNH_ENV]!r}", field=QNH_ENV) from None
    return AltitudeSettings(terrain=terrain, qnh_hpa=qnh_hpa)


# --- workers (`truceline worker`, docs/operations.md "Workers"): a block of its own -----------

WORKER_GROUP_ENV = "TRUCELINE_WORKER_GROUP"
WORKERS_ENV = "TRUCELINE_WORKERS"
_GROUP = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # it ends a JetStream bucket's name


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """``TRUCELINE_SCAN_CLOCK``: ``wall`` (default) scans at the wall clock, ``tracks`` at the
    newest report's time (replays, tests); ``TRUCELINE_WORKER_GROUP``: the workers sharing one
    set of leases (default ``default``); ``TRUCELINE_WORKERS``: ``in-process`` (default: ``serve``
    scans itself) or ``external`` (``serve`` does not scan: ``truceline worker`` processes do)."""

    clock: ScanClock = ScanClock.WALL
    group: str = "default"
    external: bool = False


def load_worker_config(environ: Mapping[str, str] | None = None) -> WorkerConfig:
    """The WorkerConfig of ``environ`` (default ``os.environ``); ValidationError names the variable."""
    env = os.environ if environ is None else environ
    clock = _scan_clock(env)  # as load_config reads it
    group = env.get(WORKER_GROUP_ENV) or "default"
    if not _GROUP.match(group):
        raise ValidationError(f"must be 1 to 64 letters, digits, _ or -, got {group!r}",
                              field=WORKER_GROUP_ENV)
    workers = (env.get(WORKERS_ENV) or "in-process").lower()
    if workers not in ("in-process", "external"):
        given = env.get(WORKERS_ENV)
        raise ValidationError(f"must be in-process or external, got {given!r}", field=WORKERS_ENV)
    return WorkerConfig(clock=clock, group=group, external=workers == "external")
