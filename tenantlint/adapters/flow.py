"""The small lattice every adapter judges filters with: scoped, none, defeated, unknown."""
from __future__ import annotations

from dataclasses import dataclass

from tenantlint.types import Restriction, Scope

S, N, D, U = "S", "N", "D", "U"  # scoped, no tenant predicate, defeated, unknown
_BADNESS = {S: 0, U: 1, N: 2, D: 3}


@dataclass(frozen=True)
class Term:
    status: str
    predicates: tuple[str, ...] = ()
    reason: str = ""
    null_only: bool = False  # `tenant IS NULL` alone, or a parent object: negating it is no tenant filter, not a defeat
    at: object | None = None  # for an unknown term, the expression that cannot be read (`filter_by(**built_elsewhere)`)


# the reason given when a key read from an object in hand is not tenant-bound, because the function read that row
# without a tenant filter: the finding on that read is the cause, the query using the key is reported as a note
ROW_KEY = "the key is read from "

SCOPED_TERM = Term(S)
NONE_TERM = Term(N)


def t_and(a: Term, b: Term) -> Term:
    preds = a.predicates + b.predicates
    for status in (S, D, U):
        if a.status == status or b.status == status:
            which = a if a.status == status else b
            return Term(status, preds, which.reason, at=which.at)
    return Term(N, preds, a.reason or b.reason)  # keeps why the rows are selected ("by the unique field code")


def t_or(a: Term, b: Term) -> Term:
    preds = a.predicates + b.predicates
    if a.status == S and b.status == S:
        return Term(S, preds, a.reason or b.reason)
    if S in (a.status, b.status) or D in (a.status, b.status):
        other = b if a.status in (S, D) else a
        why = "an OR branch without the tenant predicate"
        if other.status == U:
            why = "an OR branch that cannot be checked"
        return Term(D, preds, a.reason if a.status == D else b.reason if b.status == D else why)
    if U in (a.status, b.status):
        which = a if a.status == U else b
        return Term(U, preds, a.reason or b.reason, at=which.at)
    return Term(N, preds)


def t_not(a: Term) -> Term:
    if a.null_only:
        return Term(N)  # NOT (tenant IS NULL): every tenant's rows, but nothing was defeated
    if a.status in (S, D):
        return Term(D, a.predicates, "the tenant predicate is negated")
    return a


def worst(a: Term, b: Term) -> Term:
    return a if _BADNESS[a.status] >= _BADNESS[b.status] else b



def restriction(term: Term) -> Restriction:
    scope = {S: Scope.SCOPED, N: Scope.UNSCOPED, D: Scope.DEFEATED, U: Scope.UNKNOWN}[term.status]
    return Restriction(scope, term.predicates, term.reason)
