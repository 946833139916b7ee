"""The contract pipeline: fetch + pin contracts, regenerate the clients, detect drift.

Everything runs against real loopback HTTP servers (pytest-httpserver) and real subprocesses;
the drift tests run the pinned code generator on a git copy of this repository.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from contract_pipeline import (
    CONTRACTS,
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    LOCK_FILE_NAME,
    ContractFetchError,
    check_contracts,
    fetch_contracts,
    resolve_base_url,
    sha256_file,
)
from pytest_httpserver import HTTPServer

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
PUBLIC_FILE = "stateset-voice-public.json"
ADMIN_FILE = "stateset-voice-admin.json"
FIX_HINT = "run `make regen` and commit api-contracts/ and generated/ together"

# Keys are deliberately not sorted at any level: the pinned file must keep the server's order.
PUBLIC_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"version": "1.0.0", "title": "Public API – test"},
    "paths": {
        "/v1/zebra": {
            "get": {
                "operationId": "getZebra",
                "summary": "Get a zebra",
                "responses": {
                    "200": {
                        "description": "The zebra",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Zebra"}}
                        },
                    }
                },
            }
        },
        "/v1/aardvark": {
            "get": {
                "operationId": "getAardvark",
                "responses": {"204": {"description": "Nothing"}},
            }
        },
    },
    "components": {
        "schemas": {
            "Zebra": {
                "type": "object",
                "required": ["stripes", "id"],
                "properties": {"stripes": {"type": "integer"}, "id": {"type": "string"}},
            }
        }
    },
}

ADMIN_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"version": "2.0.0", "title": "Admin API"},
    "paths": {
        "/v1/tenants": {
            "get": {
                "operationId": "listTenants",
                "responses": {"200": {"description": "Tenants, naïvely listed"}},
            }
        }
    },
}


def canonical(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def serve(
    server: HTTPServer,
    *,
    public: dict[str, Any] | bytes = PUBLIC_DOC,
    admin: dict[str, Any] | bytes = ADMIN_DOC,
    status: int = 200,
    content_type: str = "application/json",
) -> str:
    """(Re)configure ``server`` to serve the two contracts; return its base URL."""
    server.clear()
    for path, body in (("/api-docs/public.json", public), ("/api-docs/admin.json", admin)):
        # Compact JSON on the wire, so the pinned file's formatting is our own.
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"))
        server.expect_request(path, method="GET").respond_with_data(
            data, status=status, content_type=content_type
        )
    return server.url_for("/")


def lock_entries(out_dir: Path) -> dict[str, Any]:
    lock = json.loads((out_dir / LOCK_FILE_NAME).read_text(encoding="utf-8"))
    assert lock["lock_version"] == 1
    entries: dict[str, Any] = lock["contracts"]
    return entries


def snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, inode and mtime of every file: equal snapshots mean nothing was rewritten."""
    result: dict[str, tuple[bytes, int, int]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            st = path.stat()
            result[str(path.relative_to(directory))] = (
                path.read_bytes(),
                st.st_ino,
                st.st_mtime_ns,
            )
    return result


def changed_public() -> dict[str, Any]:
    doc = copy.deepcopy(PUBLIC_DOC)
    doc["paths"]["/v1/zebra"]["get"]["summary"] = "Get one zebra"
    return doc


@pytest.fixture(autouse=True)
def _no_contracts_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BASE_URL, raising=False)


# --------------------------------------------------------------------------- fetch_contracts


