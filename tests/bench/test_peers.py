"""The benchmark's check of a peer's answer (bench/peers/driver.py), which stops the run
before a wrong page is timed, and the peers' absence from the server's lock. The peers
themselves need .venv-peers; `python -m bench --peers` runs them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from strawberry.relay.utils import to_base64

from bench.peers import driver

ROOT = Path(__file__).resolve().parents[2]


def _peer_page(titles: list[str]) -> list[dict[str, Any]]:
    return [{
        "id": n, "title": title, "status": "in_progress", "stepCount": 10,
        "completedStepCount": 1,
        "steps": [{"id": n * 10 + s, "content": f"step {s}", "completed": s == 0}
                  for s in range(10)],
    } for n, title in enumerate(titles, start=1)]


def _ceiling_edges(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same page as the ceiling (and our server) writes it: global ids, enum names."""
    return [{"node": {
        **task, "id": to_base64("Task", str(task["id"])), "status": task["status"].upper(),
        "steps": [{**step, "id": to_base64("TaskStep", str(step["id"]))}
                  for step in task["steps"]],
    }} for task in tasks]


def _answer(tasks: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": {"tasks": tasks}})


TITLES = [f"task {n}" for n in range(50)]


def test_a_peer_page_equal_to_the_ceilings_passes() -> None:
    page = _peer_page(TITLES)
    assert driver.mismatch(_answer(page), _ceiling_edges(page)) is None


def test_a_peer_page_with_another_title_is_refused() -> None:
    page = _peer_page(TITLES)
    wrong = _peer_page([*TITLES[:-1], "another"])
    assert "where the ceiling has" in (driver.mismatch(_answer(wrong), _ceiling_edges(page)) or "")


def test_a_peer_page_of_49_tasks_is_refused() -> None:
    page = _peer_page(TITLES)
    problem = driver.mismatch(_answer(page[:49]), _ceiling_edges(page))
    assert problem is not None and problem.startswith("49 tasks")


def test_a_peer_page_without_steps_is_refused() -> None:
    page = _peer_page(TITLES)
    bare = [{key: value for key, value in task.items() if key != "steps"} for task in page]
    assert "KeyError('steps')" in (driver.mismatch(_answer(bare), _ceiling_edges(page)) or "")


def test_the_peers_are_not_in_the_servers_lock() -> None:
    pinned = set(re.findall(r"^([a-z0-9_.-]+)==", (ROOT / "requirements.lock").read_text(),
                            flags=re.MULTILINE))
    assert {"strawberry-sqlalchemy-mapper", "strawchemy"}.isdisjoint(pinned)
    peers = (ROOT / "bench" / "peers.lock").read_text()
    assert "strawberry-sqlalchemy-mapper==0.9.0" in peers and "strawchemy==0.24.0" in peers
