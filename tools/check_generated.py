"""The drift gate: regenerate both SDKs' generated files and fail on any difference.

    python tools/check_generated.py

runs every generator of the repository into a temporary directory and
compares each output with the committed file:

    python-client/src/cyme/types/_generated.py    tools/generate_models.py, from openapi.yaml
    python-client/src/cyme/resources/_sync/*.py   tools/generate_sync.py, one for each
                                                  resources/_async/*.py
    ruby-client/lib/cyme/models/generated.rb      ruby-client/bin/generate-models, from openapi.yaml
    ruby-client/sig/cyme/models/generated.rbs     ruby-client/bin/generate-models, from openapi.yaml
    python-client/src/cyme/_routes.py             tools/generate_routes.py, from openapi.yaml
    python-client/src/cyme/_calls.py              tools/generate_routes.py, from openapi.yaml
    ruby-client/lib/cyme/routes.rb                tools/generate_routes.py, from openapi.yaml
    ruby-client/sig/cyme/routes.rbs               tools/generate_routes.py, from openapi.yaml

Nothing is written in the repository. A stale file is named, with the reason
when it can be told (a file of resources/_sync/ whose source is gone is
stale too): the files made from openapi.yaml record the sha256 of
the spec they were made from, so a file made from an older spec says so.
The exit status is 1 when any file is stale (`make generate` fixes them).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
RECORDED = re.compile(r"openapi\.yaml sha256: ([0-9a-f]{64})")
DIFF_LINES = 40


@dataclass(frozen=True)
class Generated:
    path: str  # in the repository
    generator: str  # what writes it, for the message
    from_spec: bool  # made from openapi.yaml, recording its hash


PYTHON_MODELS = Generated(
    "python-client/src/cyme/types/_generated.py", "tools/generate_models.py", from_spec=True
)
PYTHON_SYNC_SOURCES = "python-client/src/cyme/resources/_async"
PYTHON_SYNC_TARGETS = "python-client/src/cyme/resources/_sync"
RUBY_MODELS = Generated(
    "ruby-client/lib/cyme/models/generated.rb", "ruby-client/bin/generate-models", from_spec=True
)
RUBY_SIGNATURES = Generated(
    "ruby-client/sig/cyme/models/generated.rbs", "ruby-client/bin/generate-models", from_spec=True
)
ROUTE_TABLES = tuple(
    Generated(path, "tools/generate_routes.py", from_spec=True)
    for path in (
        "python-client/src/cyme/_routes.py",
        "python-client/src/cyme/_calls.py",
        "ruby-client/lib/cyme/routes.rb",
        "ruby-client/sig/cyme/routes.rbs",
    )
)


def python_sync() -> tuple[Generated, ...]:
    """The sync resources: one for each async module, and any left without one."""
    names = {path.name for path in (ROOT / PYTHON_SYNC_SOURCES).glob("*.py")}
    names |= {path.name for path in (ROOT / PYTHON_SYNC_TARGETS).glob("*.py")}
    return tuple(
        Generated(f"{PYTHON_SYNC_TARGETS}/{name}", "tools/generate_sync.py", from_spec=False)
        for name in sorted(names)
    )


def generated() -> tuple[Generated, ...]:
    """Every generated file of the repository."""
    return (PYTHON_MODELS, *python_sync(), RUBY_MODELS, RUBY_SIGNATURES, *ROUTE_TABLES)


def regenerate(out: Path) -> None:
    """Write what every generator makes of the current sources under `out`."""
    target = out / PYTHON_MODELS.path
    target.parent.mkdir(parents=True, exist_ok=True)
    run([sys.executable, str(ROOT / PYTHON_MODELS.generator), str(target)])
    run([sys.executable, str(ROOT / "tools" / "generate_sync.py"), str(out)])
    run(["ruby", str(ROOT / RUBY_MODELS.generator), "--output-dir", str(out / "ruby-client")])
    run([sys.executable, str(ROOT / "tools" / "generate_routes.py"), str(out)])


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")


def recorded_hash(text: str) -> str | None:
    found = RECORDED.search(text)
    return found.group(1) if found else None


def why_stale(file: Generated, committed: str | None, fresh: str | None, spec_hash: str) -> str:
    """The message for a committed file that differs from the generator's output."""
    if committed is None:
        return f"{file.path} is missing (it is written by {file.generator})"
    if fresh is None:
        return f"{file.path} is not written by {file.generator} any more: delete it"
    if not file.from_spec:
        return f"{file.path} is not what {file.generator} writes from the current sources"
    made_from = recorded_hash(committed)
    if made_from is None:
        return f"{file.path} records no openapi.yaml hash: it was not made by {file.generator}"
    if made_from != spec_hash:
        return (
            f"{file.path} is stale: it was made from openapi.yaml sha256 {made_from[:12]}, "
            f"and openapi.yaml is now sha256 {spec_hash[:12]}"
        )
    return (
        f"{file.path} differs from what {file.generator} writes, though it was made from "
        f"this openapi.yaml (sha256 {spec_hash[:12]}): it was edited by hand, or its "
        "generator changed"
    )


def check() -> list[str]:
    """A message for each stale file; empty when every file is up to date."""
    spec_hash = hashlib.sha256(SPEC.read_bytes()).hexdigest()
    problems = []
    with tempfile.TemporaryDirectory(prefix="cyme-generated-") as tmp:
        out = Path(tmp)
        regenerate(out)
        for file in generated():
            made = out / file.path
            fresh = made.read_text(encoding="utf-8") if made.exists() else None
            path = ROOT / file.path
            committed = path.read_text(encoding="utf-8") if path.exists() else None
            if committed == fresh:
                continue
            diff = difflib.unified_diff(
                (committed or "").splitlines(keepends=True),
                (fresh or "").splitlines(keepends=True),
                f"{file.path} (committed)",
                f"{file.path} (generated)",
            )
            shown = "".join(list(diff)[:DIFF_LINES])
            problems.append(f"{why_stale(file, committed, fresh, spec_hash)}\n{shown}")
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} generated file(s) out of date: run make generate", file=sys.stderr)
        return 1
    print(f"{len(generated())} generated files are what their generators write")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
