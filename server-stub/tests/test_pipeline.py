"""The pipeline: its steps are the ones the README lists, and a step goes in with one line."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp.test_utils import make_mocked_request

from cyme_branch.pipeline import PIPELINE, Check, Exchange, Step, build
from cyme_branch.rendering import Answer

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_lists_the_steps_of_the_pipeline():
    section = README.read_text(encoding="utf-8").split("## How a request is served", 1)[1]
    section = section.split("\n## ", 1)[0]
    listed = re.findall(r"^\d+\. \*\*([^*]+)\*\*", section, re.M)
    assert listed == [step.name for step in PIPELINE]


def _pipeline(seen: list[str]) -> tuple[Step | Check, ...]:
    """Steps that say when they run; one of them has nothing to do and is left out."""

    def around(name: str):
        def bind(branch, call_next):
            async def step(x):
                seen.append(f"{name} in")
                answer = await call_next(x)
                seen.append(f"{name} out")
                return answer

            return step

        return bind

    def check(name: str):
        def bind(branch):
            return lambda x: seen.append(name)

        return bind

    def answer(branch, call_next):
        async def step(x):
            seen.append("answer")
            return Answer(200, {}, b"{}")

        return step

    return (
        Step("outer", around("outer")),
        Check("a", check("a")),
        Step("off", lambda branch, call_next: None),
        Check("b", check("b")),
        Step("middle", around("middle")),
        Check("c", check("c")),
        Step("answer", answer),
    )


def test_steps_run_in_their_order_and_one_left_out_costs_nothing():
    seen: list[str] = []
    steps = _pipeline(seen)
    endpoint = build(object(), steps)
    exchange = Exchange(make_mocked_request("GET", "/"), "/", "")
    assert asyncio.run(endpoint(exchange)).status == 200
    assert seen == ["outer in", "a", "b", "middle in", "c", "answer", "middle out", "outer out"]


def test_a_step_goes_in_with_one_line():
    seen: list[str] = []
    steps = list(_pipeline(seen))
    steps.insert(4, Check("inserted", lambda branch: lambda x: seen.append("inserted")))
    endpoint = build(object(), tuple(steps))
    asyncio.run(endpoint(Exchange(make_mocked_request("GET", "/"), "/", "")))
    assert seen.index("b") < seen.index("inserted") < seen.index("middle in")


def test_a_check_that_answers_ends_the_request_there():
    """As the preflight does: the checks after it and the steps below do not run."""
    seen: list[str] = []

    def answering(branch):
        def check(x):
            seen.append("answering")
            return Answer(204, {}, b"")

        return check

    steps = list(_pipeline(seen))
    steps.insert(2, Check("answering", answering))
    endpoint = build(object(), tuple(steps))
    exchange = Exchange(make_mocked_request("OPTIONS", "/"), "/", "")
    assert asyncio.run(endpoint(exchange)).status == 204
    assert seen == ["outer in", "a", "answering", "outer out"]
