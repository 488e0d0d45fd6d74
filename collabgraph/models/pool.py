"""Model pool files: which models exist, how to reach them, and what they cost (tokens, dollars, FLOPs, time)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collabgraph.errors import ConfigError, ErrorItem, UnknownNameError, closest, format_loc

__all__ = ["POOL_SCHEMA", "ModelPool", "ModelSpec", "PublishedScore", "default_pool", "load_pool"]

POOL_SCHEMA = "collabgraph.models/v1"

# litellm provider prefixes a user may name directly without a pool entry (FLOPs then unknown).
_DIRECT_PROVIDERS = (
    "openai/",
    "anthropic/",
    "hosted_vllm/",
    "ollama/",
    "ollama_chat/",
    "gemini/",
    "groq/",
    "together_ai/",
    "mistral/",
    "deepseek/",
    "openrouter/",
    "azure/",
    "bedrock/",
    "vertex_ai/",
)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Prefixes of real API keys (OpenAI, Anthropic, Google, Groq, GitHub, Hugging Face) that are also valid names.
_KEY_PREFIXES = ("sk_", "AIza", "gsk_", "ghp_", "hf_")


# litellm parameters the gateway sets itself, with where each one comes from instead.
_GATEWAY_PARAMS = {
    "api_key": "name an environment variable in api_key_env; keys never go in pool files",
    "api_base": "use the entry's api_base field",
    "model": "use litellm_id",
    "messages": "the caller's prompt",
    "n": "the caller's sample count",
    "seed": "Gateway.complete(seed=...)",
    "temperature": "Gateway.complete(temperature=...)",
    "max_tokens": "Gateway.complete(max_tokens=...)",
    "timeout": "Gateway(timeout_s=...)",
    "num_retries": "the gateway retries (Gateway(max_retries=...))",
    "max_retries": "the gateway retries (Gateway(max_retries=...))",
    "metadata": "offline metadata is the gateway's",
}


class PublishedScore(BaseModel):
    """A single-model accuracy in [0, 1] with where it was published; the simulator calibrates to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    accuracy: float = Field(ge=0.0, le=1.0)
    source: str = Field(min_length=3, description="model card, technical report or leaderboard, with a URL")


class ModelSpec(BaseModel):
    """One pool entry. Prices are USD per million tokens; ``params_b`` in billions; the architecture
    (``layers``, ``hidden``) feeds the attention term of the FLOPs estimate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = ""
    litellm_id: str = Field(description="model id as litellm names it: sim/…, replay/…, openai/…, hosted_vllm/…")
    api_base: str | None = None
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable holding the key (never the key itself)"
    )
    offline: bool = Field(default=False, description="send offline metadata (sim/, replay/, serve-sim only)")
    family: str = ""
    params_b: float = Field(default=0.0, ge=0.0)
    active_params_b: float | None = Field(default=None, ge=0.0, description="for mixture-of-experts models")
    layers: int = Field(default=0, ge=0)
    hidden: int = Field(default=0, ge=0)
    context_window: int = Field(default=8192, gt=0)
    price_in: float = Field(default=0.0, ge=0.0, description="USD per million prompt tokens")
    price_out: float = Field(default=0.0, ge=0.0, description="USD per million completion tokens")
    throughput_tok_s: float = Field(default=50.0, gt=0.0, description="decode tokens per second per request")
    ttft_s: float = Field(default=0.3, ge=0.0, description="time to first token, seconds")
    max_concurrency: int = Field(default=16, gt=0)
    supports_n: bool = Field(default=False, description="the provider accepts n>1 in one request")
    params: dict[str, Any] = Field(default_factory=dict, description="extra litellm parameters")
    scores: dict[str, PublishedScore] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("params")
    @classmethod
    def _params_the_gateway_owns(cls, v: dict[str, Any]) -> dict[str, Any]:
        owned = sorted(set(v) & set(_GATEWAY_PARAMS))
        if owned:
            where = "; ".join(f"{k}: {_GATEWAY_PARAMS[k]}" for k in owned)
            raise ValueError(f"params may not set {', '.join(map(repr, owned))} ({where})")
        return v

    @field_validator("api_key_env")
    @classmethod
    def _not_a_key(cls, v: str | None) -> str | None:
        # The message never repeats the value: it may be a real key pasted in by mistake.
        if v is not None and (not _ENV_NAME.fullmatch(v) or v.startswith(_KEY_PREFIXES) or len(v) > 64):
            raise ValueError(
                "api_key_env names an environment variable (e.g. OPENAI_API_KEY), not the key itself; "
                "keep keys out of pool files"
            )
        return v

    @property
    def provider(self) -> str:
        """The provider prefix of ``litellm_id`` (``sim``, ``replay``, ``openai``, ``hosted_vllm`` …)."""
        return self.litellm_id.split("/", 1)[0] if "/" in self.litellm_id else "openai"

    @property
    def flops_params_b(self) -> float:
        """Parameters touched per token (active parameters for mixture-of-experts)."""
        return self.active_params_b if self.active_params_b is not None else self.params_b


class _PoolFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_: Literal["collabgraph.models/v1"] = Field(alias="schema")
    models: dict[str, ModelSpec]


class ModelPool:
    """A named set of models. ``get`` raises an error listing the closest names for an unknown one."""

    def __init__(self, models: dict[str, ModelSpec]) -> None:
        self._models = {name: m.model_copy(update={"name": name}) for name, m in models.items()}

    def names(self) -> list[str]:
        return sorted(self._models)

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter([self._models[n] for n in self.names()])

    def __len__(self) -> int:
        return len(self._models)

    def get(self, name: str) -> ModelSpec:
        try:
            return self._models[name]
        except KeyError:
            raise UnknownNameError("model", name, self._models) from None

    def resolve(self, name: str, api_base: str | None = None) -> ModelSpec:
        """A pool entry by name; or, with ``api_base``, an OpenAI-compatible server (vLLM, serve-sim);
        or a bare litellm id with a known provider prefix. Otherwise an error naming the closest models.

        An offline pool entry (``sim/…``, ``replay/…``) asked for at an ``api_base`` is reached through that
        server (``serve-sim``) as ``hosted_vllm/<name>``, keeping its metadata, sizes and prices."""
        if api_base:
            base = self._models.get(name)
            if base is not None:
                from collabgraph.models.offline import OFFLINE_PROVIDERS  # offline.py imports this module

                if base.provider in OFFLINE_PROVIDERS:
                    return base.model_copy(
                        update={"api_base": api_base, "litellm_id": f"hosted_vllm/{name}", "offline": True}
                    )
                return base.model_copy(update={"api_base": api_base})
            served = name if name.startswith(("hosted_vllm/", "openai/")) else f"hosted_vllm/{name}"
            return ModelSpec(name=name, litellm_id=served, api_base=api_base, supports_n=True)
        if name in self._models:
            return self._models[name]
        if name.startswith(_DIRECT_PROVIDERS):
            return ModelSpec(name=name, litellm_id=name)
        raise UnknownNameError("model", name, self._models)

    def merged(self, other: ModelPool) -> ModelPool:
        """This pool with ``other``'s entries added (``other`` wins on a name clash)."""
        return ModelPool({**self._models, **other._models})

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": POOL_SCHEMA,
            "models": {
                n: m.model_dump(exclude={"name"}, exclude_defaults=True) for n, m in sorted(self._models.items())
            },
        }


