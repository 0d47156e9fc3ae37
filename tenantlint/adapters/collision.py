"""Collision checks: a query whose only answer is whether a value the function draws itself is already taken.

    while True:
        code = generate_code()                                   # drawn again on each pass
        if not Model.objects.filter(code=code).exists():         # a yes or no about that value
            return code

    taken = set(Model.objects.filter(**scope).values_list("code", flat=True))
    while len(codes) < count:
        code = generate_code()
        if code not in taken:                                    # the rows' values only tested against drawn ones
            codes.append(code)

No row and no value of a row leaves the function: what comes out is whether a value the code itself drew collides,
not an answer about a value a caller chose. The shape is structural: the tested value is assigned from a call inside
a loop that also holds the test (the retry loop of a random code), and the query's result is used for nothing but
that test. A query whose answer tests a parameter, or whose rows are returned, iterated or stored, is no such check.
"""
from __future__ import annotations

import libcst as cst

from tenantlint.python_module import children, descendants, dotted_name

# the calls whose answer is a yes or a number, not rows
_BOOLEAN_ENDS = {"exists", "aexists", "count", "acount"}
# wrappers that keep the answer a collection of the same values
_COLLECTIONS = {"set", "frozenset", "list", "tuple", "sorted"}


def is_collision_check(func: cst.FunctionDef, query: cst.BaseExpression, parents: dict | None = None) -> bool:
    """Whether `query` (an expression in `func` that runs a query) is a collision check (see the module's text);
    `parents` is parents_of(func), when the caller has it."""
    if parents is None:
        parents = parents_of(func)
    if isinstance(query, cst.Call) and isinstance(query.func, cst.Attribute) and query.func.attr.value in _BOOLEAN_ENDS:
        test = _test_holding(query, parents)
        return test is not None and _tests_drawn(test, query, func, parents)
    # `taken = set(<query>.values_list(...))`: the name holding the values is only tested against drawn values
    node = query
    parent = parents.get(id(node))
    if isinstance(parent, cst.Arg):
        call = parents.get(id(parent))
        if isinstance(call, cst.Call) and dotted_name(call.func) in _COLLECTIONS and len(call.args) == 1:
            node, parent = call, parents.get(id(call))
    if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name)):
        return False
    return _only_membership(parent.targets[0].target.value, func, parents, parent, depth=0)


def parents_of(func: cst.FunctionDef) -> dict[int, cst.CSTNode]:
    """id(node) -> its parent, for every node below `func`."""
    out: dict[int, cst.CSTNode] = {}
    stack = [func]
    while stack:
        n = stack.pop()
        for c in children(n):
            out[id(c)] = n
            stack.append(c)
    return out


def _test_holding(node: cst.CSTNode, parents: dict) -> cst.CSTNode | None:
    """The `if` / `while` whose test is the expression holding `node` (through `not`, `and`, `or`, parentheses)."""
    child, parent = node, parents.get(id(node))
    while isinstance(parent, (cst.UnaryOperation, cst.BooleanOperation)):
        child, parent = parent, parents.get(id(parent))
    if isinstance(parent, (cst.If, cst.While)) and parent.test is child:
        return parent
    return None


def _loops_around(node: cst.CSTNode, func: cst.FunctionDef, parents: dict) -> list[cst.CSTNode]:
    out = []
    n = parents.get(id(node))
    while n is not None and n is not func:
        # a retry loop: `while ...:` or `for attempt in range(n):`, not a pass over rows or input
        if isinstance(n, cst.While) or isinstance(n, cst.For) and isinstance(n.iter, cst.Call) and dotted_name(n.iter.func) == "range":
            out.append(n)
        n = parents.get(id(n))
    return out


def _drawn_names(loop: cst.CSTNode) -> set[str]:
    """Names the loop's body assigns from a call given nothing the loop computes (`code = generate_code(length)`),
    and names assigned from an expression using one of them (`key = {"code__iexact": code}`): values drawn anew on
    each pass."""
    drawn: set[str] = set()
    assigns = [n for n in descendants(loop.body) if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name)]
    computed = {a.targets[0].target.value for a in assigns}
    for a in assigns:
        if isinstance(a.value, cst.Call) and not _names(cst.Tuple([cst.Element(x.value) for x in a.value.args])) & computed:
            drawn.add(a.targets[0].target.value)
    for a in assigns:
        if a.targets[0].target.value not in drawn and _names(a.value) & drawn:
            drawn.add(a.targets[0].target.value)
    return drawn


def _tests_drawn(test: cst.CSTNode, query: cst.BaseExpression, func: cst.FunctionDef, parents: dict) -> bool:
    """A loop around the test draws a value that the query's filter names."""
    used = _names(query)
    return any(_drawn_names(loop) & used for loop in _loops_around(test, func, parents))


def _only_membership(name: str, func: cst.FunctionDef, parents: dict, binding: cst.CSTNode, depth: int) -> bool:
    """Every other use of `name` in `func` is the right side of `in` / `not in` whose left side is a drawn value, the
    receiver of `.add()` (the set grows with the values drawn), or the source of a comprehension assigned to a name
    used only so in turn."""
    uses = [n for n in descendants(func) if isinstance(n, cst.Name) and n.value == name and not _inside(n, binding, parents)
            and not (isinstance(parents.get(id(n)), cst.Attribute) and parents[id(n)].attr is n)]  # not `t.upper`
    if not uses:
        return False
    for use in uses:
        parent = parents.get(id(use))
        if isinstance(parent, cst.ComparisonTarget) and isinstance(parent.operator, (cst.In, cst.NotIn)) and parent.comparator is use:
            comparison = parents.get(id(parent))
            left = comparison.left if isinstance(comparison, cst.Comparison) else None
            if left is None or not any(_drawn_names(loop) & _names(left) for loop in _loops_around(comparison, func, parents)):
                return False
            continue
        if isinstance(parent, cst.Attribute) and parent.value is use and parent.attr.value == "add" \
                and isinstance(parents.get(id(parent)), cst.Call):
            continue
        if isinstance(parent, cst.CompFor) and parent.iter is use and depth == 0:
            comp = parents.get(id(parent))
            holder = parents.get(id(comp))
            if isinstance(comp, (cst.SetComp, cst.ListComp, cst.GeneratorExp)) and isinstance(holder, cst.Assign) \
                    and len(holder.targets) == 1 and isinstance(holder.targets[0].target, cst.Name) \
                    and _only_membership(holder.targets[0].target.value, func, parents, holder, depth + 1):
                continue
        if isinstance(parent, cst.AssignTarget):
            continue  # rebound: the new value is another one
        return False
    return True


def _inside(node: cst.CSTNode, ancestor: cst.CSTNode, parents: dict) -> bool:
    n = node
    while n is not None:
        if n is ancestor:
            return True
        n = parents.get(id(n))
    return False


def _names(node: cst.CSTNode) -> set[str]:
    """The names an expression reads (`code` of `code.upper()`, not `upper`)."""
    attrs = {id(n.attr) for n in descendants(node) if isinstance(n, cst.Attribute)}
    return {n.value for n in descendants(node) if isinstance(n, cst.Name) and id(n) not in attrs}
