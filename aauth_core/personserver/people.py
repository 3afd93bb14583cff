"""Who a person is to a resource, and whom an agent acts for.

**Directed subjects (-11 §7.1.4, §14.1).**  A person's ``sub`` is pairwise: the same person
gets a different, unlinkable ``sub`` at each resource, the same in every person, resource and
auth token for that resource, whichever agent or key asks.  It is
``hex(HMAC-SHA256(subject_secret, "sub" 0x00 user 0x00 resource))[:32]``: nothing to store,
equal on every worker, and no resource can work back to the user or match two resources.

**The agent's user.**  An agent acts for one user: the one registered for it in
``PersonServerConfig.agents``, else the one recorded when a user first approved one of its
requests on the consent page (the binding is kept in the store).  An agent with neither can
be served only when it can send its user to the consent page (``capabilities`` includes
``interaction``); otherwise it is ``user_unreachable``.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["directed_sub"]


def directed_sub(secret: bytes, user: str, resource: str) -> str:
    """The pairwise ``sub`` of ``user`` at ``resource`` (independent of agent and key)."""
    message = b"sub\x00" + user.encode("utf-8") + b"\x00" + resource.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
