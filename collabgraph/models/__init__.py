"""Models: the gateway every call goes through, its cache and accounting, model pools and offline pool types.

Importing this package is cheap: litellm is imported by the gateway on its first call."""

from collabgraph.models.accounting import cost_usd, decode_flops, flops, prefill_flops
from collabgraph.models.cache import CachedSample, CallCache
from collabgraph.models.gateway import CallRecord, ChatMessage, Gateway, ModelTotals, default_cache_path
from collabgraph.models.offline import OFFLINE_PROVIDERS, OfflineBackend, load_backend
from collabgraph.models.pool import POOL_SCHEMA, ModelPool, ModelSpec, PublishedScore, default_pool, load_pool
from collabgraph.models.providers import register_backend
from collabgraph.models.retry import RetryPolicy
from collabgraph.models.types import Candidate, Completion, OfflineMeta, OfflineRequest, OfflineSample, Role, Usage

__all__ = [
    "OFFLINE_PROVIDERS",
    "POOL_SCHEMA",
    "CachedSample",
    "CallCache",
    "CallRecord",
    "Candidate",
    "ChatMessage",
    "Completion",
    "Gateway",
    "ModelPool",
    "ModelSpec",
    "ModelTotals",
    "OfflineBackend",
    "OfflineMeta",
    "OfflineRequest",
    "OfflineSample",
    "PublishedScore",
    "RetryPolicy",
    "Role",
    "Usage",
    "cost_usd",
    "decode_flops",
    "default_cache_path",
    "default_pool",
    "flops",
    "load_backend",
    "load_pool",
    "prefill_flops",
    "register_backend",
]
