"""The profile seam: everything the wire dialect decides, in one :class:`Profile` object.

Header names, token ``typ`` values, well-known document names and their identifier
members, the token endpoint's vocabulary and encoding, algorithm names, schemes and
the error body all come from a profile.  ``aauth-2026-01`` (the January 2026 demo's
dialect, :mod:`.aauth_2026_01`) is the first, ``aauth-11`` (draft -11 with signature-key
-09, :mod:`.aauth_11`) the second; adding a profile is adding a module that builds one
and a line in :data:`PROFILES`, not editing conditionals across the engine.
:mod:`aauth_core.dialect` reads the default profile's values for the code that speaks
only January today.
"""

from __future__ import annotations

from .aauth_11 import AAUTH_11
from .aauth_2026_01 import AAUTH_2026_01
from .base import Profile

__all__ = ["AAUTH_11", "AAUTH_2026_01", "DEFAULT", "PROFILES", "Profile", "profile_named"]

#: Every profile this library speaks, by name.  ``aauth-11`` is defined but nothing in the
#: engine switches to it yet (docs/profiles.md).
PROFILES: dict[str, Profile] = {AAUTH_2026_01.name: AAUTH_2026_01, AAUTH_11.name: AAUTH_11}
#: The profile a component speaks unless configured otherwise.
DEFAULT = AAUTH_2026_01


def profile_named(name: str) -> Profile:
    """The profile called ``name``; a ``KeyError`` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown AAuth profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
