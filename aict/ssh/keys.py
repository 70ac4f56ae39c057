"""SSH key material: host-key lines and fingerprints as OpenSSH prints them, private keys checked by paramiko."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import struct
from dataclasses import dataclass

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# Host-key line type → the algorithms that may present such a key during key exchange.
HOST_KEY_ALGORITHMS = {
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256"),
}
MAX_PRIVATE_KEY_CHARS = 16 * 1024


class BadKey(ValueError):
    """A key the user gave cannot be used; the message says why, in a sentence."""


@dataclass(frozen=True)
class HostKey:
    """A public host key: its type and wire blob, printable as a line and a fingerprint."""

    key_type: str
    blob: bytes

    @property
    def line(self) -> str:
        return f"{self.key_type} {base64.b64encode(self.blob).decode()}"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return HOST_KEY_ALGORITHMS[self.key_type]

    @classmethod
    def from_pkey(cls, key: paramiko.PKey) -> HostKey:
        blob = key.asbytes()
        return cls(_blob_type(blob), blob)


def fingerprint(blob: bytes) -> str:
    """`SHA256:<base64 without padding>`, exactly as `ssh-keygen -l` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _blob_type(blob: bytes) -> str:
    if len(blob) < 4:
        raise BadKey("The host key is truncated.")
    (length,) = struct.unpack(">I", blob[:4])
    if length > 64 or len(blob) < 4 + length:
        raise BadKey("The host key is not an SSH public key.")
    return blob[4:4 + length].decode("ascii", "replace")


def parse_host_key(text: str) -> HostKey:
    """One OpenSSH public-key line (`ssh-ed25519 AAAA... [comment]`), optionally led by a host name
    as `ssh-keyscan` prints it; raises BadKey with a sentence for anything else."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1:
        raise BadKey("'host_key' must be exactly one OpenSSH public-key line, like 'ssh-ed25519 AAAA...'.")
    fields = lines[0].split()
    if fields and fields[0] not in HOST_KEY_ALGORITHMS and len(fields) >= 3 and fields[1] in HOST_KEY_ALGORITHMS:
        fields = fields[1:]  # "host ssh-ed25519 AAAA..." as ssh-keyscan prints it
    if len(fields) < 2 or fields[0] not in HOST_KEY_ALGORITHMS:
        kinds = ", ".join(HOST_KEY_ALGORITHMS)
        raise BadKey(f"'host_key' must start with a key type ({kinds}) followed by the base64 key.")
    key_type, encoded = fields[0], fields[1]
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadKey("The base64 part of 'host_key' is not valid base64.") from None
    if _blob_type(blob) != key_type:
        raise BadKey(f"'host_key' says {key_type} but its key data is of another type.")
    try:
        paramiko.PKey.from_type_string(key_type, blob)
    except Exception:
        raise BadKey(f"'host_key' is not a valid {key_type} public key.") from None
    return HostKey(key_type, blob)


def load_private_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    """Parse an OpenSSH, PEM or PKCS#8 private key (ed25519, ECDSA, RSA) into a paramiko key;
    BadKey with a sentence when it is not one, or the passphrase is missing or wrong."""
    if len(text) > MAX_PRIVATE_KEY_CHARS:
        raise BadKey("The private key is too long to be an SSH key.")
    data = text.strip().encode() + b"\n"
    password = passphrase.encode() if passphrase else None
    openssh = data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    loader = serialization.load_ssh_private_key if openssh else serialization.load_pem_private_key
    try:
        try:
            loaded = loader(data, password=password)
        except TypeError as exc:
            if password and "not encrypted" in str(exc):
                loaded = loader(data, password=None)  # a passphrase for a plain key: nothing to open
            else:
                raise BadKey("The private key is encrypted: give its passphrase.") from None
    except BadKey:
        raise
    except Exception as exc:
        message = str(exc).lower()
        if password and ("checksum" in message or "password" in message or "decrypt" in message):
            raise BadKey("The passphrase does not open the private key.") from None
        raise BadKey("'private_key' is not an OpenSSH or PEM private key (ed25519, ECDSA or RSA).") from None
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise BadKey("Only ed25519, ECDSA and RSA private keys are supported.")
    # paramiko reads OpenSSH and traditional PEM; hand it one normalised form (PKCS#8 included).
    normalised = loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                      serialization.NoEncryption()).decode()
    try:
        return key_class.from_private_key(io.StringIO(normalised))
    except Exception:
        raise BadKey("The private key uses parameters SSH does not support.") from None
