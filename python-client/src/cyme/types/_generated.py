# Generated from openapi.yaml by datamodel-code-generator (tools/generate_models.py);
# do not edit.
# openapi.yaml sha256: 7ef3b2c1a021f546da3bd793fd2d47c9be7d017aae6ec5a512115987cae03a0a
"""Models of the component schemas of openapi.yaml."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from cyme.types._base import CymeModel


class Scheduled(CymeModel):
    """What a `nowait` request scheduled."""

    ok: str
    operation: str
    """The operationId that will run."""
    target: str
    """The path of the resource it changes; poll it to see the change."""
    id: str
    """The change's id, to follow it with `GET /operations/{id}`."""


class Ok(CymeModel):
    ok: str


class InstanceInput(CymeModel):
    broker: str | None = None
    """Defaults to the app's broker."""
    pool: Literal["prefork", "threads", "solo", "eventlet", "gevent"] | None = None
    """Defaults to `prefork`."""
    arguments: str | None = None
    """Added after the app's arguments."""
    extra_config: dict[str, str | int | float | bool | None] | None = None
    """Merged over the app's extra_config."""


class Autoscale(CymeModel):
    max: int
    """The largest pool a worker may grow to."""
    min: int
    """A number of pool processes."""


class AutoscaleInput(CymeModel):
    max: int | None = None
    """The largest pool a worker may grow to."""
    min: int | None = None
    """A number of pool processes."""


class Queue(CymeModel):
    """A queue declaration."""

    name: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    exchange: str
    """An AMQP exchange name; empty for the default exchange."""
    exchange_type: Literal["direct", "topic", "fanout", "headers"]
    routing_key: str
    """A routing key (topic patterns such as `tasks.#` allowed)."""
    options: dict[str, Any]
    """
    Extra queue, exchange and binding options passed to kombu
    (`queue_arguments`, `durable`, `auto_delete`, ...).
    """
    messages: int | None = None
    """
    In `GET` answers (and `details` lists): the messages waiting in
    the queue on the app's broker; null when it cannot be read.
    """
    consumers: int | None = None
    """
    In `GET` answers (and `details` lists): the queue's consumers, as
    the broker counts them on AMQP; on Redis, this branch's running
    workers that consume it. Null when it cannot be read.
    """
    depth_error: str | None = None
    """
    In `GET` answers (and `details` lists): why `messages` and
    `consumers` are null (the broker cannot be reached, does not
    answer in time...); null when they were read.
    """


class QueueInput(CymeModel):
    exchange: str | None = None
    """Defaults to the queue's name."""
    exchange_type: Literal["direct", "topic", "fanout", "headers"] | None = None
    """Defaults to `direct`."""
    routing_key: str | None = None
    """Defaults to the queue's name."""
    options: dict[str, Any] | None = None
    """Defaults to `{}`."""


