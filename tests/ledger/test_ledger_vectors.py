"""The published transparency-dev/merkle vectors: accept every wantErr:false, refuse every wantErr:true."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from shared_data import SHARED_DATA
from truceline.errors import VerificationError
from truceline.ledger.merkle import verify_consistency, verify_inclusion

DATA = SHARED_DATA / "merkle-testdata"


def _cases(kind: str) -> list[Path]:
    return sorted((DATA / kind).rglob("*.json"))


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_vectors_present():
    # Guard: an empty parametrisation would pass vacuously.
    assert len(_cases("inclusion")) > 90 and len(_cases("consistency")) > 90


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(DATA)))
def test_inclusion_vector(path: Path):
    case = json.loads(path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(DATA)))
def test_consistency_vector(path: Path):
    case = json.loads(path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
