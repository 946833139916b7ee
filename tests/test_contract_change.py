"""What a contract change does to the build, end to end, on a copy of the repository.

A new query parameter on ``list_call_logs`` is added to the pinned public contract and the
copy is regenerated. The drift check must then name the generated facts among the changed
files, and the contract-coverage test must fail naming the new parameter, until a client
method takes it. This is the safety net ``docs/contracts.md`` describes: the build cannot stay
green while the typed clients lag the contract.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NEW_PARAMETER = "min_duration_seconds"
COPIED = ("api-contracts", "codegen", "generated", "requirements", "scripts", "src", "tests")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def changed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository, committed, then with a parameter added to the contract."""
    copy = tmp_path_factory.mktemp("changed-contract")
    ignore = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".hypothesis", "*.pyc")
    for name in COPIED:
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    _git(copy, "init", "-q")
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "as pinned")
    contract_path = copy / "api-contracts" / "stateset-voice-public.json"
    contract = json.loads(contract_path.read_text(encoding="utf-8"))
    contract["paths"]["/api/v1/call-logs"]["get"]["parameters"].append(
        {
            "name": NEW_PARAMETER,
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 0},
        }
    )
    contract_path.write_text(json.dumps(contract, indent=2) + "\n", encoding="utf-8")
    return copy


def test_drift_check_names_the_generated_facts(changed_repo: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(changed_repo / "scripts" / "check-drift"),
            "--repo",
            str(changed_repo),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "generated/stateset_voice_facts/__init__.py" in done.stderr
    assert "api-contracts/stateset-voice-public.json" in done.stderr
    facts = (changed_repo / "generated" / "stateset_voice_facts" / "__init__.py").read_text()
    assert NEW_PARAMETER in facts


def test_coverage_test_fails_naming_the_new_parameter(changed_repo: Path) -> None:
    # Runs after the drift check above regenerated the copy (tests in a module run in order).
    assert (
        NEW_PARAMETER
        in (changed_repo / "generated" / "stateset_voice_facts" / "__init__.py").read_text()
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(changed_repo / "src"), str(changed_repo / "generated")]),
    }
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            str(changed_repo / "tests" / "test_contract_coverage.py"),
            "-k", "every_parameter_is_a_parameter_of_every_method",
        ],
        cwd=changed_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"call_logs.list_page() lacks '{NEW_PARAMETER}'" in output
    assert f"call_logs.list() lacks '{NEW_PARAMETER}'" in output
    assert "2 failed" in output  # sync and async, and nothing else
