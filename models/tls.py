"""TLS to PostgreSQL, from `DATABASE_URL`'s query.

asyncpg takes `ssl=` a mode (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
`verify-full`) or an `ssl.SSLContext`, but not libpq's file options: SQLAlchemy passes every
query parameter to `asyncpg.connect` as a keyword, and `sslrootcert=` there is a TypeError.
So the files are taken out of the URL here and built into a context:

    ?ssl=require                                   encrypted, the server not verified
    ?ssl=verify-full&sslrootcert=/etc/ca.pem       encrypted, the certificate signed by that
                                                   CA and naming the host connected to
    ?ssl=verify-ca&sslrootcert=/etc/ca.pem         signed by that CA, any host name
    &sslcert=/etc/client.pem&sslkey=/etc/client.key  a client certificate, with any of them

`sslmode=` is read as `ssl=` (libpq's name). `verify-*` without `sslrootcert` is asyncpg's
own: `PGSSLROOTCERT` or `~/.postgresql/root.crt`. With any of these modes a server that
offers no TLS is refused; `prefer` and `allow` fall back to plain text, so production uses
`verify-full` (docs/production.md).
"""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy.engine import URL

FILES = ("sslrootcert", "sslcert", "sslkey")
VERIFYING = {"require", "verify-ca", "verify-full"}


def split_tls(url: URL) -> tuple[URL, dict[str, Any]]:
    """`url` without its TLS options, and the `asyncpg.connect` keywords they make."""
    query = dict(url.query)
    mode = query.pop("ssl", None) or query.pop("sslmode", None)
    files = {name: query.pop(name) for name in FILES if name in query}
    rest = url.set(query=query)
    if isinstance(mode, tuple) or any(isinstance(value, tuple) for value in files.values()):
        raise ValueError("DATABASE_URL: give each TLS option once")
    if not files:
        return rest, ({"ssl": mode} if mode else {})
    if mode not in VERIFYING:
        raise ValueError(
            "DATABASE_URL: sslrootcert/sslcert/sslkey need ssl=require, verify-ca or verify-full"
        )
    return rest, {"ssl": _context(str(mode), files)}


def _context(mode: str, files: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=files.get("sslrootcert"))
    if "sslrootcert" not in files and mode != "verify-full":
        # libpq's `require` and `verify-ca` without a CA file: encrypted, not verified.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode != "verify-full":
        context.check_hostname = False  # verify-ca (and require with a CA file, as libpq)
    if "sslcert" in files:
        context.load_cert_chain(files["sslcert"], files.get("sslkey"))
    return context
