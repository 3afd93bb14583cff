"""Start sample parties as real server processes on loopback, and always stop them.

Each party is ``python -m sample_apps serve ROLE --port P ...`` in its own process
group.  :class:`Cluster` waits until every party answers on its port, relays what
the parties print (their own debug view of the exchange), and kills every process
it started when the flow ends — normally, on failure, or on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

__all__ = ["Cluster", "PartySpec", "free_port", "pick_ports"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick_ports(preferred: Sequence[int]) -> list[int]:
    """The transcript's ports when they are all free, otherwise OS-chosen ones."""
    if all(_is_free(p) for p in preferred):
        return list(preferred)
    return [free_port() for _ in preferred]


@dataclass(frozen=True)
class PartySpec:
    """One party: a name for the logs, the ``serve`` arguments, and its port."""

    name: str
    role: str
    port: int
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ready_path(self) -> str:
        if self.role == "resource" and "aauth-11" in self.args:  # --profile aauth-11: the -11 document
            return "/.well-known/aauth-resource.json"
        return {"agent": "/.well-known/aauth-agent", "resource": "/.well-known/aauth-resource",
                "authserver": "/.well-known/aauth-issuer", "mcp": "/.well-known/aauth-resource",
                "agentprovider": "/.well-known/aauth-agent.json", "personserver": "/.well-known/aauth-person.json",
                "accessserver": "/.well-known/aauth-access.json"}[self.role]


@dataclass
class Cluster:
    """The processes of one flow run."""

    specs: Sequence[PartySpec]
    debug: bool = True
    startup_timeout: float = 30.0
    _procs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    _lines: queue.Queue[tuple[str, str]] = field(default_factory=queue.Queue)

    def start(self) -> None:
        for spec in self.specs:
            cmd = [sys.executable, "-m", "sample_apps", "serve", spec.role, "--port", str(spec.port),
                   "--label", spec.name, *spec.args]
            if self.debug:
                cmd.append("--debug")
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                start_new_session=True,
            )
            self._procs[spec.name] = proc
            threading.Thread(target=self._pump, args=(spec.name, proc), daemon=True).start()
        self._wait_ready()

    def _pump(self, name: str, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.put((name, line.rstrip("\n")))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            for spec in self.specs:
                while True:
                    proc = self._procs[spec.name]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{spec.name} exited during start-up:\n" + "\n".join(self.drain()))
                    try:
                        if client.get(spec.url + spec.ready_path).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{spec.name} did not start on port {spec.port}")
                    time.sleep(0.05)

    def drain(self, settle: float = 0.0) -> list[str]:
        """Lines the parties printed so far (waiting ``settle`` seconds for stragglers)."""
        out: list[str] = []
        if settle:
            time.sleep(settle)
        while True:
            try:
                _, line = self._lines.get_nowait()
            except queue.Empty:
                return out
            out.append(line)

    def stop(self) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    @contextmanager
    def running(self) -> Iterator[Cluster]:
        try:
            self.start()
            yield self
        finally:
            self.stop()
