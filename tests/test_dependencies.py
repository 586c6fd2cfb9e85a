"""The dependencies: every module imports, the environment is the lock, the bounds hold.

- Every module of the project's packages imports, in a fresh interpreter, against what is
  installed. The packages are the ones `[tool.setuptools.packages.find] include` names, walked
  with pkgutil, so a module moved or added is checked without touching this file.
- The environment is the locks: each distribution `requirements.lock` (the runtime) or
  `requirements-test.lock` (the test and lint tools, nothing the runtime lock pins) pins
  for this platform is installed at exactly its locked version. Skipped under `.ci/newest`
  (CLARITY_NEWEST=1), which runs the suite against the newest releases on purpose.
- The runtime lock alone satisfies the project's dependencies (the README's run command
  installs it alone); both together satisfy the `test` extra; no package is pinned in both
  (else they could disagree). Else they are stale: regenerate them. The libraries whose
  internals we use, strawberry-graphql and graphql-core, are named with an upper bound that
  admits one minor series.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
REINSTALL = (
    ".venv/bin/pip install --require-hashes -r requirements.lock -r requirements-test.lock"
    " && .venv/bin/pip install --no-deps --no-build-isolation -e ."
)

# Run in a fresh interpreter, so that no module is found already imported (by conftest or an
# earlier test) and an import-order cycle or a missing dependency shows. Prints one JSON list of
# the failures and the number of modules imported.
_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys, traceback
failures, imported = [], []

def fail(name):
    error = traceback.format_exception_only(*sys.exc_info()[:2])[-1].strip()
    failures.append({"module": name, "error": error, "traceback": traceback.format_exc()})

for top in sys.argv[1:]:
    try:
        package = importlib.import_module(top)
    except BaseException:
        fail(top)
        continue
    imported.append(top)
    for info in pkgutil.walk_packages(package.__path__, prefix=top + ".", onerror=fail):
        try:
            importlib.import_module(info.name)
        except BaseException:
            fail(info.name)
        else:
            imported.append(info.name)
print(json.dumps({"failures": failures, "imported": imported}))
"""


def _pyproject() -> dict[str, Any]:
    with PYPROJECT.open("rb") as f:
        return tomllib.load(f)


def _top_level_packages() -> list[str]:
    """The directories at the root that `[tool.setuptools.packages.find] include` names."""
    patterns: list[str] = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    found = sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").is_file()
        and any(fnmatch.fnmatchcase(path.name, pattern) for pattern in patterns)
    )
    assert found, f"no package at {ROOT} matches {patterns}"
    return found


def _locked(lock: Path = LOCK) -> dict[str, tuple[str, Marker | None]]:
    """A lock's pins: canonical name -> (version, environment marker)."""
    pins: dict[str, tuple[str, Marker | None]] = {}
    pin = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
    for line in lock.read_text().splitlines():
        if not line or line[0] in " #-":
            continue
        match = pin.match(line)
        assert match, f"{lock.name}: not a pinned requirement: {line!r}"
        name, version, marker = match.groups()
        pins[canonicalize_name(name)] = (version, Marker(marker) if marker else None)
    assert pins, f"{lock.name} pins nothing"
    return pins


def _all_locked() -> dict[str, tuple[str, Marker | None]]:
    return {**_locked(LOCK), **_locked(TEST_LOCK)}


def _declared() -> list[Requirement]:
    """Every requirement pyproject.toml declares: dependencies, extras, groups, build."""
    data = _pyproject()
    texts: list[str] = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        texts += extra
    for group in data.get("dependency-groups", {}).values():
        texts += [item for item in group if isinstance(item, str)]
    texts += data["build-system"]["requires"]
    return [Requirement(text) for text in texts]


def test_every_module_imports() -> None:
    packages = _top_level_packages()
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", _IMPORT_ALL, *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"the import check itself failed:\n{run.stdout}\n{run.stderr}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    failures: list[dict[str, str]] = result["failures"]
    assert not failures, (
        f"{len(failures)} module(s) do not import: "
        + ", ".join(f"{f['module']} ({f['error']})" for f in failures)
        + "\n\n"
        + "\n".join(f["traceback"] for f in failures)
    )
    imported: list[str] = result["imported"]
    assert set(packages) <= set(imported)
    assert len(imported) > len(packages), f"no module found below {packages}"


