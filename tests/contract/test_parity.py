"""The two SDKs name the same things alike, and differ only where IDIOMS says.

A reader who knows one SDK should find everything in the other by the same
name. This test collects the public surface of both: the classes a user
meets (the client, its resources, the bound models, RawResponse), each with
its members (methods, properties, attributes, model fields) and their
parameter names; the error classes with their parents and attributes; the
top-level constants with their values. It fails on a name that one SDK has
and the other lacks, unless the table below lists the difference and says
why. The Ruby side is read by `sdk_surface.rb`.

The rules behind the table:

- **Names** are the same in both, snake_case, from the spec's `x-sdk-method`.
- **HTTP status and request**: Python follows httpx (`status_code`,
  `method`, `url`); Ruby names them `status`, `request_method` and
  `request_url`, since `Object#method` is core Ruby and Net::HTTP calls a
  request's verb its method.
- **Per-call options**: every Python method takes `timeout`, `max_retries`,
  `extra_headers` and `idempotency_key` (`**options`); Ruby sets the first
  two with `Client#with_options`, headers with `Client#with_headers`, and
  takes `idempotency_key:` on the one method that POSTs.
- **Timeouts**: Python takes one `httpx.Timeout` (`DEFAULT_TIMEOUT` has a
  read and a connect part); Ruby takes Net::HTTP's `timeout` and
  `open_timeout`.
- **Options**: the clients' constructors (`new`) take the same options,
  `verify` and `ca_file` for HTTPS among them, but for the HTTP layer each
  is built on.
- **Models**: Python's read like dicts through pydantic (`model["key"]`,
  `to_dict()`); Ruby's through `[]`, `key?` and `to_h`. Both are left out
  of the comparison as the base classes' own.
"""

from __future__ import annotations

import inspect
import json
import subprocess
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import cyme
import httpx
import pydantic
from cyme import _constants

from contract import REPO


@dataclass(frozen=True)
class Idiom:
    """A deliberate difference: `python` and `ruby` are a member (`name`), a
    parameter of one (`name(param)`), or None where the other has no such thing."""

    where: str
    python: str | None
    ruby: str | None
    why: str


