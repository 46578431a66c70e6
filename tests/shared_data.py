"""Where the data nobody here wrote lives: ``shared/data`` beside the repository's folder.

Resolved from this file only, so a clone anywhere finds its own ``../shared`` and never
another checkout's.
"""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATA = REPOSITORY.parent / "shared" / "data"
