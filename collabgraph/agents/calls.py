"""A ``CallFn`` over the model gateway: one per node run on one example, numbering its samples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from collabgraph.models.types import Completion, OfflineMeta
from collabgraph.tasks.types import Message

__all__ = ["CompletionSource", "GatewayCall"]


class CompletionSource(Protocol):
    """The part of ``collabgraph.models.Gateway`` a ``GatewayCall`` uses."""

    async def complete(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        first_sample: int = 0,
        meta: OfflineMeta | None = None,
        api_base: str | None = None,
    ) -> list[Completion]: ...


class GatewayCall:
    """Calls ``gateway`` with ``seed``, numbering samples from ``first_sample`` across this object's calls: the
    first call of n samples gets samples ``first_sample .. first_sample+n-1``, the next call continues from
    there. Make one per node run on one example (with a ``first_sample`` that tells rounds apart), so the k-th
    call of a node gets the same samples on every re-run (and the cache serves them) while a retry gets new
    ones."""

    def __init__(self, gateway: CompletionSource, *, seed: int = 0, first_sample: int = 0) -> None:
        self.gateway = gateway
        self.seed = seed
        self.next_sample = first_sample

    async def __call__(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        meta: OfflineMeta,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> list[Completion]:
        first = self.next_sample
        self.next_sample += n
        return await self.gateway.complete(
            model,
            messages,
            n=n,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=self.seed,
            first_sample=first,
            meta=meta,
        )
