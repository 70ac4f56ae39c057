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
