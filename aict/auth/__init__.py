"""Logins: tokens and their revocation, password hashes, login throttling."""
