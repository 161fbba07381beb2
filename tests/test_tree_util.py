"""Tests for xform.tree_util."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xform import tree_util as tu
from xform.tree_util import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
    keystr,
    ravel_pytree,
    register_dataclass,
    register_pytree_node,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_map,
    tree_map_with_path,
    tree_structure,
    tree_unflatten,
)


# ----------------------------------------------------------------------------- fixtures

class Point(NamedTuple):
    x: Any
    y: Any


class Box:
    """A registered custom node: `contents` are children, `label` is aux data."""

    def __init__(self, contents: list[Any], label: str) -> None:
        self.contents = contents
        self.label = label


register_pytree_node(Box, lambda b: (b.contents, b.label), lambda label, ch: Box(list(ch), label))


@register_dataclass
@dataclasses.dataclass
class Params:
    w: Any
    b: Any
    name: str = dataclasses.field(default="p", metadata={"static": True})


@dataclasses.dataclass(frozen=True)
class Layer:
    kernel: Any
    activation: str


register_dataclass(Layer, data_fields=["kernel"], meta_fields=["activation"])


def assert_tree_equal(a: Any, b: Any) -> None:
    """Same structure (container types included) and equal leaves (arrays by value)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            assert_tree_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_tree_equal(x, y)
    elif isinstance(a, Box):
        assert a.label == b.label
        assert_tree_equal(a.contents, b.contents)
    elif dataclasses.is_dataclass(a):
        assert_tree_equal(dataclasses.asdict(a), dataclasses.asdict(b))  # type: ignore[arg-type]
    else:
        assert a == b


leaf_st = st.one_of(
    st.floats(allow_nan=False, width=64),
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
        elements=st.floats(-10, 10, width=32),
    ),
)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), children, max_size=4),
        st.tuples(children, children).map(lambda t: Point(*t)),
        st.none(),
    )


tree_st = st.recursive(leaf_st | st.none(), containers, max_leaves=20)


# ----------------------------------------------------------------------------- round trips

@settings(max_examples=200, deadline=None)
@given(tree_st)
def test_flatten_unflatten_round_trip(tree: Any) -> None:
    leaves, treedef = tree_flatten(tree)
    assert treedef.num_leaves == len(leaves)
    rebuilt = tree_unflatten(treedef, leaves)
    assert_tree_equal(rebuilt, tree)
    assert tree_structure(rebuilt) == treedef
    assert hash(tree_structure(rebuilt)) == hash(treedef)
    assert all(a is b for a, b in zip(tree_leaves(rebuilt), leaves))


@settings(max_examples=100, deadline=None)
@given(tree_st)
def test_tree_map_identity_and_paths_agree(tree: Any) -> None:
    assert_tree_equal(tree_map(lambda x: x, tree), tree)
    pairs, treedef = tree_flatten_with_path(tree)
    assert treedef == tree_structure(tree)
    assert len(pairs) == treedef.num_leaves
    assert all(a is b for (_, a), b in zip(pairs, tree_leaves(tree)))


def test_dict_children_in_sorted_key_order() -> None:
    tree = {"b": 1, "a": 2, "c": {"z": 3, "y": 4}}
    assert tree_leaves(tree) == [2, 1, 4, 3]
    rebuilt = tree_unflatten(tree_structure(tree), [10, 20, 30, 40])
    assert list(rebuilt) == ["a", "b", "c"]
    assert rebuilt == {"a": 10, "b": 20, "c": {"y": 30, "z": 40}}
    # Insertion order does not matter for plain dicts.
    assert tree_structure({"a": 1, "b": 2}) == tree_structure({"b": 1, "a": 2})


def test_none_is_an_empty_subtree() -> None:
    assert tree_leaves([None, 1, (None,)]) == [1]
    assert tree_leaves(None) == []
    assert tree_unflatten(tree_structure(None), []) is None
    assert tree_leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]


