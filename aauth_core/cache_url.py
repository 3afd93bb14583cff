"""Moved to :mod:`aauth_core.cache.url`; this module keeps the earlier import path working."""

from .cache.url import MEMORY_URL, REDIS_SCHEMES, cache_from_url, check_cache_url

__all__ = ["MEMORY_URL", "REDIS_SCHEMES", "cache_from_url", "check_cache_url"]
