"""The nested containers ``torch.func`` maps over (PyTorch's ``torch.utils._pytree``):
tuples, lists, dicts (and namedtuples) are nodes, everything else (``None`` too) is a
leaf."""

from __future__ import annotations

from typing import Any


class TreeSpec:
    """The structure of a pytree: the node kind, its context (dict keys) and children."""

    __slots__ = ("kind", "context", "children")

    def __init__(self, kind, context, children):
        self.kind, self.context, self.children = kind, context, children

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.kind == other.kind
            and self.context == other.context
            and self.children == other.children
        )

    def __repr__(self, indent: int = 0) -> str:
        """PyTorch's form: ``TreeSpec(tuple, None, [*,\n  *])``."""
        if self.kind == "leaf":
            return "*"
        context = list(self.context) if self.kind is dict else self.context
        out = f"TreeSpec({self.kind.__name__}, {context}, ["
        if self.children:
            indent += 2
            out += self.children[0].__repr__(indent)
            out += "," if len(self.children) > 1 else ""
            out += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self.children[1:])
        return out + "])"

    def pprint(self) -> str:
        """The tree with ``*`` for each leaf (PyTorch's ``treespec_pprint``)."""
        return repr(tree_unflatten([_Star()] * self.num_leaves, self))


class _Star:
    def __repr__(self) -> str:
        return "*"


_LEAF = TreeSpec("leaf", None, ())


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves) -> TreeSpec:
    if isinstance(tree, dict):
        keys = list(tree)
        return TreeSpec(dict, tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    if _is_namedtuple(tree):
        return TreeSpec(type(tree), None, tuple(_flatten(x, leaves) for x in tree))
    if type(tree) in (tuple, list):
        return TreeSpec(type(tree), None, tuple(_flatten(x, leaves) for x in tree))
    leaves.append(tree)
    return _LEAF


def tree_unflatten(leaves, spec: TreeSpec) -> Any:
    it = iter(leaves)
    out = _unflatten(it, spec)
    return out


def _unflatten(it, spec: TreeSpec):
    if spec.kind == "leaf":
        return next(it)
    children = [_unflatten(it, c) for c in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.context, children))
    if spec.kind in (tuple, list):
        return spec.kind(children)
    return spec.kind(*children)  # a namedtuple


def tree_map(fn, tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix: Any, spec: TreeSpec) -> list | None:
    """``prefix`` (a tree whose leaves stand for whole subtrees of ``spec``) repeated to
    one entry per leaf of ``spec``; None when the structures do not match
    (PyTorch's ``_broadcast_to_and_flatten``)."""
    out: list = []
    return out if _broadcast(prefix, spec, out) else None


def _broadcast(prefix, spec: TreeSpec, out: list) -> bool:
    node = isinstance(prefix, dict | list | tuple)
    if not node:
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.kind == "leaf":
        return False
    if isinstance(prefix, dict):
        if spec.kind is not dict or set(prefix) != set(spec.context):
            return False
        return all(_broadcast(prefix[k], c, out) for k, c in zip(spec.context, spec.children))
    if type(prefix) is not spec.kind or len(prefix) != len(spec.children):
        return False
    return all(_broadcast(p, c, out) for p, c in zip(prefix, spec.children))
