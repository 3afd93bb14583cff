"""Shared machinery of the flows: keys on disk, parties, checks, and the verdict."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aauth_core.client import ClientOptions, RequestSigner, agent_auth
from aauth_core.keys import SigningKey

from ..printer import Printer
from ..runner import Cluster, PartySpec

__all__ = ["FlowContext", "FlowFailed", "keyfile"]


class FlowFailed(Exception):
    """A step's check did not hold; the flow stops and reports FAILED."""


def keyfile(directory: Path, name: str, kid: str) -> tuple[Path, SigningKey]:
    """A fresh private JWK on disk (as ``aauth keygen`` writes it) and the key itself."""
    key = SigningKey.generate(kid=kid)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(key.private_jwk()))
    path.chmod(0o600)
    return path, key


@dataclass
class FlowContext:
    """One flow run: its printer, its parties, and what passed."""

    name: str
    printer: Printer
    debug: bool = True
    results: list[dict[str, Any]] = field(default_factory=list)
    cluster: Cluster | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def parties(self, specs: Sequence[PartySpec]) -> Iterator[Cluster]:
        """Start every party, relay what they print, and stop them whatever happens."""
        for spec in specs:
            self.printer.line(f"Starting {spec.name} ({spec.role}{_framework(spec)}) on {spec.url}...")
        cluster = Cluster(specs, debug=self.debug)
        self.cluster = cluster
        with cluster.running():
            self.printer.line("All parties answer on their ports.")
            yield cluster
            self.relay()

    def relay(self) -> None:
        """Print what the parties printed since the last call (their side of the exchange)."""
        if self.cluster is not None:
            for line in self.cluster.drain(settle=0.05):
                self.printer.line(line)

    def agent_client(self, key: SigningKey, agent_id: str, *, who: str = "AGENT",
                     interaction: Callable[[str], str] | None = None,
                     signer: RequestSigner | None = None) -> httpx.Client:
        """Agent 1's httpx client: signs, answers challenges, caches tokens; prints each exchange."""
        auth = agent_auth(signer or RequestSigner.jwks(key, agent_id),
                          options=ClientOptions(allow_insecure_loopback=True), interaction=interaction)
        client: httpx.Client = auth.client(event_hooks=self._hooks(who), timeout=30.0, trust_env=False)
        return client

    def _hooks(self, who: str) -> dict[str, list[Callable[..., Any]]]:
        hooks = self.printer.hooks(who)
        relay_then_print = hooks["response"][0]

        def on_response(response: httpx.Response) -> None:
            self.relay()  # the other side printed its view before answering
            relay_then_print(response)

        return {"request": hooks["request"], "response": [on_response]}

    def check(self, step: str, condition: bool, detail: str = "") -> None:
        self.results.append({"step": step, "passed": bool(condition), "detail": detail})
        self.printer.line()
        self.printer.result(bool(condition), step, detail)
        if not condition:
            raise FlowFailed(f"{step}: {detail}")

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r["passed"] for r in self.results)


def _framework(spec: PartySpec) -> str:
    args = list(spec.args)
    if "--framework" in args:
        return f", {args[args.index('--framework') + 1]}"
    return ""


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="aauth-demo-")


__all__ += ["temp_dir"]
