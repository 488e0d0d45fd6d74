"""swe_mini's machinery: pinned package sources, bug injection by AST mutation, sandbox jobs on a repository
tree, and the validated repair instances built from them (the task itself is ``collabgraph.tasks.swe_mini``)."""

from __future__ import annotations

from collabgraph.tasks.swe.instances import (
    BUILD_VERSION,
    SweInstance,
    buggy_tree,
    build_instances,
    cache_path,
    check_instance,
    load_instances,
)
from collabgraph.tasks.swe.jobs import (
    JobError,
    PytestRun,
    StepResult,
    parse_summary,
    patch_step,
    pytest_step,
    run_steps,
)
from collabgraph.tasks.swe.mutate import Mutation, apply_mutation, find_mutations, unified_diff
from collabgraph.tasks.swe.sources import (
    FETCH_COMMAND,
    SOURCES,
    SOURCES_ENV,
    PackageSource,
    SourcesMissingError,
    archive_path,
    fetch_sources,
    read_tree,
    sources_dir,
)

__all__ = [
    "BUILD_VERSION",
    "FETCH_COMMAND",
    "SOURCES",
    "SOURCES_ENV",
    "JobError",
    "Mutation",
    "PackageSource",
    "PytestRun",
    "SourcesMissingError",
    "StepResult",
    "SweInstance",
    "apply_mutation",
    "archive_path",
    "buggy_tree",
    "build_instances",
    "cache_path",
    "check_instance",
    "fetch_sources",
    "find_mutations",
    "load_instances",
    "parse_summary",
    "patch_step",
    "pytest_step",
    "read_tree",
    "run_steps",
    "sources_dir",
    "unified_diff",
]
