"""The tactical broad phase (engines/pairgrid.py) compiled ahead of time, for cold starts.

Loading a numba kernel from numba's on-disk cache still imports numba and builds its compiler
context: about 0.7-1 s before the first candidate pair, most of a `truceline conflicts` run
(docs/tactical.md). The same kernel compiled ahead of time (numba.pycc) into an ordinary
extension module loads in milliseconds without numba. It is built from pairgrid.py's own
source on the first call (about 10 s; it needs a C compiler, as numba.pycc does), kept in a
cache folder, and used by every later process; where it cannot be built or loaded, pairgrid.py
falls back to numba's cached JIT, with the same numbers (tests/tactical/test_pairgrid_aot.py).

Cache folder: ``$TRUCELINE_CACHE_DIR/aot``, else ``$XDG_CACHE_HOME/truceline/aot``, else
``~/.cache/truceline/aot``. The module's name carries a hash of the kernel's source and of the
Python, NumPy and numba versions and of the processor (it is compiled for this one, as numba's
JIT would be), so an upgrade or another machine builds a new one. A failed build leaves
``<name>.failed`` with the error, so it is not retried by every process; delete it, or run
``python -m truceline.engines.pairgrid_aot``, to build again. ``TRUCELINE_AOT=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from truceline.config import load_compile_cache

# the exported signature: exactly the arguments pairgrid.swept_pairs passes to the kernel
SIGNATURE = (
    "Tuple((i8[:], i8[:]))(f8[:, :], f8[:, :], f8[:], f8[:], b1[:], i8[:], f8[:], f8[:, :], f8[:, :], "
    "i8[:, :], f8, f8, f8, f8, f8, f8, b1, b1, i8)"
)


def cache_dir() -> Path:
    return load_compile_cache().folder


def enabled() -> bool:
    return load_compile_cache().enabled


def module_name() -> str:
    """``_truceline_pairgrid_<hash>``: the kernel's source, this file and the versions it was
    compiled for."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in (here / "pairgrid.py", Path(__file__).resolve()):
        digest.update(source.read_bytes())
    try:
        numba_version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        numba_version = "-"
    digest.update(f"{sys.version}|{platform.machine()}|{np.__version__}|{numba_version}".encode())
    digest.update(_cpu().encode())
    return f"_truceline_pairgrid_{digest.hexdigest()[:16]}"


def _cpu() -> str:
    """This machine's processor (model and instruction sets): the module is compiled for it,
    as numba's JIT would be, so a cache folder shared with another machine builds its own."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = [x for x in info.read().splitlines() if x.startswith(("model name", "flags"))][:2]
        return "|".join(lines)
    except OSError:
        return platform.processor()


def module_path(name: str | None = None) -> Path:
    name = name or module_name()
    return cache_dir() / (name + importlib.machinery.EXTENSION_SUFFIXES[0])


def load() -> ModuleType | None:
    """The compiled module when it is in the cache folder, else None."""
    name = module_name()
    path = module_path(name)
    if not path.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    return module


def build() -> Path:
    """Compile the kernel into the cache folder (atomically: a concurrent build of the same
    module is harmless) and return its path. Raises on failure."""
    from truceline.engines import pairgrid

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc's pending-deprecation notice
        from numba.pycc import CC

    name = module_name()
    target = module_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    kernel = pairgrid.jit_kernel()  # binds the compiled helpers the kernel calls
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as work:
        cc = CC(name)
        cc.output_dir = work
        cc.verbose = False
        cc.target_cpu = "host"  # as the JIT: numba.pycc's default, a generic CPU, runs ~1.5x slower
        cc.export("swept_pairs", SIGNATURE)(kernel.py_func)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # setuptools' notices while it links
            cc.compile()
        built = Path(work) / target.name
        os.replace(built, target)
    # modules of other versions are left alone: another environment (another NumPy) may
    # share this folder and still use its own
    return target


def load_or_build() -> ModuleType | None:
    """The compiled module, built first when missing; None when turned off, when the cache
    folder cannot be written, or when a build failed (then once: see ``.failed``)."""
    if not enabled():
        return None
    module = load()
    if module is not None:
        return module
    failed = module_path().with_suffix(".failed")
    if failed.exists() or shutil.which(load_compile_cache().compiler) is None:
        return None
    try:
        build()
    except Exception as error:  # any failure (no compiler, no setuptools, ...): use the JIT
        with contextlib.suppress(OSError):
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(f"{type(error).__name__}: {error}\n", encoding="utf-8")
        return None
    return load()


def main() -> None:
    """``python -m truceline.engines.pairgrid_aot``: (re)build the module and say where it is."""
    path = module_path()
    path.with_suffix(".failed").unlink(missing_ok=True)
    print(build())


if __name__ == "__main__":
    main()
