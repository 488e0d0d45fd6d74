"""Repair instances: a real package with one injected bug, the issue a user would file, the gold patch, and the
tests that decide (FAIL_TO_PASS, and a bounded PASS_TO_PASS regression sample).

Building tries a seeded order of mutations per package and keeps those that the package's own suite catches
(1 to ``_MAX_FAILING`` failing tests, nothing else broken), one per function. Each kept instance is then
checked on its own tests: they fail on the buggy tree and pass once the gold patch is applied. The validated
list is cached as JSON beside the sdists under a key of everything it depends on, so only the first build
pays."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox import ExecLimits, Sandbox
from collabgraph.tasks.swe.jobs import parse_summary, patch_step, pytest_step, run_steps
from collabgraph.tasks.swe.mutate import Mutation, apply_mutation, find_mutations, unified_diff
from collabgraph.tasks.swe.sources import SOURCES, read_tree, sources_dir

__all__ = [
    "BUILD_VERSION",
    "SweInstance",
    "buggy_tree",
    "build_instances",
    "cache_path",
    "check_instance",
    "load_instances",
]

BUILD_VERSION = 2
"""Bump when mutation, selection or the issue text changes: it is part of the cache key."""

_MAX_FAILING = 25
_PASS_SAMPLE = 8
_MAX_TRIES = 80
_SAFE_ID = re.compile(r"[\x21-\x7e]+")
_LIMITS = ExecLimits(timeout_s=120.0, memory_mb=1024, pids=64)
_ISSUE_LINES = 30
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
"""Object addresses in pytest's assertion output differ from run to run; the issue text must not."""


class SweInstance(BaseModel):
    """One repair instance. ``mutation`` turns the package's tree into the buggy one; ``gold_patch`` reverses
    it (``git apply``-able against the buggy tree)."""

    model_config = ConfigDict(frozen=True)
    id: str
    package: str
    version: str
    mutation: Mutation
    issue: str
    gold_patch: str
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...]


def cache_path(seed: int, per_package: int, root: str | Path | None = None) -> Path:
    """The JSON file holding the validated instances built with ``seed`` and ``per_package``."""
    pins = json.dumps([[s.name, s.version, s.sha256, list(s.targets)] for s in SOURCES.values()])
    key = hashlib.sha256(f"{BUILD_VERSION}/{seed}/{per_package}/{pins}".encode()).hexdigest()[:12]
    return sources_dir(root) / f"instances-v{BUILD_VERSION}-seed{seed}-{per_package}-{key}.json"


