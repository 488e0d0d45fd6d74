"""User-defined node kinds: an in-process registry, the ``collabgraph.kinds`` entry-point group, and an
allow-list for ``module:attr`` references.

A YAML file can name code to import, so ``impl: "pkg.mod:Kind"`` is honoured only when ``pkg.mod`` is under an
allowed module prefix: ``collabgraph`` itself, the prefixes in ``$COLLABGRAPH_ALLOW_KINDS`` (comma-separated,
e.g. ``COLLABGRAPH_ALLOW_KINDS=mylab.kinds,recipes``), and those added with ``allow_modules``. Kinds registered
with ``register_kind`` or installed as entry points are referenced by name and need no allow-listing: installing
a package or calling ``register_kind`` is already a decision to trust that code.

A kind object may carry ``config_model``, a pydantic model class; a custom node's ``config`` is then validated
against it (errors at ``nodes[i].config.<field>``).
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

from pydantic import BaseModel

from collabgraph.errors import CollabgraphError, closest

__all__ = [
    "ALLOW_ENV",
    "ENTRY_POINT_GROUP",
    "CustomKindError",
    "allow_modules",
    "allowed_module_prefixes",
    "kind_config_model",
    "register_kind",
    "registered_kinds",
    "resolve_kind",
]

ALLOW_ENV = "COLLABGRAPH_ALLOW_KINDS"
ENTRY_POINT_GROUP = "collabgraph.kinds"

_REGISTRY: dict[str, object] = {}
_ALLOWED: list[str] = []


class CustomKindError(CollabgraphError):
    """A custom kind that cannot be used: unknown name, module not allow-listed, import failure."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message + (f" ({hint})" if hint else ""))


def register_kind(name: str, impl: object) -> None:
    """Make ``impl`` available as ``kind: custom`` with ``impl: <name>`` in this process."""
    _REGISTRY[name] = impl


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
        known = registered_kinds()
        near = closest(impl, known)
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
