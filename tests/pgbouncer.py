"""A throwaway PgBouncer in transaction pool mode, in front of the test database.

`running_pgbouncer(urls)` starts one on a free port (its ini, auth file, log and pid file in
a temporary directory, trust authentication for the URLs' users, which must already log in
to PostgreSQL without a password, as CI's roles do) and stops it. As a command it wraps
another, normally pytest, with the suite's URLs rewritten to go through it:

    TEST_DATABASE_URL=... TEST_OWNER_DATABASE_URL=... python -m tests.pgbouncer pytest ...

The wrapped command gets TEST_DATABASE_URL and TEST_OWNER_DATABASE_URL through PgBouncer,
DATABASE_POOLER=pgbouncer, LISTEN_DATABASE_URL the application role's direct URL (LISTEN
cannot go through a transaction-mode pool) and PGBOUNCER_ADMIN_URL its admin console.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy.engine import URL, make_url

BINARY = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
ADMIN_USER = "pgbouncer_admin"  # a name for the admin console only; no PostgreSQL role
START_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ini(port: int, directory: Path, host: str, server_port: int, pool_size: int) -> str:
    return f"""\
[databases]
* = host={host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
admin_users = {ADMIN_USER}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
logfile = {directory / "pgbouncer.log"}
pidfile = {directory / "pgbouncer.pid"}
"""


@contextlib.contextmanager
def running_pgbouncer(urls: Sequence[str], pool_size: int = 20) -> Iterator[int]:
    """A PgBouncer for the users of `urls` (all on one PostgreSQL server); yields its port."""
    if BINARY is None:
        raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    parsed = [make_url(url) for url in urls]
    users = sorted({url.username or "" for url in parsed} | {ADMIN_USER})
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as name:
        directory = Path(name)
        (directory / "users.txt").write_text("".join(f'"{user}" ""\n' for user in users))
        port = free_port()
        config = directory / "pgbouncer.ini"
        config.write_text(ini(port, directory, parsed[0].host or "127.0.0.1",
                              parsed[0].port or 5432, pool_size))
        process = subprocess.Popen([BINARY, "-q", *_as_user(directory), str(config)],
                                   stdout=subprocess.DEVNULL)
        try:
            _wait_for(port, process, directory / "pgbouncer.log")
            yield port
        finally:
            if process.poll() is not None:  # it died under the tests: say why, if it said
                log = directory / "pgbouncer.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                print(f"pgbouncer had exited ({process.returncode}): {tail}", file=sys.stderr)
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _as_user(directory: Path) -> list[str]:
    # PgBouncer refuses to run as root (CI's containers are root): it is told to switch to an
    # unprivileged user, who gets the directory.
    if os.geteuid() != 0:
        return []
    user = next(name for name in ("postgres", "nobody") if _exists(name))
    shutil.chown(directory, user)
    return ["-u", user]


def _exists(user: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited ({process.returncode}): {text}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port} within {START_SECONDS} s")


def through(url: str, port: int) -> str:
    """`url` with PgBouncer's address in place of the server's."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def admin_url(port: int) -> str:
    """The admin console (SHOW POOLS, SHOW SERVERS), for psql or asyncpg's simple queries."""
    return URL.create("postgresql", ADMIN_USER, None, "127.0.0.1", port, "pgbouncer") \
        .render_as_string(hide_password=False)


def main(command: Sequence[str]) -> int:
    app = os.environ["TEST_DATABASE_URL"]
    owner = os.environ.get("TEST_OWNER_DATABASE_URL") or app
    with running_pgbouncer([app, owner]) as port:
        env = {
            **os.environ,
            "TEST_DATABASE_URL": through(app, port),
            "TEST_OWNER_DATABASE_URL": through(owner, port),
            "DATABASE_POOLER": "pgbouncer",
            "LISTEN_DATABASE_URL": app,
            "PGBOUNCER_ADMIN_URL": admin_url(port),
        }
        print(f"pgbouncer (transaction pool mode) on 127.0.0.1:{port}", file=sys.stderr)
        return subprocess.call(list(command), env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["pytest"]))
