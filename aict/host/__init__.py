"""The terminal host: one process per node that owns every live terminal (service), the framing
between it and the web processes (wire), and a web process's view of it (client, sessions_client).
Run it with `python host.py`."""
