"""Math answer equivalence: exact fast paths, then math-verify (sympy underneath), time-boxed so it never hangs.

``equivalent(a, b)`` is symmetric by construction (it checks both directions) and cached on the unordered pair.
math-verify bounds its own work with ``signal.alarm``, which only works on the main thread; from any other
thread the check runs in a helper process (``mathworker``) that is killed when it overruns, so a pathological expression
costs at most a few seconds and never blocks a run.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import select
import subprocess
import sys
import threading
from typing import Any

from collabgraph.tasks.extract import number_value

__all__ = ["equivalent", "math_verify_equivalent", "normalize_math"]

_TIMEOUT_S = 3
"""Seconds math-verify may spend parsing one answer or comparing a pair."""

_TEXT_RE = re.compile(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")
_UNIT_RE = re.compile(
    r"(?<=\d)\s*(?:\\[,;!: ])*\s*(?:units?|degrees?|cm|m|km|inches|inch|feet|ft|meters?|dollars?|cents?|"
    r"square|sq|hours?|minutes?|seconds?|days?|mph)(?:\^\d|\^\{\d\})?\s*$"
)


def normalize_math(answer: str) -> str:
    """A light canonical form for fast string comparison: no spacing, sizing, ``\\text``, ``$`` or units."""
    s = answer.strip()
    s = s.strip("$").strip()
    s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)(?=[()\[\]{}|.\\])", "", s)
    s = s.replace("\\!", "").replace("\\,", "").replace("\\;", "").replace("\\ ", "").replace("~", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("^\\circ", "").replace("^{\\circ}", "")
    s = s.replace("\\%", "").replace("%", "").replace("\\$", "")
    s = _TEXT_RE.sub(r"\1", s)
    s = _UNIT_RE.sub("", s)
    s = re.sub(r"^[a-zA-Z]\s*=\s*", "", s)  # "x = 5" states the value 5
    s = re.sub(r"\s+", "", s).rstrip(".")
    # "\frac12" and "\frac{1}{2}" are the same fraction.
    s = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", s)
    return s


def _plain_value(s: str) -> Any:
    """The exact value of a plain number or ``\\frac{p}{q}``; None for anything else."""
    frac = re.fullmatch(r"(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}", s)
    if frac:
        num = number_value(frac.group(2) + "/" + frac.group(3))
        return -num if num is not None and frac.group(1) else num
    if re.fullmatch(r"-?[\d,]*\.?\d+(?:/\d+)?", s):
        return number_value(s)
    return None


def _is_equation(s: str) -> bool:
    """An equation, as opposed to a value; ``x = 5`` was already reduced to ``5`` by normalising."""
    return bool(re.search(r"(?<![<>!\\])=", s))


def equivalent(a: str, b: str) -> bool:
    """Whether two stated math answers denote the same value (``\\frac{1}{2}`` ≡ ``0.5``, ``(x+1)^2`` ≡ ``x^2+2x+1``)."""
    na, nb = normalize_math(a), normalize_math(b)
    if na == nb:
        return bool(na)
    va, vb = _plain_value(na), _plain_value(nb)
    if va is not None and vb is not None:
        return bool(va == vb)
    if _is_equation(na) != _is_equation(nb):
        # math-verify compares a bare value with an equation's right-hand side: "0" would match "x + y - 1 = 0".
        return False
    # math-verify gets the answers as written: dropping spaces can change LaTeX's meaning ("\\cdot x").
    return _verify_pair(*sorted((a.strip().strip("$"), b.strip().strip("$"))))


@functools.lru_cache(maxsize=65536)
def _verify_pair(a: str, b: str) -> bool:
    if threading.current_thread() is threading.main_thread():
        return math_verify_equivalent(a, b)
    return _verify_in_helper(a, b)


def math_verify_equivalent(a: str, b: str) -> bool:
    """math-verify in both directions, each step bounded by its own alarm; any failure counts as not equivalent."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # timeouts are expected; they mean "no"
    pa = parse(f"${a}$", parsing_timeout=_TIMEOUT_S)
    pb = parse(f"${b}$", parsing_timeout=_TIMEOUT_S)
    if not pa or not pb:
        return False
    return bool(verify(pa, pb, timeout_seconds=_TIMEOUT_S) or verify(pb, pa, timeout_seconds=_TIMEOUT_S))


class _Helper:
    """A long-lived ``python -m collabgraph.tasks.mathworker`` speaking JSON lines; killed and replaced on overrun.

    A plain subprocess rather than multiprocessing, whose spawn start method would re-run the caller's
    ``__main__`` (a user's unguarded script) in the child."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def check(self, a: str, b: str, timeout_s: float) -> bool:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "collabgraph.tasks.mathworker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            proc = self._proc
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps([a, b]) + "\n")
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
                line = proc.stdout.readline() if ready else ""
            except OSError:
                line = ""
            if line.strip() not in {"0", "1"}:
                # Overran or died: a fresh worker answers the next question.
                proc.kill()
                proc.wait()
                self._proc = None
                return False
            return line.strip() == "1"


_helper = _Helper()


def _verify_in_helper(a: str, b: str) -> bool:
    """``_math_verify`` on the main thread of the helper process (where its alarms work), with a hard deadline."""
    # The first call also pays for starting Python and importing sympy.
    return _helper.check(a, b, timeout_s=4 * _TIMEOUT_S + 15)