IDIOMS = [
    Idiom(
        "Client", None, "transport", "the HTTP layer the gem's resources call; Python's is private"
    ),
    Idiom(
        "Client", None, "open_timeout", "Net::HTTP's connect timeout; Python's is part of timeout"
    ),
    Idiom("Client", None, "with_options(open_timeout)", "the same, per client"),
    Idiom("Client", None, "new(open_timeout)", "the same, given to the client"),
    Idiom(
        "Client", "new(http_client)", None, "an httpx client to send through; Ruby's is Net::HTTP"
    ),
    Idiom(
        "Client", None, "new(logger)", "Ruby's Logger; Python's log is the logging module's `cyme`"
    ),
    Idiom("Client", None, "with_headers", "Ruby's per-call headers; Python's are extra_headers="),
    Idiom("Client", None, "with_headers(headers)", "the same"),
    Idiom("Client", None, "with_headers(&)", "a block, Ruby's way of scoping"),
    Idiom("Client", "url_for", None, "a URL for raw segments, escaped; Ruby's is Transport.path"),
    Idiom("Client", "url_for(*)", None, "the same"),
    Idiom("Client", "with_raw_response(fn)", None, "Python takes the call to make"),
    Idiom("Client", "with_raw_response(*)", None, "and its arguments"),
    Idiom("Client", "with_raw_response(**)", None, "and its keywords"),
    Idiom("Client", None, "with_raw_response(&)", "Ruby takes a block"),
    Idiom("App", "client", None, "the client a Python model is bound to; Ruby keeps it private"),
    Idiom("Instance", "client", None, "the same"),
    Idiom("App", None, "url", "the app's URL; Python shows it in repr()"),
    Idiom("Instance", None, "url", "the same"),
    Idiom("App", "bind", None, "makes a model bound to a client; Ruby's is App.from_wire"),
    Idiom("Instance", "bind", None, "the same"),
    Idiom("Scheduled", "client", None, "the same, for a nowait answer"),
    Idiom("Scheduled", "bind", None, "the same; Ruby's is Scheduled.from_wire"),
    Idiom("Task", "client", None, "the same, for a task"),
    Idiom("Task", "bind", None, "the same; Ruby's is Task.from_wire"),
    Idiom("Task", None, "url", "the task's URL; Python shows it in repr()"),
    Idiom("Branch", "client", None, "the same, for a member of the cluster"),
    Idiom("Branch", "bind", None, "the same; Ruby's is Branch.from_wire"),
    Idiom("Placement", "client", None, "the same, for an instance placed on the cluster"),
    Idiom("Placement", "bind", None, "the same; Ruby's is Placement.from_wire"),
    Idiom("ClusterList", None, "each", "the parts, by Ruby's each; Python's for iterates them"),
    Idiom("ClusterList", None, "each(&)", "a block, Ruby's way of iterating"),
    Idiom("ClusterChange", None, "each", "the same"),
    Idiom("ClusterChange", None, "each(&)", "the same"),
    Idiom("RawResponse", "status_code", "status", "the status rule"),
    Idiom("RawResponse", "method", "request_method", "the request rule"),
    Idiom("RawResponse", "url", "request_url", "the request rule"),
    Idiom("APIError", "method", "request_method", "the request rule"),
    Idiom("APIError", "url", "request_url", "the request rule"),
    Idiom("APIError", "message", None, "Ruby's is Exception#message, which Ruby gives every error"),
    Idiom("APIStatusError", "status_code", "status", "the status rule"),
    Idiom("APIStatusError", "response", None, "the httpx.Response itself; Ruby has no such object"),
    Idiom(
        "APIStatusError", None, "problem", "the body as a Models::Problem; Python's body is a dict"
    ),
]
# Python's per-call options, taken by every method as **options.
PER_CALL_OPTIONS = frozenset({"timeout", "max_retries", "extra_headers", "idempotency_key"})
CLASSES = {
    "Client": cyme.Client,
    "Cluster": cyme.Cluster,
    "Branch": cyme.Branch,
    "Placement": cyme.Placement,
    "ClusterList": cyme.ClusterList,
    "ClusterChange": cyme.ClusterChange,
    "App": cyme.App,
    "Instance": cyme.Instance,
    "Apps": cyme.Apps,
    "Instances": cyme.Instances,
    "Queues": cyme.Queues,
    "Consumers": cyme.Consumers,
    "Scheduled": cyme.Scheduled,
    "Tasks": cyme.Tasks,
    "Task": cyme.Task,
    "RawResponse": cyme.RawResponse,
    "APIError": cyme.APIError,
    "APIConnectionError": cyme.APIConnectionError,
    "APIStatusError": cyme.APIStatusError,
    "TaskError": cyme.TaskError,
}
# The base classes' own members: what models, exceptions and every object have.
MODEL_MEMBERS = frozenset(dir(cyme.types.CymeModel))
ERROR_MEMBERS = frozenset(dir(Exception))
# Constants named differently on purpose, with what each is in the other SDK.
CONSTANT_IDIOMS = {
    "DEFAULT_OPEN_TIMEOUT": "Python's DEFAULT_TIMEOUT.connect",
    "ROUTES": "the table behind OPERATIONS; Python's is in the private cyme._routes",
    "VERSION": "Python's __version__",
}
PYTHON_CONSTANT_IDIOMS = {
    "DEFAULT_CONNECTION_LIMITS": "httpx's pool limits, shared by both of Python's transports; "
    "Ruby's pool opens a connection per request in flight and keeps them for reuse",
    "IDEMPOTENCY_HEADER": "the wire's header names are Ruby's Transport's own",
    "REQUEST_ID_HEADER": "the same",
}


def python_parameters(member: Any) -> list[str]:
    found = []
    for parameter in inspect.signature(member).parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is parameter.VAR_POSITIONAL:
            found.append("*")
        elif parameter.kind is parameter.VAR_KEYWORD:
            # **options: Unpack[RequestOptions] are the per-call options.
            if "RequestOptions" not in str(parameter.annotation):
                found.append("**")
        else:
            found.append(parameter.name)
    return found


def sample(cls: type) -> object | None:
    """An instance of the classes whose attributes are set on instances."""
    request = httpx.Request("GET", "http://localhost:1/x")
    if cls is cyme.Client:
        return cyme.Client("http://localhost:1")
    if cls is cyme.APIStatusError:
        return cls("x", response=httpx.Response(404, request=request), body=None)
    if issubclass(cls, cyme.APIConnectionError):
        return cls(request=request)
    if cls is cyme.APIError:
        return cls("x", request=request)
    if cls is cyme.TaskError:
        task = cyme.types.Task(id="t1", state="FAILURE", result=None, date_done=None)
        return cls("x", task=task, reason=None, request=request)
    return None


def python_members(cls: type) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    inherited = MODEL_MEMBERS if issubclass(cls, pydantic.BaseModel) else ERROR_MEMBERS
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or name in inherited:
            continue
        static = inspect.getattr_static(cls, name)
        callable_ = callable(member) and not isinstance(static, property)
        found[name] = python_parameters(member) if callable_ else []
    if issubclass(cls, pydantic.BaseModel):
        found.update({key: [] for key in cls.model_fields})
    if is_dataclass(cls):
        found.update({field.name: [] for field in fields(cls)})
    if cls is cyme.Client:
        found["new"] = python_parameters(cls.__init__)  # its options, as Ruby's Client.new
    instance = sample(cls)
    if instance is not None:
        found.update({k: [] for k in vars(instance) if not k.startswith("_") and k not in found})
    if isinstance(instance, cyme.Client):
        instance.close()
    return found


