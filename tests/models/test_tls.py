"""TLS to PostgreSQL through `DATABASE_URL` (models/tls.py), against real servers.

The machine's cluster has TLS off and no certificate, so this module makes its own: a
self-signed certificate for `localhost` (openssl) and a throwaway cluster (initdb), started
twice with pg_ctl on free ports, once with `ssl=on` and once, from a copy, with `ssl=off`.
Skips, saying why, without the PostgreSQL binaries or openssl.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from graph.pubsub import PostgresBroker
from models.database import EngineOptions, create_engine
from tests.servers import free_port

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
SSL_OF_THIS_BACKEND = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


@dataclass
class Servers:
    tls_port: int  # ssl=on, certificate for localhost only
    plain_port: int  # ssl=off
    certificate: Path  # self-signed: its own CA
    stranger: Path  # another self-signed certificate, which signed nothing of the servers'

    def url(self, port: int, query: str, host: str = "localhost") -> str:
        return f"postgresql+asyncpg://postgres@{host}:{port}/postgres?{query}"


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user to run initdb as")
    return ["runuser", "-u", "postgres", "--"]


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def _start(prefix: list[str], bin_dir: Path, data: Path, port: int, options: str) -> None:
    socket_dir = data.parent
    _run([
        *prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(socket_dir / f"{port}.log"),
        "-w", "-o", f"-p {port} -c listen_addresses=localhost"
        f" -c unix_socket_directories={socket_dir} -c fsync=off {options}",
        "start",
    ])


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    if not BINARIES or shutil.which("openssl") is None:
        pytest.skip("needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) and openssl")
    bin_dir = Path(BINARIES[-1]).parent
    prefix = _as_postgres()
    root = Path(tempfile.mkdtemp(prefix="clarity-tls-"))
    certificate, key = root / "server.crt", root / "server.key"
    stranger = root / "stranger.crt"
    for crt, pem in ((certificate, key), (stranger, root / "stranger.key")):
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
              "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
              "-keyout", str(pem), "-out", str(crt)])
    key.chmod(0o600)
    if prefix:
        postgres = pwd.getpwnam("postgres")
        for path in (root, certificate, key):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
    tls_data, plain_data = root / "tls", root / "plain"
    _run([*prefix, str(bin_dir / "initdb"), "-D", str(tls_data), "-A", "trust", "-U",
          "postgres", "--no-sync"])
    _run([*prefix, "cp", "-a", str(tls_data), str(plain_data)])
    found = Servers(free_port(), free_port(), certificate, stranger)
    _start(prefix, bin_dir, tls_data, found.tls_port,
           f"-c ssl=on -c ssl_cert_file={certificate} -c ssl_key_file={key}")
    _start(prefix, bin_dir, plain_data, found.plain_port, "-c ssl=off")
    try:
        yield found
    finally:
        for data in (tls_data, plain_data):
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


async def backend_uses_tls(url: str) -> bool:
    engine = create_engine(EngineOptions(url=url))
    try:
        async with engine.connect() as connection:
            return bool(await connection.scalar(text(SSL_OF_THIS_BACKEND)))
    finally:
        await engine.dispose()


async def test_ssl_require_encrypts_the_connection(servers: Servers) -> None:
    assert await backend_uses_tls(servers.url(servers.tls_port, "ssl=require"))


async def test_verify_full_with_the_ca_file_connects_to_the_host_it_names(
    servers: Servers,
) -> None:
    query = f"ssl=verify-full&sslrootcert={servers.certificate}"
    assert await backend_uses_tls(servers.url(servers.tls_port, query))


async def test_verify_full_refuses_a_host_the_certificate_does_not_name(
    servers: Servers,
) -> None:
    query = f"ssl=verify-full&sslrootcert={servers.certificate}"
    with pytest.raises(ssl.SSLCertVerificationError, match=r"match|mismatch"):
        await backend_uses_tls(servers.url(servers.tls_port, query, host="127.0.0.1"))


async def test_verify_full_refuses_a_certificate_no_trusted_ca_signed(servers: Servers) -> None:
    query = f"ssl=verify-full&sslrootcert={servers.stranger}"
    with pytest.raises(ssl.SSLCertVerificationError):
        await backend_uses_tls(servers.url(servers.tls_port, query))


async def test_a_url_requiring_tls_is_refused_by_a_server_that_offers_none(
    servers: Servers,
) -> None:
    with pytest.raises(ConnectionError, match="SSL"):
        await backend_uses_tls(servers.url(servers.plain_port, "ssl=require"))


async def test_the_brokers_listen_connection_uses_the_same_tls(servers: Servers) -> None:
    url = servers.url(servers.tls_port, f"ssl=verify-full&sslrootcert={servers.certificate}")
    broker = PostgresBroker(url)
    await broker.start()
    try:
        listening = (
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
            " WHERE a.query LIKE 'LISTEN%'"
        )
        engine = create_engine(EngineOptions(url=servers.url(servers.tls_port, "ssl=require")))
        async with engine.connect() as connection:
            assert await connection.scalar(text(listening)) is True
        await engine.dispose()
    finally:
        await broker.stop()
