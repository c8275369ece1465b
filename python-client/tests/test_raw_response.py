"""`with_raw_response`: a call's value with the metadata of its last HTTP answer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from conftest import Api, unique
from cyme_branch.testing import LiveBranch

import cyme


def fault(value: str) -> dict[str, str]:
    return {"Cyme-Fault": f"{value}; id={unique('fault')}"}


def test_a_method_and_its_arguments(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    raw = run(c.with_raw_response(c.apps.get, app.name))
    assert isinstance(raw, cyme.RawResponse)
    assert raw.data == app
    assert raw.data.client is c
    assert raw.status_code == 200
    assert raw.method == "GET"
    assert raw.url == f"{c.base_url}/{app.name}"
    assert raw.request_id
    assert raw.request_id == raw.headers["x-request-id"]
    assert raw.headers["content-type"].startswith("application/json")
    run(app.delete())


def test_a_function_of_several_calls_gives_the_last_answer(api: Api) -> None:
    c, run = api.client, api.run
    app = run(c.add(unique("app")))
    run(app.instances.add("w1"))

    def several() -> object:  # names, then each instance: the last request is a get
        if api.kind == "sync":
            return [app.instances.get(name) for name in app.instances.all_names()]

        async def both() -> object:
            return [await app.instances.get(name) for name in await app.instances.all_names()]

        return both()

    raw = run(c.with_raw_response(several))
    assert [instance.name for instance in raw.data] == ["w1"]
    assert (raw.method, raw.url) == ("GET", f"{c.base_url}/{app.name}/instances/w1")
    scheduled = run(c.with_raw_response(app.instances.delete, "w1", nowait=True))
    assert isinstance(scheduled.data, cyme.types.Scheduled)
    # The URL of the request, without its query (`?nowait=true`).
    assert (scheduled.status_code, scheduled.method) == (202, "DELETE")
    assert scheduled.url == f"{c.base_url}/{app.name}/instances/w1"
    run(app.delete())


def test_errors_are_raised_as_they_are(api: Api) -> None:
    with pytest.raises(cyme.NotFoundError):
        api.run(api.client.with_raw_response(api.client.get, unique("missing")))


def test_a_call_without_a_request_is_an_error(api: Api) -> None:
    async def nothing() -> int:
        return 1

    with pytest.raises(RuntimeError, match="sent no request"):
        api.run(api.client.with_raw_response(nothing if api.is_async else lambda: 1))


def test_concurrent_tasks_each_get_their_own(branch: LiveBranch) -> None:
    """A task's answer never lands in another task's recording, even when it comes
    while that one records too: `ping` starts first and answers during `all_names`."""

    async def main() -> list[Any]:
        async with cyme.AsyncClient(branch.url) as c:
            quick = c.with_raw_response(c.ping, extra_headers=fault("delay=0.2"))
            slow = c.with_raw_response(c.all_names, extra_headers=fault("delay=0.6"))
            return list(await asyncio.gather(quick, slow))

    quick, slow = asyncio.run(main())
    assert (quick.url, slow.url) == (f"{branch.url}/ping", f"{branch.url}/")
    assert quick.data == "pong"


def test_threads_each_get_their_own(client: cyme.Client, branch: LiveBranch) -> None:
    """The same with threads: the thread's `ping` answers while `all_names` records."""
    found: dict[str, str] = {}
    started = threading.Event()

    def quick() -> str:
        started.set()
        return client.ping(extra_headers=fault("delay=0.3"))

    thread = threading.Thread(
        target=lambda: found.update(quick=client.with_raw_response(quick).url)
    )
    thread.start()
    started.wait()
    found["slow"] = client.with_raw_response(client.all_names, extra_headers=fault("delay=0.8")).url
    thread.join()
    assert found == {"quick": f"{branch.url}/ping", "slow": f"{branch.url}/"}
