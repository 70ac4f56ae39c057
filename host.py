"""Entry point of the terminal host. `python host.py` runs this node's terminal host in the foreground
(make run starts it as a child of the web process; make cluster and systemd run it on its own)."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from aict import create_app  # noqa: E402
from aict.host.service import HostService  # noqa: E402
from aict.runtime.host_process import main  # noqa: E402

app = create_app(role="host")

if __name__ == "__main__":
    main(app, HostService(app), sys.argv[1:])
