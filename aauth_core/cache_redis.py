"""Moved to :mod:`aauth_core.cache.redis`; this module keeps the earlier import path working."""

from .cache.redis import (
    DEFAULT_TIMEOUT,
    RedisKeyCache,
    RedisReplayCache,
    TwoLevelKeyCache,
    async_redis_client,
    redis_client,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "RedisKeyCache",
    "RedisReplayCache",
    "TwoLevelKeyCache",
    "async_redis_client",
    "redis_client",
]
