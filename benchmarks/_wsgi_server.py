"""Serve a sample resource (Flask or Django) as WSGI on 127.0.0.1, for the load test.

    python -m benchmarks._wsgi_server resource --framework {flask,django} --port P --auth-server URL --key FILE
        [--server gunicorn|werkzeug]

The sample resources themselves (``sample_apps.resources``), served by gunicorn
(one process, ``gthread`` worker, 8 threads: the same single process uvicorn
gets) or werkzeug's threaded server.  Django is configured by the sample and
served through its ``WSGIHandler`` (``get_wsgi_application``), so the adapter's
sync middleware path runs.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from sample_apps.config import PartyConfig, add_party_arguments
from sample_apps.printer import Printer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_party_arguments(parser)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    args = parser.parse_args()
    config = PartyConfig.from_args(args)
    printer = Printer(quiet=True)
    app: Any
    if config.framework == "flask":
        from sample_apps.resources.flask_app import flask_resource

        app = flask_resource(config, printer)
    elif config.framework == "django":
        from django.core.wsgi import get_wsgi_application

        from sample_apps.resources.django_app import django_resource

        django_resource(config, printer)  # configures Django (and returns the ASGI app we do not use)
        app = get_wsgi_application()
    else:
        raise SystemExit("WSGI frameworks: flask, django")
    if args.server == "gunicorn":
        _gunicorn(app, config.port)
        return
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    make_server("127.0.0.1", config.port, app, threaded=True).serve_forever()


def _gunicorn(app: Any, port: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gthread",
                                "threads": 8, "keepalive": 5, "loglevel": "warning", "accesslog": None}.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return app

    Server().run()


if __name__ == "__main__":
    main()
