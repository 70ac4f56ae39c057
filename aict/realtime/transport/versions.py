"""The library versions the transport's patches were written for, and the checks that say when
the installed libraries do not fit them.

A patch into a library's internals breaks without an error: a new release renames a private
method and the override is never called, or changes what it does and the patch does something
else. So the fast paths start only with a version listed here, and everything the transport
replaces or relies on is checked for its shape before anything is installed.
"""

from __future__ import annotations

import inspect
from importlib import metadata

# The one place that says which versions the patches were checked against. Check a new version
# (read the replaced code, run `make test`, which runs the contract on both paths, and `make bench`)
# before adding it.
KNOWN_GOOD: dict[str, frozenset[str]] = {
    "python-engineio": frozenset({"4.15.1"}),  # engineio_hooks, direct_output
    "python-socketio": frozenset({"5.18.1"}),  # contract_events, inline_events, output_packet
    "Flask-SocketIO": frozenset({"5.7.0"}),  # server_class
    "gevent-websocket": frozenset({"0.10.1"}),  # websocket_frames
    "paramiko": frozenset({"5.1.0"}),  # aict/ssh/connect.py's BastionTransport (paramiko_channels)
}
SWITCH = "FAST_PATHS = False in the config file, or AICT_FAST_PATHS=0 in the environment"


def installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _expected(package: str) -> str:
    return " or ".join(sorted(KNOWN_GOOD[package]))


def version_problems() -> list[str]:
    """One line per package whose installed version the patches were not written for."""
    problems = []
    for package in KNOWN_GOOD:
        found = installed(package)
        if found not in KNOWN_GOOD[package]:
            problems.append(f"{package} {found or '(not installed)'} is installed; the patches were written "
                            f"for {package} {_expected(package)}")
    return problems


def problem(package: str, what: str) -> str:
    """A line saying what differs, after the package, its installed version and the ones expected."""
    return f"{package} {installed(package) or '(not installed)'} (the patches were written for " \
           f"{_expected(package)}): {what}"


def _name(owner: object, name: str) -> str:
    prefix = getattr(owner, "__module__", None)
    qualname = getattr(owner, "__qualname__", None) or getattr(owner, "__name__", repr(owner))
    return f"{prefix}.{qualname}.{name}" if prefix and prefix != qualname else f"{qualname}.{name}"


def method_problem(package: str, owner: object, name: str, parameters: tuple[str, ...]) -> str | None:
    """None if `owner.name` is a function taking exactly `parameters` (their names, in order, with
    `self` or `cls` for a method); else what differs, naming the package and its version."""
    attribute = getattr(owner, name, None)
    if attribute is None:
        return problem(package, f"{_name(owner, name)} does not exist")
    if not callable(attribute):
        return problem(package, f"{_name(owner, name)} is not a function")
    function = inspect.unwrap(attribute)
    if inspect.ismethod(function):  # a classmethod seen through its class: show `cls` as written
        function = function.__func__
    found = tuple(inspect.signature(function).parameters)
    if found != parameters:
        return problem(package, f"{_name(owner, name)} takes ({', '.join(found)}), "
                                 f"expected ({', '.join(parameters)})")
    return None


def attribute_problems(package: str, instance: object, names: tuple[str, ...], what: str) -> list[str]:
    """One line per attribute in `names` that `instance` (described as `what`) lacks."""
    return [problem(package, f"{what} has no attribute {name!r}") for name in names
            if not hasattr(instance, name)]


def problems_in(*found: str | None | list[str]) -> list[str]:
    """The problems among method_problem()'s and attribute_problems()' answers, flattened."""
    out: list[str] = []
    for item in found:
        if isinstance(item, list):
            out += item
        elif item:
            out.append(item)
    return out
