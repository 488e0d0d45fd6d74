"""An OpenAI-shaped chat server on 127.0.0.1 that answers on a script, for gateway tests over a real socket.

Each model name has a queue of actions consumed one per request; when a model's queue is empty it answers
``ok``. Actions: ``ok``; an HTTP status such as ``"429"``, ``"500"``, ``"400"``; ``"429:retry-after=1"``
(a 429 with that header); ``"401:echo-auth"`` (a 401 whose message repeats the Authorization header); ``"hang"`` (sleep until the client gives up); ``"slow:0.05"`` (answer after a
delay). A model whose name starts with ``always-`` fails every request with the status that follows
(``always-500``). The server records every request and the most requests it ever had in flight at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Seen:
    """One request as the server received it."""

    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class ScriptedServer:
    """The script, what was received, and the concurrency observed."""

    script: dict[str, deque[str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""

    def plan(self, model: str, *actions: str) -> None:
        """Queue ``actions`` for ``model``'s next requests."""
        self.script.setdefault(model, deque()).extend(actions)

    def requests_for(self, model: str) -> list[Seen]:
        return [s for s in self.seen if s.model == model]

    def _next(self, model: str) -> str:
        if model.startswith("always-"):
            return model.removeprefix("always-")
        queue = self.script.get(model)
        return queue.popleft() if queue else "ok"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = str(body["model"])
        self.seen.append(Seen(model, body, dict(request.headers), time.monotonic()))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(model, body, self._next(model), request.headers.get("Authorization", ""))
        finally:
            self.in_flight -= 1

    async def _answer(self, model: str, body: dict[str, Any], action: str, authorization: str) -> web.StreamResponse:
        if action == "hang":
            await asyncio.sleep(3600)
        if action.startswith("slow:"):
            await asyncio.sleep(float(action.split(":", 1)[1]))
            action = "ok"
        if action != "ok":
            status, _, option = action.partition(":")
            headers, message = {}, f"scripted {status}"
            if option.startswith("retry-after="):
                headers["Retry-After"] = option.split("=", 1)[1]
            if option == "echo-auth":  # a careless server repeating the credentials it was sent
                message += f" for {authorization}"
            error = {"message": message, "type": "scripted", "param": None, "code": status}
            return web.json_response({"error": error}, status=int(status), headers=headers)
        n = int(body.get("n") or 1)
        seed = body.get("seed")
        texts = [f"{model} answer {i} seed {seed} " + "word " * (i + 1) for i in range(n)]
        completion = sum(len(t.split()) for t in texts)
        return web.json_response(
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                    for i, t in enumerate(texts)
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": completion, "total_tokens": 10 + completion},
            }
        )


@asynccontextmanager
async def scripted_server() -> AsyncIterator[ScriptedServer]:
    """Start a ScriptedServer on a free port of 127.0.0.1; ``server.url`` is its ``…/v1`` base URL."""
    server = ScriptedServer()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()
