"""Customer service over the WebSocket API: $connect checks the caller and records who the customer is,
`message` runs the same bot turn as `POST /support/messages` and pushes the answer on the connection,
$disconnect forgets the connection.

Frames the client receives (JSON text): `{"type": "reply", ...the fields of POST /support/messages}`,
`{"type": "agent_reply", "conversation_id", "text"}` (pushed when an agent answers a hand-off ticket) and
`{"type": "error", "status", "message"}` (what the HTTP route would answer with that status).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from commerce_ai.errors import CommerceError, InvalidInput, NotFound
from commerce_ai.http import admin_key, check_key
from commerce_ai.stream.callers import ingest_key
from commerce_ai.support import service
from commerce_ai.support.contract import ChatFrame, ConnectQuery, MessageIn
from commerce_ai.support.conversation import Connection
from commerce_ai.support.store import ConnectionPusher, Connections

MAX_FRAME_BYTES = 8 * 1024  # a chat line is at most 1,000 characters; API Gateway's own frame limit is 32 KB


def problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors())


def connect(connection_id: str, headers: dict[str, str] | None, query: dict[str, str] | None, now: datetime) -> None:
    """Record the connection's customer after the caller check (front-end or admin key); raises the error
    the handshake is refused with (401, 403, 400)."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    supplied = lowered.get("x-api-key") or (query or {}).get("api_key")
    check_key(
        supplied,
        (ingest_key, admin_key),
        "send the front-end (ingest) key in the x-api-key header or the api_key query parameter",
        "API key is not valid",
    )
    try:
        asked = ConnectQuery.model_validate(query or {})
    except ValidationError as error:
        raise InvalidInput(problems(error)) from error
    Connections.from_settings().open(
        Connection(connection_id=connection_id, user_id=asked.user_id, channel=asked.channel, connected_at=now)
    )


def disconnect(connection_id: str) -> None:
    Connections.from_settings().close(connection_id)


def frame_text(body: str | None, base64_encoded: bool) -> str:
    if body is None:
        raise InvalidInput('empty frame: send {"action": "message", "text": ...}')
    raw = base64.b64decode(body) if base64_encoded else body.encode("utf-8")
    if len(raw) > MAX_FRAME_BYTES:
        raise InvalidInput(f"frame over {MAX_FRAME_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("send text frames of UTF-8 JSON") from error


def message(connection_id: str, body: str | None, base64_encoded: bool, now: datetime) -> dict[str, Any]:
    """One customer message on the connection: the frame pushed back (a reply or an error), also returned."""
    pusher = ConnectionPusher()
    try:
        connection = Connections.from_settings().get(connection_id, int(now.timestamp()))
        if connection is None:
            raise NotFound("unknown or expired connection: connect again")
        try:
            frame = ChatFrame.model_validate(json.loads(frame_text(body, base64_encoded)))
            incoming = MessageIn(
                conversation_id=frame.conversation_id,
                user_id=connection.user_id,
                text=frame.text,
                channel=connection.channel,
            )
        except json.JSONDecodeError as error:
            raise InvalidInput(f"the frame is not JSON: {error.msg}") from error
        except ValidationError as error:
            raise InvalidInput(problems(error)) from error
        answer = service.handle_message(incoming, now, connection_id=connection_id)
        out: dict[str, Any] = {"type": "reply", **answer.model_dump(mode="json")}
    except CommerceError as error:
        out = {"type": "error", "status": error.status_code, "message": str(error)}
    pusher.post(connection_id, out)
    return out
