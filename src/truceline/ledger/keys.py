"""Ed25519 keys: the log's own key on disk, and raw public keys as the log records them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.errors import LedgerError, ValidationError
from truceline.ledger.canonical import b64encode

LOG_KEY_FILE = "log-ed25519.pem"
LOG_PUBLIC_KEY_FILE = "log-ed25519.pub"  # base64 of the raw 32-byte public key, one line
KEYS_DIR_ENV = "TRUCELINE_KEYS_DIR"


def keys_dir_for(database_url: str) -> Path:
    """Where the log key lives: ``TRUCELINE_KEYS_DIR`` if set, else ``keys/`` next to the
    SQLite file, else (a server database) ``./truceline-data/keys``."""
    configured = os.environ.get(KEYS_DIR_ENV, "")
    if configured:
        return Path(configured)
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        return Path(database_url.removeprefix("sqlite:///")).parent / "keys"
    return Path("truceline-data") / "keys"


def load_or_create_log_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The log's signing key from ``keys_dir``, generated on first use.

    The private key is written PKCS#8 PEM with mode 0600 (created with that mode, never
    widened); an existing key file readable by group or others is refused rather than
    used. The public key is written alongside as ``log-ed25519.pub``.
    """
    path = keys_dir / LOG_KEY_FILE
    if not path.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            # O_EXCL: two processes starting at once must not both write a key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_log_key(keys_dir)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        (keys_dir / LOG_PUBLIC_KEY_FILE).write_text(b64encode(raw_public_key(key.public_key())) + "\n")
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise LedgerError(f"key file has mode {mode:o}; it must be 0600", where=str(path))
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise LedgerError(f"not a PEM private key: {exc}", where=str(path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError("not an Ed25519 private key", where=str(path))
    return key


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key (RFC 8032)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_raw(raw: bytes, *, field: str = "public_key") -> Ed25519PublicKey:
    """Requires 32 bytes."""
    if len(raw) != 32:
        raise ValidationError(f"an Ed25519 public key has 32 bytes, got {len(raw)}", field=field)
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_ok(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
