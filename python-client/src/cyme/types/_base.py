"""The base of every model: attributes, and `model["key"]` like the dicts of 2012."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class CymeModel(BaseModel):
    """A pydantic model that also reads like the JSON it came from.

    `stats["pool"]["processes"]` and `stats.pool["processes"]` are the same,
    keys the schema does not name (kept by models with extra='allow') are
    reachable by index too, and a model equals the dict of its JSON form, so
    `instance.autoscale(min=4, max=10) == {"max": 10, "min": 4}`.

    The models of the spec's schemas (`_generated.py`, written by
    datamodel-code-generator) all derive from it.
    """

    model_config = ConfigDict(
        # Validators are built on a model's first use rather than at import:
        # the first client (and the command line) pays only for the models it uses.
        defer_build=True,
        # A key the schema does not name is dropped, so that a newer branch's
        # new field breaks no older SDK; the schemas that say
        # `additionalProperties: true` keep them (extra='allow' on the model).
        extra="ignore",
        # Fields with a wire name that is no Python name (`max-concurrency`)
        # can be given by either.
        populate_by_name=True,
    )

    def __getitem__(self, key: str) -> Any:
        for name, field in type(self).model_fields.items():
            if key in (name, field.alias):
                return getattr(self, name)
        extra = self.__pydantic_extra__ or {}
        if key in extra:
            return extra[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def keys(self) -> list[str]:
        return list(self.to_dict())

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: wire names, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            return self.to_dict() == other
        return super().__eq__(other)

    # Models compare by value and are mutable, so they are not hashable;
    # overriding __eq__ would otherwise leave a stale __hash__.
    __hash__ = None  # type: ignore[assignment]
