"""Writing the simulator's text: a chain of thought of realistic length ending in the task's answer format.

The simulator never sees the question (only its metadata), so the reasoning is generic prose; what matters
downstream is that the final answer is stated exactly as the task's extractor expects, and that lengths (hence
token counts, cost, FLOPs and latency) look like a real model's:

- ``gsm8k``: steps, then ``#### <answer>`` on the last line;
- ``boxed``: steps, then ``Therefore, the final answer is $\\boxed{<answer>}$.``;
- ``letter``: steps, then ``The answer is (<X>).``;
- ``expression``: steps, then ``Answer: <expression>``;
- ``code``: a sentence, then the program in a fenced ``python`` block.

Token counts are estimated as characters / ``CHARS_PER_TOKEN`` (the common rule of thumb for English with
BPE tokenizers), rounded up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

__all__ = [
    "CHARS_PER_TOKEN",
    "FAMILY_VERBOSITY",
    "FORMAT_LENGTH_CHARS",
    "LENGTH_SIGMA",
    "MESSAGE_OVERHEAD_TOKENS",
    "TASK_LENGTH_CHARS",
    "WRONG_LENGTH_FACTOR",
    "count_tokens",
    "final_line",
    "prompt_tokens",
    "reasoning",
    "target_length",
    "write_answer",
]

CHARS_PER_TOKEN = 4
"""Characters per token for the token-count estimate (completion and prompt alike)."""

MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens a chat template adds per message (role markers and separators), as in OpenAI's counting recipe."""

TASK_LENGTH_CHARS: dict[str, int] = {
    "gsm8k": 330,
    "math500": 1100,
    "mmlu_pro": 300,
    "countdown": 450,
    "game24": 380,
}
"""Median length, in characters, of the reasoning before the final answer, by task. Grounded where real outputs
exist: GSM8K responses in ``routellm/gsm8k_responses.csv`` have medians of 273 (Mixtral-8x7B) and 377 (GPT-4)
characters; MMLU-Pro 5-shot chains of thought of Llama-3.1-8B/70B-Instruct in ``mmlu_pro/model_predictions.csv``
have medians of 323 and 296. MATH-500 and the arithmetic puzzles are set from typical zero-shot CoT
solutions (several paragraphs; a few tried combinations)."""

FORMAT_LENGTH_CHARS: dict[str, int] = {"gsm8k": 330, "boxed": 1100, "letter": 300, "expression": 420, "code": 90}
"""Median reasoning length by answer format, for tasks not in TASK_LENGTH_CHARS (for ``code`` this is the prose
around the program, whose own length is the program's)."""

FAMILY_VERBOSITY: dict[str, float] = {"llama": 1.0, "qwen": 1.15, "gpt": 1.3, "oracle": 1.0}
"""Length multiplier by model family (``ModelSpec.family``): Qwen2.5-Instruct and GPT-4o-mini write longer
step-by-step solutions than Llama 3.x at the same task. Unknown families use 1.0."""

WRONG_LENGTH_FACTOR = 1.3
"""Wrong answers are longer: on MMLU-Pro the median wrong chain of thought is 1.32× (Llama-3.1-8B-Instruct) and
1.27× (Llama-3.1-70B-Instruct) the median right one."""

LENGTH_SIGMA = 0.3
"""Log-normal spread of a response's length around its median (one SD is ×/÷ 1.35)."""

_MIN_STEPS = 2

