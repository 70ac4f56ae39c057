"""Files of a local workspace over HTTP, as a user sees them: upload, list, download, streamed, audited
with their sha256, done as the workspace's shell account and never outside the workspace."""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.integration.contract import assert_error, login_tokens, new_user, wait_until
from tests.server import SHELL_ACCOUNT, RunningServer

MiB = 1024 * 1024


def files_url(workspace: dict, content: bool = False) -> str:
    return f"/api/workspaces/{workspace['id']}/files" + ("/content" if content else "")


def upload(server: RunningServer, workspace: dict, path: str, data, token: str | None = None, overwrite: int = 0):
    return server.api("PUT", files_url(workspace, True), token or server.admin_token, data=data,
                      params={"path": path, "overwrite": overwrite})


def download(server: RunningServer, workspace: dict, path: str, token: str | None = None):
    return server.api("GET", files_url(workspace, True), token or server.admin_token, params={"path": path})


def listing(server: RunningServer, workspace: dict, path: str = "", token: str | None = None):
    return server.api("GET", files_url(workspace), token or server.admin_token, params={"path": path})


def audit(server: RunningServer, type_: str, workspace: dict) -> list[dict]:
    response = server.api("GET", "/api/audit", server.admin_token,
                          params={"type": type_, "workspace_id": workspace["id"]})
    assert response.status_code == 200, response.text
    return response.json()["events"]


def member(server: RunningServer, workspace: dict, access: str) -> str:
    username, password = new_user(server)
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": access})
    assert granted.status_code == 201, granted.text
    return login_tokens(server, username, password)["access_token"]


def leftovers(directory: Path) -> list[str]:
    """Uploads in progress or abandoned: their temporary files."""
    return [p.name for p in directory.rglob("*") if ".aict-upload-" in p.name]


def test_an_upload_comes_back_byte_identical_with_its_sha256_audited(server, workspace):
    data = os.urandom(3 * MiB + 17)
    digest = hashlib.sha256(data).hexdigest()
    token = member(server, workspace, "operator")
    answer = upload(server, workspace, "data.bin", data, token)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"path": "data.bin", "size": len(data), "sha256": digest}

    got = download(server, workspace, "data.bin", token)
    assert got.status_code == 200, got.text
    assert got.content == data
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["Content-Disposition"].startswith('attachment; filename="data.bin"')

    entries = listing(server, workspace, "", token).json()["entries"]
    assert {"name": "data.bin", "type": "file", "size": len(data)}.items() <= \
        next(e for e in entries if e["name"] == "data.bin").items()
    assert next(e for e in entries if e["name"] == "data.bin")["mtime"].endswith("Z")

    uploaded = [e for e in audit(server, "file_upload", workspace) if e["detail"]["path"] == "data.bin"]
    downloaded = [e for e in audit(server, "file_download", workspace) if e["detail"]["path"] == "data.bin"]
    assert [e["detail"] for e in uploaded] == [{"path": "data.bin", "size": len(data), "sha256": digest}]
    wait_until(lambda: [e for e in audit(server, "file_download", workspace) if e["detail"]["path"] == "data.bin"],
               message="the download's audit event")
    downloaded = [e for e in audit(server, "file_download", workspace) if e["detail"]["path"] == "data.bin"]
    assert [e["detail"] for e in downloaded] == [{"path": "data.bin", "size": len(data), "sha256": digest}]
    assert uploaded[0]["username"] == downloaded[0]["username"] != "admin"


def test_files_are_written_and_read_as_the_shell_account_not_as_the_server(server, workspace):
    assert upload(server, workspace, "mine.txt", b"hello\n").status_code == 201
    root = Path(workspace["path"])
    account = pwd.getpwnam(SHELL_ACCOUNT)
    assert (root / "mine.txt").stat().st_uid == account.pw_uid
    assert (root / "mine.txt").stat().st_gid == account.pw_gid
    # The server (root here) could read and write these; the shell account cannot, so neither may the API.
    secret = root / "root-only.txt"
    secret.write_text("not for the account\n")
    os.chown(secret, 0, 0)
    secret.chmod(0o600)
    locked = root / "locked"
    locked.mkdir()
    os.chown(locked, 0, 0)
    locked.chmod(0o755)
    assert_error(download(server, workspace, "root-only.txt"), 403, "forbidden")
    assert_error(upload(server, workspace, "locked/new.txt", b"x"), 403, "forbidden")
    (locked / "kept.txt").write_text("root's\n")
    assert_error(upload(server, workspace, "locked/kept.txt", b"x", overwrite=1), 403, "forbidden")
    assert secret.read_text() == "not for the account\n" and not (locked / "new.txt").exists()
    assert (locked / "kept.txt").read_text() == "root's\n" and leftovers(root) == []


