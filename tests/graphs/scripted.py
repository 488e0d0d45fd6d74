"""Scripted stand-ins for the edges of a graph run: a gateway whose texts depend only on (model, prompt, seed,
sample) and are shaped by the call's role so the real node kinds can parse them, and a sandbox that "runs" the
``print(N)`` programs the gateway writes. Both record what they were asked; the gateway can add seeded delays
(to shuffle which branch finishes first), latencies and failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from collabgraph.errors import ModelCallError
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.sandbox import ExecLimits, ExecResult
from collabgraph.tasks.extract import format_answer


@dataclass(frozen=True)
class Call:
    """One ``complete`` call as the gateway received it."""

    model: str
    role: str
    seed: int
    first_sample: int
    n: int
    prompt: str

    @property
    def key(self) -> tuple[str, str, int, int, int]:
        """What identifies the call's samples (the same key twice is a call paid twice)."""
        return self.model, self.prompt, self.seed, self.first_sample, self.n


def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


@dataclass
class ScriptedGateway:
    """A deterministic fake of ``Gateway.complete``.

    Answers cycle over the gold answer and two wrong ones (``wrong``) by a hash, so votes and agreement vary;
    critiques end ``VERDICT: CORRECT`` or ``INCORRECT`` (``accept`` forces one); judges ``SELECTED: k``; planners
    a numbered list. Every sample reports ``latency_s`` (or ``latency[model]``) as its latency. With
    ``delay_seed``, each call first sleeps a random few milliseconds drawn from (delay seed, call), so different
    delay seeds finish branches in different orders. Calls to models in ``fail``, or about examples in
    ``fail_examples``, raise ``ModelCallError``; calls in a role of ``malformed`` get text no parser accepts."""

    latency_s: float = 1.0
    latency: Mapping[str, float] = field(default_factory=dict)
    delay_seed: int | None = None
    fail: frozenset[str] = frozenset()
    fail_examples: frozenset[str] = frozenset()
    malformed: frozenset[str] = frozenset()
    accept: bool | None = None
    wrong: tuple[str, str] = ("7", "13")
    calls: list[Call] = field(default_factory=list)
    block: Any = None
    """An optional async callable awaited before each call (a test's hook to hold or interrupt a call)."""

    async def complete(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        first_sample: int = 0,
        meta: OfflineMeta | None = None,
        api_base: str | None = None,
    ) -> list[Completion]:
        assert meta is not None
        prompt = json.dumps([_content(m) for m in messages])
        call = Call(model, meta.role, seed, first_sample, n, prompt)
        self.calls.append(call)
        if self.block is not None:
            await self.block(call)
        if self.delay_seed is not None:
            await asyncio.sleep(random.Random(_digest(self.delay_seed, *call.key)).uniform(0.0, 0.004))
        if model in self.fail or meta.example_id in self.fail_examples:
            raise ModelCallError(model, "scripted failure")
        latency = self.latency.get(model, self.latency_s)
        return [
            Completion(
                model=model,
                text=self.text(meta, model, prompt, seed, k),
                # As the real gateway does, the prompt is paid once per request, by its first sample.
                usage=Usage(
                    prompt_tokens=10 if k == first_sample else 0,
                    completion_tokens=5,
                    cost_usd=0.001,
                    flops=100.0,
                    latency_s=latency,
                ),
                sample_index=k,
            )
            for k in range(first_sample, first_sample + n)
        ]

    def text(self, meta: OfflineMeta, model: str, prompt: str, seed: int, k: int) -> str:
        h = _digest(model, prompt, seed, k)
        if meta.role in self.malformed:
            return "I would rather not say."
        if meta.role == "critique":
            ok = self.accept if self.accept is not None else h % 2 == 0
            return f"Step 1 checks out.\nVERDICT: {'CORRECT' if ok else 'INCORRECT'}"
        if meta.role == "select":
            return f"Candidate {h % max(1, len(meta.candidates)) + 1} is best.\nSELECTED: {h % max(1, len(meta.candidates)) + 1}"
        if meta.role == "plan":
            count = int(meta.extra.get("subtasks", 3))
            return "\n".join(f"{i + 1}. part {i + 1} of the problem" for i in range(count))
        options = (meta.extra.get("pot_answer", meta.answer), *self.wrong)
        answer = options[h % 3]
        if meta.answer_format == "code":
            return f"```python\nprint({answer})\n```"
        return f"Reasoning {h % 997}.\n{format_answer(meta.answer_format, str(answer))}"  # type: ignore[arg-type]


def _content(message: Any) -> dict[str, str]:
    if isinstance(message, Mapping):
        return {"role": str(message["role"]), "content": str(message["content"])}
    return {"role": message.role, "content": message.content}


_PRINT = re.compile(r"print\((.*)\)")


@dataclass
class ScriptedSandbox:
    """Runs ``print(X)`` programs by reading X back, in no time; anything else exits 1."""

    name: str = "scripted"
    programs: list[str] = field(default_factory=list)

    async def exec(
        self,
        command: list[str] | None = None,
        *,
        code: str | None = None,
        files: dict[str, str] | None = None,
        limits: ExecLimits | None = None,
    ) -> ExecResult:
        self.programs.append(code or "")
        hit = _PRINT.search(code or "")
        if hit is None:
            return ExecResult(exit_code=1, stdout="", stderr="SyntaxError: not a print")
        return ExecResult(exit_code=0, stdout=hit.group(1).strip("'\"") + "\n", stderr="")
