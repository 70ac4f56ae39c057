"""General request limits on the HTTP API, per client IP and per user (API_RATE_PER_IP,
API_RATE_PER_USER), on top of the login's own (LOGIN_RATE and the failure lockout).

Each is shared by every /api endpoint: one count per IP and one per user, whatever they call.
A refusal is 429 `throttled` with Retry-After (api/errors.py) and a `throttled` audit event,
itself limited to one per limit and key a minute, so that a flood cannot flood the audit trail.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from flask_jwt_extended import decode_token
from flask_limiter.util import get_remote_address

from aict.audit.budget import AuditBudget
from aict.extensions import limiter


def _per_ip() -> str:
    return current_app.config["AICT"].API_RATE_PER_IP


def _per_user() -> str:
    return current_app.config["AICT"].API_RATE_PER_USER


def _token_user() -> str | None:
    """The user id a request's bearer token names, its signature and expiry checked (a forged `sub`
    must not spend someone else's budget); None without a valid one (the per-IP limit still counts)."""
    if "api_limit_user" not in g:
        g.api_limit_user = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                g.api_limit_user = str(decode_token(header[7:].strip())["sub"])
            except Exception:  # any token the view itself will refuse
                pass
    return g.api_limit_user


def user_key() -> str:
    return f"user:{_token_user()}"


def apply(blueprints: list[Blueprint]) -> None:
    """Put both limits on these blueprints, once per process (blueprints are module objects and
    Flask-Limiter keeps blueprint limits by name: applying them again would count twice)."""
    per_ip = limiter.shared_limit(_per_ip, scope="api-ip", key_func=get_remote_address,
                                  exempt_when=lambda: not _per_ip().strip(), override_defaults=False)
    per_user = limiter.shared_limit(_per_user, scope="api-user", key_func=user_key,
                                    exempt_when=lambda: not _per_user().strip() or _token_user() is None,
                                    override_defaults=False)
    for blueprint in blueprints:
        if getattr(blueprint, "aict_limited", False):
            continue
        per_ip(blueprint)
        per_user(blueprint)
        blueprint.aict_limited = True


throttle_audits = AuditBudget()
