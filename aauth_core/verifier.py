"""Moved to :mod:`aauth_core.resource.verifier`; this module keeps the earlier import path working."""

from .resource.verifier import Verifier

__all__ = ["Verifier"]
