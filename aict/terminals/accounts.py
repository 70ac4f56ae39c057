"""The operating-system account a local shell runs as: privilege separation, like sshd's.

The server's secrets (instance/ files 0600, its environment, /proc/<pid>/environ) belong to the
account the server runs as. A shell run as that same account, or as root, can read them all, sign
itself an admin's token and read every stored SSH credential: such a shell is for administrators
only. A shell run as another account (AICT_SHELL_ACCOUNT, or the workspace's own shell_account) is
out of their reach, and may be offered to any member. In production the server starts no shell as
its own account or as root at all.

Each workspace also gets a home of its own, <workspace root>/.homes/<workspace id>/<account>:
its HOME and HISTFILE, so that history carries across the workspace's sessions and never shows
another workspace's commands.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

# What the server's account and root would be told (and what the page shows before anyone tries).
ASSIGN_ONE = ("An administrator can assign a separate account: AICT_SHELL_ACCOUNT for the server, or one "
              "for this workspace under Members.")
HOME_DIRS = ".homes"  # under the workspace root: one home per workspace and account
SKELETON = Path("/etc/skel")  # what `useradd -m` copies into a new home
SETPRIV_DIRS = "/usr/bin:/bin:/usr/sbin:/sbin"
PRIVATE_DIR = 0o700
PASS_THROUGH_DIR = 0o711  # others may pass through to their own directory, not list it


class ShellAccountError(Exception):
    """No shell may start as this account here; the message says why and what to do."""


@dataclass(frozen=True)
class ShellAccount:
    name: str
    uid: int
    gid: int
    shell: str

    @classmethod
    def named(cls, name: str) -> ShellAccount:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ShellAccountError(f"The shell account '{name}' does not exist on this server: an administrator "
                                    f"must create it (useradd) or assign another.") from None
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_shell or "/bin/sh")

    @classmethod
    def of_uid(cls, uid: int) -> ShellAccount:
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:  # a container's uid with no passwd entry
            return cls(str(uid), uid, os.getgid(), "/bin/sh")
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_shell or "/bin/sh")


@dataclass(frozen=True)
class ShellChoice:
    """The account a workspace's shells run as, and whether that keeps the server's secrets from them."""

    account: ShellAccount
    separate: bool  # False: the server's own account, or root not configured as such: admins only
    reason: str | None  # why not separate (shown to members and on the page)
    refusal: str | None  # why no shell may start at all (production), for admins too


def server_uids(instance_dir: str | os.PathLike | None, web_account: str | None = None) -> set[int]:
    """The accounts that hold the server's secrets: this process's, the web processes' (WEB_ACCOUNT,
    when this is a terminal host running as root) and the instance folder's owner."""
    uids = {os.getuid(), os.geteuid()}
    if web_account:
        try:
            uids.add(pwd.getpwnam(web_account).pw_uid)
        except KeyError:
            pass
    if instance_dir is not None:
        try:
            uids.add(os.stat(instance_dir).st_uid)
        except OSError:
            pass
    return uids


def choose_account(assigned: str | None, default: str | None, instance_dir: str | os.PathLike | None,
                   production: bool, web_account: str | None = None) -> ShellChoice:
    """The account for a workspace's shells: its own `assigned` one, else the server-wide `default`
    (AICT_SHELL_ACCOUNT), else the server's own. Raises ShellAccountError for a missing account."""
    name = (assigned or default or "").strip() or None
    account = ShellAccount.named(name) if name else ShellAccount.of_uid(os.getuid())
    own = server_uids(instance_dir, web_account)
    reason = refusal = None
    if account.uid in own and account.uid != 0:
        reason = (f"Shells of this workspace run as {account.name}, the server's own account, which can read "
                  f"the server's secrets: only administrators may use them. {ASSIGN_ONE}")
    elif account.uid == 0 and (name != "root" or 0 in own):
        what = "root, the server's own account" if 0 in own else "root"
        reason = (f"Shells of this workspace run as {what}, which can read the server's secrets: only "
                  f"administrators may use them. {ASSIGN_ONE}")
    if production and (account.uid == 0 or account.uid in own):
        what = "root" if account.uid == 0 else f"the server's own account ({account.name})"
        refusal = (f"This server runs in production and starts no shell as {what}. {ASSIGN_ONE}")
        reason = reason or refusal
    return ShellChoice(account, reason is None, reason, refusal)


def needs_switch(account: ShellAccount) -> bool:
    return account.uid != os.geteuid()


def setpriv_prefix(account: ShellAccount) -> list[str]:
    """The command that drops to `account` (uid, gid and its supplementary groups) and runs the rest:
    util-linux's setpriv, exec'd in the spawned child (no fork of the server, nothing in Python there)."""
    if os.geteuid() != 0:
        raise ShellAccountError(f"The server runs as {ShellAccount.of_uid(os.geteuid()).name}, not root: it cannot "
                                f"start shells as {account.name}. Run the terminal host as root, or unset the "
                                f"shell account to run shells as the server's own account (admins only).")
    setpriv = shutil.which("setpriv", path=SETPRIV_DIRS)
    if setpriv is None:
        raise ShellAccountError("setpriv (util-linux) is not installed: it starts shells as their account.")
    return [setpriv, f"--reuid={account.uid}", f"--regid={account.gid}", "--init-groups", "--"]


