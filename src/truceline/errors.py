"""The one error hierarchy of Truceline.

Every error names what is wrong (``field``) and, where it helps, where (``where``: a
file, a feature, a vertex). The API maps ``type_slug`` to an RFC 9457 problem ``type``;
the CLI prints ``str(error)`` on one line and exits non-zero.
"""

from __future__ import annotations


class TrucelineError(Exception):
    """Base of every error Truceline raises on purpose."""

    type_slug = "error"

    def __init__(self, message: str, *, field: str | None = None, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.where = where

    def __str__(self) -> str:
        parts = []
        if self.where:
            parts.append(self.where)
        if self.field:
            parts.append(self.field)
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message

    def located(self, where: str) -> TrucelineError:
        """Return the same error with ``where`` prefixed (file, then feature, ...)."""
        self.where = f"{where}: {self.where}" if self.where else where
        return self


class ValidationError(TrucelineError):
    """Input that breaks a rule of the domain (a field out of range, a bad enum value)."""

    type_slug = "validation"


class GeometryError(ValidationError):
    """A shape that is not a valid, unambiguous WGS84 area (names the vertex at fault)."""

    type_slug = "geometry"


class AltitudeReferenceError(ValidationError):
    """Two altitudes with different references compared without a configured conversion."""

    type_slug = "altitude-reference"


class FormatError(ValidationError):
    """A file or document that does not follow the format it claims."""

    type_slug = "format"


class NotFoundError(TrucelineError):
    type_slug = "not-found"


class ConflictError(TrucelineError):
    """A request refused because of the current state (e.g. a forbidden-zone conflict)."""

    type_slug = "conflict"


class AuthError(TrucelineError):
    type_slug = "unauthorized"


class RevokedError(AuthError):
    """A bearer token of a revoked party, or one replaced by ``party rotate-token``."""

    type_slug = "revoked"


class SignatureError(AuthError):
    """A signed request (RFC 9421) that is missing, malformed or does not verify."""

    type_slug = "bad-signature"


class StaleSignatureError(SignatureError):
    """A signature whose ``created`` lies outside the accepted window."""

    type_slug = "stale-signature"


class ReplayedNonceError(SignatureError):
    """A signature whose ``nonce`` this party has already used: the request is a replay."""

    type_slug = "replayed-nonce"


class DigestMismatchError(SignatureError):
    """A ``Content-Digest`` (RFC 9530) that does not match the body received."""

    type_slug = "digest-mismatch"


class ForbiddenError(TrucelineError):
    type_slug = "forbidden"


class DatabaseUnavailableError(TrucelineError):
    """A database that cannot be opened: unreachable, missing, or a file that cannot be made.
    ``where`` is its URL with the password hidden."""

    type_slug = "database-unavailable"


class SchemaOutOfDateError(TrucelineError):
    """A database whose schema is older than this code's (``truceline db upgrade`` fixes it).
    ``where`` is its URL with the password hidden."""

    type_slug = "schema-out-of-date"


class LedgerError(TrucelineError):
    type_slug = "ledger"


class LogKeyError(LedgerError):
    """This process's log key is not the key the log records (or there is none for a log
    that has entries): it must not write, nor sign tree heads. Carries both keys (raw),
    ``log_key`` None when the log's key is not known."""

    type_slug = "log-key"

    def __init__(self, message: str, *, log_key: bytes | None, process_key: bytes | None):
        super().__init__(message, field="log_key")
        self.log_key = log_key
        self.process_key = process_key


class VerificationError(LedgerError):
    """A proof, signature or exported log that does not verify; carries its evidence."""

    type_slug = "verification"
