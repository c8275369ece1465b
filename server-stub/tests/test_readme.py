"""The curl examples of the top-level README.md run, in order, against a live branch.

Every command of the README's ```console blocks (`$ ` lines) and ```sh blocks
that is a curl command or a shell variable assignment is run in one bash
session, so that variables such as NAME carry over; other commands (`make
serve`) are skipped. `http://localhost:8000` is replaced by the test branch's
URL, and curl runs with --fail-with-body unless the README shows an HTTP error
(`curl -i` output starting with `HTTP/1.1 4xx`).

The output shown under a command must match what it printed: `…` stands for
any text, a UUID for any UUID, and for `curl -i` output the status line, the
headers shown (the others may be left out with a `…` line) and the body are
compared.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cyme_branch.testing import LiveBranch

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://localhost:8000"
ELLIPSIS = "…"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RUNNABLE = re.compile(r"^(curl\s|[A-Za-z_][A-Za-z0-9_]*=)")


@dataclass
class Example:
    line: int  # of the command in README.md
    command: str
    expected: str  # the output shown under it; empty when none is shown

    @property
    def expects_http_error(self) -> bool:
        return re.match(r"HTTP/[\d.]+ [45]\d\d ", self.expected) is not None


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def parse_readme(text: str) -> list[Example]:
    """The commands of the ```console and ```sh blocks, with their shown output."""
    examples: list[Example] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w+)\s*$", lines[i])
        i += 1
        if not fence:
            continue
        block: list[tuple[int, str]] = []
        while i < len(lines) and not lines[i].startswith("```"):
            block.append((i + 1, lines[i]))
            i += 1
        i += 1
        if fence.group(1) == "console":
            examples += _console_examples(block)
        elif fence.group(1) == "sh":
            examples += _sh_examples(block)
    return examples


def _joined(block: list[tuple[int, str]], j: int, first: str) -> tuple[str, int]:
    """A command and its continuation lines (ending with a backslash)."""
    command = first
    while command.endswith("\\") and j + 1 < len(block):
        j += 1
        command = command[:-1] + "\n" + block[j][1]
    return command, j


def _console_examples(block: list[tuple[int, str]]) -> list[Example]:
    examples: list[Example] = []
    j = 0
    while j < len(block):
        number, line = block[j]
        if not line.startswith("$ "):
            j += 1
            continue
        command, j = _joined(block, j, line[2:])
        output: list[str] = []
        j += 1
        while j < len(block) and not block[j][1].startswith("$ "):
            output.append(block[j][1])
            j += 1
        examples.append(Example(number, command, "\n".join(output).strip()))
    return examples


def _sh_examples(block: list[tuple[int, str]]) -> list[Example]:
    examples: list[Example] = []
    j = 0
    while j < len(block):
        number, line = block[j]
        if line.strip() and not line.lstrip().startswith("#"):
            command, j = _joined(block, j, line.strip())
            examples.append(Example(number, command, ""))
        j += 1
    return examples


EXAMPLES = [
    e for e in parse_readme(README.read_text(encoding="utf-8")) if RUNNABLE.match(e.command)
]


def _pattern(expected: str) -> re.Pattern[str]:
    """`…` matches anything, a UUID any UUID, the rest itself."""
    parts = []
    for piece in re.split(f"({re.escape(ELLIPSIS)}|{UUID})", expected):
        if piece == ELLIPSIS:
            parts.append(".*?")
        elif re.fullmatch(UUID, piece):
            parts.append(UUID)
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts), re.DOTALL)


def assert_output_matches(expected: str, actual: str) -> None:
    actual = actual.replace("\r\n", "\n").strip()
    if not expected.startswith("HTTP/"):
        assert _pattern(expected).fullmatch(actual), (
            f"README shows:\n{expected}\nthe branch printed:\n{actual}"
        )
        return
    shown_head, _, shown_body = expected.partition("\n\n")
    shown_lines = shown_head.splitlines()
    if not shown_body and shown_lines and shown_lines[-1].lstrip().startswith("{"):
        shown_body = shown_lines.pop()  # a body right after a `…` line
    head, _, body = actual.partition("\n\n")
    status, *header_lines = head.splitlines()
    headers = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert status.split()[:2] == shown_lines[0].split()[:2], (
        f"README shows {shown_lines[0]!r}, the branch answered {status!r}"
    )
    for shown in shown_lines[1:]:
        if shown.strip() == ELLIPSIS:
            continue
        name, _, value = shown.partition(":")
        assert headers.get(name.strip().lower()) == value.strip(), (
            f"README shows the header {shown!r}; the branch sent:\n{head}"
        )
    if shown_body.strip():
        assert _pattern(shown_body.strip()).fullmatch(body.strip()), (
            f"README shows the body:\n{shown_body}\nthe branch sent:\n{body}"
        )


@pytest.fixture(scope="module")
def branch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A branch of its own, as a reader's `make serve` would run it."""
    directory = tmp_path_factory.mktemp("readme-branch")
    with LiveBranch(directory, "readme", state_dir=directory / "state") as live:
        yield live.url


