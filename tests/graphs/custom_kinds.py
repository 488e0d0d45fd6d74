"""Custom node kinds used by the graph tests (imported through the allow-list or registered by name)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    times: int = Field(default=1, ge=1)
    prefix: str = ""


class Echo:
    """A kind with a config model: custom nodes using it have their ``config`` checked."""

    config_model = EchoConfig


class Free:
    """A kind without a config model: any ``config`` is accepted."""
