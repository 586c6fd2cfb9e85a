"""Drive a server with `wrk` (Debian's package), a C load generator, from its own core.

The Python client the older benchmarks use saturates near 480 requests/s on one core, so it
cannot see a server faster than that; wrk drives a static response at tens of thousands.
Each request is a POST of one of a few bodies, each with its own bearer token (one user per
token), chosen round-robin by a Lua script. wrk's own figures are read from its output:
requests/s, the latency percentiles (`--latency`), non-2xx answers and socket errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

LUA = """
local bodies = {%(bodies)s}
local tokens = {%(tokens)s}
local n = 0
request = function()
  n = n + 1
  local i = n %% #bodies + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[i]}, bodies[i])
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Figures:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int  # non-2xx answers and socket errors (connect, read, write, timeout)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def merged(cls, parts: list[Figures]) -> Figures:
        """Slices taken in turns: requests over time summed; the percentiles are the slices'
        worst, since wrk gives percentiles and not the samples (an upper bound, said so)."""
        return cls(parts[0].name, sum(p.requests for p in parts), sum(p.seconds for p in parts),
                   max(p.p50_ms for p in parts), max(p.p99_ms for p in parts),
                   sum(p.failures for p in parts))


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(value: str) -> str:
    return orjson.dumps(value).decode()  # a JSON string is a valid Lua string literal here


def script(path: str, bodies: list[bytes], tokens: list[str]) -> str:
    return LUA % {
        "path": path,
        "bodies": ", ".join(_lua_string(body.decode()) for body in bodies),
        "tokens": ", ".join(_lua_string(token) for token in tokens),
    }


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"wrk printed a latency it cannot read: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse(name: str, output: str) -> Figures:
    requests = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if requests is None:
        raise RuntimeError(f"wrk printed no request count:\n{output}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[requests.group(3)]
    percent = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if len(percent) != 2:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Figures(
        name, int(requests.group(1)), float(requests.group(2)) * scale,
        _milliseconds(percent["50"]), _milliseconds(percent["99"]),
        errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def drive(name: str, url: str, bodies: list[bytes], tokens: list[str], *, seconds: float,
          connections: int, core: int | None) -> Figures:
    """One wrk run, one thread, pinned to `core` when given."""
    base, _, path = url.partition("://")[2].partition("/")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script("/" + path, bodies, tokens))
    pin = ["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []
    command = [*pin, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--latency", "-s", file.name, f"http://{base}/"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    finally:
        Path(file.name).unlink()
    return parse(name, done.stdout)
