"""GET /api/sessions/<id>/recording: asciicast v2 of what the terminal showed."""

import json


def parse(text: str) -> tuple[dict, list[list]]:
    lines = text.splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_a_running_session_has_a_recording_with_its_output_and_resizes(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"], cols=90, rows=20)
    c.send(session_id, "printf 'caf\\303'; sleep 0.2; printf '\\251 \\377 done-%s\\n' $((6*7))\n")
    c.wait_for(session_id, "done-42")
    assert c.call("terminal-resize", {"sessionId": session_id, "cols": 100, "rows": 30})["ok"]

    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-asciicast")
    header, events = parse(response.text)
    assert (header["version"], header["width"], header["height"]) == (2, 90, 20)
    output = "".join(data for _, kind, data in events if kind == "o")
    assert "café \ufffd done-42" in output
    assert ["r", "100x30"] in [[kind, data] for _, kind, data in events]
    times = [at for at, _, _ in events]
    assert times == sorted(times)


def test_an_exited_sessions_recording_ends_with_its_last_output(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "echo last-$((2+3)); exit\n")
    c.wait_exit(session_id)
    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    _, events = parse(response.text)
    assert "last-5" in "".join(data for _, kind, data in events if kind == "o")


def test_recordings_follow_the_workspace_rules(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    _, stranger = server.create_user()
    response = server.api("GET", f"/api/sessions/{session_id}/recording", stranger)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
