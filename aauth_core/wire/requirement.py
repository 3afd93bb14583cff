"""AAuth-Requirement (aauth-11 §11.6): what a server needs before it serves the request.

An RFC 9651 Dictionary whose ``requirement`` member is a Token; the requirement's data
are parameters on that member, their names hyphenated: ``resource-token`` (a String, the
resource token of ``auth-token``), ``url`` and ``code`` (Strings, the interaction of
``interaction``).  Unknown members and unknown parameters are ignored (kept in ``extra``,
never re-sent), and an unknown ``requirement`` value still parses: the agent surfaces it
as unsupported (§11.6.2).  Written as -11's examples and aauth-go write it::

    requirement=auth-token; resource-token="eyJ..."

(``; `` between parameters: valid RFC 9651, which parsers read like ``;``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ..errors import HeaderError
from . import sf
from .checks import check_length, parse_dictionary

__all__ = [
    "REQUIREMENTS",
    "REQUIREMENTS_202",
    "REQUIREMENTS_401",
    "AAuthRequirement",
    "format_requirement",
    "parse_requirement",
]

_CODE = "invalid_aauth_requirement"

#: §11.6.2: what a ``401`` may require.
REQUIREMENTS_401: Final = ("agent-token", "person-token", "auth-token")
#: §11.6.2: what a ``202`` may require (``claims`` only from an access server to a person
#: server; ``auth-token`` for a deferred auth-token requirement, RS-36).
REQUIREMENTS_202: Final = ("interaction", "approval", "clarification", "claims", "auth-token")
#: Every value -11 defines.
REQUIREMENTS: Final = frozenset(REQUIREMENTS_401 + REQUIREMENTS_202)
#: The parameters -11 defines, as written on the wire → the field that holds them.
_PARAMS: Final = {"resource-token": "resource_token", "url": "url", "code": "code"}


@dataclass(frozen=True, slots=True)
class AAuthRequirement:
    """One ``AAuth-Requirement`` value."""

    requirement: str
    resource_token: str | None = None
    url: str | None = None
    code: str | None = None
    #: Parameters -11 does not define, as received (ignored; never written back).
    extra: Mapping[str, sf.BareItem | sf.InnerList] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def known(self) -> bool:
        """True when -11 defines this requirement (else the agent reports it unsupported)."""
        return self.requirement in REQUIREMENTS


def parse_requirement(value: str) -> AAuthRequirement:
    """Parse an ``AAuth-Requirement`` header value; ``HeaderError`` (``invalid_aauth_requirement``)
    when it is not a Dictionary with a Token ``requirement`` or a defined parameter is not a String."""
    check_length("AAuth-Requirement", value, _CODE)
    member = parse_dictionary("AAuth-Requirement", value, _CODE).get("requirement")
    if member is None:
        raise HeaderError("AAuth-Requirement has no 'requirement' member", code=_CODE)
    if not isinstance(member, sf.Item) or not isinstance(member.value, sf.Token):
        raise HeaderError("AAuth-Requirement 'requirement' must be a token", code=_CODE)
    known: dict[str, str] = {}
    extra: dict[str, sf.BareItem | sf.InnerList] = {}
    for name, pvalue in member.params.items():
        target = _PARAMS.get(name)
        if target is None:
            extra[name] = pvalue
        elif isinstance(pvalue, str) and not isinstance(pvalue, sf.Token):
            known[target] = pvalue
        else:
            raise HeaderError(f"AAuth-Requirement parameter {name!r} must be a string", code=_CODE)
    return AAuthRequirement(str(member.value), extra=MappingProxyType(extra), **known)


def format_requirement(requirement: AAuthRequirement) -> str:
    """Serialise as -11's examples do.  The defined parameters are written in the order
    ``resource-token``, ``url``, ``code``; ``extra`` is not written.  A value -11 defines
    must carry its data: ``interaction`` its ``url`` and ``code``."""
    if not sf.is_token(requirement.requirement):
        raise ValueError(f"{requirement.requirement!r} is not a token")
    if requirement.requirement == "interaction" and (requirement.url is None or requirement.code is None):
        raise ValueError("requirement=interaction needs 'url' and 'code'")
    parts = [f"requirement={requirement.requirement}"]
    for wire, name in _PARAMS.items():
        value = getattr(requirement, name)
        if value is not None:
            parts.append(f"{wire}={sf.serialize_bare_item(value)}")
    return "; ".join(parts)
