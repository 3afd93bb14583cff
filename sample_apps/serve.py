"""``python -m sample_apps serve ROLE``: run one party as a real server on 127.0.0.1.

Starlette parties, auth servers and the agent run under uvicorn; a Django
resource runs as ASGI under uvicorn; a Flask resource under werkzeug's threaded
WSGI server.  None of them is a test client.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .config import ROLES_11, PartyConfig
from .debuglog import asgi_logger, wsgi_logger
from .printer import Printer
from .printer11 import TokenPrinter

__all__ = ["serve"]

HOST = "127.0.0.1"


def _asgi(app: Any, config: PartyConfig, who: str, printer: Printer, lifespan: str = "off") -> None:
    import uvicorn

    if config.debug:
        app = asgi_logger(app, who, printer)
    uvicorn.run(app, host=HOST, port=config.port, log_level="warning", lifespan=lifespan)


def serve(args: argparse.Namespace) -> int:
    config = PartyConfig.from_args(args)
    printer = Printer(quiet=not config.debug)
    if config.profile == "aauth-11" or config.role in ROLES_11:  # -11 exchanges: tokens as decoded claims
        printer = TokenPrinter(quiet=not config.debug)
    if config.role == "resource" and "demo-2026-01" in config.signature_bases:
        sys.stderr.write(f"WARNING: {config.label} accepts the demo-2026-01 signature base, which leaves `created` "
                         "unsigned (a captured request can be re-dated and replayed later): for interop tests "
                         "with the reference demo only\n")
        sys.stderr.flush()
    if config.role == "agent":
        from .parties.agent import agent_app

        _asgi(agent_app(config), config, config.label, printer)
    elif config.role == "mcp":  # an MCP server: its session manager starts in the ASGI lifespan
        from .resources.mcp_app import mcp_resource

        _asgi(mcp_resource(config), config, config.label, printer, lifespan="on")
    elif config.role in ("agentprovider", "personserver", "accessserver"):  # the aauth-11 servers
        from .parties import servers11

        build = {"agentprovider": servers11.agent_provider_app, "personserver": servers11.person_server_app,
                 "accessserver": servers11.access_server_app}[config.role]
        _asgi(build(config), config, config.label, printer)
    elif config.role == "authserver":
        from .parties.authserver import authserver_app

        _asgi(authserver_app(config), config, config.label, printer)
    elif config.framework == "flask":
        from werkzeug.serving import make_server

        from .resources.flask_app import flask_resource

        wsgi: Any = flask_resource(config, printer)
        if config.debug:
            wsgi = wsgi_logger(wsgi, config.label, printer)
        make_server(HOST, config.port, wsgi, threaded=True).serve_forever()
    elif config.framework == "django":
        from .resources.django_app import django_resource

        _asgi(django_resource(config, printer), config, config.label, printer)
    else:
        from .resources.starlette_app import starlette_resource

        _asgi(starlette_resource(config, printer), config, config.label, printer)
    return 0
