"""What a cluster-wide answer says of each member: `ClusterList` and `ClusterChange`.

Both hold one `ClusterPart` per member (`branches`, this branch first).
These subclasses of the generated models add what a caller asks of them
first: the parts to iterate, the members that did not answer or answered an
error (openapi.yaml, "Cluster": none is ever left out), and the items of
those that did, by branch id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import _generated
from ._base import CymeModel


class _Parts(CymeModel):
    """The members' parts of an answer with `branches`, and questions about them."""

    branches: list[_generated.ClusterPart]

    def __iter__(self) -> Iterator[_generated.ClusterPart]:  # type: ignore[override]
        # A model iterates its fields (pydantic's default); an answer of the
        # cluster iterates its members' parts, as a list of them would.
        return iter(self.branches)

    def __len__(self) -> int:
        return len(self.branches)

    @property
    def ok(self) -> list[_generated.ClusterPart]:
        """The parts of the members that answered."""
        return [part for part in self.branches if part.state == "ok"]

    @property
    def unreachable(self) -> list[_generated.ClusterPart]:
        """The parts of the members that could not be reached, or did not answer in time."""
        return [part for part in self.branches if part.state == "unreachable"]

    @property
    def errors(self) -> list[_generated.ClusterPart]:
        """The parts of the members that answered with an error (`status`, `detail`)."""
        return [part for part in self.branches if part.state == "error"]


class ClusterList(_Parts, _generated.ClusterList):
    """A read with `scope=cluster` (`client.cluster.apps()`): one part per member.

    >>> listed = cyme.cluster.apps()
    >>> {part.branch: part.items for part in listed}      # each member's apps
    >>> listed.unreachable                                # the members that did not answer
    """

    def by_branch(self) -> dict[str, list[Any]]:
        """The items of each member that answered, by branch id (this branch first)."""
        return {part.branch: list(part.items or []) for part in self.ok}


class ClusterChange(_Parts, _generated.ClusterChange):
    """An app or a queue declared or deleted with `scope=cluster`: the declaration,
    and one part per member saying how it took it."""
