"""Real JavaScript clients for transport tests: the scripts in examples/ (graphql-ws,
graphql-sse, Apollo's BatchHttpLink) run by Node against a real server. Each prints one JSON
object per line; the test reads them as they come and may write a line to stop the script."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NODE = shutil.which("node")
WAIT = 15.0  # seconds for any one line


def require_node() -> None:
    """Skip when Node or the examples' packages are absent (CI installs both first:
    `(cd examples && npm ci)`)."""
    if NODE is None:
        pytest.skip("the JavaScript client tests need `node` on PATH")
    if not (EXAMPLES / "node_modules").is_dir():
        pytest.skip("the examples' packages are not installed: (cd examples && npm ci)")


class Script:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []

    async def line(self, wait: float = WAIT) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), wait)
        if not raw:
            assert self.process.stderr is not None
            error = (await self.process.stderr.read()).decode(errors="replace")
            raise AssertionError(f"the script ended early: {error[-2000:]}")
        line: dict[str, Any] = json.loads(raw)
        self.lines.append(line)
        return line

    async def until(self, kind: str, wait: float = WAIT) -> dict[str, Any]:
        """Read lines until one of `kind`; it."""
        try:
            async with asyncio.timeout(wait):
                while (line := await self.line(wait)).get("kind") != kind:
                    pass
        except TimeoutError:
            raise AssertionError(f"no {kind!r} line in time; so far: {self.lines}") from None
        return line

    async def stop(self) -> int:
        """Ask the script to finish (a line on its stdin); its exit code."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        return await asyncio.wait_for(self.process.wait(), WAIT)


@contextlib.asynccontextmanager
async def node_script(name: str, *args: str) -> AsyncIterator[Script]:
    """Run examples/`name` with `args`; killed on exit if still running."""
    require_node()
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE, str(EXAMPLES / name), *args, cwd=EXAMPLES,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Script(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
