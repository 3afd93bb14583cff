"""Driver: introspection-aauth 0.1.0's person server and access server, served by uvicorn on
127.0.0.1.  Runs under .interop/py, never under .venv; tests/interop/peer_servers.py starts it
(the stdin/stdout protocol is in loopback.py).

configuration: {"fd", "routes", "ps": "https://ps.example", "as": "https://as.example",
  "agent_providers": [AP identifiers trusted by both], "resources": [what the access server decides
  for], "people": [the login hints the person server speaks for], "tenant": "acme", "retry_after": 1}

Both servers are built exactly as the package's README builds them (``PersonServer`` with a
``MemoryStore`` and ``endpoint_base={ps}/aauth``, ``AccessServer`` with ``endpoint_base={as}/access``)
and mounted with the package's own FastAPI routers, one app per identifier host.  Their
``httpx2.AsyncClient`` reaches every identifier through the loopback host table only.

Test policy (documented in docs/interop.md): every approval the person server raises (a mission,
an auth token over a mission's budget) is granted at once, decided by the person it names, through
``on_approval`` + ``decide``, as a person clicking "approve" would; the access server's policy
allows every request it can verify.  The person is the one the request's ``login_hint`` names,
among ``people``; an unknown hint is refused by the peer (403 ``access_denied``).
"""

import os

import httpx2
from fastapi import FastAPI
from introspection_aauth.access_server import AccessServer, Verdict
from introspection_aauth.fastapi import access_server_router, person_server_router
from introspection_aauth.person_server import MemoryStore, PersonServer
from introspection_aauth.person_server.models import ApprovalStatus
from introspection_aauth.protocol import SigningKey
from loopback import LoopbackTransport2, by_host, read_config, serve  # beside this driver


class TestPeople:
    """The person server's directory: the test users, each named by their own login hint."""

    def __init__(self, people):
        self._people = frozenset(people)

    def person(self, login_hint, tenant):
        return login_hint if login_hint in self._people else None


def build(config):
    http = httpx2.AsyncClient(transport=LoopbackTransport2(config["routes"]), follow_redirects=False)
    ps_id, as_id = config["ps"], config["as"]
    ps = None

    async def grant(tenant, approval):  # test policy: the person approves at once
        await ps.decide(tenant, approval.id, ApprovalStatus.APPROVED, decided_by=approval.person)

    ps = PersonServer(
        ps_id, SigningKey.generate(), MemoryStore(), subject_secret=os.urandom(32),
        agent_providers=config["agent_providers"], http=http, directory=TestPeople(config["people"]),
        default_tenant=config["tenant"], on_approval=grant, endpoint_base=f"{ps_id}/aauth",
        retry_after=config["retry_after"],
    )
    access = AccessServer(
        as_id, SigningKey.generate(), lambda request: Verdict.allow(),
        resources=config["resources"], person_servers=[ps_id], agent_providers=config["agent_providers"],
        http=http, endpoint_base=f"{as_id}/access", retry_after=config["retry_after"],
    )
    ps_app, as_app = FastAPI(openapi_url=None), FastAPI(openapi_url=None)
    ps_app.include_router(person_server_router(ps))
    as_app.include_router(access_server_router(access))
    return by_host({ps_id.removeprefix("https://"): ps_app, as_id.removeprefix("https://"): as_app})


def main():
    config = read_config()
    serve(build(config), config["fd"])


main()
