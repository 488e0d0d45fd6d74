"""swe_mini: repair a real package (inflection, more-itertools, toolz from PyPI) given a user's bug report;
the answer is a unified diff, scored by applying it in the sandbox and running the package's own tests.

The instances are synthesised (see ``collabgraph.tasks.swe.instances``) and cached beside the sdists; both
come from an explicit step, ``scripts/fetch-swe-sources`` or :meth:`SweMiniTask.prepare`, never on import."""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox import ExecLimits, Sandbox, available_sandbox
from collabgraph.tasks.swe.instances import SweInstance, buggy_tree, build_instances, cache_path, load_instances
from collabgraph.tasks.swe.jobs import JobError, parse_summary, patch_step, pytest_step, run_steps
from collabgraph.tasks.swe.sources import FETCH_COMMAND, SourcesMissingError, fetch_sources, read_tree
from collabgraph.tasks.types import AnswerFormat, Example, Message, Score, Split

__all__ = ["SweMiniTask", "extract_diff"]

_INSTRUCTIONS = (
    "You are maintaining the Python package {package} {version}. A user filed this issue:\n\n{issue}\n\n"
    "The repository holds these files:\n{files}\n\nFix the bug in the package (not in its tests). Reply with "
    "a unified diff against the repository root (`--- a/path` / `+++ b/path` headers) in a single ```diff block."
)
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.DOTALL)
_DETAIL_CHARS = 600


