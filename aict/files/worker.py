"""The files worker: one file operation in a local workspace, run as the workspace's shell account.

The terminal host starts it for each request of a web process (aict/host/files_gate.py), dropped to
the account with setpriv exactly like a shell, with that web process's connection as its standard
input and output: the bytes of a transfer go straight between the web process and this process, and
the kernel applies the account's rights to every open, create and rename. It needs nothing but the
standard library (the host runs it as `python3 -I -S -c <this file's text>`), so the account needs no
access to the server's code or its virtualenv.

Paths never leave the workspace: every open resolves beneath the root's descriptor with openat2
RESOLVE_BENEATH (or, where the kernel lacks it, a walk one component at a time with O_NOFOLLOW that
follows symbolic links itself), so `..`, an absolute symbolic link, or a link swapped in between a
check and the open (TOCTOU) cannot reach outside: such a path is `forbidden`.

Protocol (after the host's start): the request came as argv; answers are frames of a 5-byte header
(payload length, kind) and a payload. MESSAGE frames are JSON. `list` answers one message; `read`
one message with the size, then exactly that many raw bytes; `write` answers a first message once
the target may be written, then reads DATA frames up to an END frame, and answers the result. An
ABORT frame, or a connection that ends before END (the upload was cut off), leaves nothing behind:
the bytes went to a temporary file beside the target, renamed over it only at the end, and removed
(then answered, for ABORT) otherwise.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import stat
import struct
import sys
import time

HEADER = struct.Struct(">IB")
MESSAGE, DATA, END, ABORT = 1, 2, 3, 4
MAX_FRAME = 4 * 1024 * 1024  # DATA frames the web process sends are far smaller
MAX_ENTRIES = 10_000  # a listing stops here (and says so): its answer stays small
SEND_SIZE = 1024 * 1024
TEMP_MARK = ".aict-upload-"  # in the names of uploads in progress: .<name>.aict-upload-<random>


def upload_in_progress(name: str) -> bool:
    """An upload's file before it is renamed to its name: not listed (nobody should open it)."""
    return name.startswith(".") and TEMP_MARK in name

# openat2(2): resolve beneath the directory descriptor, no /proc magic links.
_SYS_OPENAT2 = {"x86_64": 437, "aarch64": 437, "armv7l": 437, "ppc64le": 437, "s390x": 437, "riscv64": 437}
RESOLVE_NO_MAGICLINKS, RESOLVE_BENEATH = 0x02, 0x08
RENAME_NOREPLACE = 1
MAX_LINKS = 40  # symbolic links followed in one path, as the kernel's own limit
_libc = ctypes.CDLL(None, use_errno=True)


