"""One verdict from the two runners: every scenario must pass in every language.

    python tests/contract/verdict.py [RESULTS_DIR]

reads python.json and ruby.json from RESULTS_DIR (build/contract by default,
where the runners write them) and fails when a scenario of
tests/contract/scenarios failed, was skipped or is missing in any run, when a
runner read a scenario differently (its digest differs), or when a results
file names a scenario that no longer exists. Scenarios that pass in one
language and fail in the other are named as such: that is drift between the
SDKs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import REPO, load_all

# The runs each runner makes of every scenario (Python's: python_ops.MODES,
# `AsyncClient` once on httpx's transport and once on aiohttp's).
RUNS: dict[str, tuple[str, ...]] = {"python": ("sync", "async", "aiohttp"), "ruby": ("sync",)}


@dataclass(frozen=True)
class Verdict:
    table: list[tuple[str, dict[str, str]]]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def decide(
    scenarios: Mapping[str, str], results: Mapping[str, Mapping[str, Any] | None]
) -> Verdict:
    """`scenarios` maps each scenario to its digest; `results` each language to
    its runner's results file (None when there is none)."""
    problems: list[str] = []
    for language, data in results.items():
        if data is None:
            problems.append(f"no results from the {language} runner")
        elif data.get("language") != language:
            problems.append(f"the {language} results file is from {data.get('language')!r}")
    table = []
    for name, digest in scenarios.items():
        row: dict[str, str] = {}
        for language, modes in RUNS.items():
            got = (results.get(language) or {}).get("scenarios", {}).get(name)
            for mode in modes:
                row[f"{language} {mode}"] = (
                    "missing" if got is None else got["runs"].get(mode, "missing")
                )
            if got is not None and got.get("digest") != digest:
                problems.append(f"{name}: the {language} runner read it differently (digest)")
        table.append((name, row))
        by_language = {
            language: all(row[f"{language} {mode}"] == "passed" for mode in modes)
            for language, modes in RUNS.items()
        }
        failing = [column for column, outcome in row.items() if outcome != "passed"]
        if len(set(by_language.values())) > 1:
            passing = [language for language, ok in by_language.items() if ok]
            problems.append(
                f"{name}: passes in {', '.join(passing)} but not in "
                + ", ".join(language for language, ok in by_language.items() if not ok)
                + f" ({', '.join(f'{c}: {row[c]}' for c in failing)})"
            )
        elif failing:
            problems.append(f"{name}: {', '.join(f'{c}: {row[c]}' for c in failing)}")
    for language, data in results.items():
        for name in sorted(set((data or {}).get("scenarios", {})) - set(scenarios)):
            problems.append(f"{name}: in the {language} results, but no such scenario")
    return Verdict(table, problems)


def render(verdict: Verdict) -> str:
    columns = [f"{language} {mode}" for language, modes in RUNS.items() for mode in modes]
    width = max([len("scenario"), *(len(name) for name, _ in verdict.table)])
    # Each column as wide as its name or its widest outcome ("skipped", "missing").
    widths = [max(len(c), len("missing")) for c in columns]
    lines = ["  ".join(["scenario".ljust(width), *map(str.ljust, columns, widths)]).rstrip()]
    for name, row in verdict.table:
        cells = [row[c].ljust(w) for c, w in zip(columns, widths, strict=True)]
        lines.append("  ".join([name.ljust(width), *cells]).rstrip())
    if verdict.ok:
        lines.append(f"{len(verdict.table)} scenarios, every one passed in every run.")
    else:
        lines.append("The contract suite fails:")
        lines += [f"  - {problem}" for problem in verdict.problems]
    return "\n".join(lines)


def read(path: Path) -> Mapping[str, Any] | None:
    if not path.exists():
        return None
    data: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else REPO / "build" / "contract"
    scenarios = {scenario.name: scenario.digest for scenario in load_all()}
    results = {language: read(directory / f"{language}.json") for language in RUNS}
    verdict = decide(scenarios, results)
    print(render(verdict))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
