"""Field checks for request bodies and socket payloads: one error sentence per bad field."""

from __future__ import annotations

from aict.errors import bad_request


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
