import time


def test_shell_in_a_local_workspace_answers_arithmetic(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"], cols=100, rows=30)
    c.send(session_id, "echo $((6*7)); stty size\n")
    c.wait_for(session_id, "42\r\n30 100")


def test_exit_code_is_reported(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "exit 3\n")
    assert c.wait_exit(session_id) == {"sessionId": session_id, "exitCode": 3, "signal": None}


def test_a_user_cannot_run_more_terminals_than_the_limit(start_server):
    server = start_server({"AICT_MAX_SESSIONS_PER_USER": "2"})
    workspace = server.create_local_workspace()
    c = server.socket()
    try:
        first = c.create(workspace["id"])
        c.create(workspace["id"])
        answer = c.call("create-terminal", {"workspaceId": workspace["id"]})
        assert answer["ok"] is False and answer["error"]["code"] == "too_many_sessions"
        assert c.call("kill-terminal", {"sessionId": first})["ok"]
        c.wait_exit(first)
        for _ in range(50):  # the exit is recorded a moment after it is announced
            if c.call("create-terminal", {"workspaceId": workspace["id"]})["ok"]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("ending a terminal did not free a place")
    finally:
        c.close()
