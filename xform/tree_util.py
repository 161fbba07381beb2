"""Pytrees: nested containers of arrays, flattened to a list of leaves plus a structure.

Semantics follow ``jax.tree_util``: dicts (children in sorted key order), lists,
tuples, namedtuples, ``None`` (an empty subtree), ``OrderedDict``,
``defaultdict`` and registered classes are nodes; everything else is a leaf.
Container types are matched exactly, so e.g. an unregistered dict subclass is a leaf.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
from typing import Any, Callable, Iterable, NamedTuple, Sequence, TypeVar, overload

import numpy as np

__all__ = [
    "PyTreeDef", "DictKey", "SequenceKey", "GetAttrKey", "FlattenedIndexKey", "keystr",
    "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "tree_map",
    "tree_flatten_with_path", "tree_leaves_with_path", "tree_map_with_path",
    "tree_reduce", "tree_all", "tree_transpose",
    "register_pytree_node", "register_pytree_with_keys", "register_dataclass", "ravel_pytree",
]

_IsLeaf = Callable[[Any], bool] | None


# --------------------------------------------------------------------------- key paths

@dataclasses.dataclass(frozen=True)
class DictKey:
    """Key path entry for a mapping child: prints as ``['a']``.



    >>> from xform.tree_util import DictKey
    >>> str(DictKey("a"))
    "['a']"
    """
    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """Key path entry for a list/tuple child: prints as ``[0]``.



    >>> from xform.tree_util import SequenceKey
    >>> str(SequenceKey(0))
    '[0]'
    """
    idx: int

    def __str__(self) -> str:
        return f"[{self.idx}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """Key path entry for an attribute (namedtuple, dataclass): prints as ``.name``.



    >>> from xform.tree_util import GetAttrKey
    >>> str(GetAttrKey("w"))
    '.w'
    """
    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class FlattenedIndexKey:
    """Key path entry for a child of a node registered without key information.



    >>> from xform.tree_util import FlattenedIndexKey
    >>> FlattenedIndexKey(1).key
    1
    """
    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


def keystr(path: Sequence[Any]) -> str:
    """Render a key path such as ``(DictKey('a'), SequenceKey(0))`` as ``"['a'][0]"``.

    Args:
        path: a sequence of keys, from the ``*_with_path`` functions.

    Returns:
        The path as Python indexing syntax.

    >>> from xform.tree_util import DictKey, SequenceKey, keystr
    >>> keystr((DictKey("a"), SequenceKey(0)))
    "['a'][0]"
    """
    return "".join(str(k) for k in path)


# --------------------------------------------------------------------------- registry

class _Handler(NamedTuple):
    flatten: Callable[[Any], tuple[Iterable[Any], Any]]
    unflatten: Callable[[Any, Iterable[Any]], Any]
    # Kept separate from ``flatten`` so the hot path does not build key objects.
    flatten_with_keys: Callable[[Any], tuple[Iterable[tuple[Any, Any]], Any]]


_REGISTRY: dict[type, _Handler] = {}


def _sorted_keys(d: Any) -> tuple[Any, ...]:
    try:
        return tuple(sorted(d))
    except TypeError:  # mixed, unorderable key types: fall back to insertion order
        return tuple(d)


def _seq_keys(x: Any) -> tuple[list[tuple[Any, Any]], None]:
    return [(SequenceKey(i), c) for i, c in enumerate(x)], None


def _dict_keys(keys: tuple[Any, ...], d: Any) -> list[tuple[Any, Any]]:
    return [(DictKey(k), d[k]) for k in keys]


def _dict_flatten(d: Any) -> tuple[list[Any], tuple[Any, ...]]:
    keys = _sorted_keys(d)
    return [d[k] for k in keys], keys


def _dict_keyed(d: Any) -> tuple[list[tuple[Any, Any]], tuple[Any, ...]]:
    keys = _sorted_keys(d)
    return _dict_keys(keys, d), keys


def _defaultdict_flatten(d: Any) -> tuple[list[Any], Any]:
    children, keys = _dict_flatten(d)
    return children, (d.default_factory, keys)


def _defaultdict_keyed(d: Any) -> tuple[list[tuple[Any, Any]], Any]:
    keyed, keys = _dict_keyed(d)
    return keyed, (d.default_factory, keys)


_REGISTRY[tuple] = _Handler(lambda x: (x, None), lambda _, c: tuple(c), _seq_keys)
_REGISTRY[list] = _Handler(lambda x: (x, None), lambda _, c: list(c), _seq_keys)
_REGISTRY[type(None)] = _Handler(lambda x: ((), None), lambda _, c: None, lambda x: ((), None))
_REGISTRY[dict] = _Handler(_dict_flatten, lambda keys, c: dict(zip(keys, c)), _dict_keyed)
# OrderedDict keeps its insertion order: for it, order is part of the value.
_REGISTRY[collections.OrderedDict] = _Handler(
    lambda d: (list(d.values()), tuple(d)),
    lambda keys, c: collections.OrderedDict(zip(keys, c)),
    lambda d: (_dict_keys(tuple(d), d), tuple(d)),
)
_REGISTRY[collections.defaultdict] = _Handler(
    _defaultdict_flatten, lambda aux, c: collections.defaultdict(aux[0], zip(aux[1], c)),
    _defaultdict_keyed)
# Namedtuples are recognised structurally rather than registered one class at a time.
_NAMEDTUPLE = _Handler(
    lambda x: (x, type(x)),
    lambda cls, c: cls(*c),
    lambda x: ([(GetAttrKey(f), c) for f, c in zip(x._fields, x)], type(x)),
)


def _handler_for(x: Any) -> _Handler | None:
    handler = _REGISTRY.get(type(x))
    if handler is None and isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return _NAMEDTUPLE
    return handler


def register_pytree_with_keys(
    nodetype: type,
    flatten_with_keys: Callable[[Any], tuple[Iterable[tuple[Any, Any]], Any]],
    unflatten_fn: Callable[[Any, Iterable[Any]], Any],
    flatten_fn: Callable[[Any], tuple[Iterable[Any], Any]] | None = None,
) -> None:
    """Register ``nodetype`` with a flatten function that also returns a key per child.

    Args:
        nodetype: the class.
        flatten_with_keys: ``x -> (((key, child), ...), aux_data)``.
        unflatten_fn: ``(aux_data, children) -> x``.
        flatten_fn: optionally a faster ``x -> (children, aux_data)``.

    Returns:
        None.

    >>> from xform.tree_util import GetAttrKey, keystr, register_pytree_with_keys
    >>> from xform.tree_util import tree_leaves_with_path
    >>> class Box:
    ...     def __init__(self, value):
    ...         self.value = value
    >>> register_pytree_with_keys(Box, lambda b: (((GetAttrKey("value"), b.value),), None),
    ...                           lambda _, c: Box(*c))
    >>> [(keystr(p), x) for p, x in tree_leaves_with_path(Box(7))]
    [('.value', 7)]
    """
    if flatten_fn is None:
        def flatten_fn(x: Any) -> tuple[Iterable[Any], Any]:
            keyed, aux = flatten_with_keys(x)
            return [c for _, c in keyed], aux
    if nodetype in _REGISTRY:
        raise ValueError(f"{nodetype.__name__} is already registered as a pytree node")
    _REGISTRY[nodetype] = _Handler(flatten_fn, unflatten_fn, flatten_with_keys)


def register_pytree_node(
    nodetype: type,
    flatten_fn: Callable[[Any], tuple[Iterable[Any], Any]],
    unflatten_fn: Callable[[Any, Iterable[Any]], Any],
    flatten_with_keys_fn: Callable[[Any], tuple[Iterable[tuple[Any, Any]], Any]] | None = None,
) -> None:
    """Register ``nodetype`` as a pytree node.

    ``flatten_fn(x) -> (children, aux_data)``; ``unflatten_fn(aux_data, children) -> x``.

    Args:
        nodetype: the class.
        flatten_fn: ``x -> (children, aux_data)``.
        unflatten_fn: ``(aux_data, children) -> x``.
        flatten_with_keys_fn: optionally ``x -> (((key, child), ...), aux_data)``, for key paths.

    Returns:
        None.

    >>> from xform.tree_util import register_pytree_node, tree_leaves
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, c: Pair(*c))
    >>> tree_leaves([Pair(1, 2), 3])
    [1, 2, 3]
    """
    if flatten_with_keys_fn is None:
        def flatten_with_keys_fn(x: Any) -> tuple[Iterable[tuple[Any, Any]], Any]:
            children, aux = flatten_fn(x)
            return [(FlattenedIndexKey(i), c) for i, c in enumerate(children)], aux
    register_pytree_with_keys(nodetype, flatten_with_keys_fn, unflatten_fn, flatten_fn)


_C = TypeVar("_C", bound=type)


@overload
def register_dataclass(cls: _C, data_fields: Sequence[str] | None = ...,
                       meta_fields: Sequence[str] | None = ...) -> _C: ...
@overload
def register_dataclass(cls: None = ..., data_fields: Sequence[str] | None = ...,
                       meta_fields: Sequence[str] | None = ...) -> Callable[[_C], _C]: ...


def register_dataclass(cls: Any = None, data_fields: Sequence[str] | None = None,
                       meta_fields: Sequence[str] | None = None) -> Any:
    """Register a (data)class whose ``data_fields`` are children and ``meta_fields`` are static.

    With neither list given, fields declared with ``metadata={'static': True}`` are meta
    fields and all other ``__init__`` fields are data. Usable as a bare decorator.

    Args:
        cls: the dataclass (omitted when used as ``@register_dataclass(...)``).
        data_fields: the fields that are children (traced, differentiated).
        meta_fields: the fields that are static (part of the structure).

    Returns:
        ``cls``, registered.

    >>> import dataclasses
    >>> from xform.tree_util import register_dataclass, tree_leaves
    >>> @register_dataclass
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: float
    ...     b: float
    >>> tree_leaves(Params(1.0, 2.0))
    [1.0, 2.0]
    """
    if cls is None:
        return lambda c: register_dataclass(c, data_fields, meta_fields)
    name = cls.__name__
    is_dc = dataclasses.is_dataclass(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init] if is_dc else []
    if data_fields is None or meta_fields is None:
        if not is_dc:
            raise TypeError(f"{name} is not a dataclass: pass data_fields and meta_fields")
        if data_fields is None and meta_fields is None:
            meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
        if data_fields is None:
            data_fields = [f.name for f in fields if f.name not in set(meta_fields or ())]
        else:
            meta_fields = [f.name for f in fields if f.name not in set(data_fields)]
    data, meta = tuple(data_fields), tuple(meta_fields or ())
    if set(data) & set(meta):
        raise ValueError(f"fields {sorted(set(data) & set(meta))} are both data and meta fields")
    # Unflattening calls cls(**fields), so every __init__ field must be accounted for.
    if is_dc and set(data) | set(meta) != {f.name for f in fields}:
        raise ValueError(f"data_fields + meta_fields must be exactly the __init__ fields "
                         f"{[f.name for f in fields]} of {name}")

    def unflatten(aux: Any, children: Iterable[Any]) -> Any:
        return cls(**dict(zip(meta, aux)), **dict(zip(data, children)))

    def flatten_with_keys(x: Any) -> tuple[list[tuple[Any, Any]], tuple[Any, ...]]:
        return [(GetAttrKey(n), getattr(x, n)) for n in data], tuple(getattr(x, n) for n in meta)

    def flatten(x: Any) -> tuple[list[Any], tuple[Any, ...]]:
        return [getattr(x, n) for n in data], tuple(getattr(x, n) for n in meta)

    register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
    return cls


# --------------------------------------------------------------------------- PyTreeDef

def _aux_equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # e.g. array-valued aux data whose == is elementwise
        return False


class _Mismatch(Exception):
    """Internal: raised deep in flatten_up_to; parents prepend their key on the way up."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.path: tuple[Any, ...] = ()


