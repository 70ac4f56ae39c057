"""Reading asciicast v2 files as the recording endpoint serves them."""

from __future__ import annotations

import json


def parse(text: str) -> tuple[dict, list[list]]:
    """(header, events) of an asciicast v2 file."""
    lines = text.splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def output_of(events: list[list]) -> str:
    """What the "o" events printed, in order."""
    return "".join(data for _, kind, data in events if kind == "o")
