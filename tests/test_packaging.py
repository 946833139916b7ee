"""What an installed wheel is: the console script, the contracts as package data, the metadata.

The wheel is built for real with the pinned backend (hatchling, no build isolation: no
network), installed into a fresh virtualenv, and run from a directory outside the checkout:
``stateset-voice sandbox --help``, then a sandbox smoke (the sandbox serves the contracts it
finds through importlib.resources, ``contracts check`` compares them with the installed
hashes, and a call is placed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CONTRACT_FILES = ("stateset-voice-public.json", "stateset-voice-admin.json")


def test_console_script_points_at_the_cli() -> None:
    assert PYPROJECT["project"]["scripts"] == {"stateset-voice": "stateset_voice_wrapper.cli:main"}


def test_the_contracts_travel_as_package_data_not_force_include() -> None:
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "force-include" not in wheel
    assert "generated/stateset_voice_facts" in wheel["packages"]


def test_project_metadata() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "StateSet Voice SDK authors" in (REPO / "LICENSE").read_text()
    assert project["authors"] == [{"name": "StateSet Voice SDK authors"}]
    assert set(project["urls"]) == {"Homepage", "Documentation", "Source", "Changelog"}
    assert project["urls"]["Homepage"] == "https://voice.stateset.app"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    outside: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def _run(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    built = _run(
        sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
        "--no-index", "-w", str(dist), cwd=root,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("stateset_voice-*.whl")

    venv = root / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=root)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    done = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                "--no-index", str(wheel), cwd=root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The dependencies (httpx, attrs, aiohttp, openapi-core) from this environment, added as a
    # plain path: its .pth files (the editable install of this checkout) are not processed.
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root
        ).stdout.strip()
    )
    (site / "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    outside = root / "elsewhere"
    outside.mkdir()
    return Installed(wheel=wheel, venv=venv, outside=outside)


def test_the_wheel_holds_the_contracts_and_the_license(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        for name in CONTRACT_FILES:
            packaged = wheel.read(f"stateset_voice_facts/contracts/{name}")
            assert packaged == (REPO / "api-contracts" / name).read_bytes()
        assert not [n for n in names if n.startswith("stateset_voice_wrapper/sandbox/contracts")]
        assert "stateset_voice_wrapper/_contracts.py" not in names  # maintainer tooling: scripts/
        assert not [n for n in names if "contract_pipeline" in n]
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_pip_show_names_the_license_and_home_page(installed: Installed) -> None:
    shown = _run(sys.executable, "-m", "pip", "--python", installed.bin("python"), "show",
                 "stateset-voice", cwd=installed.outside)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    fields = dict(line.split(": ", 1) for line in shown.stdout.splitlines() if ": " in line)
    assert fields.get("License-Expression", fields.get("License")) == "MIT"
    assert fields["Home-page"] == "https://voice.stateset.app"


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    code = (
        "import stateset_voice_wrapper, stateset_voice_facts, sys;"
        "print(stateset_voice_wrapper.__file__); print(stateset_voice_facts.__file__)"
    )
    done = _run(installed.bin("python"), "-c", code, cwd=installed.outside)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert Path(line).is_relative_to(installed.venv), line


def test_sandbox_help_runs_outside_the_checkout(installed: Installed) -> None:
    done = _run(installed.bin("stateset-voice"), "sandbox", "--help", cwd=installed.outside)
    assert done.returncode == 0, done.stderr
    assert "--contracts-dir" in done.stdout


@pytest.fixture
def installed_sandbox(installed: Installed) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_VOICE_")}
    process = subprocess.Popen(
        [installed.bin("stateset-voice"), "sandbox", "--port", "0", "--seed", "3", "--json",
         "--quiet"],
        cwd=installed.outside,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        info: dict[str, str] = json.loads(process.stdout.readline())
        yield {
            **env,
            "STATESET_VOICE_BASE_URL": info["base_url"],
            "STATESET_VOICE_API_KEY": info["runtime_key"],
        }
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()


def test_a_sandbox_from_the_wheel_serves_the_installed_contracts(
    installed: Installed, installed_sandbox: dict[str, str]
) -> None:
    cli = installed.bin("stateset-voice")
    check = _run(cli, "contracts", "check", "-o", "json", cwd=installed.outside,
                 env=installed_sandbox)  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert [row["status"] for row in json.loads(check.stdout)] == ["in-sync", "in-sync"]
    created = _run(cli, "calls", "create", "--to", "+15555550101", "--from", "+15555551234",
                   "--agent-key", "front_desk", "-o", "json", cwd=installed.outside,
                   env=installed_sandbox)  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["call_id"].startswith("call_")
