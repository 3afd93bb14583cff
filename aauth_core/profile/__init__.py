"""The profile seam: everything the wire dialect decides, in one :class:`Profile` object.

Header names, token ``typ`` values, well-known document names and their identifier
members, the token endpoint's vocabulary and encoding, algorithm names, schemes and
the error body all come from a profile.  ``aauth-2026-01`` (the January 2026 demo's
dialect, :mod:`.aauth_2026_01`) is the first; adding a profile is adding a module
that builds one and a line in :data:`PROFILES`, not editing conditionals across the
engine.  :mod:`aauth_core.dialect` reads the default profile's values for the code
that speaks only January today.
"""

from __future__ import annotations

from .aauth_2026_01 import AAUTH_2026_01
from .base import Profile

__all__ = ["AAUTH_2026_01", "DEFAULT", "PROFILES", "Profile", "profile_named"]

#: Every profile this library speaks, by name.
PROFILES: dict[str, Profile] = {AAUTH_2026_01.name: AAUTH_2026_01}
#: The profile a component speaks unless configured otherwise.
DEFAULT = AAUTH_2026_01


def profile_named(name: str) -> Profile:
    """The profile called ``name``; a ``KeyError`` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown AAuth profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