def _yaml_line(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (the deepest part of it that exists), if ``text`` parses."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line, child = key.start_mark.line + 1, value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _parse(data: object, source: str, text: str | None = None) -> ModelPool:
    if not isinstance(data, dict):
        raise ConfigError(source, [ErrorItem("<root>", "expected a mapping with keys 'schema' and 'models'")])
    if data.get("schema") != POOL_SCHEMA:
        got = data.get("schema")
        raise ConfigError(
            source,
            [
                ErrorItem(
                    "schema",
                    f"expected {POOL_SCHEMA!r}, got {got!r}",
                    hint=f"add 'schema: {POOL_SCHEMA}' as the first line",
                )
            ],
        )
    try:
        parsed = _PoolFile.model_validate(data)
    except ValidationError as exc:
        items = []
        fields = set(ModelSpec.model_fields)
        for err in exc.errors():
            parts = [p for p in err["loc"] if p != "schema_"]
            loc = format_loc(parts)
            line = _yaml_line(text, parts) if text is not None else None
            if line is not None:
                loc += f" (line {line})"
            msg, hint = err["msg"].removeprefix("Value error, "), None
            if err["type"] == "extra_forbidden":
                msg = f"unknown field {str(parts[-1])!r}"
                near = closest(str(parts[-1]), fields, n=1)
                hint = f"did you mean {near[0]!r}?" if near else "fields: " + ", ".join(sorted(fields))
            elif err["type"] == "missing":
                msg = f"missing required field {str(parts[-1])!r}"
            items.append(ErrorItem(loc, msg, hint))
        raise ConfigError(source, items) from None
    return ModelPool(parsed.models)


def load_pool(path: str | Path, *, with_default: bool = True) -> ModelPool:
    """Load a pool file; by default its entries are added to the built-in offline pool."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(str(p), [ErrorItem("<file>", "no such file")])
    text = p.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "<file>"
        raise ConfigError(str(p), [ErrorItem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    pool = _parse(data, str(p), text)
    return default_pool().merged(pool) if with_default else pool


_DEFAULT: ModelPool | None = None


def default_pool() -> ModelPool:
    """The built-in offline pool: every ``pools/*.yaml`` shipped with the package (sim/ and replay/)."""
    global _DEFAULT
    if _DEFAULT is None:
        pool = ModelPool({})
        folder = resources.files("collabgraph.models") / "pools"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                pool = pool.merged(_parse(yaml.safe_load(entry.read_text()), f"collabgraph/models/pools/{entry.name}"))
        _DEFAULT = pool
    return _DEFAULT
