"""What countdown and Game of 24 share: an arithmetic answer, extracted and checked exactly."""

from __future__ import annotations

from collabgraph.tasks.base import BaseTask
from collabgraph.tasks.expression import ExpressionCheck, check_expression, clean_expression
from collabgraph.tasks.extract import extract_expression
from collabgraph.tasks.types import Example, Score

__all__ = ["ArithmeticPuzzle"]


class ArithmeticPuzzle(BaseTask):
    """A puzzle whose answer is an expression over ``meta["numbers"]`` that must equal ``meta["target"]``."""

    answer_format = "expression"

    def extract(self, text: str, example: Example) -> str | None:
        """The stated expression (``Answer: …``, ``\\boxed{…}`` or a bare last line), cleaned to plain ASCII."""
        stated = extract_expression(text)
        cleaned = clean_expression(stated) if stated else ""
        return cleaned or None

    def same(self, a: str, b: str, example: Example) -> bool:
        """Two answers agree when both solve the puzzle (different solutions are equally right), or are the same
        expression."""
        if clean_expression(a).replace(" ", "") == clean_expression(b).replace(" ", ""):
            return True
        return self._check(a, example).valid and self._check(b, example).valid

    async def score(self, text: str, example: Example) -> Score:
        """Correct when the stated expression uses every given number once and replays exactly to the target."""
        extracted = self.extract(text, example)
        if extracted is None:
            return Score(correct=False, extracted=None, detail="no expression found")
        check = self._check(extracted, example)
        return Score(correct=check.valid, extracted=extracted, detail=check.reason)

    @staticmethod
    def _check(expression: str, example: Example) -> ExpressionCheck:
        return check_expression(expression, example.meta["numbers"], example.meta["target"])