_STEPS: dict[str, tuple[str, ...]] = {
    "gsm8k": (
        "First, let's write down the quantities given in the problem.",
        "We need to keep track of how each amount changes along the way.",
        "Let's work out the first part of the problem.",
        "Multiplying the amount per item by the number of items gives the subtotal.",
        "Next, we account for what is added or taken away.",
        "Subtracting that from the running total gives the amount that is left.",
        "Now we combine the two parts.",
        "Adding these together gives the total so far.",
        "The problem asks for the amount at the end, so we carry the total forward.",
        "Let's double-check the arithmetic before moving on.",
        "Dividing by the number of groups gives the amount for each one.",
        "This matches the condition stated in the problem.",
    ),
    "boxed": (
        "We begin by restating the problem in symbols.",
        "Let's simplify the expression step by step.",
        "Substituting this back gives an equation in a single variable.",
        "Expanding and collecting like terms, the equation becomes simpler.",
        "We can factor the result, which makes the structure clearer.",
        "Using the given condition, we can eliminate one of the unknowns.",
        "Now we check which of the solutions satisfy the original constraints.",
        "By symmetry, it is enough to consider one case and multiply.",
        "Applying the standard identity here reduces the problem considerably.",
        "Let's verify the result by plugging it back into the original expression.",
        "Counting the cases carefully, we must be careful not to double count.",
        "Taking both constraints into account narrows the answer down to one value.",
    ),
    "letter": (
        "Let's think step by step.",
        "The question asks us to identify the statement that best fits the situation described.",
        "We recall the relevant definition and the principle it relies on.",
        "Several options can be ruled out because they contradict that principle.",
        "Another option describes a related idea, but not the one the question asks about.",
        "Working through the numbers given in the question confirms the reasoning.",
        "The remaining choice is consistent with all of the facts stated.",
        "We should also check for common misconceptions in this area.",
        "Considering the context of the question, one choice stands out.",
    ),
    "expression": (
        "We need to combine the given numbers with +, -, * and / to reach the target.",
        "Let's look for a product that lands close to the target first.",
        "Trying a few pairs, some get close but leave the wrong remainder.",
        "Using the larger numbers first keeps the intermediate values manageable.",
        "Now we check that each number is used exactly once.",
        "Let's try combining the two smallest numbers before multiplying.",
        "That leaves a difference that the remaining number can make up.",
        "Verifying the arithmetic step by step confirms the combination.",
    ),
    "code": (
        "Here is an implementation of the function.",
        "The function handles the edge cases described in the docstring.",
        "It walks over the input once and builds the result as it goes.",
        "The examples in the docstring pass with this implementation.",
    ),
}


def final_line(answer_format: str, answer: str) -> str:
    """The closing statement of the answer in the task's own format (for code: the fenced program)."""
    if answer_format == "gsm8k":
        return f"So the final result is {answer}.\n#### {answer}"
    if answer_format == "boxed":
        return f"Therefore, the final answer is $\\boxed{{{answer}}}$."
    if answer_format == "letter":
        return f"The answer is ({answer.strip().upper()})."
    if answer_format == "expression":
        return f"Answer: {answer}"
    if answer_format == "code":
        return f"```python\n{answer.rstrip()}\n```"
    raise ValueError(f"unknown answer format {answer_format!r}")


def target_length(task: str, answer_format: str, family: str, wrong: bool, r: random.Random) -> int:
    """A response's reasoning length in characters: the task's median × the family's verbosity (× the
    wrong-answer factor), with log-normal spread."""
    base = TASK_LENGTH_CHARS.get(task, FORMAT_LENGTH_CHARS.get(answer_format, 300))
    scale = FAMILY_VERBOSITY.get(family.lower(), 1.0) * (WRONG_LENGTH_FACTOR if wrong else 1.0)
    return max(1, round(base * scale * math.exp(r.gauss(0.0, LENGTH_SIGMA))))


def reasoning(answer_format: str, length: int, r: random.Random) -> str:
    """Generic reasoning sentences for the format, at least two, until about ``length`` characters."""
    bank = _STEPS.get(answer_format, _STEPS["gsm8k"])
    pool = list(bank)
    lines: list[str] = []
    size = 0
    while len(lines) < _MIN_STEPS or size < length:
        if not pool:
            pool = list(bank)
        sentence = pool.pop(r.randrange(len(pool)))
        lines.append(sentence)
        size += len(sentence) + 1
    return "\n".join(lines)


def write_answer(answer_format: str, answer: str, length: int, r: random.Random, preface: str = "") -> str:
    """A full response: optional ``preface``, reasoning of about ``length`` characters, the final answer."""
    body = reasoning(answer_format, length, r)
    head = f"{preface}\n" if preface else ""
    return f"{head}{body}\n{final_line(answer_format, answer)}"


def count_tokens(text: str) -> int:
    """Estimated tokens in ``text`` (characters / CHARS_PER_TOKEN, rounded up)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(messages: Sequence[dict[str, str]]) -> int:
    """Estimated prompt tokens: each message's content counted like completions, plus the template overhead."""
    return sum(count_tokens(str(m.get("content") or "")) + MESSAGE_OVERHEAD_TOKENS for m in messages)
