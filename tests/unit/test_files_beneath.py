"""The files worker resolves paths beneath the workspace the same way with openat2 and with its own
walk (kernels without openat2): links that stay inside are followed, anything leading out refused."""

from __future__ import annotations

import os

import pytest

from aict.files.worker import Beneath, Refused, relative_parts


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "ws"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "deep" / "f.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "to-src").symlink_to("src")
    (root / "to-deep-file").symlink_to("src/deep/f.txt")
    (root / "up").symlink_to("..")
    (root / "abs").symlink_to(str(root / "src"))  # absolute, even into the root: refused, as openat2 does
    (root / "src" / "back").symlink_to("../src/deep")
    (root / "loop").symlink_to("loop")
    return root


def _beneath(root, mode: str) -> Beneath:
    beneath = Beneath(os.open(root, os.O_RDONLY | os.O_DIRECTORY))
    if mode == "walk":
        beneath.openat2 = None
    return beneath


def _read(beneath: Beneath, path: str) -> str:
    fd = beneath.open(relative_parts(path, "/nowhere"), os.O_RDONLY)
    try:
        return os.read(fd, 100).decode()
    finally:
        os.close(fd)


@pytest.mark.parametrize("mode", ["openat2", "walk"])
@pytest.mark.parametrize("path", ["src/deep/f.txt", "to-src/deep/f.txt", "to-deep-file", "src/back/f.txt",
                                  "src/../src/deep/./f.txt", "to-src/deep/../deep/f.txt"])
def test_paths_inside_are_followed(tree, mode, path):
    assert _read(_beneath(tree, mode), path) == "inside"


@pytest.mark.parametrize("mode", ["openat2", "walk"])
@pytest.mark.parametrize("path", ["../secret.txt", "up/secret.txt", "src/../../secret.txt", "abs/deep/f.txt",
                                  "to-src/../../secret.txt"])
def test_paths_leading_out_are_refused(tree, mode, path):
    with pytest.raises(Refused) as refused:
        _read(_beneath(tree, mode), path)
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize("mode", ["openat2", "walk"])
def test_missing_and_looping_paths_are_os_errors(tree, mode):
    beneath = _beneath(tree, mode)
    with pytest.raises(FileNotFoundError):
        _read(beneath, "src/nothing")
    with pytest.raises(OSError):
        _read(beneath, "loop")


def test_absolute_paths_only_inside_the_root():
    assert relative_parts("/srv/ws/a/b", "/srv/ws") == ["a", "b"]
    assert relative_parts("/srv/ws", "/srv/ws") == []
    with pytest.raises(Refused):
        relative_parts("/srv/wsx/a", "/srv/ws")
    with pytest.raises(Refused):
        relative_parts("/etc/passwd", "/srv/ws")
    assert relative_parts("a//./b/", "/srv/ws") == ["a", "b"]