def load_instances(seed: int, per_package: int, root: str | Path | None = None) -> list[SweInstance] | None:
    """The cached instances, or None when they have not been built."""
    path = cache_path(seed, per_package, root)
    if not path.exists():
        return None
    return [SweInstance(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def buggy_tree(instance: SweInstance, root: str | Path | None = None) -> dict[str, str]:
    """The package's repository tree with the instance's bug in it."""
    tree = read_tree(instance.package, root)
    path = instance.mutation.path
    tree[path] = apply_mutation(tree[path], instance.mutation)
    return tree


async def check_instance(instance: SweInstance, sandbox: Sandbox, root: str | Path | None = None) -> str | None:
    """None when the instance's tests fail on the buggy tree and all pass after the gold patch; else why not."""
    tests = [*instance.fail_to_pass, *instance.pass_to_pass]
    steps = [pytest_step(tests, tb="no"), patch_step(instance.gold_patch), pytest_step(tests, tb="short")]
    results = await run_steps(sandbox, buggy_tree(instance, root), steps, _LIMITS)
    if results[0].rc != 1:
        return f"{instance.id}: tests exit {results[0].rc} on the buggy tree, expected 1 (failures)"
    before = parse_summary(results[0].out)
    if set(before.failed) != set(instance.fail_to_pass):
        return f"{instance.id}: failing tests {sorted(before.failed)} differ from FAIL_TO_PASS"
    if len(results) < 3 or results[1].rc != 0:
        return f"{instance.id}: the gold patch does not apply: {results[1].out}"
    if results[2].rc != 0:
        return f"{instance.id}: tests exit {results[2].rc} after the gold patch: {results[2].out[-800:]}"
    return None


async def build_instances(
    sandbox: Sandbox,
    *,
    seed: int = 0,
    per_package: int = 10,
    root: str | Path | None = None,
    concurrency: int = 2,
) -> list[SweInstance]:
    """Build and check the instances (``per_package`` of each package), caching them; a cached list is
    returned as it is. Raises CollabgraphError when a package yields too few instances or one fails its check."""
    cached = load_instances(seed, per_package, root)
    if cached is not None:
        return cached
    gate = asyncio.Semaphore(concurrency)
    instances: list[SweInstance] = []
    for name in SOURCES:
        instances.extend(await _package_instances(name, sandbox, seed, per_package, root, gate))

    async def check(instance: SweInstance) -> str | None:
        async with gate:
            return await check_instance(instance, sandbox, root)

    problems = [p for p in await asyncio.gather(*(check(i) for i in instances)) if p is not None]
    if problems:
        raise CollabgraphError("swe_mini: instances failed their check:\n" + "\n".join(problems))
    _write_cache(cache_path(seed, per_package, root), instances)
    return instances


def _write_cache(path: Path, instances: list[SweInstance]) -> None:
    """A private temporary file, then an atomic rename: parallel builders (xdist workers) never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as tmp:
        tmp.write(json.dumps([i.model_dump(mode="json") for i in instances], indent=1))
    Path(tmp.name).replace(path)


async def _package_instances(
    name: str, sandbox: Sandbox, seed: int, per_package: int, root: str | Path | None, gate: asyncio.Semaphore
) -> list[SweInstance]:
    source = SOURCES[name]
    tree = read_tree(name, root)
    candidates = [m for target in source.targets for m in find_mutations(target, tree[target])]
    rng = random.Random(f"swe_mini/{seed}/{name}")
    rng.shuffle(candidates)
    # Spread over functions: first one mutation per function, then one per line, in the seeded order.
    functions: set[tuple[str, str]] = set()
    lines: set[tuple[str, int]] = set()
    order: list[Mutation] = []
    for pass_by_function in (True, False):
        for m in candidates:
            if (m.path, m.line) in lines or (pass_by_function and (m.path, m.function) in functions):
                continue
            functions.add((m.path, m.function))
            lines.add((m.path, m.line))
            order.append(m)
    kept: list[SweInstance] = []
    tries = 0
    while len(kept) < per_package and tries < min(_MAX_TRIES, len(order)):
        batch = order[tries : tries + 2]
        tries += len(batch)

        async def attempt(mutation: Mutation) -> SweInstance | None:
            async with gate:
                return await _attempt(name, tree, mutation, sandbox, seed)

        for instance in await asyncio.gather(*(attempt(m) for m in batch)):
            if instance is not None and len(kept) < per_package:
                kept.append(instance.model_copy(update={"id": f"swe_mini/{name}/{len(kept)}"}))
    if len(kept) < per_package:
        raise CollabgraphError(f"swe_mini: only {len(kept)} of {per_package} instances found in {name}")
    return kept


async def _attempt(
    name: str, tree: dict[str, str], mutation: Mutation, sandbox: Sandbox, seed: int
) -> SweInstance | None:
    source = SOURCES[name]
    original = tree[mutation.path]
    buggy = apply_mutation(original, mutation)
    results = await run_steps(sandbox, {**tree, mutation.path: buggy}, [pytest_step(source.tests)], _LIMITS)
    run = parse_summary(results[0].out)
    failing = [t for t in run.failed if _SAFE_ID.fullmatch(t)]
    if (
        results[0].rc != 1
        or run.errors
        or not failing
        or len(run.failed) > _MAX_FAILING
        or len(failing) != len(run.failed)
    ):
        return None
    files = {t.split("::")[0] for t in failing}
    passing = sorted(
        (t for t in run.passed if _SAFE_ID.fullmatch(t)),
        key=lambda t: (t.split("::")[0] not in files, hashlib.sha256(f"{seed}/{t}".encode()).hexdigest()),
    )
    return SweInstance(
        id="",
        package=name,
        version=source.version,
        mutation=mutation,
        issue=_issue(name, source.version, failing, run.failed, results[0].out),
        gold_patch=unified_diff(mutation.path, buggy, original),
        fail_to_pass=tuple(sorted(failing)),
        pass_to_pass=tuple(sorted(passing[:_PASS_SAMPLE])),
    )


def _issue(name: str, version: str, failing: list[str], messages: dict[str, str], output: str) -> str:
    """What a user would report: which of the package's tests fail, with their messages and one traceback."""
    shown = sorted(failing)[:10]
    lines = [
        f"{len(failing)} test{'s' if len(failing) != 1 else ''} of {name} {version}'s own suite fail "
        f"(`python -m pytest {' '.join(shown[:3])}`):",
        "",
        *(f"- {t}: {messages[t][:200] or 'failed'}" for t in shown),
        *([f"- … and {len(failing) - len(shown)} more"] if len(failing) > len(shown) else []),
    ]
    section = output.split(" FAILURES ", 1)[-1].split("short test summary info", 1)[0]
    blocks = re.split(r"\n_{3,} .* _{3,}\n", section)
    if len(blocks) > 1:
        trace = [line for line in blocks[1].splitlines() if line.strip()][:_ISSUE_LINES]
        lines += ["", "Output of the first failure:", "```", *trace, "```"]
    return _ADDRESS.sub(" at 0x…", "\n".join(lines))
