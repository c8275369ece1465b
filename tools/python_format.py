"""Put generated Python through ruff, as the SDK's own code is.

The generators of the Python SDK (generate_models.py, generate_sync.py) end
with this step, so that what they write passes `ruff check` and `ruff format
--check` as committed, with python-client's settings wherever the output is
written (the drift gate writes it in a temporary directory).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "python-client" / "pyproject.toml"


def ruff() -> str:
    """The ruff of this Python's environment, else the one on PATH."""
    local = Path(sys.executable).parent / "ruff"
    found = str(local) if local.exists() else shutil.which("ruff")
    if found is None:
        raise SystemExit("the Python SDK's generators need ruff (pip install ruff)")
    return found


def ruff_clean(source: str, path: Path) -> str:
    """`source`, as the file `path` of the repository: imports sorted, fixes applied,
    formatted. Fails, naming the rule, when something is left that ruff cannot fix."""
    # Formatted first, so that the check sees no line that formatting would fold.
    for command in (["format"], ["check", "--fix", "--quiet"], ["format"]):
        argv = [ruff(), *command, "--config", str(CONFIG), "--stdin-filename", str(path), "-"]
        done = subprocess.run(argv, input=source, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"ruff {command[0]} failed on the generated {path}:\n{done.stderr}")
        source = done.stdout
    return source