class Refused(Exception):
    """An answer for the web process: {"code", "message"}."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# ---- frames (the web process's side: aict/files/local.py) --------------------------------------
def message_frame(body: dict) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    return HEADER.pack(len(payload), MESSAGE) + payload


def send_message(body: dict) -> None:
    _send_all(message_frame(body))


def _send_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def _read_exact(size: int) -> bytes | None:
    """`size` bytes from the web process; None when its connection ended first."""
    parts, left = [], size
    while left:
        chunk = os.read(0, min(left, SEND_SIZE))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_frame() -> tuple[int, bytes] | None:
    header = _read_exact(HEADER.size)
    if header is None:
        return None
    length, kind = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise Refused("bad_request", "A frame too large for the files worker.")
    payload = _read_exact(length) if length else b""
    return None if payload is None else (kind, payload)


# ---- paths ------------------------------------------------------------------------------------
def relative_parts(path: str, root: str) -> list[str]:
    """The components of `path` below the root, as given: `..` is resolved by the open, not here.
    An absolute path is accepted only inside the root."""
    if "\x00" in path:
        raise Refused("bad_request", "A path may not contain a NUL character.")
    if path.startswith("/"):
        prefix = root.rstrip("/") + "/"
        if path.rstrip("/") == root.rstrip("/"):
            path = ""
        elif path.startswith(prefix):
            path = path[len(prefix):]
        else:
            raise Refused("forbidden", "That path is outside the workspace.")
    return [part for part in path.split("/") if part not in ("", ".")]


def _open_how(flags: int, mode: int, resolve: int) -> bytes:
    return struct.pack("QQQ", flags, mode, resolve)


class Beneath:
    """Opens paths beneath one directory and nowhere else."""

    def __init__(self, root_fd: int):
        self.root_fd = root_fd
        self.openat2 = _SYS_OPENAT2.get(os.uname().machine)

    def open(self, parts: list[str], flags: int, mode: int = 0) -> int:
        if not parts:
            return os.open(".", flags | os.O_CLOEXEC, mode, dir_fd=self.root_fd)
        if self.openat2 is not None:
            how = _open_how(flags | os.O_CLOEXEC, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
            for _ in range(16):  # EAGAIN: a rename raced the lookup; the kernel asks to try again
                fd = _libc.syscall(self.openat2, self.root_fd, "/".join(parts).encode("utf-8", "surrogateescape"),
                                   how, len(how))
                if fd >= 0:
                    return fd
                code = ctypes.get_errno()
                if code == errno.EXDEV:
                    raise Refused("forbidden", "That path leads outside the workspace.")
                if code == errno.EAGAIN:
                    continue
                if code in (errno.ENOSYS, errno.EPERM) and not self._openat2_works():
                    self.openat2 = None  # an old kernel, or a sandbox that forbids it: walk instead
                    break
                raise OSError(code, os.strerror(code))
            else:
                raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        return self._walk(parts, flags, mode)

    def _openat2_works(self) -> bool:
        how = _open_how(os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, 0, RESOLVE_BENEATH)
        fd = _libc.syscall(self.openat2, self.root_fd, b".", how, len(how))
        if fd >= 0:
            os.close(fd)
            return True
        return False

    def _walk(self, parts: list[str], flags: int, mode: int) -> int:
        """Component by component from the root, each opened with O_NOFOLLOW relative to the one
        before; `..` goes back up the stack of open directories (never above the root); a relative
        symbolic link is read and walked in its place; an absolute one is refused (as openat2 does)."""
        stack = [os.dup(self.root_fd)]
        todo, links = list(parts), 0
        try:
            while todo:
                name = todo.pop(0)
                if name in ("", "."):
                    continue
                if name == "..":
                    if len(stack) == 1:
                        raise Refused("forbidden", "That path leads outside the workspace.")
                    os.close(stack.pop())
                    continue
                last = not todo
                try:
                    if last:
                        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=stack[-1])
                    else:
                        fd = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                     dir_fd=stack[-1])
                except OSError as error:
                    if error.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                        raise
                    try:
                        target = os.readlink(name, dir_fd=stack[-1])
                    except OSError:
                        raise error from None
                    links += 1
                    if links > MAX_LINKS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP)) from None
                    if target.startswith("/"):
                        raise Refused("forbidden", "That path leads outside the workspace.") from None
                    todo = [p for p in target.split("/") if p] + todo
                    continue
                if last:
                    return fd
                stack.append(fd)
            return os.open(".", flags | os.O_CLOEXEC, mode, dir_fd=stack[-1])
        finally:
            for fd in stack:
                os.close(fd)


def refusal_for(error: OSError, path: str) -> Refused:
    shown = path or "the workspace's root"
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return Refused("not_found", f"{shown} does not exist.")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Refused("forbidden", f"The workspace's account may not do that with {shown} "
                                    f"({os.strerror(error.errno).lower()}).")
    if error.errno == errno.ELOOP:
        return Refused("forbidden", f"{shown} goes through too many symbolic links.")
    if error.errno == errno.EISDIR:
        return Refused("bad_request", f"{shown} is a directory.")
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return Refused("insufficient_storage", "There is no space left for that file on the workspace's disk.")
    if error.errno == errno.ENAMETOOLONG:
        return Refused("bad_request", "That name is too long.")
    return Refused("conflict", f"{shown}: {os.strerror(error.errno or 0)}.")


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


# ---- operations -------------------------------------------------------------------------------
def do_list(beneath: Beneath, parts: list[str], shown: str) -> None:
    try:
        fd = beneath.open(parts, os.O_RDONLY | os.O_DIRECTORY)
    except NotADirectoryError:
        if parts:  # the path itself is there but no directory (else a folder on the way is missing)
            try:
                os.close(beneath.open(parts, os.O_PATH))
            except OSError:
                raise Refused("not_found", f"{shown} does not exist.") from None
            raise Refused("bad_request", f"{shown} is a file, not a directory: download it instead.") from None
        raise
    entries, truncated = [], False
    try:
        with os.scandir(fd) as listing:
            for entry in listing:
                if upload_in_progress(entry.name):
                    continue
                if len(entries) >= MAX_ENTRIES:
                    truncated = True
                    break
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone meanwhile
                entries.append({"name": entry.name, "type": kind_of(info.st_mode), "size": info.st_size,
                                "mtime": iso(info.st_mtime)})
    finally:
        os.close(fd)
    entries.sort(key=lambda e: e["name"])
    send_message({"ok": True, "path": shown, "entries": entries, "truncated": truncated})


def do_read(beneath: Beneath, parts: list[str], shown: str) -> None:
    fd = beneath.open(parts, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not hang the open
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise Refused("bad_request", f"{shown} is a directory: download the files in it one by one.")
        if not stat.S_ISREG(info.st_mode):
            raise Refused("bad_request", f"{shown} is not a regular file.")
        os.set_blocking(fd, True)
        size = info.st_size
        send_message({"ok": True, "path": shown, "size": size})
        offset = 0
        while offset < size:  # the file's bytes as they were at the start; a file that shrank ends short
            sent = os.sendfile(1, fd, offset, min(SEND_SIZE, size - offset))
            if sent == 0:
                break
            offset += sent
    finally:
        os.close(fd)


MAX_LINKS_FOLLOWED = 8  # as the kernel's ELOOP limit is 40: a loop is said at once


def do_write(beneath: Beneath, parts: list[str], shown: str, overwrite: bool, links: int = 0) -> None:
    if not parts or parts[-1] == "..":
        os.close(beneath.open(parts, os.O_RDONLY | os.O_DIRECTORY))  # outside the workspace: forbidden
        raise Refused("bad_request", "Name the file to write, not a directory.")
    name = parts[-1]
    parent = beneath.open(parts[:-1], os.O_RDONLY | os.O_DIRECTORY)
    temp = None
    try:
        existing = _lstat(name, parent)
        if existing is not None and stat.S_ISLNK(existing.st_mode) and overwrite:
            # Overwriting a link writes where it leads, as reading it reads there: the link stays.
            # Where it leads is checked as any path is (beneath the workspace, or forbidden).
            target = os.readlink(name, dir_fd=parent)
            if target.startswith("/"):
                raise Refused("forbidden", f"{shown} is a link that leads outside the workspace.")
            if links >= MAX_LINKS_FOLLOWED:
                raise Refused("bad_request", f"{shown} is a link that leads to a link, and so on, too often.")
            return do_write(beneath, parts[:-1] + [p for p in target.split("/") if p not in ("", ".")],
                            shown, overwrite, links + 1)
        if existing is not None:
            if stat.S_ISDIR(existing.st_mode):
                raise Refused("exists" if not overwrite else "bad_request", f"{shown} is a directory.")
            if not overwrite:
                raise Refused("exists", f"{shown} exists already.")
        temp = f".{name[:180]}{TEMP_MARK}{os.urandom(6).hex()}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
        send_message({"ok": True, "path": shown})
        size = _receive_into(fd)
        if size is None:  # abandoned: nothing is left, and the web process hears so once it is gone
            os.close(fd)
            os.unlink(temp, dir_fd=parent)
            temp = None
            send_message({"ok": True, "aborted": True})
            return
        umask = os.umask(0)
        os.umask(umask)
        mode = stat.S_IMODE(existing.st_mode) if existing is not None and stat.S_ISREG(existing.st_mode) \
            else 0o666 & ~umask
        os.fchmod(fd, mode)
        os.fsync(fd)
        os.close(fd)
        _put_in_place(temp, name, parent, overwrite, shown)
        temp = None
        os.fsync(parent)
        send_message({"ok": True, "path": shown, "size": size})
    finally:
        if temp is not None:
            try:
                os.unlink(temp, dir_fd=parent)
            except OSError:
                pass
        os.close(parent)


def _lstat(name: str, parent: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _receive_into(fd: int) -> int | None:
    """DATA frames into `fd` until END; the size written, or None when the upload was abandoned (ABORT,
    or the connection ended first)."""
    size = 0
    while True:
        frame = read_frame()
        if frame is None or frame[0] == ABORT:
            return None
        kind, payload = frame
        if kind == END:
            return size
        if kind != DATA:
            raise Refused("bad_request", "The files worker expected data.")
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        size += len(payload)


def _put_in_place(temp: str, name: str, parent: int, overwrite: bool, shown: str) -> None:
    """Rename the finished upload to its name: replacing what is there with overwrite, else only
    if nothing took the name meanwhile (renameat2 RENAME_NOREPLACE, or link + unlink)."""
    if overwrite:
        os.rename(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
        return
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is not None:
        if renameat2(parent, temp.encode("utf-8", "surrogateescape"), parent,
                     name.encode("utf-8", "surrogateescape"), RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise Refused("exists", f"{shown} was created meanwhile; upload again to overwrite it.")
        if code not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(code, os.strerror(code))
    try:
        os.link(temp, name, src_dir_fd=parent, dst_dir_fd=parent, follow_symlinks=False)
    except FileExistsError:
        raise Refused("exists", f"{shown} was created meanwhile; upload again to overwrite it.") from None
    os.unlink(temp, dir_fd=parent)


def main(argv: list[str]) -> int:
    root, request = argv[0], json.loads(argv[1])
    os.set_blocking(0, True)  # the web process's connection, shared with the host's non-blocking copy
    path = request.get("path") or ""
    try:
        parts = relative_parts(path, root)
        shown = "/".join(parts)
        try:
            root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as error:
            raise Refused("forbidden", f"The workspace's account cannot open its directory "
                                       f"({os.strerror(error.errno or 0).lower()}).") from None
        beneath = Beneath(root_fd)
        try:
            op = request.get("op")
            if op == "list":
                do_list(beneath, parts, shown)
            elif op == "read":
                do_read(beneath, parts, shown)
            elif op == "write":
                do_write(beneath, parts, shown, bool(request.get("overwrite")))
            else:
                raise Refused("bad_request", f"Unknown files operation {op!r}.")
        except OSError as error:
            raise refusal_for(error, shown) from None
    except Refused as refused:
        try:
            send_message({"ok": False, "error": {"code": refused.code, "message": refused.message}})
        except OSError:
            pass
        return 1
    except BrokenPipeError:
        return 1  # the web process went away (a download cancelled)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
