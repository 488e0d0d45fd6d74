"""Every node kind that can run: the built-in ones (``KINDS``) and users' own (``kind: custom``).

Built-in kinds are typed async functions taking the node's context and explicit keyword arguments that
mirror the kind's config (``collabgraph.graphs.nodes``); ``KindImpl`` says which arguments are inputs (other
nodes' outputs) and whether the kind calls a model. ``get_kind(name)`` returns one.

Custom kinds are async functions ``run(ctx, inputs, config) -> NodeOutput`` (``inputs`` maps each read node
id to its outputs, latest last; ``config`` is the node's ``config``, validated by the kind's ``config_model``
when it has one). They come from three places:

- in-process registration: ``@register_kind("my_kind", config_model=MyConfig)`` (or
  ``register_kind("my_kind", run)``), used as ``impl: my_kind``;
- the ``collabgraph.kinds`` entry-point group of an installed package, used by its entry-point name;
- ``impl: "package.module:attr"``, honoured only when ``package.module`` is under an allowed prefix:
  ``collabgraph`` itself, those in ``$COLLABGRAPH_ALLOW_KINDS`` (comma-separated) and those added with
  ``allow_modules``. A graph file can name code to import; registering or installing a kind is already a
  decision to trust it, naming a module in a YAML file is not.

The object a reference names may be the function itself or an object with a ``run`` attribute; either may
carry ``config_model`` (a pydantic model class).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, ValidationError

from collabgraph.agents.critique import critique
from collabgraph.agents.fuse import fuse
from collabgraph.agents.generate import generate
from collabgraph.agents.join import join
from collabgraph.agents.localize import localize
from collabgraph.agents.patch import patch
from collabgraph.agents.refine import refine
from collabgraph.agents.select import select
from collabgraph.agents.spawn import spawn
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.agents.verify import verify
from collabgraph.agents.vote import vote
from collabgraph.errors import CollabgraphError, ModelCallError, UnknownNameError, closest
from collabgraph.models.types import Role

__all__ = [
    "ALLOW_ENV",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "CustomKind",
    "CustomKindError",
    "CustomRun",
    "KindImpl",
    "allow_modules",
    "allowed_module_prefixes",
    "custom_kind",
    "get_kind",
    "kind_config_model",
    "register_kind",
    "registered_kinds",
    "resolve_kind",
    "run_custom",
]

ALLOW_ENV = "COLLABGRAPH_ALLOW_KINDS"
ENTRY_POINT_GROUP = "collabgraph.kinds"

CustomRun = Callable[[NodeContext, dict[str, list[NodeOutput]], Any], Awaitable[NodeOutput]]
F = TypeVar("F")


@dataclass(frozen=True)
class KindImpl:
    """A built-in kind: ``run(ctx, **arguments)``. ``inputs`` names the arguments that take other nodes'
    outputs (one ``NodeOutput``, or a list for ``candidates`` / ``children``); ``calls_model`` is ``always``,
    ``optional`` (select by judge, planned spawn) or ``never``; ``role`` is the role of its calls."""

    name: str
    run: Callable[..., Awaitable[NodeOutput]]
    calls_model: Literal["always", "optional", "never"]
    role: Role | None
    inputs: tuple[str, ...]
    summary: str


KINDS: dict[str, KindImpl] = {
    k.name: k
    for k in (
        KindImpl("generate", generate, "always", "answer", (), "answer the task (chain or program of thought)"),
        KindImpl("critique", critique, "always", "critique", ("candidate",), "step-level feedback and a verdict"),
        KindImpl("refine", refine, "always", "refine", ("candidate", "feedback"), "revise a candidate given feedback"),
        KindImpl("fuse", fuse, "always", "fuse", ("candidates",), "read several candidates, write one answer"),
        KindImpl("select", select, "optional", "select", ("candidates", "verifier"), "pick one candidate"),
        KindImpl("vote", vote, "never", None, ("candidates",), "majority / weighted vote over answers"),
        KindImpl("verify", verify, "never", None, ("target",), "execute unit tests or programs in the sandbox"),
        KindImpl("spawn", spawn, "optional", "plan", (), "fan out replicas or LLM-planned subtasks"),
        KindImpl("join", join, "never", None, ("children",), "collect parallel branches with a strategy"),
        KindImpl("localize", localize, "always", "localize", (), "rank the files or functions that hold a bug"),
        KindImpl(
            "patch", patch, "always", "patch", ("localization", "feedback"), "write a unified diff that fixes a bug"
        ),
    )
}
"""The built-in kinds that run, by name."""


class CustomKindError(CollabgraphError):
    """A custom kind that cannot be used: unknown name, module not allow-listed, import failure, no ``run``,
    a config its model rejects."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message + (f" ({hint})" if hint else ""))


def get_kind(name: str) -> KindImpl:
    """The built-in kind ``name``; a clear error for ``custom`` and typos."""
    if name in KINDS:
        return KINDS[name]
    if name == "custom":
        raise CollabgraphError(
            "node kind 'custom' runs a user-defined kind: look it up by its impl with custom_kind(impl) and run it "
            "with run_custom(...)"
        )
    raise UnknownNameError("node kind", name, [*KINDS, "custom"])


# ---- custom kinds ----------------------------------------------------------------------------------------

_REGISTRY: dict[str, object] = {}
_ALLOWED: list[str] = []


@dataclass(frozen=True)
class CustomKind:
    """A resolved custom kind: the ``impl`` it was named by, its ``run`` and its ``config_model``."""

    impl: str
    run: CustomRun
    config_model: type[BaseModel] | None


@overload
def register_kind(name: str, impl: None = None, *, config_model: type[BaseModel] | None = None) -> Callable[[F], F]: ...


