"""Reading structured parts out of free model text: a critic's verdict, a judge's choice, a plan's subtasks,
a program's printed answer.

Each parser accepts what the offline pools write (``VERDICT: INCORRECT``, ``SELECTED: 2``, ``1. …``) and the
variations real models produce (markdown emphasis, ``**Verdict:** Incorrect``, ``I select candidate 3``,
bulleted plans), and returns None when the text holds nothing it can trust: the caller then retries once.
"""

from __future__ import annotations

import re

from collabgraph.agents.types import Verdict

__all__ = ["parse_plan", "parse_selection", "parse_verdict", "printed_answer"]

_MARKUP = re.compile(r"[*_`#>]+")

_ACCEPT_WORDS = ("correct", "accepted", "accept", "right", "valid", "pass", "passed", "sound")
_REJECT_WORDS = ("incorrect", "rejected", "reject", "wrong", "invalid", "fail", "failed", "flawed", "unsound")
_VERDICT_WORD = "|".join(sorted(_ACCEPT_WORDS + _REJECT_WORDS, key=len, reverse=True))
_NEGATION = r"((?<![a-z])not\s+|n't\s+)?"
_WORD = re.compile(rf"{_NEGATION}\b({_VERDICT_WORD})\b", re.IGNORECASE)
_LEADING_WORD = re.compile(rf"^\W*(?:is(?:\s+|(?=n't)))?{_NEGATION}\b({_VERDICT_WORD})\b", re.IGNORECASE)
_VERDICT_LABEL = re.compile(r"\bverdict\b", re.IGNORECASE)


def _verdict_of(negated: bool, word: str) -> Verdict:
    accepted = word.lower() in _ACCEPT_WORDS
    return "accepted" if accepted != negated else "rejected"


def parse_verdict(text: str) -> Verdict | None:
    """The verdict a critique ends with, from its last line that says ``verdict``: the word right after it
    (``VERDICT: CORRECT``, ``**Verdict:** Incorrect``), else the last verdict word on that line (``Final verdict:
    the steps are right but the answer is wrong``), negation included (``not correct``). Without such a line, a
    last line that is only the word (``INCORRECT``, ``Correct.``). None when there is neither."""
    lines = [_MARKUP.sub("", line).strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        labels = list(_VERDICT_LABEL.finditer(line))
        if not labels:
            continue
        rest = line[labels[-1].end() :]
        hit = _LEADING_WORD.match(rest)
        words = list(_WORD.finditer(rest))
        if hit is None and words:
            hit = words[-1]
        if hit is not None:
            return _verdict_of(hit.group(1) is not None, hit.group(2))
    if lines and (bare := _BARE_VERDICT.match(lines[-1])):
        return _verdict_of(bare.group(1) is not None, bare.group(2))
    return None


_BARE_VERDICT = re.compile(rf"^(not\s+)?({_VERDICT_WORD})\.?$", re.IGNORECASE)

_ORDINAL = r"(?:candidate|solution|answer|option|response)?\s*(?:number|no\.?)?\s*[#(\[]?\s*(\d+)"
_SELECTION_PATTERNS = (
    re.compile(rf"\bselect(?:ed|ion)?\b\s*(?:is)?\s*[:=\-]?\s*{_ORDINAL}", re.IGNORECASE),
    re.compile(rf"\b(?:i\s+)?(?:choose|chose|pick|picked|prefer)\b\s*{_ORDINAL}", re.IGNORECASE),
    re.compile(
        rf"\b(?:best|most\s+(?:likely|convincing|correct)|correct)\s+(?:candidate|solution|answer|one)\s+is\s*{_ORDINAL}",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:candidate|solution|response)\s*#?\s*(\d+)\s+is\s+(?:the\s+)?(?:best|most\s+\w+|correct)", re.IGNORECASE
    ),
)


def parse_selection(text: str, count: int) -> int | None:
    """The 0-based index of the candidate a judge chose among ``count``: its last ``SELECTED: N`` line, else
    the last "I choose candidate N" / "the best candidate is N" / "candidate N is the best"; a number outside
    1..count does not count. None when nothing names a candidate."""
    plain = _MARKUP.sub("", text)
    for pattern in _SELECTION_PATTERNS:
        picks = [int(m.group(1)) for m in pattern.finditer(plain) if 1 <= int(m.group(1)) <= count]
        if picks:
            return picks[-1] - 1
    return None


_NUMBERED = re.compile(r"^\s*(?:(?:subtask|step|task|part)\s*)?\(?(\d+)[.):\]]\s*(?:[-:]\s*)?(.*\S)\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-*•+]\s+(.*\S)\s*$")


def _clean_item(item: str) -> str:
    return _MARKUP.sub("", item).strip().strip(":").strip()


def parse_plan(text: str) -> list[str]:
    """The subtasks of a plan, in order: its numbered items (``1. …``, ``2) …``, ``Subtask 3: …``), else its
    bullets; an indented line right after an item continues it. Empty when the text lists nothing."""
    lines = text.splitlines()
    for pattern, group in ((_NUMBERED, 2), (_BULLET, 1)):
        items: list[str] = []
        last_was_item = False
        for line in lines:
            hit = pattern.match(line)
            if hit:
                items.append(_clean_item(hit.group(group)))
                last_was_item = True
            elif last_was_item and line[:1].isspace() and line.strip() and not _BULLET.match(line):
                items[-1] = f"{items[-1]} {_clean_item(line)}"
            else:
                last_was_item = False
        items = [item for item in items if item]
        if items:
            return items
    return []


def printed_answer(stdout: str) -> str | None:
    """What a program-of-thought program printed as its answer: its last non-empty line of output."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    return lines[-1] if lines else None
