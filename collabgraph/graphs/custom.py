"""User-defined node kinds, as the graph layer sees them: one registry, kept in ``collabgraph.agents.registry``.

A YAML file can name code to import, so ``impl: "pkg.mod:Kind"`` is honoured only when ``pkg.mod`` is under an
allowed module prefix: ``collabgraph`` itself, the prefixes in ``$COLLABGRAPH_ALLOW_KINDS`` (comma-separated,
e.g. ``COLLABGRAPH_ALLOW_KINDS=mylab.kinds,recipes``), and those added with ``allow_modules``. Kinds registered
with ``register_kind`` or installed as entry points are referenced by name and need no allow-listing.
Validation and the runtime resolve kinds through the same registry, so a kind that validates also runs.
"""

from collabgraph.agents.registry import (
    ALLOW_ENV,
    ENTRY_POINT_GROUP,
    CustomKindError,
    allow_modules,
    allowed_module_prefixes,
    kind_config_model,
    register_kind,
    registered_kinds,
    resolve_kind,
)

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
