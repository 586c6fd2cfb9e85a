"""What a person at a terminal reads: a short start-up banner and one short line per event.

Log collectors get JSON, one object per line (`LOG_FORMAT=json`, and the default whenever
stderr is not a terminal). A person who runs `clarity-graph serve` in a terminal used to get
a screen of JSON, most of it Alembic's plugin set-up; now they read what is listening where,
which database, where the playground is and how to get a token, then a line per event.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from sqlalchemy.engine import make_url

from graph.settings import Settings

# Attributes every log record has; anything else on a record is an extra worth showing.
RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class HumanFormatter(logging.Formatter):
    """`14:02:11 warning  the message  key=value ...`, and the traceback below when any."""

    def __init__(self, request_id: Callable[[], str | None]) -> None:
        super().__init__()
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{stamp} {record.levelname.lower():8} {record.getMessage()}"
        if (current := self.request_id()) is not None:
            line += f"  request_id={current}"
        extras = {k: v for k, v in vars(record).items() if k not in RECORD_ATTRIBUTES}
        if extras:
            line += "  " + " ".join(f"{key}={value}" for key, value in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def own_command(argv0: str | None = None, executable: str | None = None) -> str:
    """How to run this same `clarity-graph` again, as a person would paste it.

    `clarity-graph` when that name on PATH is this very script; the script's absolute path
    when it was run by path (`.venv/bin/clarity-graph` with the venv not activated: the
    bare name would be "command not found" or another install); `python -m graph.cli` with
    this interpreter when run as a module. Paths are absolute, not resolved: a venv's python
    is a symlink whose target knows nothing of the venv."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    if os.path.basename(argv0) != "clarity-graph":  # `python -m graph.cli`: argv0 is cli.py
        return f"{shlex.quote(executable)} -m graph.cli"
    script = os.path.abspath(argv0) if os.sep in argv0 else shutil.which(argv0) or argv0
    on_path = shutil.which("clarity-graph")
    if on_path is not None and os.path.samefile(on_path, script):
        return "clarity-graph"
    return shlex.quote(script)


def banner(
    settings: Settings, host: str, port: int, command: str | None = None
) -> list[str]:
    """What `serve` prints before it listens, when a person is watching. `command` is how
    to run `clarity-graph` (`own_command`), so the token line runs as printed."""
    command = own_command() if command is None else command
    base = f"http://{host}:{port}/graphql"
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    lines = [
        f"Clarity Graph ({settings.environment})",
        f"  listening   {base}",
        f"  database    {database}" + ("  (migrated to head)" if settings.is_sqlite else ""),
    ]
    if settings.graphiql_enabled:
        lines.append(f"  playground  {base}  (open it in a browser)")
    if not settings.is_production:
        lines.append(
            f"  token       {command} token --user alice"
            "  (paste it over <token> in the playground's Headers tab)"
        )
    lines.append("  stop        Ctrl+C")
    return lines