def extract_diff(text: str) -> str | None:
    """The unified diff in ``text``: a ```diff (or ```patch) block, else a fenced block holding ``---``/``+++``
    headers, else everything from the first ``diff --git`` or ``--- `` line; None when there is none."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    chosen = next((body for lang, body in blocks if lang in ("diff", "patch", "udiff")), None)
    if chosen is None:
        chosen = next((body for _, body in blocks if _is_diff(body)), None)
    if chosen is None:
        start = re.search(r"^(diff --git |--- )", text, re.MULTILINE)
        chosen = text[start.start() :] if start else None
    if chosen is None or not _is_diff(chosen):
        return None
    return chosen if chosen.endswith("\n") else chosen + "\n"


def _is_diff(text: str) -> bool:
    return (
        re.search(r"^--- ", text, re.MULTILINE) is not None and re.search(r"^\+\+\+ ", text, re.MULTILINE) is not None
    )


def _changed_lines(diff: str) -> list[str]:
    return [
        line.rstrip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
    ]


class SweMiniTask:
    """Software repair on real packages, one ``test`` split of ``per_package`` instances per package.

    Each example's ``question`` is the issue; ``answer`` the gold patch; ``meta`` holds ``package``,
    ``version``, ``mutation`` (where the bug is: path, function, line, the original and buggy text),
    ``fail_to_pass``, ``pass_to_pass``, ``issue`` and ``files`` (the repository's file list, a repo map); the
    repository itself is rebuilt from the cached sdist (``buggy_tree``). ``score`` applies the response's diff
    to the buggy tree in ``sandbox`` (``git apply``, then ``patch -p1 --fuzz=3``) and runs FAIL_TO_PASS and
    PASS_TO_PASS; correct iff they all pass.
    """

    name = "swe_mini"
    answer_format: AnswerFormat = "code"

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        seed: int = 0,
        per_package: int = 10,
        sources: str | Path | None = None,
        sandbox: Sandbox | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        if per_package < 1:
            raise CollabgraphError(f"task swe_mini: per_package must be 1 or more, got {per_package}")
        self.data_dir = data_dir
        self.seed = seed
        self.per_package = per_package
        self.sources = sources
        self._sandbox = sandbox
        self.limits = ExecLimits(timeout_s=timeout_s, memory_mb=1024, pids=64)
        self._instances: dict[str, SweInstance] | None = None

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox jobs run in (``available_sandbox("auto")`` unless one was given)."""
        if self._sandbox is None:
            self._sandbox = available_sandbox("auto")
        return self._sandbox

    def prepare(self) -> list[Example]:
        """Fetch the sdists and build (or load) the validated instances: the explicit, networked step."""
        fetch_sources(self.sources)
        asyncio.run(self.build())
        return self.examples()

    async def build(self) -> list[SweInstance]:
        """Build (or load) the validated instances from the cached sdists."""
        built = await build_instances(self.sandbox, seed=self.seed, per_package=self.per_package, root=self.sources)
        self._instances = {i.id: i for i in built}
        return built

    def instances(self) -> dict[str, SweInstance]:
        """The cached instances by id; raises SourcesMissingError naming the fetch step when not built."""
        if self._instances is None:
            loaded = load_instances(self.seed, self.per_package, self.sources)
            if loaded is None:
                raise SourcesMissingError(
                    f"task swe_mini: no instances at {cache_path(self.seed, self.per_package, self.sources)}; "
                    f"build them with `{FETCH_COMMAND}` (or SweMiniTask.prepare())"
                )
            self._instances = {i.id: i for i in loaded}
        return self._instances

    def examples(self, split: Split = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
        """The instances in an order shuffled by ``seed``; ``limit`` takes the first ``limit`` of that order."""
        if split != "test":
            raise CollabgraphError(f"task swe_mini has no split {split!r}; valid splits: test")
        if limit is not None and limit < 0:
            raise CollabgraphError(f"task swe_mini: limit must be 0 or more, got {limit}")
        order = [self._example(i) for i in self.instances().values()]
        random.Random(f"swe_mini/{seed}").shuffle(order)
        return order if limit is None else order[:limit]

    def _example(self, instance: SweInstance) -> Example:
        return Example(
            id=instance.id,
            task=self.name,
            question=instance.issue,
            answer=instance.gold_patch,
            answer_format=self.answer_format,
            meta={
                "package": instance.package,
                "version": instance.version,
                "mutation": instance.mutation.model_dump(),
                "fail_to_pass": list(instance.fail_to_pass),
                "pass_to_pass": list(instance.pass_to_pass),
                "issue": instance.issue,
                "files": sorted(read_tree(instance.package, self.sources)),
            },
        )

    def prompt(self, example: Example) -> list[Message]:
        """One user message: the issue, the repository's files, and the request for a ```diff block."""
        meta = example.meta
        files = "\n".join(f"- {path}" for path in meta["files"])
        text = _INSTRUCTIONS.format(package=meta["package"], version=meta["version"], issue=meta["issue"], files=files)
        return [Message(role="user", content=text)]

    def extract(self, text: str, example: Example) -> str | None:
        """The unified diff in the response (see ``extract_diff``)."""
        return extract_diff(text)

    def same(self, a: str, b: str, example: Example) -> bool:
        """Whether two diffs make the same changes (same removed and added lines, ignoring headers, context
        and trailing blanks)."""
        return _changed_lines(a) == _changed_lines(b)

    async def score(self, text: str, example: Example) -> Score:
        """Apply the response's diff to the buggy repository and run FAIL_TO_PASS + PASS_TO_PASS."""
        diff = self.extract(text, example)
        if diff is None:
            return Score(correct=False, extracted=None, detail="no unified diff found in the response")
        instance = self.instances().get(example.id)
        if instance is None:
            raise CollabgraphError(
                f"task swe_mini has no instance {example.id!r}; expected an id like swe_mini/toolz/0"
            )
        tests = [*instance.fail_to_pass, *instance.pass_to_pass]
        tree = buggy_tree(instance, self.sources)
        try:
            results = await run_steps(self.sandbox, tree, [patch_step(diff), pytest_step(tests)], self.limits)
        except JobError as exc:
            return Score(correct=False, extracted=diff, detail=str(exc)[:_DETAIL_CHARS])
        if results[0].rc != 0:
            return Score(
                correct=False, extracted=diff, detail=f"patch does not apply: {results[0].out}"[:_DETAIL_CHARS]
            )
        run = results[1]
        if run.rc == 0:
            return Score(correct=True, extracted=diff, detail=f"applied with {results[0].out}; {len(tests)} tests pass")
        summary = parse_summary(run.out)
        if not summary.failed and not summary.errors:
            tail = run.out.strip().splitlines()[-3:]
            return Score(
                correct=False, extracted=diff, detail=f"pytest exit {run.rc}: {' / '.join(tail)}"[:_DETAIL_CHARS]
            )
        failed = [f"{t} ({m})" if m else t for t, m in summary.failed.items()] + [
            f"{t} (error)" for t in summary.errors
        ]
        broke = [t for t in summary.failed if t in instance.pass_to_pass]
        detail = f"{len(failed)} of {len(tests)} tests fail: " + "; ".join(failed)
        if broke:
            detail = f"regression: {len(broke)} PASS_TO_PASS tests now fail. " + detail
        return Score(correct=False, extracted=diff, detail=detail[:_DETAIL_CHARS])
