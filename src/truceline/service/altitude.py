"""The altitude model a process compares references with: the EGM96 geoid (always), the
terrain model of ``TRUCELINE_TERRAIN`` and the QNH of ``--qnh`` / ``TRUCELINE_QNH`` (config.py).
Built once per process (the service, a CLI command); geo.altitude says what each converts."""

from __future__ import annotations

from truceline.config import AltitudeSettings, load_altitude
from truceline.geo.altitude import AltitudeModel
from truceline.geo.terrain import open_terrain


def altitude_model(settings: AltitudeSettings | None = None) -> AltitudeModel:
    """The model of ``settings`` (default: the environment's). Raises ValidationError naming
    the variable or the file when the terrain model cannot be read."""
    settings = load_altitude() if settings is None else settings
    terrain = None if settings.terrain is None else open_terrain(settings.terrain)
    return AltitudeModel(terrain=terrain, qnh_hpa=settings.qnh_hpa)
