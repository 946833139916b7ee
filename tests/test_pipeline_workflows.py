"""CI plumbing: the GitHub workflows pass an offline linter, and the system-dependency script
works as the runner's non-root user.

zizmor (pinned in requirements/dev.txt) reads the workflows offline: syntax, unpinned actions,
persisted credentials, broad permissions, template injection. actionlint is not used: its PyPI
package downloads a binary at install time, which this project's machines cannot do.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("zizmor", path=str(Path(sys.executable).parent))
    assert binary, "zizmor is not installed next to this Python (requirements/dev.txt)"
    return subprocess.run(
        [binary, "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_workflows_pass_the_linter() -> None:
    done = zizmor(*sorted(WORKFLOWS.glob("*.yml")))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_linter_is_not_vacuous(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    done = zizmor(bad)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout
    assert "template-injection" in done.stdout


def _stub(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _ensure_deps(tmp_path: Path, *, sudo: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run scripts/ensure-system-deps as a non-root user on a machine without redis-server.

    PATH holds only stubs: ``id`` says uid 1000, ``sudo`` is the given script, and ``apt-get``
    logs its arguments and, for ``install``, puts a redis-server stub on the PATH.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    _stub(bin_dir, "id", "echo 1000")
    server = bin_dir / "redis-server"
    install = f"printf '#!/bin/sh\\necho Redis server v=stub\\n' > {server}; /bin/chmod +x {server}"
    _stub(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}; case "$1" in install) {install};; esac')
    _stub(bin_dir, "sudo", sudo.replace("LOG", str(log)))
    done = subprocess.run(
        ["/bin/bash", str(REPO / "scripts" / "ensure-system-deps")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done, log


def test_system_deps_install_through_passwordless_sudo(tmp_path: Path) -> None:
    passwordless = (
        '[ "$1" = "-n" ] || exit 9; shift; echo "sudo $*" >> LOG; [ "$1" = true ] || exec "$@"'
    )
    done, log = _ensure_deps(tmp_path, sudo=passwordless)
    assert done.returncode == 0, done.stderr
    assert "Redis server v=stub" in done.stdout
    lines = log.read_text().splitlines()
    assert "sudo apt-get update -qq" in lines
    assert "apt-get update -qq" in lines  # run by sudo, as root
    assert any(line.startswith("sudo apt-get install -y") for line in lines)


def test_system_deps_explain_when_sudo_would_ask_for_a_password(tmp_path: Path) -> None:
    done, log = _ensure_deps(tmp_path, sudo="exit 1")
    assert done.returncode == 1
    assert "sudo without a password" in done.stderr
    assert not log.exists()