@overload
def register_kind(name: str, impl: F, *, config_model: type[BaseModel] | None = None) -> F: ...


def register_kind(name: str, impl: object | None = None, *, config_model: type[BaseModel] | None = None) -> object:
    """Make ``impl`` usable as ``kind: custom`` with ``impl: <name>`` in this process; used bare
    (``register_kind("x", run)``) or as a decorator (``@register_kind("x", config_model=XConfig)``).
    ``config_model`` is stored on ``impl`` as its ``config_model``. Registering a name again replaces it."""
    if not name or ":" in name or not (name[0].isalpha() and all(c.isalnum() or c in "_.-" for c in name)):
        raise CustomKindError(
            f"cannot register a custom kind as {name!r}",
            "a name starts with a letter and holds letters, digits, '_', '.' or '-' (':' is for module:attr)",
        )

    def add(obj: F) -> F:
        if config_model is not None:
            obj.config_model = config_model  # type: ignore[attr-defined]
        _REGISTRY[name] = obj
        return obj

    if impl is None:
        return add
    return add(impl)


def registered_kinds() -> list[str]:
    """Names usable as ``impl``: registered in-process and installed entry points."""
    return sorted({*_REGISTRY, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def allow_modules(*prefixes: str) -> None:
    """Allow ``module:attr`` kinds from modules under these prefixes (``mylab.kinds`` allows ``mylab.kinds.x``)."""
    _ALLOWED.extend(p for p in prefixes if p not in _ALLOWED)


def allowed_module_prefixes() -> list[str]:
    """Every allowed prefix: ``collabgraph``, then ``$COLLABGRAPH_ALLOW_KINDS``, then ``allow_modules``."""
    env = [p.strip() for p in os.environ.get(ALLOW_ENV, "").split(",") if p.strip()]
    return ["collabgraph", *env, *_ALLOWED]


def _allowed(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in allowed_module_prefixes())


def resolve_kind(impl: str) -> object:
    """The object a custom node's ``impl`` names; raises ``CustomKindError`` saying why it cannot be used."""
    if ":" not in impl:
        if impl in _REGISTRY:
            return _REGISTRY[impl]
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == impl:
                return ep.load()
        near = closest(impl, registered_kinds())
        hint = (
            f"did you mean {', '.join(repr(n) for n in near)}?"
            if near
            else "register it with collabgraph.graphs.register_kind, install it as a "
            f"{ENTRY_POINT_GROUP!r} entry point, or write 'package.module:attr'"
        )
        raise CustomKindError(f"no custom kind named {impl!r}", hint)
    module, attr = impl.split(":", 1)
    if not _allowed(module):
        raise CustomKindError(
            f"module {module!r} is not allow-listed for custom kinds",
            f"set {ALLOW_ENV}={module} or call collabgraph.graphs.allow_modules({module!r})",
        )
    try:
        obj: object = importlib.import_module(module)
    except ImportError as exc:
        raise CustomKindError(f"cannot import module {module!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            near = closest(part, [n for n in dir(obj) if not n.startswith("_")])
            raise CustomKindError(
                f"module {module!r} has no attribute {attr!r}", f"did you mean {near[0]!r}?" if near else None
            )
        obj = getattr(obj, part)
    return obj


def kind_config_model(kind: object) -> type[BaseModel] | None:
    """The pydantic model a kind's ``config`` must satisfy, when the kind declares one as ``config_model``."""
    model = getattr(kind, "config_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def custom_kind(impl: str) -> CustomKind:
    """Resolve ``impl`` to a runnable custom kind: the named function, or the named object's ``run``."""
    obj = resolve_kind(impl)
    run = obj if inspect.isfunction(obj) or inspect.ismethod(obj) else getattr(obj, "run", None)
    if not callable(run):
        raise CustomKindError(
            f"custom kind {impl!r} cannot run: it names {type(obj).__name__} {getattr(obj, '__name__', obj)!r}, "
            "which is neither a function nor an object with a 'run' method",
            "define 'async def run(ctx, inputs, config) -> NodeOutput'",
        )
    return CustomKind(impl=impl, run=run, config_model=kind_config_model(obj))


async def run_custom(
    ctx: NodeContext,
    *,
    impl: str,
    inputs: Mapping[str, Sequence[NodeOutput]],
    config: Mapping[str, Any] | None = None,
) -> NodeOutput:
    """Run the custom kind ``impl`` on ``inputs`` (read node id → its outputs, latest last) with ``config``.

    A config its model rejects raises ``CustomKindError``, as does any ``CollabgraphError`` the kind raises; a
    model that failed for good, any other exception from the kind's own code, or a result that is not a
    ``NodeOutput`` becomes this node's failure (``NodeOutput.error``)."""
    kind = custom_kind(impl)
    raw = dict(config or {})
    parsed: Any = raw
    if kind.config_model is not None:
        try:
            parsed = kind.config_model.model_validate(raw)
        except ValidationError as exc:
            raise CustomKindError(f"custom kind {impl!r}: invalid config for node {ctx.node_id!r}: {exc}") from None
    try:
        result: object = await kind.run(ctx, {k: list(v) for k, v in inputs.items()}, parsed)
    except ModelCallError as exc:
        return _failed(ctx, str(exc))
    except CollabgraphError:
        raise
    except Exception as exc:  # the kind's own bug fails this node on this example, not the run
        return _failed(ctx, f"custom kind {impl!r} raised {type(exc).__name__}: {exc}")
    if not isinstance(result, NodeOutput):
        return _failed(ctx, f"custom kind {impl!r} returned {type(result).__name__}, expected a NodeOutput")
    return result


def _failed(ctx: NodeContext, message: str) -> NodeOutput:
    return NodeOutput(node_id=ctx.node_id, kind="custom", round=ctx.round, error=message)
