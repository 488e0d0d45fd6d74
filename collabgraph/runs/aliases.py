"""Which models a graph uses, and overriding its model aliases (``collabgraph run --set ALIAS=MODEL``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from collabgraph.errors import CollabgraphError, ConfigError, ErrorItem, closest
from collabgraph.graphs import GraphSpec, SpawnNode, SubgraphRef
from collabgraph.models.pool import ModelPool, ModelSpec

__all__ = ["model_names", "override_models", "parse_model_sets", "used_models"]


def parse_model_sets(values: list[str], source: str = "--set") -> dict[str, str]:
    """``["m=sim/llama-3.1-8b", …]`` as ``{"m": "sim/llama-3.1-8b"}``; a malformed item or an alias set twice to
    different models raises ``ConfigError`` naming it."""
    out: dict[str, str] = {}
    errors: list[ErrorItem] = []
    for value in values:
        alias, sep, model = value.partition("=")
        alias, model = alias.strip(), model.strip()
        if not sep or not alias or not model:
            errors.append(ErrorItem(f"{source} {value}", "expected ALIAS=MODEL", "e.g. --set m=sim/llama-3.1-8b"))
        elif out.get(alias, model) != model:
            errors.append(ErrorItem(f"{source} {value}", f"alias {alias!r} is already set to {out[alias]!r}"))
        else:
            out[alias] = model
    if errors:
        raise ConfigError(source, errors)
    return out


def _aliases(spec: GraphSpec) -> dict[str, str]:
    """Every alias a graph declares, its inline child graphs' included (the outermost declaration first)."""
    found = dict(spec.models)
    for node in spec.nodes:
        if isinstance(node, SpawnNode) and isinstance(node.child, SubgraphRef):
            for alias, name in _aliases(node.child.graph).items():
                found.setdefault(alias, name)
    return found


def _override(spec: GraphSpec, sets: Mapping[str, str]) -> GraphSpec:
    nodes = []
    for node in spec.nodes:
        if isinstance(node, SpawnNode) and isinstance(node.child, SubgraphRef):
            child = SubgraphRef(graph=_override(node.child.graph, sets))
            node = node.model_copy(update={"child": child})
        nodes.append(node)
    models = {alias: sets.get(alias, name) for alias, name in spec.models.items()}
    return spec.model_copy(update={"models": models, "nodes": nodes})


def override_models(spec: GraphSpec, sets: Mapping[str, str], pool: ModelPool, source: str = "--set") -> GraphSpec:
    """``spec`` with each alias in ``sets`` pointing at its new model (in inline child graphs too). An alias the
    graph does not declare is an error listing the graph's aliases; a model the pool does not know is an error
    naming the closest ones."""
    aliases = _aliases(spec)
    errors: list[ErrorItem] = []
    for alias, model in sets.items():
        if alias not in aliases:
            near = closest(alias, aliases, n=1)
            listed = ", ".join(sorted(aliases)) if aliases else "none (its nodes name pool models directly)"
            hint = (f"did you mean {near[0]!r}? " if near else "") + f"the graph's aliases: {listed}"
            errors.append(ErrorItem(f"{source} {alias}={model}", f"the graph has no model alias {alias!r}", hint))
            continue
        try:
            pool.resolve(model)
        except CollabgraphError:
            near = closest(model, pool.names())
            hint = f"did you mean {', '.join(near)}?" if near else "see `collabgraph models list`"
            errors.append(ErrorItem(f"{source} {alias}={model}", f"unknown model {model!r}", hint))
    if errors:
        raise ConfigError(source, errors)
    return _override(spec, sets)


def _names(spec: GraphSpec, inherited: Mapping[str, str]) -> Iterator[str]:
    aliases = {**inherited, **spec.models}
    for node in spec.nodes:
        name = node.model_name
        if name is not None:
            yield aliases.get(name, name)
        if isinstance(node, SpawnNode) and isinstance(node.child, SubgraphRef):
            yield from _names(node.child.graph, aliases)


def model_names(spec: GraphSpec) -> list[str]:
    """The pool model names the graph's nodes call (aliases resolved), sorted, each once."""
    return sorted(set(_names(spec, {})))


def used_models(spec: GraphSpec, pool: ModelPool) -> dict[str, ModelSpec]:
    """The pool entry of every model the graph calls, by name."""
    return {name: pool.resolve(name) for name in model_names(spec)}
