"""Small payload checks shared by HTTP routes and socket handlers."""

from __future__ import annotations

from flask import request

from aict.errors import bad_request


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


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
