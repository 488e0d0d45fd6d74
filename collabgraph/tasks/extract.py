"""Final-answer extraction from free model text: numbers, ``\\boxed{…}``, option letters, ``Answer:`` lines.

Each function returns the answer as it was stated (numbers canonicalised), or None when the text states none.
They are tuned on real outputs in the shared data: GPT-3 solutions ending ``A: 26``, GPT-4 prose ending
``… = $10,000 per day.``, Mixtral ``#### 18``, MMLU-Pro chains of thought ending ``The answer is (B)``.
"""

from __future__ import annotations

import re
from fractions import Fraction

from collabgraph.tasks.types import AnswerFormat

__all__ = [
    "canonical_number",
    "extract_answer_line",
    "extract_expression",
    "extract_gsm8k",
    "extract_letter",
    "format_answer",
    "last_boxed",
    "last_number",
    "number_value",
]

# Thousands separators only in groups of three, so "3, 4 and 5" stays three numbers.
_NUMBER = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+(?!\d|\.\d))?|-?\.\d+"
_NUMBER_RE = re.compile(rf"(?<![\w.])(?:{_NUMBER})")
_CALC_RE = re.compile(r"<<[^<>]*>>")  # GSM8K calculator annotations: "<<9*2=18>>18"
_HASHES_RE = re.compile(r"####\s*(.*)")
_ANSWER_IS_RE = re.compile(
    r"(?:final answer|the answer|answer)\s*(?:is|:|=|would be|will be)\s*:?\s*(.*)", re.IGNORECASE
)
_A_LINE_RE = re.compile(r"^\s*A\s*:\s*(.*)$", re.MULTILINE)


def number_value(text: str) -> Fraction | None:
    """The exact value of one number as written: ``"$1,234.50"`` → 1234.5, ``"3/4"``, ``"-7"``, ``"25%"`` → 25."""
    s = text.strip().replace(",", "").replace("$", "").replace(" ", "").rstrip(".%")
    if not s:
        return None
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def canonical_number(value: Fraction) -> str:
    """A number's canonical string: ``18``, ``-2.5``, ``1/3`` (decimal only where it terminates)."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    sign = "-" if value < 0 else ""
    num = abs(value)
    whole = num.numerator // num.denominator
    frac = num - whole
    digits = ""
    while frac:
        frac *= 10
        digits += str(frac.numerator // frac.denominator)
        frac -= frac.numerator // frac.denominator
    return f"{sign}{whole}.{digits}"


def _numbers(text: str) -> list[str]:
    return [m.group(0) for m in _NUMBER_RE.finditer(_CALC_RE.sub(" ", text).replace("$", " "))]


def _first_number(text: str) -> str | None:
    for raw in _numbers(text):
        value = number_value(raw)
        if value is not None:
            return canonical_number(value)
    return None


def last_number(text: str) -> str | None:
    """The last number in ``text``, canonicalised; calculator annotations ``<<…>>`` are ignored."""
    for raw in reversed(_numbers(text)):
        value = number_value(raw)
        if value is not None:
            return canonical_number(value)
    return None


def extract_gsm8k(text: str) -> str | None:
    """A numeric final answer: after the last ``####``, else after "the answer is", else on an ``A:`` line,
    else in the last ``\\boxed{}``, else the last number in the text."""
    for pattern in (_HASHES_RE, _ANSWER_IS_RE, _A_LINE_RE):
        hits = list(pattern.finditer(text))
        for hit in reversed(hits):
            # Only the stated sentence counts: "The answer is 5 apples, 3 more than…" → 5.
            found = _first_number(re.split(r"(?<=[^\d,])[.;!?]\s|\n", hit.group(1) + "\n", maxsplit=1)[0])
            if found is not None:
                return found
    boxed = last_boxed(text)
    if boxed is not None and (found := _first_number(boxed)) is not None:
        return found
    return last_number(text)


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{…}`` (or ``\\fbox{…}``), braces balanced; None if there is none."""
    best: str | None = None
    for match in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth = 1
        i = match.end()
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        if depth == 0:
            best = text[match.end() : i - 1].strip()
    if best is None:
        # "\boxed 5" (no braces) is how some models box a single token.
        bare = re.findall(r"\\boxed\s+([^\s$]+)", text)
        best = bare[-1] if bare else None
    return best


def extract_letter(text: str, n_options: int) -> str | None:
    """An option letter among the first ``n_options`` (A…): ``answer is (B)``, ``answer is B``, ``Answer: B``,
    ``\\boxed{B}``, else the last standalone letter ``(B)`` or ``B.`` in range."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:n_options]
    if not letters:
        return None
    cls = f"[{letters}]"
    # Only the words ignore case: "the answer is a bit subtle" must not read as (A).
    patterns = (
        rf"(?i:answer\s+is)\s*:?\s*\**\s*\(?({cls})\b",
        rf"(?i:answer)\s*:\s*\**\s*\(?({cls})\b",
        rf"\\boxed\{{\s*(?:\\text\{{)?\(?({cls})\b",
    )
    for pattern in patterns:
        hits = re.findall(pattern, text)
        if hits:
            return str(hits[-1])
    # Standalone: "(C)" anywhere, or a capital letter on its own followed by ")", "." or line end.
    hits = re.findall(rf"\(({cls})\)|(?<![\w'])({cls})(?=[).:]?\s*$|\)|\.\s)", text, flags=re.MULTILINE)
    flat = [a or b for a, b in hits]
    return flat[-1] if flat else None


def extract_answer_line(text: str) -> str | None:
    """What follows the last ``Answer:`` on its line, without markdown, ``$`` or ``\\boxed``; None if absent."""
    hits = re.findall(r"(?i:answer)\s*:\s*(.+)", text)
    if not hits:
        return None
    value = hits[-1].strip().strip("*`$ ").rstrip(".").strip("*`$ ")
    boxed = last_boxed(value)
    return (boxed if boxed is not None else value) or None


_ARITH_LINE_RE = re.compile(r"^[\d\s()+\-*/×÷xX.=\[\]]+$")


def extract_expression(text: str) -> str | None:
    """An arithmetic answer: the last ``Answer:`` line, else the last ``\\boxed{}``, else the last line made only
    of numbers, operators and parentheses (``(3 + 5) * 3 = 24``). Returned as written; the verifier cleans it."""
    stated = extract_answer_line(text) or last_boxed(text)
    if stated:
        return stated
    for line in reversed(text.splitlines()):
        line = line.strip().strip("`$*").strip()
        if _ARITH_LINE_RE.match(line) and re.search(r"\d\s*[+\-*/×÷]\s*[\d(]", line):
            return line
    return None


def format_answer(answer_format: AnswerFormat, answer: str) -> str:
    """The closing line that states ``answer`` the way ``answer_format`` asks (what the extractors read back)."""
    if answer_format == "gsm8k":
        return f"#### {answer}"
    if answer_format == "boxed":
        return f"The final answer is $\\boxed{{{answer}}}$."
    if answer_format == "letter":
        return f"The answer is ({answer})."
    if answer_format == "expression":
        return f"Answer: {answer}"
    return f"```python\n{answer}\n```"