def ruby_surface() -> dict[str, Any]:
    done = subprocess.run(
        [
            "ruby",
            "-I",
            str(REPO / "ruby-client" / "lib"),
            str(REPO / "tests/contract/sdk_surface.rb"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    surface: dict[str, Any] = json.loads(done.stdout)
    return surface


def split(name: str) -> tuple[str, str | None]:
    member, _, rest = name.partition("(")
    return member, rest[:-1] if rest else None


def idioms_of(where: str) -> list[Idiom]:
    """The rows for a class and for its parents (an error inherits its base's rows)."""
    names = {c.__name__ for c in CLASSES[where].__mro__}
    return [i for i in IDIOMS if i.where in names]


def differences(python: dict[str, list[str]], ruby: dict[str, list[str]], where: str) -> set[str]:
    """What one side has and the other lacks, as `where: only Python has X` lines."""
    rows = idioms_of(where)
    renamed = {(i.python, i.ruby) for i in rows if i.python and i.ruby}
    allowed_python = {i.python for i in rows if i.ruby is None}
    allowed_ruby = {i.ruby for i in rows if i.python is None}
    for py, rb in renamed:
        if py in python and rb in ruby:
            python = {k: v for k, v in python.items() if k != py}
            ruby = {k: v for k, v in ruby.items() if k != rb}
    found = set()
    for name in sorted(python.keys() - ruby.keys()):
        if name not in allowed_python:
            found.add(f"{where}: only Python has {name}")
    for name in sorted(ruby.keys() - python.keys()):
        if name not in allowed_ruby:
            found.add(f"{where}: only Ruby has {name}")
    for name in sorted(python.keys() & ruby.keys()):
        py_params, rb_params = set(python[name]), set(ruby[name])
        if "idempotency_key" in rb_params:
            rb_params.discard("idempotency_key")  # Python's is a per-call option
        for param in sorted(py_params - rb_params):
            if f"{name}({param})" not in allowed_python:
                found.add(f"{where}: only Python's {name} takes {param}")
        for param in sorted(rb_params - py_params):
            if f"{name}({param})" not in allowed_ruby:
                found.add(f"{where}: only Ruby's {name} takes {param}")
    return found


def test_classes_have_the_same_members_and_parameters() -> None:
    ruby = ruby_surface()["classes"]
    assert sorted(ruby) == sorted(CLASSES)
    found: set[str] = set()
    for where, cls in CLASSES.items():
        found |= differences(python_members(cls), ruby[where], where)
    assert sorted(found) == []


def test_errors_have_the_same_names_and_parents() -> None:
    python = {
        name: getattr(cyme, name).__mro__[1].__name__
        for name in cyme.__all__
        if isinstance(getattr(cyme, name), type) and issubclass(getattr(cyme, name), cyme.APIError)
    }
    ruby = ruby_surface()["errors"]
    # Ruby's APIError has a root of its own, Cyme::Error, for anything the gem raises.
    assert ruby.pop("APIError") == "Error"
    assert python.pop("APIError") == "Exception"
    assert python == ruby


def test_constants_are_the_same_with_the_same_values() -> None:
    ruby: dict[str, Any] = ruby_surface()["constants"]
    python = {n: getattr(_constants, n) for n in dir(_constants) if n.isupper()}
    python["OPERATIONS"] = "table"
    assert set(cyme.OPERATIONS) == set(cyme._routes.ROUTES)
    for name, why in CONSTANT_IDIOMS.items():
        assert name in ruby, f"{name} ({why}) is gone: drop it from CONSTANT_IDIOMS"
        ruby.pop(name)
    timeout = python.pop("DEFAULT_TIMEOUT")
    assert (timeout.read, timeout.connect) == (
        ruby.pop("DEFAULT_TIMEOUT"),
        ruby_surface()["constants"]["DEFAULT_OPEN_TIMEOUT"],
    )
    python["RETRY_STATUSES"] = sorted(python["RETRY_STATUSES"])
    for name, why in PYTHON_CONSTANT_IDIOMS.items():
        assert name in python, f"{name} ({why}) is gone: drop it from PYTHON_CONSTANT_IDIOMS"
        python.pop(name)
    assert python == ruby


def test_every_idiom_is_still_a_difference() -> None:
    """A row of IDIOMS that no longer differs is dropped, so the table stays true."""
    ruby = ruby_surface()["classes"]
    stale = []
    for idiom in IDIOMS:
        python_members_ = python_members(CLASSES[idiom.where])
        for side, name, members in (
            ("python", idiom.python, python_members_),
            ("ruby", idiom.ruby, ruby[idiom.where]),
        ):
            if name is None:
                continue
            member, param = split(name)
            present = member in members and (param is None or param in members[member])
            if not present:
                stale.append(f"{idiom.where}: {side} has no {name}")
    assert stale == []
