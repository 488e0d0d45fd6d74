"""Helper process for ``mathcheck``: reads ``[a, b]`` JSON lines on stdin, answers ``1`` or ``0`` per line.

It runs math-verify on its own main thread, where math-verify's ``signal.alarm`` time limits work."""

from __future__ import annotations

import json
import sys

from collabgraph.tasks.mathcheck import math_verify_equivalent


def main() -> None:
    """Answer equivalence questions until stdin closes."""
    for line in sys.stdin:
        try:
            a, b = json.loads(line)
            answer = math_verify_equivalent(str(a), str(b))
        except (ValueError, TypeError):
            answer = False
        sys.stdout.write("1\n" if answer else "0\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
