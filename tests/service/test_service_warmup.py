"""A server loads the strategic check's compiled kernels before its first request."""

from __future__ import annotations

from truceline.engines import strategic
from truceline.geo import disc
from truceline.service.warmup import warm_up


def test_warm_up_compiles_every_kernel_of_the_strategic_check():
    warm_up()
    for kernel in (disc.clip_ring_to_box, disc.disc_ring_depth_area, strategic._possible):
        assert kernel.signatures, f"{kernel.__name__} was not compiled by warm_up"