@pytest.fixture(scope="module")
def tour(branch_url: str, tmp_path_factory: pytest.TempPathFactory) -> list[Outcome | None]:
    """Run every example in one bash session; None for those after a failure."""
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's examples (make install installs it)")
    work = tmp_path_factory.mktemp("readme-tour")
    script = [
        "set -u -o pipefail",
        'curl() { command curl --silent --show-error --max-time 10 $CYME_FAIL "$@"; }',
    ]
    for n, example in enumerate(EXAMPLES):
        fail = "" if example.expects_http_error else "--fail-with-body"
        command = example.command.replace(README_URL, branch_url)
        script += [
            f"CYME_FAIL={fail}",
            "{",
            command,
            f"}} >{work}/{n}.out 2>{work}/{n}.err",
            f"echo $? >{work}/{n}.rc",
            f'[ "$(cat {work}/{n}.rc)" = 0 ] || exit 1',
        ]
    (work / "tour.sh").write_text("\n".join(script) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    subprocess.run(["bash", str(work / "tour.sh")], cwd=work, env=env, timeout=300, check=False)
    outcomes: list[Outcome | None] = []
    for n in range(len(EXAMPLES)):
        rc = work / f"{n}.rc"
        if not rc.exists():
            outcomes.append(None)
            continue
        outcomes.append(
            Outcome(
                int(rc.read_text().strip()),
                (work / f"{n}.out").read_text(errors="replace"),
                (work / f"{n}.err").read_text(errors="replace"),
            )
        )
    return outcomes


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[f"line{e.line}" for e in EXAMPLES])
def test_readme_example(index: int, tour: list[Outcome | None]) -> None:
    example = EXAMPLES[index]
    outcome = tour[index]
    if outcome is None:
        pytest.skip("an earlier README command failed")
    assert outcome.returncode == 0, (
        f"README.md line {example.line}: {example.command}\n"
        f"exit {outcome.returncode}\nstdout: {outcome.stdout}\nstderr: {outcome.stderr}"
    )
    if example.expected:
        assert_output_matches(example.expected, outcome.stdout)


def _output_of(tour: list[Outcome | None], pattern: str) -> object:
    """The JSON printed by the one README command that matches `pattern`."""
    found = [
        (example, outcome)
        for example, outcome in zip(EXAMPLES, tour, strict=True)
        if re.search(pattern, example.command)
    ]
    assert len(found) == 1, f"README.md should have one curl example matching {pattern!r}"
    example, outcome = found[0]
    assert outcome is not None and outcome.returncode == 0, f"{example.command} failed"
    return json.loads(outcome.stdout)


def test_readme_tour_key_outputs(tour: list[Outcome | None]) -> None:
    """The talk's steps are in the tour, and their answers are the ones it shows."""
    app = _output_of(tour, r"-X PUT \$CYME_URL/pycon -d broker=")
    assert app == {
        "name": "pycon",
        "broker": "amqp://guest:**@localhost:5672//",
        "arguments": "--workdir=/opt/play/proj",
        "extra_config": {},
    }
    created = _output_of(tour, r"-X POST \$CYME_URL/pycon/instances$")
    assert isinstance(created, dict)
    assert re.fullmatch(UUID, created["name"])
    assert _output_of(tour, r"^curl \$CYME_URL/pycon/instances$") == [created["name"]]
    assert _output_of(tour, r"/autoscale\?min=4&max=10") == {"max": 10, "min": 4}
    stats = _output_of(tour, r"/stats$")
    assert isinstance(stats, dict)
    assert stats["autoscaler"]["max"] == 10
    assert stats["autoscaler"]["min"] == 4
    queue = _output_of(tour, r"-X PUT \$CYME_URL/pycon/queues/celery$")
    assert isinstance(queue, dict)
    assert queue["name"] == "celery"
    consumer = _output_of(tour, r"-X PUT \$CYME_URL/pycon/instances/\$NAME/queues/celery$")
    assert isinstance(consumer, dict)
    assert consumer["name"] == "celery"
    instance = _output_of(tour, r"^curl \$CYME_URL/pycon/instances/\$NAME$")
    assert isinstance(instance, dict)
    assert instance["queues"] == ["celery"]
    assert (instance["min_concurrency"], instance["max_concurrency"]) == (4, 10)
    deleted = _output_of(tour, r"-X DELETE \$CYME_URL/pycon$")
    assert isinstance(deleted, dict)
    assert deleted["name"] == "pycon"
    assert _output_of(tour, r"^curl \$CYME_URL/$") == []


def test_readme_setup_is_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\w*\n(.*?)```", section, re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["make serve", "make test"]
