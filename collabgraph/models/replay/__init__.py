"""``replay/`` pool: recorded real model outputs (MMLU-Pro: 29 models; GSM8K: GPT-4, Mixtral, four GPT-3 set-ups)."""

from collabgraph.models.replay.backend import PREFIX, ReplayBackend
from collabgraph.models.replay.errors import ReplayMissError
from collabgraph.models.replay.records import (
    GPT3_CONFIGS,
    GSM8K_SOURCES,
    ROUTELLM_COLUMNS,
    Gsm8kTable,
    MmluProTable,
    load_gsm8k,
    load_mmlu_pro,
)
from collabgraph.models.replay.text import CHARS_PER_TOKEN, estimate_tokens, mmlu_pro_text

__all__ = [
    "CHARS_PER_TOKEN",
    "GPT3_CONFIGS",
    "GSM8K_SOURCES",
    "PREFIX",
    "ROUTELLM_COLUMNS",
    "Gsm8kTable",
    "MmluProTable",
    "ReplayBackend",
    "ReplayMissError",
    "estimate_tokens",
    "load_gsm8k",
    "load_mmlu_pro",
    "mmlu_pro_text",
]
