"""``replay/<model>``: answers with what a real model actually answered, from recorded outputs in the shared data.

One recording exists per (model, question), so replay is deterministic: every sample, at any temperature and
seed, is that recording. Token counts are estimated at four characters per token
(``collabgraph.models.replay.text.CHARS_PER_TOKEN``) and latency is virtual, from the pool entry:
``ttft_s + completion_tokens / throughput_tok_s``. A question with no recording is a ``ReplayMissError``.
"""

from __future__ import annotations

from pathlib import Path

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.models.pool import ModelPool, ModelSpec
from collabgraph.models.replay.errors import ReplayMissError
from collabgraph.models.replay.records import GSM8K_SOURCES, load_gsm8k, load_mmlu_pro
from collabgraph.models.replay.text import CHARS_PER_TOKEN, estimate_tokens, mmlu_pro_text
from collabgraph.models.types import OfflineRequest, OfflineSample
from collabgraph.settings import data_dir as resolve_data_dir

__all__ = ["PREFIX", "ReplayBackend"]

PREFIX = "replay/"


class ReplayBackend:
    """The offline backend of the ``replay`` provider (see ``collabgraph.models.offline``).

    ``data_dir`` is the data directory (else ``COLLABGRAPH_DATA``, else the user cache); the recordings are
    read on first use, once per process."""

    def __init__(self, pool: ModelPool, data_dir: Path | None = None) -> None:
        self.pool = pool
        self.root = resolve_data_dir(data_dir)

    def models(self) -> list[str]:
        """Every recorded model, as its litellm id ``replay/<name>``."""
        return sorted(PREFIX + m for m in {*load_mmlu_pro(self.root).models, *GSM8K_SOURCES})

    def recorded_text(self, litellm_id: str, example_id: str, *, display: str | None = None) -> str:
        """The recorded response of ``litellm_id`` (``replay/<name>``) to ``example_id``. Raises
        ``ReplayMissError`` (naming ``display`` or the id, and the question) when there is none, and
        ``UnknownNameError`` with the closest names when no such model was recorded."""
        name = litellm_id.removeprefix(PREFIX)
        task = example_id.split("/", 1)[0]
        if task == "mmlu_pro":
            table = load_mmlu_pro(self.root)
            record = table.lookup(name, example_id) if name in table.models else None
            if record is not None:
                return mmlu_pro_text(*record, key=f"{name}/{example_id}")
        elif task == "gsm8k" and name in GSM8K_SOURCES:
            text = load_gsm8k(self.root).texts[name].get(example_id)
            if text is not None:
                return text
        raise self._miss(litellm_id, example_id, display or litellm_id)

    def generate(self, spec: ModelSpec, request: OfflineRequest) -> list[OfflineSample]:
        """``request.n`` copies of the recorded answer to ``request.meta.example_id``; ``max_tokens`` truncates
        it as a real server would (``finish_reason="length"``)."""
        text = self.recorded_text(spec.litellm_id, request.meta.example_id, display=spec.name or spec.litellm_id)
        finish = "stop"
        if request.max_tokens is not None and estimate_tokens(text) > request.max_tokens:
            text = text[: request.max_tokens * CHARS_PER_TOKEN]
            finish = "length"
        completion_tokens = estimate_tokens(text)
        sample = OfflineSample(
            text=text,
            prompt_tokens=estimate_tokens("".join(m.get("content", "") for m in request.messages)),
            completion_tokens=completion_tokens,
            latency_s=spec.ttft_s + completion_tokens / spec.throughput_tok_s,
            finish_reason=finish,
        )
        return [sample] * request.n

    def _miss(self, litellm_id: str, example_id: str, display: str) -> CollabgraphError:
        name = litellm_id.removeprefix(PREFIX)
        coverage = []
        table = load_mmlu_pro(self.root)
        if name in table.models:
            coverage.append(f"mmlu_pro/<question_id> ({len(table.rows):,} MMLU-Pro test questions)")
        if name in GSM8K_SOURCES:
            n = len(load_gsm8k(self.root).texts[name])
            coverage.append(f"gsm8k/test/0 … gsm8k/test/{n - 1} ({n:,} GSM8K test questions)")
        if not coverage:
            return UnknownNameError("replay model", litellm_id, self.models())
        return ReplayMissError(display, example_id, " and ".join(coverage))