def test_an_existing_file_is_replaced_only_when_asked(server, workspace):
    assert upload(server, workspace, "notes.txt", b"first").status_code == 201
    error = assert_error(upload(server, workspace, "notes.txt", b"second"), 409, "exists")
    assert "notes.txt" in error["message"]
    assert download(server, workspace, "notes.txt").content == b"first"
    replaced = upload(server, workspace, "notes.txt", b"second", overwrite=1)
    assert replaced.status_code == 201 and replaced.json()["size"] == 6
    assert download(server, workspace, "notes.txt").content == b"second"
    assert leftovers(Path(workspace["path"])) == []


def test_directories_are_browsed_and_named_as_they_are(server, workspace):
    root = Path(workspace["path"])
    assert upload(server, workspace, "src/x.py", b"print(1)\n").status_code == 404  # no such directory
    (root / "src").mkdir()
    os.chown(root / "src", pwd.getpwnam(SHELL_ACCOUNT).pw_uid, -1)
    assert upload(server, workspace, "src/x.py", b"print(1)\n").status_code == 201
    (root / "to-src").symlink_to("src")
    (root / ".x.py.aict-upload-0a1b2c3d4e5f").write_bytes(b"half an upload")  # one under way: not listed
    body = listing(server, workspace).json()
    assert ".x.py.aict-upload-0a1b2c3d4e5f" not in [e["name"] for e in body["entries"]]
    kinds = {e["name"]: e["type"] for e in body["entries"]}
    assert kinds["src"] == "dir" and kinds["to-src"] == "link", kinds
    assert body["path"] == "" and body["max_upload_bytes"] == 1024 * MiB
    inner = listing(server, workspace, "to-src").json()  # a link that stays inside is followed
    assert [e["name"] for e in inner["entries"]] == ["x.py"] and inner["path"] == "to-src"
    assert listing(server, workspace, f"{workspace['path']}/src").json()["path"] == "src"  # absolute, inside
    assert_error(listing(server, workspace, "nowhere"), 404, "not_found")
    assert_error(download(server, workspace, "src"), 400, "bad_request")
    file_listed = listing(server, workspace, "src/x.py")  # a file, not "does not exist"
    assert_error(file_listed, 400, "bad_request")
    assert "is a file" in file_listed.json()["error"]["message"]
    assert_error(listing(server, workspace, "src/x.py/deeper"), 404, "not_found")


@pytest.mark.parametrize("path", ["..", "../x", "src/../../x", "/etc", "/etc/passwd", "abs/passwd", "rel/passwd",
                                  "rel", "deep/../../../etc/passwd"])
def test_a_path_leading_outside_the_workspace_is_forbidden(server, workspace, path):
    root = Path(workspace["path"])
    (root / "src").mkdir(exist_ok=True)
    (root / "abs").symlink_to("/etc")
    (root / "rel").symlink_to("../../../../../../etc")
    (root / "deep").symlink_to("src")
    for response in (download(server, workspace, path), upload(server, workspace, path + "/f", b"escaped"),
                     upload(server, workspace, path + "/f", b"escaped", overwrite=1)):
        assert_error(response, 403, "forbidden")
    assert_error(listing(server, workspace, path), 403, "forbidden")
    if path in ("..", "../x", "src/../../x", "/etc/passwd"):  # names that exist in the workspace: 409 instead
        assert_error(upload(server, workspace, path, b"escaped", overwrite=1), 403, "forbidden")
    assert not Path("/etc/f").exists()


