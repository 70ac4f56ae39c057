"""A web process's side of a local workspace's files: a request to the terminal host's files gate,
then the conversation with the worker it starts as the workspace's account (aict/files/worker.py).

One connection per operation. Reads and writes wait cooperatively (gevent), move at most one
chunk at a time, and the socket's own buffers carry the back-pressure both ways: a slow browser
slows the worker, a slow disk slows the upload, and no side buffers a whole file.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from aict.errors import STATUS_BY_CODE, AppError
from aict.files.worker import ABORT, DATA, END, HEADER, MESSAGE, message_frame

CONNECT_SECONDS = 5
HOST_WAIT_SECONDS = 30  # as terminals wait for their host (aict/host/client.py)
ANSWER_SECONDS = 30  # the worker's first answer: a start and an open
IDLE_SECONDS = 120  # a transfer with no byte moving for this long is dropped
READ_SIZE = 256 * 1024


def files_socket_path(host_socket: str) -> Path:
    """Where the terminal host's files gate listens: instance/host.sock -> instance/host-files.sock"""
    path = Path(host_socket)
    return path.with_name(f"{path.stem}-files{path.suffix or '.sock'}")


def host_unavailable() -> AppError:
    return AppError("host_unavailable", "The terminal host of this server is not running; try again shortly.",
                    status=503)


def worker_error(body: dict) -> AppError:
    error = body.get("error") or {}
    code = str(error.get("code") or "error")
    message = str(error.get("message") or "The file operation failed.")
    return AppError(code, message, status=STATUS_BY_CODE.get(code, 500))


def _connect(socket_path: str) -> socket.socket:
    """A connection to the files gate, waiting up to HOST_WAIT_SECONDS for a host that is (re)starting."""
    deadline = time.monotonic() + HOST_WAIT_SECONDS
    pause = 0.05
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_SECONDS)
        try:
            sock.connect(socket_path)
            sock.settimeout(ANSWER_SECONDS)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() + pause > deadline:
                raise host_unavailable() from None
        time.sleep(pause)  # cooperative under gevent
        pause = min(pause * 2, 1.0)


class WorkerConnection:
    """One operation's connection: the request to the gate, then the worker's frames."""

    def __init__(self, socket_path: str, request: dict):
        self.sock = _connect(socket_path)
        try:
            self.sock.sendall(message_frame(request))
        except OSError:
            self.sock.close()
            raise host_unavailable() from None
        self._buffer = bytearray()

    def _fill(self, size: int) -> None:
        while len(self._buffer) < size:
            try:
                chunk = self.sock.recv(READ_SIZE)
            except TimeoutError:
                raise AppError("host_timeout", "The files worker did not answer in time.", status=503) from None
            except OSError:
                chunk = b""
            if not chunk:
                raise AppError("error", "The files worker ended without answering.", status=500)
            self._buffer += chunk

    def message(self) -> dict:
        """The next message; AppError for a refusal (`ok: false`)."""
        self._fill(HEADER.size)
        length, kind = HEADER.unpack_from(self._buffer)
        self._fill(HEADER.size + length)
        payload = bytes(self._buffer[HEADER.size:HEADER.size + length])
        del self._buffer[:HEADER.size + length]
        if kind != MESSAGE:
            raise AppError("error", "The files worker answered out of turn.", status=500)
        body = json.loads(payload)
        if not body.get("ok"):
            raise worker_error(body)
        self.sock.settimeout(IDLE_SECONDS)
        return body

    def raw(self, size: int) -> Iterator[bytes]:
        """Exactly `size` bytes as they come; AppError when the worker stops short (the file shrank)."""
        left = size
        if self._buffer:
            head = bytes(self._buffer[:left])
            del self._buffer[:len(head)]
            left -= len(head)
            yield head
        while left > 0:
            try:
                chunk = self.sock.recv(min(READ_SIZE, left))
            except OSError:
                chunk = b""
            if not chunk:
                raise AppError("conflict", "The file changed while it was read.")
            left -= len(chunk)
            yield chunk

    def send_data(self, data: bytes) -> None:
        self.sock.sendall(HEADER.pack(len(data), DATA))
        self.sock.sendall(data)

    def send_end(self) -> None:
        self.sock.sendall(HEADER.pack(0, END))

    def send_abort(self) -> None:
        self.sock.sendall(HEADER.pack(0, ABORT))

    def close(self) -> None:
        self.sock.close()


class LocalDownload:
    def __init__(self, connection: WorkerConnection, head: dict):
        self.connection = connection
        self.path, self.size = head["path"], int(head["size"])

    def chunks(self) -> Iterator[bytes]:
        return self.connection.raw(self.size)

    def close(self) -> None:
        self.connection.close()


class LocalUpload:
    def __init__(self, connection: WorkerConnection):
        self.connection = connection

    def write(self, data: bytes) -> None:
        try:
            self.connection.send_data(data)
        except OSError:  # the worker stopped (a full disk): its answer says why
            raise self._refusal() from None

    def finish(self) -> dict:
        try:
            self.connection.send_end()
        except OSError:
            raise self._refusal() from None
        try:
            return self.connection.message()
        finally:
            self.connection.close()

    def _refusal(self) -> AppError:
        try:
            self.connection.message()
        except AppError as error:
            return error
        return AppError("error", "The files worker stopped receiving.", status=500)

    def abort(self) -> None:
        """The worker removes what it received; returns once it has (the caller's answer comes after)."""
        try:
            self.connection.send_abort()
            self.connection.message()
        except (OSError, AppError):
            pass  # gone already: it removed the file on its way out
        finally:
            self.connection.close()


class LocalFiles:
    """A local workspace's files, through the host's files gate at `socket_path`."""

    def __init__(self, socket_path: str, workspace_id: str, user_id: str):
        self.socket_path, self.workspace_id, self.user_id = socket_path, workspace_id, user_id

    def _connect(self, op: str, path: str, **extra) -> tuple[WorkerConnection, dict]:
        connection = WorkerConnection(self.socket_path, {"op": op, "path": path, "workspace": self.workspace_id,
                                                         "user": self.user_id, **extra})
        try:
            return connection, connection.message()
        except BaseException:
            connection.close()
            raise

    def list(self, path: str) -> dict:
        connection, answer = self._connect("list", path)
        connection.close()
        return {"path": answer["path"], "entries": answer["entries"], "truncated": answer.get("truncated", False)}

    def open_read(self, path: str) -> LocalDownload:
        return LocalDownload(*self._connect("read", path))

    def open_write(self, path: str, overwrite: bool) -> LocalUpload:
        connection, _ = self._connect("write", path, overwrite=overwrite)
        return LocalUpload(connection)

    def close(self) -> None:
        """Nothing held between operations."""
