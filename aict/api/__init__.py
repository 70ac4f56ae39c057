"""HTTP API: one blueprint per resource, all under /api."""

from flask import Flask


def register(app: Flask) -> None:
    from aict.api import (
        account,
        audit,
        auth,
        errors,
        files,
        health,
        history,
        host_keys,
        jwt_errors,
        limits,
        metrics,
        sessions,
        totp_gate,
        users,
        workspaces,
    )

    errors.register(app)
    jwt_errors.register()
    totp_gate.register(app)
    api_modules = (auth, account, users, workspaces, files, sessions, history, host_keys, audit)
    limits.apply([module.bp for module in api_modules])  # before registering: Flask-Limiter reads them then
    for module in api_modules:
        app.register_blueprint(module.bp, url_prefix="/api")
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    metrics.install(app.extensions["aict"])
