"""The audit events a test server wrote, read from its database (this build has no audit API yet)."""

from __future__ import annotations

import json
import sqlite3


def audit_events(server, type_: str, username: str | None = None) -> list[dict]:
    with sqlite3.connect(server.instance / "aict.db") as db:
        rows = db.execute("SELECT type, username, ip, detail FROM audit_events WHERE type = ? ORDER BY id",
                          (type_,)).fetchall()
    events = [{"type": t, "username": u, "ip": ip, "detail": json.loads(d or "{}")} for t, u, ip, d in rows]
    return [e for e in events if username is None or e["username"] == username]