def test_the_environment_is_the_lock() -> None:
    if os.environ.get("CLARITY_NEWEST"):
        pytest.skip(
            "CLARITY_NEWEST is set: .ci/newest runs the suite against the newest releases, "
            "not against requirements.lock"
        )
    drift: list[str] = []
    for name, (version, marker) in sorted(_all_locked().items()):
        if marker is not None and not marker.evaluate():
            continue  # not for this platform
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            drift.append(f"{name}: locked {version}, not installed")
            continue
        if Version(installed) != Version(version):
            drift.append(f"{name}: locked {version}, installed {installed}")
    assert not drift, (
        "this environment is not the locks (install from them: "
        f"{REINSTALL}; or set CLARITY_NEWEST=1 to run against other versions on purpose):\n"
        + "\n".join(drift)
    )


def _requirements(texts: list[str]) -> list[Requirement]:
    return [
        requirement for requirement in map(Requirement, texts)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""})
    ]


def _stale(requirements: list[Requirement], locked: dict[str, tuple[str, Marker | None]],
           where: str) -> list[str]:
    stale: list[str] = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in locked:
            stale.append(f"{requirement}: not in {where}")
        elif not requirement.specifier.contains(locked[name][0], prereleases=True):
            stale.append(f"{requirement}: {where} has {locked[name][0]}")
    return stale


def test_the_locks_satisfy_pyproject() -> None:
    """A range moved in pyproject.toml without regenerating the locks shows here. The
    runtime lock is compiled with every dependency group (the build backend) and no extra;
    the test lock with the `test` extra, less what the runtime lock pins; `otel` stays out."""
    data = _pyproject()
    runtime = list(data["project"]["dependencies"])
    for group in data.get("dependency-groups", {}).values():
        runtime += [item for item in group if isinstance(item, str)]
    stale = _stale(_requirements(runtime), _locked(LOCK), "requirements.lock")
    stale += _stale(
        _requirements(data["project"]["optional-dependencies"]["test"]), _all_locked(),
        "requirements.lock + requirements-test.lock",
    )
    assert not stale, (
        "the locks are stale; regenerate them (docs/dependencies.md):\n" + "\n".join(stale)
    )


def test_the_test_lock_pins_only_what_the_runtime_lock_does_not() -> None:
    both = sorted(set(_locked(LOCK)) & set(_locked(TEST_LOCK)))
    assert not both, f"pinned in both locks (regenerate them, docs/dependencies.md): {both}"
    tools = {"pytest", "pytest-asyncio", "hypothesis", "hypothesis-graphql", "mypy", "ruff"}
    assert tools <= set(_locked(TEST_LOCK)), "the test tools belong in requirements-test.lock"
    assert tools.isdisjoint(_locked(LOCK)), "the run command would install test tools"


def _has_upper_bound(requirement: Requirement) -> bool:
    return any(spec.operator in {"<", "<=", "==", "~=", "==="} for spec in requirement.specifier)


def test_every_declared_dependency_has_an_upper_bound() -> None:
    unbounded = [str(r) for r in _declared() if not _has_upper_bound(r)]
    assert not unbounded, f"no upper bound: {unbounded}"


@pytest.mark.parametrize("name", ["strawberry-graphql", "graphql-core"])
def test_libraries_whose_internals_we_use_are_bounded_to_one_minor(name: str) -> None:
    declared = [
        r
        for r in map(Requirement, _pyproject()["project"]["dependencies"])
        if canonicalize_name(r.name) == name
    ]
    assert len(declared) == 1, f"pyproject.toml's dependencies must name {name} once"
    specifier = declared[0].specifier
    lower = [Version(s.version) for s in specifier if s.operator == ">="]
    assert lower, f"{name} needs a tested lower bound (>=)"
    floor = max(lower)
    next_minor = Version(f"{floor.major}.{floor.minor + 1}")
    assert _has_upper_bound(declared[0]) and next_minor not in specifier, (
        f"{name}{specifier}: we use its internals, so its range stays within one minor series"
        f" (below {next_minor}) until the suite has passed on the next"
    )
    assert specifier.contains(_locked()[name][0]), f"requirements.lock's {name} is outside"


# Import names that are not their distribution's name: a look-alike distribution named like
# the import name is another project (some clash with the real one's files).
_LOOK_ALIKES = {
    "jwt": "PyJWT",
    "multipart": "python-multipart",
    "dateutil": "python-dateutil",
    "yaml": "PyYAML",
    "dotenv": "python-dotenv",
    "graphql": "graphql-core",
    "strawberry": "strawberry-graphql",
}


def test_no_look_alike_distribution_is_locked_or_declared() -> None:
    names = set(_all_locked()) | {canonicalize_name(r.name) for r in _declared()}
    found = {name: _LOOK_ALIKES[name] for name in names & set(_LOOK_ALIKES)}
    assert not found, f"look-alike distributions (the real one in brackets): {found}"
