from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aict.errors import AppError
from aict.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except PoolTimeout:
        raise  # reachable, but every connection is in use: 503 database_busy
    except Exception as exc:
        raise AppError("database_unavailable", "The database does not answer.", status=503) from exc
    state = current_app.extensions["aict"]
    terminals = state.terminals
    return {"status": "ok", "database": "ok", "node": state.settings.node, "sessions": terminals.count_running(),
            "terminalHost": "ok" if terminals.ready else "unavailable"}
