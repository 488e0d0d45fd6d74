"""Helpers for the tests against the real Docker daemon."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import Any

from collabgraph.sandbox import DockerSandbox
from collabgraph.sandbox.containers import GROUP_LABEL, LABEL, connect, labelled_containers

SLACK_S = 3.0
"""Allowance over a timeout for a loaded machine; the sandbox itself kills within milliseconds."""


def client() -> Any:
    return connect()


def containers_of(sandbox: DockerSandbox) -> list[str]:
    """Ids of every container (any state) labelled with the sandbox's group."""
    return labelled_containers(client(), group=sandbox.group)


def exists(cid: str) -> bool:
    from docker.errors import NotFound

    try:
        client().api.inspect_container(cid)
    except NotFound:
        return False
    return True


def processes_of(cid: str) -> str:
    """The command lines running in a container ('' while it is being created, is stopped or is gone)."""
    from docker.errors import APIError

    try:
        processes = client().api.top(cid)["Processes"] or []
    except APIError:
        return ""
    return "\n".join(" ".join(p) for p in processes)


def host_has(path: str) -> bool:
    """Whether ``path`` exists on the host (a job's write must never land there)."""
    return Path(path).exists()


def host_processes_in(container_prefix: str) -> list[int]:
    """Host pids whose cgroup names the container (what would still run on the host after it is gone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            continue
        if container_prefix in cgroups:
            found.append(int(entry.name))
    return found


def host_processes_with(token: str) -> list[int]:
    """Host pids whose command line contains ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry.name))
    return found


def close_and_check(sandbox: DockerSandbox) -> None:
    """Close a sandbox from synchronous code and assert that not one of its containers is left."""
    asyncio.run(sandbox.aclose())
    assert containers_of(sandbox) == []


async def settled_to_pool(sandbox: DockerSandbox) -> None:
    """Wait for the background work, then check that only the idle pool is left."""
    await sandbox.settle()
    left = containers_of(sandbox)
    assert len(left) == sandbox.pool_size, f"expected only the {sandbox.pool_size} idle container(s), found {left}"


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge: its gateway, which Docker gives the first address of the
    subnet when it does not name one. It is an address of this machine (binding a listener to it proves that)."""
    config = client().api.inspect_network("bridge")["IPAM"]["Config"][0]
    return str(config.get("Gateway") or ipaddress.ip_network(config["Subnet"])[1])


def labels_for(sandbox: DockerSandbox) -> dict[str, str]:
    return {LABEL: "1", GROUP_LABEL: sandbox.group}
