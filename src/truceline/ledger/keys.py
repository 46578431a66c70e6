"""Ed25519 keys: where the log's own key lives and its file, raw public keys as the log
records them, and the fingerprint that names a key to people."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.config import KEYS_DIR_ENV, load_config
from truceline.errors import LedgerError, ValidationError
from truceline.ledger.canonical import b64decode, b64encode

LOG_KEY_FILE = "log-ed25519.pem"
LOG_PUBLIC_KEY_FILE = "log-ed25519.pub"  # base64 of the raw 32-byte public key, one line
FINGERPRINT_PREFIX = "sha256:"


class KeySource(StrEnum):
    """Why the log key is looked for where it is (printed with the folder)."""

    ENVIRONMENT = KEYS_DIR_ENV
    BESIDE_DATABASE = "beside the SQLite file"
    CONFIG_HOME = "the default for a database URL: the user's config home"


@dataclass(frozen=True, slots=True)
class KeysLocation:
    """The folder holding the log key (absolute) and why it is that one."""

    path: Path
    source: KeySource

    def __str__(self) -> str:
        return f"{self.path} ({self.source})"


def keys_location(database_url: str, environ: Mapping[str, str] | None = None) -> KeysLocation:
    """Where the log key of the database at ``database_url`` lives, never relative to the
    working folder (a ``party add`` run elsewhere would otherwise make a second key):

    1. ``TRUCELINE_KEYS_DIR`` if set (it must be an absolute path; ``~`` is expanded);
    2. for a SQLite file, ``keys/`` beside the file (the file itself decides the folder);
    3. otherwise (a server database, or ``:memory:``) ``$XDG_CONFIG_HOME/truceline/keys``,
       else ``~/.config/truceline/keys``.

    ``environ`` defaults to ``os.environ`` (read by ``truceline.config``).
    """
    config = load_config(environ)
    if config.keys_dir is not None:
        return KeysLocation(config.keys_dir, KeySource.ENVIRONMENT)
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        database_file = Path(database_url.removeprefix("sqlite:///")).absolute()
        return KeysLocation(database_file.parent / "keys", KeySource.BESIDE_DATABASE)
    return KeysLocation(config.config_home / "truceline" / "keys", KeySource.CONFIG_HOME)


def keys_dir_for(database_url: str) -> Path:
    """The folder of ``keys_location`` (see there)."""
    return keys_location(database_url).path


def fingerprint(raw: bytes) -> str:
    """How a log key is named to people: ``sha256:`` and the first 32 hex digits (128 bits)
    of SHA-256 over the raw 32-byte key. Two keys are compared in full (``--key``); this
    only names them in messages."""
    return FINGERPRINT_PREFIX + hashlib.sha256(raw).hexdigest()[:32]


def parse_public_key(text: str, *, field: str = "public_key") -> bytes:
    """The raw 32 bytes of a key written as ``truceline log public-key`` prints it (base64,
    surrounding whitespace ignored); raises FormatError naming ``field``."""
    return b64decode(text.strip(), field=field, size=32)


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
