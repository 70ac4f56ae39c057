"""Files of an SSH workspace over SFTP (the real sshd of the suite), as the remote user, through the
same host-key rules as its terminals."""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import socket
import time
from pathlib import Path

import requests

from tests.integration.contract import assert_error, wait_until
from tests.integration.test_files import audit, download, files_url, leftovers, listing, upload
from tests.ssh.conftest import TEST_USER
from tests.ssh.helpers import create_workspace

MiB = 1024 * 1024


def home() -> Path:
    return Path(pwd.getpwnam(TEST_USER).pw_dir)


def test_an_upload_to_an_ssh_workspace_comes_back_byte_identical(server, ssh_workspace):
    name = f"aict-files-{secrets.token_hex(4)}.bin"
    data = os.urandom(5 * MiB + 3)
    digest = hashlib.sha256(data).hexdigest()
    answer = upload(server, ssh_workspace, name, data)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"path": name, "size": len(data), "sha256": digest}
    written = home() / name
    assert written.read_bytes() == data
    assert written.stat().st_uid == pwd.getpwnam(TEST_USER).pw_uid  # written by the remote user
    assert leftovers(home()) == []

    got = download(server, ssh_workspace, name)
    assert got.status_code == 200 and got.content == data
    assert got.headers["Content-Length"] == str(len(data))
    entry = next(e for e in listing(server, ssh_workspace).json()["entries"] if e["name"] == name)
    assert entry["type"] == "file" and entry["size"] == len(data)
    by_path = listing(server, ssh_workspace, str(home())).json()  # absolute paths too
    assert name in [e["name"] for e in by_path["entries"]]

    assert_error(upload(server, ssh_workspace, name, b"other"), 409, "exists")
    assert upload(server, ssh_workspace, name, b"other", overwrite=1).json()["size"] == 5
    assert written.read_bytes() == b"other"
    uploads = [e["detail"] for e in audit(server, "file_upload", ssh_workspace)]
    assert {"path": name, "size": len(data), "sha256": digest} in uploads
    wait_until(lambda: [e for e in audit(server, "file_download", ssh_workspace) if e["detail"]["path"] == name],
               message="the download's audit event")
    assert [e["detail"] for e in audit(server, "file_download", ssh_workspace) if e["detail"]["path"] == name] \
        == [{"path": name, "size": len(data), "sha256": digest}]
    written.unlink()


def test_ssh_files_answer_what_the_remote_user_may_do(server, ssh_workspace):
    assert_error(listing(server, ssh_workspace, "no-such-dir-here"), 404, "not_found")
    assert_error(download(server, ssh_workspace, "/etc/shadow"), 403, "forbidden")
    assert_error(upload(server, ssh_workspace, "/etc/aict-should-not-be-here", b"x"), 403, "forbidden")
    assert_error(download(server, ssh_workspace, "/etc"), 400, "bad_request")
    assert not Path("/etc/aict-should-not-be-here").exists()


def test_a_cut_off_ssh_upload_leaves_nothing_behind(server, ssh_workspace):
    name = f"aict-cut-{secrets.token_hex(4)}.bin"
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = (f"PUT {files_url(ssh_workspace, True)}?path={name} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {server.admin_token}\r\nContent-Length: {50 * MiB}\r\n\r\n")
    sock.sendall(head.encode())
    block = os.urandom(MiB)
    for _ in range(3):
        sock.sendall(block)
    wait_until(lambda: [p for p in leftovers(home()) if name in p], message="the upload under way")
    listed = [e["name"] for e in listing(server, ssh_workspace).json()["entries"]]
    assert not [n for n in listed if name in n], listed  # its file in progress is not listed (nobody may open it)
    sock.close()
    wait_until(lambda: not [p for p in leftovers(home()) if name in p], message="the partial upload removed")
    assert not (home() / name).exists()


def test_an_unknown_host_key_is_never_trusted_for_files(server, sshd):
    workspace = create_workspace(server, sshd.workspace_body(pin=False))
    error = assert_error(listing(server, workspace), 409, "host_key_unknown")
    assert error["fingerprint"] == sshd.host_fingerprint and error["host_key"] == sshd.host_key
    assert_error(upload(server, workspace, "x.txt", b"x"), 409, "host_key_unknown")
    trusted = server.api("POST", f"/api/workspaces/{workspace['id']}/trust-host-key", server.admin_token,
                         json={"fingerprint": sshd.host_fingerprint})
    assert trusted.status_code == 200, trusted.text
    assert listing(server, workspace).status_code == 200


def test_a_big_ssh_transfer_streams_both_ways(server, ssh_workspace):
    name = f"aict-big-{secrets.token_hex(4)}.bin"
    block, count = os.urandom(MiB), 64
    expected = hashlib.sha256(block * count).hexdigest()
    started = time.monotonic()
    answer = requests.put(server.url + files_url(ssh_workspace, True), params={"path": name},
                          data=(block for _ in range(count)),
                          headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=300)
    assert answer.status_code == 201 and answer.json()["sha256"] == expected, answer.text
    uploaded = time.monotonic() - started
    got = hashlib.sha256()
    response = requests.get(server.url + files_url(ssh_workspace, True), params={"path": name}, stream=True,
                            headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=300)
    for chunk in response.iter_content(MiB):
        got.update(chunk)
    assert got.hexdigest() == expected
    print(f"SFTP 64 MiB: upload {uploaded:.1f} s, download {time.monotonic() - started - uploaded:.1f} s")
    (home() / name).unlink()
