"""What a built wheel needs beyond the source tree: the console script and the sandbox's copy of
the pinned contracts. Checked from pyproject.toml and an installed-like layout, without building
(building needs the network for the build backend)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from stateset_voice_wrapper.sandbox._spec import PACKAGED_CONTRACTS_DIR

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_console_script_points_at_the_cli() -> None:
    assert PYPROJECT["project"]["scripts"] == {"stateset-voice": "stateset_voice_wrapper.cli:main"}


def test_wheel_carries_both_contracts_where_the_sandbox_looks() -> None:
    include = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    target = f"stateset_voice_wrapper/sandbox/{PACKAGED_CONTRACTS_DIR}"
    assert include == {
        f"api-contracts/{name}": f"{target}/{name}"
        for name in ("stateset-voice-public.json", "stateset-voice-admin.json")
    }
    for source in include:
        assert (REPO / source).is_file()


def test_installed_layout_finds_the_packaged_contracts(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    package = site / "stateset_voice_wrapper"
    shutil.copytree(REPO / "src" / "stateset_voice_wrapper", package,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    packaged = package / "sandbox" / PACKAGED_CONTRACTS_DIR
    packaged.mkdir()
    for name in ("stateset-voice-public.json", "stateset-voice-admin.json"):
        shutil.copy(REPO / "api-contracts" / name, packaged / name)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    code = (
        "from stateset_voice_wrapper.sandbox._spec import locate_contracts_dir\n"
        "print(locate_contracts_dir())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=workdir,
        env={"PYTHONPATH": f"{site}:{REPO / 'generated'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == packaged.resolve()
