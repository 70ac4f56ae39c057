"""With several web processes (REDIS_URL), a host key offered through one is confirmed through another."""

from __future__ import annotations

import pytest

from tests.integration.contract import assert_ack_error, assert_error
from tests.integration.shared import redis_client, start_pair
from tests.ssh.helpers import create_ack, create_workspace

pytestmark = pytest.mark.ssh


def test_a_host_key_offered_through_one_process_is_confirmed_through_another(start_server, tmp_path, sshd,
                                                                              redis_prefix):
    first, second = start_pair(start_server, tmp_path, redis_prefix)
    workspace = create_workspace(first, sshd.workspace_body(pin=False))
    trust = f"/api/workspaces/{workspace['id']}/trust-host-key"
    on_first = first.socket()
    try:
        error = assert_ack_error(create_ack(on_first, workspace["id"]), "host_key_unknown")
        assert error["fingerprint"] == sshd.host_fingerprint
        assert list(redis_client().scan_iter(match=f"{redis_prefix}:host-key-offer:*")) == [
            f"{redis_prefix}:host-key-offer:{workspace['id']}".encode()]

        trusted = second.api("POST", trust, second.admin_token, json={"fingerprint": error["fingerprint"]})
        assert trusted.status_code == 200, trusted.text
        assert trusted.json()["host_key_fingerprint"] == sshd.host_fingerprint
        assert_error(first.api("POST", trust, first.admin_token, json={"fingerprint": error["fingerprint"]}),
                     409, "fingerprint_mismatch")  # used up, for every process

        session_id = on_first.create(workspace["id"])
        on_first.send(session_id, "whoami\n")
        on_first.wait_for(session_id, sshd.username)
    finally:
        on_first.close()
