"""A newcomer's first hour: the banner's commands run as printed, `token` and the server
agree on the development secret wherever each is run from, and a refused token says why on
the server's terminal (never the token itself).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from graph.terminal import own_command
from tests.conftest import TEST_SECRET
from tests.servers import _wait_ready, free_port

# What a shell without the virtual environment activated finds: no clarity-graph there.
CLEAN_PATH = "/usr/bin:/bin"
SCRIPT = Path(sys.executable).parent / "clarity-graph"  # `pip install -e .` puts it there
VIEWER = {"query": "{ viewer { id } }"}


def clean_env(config: Path, **extra: str) -> dict[str, str]:
    """A newcomer's shell: no JWT_SECRET, no DATABASE_URL, the venv not on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_URL",
           "ASYNC_DATABASE_URI", "TEST_", "ENVIRONMENT", "LOG_", "WORKERS"))}
    env.update(PATH=CLEAN_PATH, XDG_CONFIG_HOME=str(config), **extra)
    return env


@contextlib.contextmanager
def serve_by_path(workdir: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """`.venv/bin/clarity-graph serve`, run by its path from `workdir` with human log lines;
    the base URL and the log file."""
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(SCRIPT), "serve", "--port", str(port)], cwd=workdir,
            env={**env, "LOG_FORMAT": "text", "WORKERS": "1"},
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, process, log_path)
            yield base, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def printed_token_command(log: Path) -> str:
    """The banner's token line: `  token       <command>  (in the playground's ...)`."""
    for _ in range(50):
        for line in log.read_text().splitlines():
            if line.startswith("  token "):
                return line.removeprefix("  token ").strip().split("  (")[0]
        time.sleep(0.1)
    raise AssertionError(f"no token line in the banner:\n{log.read_text()}")


@pytest.mark.slow
def test_the_banners_token_command_runs_as_printed_from_elsewhere_and_is_accepted(
    tmp_path: Path,
) -> None:
    assert SCRIPT.exists(), "the project is installed with `pip install -e .`"
    assert shutil.which("clarity-graph", path=CLEAN_PATH) is None
    server_dir, elsewhere, config = (tmp_path / name for name in ("server", "else", "config"))
    for folder in (server_dir, elsewhere):
        folder.mkdir()
    env = clean_env(config)
    with serve_by_path(server_dir, env) as (base, log):
        command = printed_token_command(log)
        # Not on PATH: the banner names the script by its absolute path.
        assert command.startswith(str(SCRIPT)), command
        minted = subprocess.run(
            command, shell=True, cwd=elsewhere, env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )
        assert minted.returncode == 0, minted.stderr
        token = minted.stdout.strip()
        answer = httpx.post(f"{base}/graphql", json=VIEWER, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["viewer"]["id"] == "alice"
    # `token` said which secret it used and why; neither process wrote one in its folder.
    secret_file = config / "clarity-graph" / "jwt-secret"
    assert f"development secret {secret_file}" in minted.stderr
    assert "$XDG_CONFIG_HOME" in minted.stderr
    assert secret_file.stat().st_mode & 0o077 == 0
    assert not list(server_dir.glob(".clarity-jwt-secret*"))
    assert not list(elsewhere.glob(".clarity-jwt-secret*"))


def test_run_as_a_module_the_banner_prints_this_python_and_it_runs_as_printed(
    tmp_path: Path,
) -> None:
    command = own_command(argv0=str(Path("graph/cli.py").resolve()))
    assert command.endswith(" -m graph.cli")
    minted = subprocess.run(
        f"{command} token --user bob", shell=True, cwd=tmp_path, timeout=60, check=False,
        env=clean_env(tmp_path, JWT_SECRET=TEST_SECRET, PYTHONPATH=str(Path.cwd())),
        capture_output=True, text=True,
    )
    assert minted.returncode == 0, minted.stderr
    claims = jwt.decode(minted.stdout.strip(), TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "bob"
    assert "signed with JWT_SECRET" in minted.stderr


def test_on_path_the_banner_prints_the_bare_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{SCRIPT.parent}{os.pathsep}{CLEAN_PATH}")
    assert own_command(argv0=str(SCRIPT)) == "clarity-graph"
    assert own_command(argv0="clarity-graph") == "clarity-graph"
    monkeypatch.setenv("PATH", CLEAN_PATH)
    assert own_command(argv0=str(SCRIPT)) == str(SCRIPT)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (jwt.encode({"sub": "a", "exp": int(time.time()) - 3600}, TEST_SECRET), "expired"),
        (jwt.encode({"sub": "a", "exp": int(time.time()) + 600}, "another-secret-" * 4),
         "signature is invalid"),
        ("not.a-token.at-all", "malformed"),
    ],
)
async def test_a_refused_token_logs_one_line_with_the_reason_and_never_the_token(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, token: str, reason: str
) -> None:
    caplog.set_level("INFO")
    answer = await client.post("/graphql", json=VIEWER,
                               headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    lines = [r for r in caplog.records if r.name == "graph.auth" and "401" in r.getMessage()]
    assert len(lines) == 1, caplog.text
    assert reason in lines[0].getMessage()
    assert token not in caplog.text
    assert token.split(".")[-1] not in caplog.text  # not even its signature
