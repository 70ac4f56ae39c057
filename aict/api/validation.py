"""The JSON body of an HTTP request (field checks: aict.validation)."""

from __future__ import annotations

from flask import request

from aict.errors import bad_request


def json_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # json's parser recurses per level: 50,000 '[' in a 100 KB body
        raise bad_request("The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body
