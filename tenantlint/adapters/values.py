"""The values the statement walker tracks: where a query starts, its possible states, Q objects, dicts of
lookups, objects built to be saved, and the environment that maps local names to them."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import libcst as cst

from tenantlint.adapters.flow import Term, worst
from tenantlint.types import ModelInfo, SiteKind


# --- per-query state ----------------------------------------------------------------------------


_SEQ = itertools.count(1)


@dataclass(eq=False)
class Origin:
    """Where one query starts."""

    model: ModelInfo
    api: str
    anchor: cst.CSTNode | None = None
    observed: dict = field(default_factory=dict)  # SiteKind -> Term (worst)
    insert: bool = False  # the origin is a create(): its term is about the tenant value written
    kind: SiteKind | None = None  # what the query does when it runs, if the start says so (select(), update(), ...)
    via: object | None = None  # the helper query this origin was found in, when it was judged at a call (helpers.Via)
    guard: str = ""  # the tenant check that follows the fetch (`if obj.project_id != request.project.id: raise`)
    seq: int = 0
    statement: cst.CSTNode | None = None  # the statement of the walked module that holds the anchor
    counted: bool | None = None  # every time it ran, only a number came back (`.count()`, `.aggregate()`, `.exists()`)
    tested: bool = False  # it ran in a call whose answer is only tested (`if repo.by_username(name): raise Conflict()`)

    def observe(self, kind: SiteKind, term: Term, count: bool = False) -> None:
        prev = self.observed.get(kind)
        self.observed[kind] = term if prev is None else worst(prev, term)
        self.seq = next(_SEQ)  # when it last ran: a check right after the statement that ran it guards it
        self.counted = count and self.counted is not False


@dataclass(frozen=True)
class QState:
    origin: Origin
    term: Term
    related: bool = False  # reached through a related manager: already tenant-bound


@dataclass(frozen=True)
class QVal:
    """Possible states of one query value (several after branches merge)."""

    states: tuple[QState, ...]


@dataclass(frozen=True)
class Rows:
    """The rows a query read, held in a list (`affected = list(candidates)`): keys read from them are as
    tenant-bound as that query was."""

    states: tuple[QState, ...]


@dataclass(frozen=True)
class QTerm:
    """A local Q object: judged against a model only where a query uses it."""

    build: object  # Callable[[ModelInfo], Term]


@dataclass(frozen=True)
class DictKeys:
    keys: frozenset
    values: tuple = ()  # (key, node)
    complete: bool = True


@dataclass(eq=False)
class NewObject:
    origin: Origin
    keys: set


_MARK = object()


class Env(dict):
    def copy(self) -> "Env":
        return Env(self)


def merge_envs(envs: list[Env | None]) -> Env | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    out = Env()
    keys = set().union(*live)
    for k in keys:
        vals = [e.get(k, _MARK) for e in live]
        qvals = [v for v in vals if isinstance(v, QVal)]
        if qvals:
            states: list[QState] = []
            for v in qvals:
                for s in v.states:
                    if s not in states:
                        states.append(s)
            out[k] = QVal(tuple(states))
        elif all(isinstance(v, QTerm) for v in vals):
            builds = [v.build for v in vals]
            out[k] = QTerm(lambda m, builds=builds: _worst_of([b(m) for b in builds]))
        elif all(v is vals[0] for v in vals):
            out[k] = vals[0]
        elif all(isinstance(v, DictKeys) for v in vals):
            out[k] = DictKeys(frozenset.intersection(*(v.keys for v in vals)), (), all(v.complete for v in vals))
    return out



def _worst_of(terms: list[Term]) -> Term:
    out = terms[0]
    for t in terms[1:]:
        out = worst(out, t)
    return out


@dataclass
class StarArgs:
    """A helper's `*args` bound to the caller's extra positional arguments (None: the caller spread a sequence of
    its own); `filter(*args)` in the helper applies them."""

    values: tuple | None

