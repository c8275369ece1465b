"""The drift gate (tools/check_generated.py, `make check-generated`) fails on a
stale generated file, and names it and why, in a copy of the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract import REPO

# What the generators read and write, and the gate itself.
NEEDED = [
    "openapi.yaml",
    "tools",
    "python-client/pyproject.toml",
    "python-client/src/cyme",
    "ruby-client/bin/generate-models",
    "ruby-client/lib/cyme/models/generated.rb",
    "ruby-client/sig/cyme/models/generated.rbs",
    "ruby-client/lib/cyme/routes.rb",
    "ruby-client/sig/cyme/routes.rbs",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in NEEDED:
        source, target = REPO / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return tmp_path


def gate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(repo / "tools" / "check_generated.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_fresh_copy_passes(repo: Path) -> None:
    done = gate(repo)
    assert done.returncode == 0, done.stderr
    assert "17 generated files are what their generators write" in done.stdout


def test_a_changed_spec_names_every_stale_model_file(repo: Path) -> None:
    spec = repo / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    changed = text.replace(
        "    Autoscale:\n      type: object\n      required: [max, min]\n      properties:\n",
        "    Autoscale:\n      type: object\n      required: [max, min]\n      properties:\n"
        "        step: {type: integer}\n",
    )
    assert changed != text
    spec.write_text(changed, encoding="utf-8")
    done = gate(repo)
    assert done.returncode == 1
    for path in (
        "python-client/src/cyme/types/_generated.py",
        "ruby-client/lib/cyme/models/generated.rb",
        "ruby-client/sig/cyme/models/generated.rbs",
        "python-client/src/cyme/_routes.py",
        "python-client/src/cyme/_calls.py",
        "ruby-client/lib/cyme/routes.rb",
        "ruby-client/sig/cyme/routes.rbs",
    ):
        assert f"{path} is stale: it was made from openapi.yaml sha256" in done.stderr
    # The sync resources are made from the async ones, which did not change.
    assert "resources/_sync" not in done.stderr
    assert "+    step: int | None = None" in done.stderr
    assert "7 generated file(s) out of date: run make generate" in done.stderr


def test_a_hand_edited_file_is_named(repo: Path) -> None:
    generated = repo / "ruby-client/lib/cyme/models/generated.rb"
    generated.write_text(
        generated.read_text(encoding="utf-8").replace("def ok = ", "def okay = "), encoding="utf-8"
    )
    resources = repo / "python-client/src/cyme/resources/_sync/apps.py"
    resources.write_text(resources.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    done = gate(repo)
    assert done.returncode == 1
    assert (
        "ruby-client/lib/cyme/models/generated.rb differs from what "
        "ruby-client/bin/generate-models writes, though it was made from this openapi.yaml"
    ) in done.stderr
    assert (
        "python-client/src/cyme/resources/_sync/apps.py is not what tools/generate_sync.py writes"
    ) in done.stderr
    assert "2 generated file(s) out of date" in done.stderr


def test_a_changed_async_resource_names_its_sync_twin(repo: Path) -> None:
    source = repo / "python-client/src/cyme/resources/_async/queues.py"
    source.write_text(
        source.read_text(encoding="utf-8").replace('"""The queues declared in one app.', '"""Q.'),
        encoding="utf-8",
    )
    (repo / "python-client/src/cyme/resources/_sync/gone.py").write_text("", encoding="utf-8")
    done = gate(repo)
    assert done.returncode == 1
    assert (
        "python-client/src/cyme/resources/_sync/queues.py is not what tools/generate_sync.py "
        "writes from the current sources"
    ) in done.stderr
    assert '+    """Q.' in done.stderr
    assert (
        "python-client/src/cyme/resources/_sync/gone.py is not written by "
        "tools/generate_sync.py any more: delete it"
    ) in done.stderr
    assert "2 generated file(s) out of date" in done.stderr
