"""Shop-wide user erasure (API Gateway -> Chalice, admin): `DELETE /users/{user_id}`.

Runs `commerce_ai.erasure.erase`: records the erasure (consumers and training skip the user's events from
then on), then every capability's part (`commerce_ai/<capability>/erasure.py`). Kept apart from the
propensity API so that capabilities adding their part grant this function, not propensity's, their
tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai import erasure
from commerce_ai.http import json_api
from commerce_ai.propensity.contract import Erased, UserPath

app = json_api("propensity-erasure")


@app.route("/users/{user_id}", methods=["DELETE"], path_params=UserPath, response=Erased, admin=True)
def delete_user(user_id: str) -> Erased:
    """Erase everything the shop keeps about a user (admin); safe to repeat."""
    now = datetime.now(UTC)
    return Erased(user_id=user_id, erased_at=now, removed=erasure.erase(user_id, now))
