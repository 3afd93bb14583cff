"""``aauth dev``: an auth server and an agent identity on 127.0.0.1, for developing a resource.

A loopback-only development stack: the library's auth server (granting every request,
or asking a built-in ``dev``/``dev`` user with ``consent=True``) and an agent identity
publishing its key, both under uvicorn in one process.  It writes the keys to a
directory (``.aauth-dev/`` by default, owner-only) and prints the settings to paste
into a resource and the ``aauth request`` line that calls it.  Never for production:
every party speaks plain http on loopback, which only ``allow_insecure_loopback`` admits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aauth_core.authserver import AllowAll, AuthServer, AuthServerConfig, MemoryUserStore, RequireConsent
from aauth_core.client import AgentServer
from aauth_core.keys import SigningKey, load_signing_key

from .agent import build_agent_app
from .authserver import build_auth_server_app

__all__ = ["DevStack", "DEV_USER", "run_dev"]

HOST = "127.0.0.1"
#: The user the consent page signs in with ``consent=True`` (a development account, nothing else).
DEV_USER = ("dev", "dev")


@dataclass(frozen=True)
class DevStack:
    """Where the parties listen and where their keys are."""

    directory: Path
    resource_port: int = 8000
    auth_port: int = 8001
    agent_port: int = 8002
    consent: bool = False

    @property
    def auth_server(self) -> str:
        return f"http://{HOST}:{self.auth_port}"

    @property
    def agent_id(self) -> str:
        return f"http://{HOST}:{self.agent_port}"

    @property
    def resource_id(self) -> str:
        return f"http://{HOST}:{self.resource_port}"

    def key(self, name: str, kid: str) -> SigningKey:
        """The key in ``directory/name.json``, made (mode 0600) on first use so restarts keep it."""
        path = self.directory / f"{name}.json"
        if path.exists():
            return load_signing_key(path)
        key = SigningKey.generate(kid=kid)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(key.private_jwk(), fh, indent=2)
            fh.write("\n")
        return key

    def banner(self) -> str:
        keys = self.directory
        policy = f"asks user {DEV_USER[0]!r} (password {DEV_USER[1]!r})" if self.consent else "grants every request"
        return f"""AAuth development stack (127.0.0.1 only; never for production)
  auth server     {self.auth_server}   ({policy})
  agent identity  {self.agent_id}   (its key: {keys / 'agent.json'})

Protect your app with these settings (Starlette/FastAPI keyword arguments; Flask: AAUTH_*
config keys, Django: the AAUTH dict, same names):
    resource_id="{self.resource_id}",
    auth_server="{self.auth_server}",
    trusted_issuers=["{self.auth_server}"],
    signing_keys=["{keys / 'resource.json'}"],
    allow_insecure_loopback=True,   # development only: http:// parties on 127.0.0.1

Serve the app on port {self.resource_port} (uvicorn app:app --port {self.resource_port}), then call it:
    aauth request GET {self.resource_id}/data --key {keys / 'agent.json'} --agent-id {self.agent_id} --allow-loopback

Ctrl-C stops the stack.
"""

    def apps(self) -> dict[int, Any]:
        """The two ASGI apps by port, with their keys made or loaded."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        agent = AgentServer(self.agent_id, [self.key("agent", "agent-1")], metadata_extra={"name": "aauth dev agent"})
        self.key("resource", "resource-1")  # the resource loads it from signing_keys
        config = AuthServerConfig(issuer=self.auth_server, keys=[self.key("authserver", "as-1")],
                                  allow_insecure_loopback=True)
        server = AuthServer(config, policy=RequireConsent() if self.consent else AllowAll(),
                            users=MemoryUserStore({DEV_USER[0]: DEV_USER[1]}, names={DEV_USER[0]: "Developer"}))
        return {self.auth_port: build_auth_server_app(server), self.agent_port: build_agent_app(agent)}


def run_dev(stack: DevStack, out: Callable[[str], Any] = print) -> int:
    """Serve the stack until interrupted; 0 on Ctrl-C."""
    import uvicorn

    servers = [uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="off"))
               for port, app in stack.apps().items()]
    out(stack.banner())

    async def serve_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the stack stops
        asyncio.run(serve_all())
    return 0
