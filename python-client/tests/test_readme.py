"""The README's Python examples run, as written, against a live branch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LiveBranch, env_without_cyme

README = Path(__file__).resolve().parents[1] / "README.md"
# The repository's own README shows the talk's session in Python too.
TOP_README = README.parents[1] / "README.md"


def _blocks(readme: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)


BLOCKS = _blocks(README)
EXAMPLES = [
    pytest.param(code, id=f"{readme.parent.name}-block{i}")
    for readme in (README, TOP_README)
    for i, code in enumerate(_blocks(readme))
]


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2
    assert _blocks(TOP_README)


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
