"""Rendering shared by the commands: rich tables on stdout, JSON on stdout, a progress bar on stderr.

The rule every command follows: in JSON mode stdout carries exactly one JSON document and nothing else, so
``collabgraph … --format json | jq`` always works; anything for a human (progress, warnings) goes to stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "Advance",
    "fmt_count",
    "fmt_flops",
    "fmt_usd",
    "print_fields",
    "print_json",
    "print_table",
    "progress_bar",
    "stderr_console",
    "stdout_console",
]

Advance = Callable[[str], None]
"""Advance a progress bar by one step and show ``status`` beside it (e.g. the accuracy so far)."""


PIPE_WIDTH = 200
"""Table width when stdout is a pipe or a file and ``COLUMNS`` is unset: rich would assume 80 columns and fold
model names mid-word, which helps nobody reading a log."""


def stdout_console() -> Console:
    """Console for results (stdout); soft-wrapped so piping keeps whole lines."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(soft_wrap=True, width=PIPE_WIDTH if piped else None)


def stderr_console() -> Console:
    """Console for everything a human reads but a pipeline must not (progress, notices)."""
    return Console(stderr=True)


def print_json(payload: Any) -> None:
    """Write ``payload`` as one JSON document and a newline on stdout, uncoloured."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    right_align: Sequence[str] = (),
) -> None:
    """A compact rich table on stdout; columns named in ``right_align`` hold numbers (never cut short: a
    narrow terminal wraps text columns instead)."""
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False, box=None)
    for col in columns:
        numeric = col in right_align
        table.add_column(col, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for row in rows:
        table.add_row(*row)
    stdout_console().print(table)


def print_fields(fields: Sequence[tuple[str, str]], *, title: str | None = None) -> None:
    """One record as a two-column table of names and values on stdout: fits any terminal width."""
    table = Table(title=title, title_justify="left", show_header=False, pad_edge=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, value)
    stdout_console().print(table)


def _noop(status: str) -> None:
    return None


@contextmanager
def progress_bar(total: int, description: str, *, enabled: bool = True) -> Iterator[Advance]:
    """A progress bar on stderr for ``total`` steps; yields the function that advances it.

    Disabled (a no-op) when asked, or when stderr is not a terminal, so logs and JSON pipelines stay clean."""
    if not enabled or not sys.stderr.isatty():
        yield _noop
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=stderr_console(),
        transient=True,
    )
    with progress:
        task_id = progress.add_task(description, total=total, status="")

        def advance(status: str) -> None:
            progress.update(task_id, advance=1, status=status)

        yield advance


def fmt_count(value: float) -> str:
    """Token counts and the like: ``1,234`` or ``12.5`` for small fractional means."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def fmt_usd(value: float) -> str:
    """Dollars with three significant digits for per-call costs (``$0.000123``), never in exponent notation."""
    if value <= 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    digits = 2 - math.floor(math.log10(value))
    return f"${value:.{digits}f}"


def fmt_flops(value: float) -> str:
    """FLOPs with an SI prefix: ``3.2 TFLOP``."""
    for factor, prefix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g} {prefix}FLOP"
    return f"{value:.3g} FLOP"
