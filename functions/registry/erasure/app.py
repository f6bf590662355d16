"""Shop-wide user erasure (API Gateway -> Chalice, admin): `DELETE /users/{user_id}`.

Runs `commerce_ai.erasure.erase`: records the erasure (consumers and training skip the user's events from
then on), then every capability's part (`commerce_ai/<capability>/erasure.py`). A platform function (served whatever
`up --only` names), kept apart from every capability's API so that a capability adding its part grants this
function, and no API of another capability, its tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai import erasure
from commerce_ai.erasure.contract import Erased, UserPath
from commerce_ai.http import json_api

app = json_api("registry-erasure")


@app.route("/users/{user_id}", methods=["DELETE"], path_params=UserPath, response=Erased, admin=True)
def delete_user(user_id: str) -> Erased:
    """Erase everything the shop keeps about a user (admin); safe to repeat."""
    now = datetime.now(UTC)
    return Erased(user_id=user_id, erased_at=now, removed=erasure.erase(user_id, now))
