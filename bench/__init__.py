"""The aict benchmark (issue 3): `make bench` or `.venv/bin/python -m bench`. Not part of the tests."""
