"""Secrets at rest: SSH credentials sealed with Fernet (AES-CBC + HMAC) in a versioned envelope.

AICT_ENCRYPTION_KEY holds one or more comma-separated Fernet keys. The first encrypts; every
one decrypts, so a key is rotated by putting the new one first (`new,old`), re-sealing what
is stored (`flask aict rotate-credentials`), then dropping the old one.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENVELOPE_V1 = b"v1:"


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be opened with any configured key (or are not ours)."""


def _keys(setting: str | list | None) -> list[str]:
    if isinstance(setting, list | tuple):
        return [str(k).strip() for k in setting if str(k).strip()]
    return [k.strip() for k in str(setting or "").split(",") if k.strip()]


class CredentialCipher:
    """Seal and open small JSON documents with the configured keys."""

    def __init__(self, setting: str | list | None):
        keys = _keys(setting)
        if not keys:
            raise ValueError("AICT_ENCRYPTION_KEY is empty: credentials cannot be stored")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise ValueError("AICT_ENCRYPTION_KEY must be comma-separated Fernet keys "
                             "(32 url-safe base64-encoded bytes each)") from exc

    def seal(self, document: dict) -> bytes:
        plain = json.dumps(document, separators=(",", ":")).encode()
        return ENVELOPE_V1 + self._fernet.encrypt(plain)

    def open(self, sealed: bytes) -> dict:
        try:
            return json.loads(self._fernet.decrypt(self._token(sealed)))
        except InvalidToken:
            raise CredentialsUnreadable("no configured encryption key opens these credentials") from None

    def reseal(self, sealed: bytes) -> bytes:
        """The same document sealed with the first (current) key."""
        try:
            return ENVELOPE_V1 + self._fernet.rotate(self._token(sealed))
        except InvalidToken:
            raise CredentialsUnreadable("no configured encryption key opens these credentials") from None

    @staticmethod
    def _token(sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        if not sealed.startswith(ENVELOPE_V1):
            raise CredentialsUnreadable("unknown credentials envelope")
        return sealed[len(ENVELOPE_V1):]