def test_fetch_writes_canonical_files_and_lock_then_refetch_changes_nothing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    base_url = serve(httpserver)
    out = tmp_path / "api-contracts"

    result = fetch_contracts(base_url=base_url, out_dir=out)

    public_bytes = (out / PUBLIC_FILE).read_bytes()
    assert public_bytes == canonical(PUBLIC_DOC)
    assert (out / ADMIN_FILE).read_bytes() == canonical(ADMIN_DOC)
    assert "naïvely" in (out / ADMIN_FILE).read_text(encoding="utf-8")  # ensure_ascii=False
    # The server's key order survives, at every level.
    pinned = json.loads(public_bytes)
    assert list(pinned) == ["openapi", "info", "paths", "components"]
    assert list(pinned["info"]) == ["version", "title"]
    assert list(pinned["paths"]) == ["/v1/zebra", "/v1/aardvark"]
    assert public_bytes.index(b'"stripes"') < public_bytes.index(b'"id"')

    assert [c.name for c in result.contracts] == ["public", "admin"]
    assert all(c.status == "updated" for c in result.contracts)
    assert result.lock_changed
    entries = lock_entries(out)
    assert set(entries) == {"public", "admin"}
    for contract in CONTRACTS:
        entry = entries[contract.name]
        assert entry["sha256"] == sha256_file(out / contract.file_name)
        assert (
            entry["sha256"] == hashlib.sha256((out / contract.file_name).read_bytes()).hexdigest()
        )
        assert entry["source_url"] == base_url.rstrip("/") + contract.url_path
        assert entry["fetched_at"].endswith("Z")
    lock_bytes = (out / LOCK_FILE_NAME).read_bytes()
    assert (
        lock_bytes == (json.dumps(json.loads(lock_bytes), indent=2, sort_keys=True) + "\n").encode()
    )

    before = snapshot(out)
    again = fetch_contracts(base_url=base_url, out_dir=out)
    assert snapshot(out) == before  # not even rewritten with the same bytes
    assert all(c.status == "unchanged" for c in again.contracts)
    assert not again.lock_changed
    assert not again.changed


def test_changed_contract_updates_its_file_and_only_its_lock_entry(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    out = tmp_path / "contracts"
    fetch_contracts(base_url=serve(httpserver), out_dir=out)
    # Mark the admin entry so that "kept untouched" is visible regardless of the clock.
    lock = json.loads((out / LOCK_FILE_NAME).read_text(encoding="utf-8"))
    lock["contracts"]["admin"]["fetched_at"] = "2000-01-01T00:00:00Z"
    (out / LOCK_FILE_NAME).write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    admin_before = lock["contracts"]["admin"]
    old_public_sha = lock["contracts"]["public"]["sha256"]

    new_public = changed_public()
    result = fetch_contracts(base_url=serve(httpserver, public=new_public), out_dir=out)

    assert {c.name: c.status for c in result.contracts} == {
        "public": "updated",
        "admin": "unchanged",
    }
    assert result.lock_changed
    assert (out / PUBLIC_FILE).read_bytes() == canonical(new_public)
    entries = lock_entries(out)
    assert entries["public"]["sha256"] == sha256_file(out / PUBLIC_FILE) != old_public_sha
    assert entries["admin"] == admin_before


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("case", "admin_body", "status", "content_type", "expected"),
    [
        ("404", b"no such document", 404, "text/plain", "HTTP 404"),
        ("500", b"boom", 500, "text/plain", "HTTP 500"),
        ("html", b"<!doctype html><html><body>Sign in</body></html>", 200, "text/html", "not JSON"),
        ("json-not-openapi", b'{"hello": "world"}', 200, "application/json", "'openapi'"),
        ("json-array", b"[1, 2, 3]", 200, "application/json", "expected a JSON object"),
        (
            "swagger-2",
            b'{"swagger": "2.0", "info": {}, "paths": {}}',
            200,
            "application/json",
            "Swagger 2.0",
        ),
        (
            "openapi-4",
            b'{"openapi": "4.0.0", "info": {}, "paths": {}}',
            200,
            "application/json",
            "unsupported OpenAPI version: expected 3.x.y",
        ),
        (
            "invalid-openapi",
            json.dumps({"openapi": "3.1.0", "info": {"title": "no version"}, "paths": {}}).encode(),
            200,
            "application/json",
            "$.info: missing required field 'version'",
        ),
        (
            "invalid-response",
            json.dumps(
                {
                    "openapi": "3.1.0",
                    "info": {"title": "t", "version": "1"},
                    "paths": {"/x": {"get": {"responses": {"200": {"summary": "no description"}}}}},
                }
            ).encode(),
            200,
            "application/json",
            "missing required field 'description'",
        ),
    ],
)
def test_fetch_errors_name_the_url_and_write_nothing(
    httpserver: HTTPServer,
    tmp_path: Path,
    case: str,
    admin_body: bytes,
    status: int,
    content_type: str,
    expected: str,
) -> None:
    out = tmp_path / "contracts"
    fetch_contracts(base_url=serve(httpserver), out_dir=out)
    before = snapshot(out)
    # The public contract changed (and is valid); the admin one is broken: nothing may be written.
    httpserver.clear()
    httpserver.expect_request("/api-docs/public.json").respond_with_data(
        json.dumps(changed_public()), content_type="application/json"
    )
    httpserver.expect_request("/api-docs/admin.json").respond_with_data(
        admin_body, status=status, content_type=content_type
    )
    base_url = httpserver.url_for("/")

    with pytest.raises(ContractFetchError) as excinfo:
        fetch_contracts(base_url=base_url, out_dir=out)

    message = str(excinfo.value)
    assert base_url.rstrip("/") + "/api-docs/admin.json" in message, case
    assert expected in message, message
    assert "Traceback" not in message
    assert len(message) < 600, message
    assert snapshot(out) == before


