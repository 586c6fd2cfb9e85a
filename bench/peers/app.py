"""What the two peer servers share: a FastAPI app over our models and our engine (the same
pool and SQLite pragmas as the server and the ceiling), a session per request, the viewer's
user id, and the statement count in `x-sql-statements` (as bench/baselines.py reports it).

These modules run in `.venv-peers` (bench/peers.lock), never in the server's venv. Like the
baselines, they do not authenticate: the viewer is the `x-user` header, which flatters them a
little against our server, which verifies a JWT per request.
"""

# No `from __future__ import annotations`: strawberry and both mappers read real annotations.

import argparse
from collections.abc import AsyncIterator, Callable

import strawberry
import uvicorn
from fastapi import Depends, FastAPI, Header
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext, GraphQLRouter

from bench.counting import count_statements
from models.database import EngineOptions, create_engine

Factory = async_sessionmaker[AsyncSession]
MakeContext = Callable[[AsyncSession, Factory, str], BaseContext]


def build(database_url: str, schema: strawberry.Schema, make_context: MakeContext) -> FastAPI:
    factory = async_sessionmaker(create_engine(EngineOptions(url=database_url)),
                                 expire_on_commit=False)

    async def session() -> AsyncIterator[AsyncSession]:
        async with factory() as opened:
            yield opened

    # scope="function": the session closes before the response is sent, inside the timing.
    async def context(
        opened: AsyncSession = Depends(session, scope="function"),
        user: str = Header(alias="x-user"),
    ) -> BaseContext:
        return make_context(opened, factory, user)

    app = FastAPI()
    app.include_router(
        GraphQLRouter(schema, context_getter=context, graphql_ide=None), prefix="/graphql"
    )

    count_statements(app)

    return app


def main(schema: strawberry.Schema, make_context: MakeContext) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build(args.database_url, schema, make_context)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
