"""The terminal host's door for file transfers of local workspaces (aict/files/worker.py).

Web processes hold no privileges, so they cannot read or write a workspace's files as its shell
account; the host, which starts shells as that account, starts a files worker as it too. A web
process connects to this second Unix socket (the host's socket name with `-files`, same mode and
SO_PEERCRED check), sends one request frame (workspace, user, operation), and the host starts the
worker with that very connection as its standard input and output, then lets go of it: the bytes
of the transfer never pass through the host, and a slow transfer holds nothing of it but a pid.

The web process has authorised the user (operators, owners and admins); here the host decides the
account from the workspace's record (never from the request), as for a shell.
"""

from __future__ import annotations

import json
import logging
import socket

import gevent
from flask import Flask

from aict.errors import AppError, not_found
from aict.extensions import db
from aict.files.launch import launch_worker, worker_python
from aict.files.worker import HEADER, MESSAGE, message_frame
from aict.host.listener import PrivateListener
from aict.models import Workspace
from aict.services.backends import local_account_plan
from aict.terminals.accounts import ShellAccountError

log = logging.getLogger(__name__)

REQUEST_SECONDS = 10  # a web process sends its request at once
MAX_REQUEST = 64 * 1024
OPERATIONS = ("list", "read", "write")


class FilesGate:
    def __init__(self, app: Flask, listener: PrivateListener):
        self.app = app
        self.settings = app.extensions["aict"].settings
        self.listener = listener
        listener.serve(lambda sock, _uid: gevent.spawn(self._serve, sock))

    def close(self) -> None:
        self.listener.close()

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = _read_request(sock)
            self._start_worker(sock, request)
        except AppError as error:
            _refuse(sock, error.code, error.message)
        except (OSError, ValueError, gevent.Timeout) as error:
            log.info("files gate: a request failed: %s", error)
            _refuse(sock, "bad_request", "The files request could not be read.")
        except Exception:
            log.exception("files gate: a request failed")
            _refuse(sock, "error", "The terminal host failed to start the file transfer.")
        finally:
            sock.close()

    def _start_worker(self, sock: socket.socket, request: dict) -> None:
        op = request.get("op")
        if op not in OPERATIONS or not isinstance(request.get("path", ""), str):
            raise AppError("bad_request", "Unknown files request.")
        with self.app.app_context():
            workspace = db.session.get(Workspace, str(request.get("workspace")))
            if workspace is None:
                raise not_found("That workspace")
            if workspace.kind != "local":
                raise AppError("bad_request", "An SSH workspace's files are reached over SFTP.")
            plan = local_account_plan(workspace, self.settings)
            root = workspace.path
        try:
            plan.prepare()  # the workspace's own directory is handed to its account the first time
            python = worker_python(self.settings.FILES_PYTHON, plan.account)
            pid = launch_worker(sock.fileno(), plan.account, root, {
                "op": op, "path": request.get("path", ""), "overwrite": bool(request.get("overwrite"))}, python)
        except ShellAccountError as exc:
            raise AppError("no_shell_account", str(exc)) from None
        except OSError as exc:
            raise AppError("error", f"The files worker could not be started: {exc.strerror or exc}.") from None
        log.info("files: %s %r of workspace %s for user %s as %s (pid %s)", op, request.get("path", ""),
                 request.get("workspace"), request.get("user"), plan.account.name, pid)


def _read_request(sock: socket.socket) -> dict:
    """The one request frame; nothing follows it until the worker answers, so nothing is read past it."""
    buffer = b""
    with gevent.Timeout(REQUEST_SECONDS):
        while len(buffer) < HEADER.size:
            chunk = sock.recv(HEADER.size - len(buffer))
            if not chunk:
                raise ValueError("closed before the request")
            buffer += chunk
        length, kind = HEADER.unpack(buffer)
        if kind != MESSAGE or length > MAX_REQUEST:
            raise ValueError("not a request frame")
        payload = b""
        while len(payload) < length:
            chunk = sock.recv(length - len(payload))
            if not chunk:
                raise ValueError("closed in the request")
            payload += chunk
    request = json.loads(payload)
    if not isinstance(request, dict):
        raise ValueError("not a JSON object")
    return request


def _refuse(sock: socket.socket, code: str, message: str) -> None:
    try:
        sock.sendall(message_frame({"ok": False, "error": {"code": code, "message": message}}))
    except OSError:
        pass
