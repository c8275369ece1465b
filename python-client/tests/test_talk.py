"""The Python session of the 2012 talk (slides 26-32), run as it was typed."""

from __future__ import annotations

from cyme_branch.testing import LiveBranch

from cyme import Client, Scheduled


def test_the_talk_session(branch: LiveBranch) -> None:
    # The talk's branch listened on :8000; ours on a free port of localhost.
    cyme = Client(f"http://:{branch.port}")
    assert cyme.branches == [branch.id]
    if "pycon" in cyme.all_names():  # left by another test of the session
        cyme.delete("pycon")

    app = cyme.add("pycon", broker="amqp://", arguments="--workdir=/opt/play/proj")
    assert repr(app) == f"<App: 'http://localhost:{branch.port}/pycon'>"
    assert app.arguments == "--workdir=/opt/play/proj"

    instance = app.instances.add()
    assert repr(instance) == f"<Instance: '{instance.name}'>"
    assert app.instances.all_names() == [instance.name]
    stats = app.instances.get(app.instances.all_names()[0]).stats()
    assert stats["pool"]["processes"] == stats.pool["processes"]
    assert stats["autoscaler"] == {"current": 1, "max": 1, "min": 1, "qty": 0}

    assert instance.autoscale(min=4, max=10) == {"max": 10, "min": 4}
    assert instance.autoscale()["max"] == 10
    processes = instance.stats()["pool"]["processes"]
    assert len(processes) == 4
    assert all(isinstance(pid, int) for pid in processes)

    queue = app.queues.add(
        "celery", exchange="celery", routing_key="celery", exchange_type="direct"
    )
    assert queue == {
        "name": "celery",
        "exchange": "celery",
        "exchange_type": "direct",
        "routing_key": "celery",
        "options": {},
    }
    assert app.queues.add("celery") == queue  # the same, with the defaults

    assert not isinstance(app.delete(), Scheduled)
    assert "pycon" not in cyme.all_names()