def test_fetch_failure_on_a_fresh_checkout_creates_nothing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    base_url = serve(httpserver, public=b"gone", status=404, content_type="text/plain")
    out = tmp_path / "not-yet"
    with pytest.raises(ContractFetchError, match=r"/api-docs/public\.json: HTTP 404"):
        fetch_contracts(base_url=base_url, out_dir=out)
    assert not out.exists()


def test_connection_error_is_a_contract_fetch_error(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ContractFetchError, match="request failed") as excinfo:
        fetch_contracts(base_url=base_url, out_dir=tmp_path / "out", timeout=5.0)
    assert f"{base_url}/api-docs/public.json" in str(excinfo.value)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- check_contracts


def test_check_contracts_reports_differing_names_without_writing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    out = tmp_path / "contracts"
    assert check_contracts(base_url=serve(httpserver), out_dir=out) == ["public", "admin"]
    assert not out.exists()

    fetch_contracts(base_url=serve(httpserver), out_dir=out)
    assert check_contracts(base_url=serve(httpserver), out_dir=out) == []

    before = snapshot(out)
    new_admin = copy.deepcopy(ADMIN_DOC)
    new_admin["info"]["version"] = "2.0.1"
    assert check_contracts(base_url=serve(httpserver, admin=new_admin), out_dir=out) == ["admin"]
    assert snapshot(out) == before


# --------------------------------------------------------------------------- base URL


def test_env_var_is_used_when_no_base_url_is_given(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url = serve(httpserver)
    monkeypatch.setenv(ENV_BASE_URL, base_url)
    fetch_contracts(out_dir=tmp_path)
    assert lock_entries(tmp_path)["public"]["source_url"] == (
        base_url.rstrip("/") + "/api-docs/public.json"
    )
    assert check_contracts(out_dir=tmp_path) == []


def test_base_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_base_url() == DEFAULT_BASE_URL == "https://voice.stateset.app"
    monkeypatch.setenv(ENV_BASE_URL, "https://env.example/")
    assert resolve_base_url() == "https://env.example"
    assert resolve_base_url("https://arg.example/prefix/") == "https://arg.example/prefix"
    monkeypatch.setenv(ENV_BASE_URL, "")
    assert resolve_base_url() == DEFAULT_BASE_URL


# --------------------------------------------------------------------------- scripts/fetch-contracts


def run_script(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_BASE_URL}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=110,
    )


def test_fetch_contracts_script(httpserver: HTTPServer, tmp_path: Path) -> None:
    script = str(SCRIPTS / "fetch-contracts")
    out = tmp_path / "contracts"
    base_url = serve(httpserver)

    first = run_script(script, "--base-url", base_url, "--out-dir", str(out))
    assert first.returncode == 0, first.stderr
    assert "public: updated" in first.stdout
    assert "admin: updated" in first.stdout
    public_sha = sha256_file(out / PUBLIC_FILE)
    assert public_sha[:12] in first.stdout
    assert (out / PUBLIC_FILE).read_bytes() == canonical(PUBLIC_DOC)

    before = snapshot(out)
    second = run_script(script, "--base-url", base_url, "--out-dir", str(out))
    assert second.returncode == 0, second.stderr
    assert "public: unchanged" in second.stdout
    assert "admin: unchanged" in second.stdout
    assert snapshot(out) == before

    in_sync = run_script(script, "--check", "--base-url", base_url, "--out-dir", str(out))
    assert in_sync.returncode == 0, in_sync.stderr

    base_url = serve(httpserver, public=changed_public())
    drifted = run_script(script, "--check", "--base-url", base_url, "--out-dir", str(out))
    assert drifted.returncode == 1
    assert "public: DIFFERS" in drifted.stdout
    assert "admin: in sync" in drifted.stdout
    assert "public" in drifted.stderr
    assert snapshot(out) == before

    base_url = serve(httpserver, admin=b"<html></html>", content_type="text/html")
    broken = run_script(script, "--base-url", base_url, "--out-dir", str(out))
    assert broken.returncode == 2
    assert "/api-docs/admin.json" in broken.stderr
    assert "not JSON" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert snapshot(out) == before


