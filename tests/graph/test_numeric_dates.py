"""A token's `exp`, `iat` and `nbf` are JSON numbers (RFC 7519's NumericDate), or the token
is refused: HTTP 401 with the claim named, and close 4403 at the WebSocket's
`connection_init`.

PyJWT converts them with int(), so `"exp": "4102444800"` passed, and the viewer it made had
no expiry: a WebSocket opened with it was never closed for it.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from tests.graph.test_auth import ask, claims, hs256, refusal, viewer_of
from tests.servers import PROTOCOL, running_server

LATER = int(time.time()) + 3600
EARLIER = int(time.time()) - 60
# Each claim with a value that is no JSON number; each string converts with int().
NOT_NUMBERS = [
    pytest.param("exp", str(LATER), id="exp-digits"),
    pytest.param("exp", f" {LATER} ", id="exp-spaced-digits"),
    pytest.param("exp", True, id="exp-true"),
    pytest.param("exp", [LATER], id="exp-list"),
    pytest.param("iat", str(EARLIER), id="iat-digits"),
    pytest.param("iat", False, id="iat-false"),
    pytest.param("nbf", str(EARLIER), id="nbf-digits"),
    pytest.param("nbf", {"at": EARLIER}, id="nbf-object"),
]


def token_with(claim: str, value: Any) -> str:
    return hs256({**claims("wendy"), claim: value})


@pytest.mark.parametrize(("claim", "value"), NOT_NUMBERS)
async def test_a_date_claim_that_is_not_a_number_is_refused_with_401(
    client: httpx.AsyncClient, claim: str, value: Any
) -> None:
    message = refusal(await ask(client, token_with(claim, value)))
    assert message == (
        f"authentication failed: token claim '{claim}' must be a number of seconds since 1970"
        " (a numericdate)."
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
async def test_a_date_claim_of_nan_or_infinity_is_refused_with_401(
    client: httpx.AsyncClient, value: float
) -> None:
    # PyJWT writes them as NaN and Infinity, words Python's JSON parser reads back as floats.
    message = refusal(await ask(client, token_with("nbf", value)))
    assert "token claim 'nbf' must be a number" in message


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        pytest.param("exp", LATER + 0.5, id="exp-fraction"),
        pytest.param("iat", EARLIER + 0.25, id="iat-fraction"),
        pytest.param("nbf", EARLIER, id="nbf-integer"),
        pytest.param("exp", 10**400, id="exp-past-any-float"),
    ],
)
async def test_date_claims_that_are_numbers_are_accepted(
    client: httpx.AsyncClient, claim: str, value: int | float
) -> None:
    # A NumericDate may have a fraction (RFC 7519, 2); 10**400 is clamped for the viewer.
    viewer = viewer_of(await ask(client, token_with(claim, value)))
    assert viewer["id"] == "wendy"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("numeric-dates")) as base:
        yield base


async def closed_at_init(base: str, token: str) -> tuple[int, str] | str:
    """The close code and reason `connection_init` with `token` gets, or the message type
    answered instead."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        try:
            answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None, "dropped without a close frame"
            return closed.rcvd.code, closed.rcvd.reason
    return str(answer["type"])


@pytest.mark.slow
@pytest.mark.parametrize(("claim", "value"), NOT_NUMBERS[::2])
async def test_a_date_claim_that_is_not_a_number_closes_the_websocket_with_4403(
    server: str, claim: str, value: Any
) -> None:
    assert await closed_at_init(server, token_with(claim, value)) == (4403, "Forbidden")


@pytest.mark.slow
async def test_a_token_with_numeric_dates_is_acknowledged_on_the_websocket(server: str) -> None:
    # The same server and secret acknowledge a good token: the refusals above are the claims'.
    assert await closed_at_init(server, hs256(claims("wendy"))) == "connection_ack"
