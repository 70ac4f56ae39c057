"""Shell integration for local shells: how bash and zsh are started so that the hooks of
aict/terminals/shell_integration/ mark each command, without editing any file of the user's.

bash: `--rcfile <bash.sh>`, which reads what bash would have read itself (~/.bashrc; for a login
shell, whose -l --rcfile cannot be combined with, /etc/profile and the first of ~/.bash_profile,
~/.bash_login, ~/.profile) and then adds its hooks. A bash told to read nothing (--norc, or
-l --noprofile) reads nothing still: its first PROMPT_COMMAND sources the hooks.
zsh: ZDOTDIR points at the server's own directory, whose startup files read the user's and then
add the hooks.

Each terminal gets a random nonce in its shell's environment (the hooks keep it in an unexported
variable); only marks carrying it are believed (aict.terminals.shell_marks). Shells started with
arguments other than these (a command, another shell) get no integration: their terminals fall
back to typed-line capture (aict.terminals.typed_lines).
"""

from __future__ import annotations

import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "shell_integration"
INSTALLED_DIR = ".shell-integration"  # under the workspace root, readable by every shell account
BASH_ARGS = frozenset({"-l", "--login", "-i", "--noprofile", "--norc"})
ZSH_ARGS = frozenset({"-l", "--login", "-i"})
LOGIN = ("-l", "--login")


@dataclass(frozen=True)
class Integration:
    """How to start the shell with its hooks, and the nonce its marks carry."""

    argv: list[str]
    env: dict[str, str]
    nonce: str


def integrate(argv: list[str], env: dict[str, str], scripts: Path) -> Integration | None:
    """The shell `argv` with the hooks installed in `scripts` (see install_scripts), or None when
    it is no bash or zsh started as an interactive shell."""
    shell, args = os.path.basename(argv[0]), argv[1:]
    nonce = secrets.token_hex(16)
    env = {**env, "AICT_SHELL_NONCE": nonce}
    if shell == "bash" and set(args) <= BASH_ARGS:
        login = any(arg in LOGIN for arg in args)
        reads_nothing = "--noprofile" in args if login else "--norc" in args
        script = str(scripts / "bash.sh")
        if reads_nothing:  # nothing may be read before the first prompt: the hooks come with it
            env.update(AICT_SHELL_STARTUP="norc", AICT_PROMPT_COMMAND=env.get("PROMPT_COMMAND", ""),
                       PROMPT_COMMAND=f". {shlex.quote(script)}")
            return Integration(argv, env, nonce)
        env["AICT_SHELL_STARTUP"] = "login" if login else "rc"
        rest = [arg for arg in args if arg not in LOGIN and arg not in ("--noprofile", "--norc")]
        return Integration([argv[0], "--rcfile", script, *rest], env, nonce)  # long options first
    if shell == "zsh" and set(args) <= ZSH_ARGS:
        env.update(AICT_USER_ZDOTDIR=env.get("ZDOTDIR") or env.get("HOME", ""), ZDOTDIR=str(scripts / "zsh"))
        return Integration(argv, env, nonce)
    return None


def install_scripts(target: Path) -> None:
    """Copy the hooks to `target` (0755, files 0644: readable by every shell account, writable by
    the server alone), rewriting only what differs from this version's."""
    for source in sorted(SCRIPTS.rglob("*")):
        destination = target / source.relative_to(SCRIPTS)
        if source.is_dir():
            continue
        content = source.read_bytes()
        try:
            if destination.read_bytes() == content:
                continue
        except OSError:
            pass
        for directory in {target, destination.parent}:  # the scripts are one level deep at most
            directory.mkdir(mode=0o755, parents=True, exist_ok=True)
            os.chmod(directory, 0o755)
        temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
        temporary.write_bytes(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
