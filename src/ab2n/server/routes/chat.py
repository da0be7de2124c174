"""POST /run_sse: one user message -> one event stream.

The work runs in a thread decoupled from the response: the stream only relays its events, so a
client that disconnects mid-stream loses nothing (the edit completes and is saved).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ab2n.errors import Ab2nError, InvalidArgument
from ab2n.server.bodies import ChatBody
from ab2n.server.chat import handle
from ab2n.server.deps import base_url, current_client, owned_session, read_body, state
from ab2n.server.errors import public_message
from ab2n.server.openapi import body_doc, errors
from ab2n.server.sse import END, HEARTBEAT, frame, part_event

router = APIRouter()
log = logging.getLogger("ab2n.server")


@router.post(
    "/run_sse",
    openapi_extra=body_doc(ChatBody),
    responses={
        **errors(400, 401, 404, 429),
        200: {"content": {"text/event-stream": {}}, "description": "the answer as server-sent events"},
    },
)
async def run_sse(request: Request) -> StreamingResponse:
    """Stream the answer to one message (text, tool calls/results, heartbeats, end)."""
    client = current_client(request)
    st = state(request)
    body = await read_body(request, ChatBody)
    text = body.text()
    if not text:
        raise InvalidArgument('new_message needs text: {"role":"user","parts":[{"text":"..."}]}')
    sid = body.session_id
    with st.maker() as db:
        owned_session(db, sid, client.id)
    st.limiter.check(client.id, "chat", st.settings.rate_chat_per_min)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    invocation = uuid.uuid4().hex[:12]
    base = base_url(st.settings)

    def emit(part: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, part)

    def work() -> None:
        try:
            handle(
                st.maker,
                st.settings,
                owner_id=client.id,
                session_id=sid,
                text=text,
                emit=emit,
                base_url=base,
                queue=st.queue,
            )
        except Ab2nError as exc:
            emit({"error": {"code": exc.code, "message": public_message(exc.message)}})
        except Exception:
            log.exception("chat turn failed")
            emit({"error": {"code": 500, "message": "internal error"}})
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=work, daemon=True, name=f"chat-{invocation}").start()

    async def events() -> AsyncIterator[str]:
        deadline = loop.time() + st.settings.sse_max_s
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=st.settings.sse_heartbeat_s)
            except TimeoutError:
                if loop.time() > deadline:
                    yield frame({"error": {"code": 500, "message": "the 15-minute limit was reached"}}, event="error")
                    break
                yield HEARTBEAT
                continue
            if item is None:
                break
            if "error" in item:
                yield frame(item, event="error")
                yield part_event(
                    {"text": f"Sorry: {item['error']['message']} (code {item['error']['code']})."},
                    invocation_id=invocation,
                )
            else:
                yield part_event(item, invocation_id=invocation)
        yield END

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
