"""A resource's identity: its documents, its resource tokens and its challenges.

The resource is the party that answers ``401 Agent-Auth``.  Everything it says
on the wire about itself — metadata, JWKS, resource tokens bound to the agent's
key (``agent_jkt``), every challenge shape of protocol B §3 — is built here, so
adapters only choose *which* challenge to send.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import dialect
from ..context import Requirement
from ..errors import AuthorizationRequired
from ..headers import AgentAuthChallenge, format_agent_auth
from ..keys import SigningKey, jwks_document
from ..settings import AAuthSettings, SettingsError

__all__ = ["RESOURCE_TOKEN_PATH", "ResourceIdentity", "challenge_header", "person_required", "unsigned_refusal"]

#: The resource token endpoint (B §5.4), advertised as ``resource_token_endpoint``.
RESOURCE_TOKEN_PATH = "/resource/token"  # noqa: S105 - a URL path, not a secret


def challenge_header(
    *,
    identity: bool = False,
    resource_token: str | None = None,
    auth_server: str | None = None,
    user_interaction: str | None = None,
    algs: Sequence[str] | None = None,
) -> str:
    """Build an ``Agent-Auth`` value for any of the challenge shapes of B §3."""
    return format_agent_auth(
        AgentAuthChallenge(
            identity=identity,
            auth_token=resource_token is not None,
            resource_token=resource_token,
            auth_server=auth_server,
            user_interaction=user_interaction,
            algs=tuple(algs) if algs is not None else None,
        )
    )


_SIGNATURE_CHALLENGE = challenge_header()
_IDENTITY_CHALLENGE = challenge_header(identity=True)


def unsigned_refusal(requirement: Requirement) -> AuthorizationRequired | None:
    """January's refusal of an unsigned request (``None``: January cannot meet ``requirement``)."""
    if requirement.level == "signature":
        return AuthorizationRequired("this resource requires a signed request", code="signature_required",
                                     challenge=_SIGNATURE_CHALLENGE)
    if requirement.level == "person":  # only aauth-11 tokens name a person
        return None
    return AuthorizationRequired("this resource requires a signed request from an identified agent",
                                 code="identity_required", challenge=_IDENTITY_CHALLENGE)


def person_required() -> AuthorizationRequired:
    """A ``person`` requirement a January request cannot meet (only -11 tokens name a person)."""
    return AuthorizationRequired("this resource requires an aauth-11 person or auth token",
                                 code="person_token_required")


@dataclass(frozen=True)
class ResourceIdentity:
    """Who a resource is: identifier, signing keys and the auth server it trusts.

    ``keys[0]`` signs; every key stays in the JWKS so tokens signed before a
    rotation keep verifying until they expire.
    """

    id: str
    keys: Sequence[SigningKey]
    auth_server: str | None = None
    scopes: Sequence[str] = ()
    scope_descriptions: dict[str, str] = field(default_factory=dict)
    token_lifetime: int = 600
    clock: Callable[[], float] = time.time
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise SettingsError("a resource needs at least one signing key")
        if any(k.kid is None for k in self.keys):
            raise SettingsError("resource signing keys need a 'kid'")
        object.__setattr__(self, "id", self.id.rstrip("/"))

    @classmethod
    def from_settings(
        cls, settings: AAuthSettings, keys: Iterable[SigningKey], *, clock: Callable[[], float] = time.time
    ) -> ResourceIdentity:
        if settings.resource_id is None:
            raise SettingsError("resource_id is required for a resource")
        return cls(
            id=settings.resource_id,
            keys=tuple(keys),
            auth_server=settings.auth_server,
            scopes=settings.resource_scopes,
            scope_descriptions=dict(settings.resource_scope_descriptions),
            token_lifetime=settings.resource_token_lifetime,
            clock=clock,
            name=settings.resource_name,
        )

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[0]

    @property
    def jwks_uri(self) -> str:
        return f"{self.id}/jwks.json"

    @property
    def metadata_path(self) -> str:
        return f"/.well-known/{dialect.WELL_KNOWN_RESOURCE}"

    def metadata(self) -> dict[str, Any]:
        """``/.well-known/aauth-resource`` (B §4.3)."""
        doc: dict[str, Any] = {
            "resource": self.id,
            "jwks_uri": self.jwks_uri,
            "resource_token_endpoint": f"{self.id}{RESOURCE_TOKEN_PATH}",
        }
        if self.scopes:
            doc["supported_scopes"] = list(self.scopes)
        if self.scope_descriptions:
            doc["scope_descriptions"] = dict(self.scope_descriptions)
        if self.name:
            doc["name"] = self.name
        return doc

    def jwks(self, *, with_alg: bool = False) -> dict[str, Any]:
        """Every key (tokens signed before a rotation keep verifying); ``with_alg`` names each
        key's JOSE algorithm, as aauth-11 requires of every conveyed key (SK-09 §3.3)."""
        doc = jwks_document(self.keys)
        if with_alg:
            for jwk in doc["keys"]:
                jwk["alg"] = "Ed25519" if jwk.get("kty") == "OKP" else "ES256"
        return doc

    def metadata_11(self, *, access_mode: str, signature_window: int, algorithms: Sequence[str],
                    additional_components: Sequence[str] = (), revocation_endpoint: str | None = None,
                    ) -> dict[str, Any]:
        """``/.well-known/aauth-resource.json`` (-11 §11.2.4; RS-01..04): ``issuer`` = our
        identifier, ``jwks_uri`` (we sign resource tokens), the advisory ``access_mode``, and
        what an agent must know to sign for us."""
        doc: dict[str, Any] = {"issuer": self.id, "jwks_uri": self.jwks_uri, "access_mode": access_mode}
        if self.scope_descriptions or self.scopes:
            doc["scope_descriptions"] = {s: self.scope_descriptions.get(s, s)
                                         for s in (*self.scopes, *self.scope_descriptions)}
        doc["signature_window"] = signature_window
        if additional_components:
            doc["additional_signature_components"] = list(additional_components)
        if revocation_endpoint is not None:
            doc["revocation_endpoint"] = revocation_endpoint
        doc["accept_signature_algs"] = ["Ed25519" if a == "ed25519" else "ES256" for a in algorithms]
        if self.name:
            doc["name"] = self.name
        return doc

    def mint_resource_token(
        self, *, agent: str, agent_jkt: str, scope: str | None = None, auth_request_url: str | None = None
    ) -> str:
        """A ``resource+jwt`` for ``agent``, bound to the thumbprint of the key it signed with."""
        from ..tokens import mint_resource_token  # local: tokens imports joserfc lazily for start-up

        if self.auth_server is None:
            raise SettingsError("this resource has no auth_server configured; it cannot issue resource tokens")
        if scope is None and auth_request_url is None:
            scope = " ".join(self.scopes) if self.scopes else None
        return mint_resource_token(
            self.signing_key,
            iss=self.id,
            aud=self.auth_server,
            agent=agent,
            agent_jkt=agent_jkt,
            scope=scope,
            auth_request_url=auth_request_url,
            now=self.clock(),
            lifetime=self.token_lifetime,
        )

    def auth_token_challenge(self, *, agent: str, agent_jkt: str, scope: str | None = None) -> str:
        """``httpsig; auth-token; resource_token="..."; auth_server="..."``."""
        token = self.mint_resource_token(agent=agent, agent_jkt=agent_jkt, scope=scope)
        return challenge_header(resource_token=token, auth_server=self.auth_server)