def fresh_environment(account: ShellAccount, home: str, cwd: str, locale: dict[str, str],
                      shell: str | None = None) -> dict[str, str]:
    """The shell's whole environment, made here: nothing of the server's but its locale. SHELL is the
    shell started (a system account's own is often nologin)."""
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" if account.uid == 0 \
        else "/usr/local/bin:/usr/bin:/bin"
    env = {"LANG": "C.UTF-8", **locale}
    env.update(HOME=home, USER=account.name, LOGNAME=account.name, SHELL=shell or account.shell, PATH=path,
               TERM="xterm-256color", COLORTERM="truecolor", PWD=cwd,
               # bash: history of this workspace alone, written as each command runs (a crash loses
               # nothing; a second session's Ctrl+R and !! see the first's commands), appended to
               # rather than overwritten when a session ends. A ~/.bashrc that sets PROMPT_COMMAND
               # should add to it: PROMPT_COMMAND="history -a; ...".
               HISTFILE=os.path.join(home, ".bash_history"), PROMPT_COMMAND="history -a",
               BASHOPTS="histappend",
               # git in the workspace finds no repository above it (the server's own instance may be a clone)
               GIT_CEILING_DIRECTORIES=os.path.dirname(os.path.abspath(cwd)))
    return env


def home_for(workspace_root: str | os.PathLike, workspace_id: str, account: ShellAccount) -> Path:
    """A workspace's home for one account: never another workspace's (ids are unique), never handed
    from one account to another (a new account gets a new home)."""
    return Path(workspace_root) / HOME_DIRS / workspace_id / account.name


def prepare_directories(account: ShellAccount, workspace_dir: str, workspace_root: str | os.PathLike,
                        home: Path, instance_dir: str | os.PathLike | None, web_account: str | None = None) -> None:
    """Before a shell as `account`: its home made (0700, the account's, seeded like `useradd -m`),
    the workspace's own directory handed to it (0700) the first time, and the way to both passable.

    Only what the server made is handed over: a directory under the workspace root still owned by
    the server; never one an administrator named outside the root, never the files inside."""
    root = Path(workspace_root)
    root.mkdir(mode=PASS_THROUGH_DIR, parents=True, exist_ok=True)  # another node's workspace: not made here yet
    server = server_uids(instance_dir, web_account)
    switch = account.uid not in server and os.geteuid() == 0
    if switch:  # the account passes through the server's folders to its own, and lists none of them
        instance = Path(instance_dir) if instance_dir is not None else None
        if instance is not None and root.is_relative_to(instance):
            for directory in (instance, *reversed(root.relative_to(instance).parents[:-1]), root):
                _pass_through(directory if directory.is_absolute() else instance / directory)
        _pass_through(root)
    for directory in (root / HOME_DIRS, home.parent):
        try:
            directory.mkdir(mode=PASS_THROUGH_DIR)
        except FileExistsError:
            pass
    try:
        home.mkdir(mode=PRIVATE_DIR)
        created = True
    except FileExistsError:
        created = False
    if not switch:
        if created:
            _seed(home, None)
        return
    info = os.lstat(home)
    if stat.S_ISDIR(info.st_mode) and info.st_uid != account.uid:
        os.chown(home, account.uid, account.gid, follow_symlinks=False)
    if created:
        _seed(home, account)
    target = Path(workspace_dir)
    info = os.lstat(target)
    if target != root and target.is_relative_to(root) and stat.S_ISDIR(info.st_mode) and info.st_uid in server:
        os.chown(target, account.uid, account.gid, follow_symlinks=False)
        os.chmod(target, PRIVATE_DIR, follow_symlinks=False)


def _pass_through(directory: Path) -> None:
    """Others may pass through (x), not list or write: 0711 from 0755 or 0700."""
    try:
        mode = stat.S_IMODE(os.stat(directory).st_mode)
    except FileNotFoundError:
        return
    wanted = (mode & 0o700) | 0o011
    if mode != wanted:
        os.chmod(directory, wanted)


def _seed(home: Path, account: ShellAccount | None) -> None:
    """/etc/skel's files into a new home, as `useradd -m` does (Debian's .bashrc: colours, aliases)."""
    if not SKELETON.is_dir():
        return
    for entry in SKELETON.iterdir():
        if not entry.is_file() or entry.is_symlink():
            continue
        target = home / entry.name
        shutil.copyfile(entry, target)
        os.chmod(target, 0o644)
        if account is not None:
            os.chown(target, account.uid, account.gid, follow_symlinks=False)


def tty_group() -> int | None:
    try:
        return grp.getgrnam("tty").gr_gid
    except KeyError:
        return None
