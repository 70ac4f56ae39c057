"""Audit events: typed records of who did what, chained by hashes."""