# --------------------------------------------------------------------------- drift (real repo)


GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "drift test",
    "GIT_AUTHOR_EMAIL": "drift@test.invalid",
    "GIT_COMMITTER_NAME": "drift test",
    "GIT_COMMITTER_EMAIL": "drift@test.invalid",
}
COPIED_DIRS = ("api-contracts", "generated", "codegen", "scripts", "requirements")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    return proc.stdout


def repo_files() -> list[Path]:
    """The repository's tracked files plus everything the contract pipeline needs."""
    listed = git(REPO, "ls-files", "-z").split("\0")
    files = {REPO / name for name in listed if name}
    for directory in COPIED_DIRS:
        files.update(p for p in (REPO / directory).rglob("*") if p.is_file())
    return sorted(
        p for p in files if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def run_check_drift(repo: Path) -> subprocess.CompletedProcess[str]:
    return run_script(str(repo / "scripts" / "check-drift"), "--repo", str(repo))


@pytest.fixture(scope="module")
def committed_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding a committed copy of this repository's pipeline files."""
    for name in (PUBLIC_FILE, ADMIN_FILE):
        if not (REPO / "api-contracts" / name).is_file():
            pytest.fail(f"api-contracts/{name} is missing: run `make fetch-contracts`")
    root = tmp_path_factory.mktemp("drift") / "repo"
    for src in repo_files():
        dest = root / src.relative_to(REPO)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-gpg-sign", "-m", "snapshot")
    return root


@pytest.fixture
def scratch_copy(committed_copy: Path, tmp_path: Path) -> Path:
    """A private clone-by-copy of ``committed_copy`` that a test may modify."""
    dest = tmp_path / "repo"
    shutil.copytree(committed_copy, dest, symlinks=True)
    return dest


def first_described_operation(doc: dict[str, Any]) -> dict[str, Any]:
    """The first operation in ``doc`` that has a description (generated into a docstring)."""
    for item in doc["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("description"):
                return operation
    raise AssertionError("the public contract has no operation with a description")


def test_check_drift_passes_on_a_clean_copy(committed_copy: Path) -> None:
    result = run_check_drift(committed_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "drift check: clean" in result.stdout
    assert git(committed_copy, "status", "--porcelain", "--untracked-files=all") == ""


def test_check_drift_fails_after_a_one_word_description_change(scratch_copy: Path) -> None:
    contract = scratch_copy / "api-contracts" / PUBLIC_FILE
    text = contract.read_text(encoding="utf-8")
    description = str(first_described_operation(json.loads(text))["description"])
    old = json.dumps(description, ensure_ascii=False)
    assert old in text
    first_word, rest = description.split(" ", 1)
    new_word = "Drifted" if first_word != "Drifted" else "Changed"
    contract.write_text(text.replace(old, json.dumps(f"{new_word} {rest}", ensure_ascii=False), 1))

    result = run_check_drift(scratch_copy)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "drift check: clean" not in output
    assert f"api-contracts/{PUBLIC_FILE}" in output
    assert "generated/STAMP.json" in output
    assert "generated/stateset_voice_public/" in output
    assert FIX_HINT in output
    # The regenerated client really carries the new word.
    diff = git(scratch_copy, "diff", "--", "generated/stateset_voice_public").splitlines()
    assert any(line.startswith("+") and new_word in line for line in diff)


def test_fetching_a_changed_public_contract_makes_check_drift_fail(
    scratch_copy: Path, httpserver: HTTPServer
) -> None:
    contracts = scratch_copy / "api-contracts"
    public = json.loads((contracts / PUBLIC_FILE).read_text(encoding="utf-8"))
    admin = json.loads((contracts / ADMIN_FILE).read_text(encoding="utf-8"))
    served = copy.deepcopy(public)
    operation = first_described_operation(served)
    operation["description"] = "Fetched " + operation["description"]
    base_url = serve(httpserver, public=served, admin=admin)

    fetched = run_script(str(scratch_copy / "scripts" / "fetch-contracts"), "--base-url", base_url)
    assert fetched.returncode == 0, fetched.stderr
    assert (contracts / PUBLIC_FILE).read_bytes() == canonical(served)

    result = run_check_drift(scratch_copy)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"api-contracts/{PUBLIC_FILE}" in output
    assert "generated/stateset_voice_public/" in output
    assert FIX_HINT in output
