"""Generate the Python SDK's sync resources from the async ones, with unasync.

    python tools/generate_sync.py [ROOT]

writes python-client/src/cyme/resources/_sync/NAME.py for each
resources/_async/NAME.py (with ROOT, under ROOT instead of the repository:
the drift gate, tools/check_generated.py, compares them with the committed
files), and removes a file of _sync/ whose source is gone.

Why: `Client` and `AsyncClient` run the same operations, each with models
bound to itself (`App` to a `Client`, `AsyncApp` to an `AsyncClient`). The
async resources are the one source; unasync (python-trio's token rewriter)
drops `async` and `await` and renames the async names, the way httpcore keeps
its two clients. The sync code is plain code, with no conversion between
the two at run time. The output gets a header, then ruff sorts its imports
and formats it like the rest of the package.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import unasync  # type: ignore[import-untyped]
from python_format import ruff_clean

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = Path("python-client/src/cyme/resources")
SOURCE = RESOURCES / "_async"
TARGET = RESOURCES / "_sync"

# Beyond unasync's own (`__aenter__`, `AsyncIterator`, ...; any other `AsyncX`
# becomes `SyncX`, as `AsyncAPIClient` -> `SyncAPIClient`): the names that the
# sync side spells without a prefix.
RENAMES = {
    name: name.removeprefix("Async")
    for name in (
        "AsyncApp",
        "AsyncApps",
        "AsyncBound",
        "AsyncBranch",
        "AsyncBranchOperations",
        "AsyncClient",
        "AsyncCluster",
        "AsyncConsumers",
        "AsyncInstance",
        "AsyncInstances",
        "AsyncPlacement",
        "AsyncQueues",
        "AsyncResource",
        "AsyncScheduled",
        "AsyncTask",
        "AsyncTasks",
    )
}


def header(name: str) -> str:
    return f"# Generated from resources/_async/{name} by tools/generate_sync.py; do not edit.\n"


def render(source_dir: Path = ROOT / SOURCE) -> dict[str, str]:
    """The text of each sync module, by file name."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="cyme-sync-") as tmp:
        rule = unasync.Rule(str(source_dir) + "/", tmp + "/", additional_replacements=RENAMES)
        sources = sorted(source_dir.glob("*.py"))
        unasync.unasync_files([str(path) for path in sources], [rule])
        for path in sources:
            text = (Path(tmp) / path.name).read_text(encoding="utf-8")
            out[path.name] = ruff_clean(header(path.name) + text, ROOT / TARGET / path.name)
    return out


def main(argv: list[str]) -> int:
    target = (Path(argv[1]) if len(argv) > 1 else ROOT) / TARGET
    target.mkdir(parents=True, exist_ok=True)
    files = render()
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
    for stale in target.glob("*.py"):
        if stale.name not in files:
            stale.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
