"""Customer service over the WebSocket API (API Gateway WebSocket, Lambda proxy): `$connect`, `$disconnect`
and `message` (routed on the frame's `action`). Glue only: `commerce_ai.support.websocket` does the work.

$connect is refused (401 without a key, 403 with a wrong one, 400 without a valid `user_id`) unless the
caller holds the shop's front-end (ingest) key or the admin key, as `POST /support/messages` is; the
customer is then fixed for the connection. The bot's answer to `message` goes back on the connection with
the management API's post-to-connection, as on AWS (locally: the runner's stand-in for that endpoint).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce_ai.errors import CommerceError
from commerce_ai.support import websocket
from commerce_ai.telemetry import instrumented, logger

OK = {"statusCode": 200}


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event["requestContext"]
    route, connection_id = request["routeKey"], request["connectionId"]
    now = datetime.now(UTC)
    if route == "$connect":
        try:
            websocket.connect(connection_id, event.get("headers"), event.get("queryStringParameters"), now)
        except CommerceError as error:  # the handshake is refused with this status
            logger.info("websocket connection refused", extra={"status": error.status_code})
            return {"statusCode": error.status_code, "body": str(error)}
        return OK
    if route == "$disconnect":
        websocket.disconnect(connection_id)
        return OK
    if route == "message":
        frame = websocket.message(connection_id, event.get("body"), bool(event.get("isBase64Encoded")), now)
        logger.info("websocket message", extra={"frame": frame["type"], "status": frame.get("status", 200)})
        return OK
    return {"statusCode": 400, "body": f"no route {route}"}
