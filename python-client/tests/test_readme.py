"""The Python examples of the repository's Markdown run, as written, against a live branch.

Every ```python block of every Markdown file (this README, the top README,
docs/...) is run, and so are the `cyme` commands of this README's command
line section; ruby-client/test/readme_test.rb does the same for Ruby blocks.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import env_without_cyme
from cyme_branch.testing import LiveBranch

import cyme

README = Path(__file__).resolve().parents[1] / "README.md"
ROOT = README.parents[1]
# The repository's own README shows the talk's session in Python too.
TOP_README = ROOT / "README.md"
CYME = str(Path(sys.executable).parent / "cyme")
SKIPPED_DIRS = {"node_modules", "build", "dist"}


def markdown_files() -> list[Path]:
    """The repository's Markdown files, leaving out hidden and installed directories."""
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
        found += [Path(top) / name for name in files if name.endswith(".md")]
    return sorted(found)


def _blocks(readme: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)


BLOCKS = _blocks(README)
EXAMPLES = [
    pytest.param(code, id=f"{readme.relative_to(ROOT)}-block{i}")
    for readme in markdown_files()
    for i, code in enumerate(_blocks(readme))
]


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2
    assert _blocks(TOP_README)
    ids = {param.id for param in EXAMPLES}
    assert {"README.md-block0", "python-client/README.md-block0"} <= ids


@pytest.mark.parametrize("code", EXAMPLES)
def test_readme_block(branch: LiveBranch, code: str) -> None:
    # The README says :8000; the test branch listens elsewhere.
    for quote in "'\"":
        code = code.replace(f"{quote}http://:8000{quote}", f"{quote}http://:{branch.port}{quote}")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env_without_cyme(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_readme_command_line(branch: LiveBranch) -> None:
    """The `$ cyme ...` lines of the README, in order; NAME is the instance made by
    `cyme instances add`."""
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(), re.S)
    commands = [
        line[2:] for block in blocks for line in block.splitlines() if line[:7] == "$ cyme "
    ]
    assert len(commands) >= 5
    env = {**env_without_cyme(), "CYME_URL": branch.url}
    name = None
    try:
        for command in commands:
            argv = [name if arg == "NAME" and name else arg for arg in shlex.split(command)]
            assert "NAME" not in argv, f"{command}: no instance was added before"
            done = subprocess.run(
                [CYME, *argv[1:]], capture_output=True, text=True, env=env, timeout=30, check=False
            )
            assert done.returncode == 0, f"{command}: {done.stderr}"
            if argv[1:3] == ["instances", "add"]:
                found = re.search(r"^name\s+(\S+)$", done.stdout, re.M)
                assert found, done.stdout
                name = found.group(1)
    finally:
        with cyme.Client(branch.url) as client:
            if "pycon" in client.all_names():
                client.delete("pycon")
