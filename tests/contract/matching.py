"""How `expect` matches a result (see README.md, "Results and expect").

The Python half of the rules; matching.rb is the Ruby half, and
matchers.yaml holds the cases both must decide alike.
"""

from __future__ import annotations

import re
from typing import Any


class ScenarioError(Exception):
    """The scenario itself is wrong (unknown variable, matcher or argument)."""


TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
MATCHERS = (
    *("$eq", "$len", "$type", "$contains", "$not_contains"),
    *("$unordered", "$gte", "$lte", "$regex", "$all"),
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise ScenarioError(f"not JSON data: {type(value).__name__}")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, booleans apart from numbers, keys as sets."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def matcher(expected: Any) -> tuple[str, Any] | None:
    """(name, argument) when `expected` is a matcher: a one-key mapping whose key starts with $."""
    if isinstance(expected, dict) and any(str(key).startswith("$") for key in expected):
        if len(expected) != 1:
            raise ScenarioError(f"a matcher is a mapping of one $key: {expected!r}")
        ((name, argument),) = expected.items()
        return str(name), argument
    return None


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """How `actual` fails to match `expected`; empty when it matches."""
    at = where or "the result"
    if expected == "$any":
        return []
    found = matcher(expected)
    if found is not None:
        return _match_matcher(found[0], found[1], actual, at, where)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{at}: expected an object, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{at}: no key {key!r} in {sorted(actual)}")
            else:
                problems += mismatches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{at}: expected {len(expected)} items {expected!r}, got {actual!r}"]
        problems = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problems += mismatches(want, got, f"{where}[{index}]")
        return problems
    if not equal(expected, actual):
        return [f"{at}: expected {expected!r}, got {actual!r}"]
    return []


def _match_matcher(name: str, argument: Any, actual: Any, at: str, where: str) -> list[str]:
    if name == "$eq":
        if equal(argument, actual):
            return []
        return [f"{at}: expected exactly {argument!r}, got {actual!r}"]
    if name == "$len":
        if not isinstance(actual, str | list | dict):
            return [f"{at}: expected something with a length, got {actual!r}"]
        return mismatches(argument, len(actual), f"{where} (length)")
    if name == "$type":
        if argument not in TYPES:
            raise ScenarioError(f"$type takes one of {', '.join(TYPES)}, not {argument!r}")
        kind = json_type(actual)
        ok = kind == argument or (argument == "number" and kind == "integer")
        return [] if ok else [f"{at}: expected a {argument}, got {actual!r}"]
    if name in ("$contains", "$not_contains"):
        if not isinstance(actual, list | str):
            return [f"{at}: expected a list or a string, got {actual!r}"]
        has = _contains(argument, actual, at)
        if name == "$contains":
            return [] if has else [f"{at}: expected it to contain {argument!r}, got {actual!r}"]
        return [f"{at}: expected it not to contain {argument!r}, got {actual!r}"] if has else []
    if name == "$unordered":
        return _match_unordered(argument, actual, at)
    if name in ("$gte", "$lte"):
        if not is_number(argument):
            raise ScenarioError(f"{name} takes a number, not {argument!r}")
        if not is_number(actual):
            return [f"{at}: expected a number, got {actual!r}"]
        ok = actual >= argument if name == "$gte" else actual <= argument
        return [] if ok else [f"{at}: expected {name[1:]} {argument!r}, got {actual!r}"]
    if name == "$regex":
        if not isinstance(argument, str):
            raise ScenarioError(f"$regex takes a string, not {argument!r}")
        ok = isinstance(actual, str) and re.search(argument, actual) is not None
        return [] if ok else [f"{at}: expected text matching /{argument}/, got {actual!r}"]
    if name == "$all":
        if not isinstance(argument, list):
            raise ScenarioError(f"$all takes a list of matchers, not {argument!r}")
        return [problem for each in argument for problem in mismatches(each, actual, where)]
    raise ScenarioError(f"unknown matcher {name}")


def _contains(argument: Any, actual: list[Any] | str, at: str) -> bool:
    if isinstance(actual, list):
        return any(not mismatches(argument, item) for item in actual)
    if not isinstance(argument, str):
        raise ScenarioError(f"{at}: text can only contain text, not {argument!r}")
    return argument in actual


def _match_unordered(argument: Any, actual: Any, at: str) -> list[str]:
    if not isinstance(argument, list):
        raise ScenarioError(f"$unordered takes a list, not {argument!r}")
    if not isinstance(actual, list) or len(actual) != len(argument):
        return [f"{at}: expected {len(argument)} items in any order {argument!r}, got {actual!r}"]
    left = list(actual)
    for want in argument:
        index = next((i for i, item in enumerate(left) if not mismatches(want, item)), None)
        if index is None:
            return [f"{at}: nothing matches {want!r} among {left!r}"]
        left.pop(index)
    return []
