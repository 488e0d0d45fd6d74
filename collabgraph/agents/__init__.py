"""What a node does at run time: one module per node kind, its prompt templates in ``agents/prompts``.

Each built-in kind is a typed async function ``kind(ctx, **arguments) -> NodeOutput`` (``KINDS`` lists them,
``get_kind`` looks one up); users add their own with ``register_kind``, a ``collabgraph.kinds`` entry point or
an allow-listed ``module:attr`` (see ``registry``). A kind never raises for what a model did: a model that
failed for good, or an output still malformed after one retry, becomes the node's ``NodeOutput.error``.
Misconfiguration (a template field that does not exist, ``pot`` on a code task) raises ``CollabgraphError``.
"""

from collabgraph.agents.critique import critique
from collabgraph.agents.fuse import fuse
from collabgraph.agents.generate import GenerateMode, generate, generate_messages, solve_subtask
from collabgraph.agents.join import JOIN_STRATEGIES, join
from collabgraph.agents.localize import Granularity, localize, parse_locations
from collabgraph.agents.meta import offline_meta, pot_meta, reference_program
from collabgraph.agents.parsing import parse_plan, parse_selection, parse_verdict, printed_answer
from collabgraph.agents.patch import patch
from collabgraph.agents.programs import POT_TIMEOUT_S, ProgramRun, run_programs
from collabgraph.agents.refine import refine
from collabgraph.agents.registry import (
    ALLOW_ENV,
    ENTRY_POINT_GROUP,
    KINDS,
    CustomKind,
    CustomKindError,
    CustomRun,
    KindImpl,
    allow_modules,
    allowed_module_prefixes,
    custom_kind,
    get_kind,
    kind_config_model,
    register_kind,
    registered_kinds,
    resolve_kind,
    run_custom,
)
from collabgraph.agents.run import RETRY_TEMPERATURE, Malformed, NodeRun
from collabgraph.agents.samples import Sample, numbered, offline_candidates, primary, samples_of
from collabgraph.agents.select import select
from collabgraph.agents.spawn import MAX_PLANNED_SUBTASKS, plan, spawn
from collabgraph.agents.templates import (
    FORMAT_INSTRUCTIONS,
    TEMPLATE_FIELDS,
    PromptTemplateError,
    check_template,
    default_template,
)
from collabgraph.agents.types import CallFn, NodeContext, NodeOutput, TraceEntry, Verdict
from collabgraph.agents.verify import VERIFY_CHECKS, verify
from collabgraph.agents.vote import vote
from collabgraph.agents.voting import Same, Tally, VoteClass, answer_classes, plurality, tally

__all__ = [
    "ALLOW_ENV",
    "ENTRY_POINT_GROUP",
    "FORMAT_INSTRUCTIONS",
    "JOIN_STRATEGIES",
    "KINDS",
    "MAX_PLANNED_SUBTASKS",
    "POT_TIMEOUT_S",
    "RETRY_TEMPERATURE",
    "TEMPLATE_FIELDS",
    "VERIFY_CHECKS",
    "CallFn",
    "CustomKind",
    "CustomKindError",
    "CustomRun",
    "GenerateMode",
    "Granularity",
    "KindImpl",
    "Malformed",
    "NodeContext",
    "NodeOutput",
    "NodeRun",
    "ProgramRun",
    "PromptTemplateError",
    "Same",
    "Sample",
    "Tally",
    "TraceEntry",
    "Verdict",
    "VoteClass",
    "allow_modules",
    "allowed_module_prefixes",
    "answer_classes",
    "check_template",
    "critique",
    "custom_kind",
    "default_template",
    "fuse",
    "generate",
    "generate_messages",
    "get_kind",
    "join",
    "kind_config_model",
    "localize",
    "numbered",
    "offline_candidates",
    "offline_meta",
    "parse_locations",
    "parse_plan",
    "parse_selection",
    "parse_verdict",
    "patch",
    "plan",
    "plurality",
    "pot_meta",
    "primary",
    "printed_answer",
    "reference_program",
    "refine",
    "register_kind",
    "registered_kinds",
    "resolve_kind",
    "run_custom",
    "run_programs",
    "samples_of",
    "select",
    "solve_subtask",
    "spawn",
    "tally",
    "verify",
    "vote",
]