class ConsumerExchange(CymeModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str
    type: str
    durable: bool | None = None
    auto_delete: bool | None = None


class Consumer(CymeModel):
    """One entry of Celery's `active_queues` reply."""

    model_config = ConfigDict(
        extra="allow",
    )
    name: str
    exchange: ConsumerExchange
    routing_key: str
    durable: bool | None = None
    exclusive: bool | None = None
    auto_delete: bool | None = None
    no_ack: bool | None = None
    queue_arguments: dict[str, Any] | None = None
    binding_arguments: dict[str, Any] | None = None
    consumer_arguments: dict[str, Any] | None = None


class StatsPool(CymeModel):
    model_config = ConfigDict(
        extra="allow",
    )
    implementation: str | None = None
    max_concurrency: int | None = Field(None, alias="max-concurrency")
    processes: list[int] | None = None
    """Process ids of the pool."""
    max_tasks_per_child: int | str | None = Field(None, alias="max-tasks-per-child")
    put_guarded_by_semaphore: bool | None = Field(None, alias="put-guarded-by-semaphore")
    timeouts: list[float | None] | None = None
    writes: dict[str, Any] | None = None


class StatsAutoscaler(CymeModel):
    """Present when the worker autoscales."""

    model_config = ConfigDict(
        extra="allow",
    )
    max: int | None = None
    min: int | None = None
    current: int | None = None
    qty: int | None = None


class StatsBroker(CymeModel):
    """The worker's broker connection; never its password."""

    model_config = ConfigDict(
        extra="allow",
    )
    hostname: str | None = None
    userid: str | None = None
    virtual_host: str | None = None
    port: int | None = None
    transport: str | None = None
    ssl: bool | dict[str, Any] | None = None


class Stats(CymeModel):
    """
    A worker's reply to `celery inspect stats`. The keys below are those
    of a Celery 5 prefork worker; other keys may appear and are kept.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    total: dict[str, int] | None = None
    """Tasks executed, by task name."""
    pid: int
    clock: str | None = None
    """The worker's logical clock."""
    uptime: int | None = None
    """Seconds since the worker started."""
    pool: StatsPool
    autoscaler: StatsAutoscaler | None = None
    """Present when the worker autoscales."""
    broker: StatsBroker | None = None
    """The worker's broker connection; never its password."""
    prefetch_count: int | None = None
    rusage: dict[str, Any] | None = None


class ProblemError(CymeModel):
    location: Literal["path", "query", "header", "body"]
    field: str
    """The field's name; nested fields are dotted."""
    message: str


class Problem(CymeModel):
    """An RFC 9457 problem document."""

    type: str
    """Identifies the kind of problem (see the table in the API description)."""
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    """The path of the request."""
    errors: list[ProblemError] | None = None
    """For 422, every invalid field."""
    task_id: str | None = None
    """
    Of a task's problem: the task's id, when it was sent or may have
    been (a backend that cannot be read, a broker that did not answer
    in time).
    """
    sent: bool | None = None
    """
    Of a problem sending a task: whether its message went out (false:
    it did not; null: it cannot be known, follow `task_id`).
    """


class ClusterPart(CymeModel):
    """What one member answered to a cluster-wide request."""

    branch: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    url: str
    """The member's URL, as it announced it."""
    state: Literal["ok", "error", "unreachable"]
    """
    `ok`: it answered; `error`: it answered with an error (`status`,
    `detail`); `unreachable`: it did not answer in time, or could not
    be reached (`detail`).
    """
    status: int | None = None
    """The status it answered; left out when it did not answer."""
    detail: str | None = None
    """What went wrong; left out when nothing did."""
    items: list[dict[str, Any]] | list[str] | None = None
    """
    Its answer, when `ok`; the names, or the objects with
    `details=true`.
    """


class ClusterList(CymeModel):
    """A read with `scope=cluster`, one part per member, this branch first."""

    scope: Any
    stale: bool
    """
    True when this branch has lost the cluster's broker and answers
    from its last view.
    """
    branches: list[ClusterPart]


class Declaration(CymeModel):
    """An app or a queue declared, or deleted, on the whole cluster."""

    kind: Literal["app", "queue"]
    app: str
    """A name that is not one of the branch's own routes."""
    queue: str | None = None
    """The queue's name, for a queue."""
    version: float
    """
    Seconds since the epoch by the declaring branch's clock, never
    behind a version it had seen.
    """
    origin: str
    """The branch it was declared on."""
    deleted: bool
    """True for a deletion."""
    fields: dict[str, Any]
    """
    The fields declared (an app's or a queue's input); passwords are
    masked when listed.
    """


class DeclarationList(CymeModel):
    digest: str
    """What members announce to tell whether they hold the same declarations."""
    declarations: list[Declaration]


class DeclarationsInput(CymeModel):
    declarations: list[Declaration]


class DeclarationsAppliedFailedItem(CymeModel):
    kind: str
    app: str
    """A name that is not one of the branch's own routes."""
    queue: str | None = None
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    detail: str


class DeclarationsApplied(CymeModel):
    applied: int
    """Declarations newer than what this branch held, now applied and kept."""
    skipped: int
    """Declarations no newer than what it held."""
    failed: list[DeclarationsAppliedFailedItem]
    """
    Declarations kept but whose change failed here (an app whose
    instances would not stop), with why.
    """
    digest: str


class LastExit(CymeModel):
    """How a worker last exited."""

    at: AwareDatetime
    """When the branch saw it exit (UTC)."""
    code: int | None
    """Its exit code; null when a signal killed it, or when it is not known."""
    signal: str | None
    """The signal that killed it (`SIGKILL`); null when it exited, or when it is not known."""
    reason: str | None
    """
    The branch's word on it: a stop it asked for (`restarted`,
    `disabled`), why it is `failed`, or why the exit is not known
    (a worker adopted from an earlier branch). Null for a worker
    that exited on its own.
    """


class Progress(CymeModel):
    """How far a change of several steps has got."""

    done: int
    total: int
    current: str | None
    """What it is busy with (an instance's name); null when none."""


class RestartOutcome(CymeModel):
    """
    What a rolling restart did to one instance: `restarted` (its new
    worker answered a ping), `skipped` (it is `disabled` or `failed`),
    `failed` (its new worker did not answer in time, or could not be
    started: the roll stopped there) or `untouched` (the roll stopped
    before it).
    """

    name: str
    """
    A name of at most 125 characters, so that the private queue
    `dq.<name>` is a name too.
    """
    outcome: Literal["restarted", "skipped", "failed", "untouched"]
    pid: int | None
    """The new worker's process id, once restarted."""
    detail: str | None
    """Why it was skipped or failed."""


class TaskKwargs(CymeModel):
    """The task's keyword arguments, by name."""


class TaskInput(CymeModel):
    """How to send a task, as Celery's `apply_async` takes it."""

    args: list[Any] | None = None
    """The task's positional arguments."""
    kwargs: TaskKwargs | None = None
    """The task's keyword arguments, by name."""
    queue: str | None = None
    """The queue to send it to; `celery` by default."""
    routing_key: str | None = None
    """A routing key (topic patterns such as `tasks.#` allowed)."""
    countdown: float | None = None
    """Seconds before it may run; not with `eta`."""
    eta: AwareDatetime | None = None
    """When it may run, at the earliest; not with `countdown`."""
    expires: float | str | None = None
    """
    When the task expires if it has not run by then: seconds from now
    (at most a year), or an ISO 8601 date and time with its offset. An
    expired task is `REVOKED`.
    """
    priority: int | None = None
    """
    The message's priority, 0 to 255, as Celery's `priority`; how many
    levels a queue honours depends on the broker (Redis: 0 to 9 by
    default, 0 first; RabbitMQ: up to the queue's `x-max-priority`).
    """


class TaskSent(CymeModel):
    """A task whose message went out."""

    id: str
    """A task's id (Celery makes UUIDs)."""
    task: str
    """A task's name, a dotted identifier (`proj.tasks.add`)."""
    queue: str
    """The queue it was sent to."""
    state: str


class Task(CymeModel):
    """A task as the app's result backend has it."""

    id: str
    """A task's id (Celery makes UUIDs)."""
    state: str
    """
    Celery's state: `PENDING` (also for an id the backend does not
    know), `RECEIVED`, `STARTED`, `SUCCESS`, `FAILURE`, `RETRY`,
    `REVOKED`, or one of the task's own. `SUCCESS`, `FAILURE` and
    `REVOKED` are the end.
    """
    result: Any
    """
    What the task returned (`SUCCESS`); for `FAILURE`, `REVOKED` and
    `RETRY` the exception as Celery keeps it (`exc_type`,
    `exc_message`, `exc_module`); for `STARTED` what the worker
    says of it (`pid`, `hostname`); null before.
    """
    date_done: AwareDatetime | None
    """When it was done (UTC); null until then."""
    traceback: str | None = None
    """With `traceback=true`, the traceback of a task that failed; null for others."""


class TaskRevoked(CymeModel):
    """A revoke broadcast to the workers."""

    id: str
    """A task's id (Celery makes UUIDs)."""
    terminate: bool
    """Whether a running task is signalled too."""
    signal: (
        Literal["SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"] | None
    )
    """The signal a running task gets; null without `terminate`."""


class TaskStateAnswer(CymeModel):
    """A task's state, in the original branch's shape."""

    state: str


class TaskResultAnswer(CymeModel):
    """A task's result, in the original branch's shape (null until it is done)."""

    result: Any


class Branch(CymeModel):
    """A branch and its settings."""

    id: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    url: str
    """Where the branch serves its API."""
    port: int
    loglevel: str
    logfile: str | None
    """The branch's log file; null when it logs to stderr."""
    sup_interval: float
    """Seconds between two rounds of the supervisor."""
    supervisor: str
    """
    The kind of supervisor running the instances: `simulated` (the
    default) or `celery` (real workers).
    """
    version: str
    restart_max: int
    """
    A worker that would need more restarts than this within
    `restart_window` seconds is put in `failed` (`--restart-max`).
    """
    restart_window: float
    """Seconds over which restarts are counted (`--restart-window`)."""
    state: Literal["alive", "lost"]
    """
    `lost` for a cluster member silent for 3 heartbeats (see "Cluster");
    a branch describing itself is `alive`.
    """
    last_seen: AwareDatetime
    """When this branch last heard from it (now, for itself)."""
    started: AwareDatetime
    """When the branch started."""
    instances: int
    """How many instances it runs."""
    load: float
    """Its 1-minute load average, over its CPUs."""
    cluster: str | None
    """The name of its cluster; null when it is in none."""
    stale: bool
    """
    True when this branch has lost the cluster's broker: what it says
    of a member is from before (see "Cluster").
    """


class App(CymeModel):
    """An application; its fields are the defaults of its instances."""

    name: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    broker: str
    """
    A broker URL (`amqp://`, `redis://localhost:6379/0`, ...). In
    responses its password is masked as `**`.
    """
    arguments: str
    """
    Extra command-line arguments for `celery worker`, split as a POSIX
    shell would. Celery's global options (`-A`/`--app`, `--workdir`,
    `--config`, `--loader`, `--result-backend`, `-C`, `-q`,
    `--skip-checks`) are placed before `worker`, the others after it.
    A branch with real workers refuses `--detach` and `-b`/`--broker`
    (422): it runs the worker itself, on the `broker` field's broker.
    """
    extra_config: dict[str, str | int | float | bool | None]
    """
    Celery settings (lowercase names) passed to the worker. Real workers
    get them after `--` on their command line
    (`worker_prefetch_multiplier=4`), as the original branch gave them;
    a setting without a namespace (`timezone`, `imports`, `include`)
    cannot be given that way, and its worker fails to start.
    """
    backend: str | None = None
    """
    The result backend its tasks are followed in (and its workers
    store results in), masked; left out when it has none.
    """


class AppInput(CymeModel):
    broker: str | None = None
    """Defaults to `amqp://guest:guest@localhost:5672//`."""
    arguments: str | None = None
    """Defaults to no arguments."""
    extra_config: dict[str, str | int | float | bool | None] | None = None
    """Defaults to `{}`."""
    backend: str | None = None
    """
    A Celery result backend URL (`redis://localhost:6379/1`,
    `db+postgresql://...`), to follow the app's tasks; none by
    default, and JSON null removes it. Not `rpc://`.
    """


class Instance(CymeModel):
    """A Celery worker instance."""

    name: str
    """
    A name of at most 125 characters, so that the private queue
    `dq.<name>` is a name too.
    """
    app: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    broker: str
    """The broker in effect (the instance's own, else the app's), masked."""
    pool: Literal["prefork", "threads", "solo", "eventlet", "gevent"]
    """The worker's pool implementation."""
    arguments: str
    """The instance's own arguments; the worker gets the app's first, then these."""
    extra_config: dict[str, str | int | float | bool | None]
    """The instance's own settings; the worker gets them merged over the app's."""
    queues: list[str]
    """Queues of the app consumed by the instance (besides `dq.<name>`)."""
    min_concurrency: int
    """A number of pool processes."""
    max_concurrency: int
    """The largest pool a worker may grow to."""
    is_enabled: bool
    """False once the instance was disabled (`POST .../disable`), until it is enabled."""
    state: Literal[
        "starting", "running", "stopping", "stopped", "disabled", "backoff", "failed", "unknown"
    ]
    """
    What the instance's worker is doing: `starting`, `running`,
    `stopping`, `stopped` (exited; started again at the next round),
    `backoff` (exited again; started again after a pause), `disabled`,
    `failed` (a restart storm) or `unknown` (runs, but does not answer).
    """
    since: AwareDatetime
    """When the worker entered its state (UTC)."""
    pid: int | None
    """The worker's process id; null while no worker runs."""
    processes: int | None
    """
    The pool processes the worker last reported; null until it
    reported any (or for a pool without processes).
    """
    restarts: int
    """
    How many times the supervisor started the worker again after it
    exited on its own (a restart asked for is not one).
    """
    last_exit: LastExit | None
    """How the worker last exited; null while it never did."""


class ClusterChange(CymeModel):
    """An app or queue declared or deleted with `scope=cluster`."""

    scope: Any
    stale: bool
    """
    True when this branch has lost the cluster's broker; members it
    did not reach get the declaration when it is back.
    """
    declaration: Declaration
    """An app or a queue declared, or deleted, on the whole cluster."""
    branches: list[ClusterPart]


class Placement(CymeModel):
    """An instance created with `scope=cluster`, and the member that took it."""

    scope: Any
    branch: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    url: str
    """The URL of the member that took it."""
    instance: Instance
    """A Celery worker instance."""


class Operation(CymeModel):
    """A change asked for with `nowait`, and where it stands."""

    id: str
    """The `id` of the `Scheduled` answer."""
    operation: str
    """The operationId of the change."""
    target: str
    """The path of the resource it changes."""
    state: Literal["pending", "running", "succeeded", "failed"]
    """
    `pending` until it starts (it waits for a change of the same
    instance to finish), `running`, then `succeeded` or `failed`.
    """
    created: AwareDatetime
    started: AwareDatetime | None
    finished: AwareDatetime | None
    status: int | None
    """
    Once finished, the status the change would have been answered
    with without `nowait`.
    """
    result: Any
    """
    Once succeeded, the answer the change would have had without
    `nowait` (an `Instance`, a `RollingRestart`...); null before.
    """
    problem: Problem | None
    """Once failed, the problem document it would have been answered with."""
    progress: Progress | None
    """
    How far a change of several steps has got (a rolling restart:
    the instances done so far, of all); null for a change of one step.
    """


class RollingRestart(CymeModel):
    """What a rolling restart did, instance by instance, oldest first."""

    app: str
    """
    A name: 1 to 128 letters, digits and `_ @ : -`, in segments separated
    by single dots.
    """
    instances: list[RestartOutcome]
