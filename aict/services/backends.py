"""The backend a workspace's terminals run on: a local PTY, or a paramiko channel with the workspace's
stored secrets, pinned host key and address rules."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gevent

from aict.config import Settings
from aict.errors import AppError, forbidden
from aict.models import User, Workspace
from aict.services.host_keys import host_key_checker, pinned_key
from aict.services.shell_accounts import startable_account, workspace_root_of
from aict.ssh.backend import SshBackend
from aict.ssh.connect import AddressCheck, HostKeyCheck, SshTarget
from aict.ssh.credentials import CredentialCipher, CredentialsUnreadable
from aict.ssh.targets import target_problem
from aict.terminals.accounts import ShellAccount, fresh_environment, home_for, prepare_directories
from aict.terminals.backend import Backend
from aict.terminals.integration import INSTALLED_DIR, install_scripts, integrate
from aict.terminals.local import LocalPtyBackend, locale_environment

# What a non-admin hears about any SSH connection that did not get as far as an SSH server's answer:
# a refused port, an open port that does not speak SSH, no route, no DNS answer, a target refused at
# connection. One sentence, sent no sooner than the connect timeout, so that the bastion is no port
# scanner; admins get the precise code and reason (docs/api.md), and the server log has it for all.
UNREACHABLE_FOR_USERS = ("Cannot connect to this workspace's SSH server: it could not be reached, did not answer "
                         "as an SSH server, or may not be used from this server. An administrator can see why "
                         "in the server's log.")
HIDDEN_FROM_USERS = frozenset({"ssh_unreachable", "ssh_dns", "forbidden"})


def start_failure_for(user: User, workspace: Workspace, error: AppError, started: float, timeout: float) -> AppError:
    """The error to answer `user` with when starting a terminal on `workspace` failed with `error`
    (called without a database connection: it may wait)."""
    if user.is_admin or workspace.kind != "ssh" or error.code not in HIDDEN_FROM_USERS:
        return error
    gevent.sleep(max(0.0, started + timeout - time.monotonic()))
    return AppError("ssh_unreachable", UNREACHABLE_FOR_USERS)


def backend_for(workspace: Workspace, settings: Settings, username: str | None = None) -> Backend:
    """A new backend for one terminal of the workspace, opened on behalf of `username`."""
    if workspace.kind == "local":
        return _local_backend(workspace, settings)
    return _ssh_backend(workspace, settings, username)


@dataclass(frozen=True)
class LocalAccountPlan:
    """Who acts in a local workspace (its shells, its file transfers) and what to prepare first: the
    account's home, and the workspace's own directory handed to it the first time."""

    account: ShellAccount
    home: Path
    prepare: Callable[[], None]


def local_account_plan(workspace: Workspace, settings: Settings) -> LocalAccountPlan:
    """The account a local workspace's shells and files use. Production refuses root and the server's
    own account here, where processes start as it, whoever asks."""
    account, root = startable_account(workspace, settings), workspace_root_of(settings)
    home = home_for(root, workspace.id, account)
    return LocalAccountPlan(account, home, partial(prepare_directories, account, workspace.path, root, home,
                                                   settings.INSTANCE_DIR, settings.WEB_ACCOUNT))


def _local_backend(workspace: Workspace, settings: Settings) -> LocalPtyBackend:
    """A shell as the workspace's account, in its directory, with its own home and a fresh environment."""
    plan = local_account_plan(workspace, settings)
    root = workspace_root_of(settings)
    env = fresh_environment(plan.account, str(plan.home), workspace.path, locale_environment(), settings.SHELL)
    argv, scripts = [settings.SHELL, *settings.SHELL_ARGS], root / INSTALLED_DIR
    integration = integrate(argv, env, scripts)  # bash and zsh mark each command (command history)
    if integration is not None:
        argv, env = integration.argv, integration.env

    def prepare() -> None:
        plan.prepare()
        if integration is not None:
            install_scripts(scripts)  # where the shell's account can read them

    return LocalPtyBackend(argv, workspace.path, env, account=plan.account, prepare=prepare,
                           shell_nonce=integration.nonce if integration is not None else None)


@dataclass(frozen=True)
class SshPlan:
    """Where an SSH workspace connects, with its secrets, and the checks every connection to it passes:
    the pinned host key (never an unknown one), the addresses its owner may reach."""

    target: SshTarget
    check_host_key: HostKeyCheck
    check_addresses: AddressCheck


def ssh_plan(workspace: Workspace, settings: Settings, username: str | None) -> SshPlan:
    """The SSH plan of a workspace (within an app context), for a connection opened for `username`."""
    try:
        secrets = CredentialCipher(settings.ENCRYPTION_KEY).open(workspace.credentials) if workspace.credentials else {}
    except CredentialsUnreadable:
        raise AppError("ssh_credentials_unreadable",
                       "The stored SSH credentials of this workspace cannot be decrypted with the configured "
                       "AICT_ENCRYPTION_KEY; an owner or admin must enter them again.", status=409) from None
    target = SshTarget(host=workspace.host, port=workspace.port or 22, username=workspace.username,
                       password=secrets.get("password"), private_key=secrets.get("private_key"),
                       passphrase=secrets.get("passphrase"), pinned=pinned_key(workspace))
    owner_is_admin = workspace.owner.is_admin
    patterns = list(settings.SSH_ALLOWED_HOSTS)

    def check_addresses(addresses: list[str]) -> None:
        problem = target_problem(target.host, addresses, owner_is_admin, patterns)
        if problem:
            raise forbidden(problem)

    return SshPlan(target, host_key_checker(workspace, username), check_addresses)


def _ssh_backend(workspace: Workspace, settings: Settings, username: str | None) -> SshBackend:
    """The backend for an SSH workspace (within an app context): its target, secrets and checks."""
    plan = ssh_plan(workspace, settings, username)
    return SshBackend(plan.target, connect_timeout=float(settings.SSH_CONNECT_TIMEOUT),
                      keepalive=int(settings.SSH_KEEPALIVE_SECONDS),
                      check_host_key=plan.check_host_key, check_addresses=plan.check_addresses)