class PyTreeDef:
    """The structure of a pytree: node types, their aux data and children, with leaves elided.



    >>> from xform.tree_util import tree_structure
    >>> treedef = tree_structure({'a': 1, 'b': (2, 3)})
    >>> treedef.num_leaves, treedef.unflatten([4, 5, 6])
    (3, {'a': 4, 'b': (5, 6)})
    """

    __slots__ = ("_type", "_handler", "_aux", "_children", "num_leaves", "num_nodes", "_hash")
    _hash: int

    def __init__(self, node_type: Any, handler: _Handler | None, aux: Any,
                 children: tuple[PyTreeDef, ...]) -> None:
        self._type = node_type  # None for a leaf
        self._handler = handler
        self._aux = aux
        self._children = children
        self.num_leaves: int = 1 if handler is None else sum(c.num_leaves for c in children)
        self.num_nodes: int = 1 + sum(c.num_nodes for c in children)
        # Computed eagerly from the children's (already known) hashes: no recursion later.
        try:
            aux_hash = hash(aux)
        except TypeError:  # unhashable aux data: equal treedefs still hash equal
            aux_hash = 0
        self._hash = hash((node_type, aux_hash, tuple(c._hash for c in children)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The handler holds functions (often lambdas): pickle the node type instead, by
        # reference, and find its handler again when unpickling.
        if self._handler is None:
            return _leaf_treedef, ()
        return _node_treedef, (self._type, self._aux, self._children)

    def children(self) -> list[PyTreeDef]:
        """The treedefs of this node's immediate children."""
        return list(self._children)

    def is_leaf(self) -> bool:
        """True if this treedef is a single leaf."""
        return self._handler is None

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Build a pytree of this structure from ``leaves``."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"{self!r} expects {self.num_leaves} leaves, got {len(leaves)}")
        return self._build(iter(leaves))

    def _build(self, it: Any) -> Any:
        if self._handler is None:
            return next(it)
        built = []
        for child in self._children:
            built.append(child._build(it))
        return self._handler.unflatten(self._aux, built)

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Flatten ``tree`` only as deep as this structure: its leaves may be whole subtrees."""
        out: list[Any] = []
        try:
            self._flatten_up_to(tree, out)
        except _Mismatch as e:
            where = f"at key path {keystr(e.path)}" if e.path else "at the tree root"
            raise ValueError(f"{where}: {e.detail}") from None
        return out

    def _flatten_up_to(self, tree: Any, out: list[Any]) -> None:
        if self._handler is None:
            out.append(tree)
            return
        handler = _handler_for(tree)
        if handler is None or type(tree) is not self._type:
            raise _Mismatch(f"expected {self._describe()}, got {_describe_value(tree)}")
        raw_children, aux = handler.flatten(tree)
        children = list(raw_children)
        if len(children) != len(self._children) or not _aux_equal(aux, self._aux):
            raise _Mismatch(f"expected {self._describe()}, got {_describe_value(tree)}")
        for i, (sub, child) in enumerate(zip(self._children, children)):
            try:
                sub._flatten_up_to(child, out)
            except _Mismatch as e:
                # Keys are only computed on failure, keeping the success path cheap.
                keyed, _ = handler.flatten_with_keys(tree)
                e.path = (list(keyed)[i][0],) + e.path
                raise

    def _describe(self) -> str:
        return _describe_node(self._type, self._aux, len(self._children))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        # Iterative, so comparing very deep treedefs cannot hit the recursion limit.
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if (a._hash != b._hash or a._type is not b._type or a.num_nodes != b.num_nodes
                    or len(a._children) != len(b._children) or not _aux_equal(a._aux, b._aux)):
                return False
            stack.extend(zip(a._children, b._children))
        return True

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"PyTreeDef({self._str()})"

    def _str(self) -> str:
        if self._handler is None:
            return "*"
        kids = []
        for child in self._children:  # a loop, not a comprehension: one frame per level
            kids.append(child._str())
        t = self._type
        if t is type(None):
            return "None"
        if t is list:
            return "[" + ", ".join(kids) + "]"
        if t is tuple:
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        if t in (dict, collections.OrderedDict, collections.defaultdict):
            keys = self._aux[1] if t is collections.defaultdict else self._aux
            body = "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, kids)) + "}"
            if t is collections.OrderedDict:
                return f"OrderedDict({body})"
            if t is collections.defaultdict:
                return f"defaultdict({getattr(self._aux[0], '__name__', self._aux[0])}, {body})"
            return body
        if self._handler is _NAMEDTUPLE:
            return f"{t.__name__}(" + ", ".join(f"{f}={v}" for f, v in zip(t._fields, kids)) + ")"
        return f"CustomNode({t.__name__}[{self._aux!r}], [" + ", ".join(kids) + "])"


_LEAF = PyTreeDef(None, None, None, ())  # shared: every leaf has the same structure


def _leaf_treedef() -> PyTreeDef:
    return _LEAF


def _node_treedef(node_type: type, aux: Any, children: tuple[PyTreeDef, ...]) -> PyTreeDef:
    """Unpickle a node: its type must be registered (again) in this process."""
    handler = _REGISTRY.get(node_type)
    if handler is None and issubclass(node_type, tuple) and hasattr(node_type, "_fields"):
        handler = _NAMEDTUPLE
    if handler is None:
        raise ValueError(
            f"Cannot unpickle a PyTreeDef of {node_type.__qualname__}: that type is not a "
            "registered pytree node in this process. Register it (register_pytree_node, "
            "register_dataclass) before unpickling.")
    return PyTreeDef(node_type, handler, aux, children)


def _describe_node(t: Any, aux: Any, n: int) -> str:
    if t is type(None):
        return "None"
    if t in (dict, collections.OrderedDict, collections.defaultdict):
        keys = aux[1] if t is collections.defaultdict else aux
        article = "an" if t is collections.OrderedDict else "a"
        return f"{article} {t.__name__} with keys {list(keys)}"
    if t in (list, tuple):
        return f"a {t.__name__} of length {n}"
    if isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields"):
        return f"a namedtuple {t.__name__} of length {n}"
    aux_repr = repr(aux)
    aux_repr = aux_repr if len(aux_repr) <= 80 else aux_repr[:77] + "..."
    return f"a {t.__name__} node with {n} children and aux data {aux_repr}"


def _describe_value(x: Any) -> str:
    handler = _handler_for(x)
    if handler is None:
        return f"a leaf of type {type(x).__name__}"
    children, aux = handler.flatten(x)
    return _describe_node(type(x), aux, len(list(children)))


# --------------------------------------------------------------------------- flatten & co

def _flatten(tree: Any, is_leaf: _IsLeaf, leaves: list[Any],
             paths: list[tuple[Any, ...]] | None, path: tuple[Any, ...]) -> PyTreeDef:
    # Recursive (one frame per level): fine for any realistically nested pytree.
    handler = None if is_leaf is not None and is_leaf(tree) else _handler_for(tree)
    if handler is None:
        leaves.append(tree)
        if paths is not None:
            paths.append(path)
        return _LEAF
    subdefs = []
    if paths is None:
        children, aux = handler.flatten(tree)
        for child in children:
            subdefs.append(_flatten(child, is_leaf, leaves, None, ()))
    else:
        keyed, aux = handler.flatten_with_keys(tree)
        for key, child in keyed:
            subdefs.append(_flatten(child, is_leaf, leaves, paths, path + (key,)))
    return PyTreeDef(type(tree), handler, aux, tuple(subdefs))


def tree_flatten(tree: Any, is_leaf: _IsLeaf = None) -> tuple[list[Any], PyTreeDef]:
    """Return ``(leaves, treedef)``; ``is_leaf(x)`` returning True stops descent at ``x``.

    Args:
        tree: a pytree (dicts, lists, tuples, namedtuples, None, registered nodes).
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        ``(leaves, treedef)``.

    >>> from xform.tree_util import tree_flatten
    >>> leaves, treedef = tree_flatten({"b": (1, 2), "a": [3]})
    >>> leaves
    [3, 1, 2]
    """
    leaves: list[Any] = []
    return leaves, _flatten(tree, is_leaf, leaves, None, ())


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree with structure ``treedef`` from ``leaves``.

    Args:
        treedef: the structure, from :func:`tree_flatten`.
        leaves: as many leaves as it has.

    Returns:
        The pytree.

    >>> from xform.tree_util import tree_flatten, tree_unflatten
    >>> _, treedef = tree_flatten({"a": 0, "b": (0, 0)})
    >>> tree_unflatten(treedef, [1, 2, 3])
    {'a': 1, 'b': (2, 3)}
    """
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: _IsLeaf = None) -> list[Any]:
    """The leaves of ``tree`` in flattening order.

    Args:
        tree: a pytree.
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        The list of leaves.

    >>> from xform.tree_util import tree_leaves
    >>> tree_leaves([1, (2, None), {"x": 3}])
    [1, 2, 3]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: _IsLeaf = None) -> PyTreeDef:
    """The treedef of ``tree``.

    Args:
        tree: a pytree.
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        Its ``PyTreeDef``.

    >>> from xform.tree_util import tree_structure
    >>> tree_structure((1, [2, 3])).num_leaves
    3
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_flatten_with_path(tree: Any, is_leaf: _IsLeaf = None
                           ) -> tuple[list[tuple[tuple[Any, ...], Any]], PyTreeDef]:
    """Like :func:`tree_flatten`, but each leaf comes as ``(key_path, leaf)``.

    Args:
        tree: a pytree.
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        ``([(key_path, leaf), ...], treedef)``.

    >>> from xform.tree_util import keystr, tree_flatten_with_path
    >>> pairs, _ = tree_flatten_with_path({"a": [1, 2]})
    >>> [(keystr(p), x) for p, x in pairs]
    [("['a'][0]", 1), ("['a'][1]", 2)]
    """
    leaves: list[Any] = []
    paths: list[tuple[Any, ...]] = []
    treedef = _flatten(tree, is_leaf, leaves, paths, ())
    return list(zip(paths, leaves)), treedef


def tree_leaves_with_path(tree: Any, is_leaf: _IsLeaf = None) -> list[tuple[tuple[Any, ...], Any]]:
    """The ``(key_path, leaf)`` pairs of ``tree``.

    Args:
        tree: a pytree.
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        The list of ``(key_path, leaf)``.

    >>> from xform.tree_util import keystr, tree_leaves_with_path
    >>> [keystr(p) for p, _ in tree_leaves_with_path((1, {"x": 2}))]
    ['[0]', "[1]['x']"]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def _flatten_rest(treedef: PyTreeDef, rest: Sequence[Any]) -> list[list[Any]]:
    out = []
    for i, other in enumerate(rest):
        try:
            out.append(treedef.flatten_up_to(other))
        except ValueError as e:
            # The first tree's repr is left out: it can be huge for real parameter trees.
            msg = f"rest[{i}] does not match the structure of the first tree {e}"
            raise ValueError(msg) from None
    return out


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: _IsLeaf = None) -> Any:
    """Apply ``f`` leafwise: ``f(x, *ys)`` where each ``ys`` tree has ``tree`` as a prefix.

    Args:
        f: called with one leaf of ``tree`` and the matching leaf of each of ``rest``.
        tree: a pytree.
        *rest: pytrees with ``tree``'s structure (or with it as a prefix).
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        A pytree like ``tree`` of ``f``'s results.

    >>> from xform.tree_util import tree_map
    >>> tree_map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": (20, 30)})
    {'a': 11, 'b': (22, 33)}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = _flatten_rest(treedef, rest)
    return treedef.unflatten([f(*xs) for xs in zip(leaves, *others)])


def tree_map_with_path(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: _IsLeaf = None) -> Any:
    """Like :func:`tree_map`, but calls ``f(key_path, x, *ys)``.

    Args:
        f: called as ``f(key_path, leaf, *other_leaves)``.
        tree: a pytree.
        *rest: pytrees with ``tree``'s structure.
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        A pytree like ``tree`` of ``f``'s results.

    >>> from xform.tree_util import keystr, tree_map_with_path
    >>> tree_map_with_path(lambda p, x: f"{keystr(p)}={x}", {"a": 1, "b": 2})
    {'a': "['a']=1", 'b': "['b']=2"}
    """
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    others = _flatten_rest(treedef, rest)
    return treedef.unflatten([f(p, x, *ys) for (p, x), *ys in zip(pairs, *others)])


_NO_INITIAL: Any = object()


def tree_reduce(f: Callable[[Any, Any], Any], tree: Any, initializer: Any = _NO_INITIAL,
                is_leaf: _IsLeaf = None) -> Any:
    """``functools.reduce`` over the leaves of ``tree``.

    Args:
        f: ``(accumulated, leaf) -> accumulated``.
        tree: a pytree.
        initializer: the first accumulated value (default: the first leaf).
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        The reduction.

    >>> import operator
    >>> from xform.tree_util import tree_reduce
    >>> tree_reduce(operator.add, {"a": 1, "b": [2, 3]})
    6
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIAL:
        return functools.reduce(f, leaves)
    return functools.reduce(f, leaves, initializer)


def tree_all(tree: Any, is_leaf: _IsLeaf = None) -> bool:
    """True if every leaf is truthy.

    Args:
        tree: a pytree.
        is_leaf: ``x -> bool``; True stops the descent at ``x`` (a leaf).

    Returns:
        ``all(leaves)``.

    >>> from xform.tree_util import tree_all
    >>> tree_all({"a": True, "b": [1, 0]})
    False
    """
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef, tree: Any) -> Any:
    """Turn an outer-structured tree of inner-structured trees inside out.

    Args:
        outer_treedef: the structure of the outer level.
        inner_treedef: the structure of each inner tree.
        tree: an outer tree of inner trees.

    Returns:
        An inner tree of outer trees.

    >>> from xform.tree_util import tree_structure, tree_transpose
    >>> tree = [(1, 2), (3, 4)]
    >>> tree_transpose(tree_structure([0, 0]), tree_structure((0, 0)), tree)
    ([1, 3], [2, 4])
    """
    rows = [inner_treedef.flatten_up_to(sub) for sub in outer_treedef.flatten_up_to(tree)]
    columns = [outer_treedef.unflatten([row[j] for row in rows])
               for j in range(inner_treedef.num_leaves)]
    return inner_treedef.unflatten(columns)


# --------------------------------------------------------------------------- ravel

def _dtype_of(x: Any) -> np.dtype[Any]:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.result_type(x)


def ravel_pytree(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Concatenate all leaves, raveled, into one 1-D array; return it with an inverse function.

    Works on traced values too: the array work is done by NumPy's functions, which
    hand traced values to ``xform.numpy`` (``__array_function__``), so this module,
    which ``xform.numpy`` uses, needs no import of it.

    Args:
        tree: a pytree of arrays.

    Returns:
        ``(flat, unravel)``: the 1-D array and the function back to the tree.

    >>> import numpy
    >>> from xform.tree_util import ravel_pytree
    >>> flat, unravel = ravel_pytree({"a": numpy.ones(2), "b": 3.0})
    >>> flat.tolist(), unravel(flat)["b"].item()
    ([1.0, 1.0, 3.0], 3.0)
    """
    leaves, treedef = tree_flatten(tree)
    if not leaves:
        return np.zeros(0), _Unravel(treedef, [], [], [])

    dtypes = [_dtype_of(x) for x in leaves]
    shapes = [tuple(x.shape) if hasattr(x, "shape") else np.shape(x) for x in leaves]
    sizes = [math.prod(s) for s in shapes]
    out_dtype = np.result_type(*dtypes)
    parts = []
    for leaf, dt in zip(leaves, dtypes):
        part = np.ravel(leaf)
        parts.append(part.astype(out_dtype) if dt != out_dtype else part)
    flat = np.concatenate(parts, axis=0)
    unravel = _Unravel(treedef, shapes, sizes, dtypes)
    return flat, unravel


class _Unravel:
    """The inverse of one ``ravel_pytree``: a 1-D array back to the pytree. A class (not
    a closure) so that it pickles, with its treedef."""

    __slots__ = ("treedef", "shapes", "sizes", "dtypes", "total")

    def __init__(self, treedef: PyTreeDef, shapes: list[tuple[int, ...]], sizes: list[int],
                 dtypes: list[np.dtype[Any]]) -> None:
        self.treedef, self.shapes, self.sizes, self.dtypes = treedef, shapes, sizes, dtypes
        self.total = sum(sizes)

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.treedef, self.shapes, self.sizes, self.dtypes)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.__init__(*state)  # type: ignore[misc]

    def __call__(self, flat: Any) -> Any:
        if not self.shapes:
            return self.treedef.unflatten([])
        if not hasattr(flat, "shape"):
            # np.stack, unlike np.asarray, hands a sequence of traced values to xform.numpy
            flat = np.stack(flat) if isinstance(flat, (list, tuple)) and flat else np.asarray(flat)
        if tuple(flat.shape) != (self.total,):
            raise ValueError(f"unravel expects a 1-D array of length {self.total}, "
                             f"got shape {flat.shape}")
        flat_dtype = _dtype_of(flat)
        pieces, start = [], 0
        for shape, size, dt in zip(self.shapes, self.sizes, self.dtypes):
            piece = np.reshape(flat[start:start + size], shape)
            pieces.append(piece.astype(dt) if dt != flat_dtype else piece)
            start += size
        return self.treedef.unflatten(pieces)
