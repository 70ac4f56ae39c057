"""Two nodes on one database: a login ended on one closes its sockets on the other within 5 s."""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet

from tests.integration.contract import login_tokens, new_user, wait_until


def test_logout_on_one_node_closes_the_logins_sockets_on_another(start_server, tmp_path):
    shared = {"AICT_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
              "AICT_SECRET_KEY": secrets.token_urlsafe(48), "AICT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
              "AICT_LOGIN_RATE": "10000 per minute"}
    first = start_server(shared)
    second = start_server(shared)
    second.admin_password = first.admin_password  # the admin was created by the first node

    username, password = new_user(first)
    ended, kept = login_tokens(first, username, password), login_tokens(first, username, password)
    on_second = [second.socket(ended["access_token"]), second.socket(ended["access_token"])]
    untouched = second.socket(kept["access_token"])
    try:
        assert first.api("POST", "/api/auth/logout", ended["access_token"]).status_code == 204
        wait_until(lambda: not any(s.sio.connected for s in on_second), timeout=5,
                   message="the ended login's sockets on the other node closed")
        assert [e["code"] for e in on_second[0].errors] == ["token_revoked"]
        assert untouched.sio.connected and untouched.call("list-terminals", {})["ok"] is True
        assert second.api("GET", "/api/me", ended["access_token"]).status_code == 401
    finally:
        for client in (*on_second, untouched):
            client.close()
