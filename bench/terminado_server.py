"""terminado as a tiny tornado app, run by the benchmark in its own venv (bench/.venv-terminado).

Usage: python terminado_server.py PORT SHELL [ARGS...]; prints "ready" once it listens.
Each websocket at /websocket gets its own terminal (UniqueTermManager), at most
BENCH_TERMINADO_MAX of them (64 unless set).
"""

import asyncio
import os
import signal
import sys

import tornado.web
from terminado import TermSocket, UniqueTermManager


async def main() -> None:
    port, shell = int(sys.argv[1]), sys.argv[2:]
    manager = UniqueTermManager(shell_command=shell, max_terminals=int(os.environ.get("BENCH_TERMINADO_MAX", 64)))
    routes = [(r"/websocket", TermSocket, {"term_manager": manager})]
    if os.environ.get("BENCH_TERMINADO_PAGE"):
        routes.append((r"/page/(.*)", tornado.web.StaticFileHandler, {"path": os.environ["BENCH_TERMINADO_PAGE"]}))
    app = tornado.web.Application(routes)
    server = app.listen(port, "127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.stop()
    await manager.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
