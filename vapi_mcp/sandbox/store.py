"""The sandbox's world: every object it holds.

The API a resource module uses:

- `store.<kind>` (`store.calls`, `store.assistants`, ... one per name in `KINDS`): a mutable
  mapping from id to object, in creation order. `store.calls[id] = call` saves, `del` removes.
- `with store.transaction():` one unit of work (nested ones join the outer one).
- `store.counts()`, `store.reset()`: what the world holds, and starting over.

Built-in objects (Vapi's default simulation personalities) are put in by the store itself,
when it is made and after a reset.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Protocol

KINDS = (
    "assistants",
    "squads",
    "phone_numbers",
    "calls",
    "chats",
    "tools",
    "evals",
    "eval_runs",
    "structured_outputs",
    "personalities",
    "scenarios",
    "simulations",
    "suites",
    "simulation_runs",
    "campaigns",
)
"""Every collection of the world; a new resource module adds its own here (and an annotation on `Store`)."""

Obj = dict[str, Any]


class Backend(Protocol):
    where: str

    def transaction(self, write: bool = True) -> Any: ...
    def get(self, kind: str, ident: Any) -> Obj | None: ...
    def put(self, kind: str, ident: str, obj: Obj) -> None: ...
    def delete(self, kind: str, ident: Any) -> bool: ...
    def pairs(self, kind: str) -> list[tuple[str, Obj]]: ...
    def ids(self, kind: str) -> list[str]: ...
    def has(self, kind: str, ident: Any) -> bool: ...
    def count(self, kind: str) -> int: ...
    def meta(self, name: str, default: Any) -> Any: ...
    def set_meta(self, name: str, value: Any) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class Collection(MutableMapping[str, Obj]):
    """The objects of one kind by id, in creation order (see the module's docstring for when changes are saved)."""

    def __init__(self, backend: Backend, kind: str) -> None:
        self._backend = backend
        self.kind = kind

    def __getitem__(self, ident: str) -> Obj:
        found = self._backend.get(self.kind, ident)
        if found is None:
            raise KeyError(ident)
        return found

    def __setitem__(self, ident: str, obj: Obj) -> None:
        self._backend.put(self.kind, ident, obj)

    def __delitem__(self, ident: str) -> None:
        if not self._backend.delete(self.kind, ident):
            raise KeyError(ident)

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.ids(self.kind))

    def __len__(self) -> int:
        return self._backend.count(self.kind)

    def __contains__(self, ident: object) -> bool:
        return self._backend.has(self.kind, ident)

    def values(self) -> list[Obj]:  # type: ignore[override]  # one query, not one per id
        return [obj for _, obj in self._backend.pairs(self.kind)]

    def items(self) -> list[tuple[str, Obj]]:  # type: ignore[override]
        return self._backend.pairs(self.kind)

    def clear(self) -> None:
        with self._backend.transaction():
            for ident in self._backend.ids(self.kind):
                self._backend.delete(self.kind, ident)

    def __repr__(self) -> str:
        return f"<{self.kind}: {len(self)} in {self._backend.where}>"


class _Memory:
    """One process's world: the stored objects are the objects themselves."""

    where = "memory (this process only)"

    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, Obj]] = {kind: {} for kind in KINDS}
        self._meta: dict[str, Any] = {}

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        yield

    def get(self, kind: str, ident: Any) -> Obj | None:
        try:
            return self._kinds[kind].get(ident)
        except TypeError:  # an unhashable id names nothing
            return None

    def put(self, kind: str, ident: str, obj: Obj) -> None:
        self._kinds[kind][ident] = obj

    def delete(self, kind: str, ident: Any) -> bool:
        return self._kinds[kind].pop(ident, None) is not None

    def pairs(self, kind: str) -> list[tuple[str, Obj]]:
        return list(self._kinds[kind].items())

    def ids(self, kind: str) -> list[str]:
        return list(self._kinds[kind])

    def has(self, kind: str, ident: Any) -> bool:
        return self.get(kind, ident) is not None

    def count(self, kind: str) -> int:
        return len(self._kinds[kind])

    def meta(self, name: str, default: Any) -> Any:
        return self._meta.get(name, default)

    def set_meta(self, name: str, value: Any) -> None:
        self._meta[name] = value

    def clear(self) -> None:
        for objects in self._kinds.values():
            objects.clear()
        self._meta.clear()

    def close(self) -> None:
        pass



class Store:
    """The sandbox's world (see the module's docstring)."""

    assistants: Collection
    squads: Collection
    phone_numbers: Collection
    calls: Collection
    chats: Collection
    tools: Collection
    evals: Collection
    eval_runs: Collection
    structured_outputs: Collection
    personalities: Collection
    scenarios: Collection
    simulations: Collection
    suites: Collection
    simulation_runs: Collection
    campaigns: Collection

    def __init__(self, *, built_in: Mapping[str, Iterable[Obj]] | None = None) -> None:
        """`built_in`: objects every world holds (by kind), put in by the store when it is made and after a reset."""
        self.built_in: dict[str, dict[str, Obj]] = {kind: {obj["id"]: copy.deepcopy(obj) for obj in objects} for kind, objects in (built_in or {}).items()}
        self._backend: Backend = _Memory()
        for kind in KINDS:
            setattr(self, kind, Collection(self._backend, kind))
        self._put_built_in()

    @property
    def where(self) -> str:
        """Where the world lives, for messages."""
        return self._backend.where

    def collection(self, kind: str) -> Collection:
        """The collection named `kind` (one of `KINDS`)."""
        if kind not in KINDS:
            raise KeyError(f"no collection {kind!r} in the sandbox world; add it to store.KINDS")
        collection: Collection = getattr(self, kind)
        return collection

    def transaction(self) -> Any:
        """A context manager: one unit of work on the world (nested ones join the outer one)."""
        return self._backend.transaction(write=True)

    def counts(self) -> dict[str, int]:
        """How many objects of each kind the world holds (built-in ones left out), kinds with none left out."""
        with self._backend.transaction(write=False):
            counts = {kind: sum(1 for i in self._backend.ids(kind) if i not in self.built_in.get(kind, {})) for kind in KINDS}
        return {kind: n for kind, n in counts.items() if n}

    def reset(self) -> dict[str, int]:
        """Start over: every object removed (built-in ones put back) and the clock back to the process's; what was removed, by kind."""
        with self._backend.transaction():
            removed = self.counts()
            self._backend.clear()
            self._put_built_in()
        return removed

    def close(self) -> None:
        self._backend.close()

    def _put_built_in(self) -> None:
        for kind, objects in self.built_in.items():
            for ident, obj in objects.items():
                self._backend.put(kind, ident, copy.deepcopy(obj))