def test_other_objects_are_leaves() -> None:
    obj = object()
    arr = np.ones((2, 2))
    leaves = tree_leaves(["s", 3, arr, obj, np.float32(1.0)])
    assert leaves[0] == "s" and leaves[2] is arr and leaves[3] is obj
    assert tree_structure(arr) == tree_structure(5)
    assert repr(tree_structure(arr)) == "PyTreeDef(*)"


def test_namedtuple_round_trip() -> None:
    tree = Point(x=np.arange(3), y={"k": 1.0})
    leaves, treedef = tree_flatten(tree)
    rebuilt = tree_unflatten(treedef, leaves)
    assert type(rebuilt) is Point
    assert_tree_equal(rebuilt, tree)
    assert treedef != tree_structure((np.arange(3), {"k": 1.0}))


def test_ordered_dict_and_defaultdict_keep_type() -> None:
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    assert tree_leaves(od) == [1, 2]  # insertion order, not sorted
    rebuilt = tree_map(lambda x: x * 10, od)
    assert type(rebuilt) is collections.OrderedDict
    assert list(rebuilt.items()) == [("b", 10), ("a", 20)]

    dd: collections.defaultdict[str, Any] = collections.defaultdict(list, {"b": 1, "a": 2})
    assert tree_leaves(dd) == [2, 1]
    rebuilt_dd = tree_map(lambda x: x + 1, dd)
    assert type(rebuilt_dd) is collections.defaultdict and rebuilt_dd.default_factory is list
    assert dict(rebuilt_dd) == {"a": 3, "b": 2}


def test_registered_class_round_trip() -> None:
    tree = {"box": Box([1.0, np.zeros(2)], label="hi")}
    leaves, treedef = tree_flatten(tree)
    assert len(leaves) == 2
    rebuilt = tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt["box"], Box) and rebuilt["box"].label == "hi"
    assert_tree_equal(rebuilt, tree)
    assert treedef != tree_structure({"box": Box([1.0, 2.0], label="other")})
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(Box, lambda b: (b.contents, b.label), lambda lbl, ch: Box(list(ch), lbl))


def test_dataclass_round_trip() -> None:
    p = Params(w=np.ones(3), b=2.0, name="dense")
    leaves, treedef = tree_flatten(p)
    assert len(leaves) == 2 and leaves[1] == 2.0  # `name` is static metadata, not a leaf
    rebuilt = tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt, Params) and rebuilt.name == "dense"
    assert_tree_equal(rebuilt, p)
    assert treedef != tree_structure(Params(w=np.ones(3), b=2.0, name="other"))

    layer = Layer(kernel=[1.0, 2.0], activation="relu")
    doubled = tree_map(lambda x: 2 * x, layer)
    assert doubled == Layer(kernel=[2.0, 4.0], activation="relu")


def test_register_dataclass_validation() -> None:
    @dataclasses.dataclass
    class Pair:
        a: Any
        b: Any

    with pytest.raises(ValueError):
        register_dataclass(Pair, data_fields=["a"], meta_fields=["a", "b"])
    with pytest.raises(ValueError):
        register_dataclass(Pair, data_fields=["a"], meta_fields=[])
    with pytest.raises(TypeError):
        register_dataclass(Box)
    # Only one list given: the other is inferred from the remaining __init__ fields.
    assert register_dataclass(Pair, data_fields=["b"]) is Pair
    assert tree_leaves(Pair(1, 2)) == [2]


def test_deeply_nested_tree() -> None:
    tree: Any = 1.0
    for i in range(300):
        tree = [tree] if i % 2 else {"k": tree}
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1.0]
    assert_tree_equal(tree_unflatten(treedef, leaves), tree)


# ----------------------------------------------------------------------------- tree_map

def test_tree_map_multiple_trees() -> None:
    a = {"w": [1.0, 2.0], "b": 3.0}
    b = {"w": [10.0, 20.0], "b": 30.0}
    c = {"b": 300.0, "w": [100.0, 200.0]}
    assert tree_map(lambda x, y, z: x + y + z, a, b, c) == {"w": [111.0, 222.0], "b": 333.0}


