"""An SSH workspace's files over SFTP, as its remote user: the remote server applies that user's rights.

The connection is opened like a terminal's (aict/ssh/connect.py: the pinned host key, never an
unknown one; the same errors). Paths are relative to the remote user's home directory, or absolute.
Both directions stream: a download reads windows of pipelined requests (bounded memory, unlike
paramiko's prefetch of a whole file), an upload writes pipelined to a temporary file beside the
target and renames it at the end, so that a cut-off upload leaves nothing behind.
"""

from __future__ import annotations

import errno
import posixpath
import secrets
import stat
from collections.abc import Iterator

import paramiko

from aict.errors import AppError, bad_request, forbidden
from aict.files.worker import MAX_ENTRIES, TEMP_MARK, iso, kind_of, upload_in_progress

REQUEST_SIZE = 32 * 1024  # paramiko's largest read request
WINDOW = 2 * 1024 * 1024  # read ahead at most this much of a download
SFTP_ERRORS = (OSError, EOFError, paramiko.SSHException)


def _shown(path: str) -> str:
    return path or "the home directory"


def refusal_for(error: BaseException, path: str) -> AppError:
    code = getattr(error, "errno", None)
    if code == errno.ENOENT:
        return AppError("not_found", f"{_shown(path)} does not exist.")
    if code == errno.EACCES:
        return forbidden(f"The remote user may not do that with {_shown(path)} (permission denied).")
    if isinstance(error, (EOFError, paramiko.SSHException)):
        return AppError("ssh_unreachable", "The SSH connection broke during the file transfer.")
    text = str(getattr(error, "strerror", None) or error or "failure")
    return AppError("conflict", f"The SSH server refused that for {_shown(path)}: {text}.")


def normalized(path: str) -> str:
    if "\x00" in path:
        raise bad_request("A path may not contain a NUL character.")
    if not path or path in (".", "./"):
        return ""
    clean = posixpath.normpath(path)
    return clean if clean != "." else ""


class SftpDownload:
    def __init__(self, handle: paramiko.SFTPFile, path: str, size: int):
        self.handle, self.path, self.size = handle, path, size

    def chunks(self) -> Iterator[bytes]:
        offset = 0
        while offset < self.size:
            window = min(WINDOW, self.size - offset)
            requests = [(start, min(REQUEST_SIZE, offset + window - start))
                        for start in range(offset, offset + window, REQUEST_SIZE)]
            try:
                for data in self.handle.readv(requests):
                    if not data:
                        raise AppError("conflict", "The file changed while it was read.")
                    yield data
            except SFTP_ERRORS as error:
                raise refusal_for(error, self.path) from None
            offset += window

    def close(self) -> None:
        try:
            self.handle.close()
        except SFTP_ERRORS:
            pass


class SftpUpload:
    def __init__(self, files: SftpFiles, path: str, temp: str, overwrite: bool, mode: int | None):
        self.files, self.path, self.temp, self.overwrite, self.mode = files, path, temp, overwrite, mode
        self.size = 0
        self.handle = files.sftp.open(temp, "wbx")
        self.handle.set_pipelined(True)

    def write(self, data: bytes) -> None:
        try:
            self.handle.write(data)
        except SFTP_ERRORS as error:
            self.abort()
            raise refusal_for(error, self.path) from None
        self.size += len(data)

    def finish(self) -> dict:
        sftp = self.files.sftp
        try:
            self.handle.close()  # waits for every pipelined write's answer
            if self.mode is not None:
                sftp.chmod(self.temp, self.mode)
            if self.overwrite:
                sftp.posix_rename(self.temp, self.path)
            else:
                try:
                    sftp.rename(self.temp, self.path)  # the SFTP rename never replaces a file
                except OSError:
                    if self.files.exists(self.path):
                        raise AppError("exists", f"{self.path} was created meanwhile; upload again to "
                                                 f"overwrite it.") from None
                    raise
        except SFTP_ERRORS as error:
            self.abort()
            raise refusal_for(error, self.path) from None
        except AppError:
            self.abort()
            raise
        return {"path": self.path, "size": self.size}

    def abort(self) -> None:
        try:
            self.handle.close()
        except SFTP_ERRORS:
            pass
        try:
            self.files.sftp.remove(self.temp)
        except SFTP_ERRORS:
            pass


class SftpFiles:
    """One SFTP session on a connected, host-verified transport; closes the transport with it."""

    def __init__(self, transport: paramiko.Transport):
        self.transport = transport
        try:
            self.sftp = paramiko.SFTPClient.from_transport(transport)
        except SFTP_ERRORS as error:
            transport.close()
            raise AppError("ssh_session_refused", f"The SSH server refused an SFTP session ({error}).") from None

    def exists(self, path: str) -> bool:
        try:
            self.sftp.lstat(path)
            return True
        except OSError:
            return False

    def list(self, path: str) -> dict:
        shown = normalized(path)
        try:
            attributes = self.sftp.listdir_attr(shown or ".")
        except SFTP_ERRORS as error:
            raise refusal_for(error, shown) from None
        attributes = [a for a in attributes if not upload_in_progress(a.filename)]
        entries = [{"name": a.filename, "type": kind_of(a.st_mode or 0), "size": a.st_size or 0,
                    "mtime": iso(a.st_mtime or 0)} for a in attributes[:MAX_ENTRIES]]
        entries.sort(key=lambda e: e["name"])
        return {"path": shown, "entries": entries, "truncated": len(attributes) > MAX_ENTRIES}

    def open_read(self, path: str) -> SftpDownload:
        shown = normalized(path)
        try:
            info = self.sftp.stat(shown or ".")
            if stat.S_ISDIR(info.st_mode or 0):
                raise bad_request(f"{_shown(shown)} is a directory: download the files in it one by one.")
            if not stat.S_ISREG(info.st_mode or 0):
                raise bad_request(f"{_shown(shown)} is not a regular file.")
            handle = self.sftp.open(shown, "rb")
        except SFTP_ERRORS as error:
            raise refusal_for(error, shown) from None
        return SftpDownload(handle, shown, int(info.st_size or 0))

    def open_write(self, path: str, overwrite: bool) -> SftpUpload:
        shown = normalized(path)
        name = posixpath.basename(shown)
        if not name or name == "..":
            raise bad_request("Name the file to write, not a directory.")
        try:
            existing = self.sftp.lstat(shown)
        except FileNotFoundError:
            existing = None
        except SFTP_ERRORS as error:
            raise refusal_for(error, shown) from None
        mode = None
        if existing is not None:
            if stat.S_ISDIR(existing.st_mode or 0):
                raise AppError("exists" if not overwrite else "bad_request", f"{shown} is a directory.")
            if not overwrite:
                raise AppError("exists", f"{shown} exists already.")
            if stat.S_ISREG(existing.st_mode or 0):
                mode = stat.S_IMODE(existing.st_mode)
        temp = posixpath.join(posixpath.dirname(shown), f".{name[:180]}{TEMP_MARK}{secrets.token_hex(6)}")
        try:
            return SftpUpload(self, shown, temp, overwrite, mode)
        except SFTP_ERRORS as error:
            raise refusal_for(error, posixpath.dirname(shown)) from None

    def close(self) -> None:
        try:
            self.sftp.close()
        finally:
            self.transport.close()