def test_overwriting_a_link_writes_where_it_leads_inside_and_is_forbidden_outside(server, workspace):
    """A link is followed for writing as for reading: overwriting one that stays inside replaces the
    file it leads to and keeps the link; one leading out is forbidden, and stays as it was."""
    root = Path(workspace["path"])
    assert upload(server, workspace, "target.txt", b"before").status_code == 201
    (root / "in-link").symlink_to("target.txt")
    (root / "chain").symlink_to("in-link")
    (root / "out-abs").symlink_to("/etc/passwd")
    (root / "out-rel").symlink_to("../../../../../../../etc/hostname")
    (root / "loop").symlink_to("loop")
    assert upload(server, workspace, "in-link", b"through the link", overwrite=1).status_code == 201
    assert (root / "in-link").is_symlink() and (root / "target.txt").read_bytes() == b"through the link"
    assert upload(server, workspace, "chain", b"through two", overwrite=1).status_code == 201
    assert (root / "chain").is_symlink() and (root / "target.txt").read_bytes() == b"through two"
    assert download(server, workspace, "in-link").content == b"through two"
    for name in ("out-abs", "out-rel"):
        assert_error(upload(server, workspace, name, b"escaped", overwrite=1), 403, "forbidden")
        assert (root / name).is_symlink()
    assert_error(upload(server, workspace, "loop", b"x", overwrite=1), 400, "bad_request")
    assert_error(upload(server, workspace, "in-link", b"x"), 409, "exists")  # without overwrite: it exists


def test_viewers_and_strangers_get_no_files(server, workspace):
    viewer = member(server, workspace, "viewer")
    assert upload(server, workspace, "v.txt", b"v").status_code == 201
    for response in (listing(server, workspace, "", viewer), download(server, workspace, "v.txt", viewer),
                     upload(server, workspace, "w.txt", b"w", viewer)):
        assert_error(response, 403, "forbidden")
    stranger = server.create_user()[1]
    for response in (listing(server, workspace, "", stranger), download(server, workspace, "v.txt", stranger),
                     upload(server, workspace, "w.txt", b"w", stranger)):
        assert_error(response, 404, "not_found")
    assert not (Path(workspace["path"]) / "w.txt").exists()


def _raw_put(server: RunningServer, path: str, headers: dict[str, str]) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    lines = [f"PUT {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Authorization: Bearer {server.admin_token}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return sock


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_cut_off_upload_leaves_nothing_behind(server, workspace, framing):
    root = Path(workspace["path"])
    url = files_url(workspace, True) + "?path=cut.bin"
    headers = {"Content-Length": str(50 * MiB)} if framing == "length" else {"Transfer-Encoding": "chunked"}
    sock = _raw_put(server, url, headers)
    block = os.urandom(MiB)
    for _ in range(3):
        sock.sendall(block if framing == "length" else b"%x\r\n%s\r\n" % (len(block), block))
    wait_until(lambda: leftovers(root), message="the upload under way")
    wait_until(lambda: (root / leftovers(root)[0]).stat().st_size >= 2 * MiB, message="bytes on disk")
    sock.close()  # the browser went away in the middle
    wait_until(lambda: not leftovers(root), message="the partial upload removed")
    assert not (root / "cut.bin").exists()
    assert upload(server, workspace, "cut.bin", b"whole").status_code == 201  # the name is free


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory):
    running = RunningServer(tmp_path_factory.mktemp("aict-files-limit"), {"AICT_MAX_UPLOAD_BYTES": "100000"}).start()
    yield running
    running.stop()


def test_an_upload_above_the_limit_is_413_and_leaves_nothing(small_limit_server):
    server = small_limit_server
    workspace = server.create_local_workspace()
    root = Path(workspace["path"])
    error = assert_error(upload(server, workspace, "big.bin", b"x" * 100_001), 413, "too_large")
    assert "100000" in error["message"]

    def chunked():  # no Content-Length: found out while streaming
        for _ in range(30):
            yield b"y" * 10_000

    assert_error(upload(server, workspace, "big.bin", chunked()), 413, "too_large")
    assert not (root / "big.bin").exists() and leftovers(root) == []
    exact = upload(server, workspace, "big.bin", b"z" * 100_000)
    assert exact.status_code == 201 and exact.json()["size"] == 100_000
    assert listing(server, workspace).json()["max_upload_bytes"] == 100_000