def test_tree_map_first_tree_is_a_prefix() -> None:
    out = tree_map(lambda x, y: (x, y), [1, 2], [{"a": 3}, (4, 5)])
    assert out == [(1, {"a": 3}), (2, (4, 5))]


def test_tree_map_is_leaf() -> None:
    tree = {"a": (1, 2), "b": [3]}
    out = tree_map(lambda x: len(x), tree, is_leaf=lambda x: isinstance(x, (tuple, list)))
    assert out == {"a": 2, "b": 1}


def test_tree_map_mismatch_names_key_path() -> None:
    tree = {"layer1": {"w": {"b": 1, "w": 2}}, "layer2": 3}
    other = {"layer1": {"w": [1, 2]}, "layer2": 3}
    with pytest.raises(ValueError) as info:
        tree_map(lambda x, y: x, tree, other)
    expected = ("at key path ['layer1']['w']: "
                "expected a dict with keys ['b', 'w'], got a list of length 2")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    "tree, other, fragment",
    [
        ([1, 2], [1, 2, 3],
         "at the tree root: expected a list of length 2, got a list of length 3"),
        ([1, 2], (1, 2), "expected a list of length 2, got a tuple of length 2"),
        ({"a": [None]}, {"a": [5]}, "at key path ['a'][0]: expected None, got a leaf of type int"),
        ({"a": 1}, {"b": 1}, "expected a dict with keys ['a'], got a dict with keys ['b']"),
        (Point(1, [2]), Point(1, 2), "at key path .y: expected a list of length 1"),
        ([Box([1], "x")], [Box([1], "y")], "at key path [0]: expected a Box node"),
    ],
)
def test_tree_map_mismatch_messages(tree: Any, other: Any, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        tree_map(lambda *xs: xs[0], tree, other)
    assert fragment in str(info.value)


# ----------------------------------------------------------------------------- key paths

def test_key_paths() -> None:
    tree = {"a": [1, Point(2, 3)], "b": Params(w=4, b=5), "c": Box([6], "l")}
    pairs, _ = tree_flatten_with_path(tree)
    assert [keystr(p) for p, _ in pairs] == [
        "['a'][0]", "['a'][1].x", "['a'][1].y", "['b'].w", "['b'].b", "['c'][<flat index 0>]",
    ]
    assert [leaf for _, leaf in pairs] == [1, 2, 3, 4, 5, 6]
    assert pairs[0][0] == (DictKey("a"), SequenceKey(0))
    assert pairs[1][0][-1] == GetAttrKey("x")
    assert pairs[-1][0][-1] == FlattenedIndexKey(0)
    assert str(DictKey(1)) == "[1]"


def test_tree_map_with_path() -> None:
    tree = {"w": [1, 2], "b": 3}
    out = tree_map_with_path(lambda p, x, y: f"{keystr(p)}={x + y}", tree, tree)
    assert out == {"w": ["['w'][0]=2", "['w'][1]=4"], "b": "['b']=6"}


# ----------------------------------------------------------------------------- treedef

def test_treedef_api() -> None:
    treedef = tree_structure({"a": 1, "b": [2, 3]})
    assert isinstance(treedef, PyTreeDef)
    assert repr(treedef) == "PyTreeDef({'a': *, 'b': [*, *]})"
    assert treedef.num_leaves == 3
    assert treedef.children() == [tree_structure(0), tree_structure([0, 0])]
    assert treedef.unflatten([7, 8, 9]) == {"a": 7, "b": [8, 9]}
    with pytest.raises(ValueError):
        treedef.unflatten([1, 2])
    with pytest.raises(ValueError):
        treedef.unflatten([1, 2, 3, 4])


def test_treedef_reprs() -> None:
    assert repr(tree_structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree_structure([None, ()])) == "PyTreeDef([None, ()])"
    assert repr(tree_structure(Point(1, 2))) == "PyTreeDef(Point(x=*, y=*))"
    assert repr(tree_structure(Box([1, 2], "t"))) == "PyTreeDef(CustomNode(Box['t'], [*, *]))"


def test_treedef_equality_and_hash() -> None:
    t1 = tree_structure({"a": [1, 2], "b": (3,)})
    t2 = tree_structure({"b": ("x",), "a": [np.zeros(2), "y"]})
    assert t1 == t2 and hash(t1) == hash(t2)
    assert len({t1, t2}) == 1
    assert t1 != tree_structure({"a": [1, 2], "b": [3]})
    assert t1 != tree_structure({"a": [1, 2], "c": (3,)})
    assert tree_structure([1, 2]) != tree_structure((1, 2))
    assert tree_structure([1, [2]]) != tree_structure([1, 2])
    assert t1 != "not a treedef"
    # Unhashable aux data still gives a usable hash.
    u1, u2 = tree_structure(_ListAux(1, "t")), tree_structure(_ListAux(2, "t"))
    assert u1 == u2 and hash(u1) == hash(u2)


class _ListAux:
    def __init__(self, v: Any, tag: str) -> None:
        self.v, self.tag = v, tag


register_pytree_node(
    _ListAux, lambda x: ([x.v], [x.tag]), lambda aux, ch: _ListAux(list(ch)[0], aux[0]))


# ----------------------------------------------------------------------------- extras

def test_reduce_all_transpose() -> None:
    assert tu.tree_reduce(lambda a, b: a + b, {"a": 1, "b": [2, 3]}) == 6
    assert tu.tree_reduce(lambda a, b: a + b, [], initializer=10) == 10
    assert tu.tree_all([True, {"a": 1}]) and not tu.tree_all([True, (0,)])
    tree = [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]
    outer, inner = tree_structure([0, 0, 0]), tree_structure({"a": 0, "b": 0})
    assert tu.tree_transpose(outer, inner, tree) == {"a": [1, 3, 5], "b": [2, 4, 6]}


# ----------------------------------------------------------------------------- ravel_pytree

def test_ravel_pytree_mixed_dtypes() -> None:
    tree = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (np.array([1.5, 2.5]), None)}
    flat, unravel = ravel_pytree(tree)
    flat = np.asarray(flat)
    assert flat.dtype == np.float64 and flat.shape == (8,)
    np.testing.assert_array_equal(flat, [0, 1, 2, 3, 4, 5, 1.5, 2.5])
    rebuilt = unravel(flat * 2)
    a, b = np.asarray(rebuilt["a"]), np.asarray(rebuilt["b"][0])
    assert a.dtype == np.float32 and a.shape == (2, 3)
    assert b.dtype == np.float64 and b.shape == (2,)
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3) * 2)
    assert rebuilt["b"][1] is None
    with pytest.raises(ValueError):
        unravel(np.zeros(7))


def test_ravel_pytree_scalars_and_empty() -> None:
    flat, unravel = ravel_pytree([1.0, np.float32(2.0), np.zeros((0, 3))])
    assert np.asarray(flat).shape == (2,)
    x, y, z = unravel(np.asarray(flat))
    assert np.shape(x) == () and np.asarray(y).dtype == np.float32 and np.shape(z) == (0, 3)

    flat, unravel = ravel_pytree({"a": None, "b": []})
    assert flat.shape == (0,)
    assert unravel(flat) == {"a": None, "b": []}


@settings(max_examples=50, deadline=None)
@given(tree_st)
def test_ravel_pytree_round_trip(tree: Any) -> None:
    flat, unravel = ravel_pytree(tree)
    leaves = tree_leaves(tree)
    assert np.asarray(flat).shape == (sum(np.size(x) for x in leaves),)
    rebuilt = unravel(flat)
    assert tree_structure(rebuilt) == tree_structure(tree)
    for orig, new in zip(leaves, tree_leaves(rebuilt)):
        new = np.asarray(new)
        assert new.shape == np.shape(orig) and new.dtype == np.result_type(orig)
        np.testing.assert_array_equal(new, orig)
