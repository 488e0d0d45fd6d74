"""The sandbox contract: run a command or a program with files and limits, get an ExecResult back."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ExecLimits", "ExecResult", "Sandbox"]


class ExecLimits(BaseModel):
    """Resource limits of one job."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    timeout_s: float = Field(default=10.0, gt=0.0)
    memory_mb: int = Field(default=512, gt=0)
    cpus: float = Field(default=1.0, gt=0.0)
    pids: int = Field(default=64, gt=0)
    output_bytes: int = Field(default=1_000_000, gt=0, description="cap on stdout and on stderr, each")


class ExecResult(BaseModel):
    """What a job did. ``truncated`` is true when stdout or stderr hit the output cap."""

    model_config = ConfigDict(frozen=True)
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    oom_killed: bool = False
    duration_s: float = 0.0
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.oom_killed


class Sandbox(Protocol):
    """Runs one job in isolation. ``code`` is a Python program run as ``python3 main.py``; ``command`` an argv
    list; ``files`` are written into the work directory first (relative path → content)."""

    name: str

    async def exec(
        self,
        command: list[str] | None = None,
        *,
        code: str | None = None,
        files: dict[str, str] | None = None,
        limits: ExecLimits | None = None,
    ) -> ExecResult:
        """Run the job; never raises for what the job does (timeouts, crashes), only for misuse."""
        ...
