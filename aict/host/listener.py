"""The terminal host's Unix sockets: made 0600 (the group of WEB_ACCOUNT may connect too), every peer's
account checked with SO_PEERCRED, the socket file removed on close unless another host bound it since."""

from __future__ import annotations

import logging
import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import gevent

from aict.host import wire

log = logging.getLogger(__name__)


class PrivateListener:
    def __init__(self, path: Path, web_gid: int | None, allowed_uids: set[int], what: str):
        self.path, self.allowed_uids, self.what = path, allowed_uids, what
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is created 0600: only its owner's processes connect
        try:
            listener.bind(str(path))
        finally:
            os.umask(old_umask)
        if web_gid is not None:  # web processes run as another account: its group may connect too
            os.chown(path, -1, web_gid)
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP)
        listener.listen(128)
        self.socket = listener
        self.inode = path.stat().st_ino

    def serve(self, on_peer: Callable[[socket.socket, int], None]) -> None:
        """Accept in a greenlet of its own; `on_peer(sock, uid)` for each allowed peer."""
        gevent.spawn(self._accept_loop, on_peer)

    def _accept_loop(self, on_peer: Callable[[socket.socket, int], None]) -> None:
        while True:
            try:
                sock, _ = self.socket.accept()
            except OSError:
                return
            uid = wire.peer_uid(sock)
            if uid not in self.allowed_uids:
                log.warning("%s: refused a connection from uid %s (only web processes may connect)", self.what, uid)
                sock.close()
                continue
            on_peer(sock, uid)

    def close(self) -> None:
        self.socket.close()
        try:  # no stale socket left behind, unless another host has bound the path since
            if self.path.stat().st_ino == self.inode:
                self.path.unlink()
        except FileNotFoundError:
            pass
