"""The page names the socket events as the server does: static/src/lib/protocol.js against aict/protocol.py."""

from __future__ import annotations

import re
from pathlib import Path

from aict import protocol

PROTOCOL_JS = Path(__file__).resolve().parents[2] / "static" / "src" / "lib" / "protocol.js"


def _page_protocol() -> tuple[dict[str, str], dict[str, list[str]]]:
    """protocol.js's string constants ({NAME: value}) and its lists ({NAME: [constant names]})."""
    text = PROTOCOL_JS.read_text()
    names = dict(re.findall(r'^export const ([A-Z_]+) = "([^"]*)";', text, re.M))
    lists = {name: re.findall(r"[A-Z_]+", body)
             for name, body in re.findall(r"^export const ([A-Z_]+) = \[([^\]]*)\];", text, re.M)}
    return names, lists


def test_the_page_and_the_server_name_the_same_events():
    names, lists = _page_protocol()
    for group in ("CLIENT_EVENTS", "SERVER_EVENTS"):
        server = getattr(protocol, group)
        page = [names[name] for name in lists[group]]
        assert page == list(server), f"{group}: the page's list against the server's"
    server_names = {name: value for name, value in vars(protocol).items()
                    if name.isupper() and isinstance(value, str)}
    assert names == server_names, "every event constant, named and spelt alike on both sides"


def test_the_page_names_no_event_outside_protocol_js():
    """Event names appear in protocol.js only: elsewhere the page imports them."""
    events = set(protocol.CLIENT_EVENTS + protocol.SERVER_EVENTS) - {protocol.ERROR}  # "error" is also a word
    src = PROTOCOL_JS.parent.parent
    spelt = [f"{path.relative_to(src)}: {event}" for path in src.rglob("*.js") if path != PROTOCOL_JS
             for event in events if f'"{event}"' in path.read_text()]
    assert not spelt
