"""Field checks for request bodies and socket payloads: one error sentence per bad field."""

from __future__ import annotations

import re
from datetime import datetime

from aict.errors import bad_request

# C0 controls, DEL and C1 controls: ESC, BEL, CR, LF and friends in a name would repaint or split
# whatever terminal, log line or page shows it.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What a terminal or a text view acts on or hides rather than shows: C0 and C1 controls, DEL, and
# Unicode's invisible and direction-changing characters (as static/src/lib/escape.js).
UNSEEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def escape_unseen(text: str) -> str:
    """`text` with each such character as a visible escape (\\x1b, \\u202e), as the pages show them."""
    return UNSEEN_CHARACTERS.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def json_unseen_escaped(text: str) -> str:
    """JSON text with those characters as JSON escapes too: the same value, safe to `cat`."""
    return UNSEEN_CHARACTERS.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def text_field(body: dict, name: str, *, required: bool = True, max_len: int = 256,
               default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is None:
        if required:
            raise bad_request(f"'{name}' is required.")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad_request(f"'{name}' must be a non-empty string.")
    if len(value) > max_len:
        raise bad_request(f"'{name}' is longer than {max_len} characters.")
    return _checked_text(name, value)


# What a name may not hold besides control characters: what changes the direction of the text
# around it or hides in it ("x\u202egnp.exe" read as "x.png exe"), and line separators. Zero-width
# joiners (U+200C, U+200D) stay: Persian, Indic scripts and emoji need them.
DECEPTIVE_CHARACTERS = re.compile(r"[\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def name_field(body: dict, name: str, *, required: bool = True, max_len: int = 128) -> str | None:
    """A name people read (a workspace's, a session's): text without control characters, trimmed."""
    value = text_field(body, name, required=required, max_len=max_len)
    if value is None:
        return None
    if CONTROL_CHARACTERS.search(value):
        raise bad_request(f"'{name}' may not contain control characters.")
    if DECEPTIVE_CHARACTERS.search(value):
        raise bad_request(f"'{name}' may not contain invisible or direction-changing characters (such as U+202E).")
    return value.strip()


def _checked_text(name: str, value: str) -> str:
    """`value`, if it can be stored and passed on: JSON's \\u escapes admit lone surrogates, which
    no database, file name or SSH password can take, and NUL ends a C string early."""
    if "\x00" in value:
        raise bad_request(f"'{name}' may not contain a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f"'{name}' is not valid Unicode text (it holds a lone surrogate).") from None
    return value


def int_field(body: dict, name: str, *, low: int, high: int, default: int | None = None,
              required: bool = False) -> int | None:
    value = body.get(name, default)
    if value is None:
        if required:
            raise bad_request(f"'{name}' is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(f"'{name}' must be a whole number from {low} to {high}.")
    return value


MAX_DIGITS = 12  # more is no count anyone means (and int() of thousands of digits is refused)


def count_arg(raw: str | None, name: str, default: int, high: int, *, clamp: bool = False) -> int:
    """A query argument that counts something (a page's size): ASCII digits, at least 1, at most
    `high` (larger is `high` with `clamp`, else refused); `default` when absent."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_DIGITS or int(raw) < 1 \
            or (int(raw) > high and not clamp):
        raise bad_request(f"'{name}' must be a whole number from 1 to {high}.")
    return min(int(raw), high)


def time_arg(args, name: str) -> datetime | None:
    """A query argument that is an ISO 8601 time, as the naive UTC the database stores; None if absent."""
    raw = args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is not None:  # stored as naive UTC
            value = (value - value.utcoffset()).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one that UTC puts past year 9999 or before year 1
        raise bad_request(f"'{name}' must be an ISO 8601 time, e.g. 2026-12-06T10:00:00Z.") from None
    return value