def _is_worker_or_host(process: psutil.Process) -> bool:
    try:
        command = process.cmdline()
    except psutil.Error:
        return False
    return command[1:4] == ["-I", "-S", "-c"] or any(part.endswith("host.py") for part in command[:2])


def _working_processes(server: RunningServer) -> list[psutil.Process]:
    """The web process, its terminal host and every files worker the host started (not the shells
    other tests left running on the shared server)."""
    web = psutil.Process(server.proc.pid)
    return [web, *(p for p in web.children(recursive=True) if _is_worker_or_host(p))]


def _rss(processes) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


class RssWatch:
    """The highest summed RSS of the server's working processes while something runs."""

    def __init__(self, server: RunningServer):
        self.server, self.peak, self.workers_seen = server, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.baseline = _rss(_working_processes(self.server))
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            processes = _working_processes(self.server)
            self.workers_seen = max(self.workers_seen, len(processes))
            self.peak = max(self.peak, _rss(processes))
            time.sleep(0.05)

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def test_a_1_gb_upload_and_download_keep_the_servers_memory_flat(server, workspace):
    block = os.urandom(MiB)
    count = 1024
    expected = hashlib.sha256()
    for _ in range(count):
        expected.update(block)

    def body():
        for _ in range(count):
            yield block

    listing(server, workspace)  # the path warmed up: a worker started once before the baseline
    started = time.monotonic()
    with RssWatch(server) as up:
        answer = requests.put(server.url + files_url(workspace, True), data=body(), params={"path": "big.bin"},
                              headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=600)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"path": "big.bin", "size": count * MiB, "sha256": expected.hexdigest()}
    assert (Path(workspace["path"]) / "big.bin").stat().st_size == count * MiB
    assert up.workers_seen >= 3, "the worker was not measured"
    assert up.growth < 64 * MiB, f"upload: the server's processes grew by {up.growth / MiB:.1f} MiB"

    uploaded = time.monotonic() - started
    got = hashlib.sha256()
    started = time.monotonic()
    with RssWatch(server) as down:
        response = requests.get(server.url + files_url(workspace, True), params={"path": "big.bin"},
                                headers={"Authorization": f"Bearer {server.admin_token}"}, stream=True, timeout=600)
        assert response.status_code == 200
        for chunk in response.iter_content(MiB):
            got.update(chunk)
    assert got.hexdigest() == expected.hexdigest()
    assert down.growth < 64 * MiB, f"download: the server's processes grew by {down.growth / MiB:.1f} MiB"
    downloaded = time.monotonic() - started
    print(f"1 GiB: upload {uploaded:.1f} s, RSS +{up.growth / MiB:.1f} MiB; "
          f"download {downloaded:.1f} s, RSS +{down.growth / MiB:.1f} MiB")
    (Path(workspace["path"]) / "big.bin").unlink()


def test_a_name_taken_while_uploading_is_not_overwritten(server, workspace):
    root = Path(workspace["path"])
    url = files_url(workspace, True) + "?path=race.txt"
    sock = _raw_put(server, url, {"Content-Length": "10"})
    sock.sendall(b"12345")
    wait_until(lambda: leftovers(root), message="the upload under way")
    (root / "race.txt").write_text("someone else's")
    sock.sendall(b"67890")
    answer = b""
    sock.settimeout(15)
    while b"}}" not in answer:
        chunk = sock.recv(65536)
        assert chunk, answer
        answer += chunk
    answer = answer.decode()
    sock.close()
    assert answer.startswith("HTTP/1.1 409"), answer
    assert '"exists"' in answer
    assert (root / "race.txt").read_text() == "someone else's" and leftovers(root) == []


def test_bad_requests_are_told_clearly(server, workspace):
    assert_error(upload(server, workspace, "", b"x"), 400, "bad_request")
    assert_error(server.api("PUT", files_url(workspace, True), server.admin_token, data=b"x",
                            params={"path": "a", "overwrite": "maybe"}), 400, "bad_request")
    assert_error(listing(server, workspace, "a\x00b"), 400, "bad_request")
    assert_error(listing(server, workspace, "x" * 5000), 400, "bad_request")
    assert_error(server.api("GET", f"/api/workspaces/{secrets.token_hex(8)}/files", server.admin_token), 404,
                 "not_found")
