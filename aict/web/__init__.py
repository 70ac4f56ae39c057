"""The browser pages: static HTML shells; their data comes from the JSON API with the
token the page keeps in localStorage, so the pages themselves need no login."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template

from aict.config import ROOT, current_settings

bp = Blueprint("web", __name__, template_folder=str(ROOT / "templates"))

# Ids are opaque strings; anything else in the path is surely a typo, not an object.
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def _page(template: str, **context) -> Response:
    response = Response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-cache"
    return response


def not_found(message: str | None = None) -> tuple[Response, int]:
    """The HTML 404 page with a sentence for the user."""
    return _page("not_found.html", message=message), 404


def _script_did_not_run(template: str, script: str, outcome: str) -> tuple[Response, int]:
    """The page again, saying why its form did nothing. The forms post only when their script did not
    run (it sends JSON to the API instead); the body is never read, so what was typed goes nowhere."""
    if (Path(current_app.static_folder) / "dist" / script).is_file():
        why = ("this page's script did not run (JavaScript is off, or the script did not load). "
               "Turn JavaScript on for this site, reload and try again.")
    else:
        why = ("this server's page scripts are not built. Its administrator builds them with "
               "'make run', or 'npm ci && npm run build'.")
    return _page(template, notice=f"{outcome}: {why}"), 400


@bp.get("/login")
def login() -> Response:
    return _page("login.html")


@bp.post("/login")
def login_without_script():
    return _script_did_not_run("login.html", "login.js", "You were not logged in, and your password went nowhere")


@bp.get("/")
def workspaces() -> Response:
    return _page("workspaces.html")


@bp.post("/")
def workspaces_without_script():
    return _script_did_not_run("workspaces.html", "workspaces.js",
                               "No workspace was created, and what you typed went nowhere")


@bp.get("/account")
def account() -> Response:
    return _page("account.html")


@bp.post("/account")
def account_without_script():
    return _script_did_not_run("account.html", "account.js", "Nothing was changed, and what you typed went nowhere")


@bp.get("/users")
def users() -> Response:
    return _page("users.html")


@bp.post("/users")
def users_without_script():
    return _script_did_not_run("users.html", "users.js", "Nothing was changed, and what you typed went nowhere")


@bp.get("/workspaces/<workspace_id>")
def workspace_terminal(workspace_id: str):
    if not _ID.match(workspace_id):
        return not_found("There is no workspace with this address.")
    return _page("terminal.html", workspace_id=workspace_id, session_id=None, test_hooks=current_settings().TEST_HOOKS)


@bp.get("/sessions/<session_id>")
def session_terminal(session_id: str):
    if not _ID.match(session_id):
        return not_found("There is no terminal session with this address.")
    return _page("terminal.html", workspace_id=None, session_id=session_id, test_hooks=current_settings().TEST_HOOKS)


@bp.get("/audit")
def audit() -> Response:
    return _page("audit.html")


@bp.get("/sessions")
def sessions() -> Response:
    return _page("sessions.html")


@bp.get("/sessions/<session_id>/replay")
def session_replay(session_id: str):
    """A terminal's recording replayed (its command list beside it), or, while it runs, watched
    live and read-only. Anyone who may see the session may open it: the API decides."""
    if not _ID.match(session_id):
        return not_found("There is no terminal session with this address.")
    g.csp_allow_wasm = True  # the player's terminal emulator is WebAssembly (aict/security.py)
    return _page("replay.html", session_id=session_id)


@bp.get("/favicon.ico")
def favicon() -> Response:
    return Response(status=204)
