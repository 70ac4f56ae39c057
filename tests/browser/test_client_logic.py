"""The page's stream and input bookkeeping, unit-tested under Node (tests/browser/js)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_client_stream_and_input_logic_under_node():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (make test needs Node.js and npm)")
    result = subprocess.run([node, "--test", "tests/browser/js/"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
