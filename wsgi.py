"""Entry point. `python wsgi.py` serves in the foreground; gunicorn uses `wsgi:app`."""

from gevent import monkey

monkey.patch_all()

from aict import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    import sys

    from aict.runtime.server import main

    main(app, sys.argv[1:])
