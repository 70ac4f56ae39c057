"""The SSH building blocks without a network: sealing credentials, key lines, target rules."""

from __future__ import annotations

import socket
import subprocess

import psutil
import pytest
from cryptography.fernet import Fernet

from aict.ssh.credentials import CredentialCipher, CredentialsUnreadable
from aict.ssh.keys import BadKey, load_private_key, parse_host_key
from aict.ssh.targets import METADATA_ADDRESSES, is_forbidden_for_users, target_problem, valid_host


def test_sealed_credentials_open_with_any_configured_key_and_reseal_with_the_first():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = CredentialCipher(old).seal({"password": "hunter2"})
    assert sealed.startswith(b"v1:") and b"hunter2" not in sealed
    rotated = CredentialCipher(f"{new}, {old}")
    assert rotated.open(sealed) == {"password": "hunter2"}
    resealed = rotated.reseal(sealed)
    assert CredentialCipher(new).open(resealed) == {"password": "hunter2"}
    with pytest.raises(CredentialsUnreadable):
        CredentialCipher(old).open(resealed)


def test_foreign_or_tampered_credentials_are_unreadable():
    cipher = CredentialCipher(Fernet.generate_key().decode())
    sealed = bytearray(cipher.seal({"password": "x"}))
    with pytest.raises(CredentialsUnreadable):
        cipher.open(b"v2:" + bytes(sealed[3:]))
    sealed[-5] ^= 1
    with pytest.raises(CredentialsUnreadable):
        cipher.open(bytes(sealed))


def test_encryption_key_must_be_fernet_keys():
    with pytest.raises(ValueError):
        CredentialCipher("not-a-key")
    with pytest.raises(ValueError):
        CredentialCipher("")


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_host_key_fingerprint_is_what_ssh_keygen_prints(tmp_path, kind):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "me@there", "-f", str(tmp_path / "k")],
                   check=True)
    line = (tmp_path / "k.pub").read_text()
    printed = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], check=True, capture_output=True,
                             text=True).stdout.split()[1]
    key = parse_host_key(line)
    assert key.fingerprint == printed
    assert key.line == " ".join(line.split()[:2])  # the comment is dropped
    assert parse_host_key(f"# example.com:22 SSH-2.0-OpenSSH\nexample.com {line}").fingerprint == printed
    assert load_private_key((tmp_path / "k").read_text()).fingerprint == printed


@pytest.mark.parametrize("text", ["", "ssh-ed25519", "ssh-dss AAAAB3NzaC1kc3M=", "ssh-ed25519 %%%",
                                  "ssh-ed25519 AAAA\nssh-ed25519 AAAA", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA=="])
def test_malformed_host_key_lines_are_refused(text):
    with pytest.raises(BadKey):
        parse_host_key(text)


@pytest.mark.parametrize("address, forbidden", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("169.254.169.254", True), ("fe80::1%eth0", True),
    ("::ffff:127.0.0.1", True), ("0.0.0.0", True), ("::", True), ("fd00:ec2::254", True),
    ("100.100.100.200", True), ("192.0.0.192", True), ("168.63.129.16", True), ("224.0.0.1", True),
    ("ff02::1", True), ("240.0.0.1", True), ("255.255.255.255", True), ("::ffff:169.254.169.254", True),
    ("2002:7f00:1::", True), ("64:ff9b::a9fe:a9fe", True), ("not-an-ip", True),
    ("10.0.0.1", False), ("192.0.2.10", False), ("2001:db8::1", False), ("fd00::1234", False),
    ("100.100.100.201", False), ("8.8.8.8", False),
])
def test_addresses_users_may_never_target(address, forbidden):
    assert is_forbidden_for_users(address) is forbidden


def test_every_metadata_address_is_forbidden():
    assert all(is_forbidden_for_users(str(address)) for address in METADATA_ADDRESSES)


def test_every_address_of_this_machine_is_forbidden():
    own = [entry.address for entries in psutil.net_if_addrs().values() for entry in entries
           if entry.family in (socket.AF_INET, socket.AF_INET6)]
    assert any(not a.startswith(("127.", "::1", "fe80")) for a in own), own  # more than loopback to check
    assert all(is_forbidden_for_users(address) for address in own), own


@pytest.mark.parametrize("host", [
    "example.com", "example.com.", "db-1.lab.example", "_srv.internal", "localhost", "a" * 63 + ".example",
    "127.0.0.1", "192.0.2.10", "::1", "2001:db8::1", "fe80::1%eth0", "::ffff:127.0.0.1", "host42",
])
def test_host_names_and_addresses_are_valid_hosts(host):
    assert valid_host(host)


@pytest.mark.parametrize("host", [
    "", ".", "..", "a..b", ".example", "-a.example", "a-.example", "a" * 64 + ".example", "x." * 127 + "com",
    "256.1.1.1", "1.2.3", "127.0.0.1:22", "example.com:22", "exa mple.com", "ü.example", "%", "a%b",
    "192.0.2.1%eth0", "fe80::1%", "fe80::1%e th0", "-oProxyCommand=x", "\x00",
])
def test_everything_else_is_not_a_host(host):
    assert not valid_host(host)


def test_target_rules():
    patterns = ["*.lab.example", "192.0.2.*"]
    assert target_problem("anything", ["127.0.0.1"], True, []) is None  # admins may target anything
    assert target_problem("db.lab.example", ["192.0.2.5"], False, patterns) is None
    assert target_problem("DB.LAB.EXAMPLE", [], False, patterns) is None  # not resolvable (yet): checked again later
    refused = target_problem("db.other.example", ["192.0.2.5"], False, patterns)
    assert "SSH_ALLOWED_HOSTS" in refused
    # a matching name that resolves to the server itself (at creation or, re-pointed, at connection):
    # the same sentence, so that it says nothing about where the name points
    assert target_problem("db.lab.example", ["192.0.2.5", "127.0.0.1"], False, patterns) == \
        refused.replace("db.other.example", "db.lab.example")
    assert target_problem("x.localhost", [], False, ["*"]) is not None
    assert target_problem("metadata.google.internal", [], False, ["*"]) is not None
