"""Input domains of every primitive, for the registry-driven test in test_rules.py.

``DOMAINS[name]`` is a list of :class:`Domain`. A domain's ``make(rng)`` returns
``(args, params)``: concrete sample inputs for ``bind(prim, *args, **params)``,
chosen where the primitive is smooth (positive for log/sqrt, inside (-1, 1) for
arcsin/arctanh, > 1 for arccosh, away from ties and kinks for abs/maximum/mod...).
``diff`` lists the argument positions that are differentiated; the others
(integer index arrays, conditions) are held fixed. For a non-differentiable
primitive ``diff`` lists the floating arguments that are traced (to check that
no derivative comes out).

A primitive added to ``xform`` without an entry here fails test_rules.py by name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from xform.numpy._indexing import split_index

Rng = np.random.Generator
Make = Callable[[Rng], tuple[tuple[Any, ...], dict[str, Any]]]


@dataclass(frozen=True)
class Domain:
    make: Make
    diff: tuple[int, ...] = (0,)
    label: str = ""
    #: overrides of the finite-difference step and tolerances (float32 results)
    tol: dict[str, float] = field(default_factory=dict)
    #: float32 inputs give float32 outputs, tangents and cotangents
    float32: bool = True
    #: False for primitives that refuse reverse mode by design (while_loop)
    reverse: bool = True


# ----------------------------------------------------------------------------- samplers
Sampler = Callable[[Rng, tuple[int, ...]], np.ndarray]


def uniform(lo: float, hi: float) -> Sampler:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away_from_zero(lo: float, hi: float) -> Sampler:
    """``|x|`` in ``[lo, hi]``, either sign."""
    def sample(rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, shape)
    return sample


def boolean(rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
    return np.asarray(rng.random(shape) < 0.5)


REAL = uniform(-2.0, 2.0)
POSITIVE = uniform(0.5, 2.0)
UNIT = uniform(-0.9, 0.9)           # inside (-1, 1)
ABOVE_ONE = uniform(1.2, 3.0)       # arccosh
NONZERO = away_from_zero(0.3, 2.0)  # away from the kink/pole at 0


def with_specials(rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
    """Reals with a NaN, an inf and an exact integer (isnan, floor... at their edges)."""
    x = REAL(rng, shape)
    flat = x.reshape(-1)
    flat[:3] = [np.nan, np.inf, 1.0][:flat.size]
    return x


def rejection(sample_x: Sampler, sample_y: Sampler,
              ok: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., Any]:
    """Pairs ``(x, y)`` resampled until ``ok(x, y)`` holds at every broadcast position."""
    def sample(rng: Rng, sx: tuple[int, ...], sy: tuple[int, ...]) -> tuple[Any, Any]:
        for _ in range(1000):
            x, y = sample_x(rng, sx), sample_y(rng, sy)
            if np.all(ok(x, y)):
                return x, y
        raise RuntimeError("rejection sampling failed")  # pragma: no cover
    return sample


def independent(sample_x: Sampler, sample_y: Sampler) -> Callable[..., Any]:
    return lambda rng, sx, sy: (sample_x(rng, sx), sample_y(rng, sy))


def _frac_ok(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    frac = np.abs(x / y) % 1.0  # mod/fmod jump where x / y is an integer
    return (frac > 0.05) & (frac < 0.95)


SEPARATED = rejection(REAL, REAL, lambda x, y: np.abs(x - y) > 0.05)  # maximum & co: no ties
MOD_PAIR = rejection(REAL, away_from_zero(0.5, 1.5), _frac_ok)

# ----------------------------------------------------------------------------- table builders
UNARY_SHAPES = [(3, 4), ()]
# same shape, a trailing vector, a column, both sides broadcast, a scalar
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)), ((3, 1), (1, 4)),
                 ((), (2, 3))]


def unary(sample: Sampler, params: dict[str, Any] | None = None,
          shapes: list[tuple[int, ...]] = UNARY_SHAPES, **kw: Any) -> list[Domain]:
    def domain(shape: tuple[int, ...]) -> Domain:
        return Domain(lambda rng: ((sample(rng, shape),), dict(params or {})),
                      label=f"x{shape} {params or ''}", **kw)
    return [domain(s) for s in shapes]


def binary(pair: Callable[..., Any], shapes: list[Any] = BINARY_SHAPES,
           **kw: Any) -> list[Domain]:
    def domain(sx: tuple[int, ...], sy: tuple[int, ...]) -> Domain:
        return Domain(lambda rng: (pair(rng, sx, sy), {}), diff=(0, 1),
                      label=f"x{sx} y{sy}", **kw)
    return [domain(sx, sy) for sx, sy in shapes]


def fixed(args: Callable[[Rng], tuple[Any, ...]], params: dict[str, Any],
          diff: tuple[int, ...] = (0,), label: str = "", **kw: Any) -> Domain:
    return Domain(lambda rng: (args(rng), dict(params)), diff=diff,
                  label=label or repr(params), **kw)


def reduction(sample: Sampler, **kw: Any) -> list[Domain]:
    """``(x,)`` with ``axis`` (a sorted tuple) and ``keepdims``, as the reductions bind."""
    cases = [((3, 4), (1,), False), ((3, 4), (0, 1), True), ((2, 3, 4), (0, 2), False),
             ((4,), (0,), False)]
    return [fixed(operands(s, sample=sample), {"axis": ax, "keepdims": kd},
                  label=f"x{s} axis={ax} keepdims={kd}", **kw) for s, ax, kd in cases]


def indexed(shape: tuple[int, ...], index: Any, sample: Sampler = REAL) -> Domain:
    """``getitem``: ``(x, *index_arrays)`` with the static part of ``index`` as ``idx``."""
    static, arrays = split_index(index)
    return Domain(lambda rng: ((sample(rng, shape), *arrays), {"idx": static}),
                  label=f"x{shape}[{index!r}]")


def scatter(shape: tuple[int, ...], index: Any, vshape: tuple[int, ...]) -> Domain:
    """``index_add``/``index_set``: ``(x, values, *index_arrays)``."""
    static, arrays = split_index(index)
    return Domain(lambda rng: ((REAL(rng, shape), REAL(rng, vshape), *arrays), {"idx": static}),
                  diff=(0, 1), label=f"x{shape}[{index!r}] v{vshape}")


def operands(*shapes: tuple[int, ...], sample: Sampler = REAL) -> Callable[[Rng], tuple]:
    return lambda rng: tuple(sample(rng, s) for s in shapes)


# ----------------------------------------------------------------------------- the table
DOMAINS: dict[str, list[Domain]] = {}

# unary, differentiable
for _name, _sample in {
    "negative": REAL, "positive": REAL, "exp": REAL, "exp2": REAL, "expm1": REAL,
    "log": POSITIVE, "log2": POSITIVE, "log10": POSITIVE, "log1p": uniform(-0.5, 2.0),
    "sqrt": POSITIVE, "cbrt": NONZERO, "square": REAL, "reciprocal": NONZERO,
    "sin": REAL, "cos": REAL, "tan": uniform(-1.2, 1.2),
    "arcsin": UNIT, "arccos": UNIT, "arctan": REAL,
    "sinh": REAL, "cosh": REAL, "tanh": REAL,
    "arcsinh": REAL, "arccosh": ABOVE_ONE, "arctanh": UNIT,
    "absolute": NONZERO, "deg2rad": REAL, "rad2deg": REAL,
}.items():
    DOMAINS[_name] = unary(_sample)

# x ** c for a Python constant c, including the special-cased exponents 0, 1, 2
DOMAINS["pow_scalar"] = [
    *unary(POSITIVE, {"y": 2.5}), *unary(POSITIVE, {"y": -1.5}), *unary(POSITIVE, {"y": 0.5}),
    *unary(REAL, {"y": 3}), *unary(REAL, {"y": 2}), *unary(REAL, {"y": 1}),
    *unary(REAL, {"y": 0}),
]

# binary, differentiable, broadcasting
for _name, _pair in {
    "add": independent(REAL, REAL), "subtract": independent(REAL, REAL),
    "multiply": independent(REAL, REAL), "divide": independent(REAL, NONZERO),
    "power": independent(POSITIVE, REAL),
    "arctan2": independent(NONZERO, NONZERO), "hypot": independent(NONZERO, NONZERO),
    "logaddexp": independent(REAL, REAL), "logaddexp2": independent(REAL, REAL),
    "maximum": SEPARATED, "minimum": SEPARATED, "fmax": SEPARATED, "fmin": SEPARATED,
    "mod": MOD_PAIR, "fmod": MOD_PAIR,
}.items():
    DOMAINS[_name] = binary(_pair)
# differentiable in x only (piecewise constant in y); y away from 0, where it jumps, and
# float32 so that it does not promote x's float32 (the float32 check casts only x)
DOMAINS["copysign"] = [
    fixed(lambda rng, sx=sx, sy=sy: (REAL(rng, sx), NONZERO(rng, sy).astype(np.float32)), {},
          diff=(0,), label=f"x{sx} y{sy}") for sx, sy in BINARY_SHAPES]



def _select_args(sc: tuple[int, ...], sx: tuple[int, ...],
                 sy: tuple[int, ...]) -> Callable[[Rng], tuple]:
    return lambda rng: (boolean(rng, sc), REAL(rng, sx), REAL(rng, sy))


DOMAINS["select"] = [
    fixed(_select_args(sc, sx, sy), {}, diff=(1, 2), label=f"c{sc} x{sx} y{sy}")
    for sc, sx, sy in [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((3, 1), (3, 4), ())]
]

DOMAINS["convert_element_type"] = [
    *unary(REAL, {"dtype": np.dtype(np.float64)}, float32=False),
    # float64 -> float32 rounds the result: a wider step and float32 tolerances
    *unary(REAL, {"dtype": np.dtype(np.float32)}, float32=False,
           tol={"eps": 1e-2, "rtol": 1e-4, "atol": 1e-4, "exact_rtol": 1e-5}),
    fixed(lambda rng: (REAL(rng, (3, 4)).astype(np.float32),), {"dtype": np.dtype(np.float64)},
          label="float32 -> float64", float32=False,
          tol={"rtol": 1e-5, "atol": 1e-6, "exact_rtol": 1e-6}),
]

# reductions and scans
DOMAINS["reduce_sum"] = reduction(REAL)
DOMAINS["reduce_max"] = reduction(REAL)   # continuous samples: no ties
DOMAINS["reduce_min"] = reduction(REAL)
DOMAINS["reduce_prod"] = reduction(away_from_zero(0.5, 1.5)) + [
    # the derivative of a product is defined (and exact) where a factor is zero
    fixed(lambda rng: (np.array([[0.7, 0.0, -1.3], [1.1, 0.0, 0.0]]),),
          {"axis": (1,), "keepdims": False}, label="zeros in the reduced rows"),
]
DOMAINS["cumsum"] = [fixed(operands((3, 4)), {"axis": a}) for a in (0, 1)]
DOMAINS["cumprod"] = [fixed(operands((3, 4), sample=away_from_zero(0.5, 1.5)), {"axis": a})
                      for a in (0, 1)] + [
    # division-free rules: exact where factors are zero (one zero, two zeros, a leading one)
    fixed(lambda rng: (np.array([[0.7, 0.0, -1.3, 0.9, 1.2], [1.1, 0.0, 0.0, 0.8, -0.6],
                                 [0.0, 1.4, 0.5, -0.7, 1.1]]),), {"axis": 1},
          label="zeros along the axis"),
    fixed(lambda rng: (np.array([[0.0, 1.5], [0.7, 0.0], [1.2, -0.4]]),), {"axis": 0},
          label="zeros, axis 0")]

# shapes
DOMAINS["reshape"] = [fixed(operands((3, 4)), {"shape": (2, 6)}),
                      fixed(operands((3, 4)), {"shape": (12,)}),
                      fixed(operands(()), {"shape": (1, 1)})]
DOMAINS["transpose"] = [fixed(operands((3, 4)), {"axes": (1, 0)}),
                        fixed(operands((2, 3, 4)), {"axes": (2, 0, 1)}),
                        # does not commute with the one above: checks the fusion's order
                        fixed(operands((2, 3, 4)), {"axes": (0, 2, 1)}),
                        # the identity permutation, which the simplifier drops
                        fixed(operands((3, 4)), {"axes": (0, 1)})]
DOMAINS["broadcast_to"] = [fixed(operands((3, 1)), {"shape": (2, 3, 4)}),
                           fixed(operands(()), {"shape": (3,)}),
                           fixed(operands((4,)), {"shape": (3, 4)})]
# (``like`` is data: only its shape, and its chunks when it is Dask, are used)
DOMAINS["broadcast_like"] = [fixed(operands((3, 1), (2, 3, 4)), {"shape": (2, 3, 4)}),
                             fixed(operands((), (3,)), {"shape": (3,)}),
                             fixed(operands((1, 4), (3, 1)), {"shape": (3, 4)})]
DOMAINS["concatenate"] = [fixed(operands((2, 3), (4, 3)), {"axis": 0}, diff=(0, 1)),
                          fixed(operands((2, 3), (2, 1), (2, 2)), {"axis": 1}, diff=(0, 1, 2))]
DOMAINS["roll"] = [fixed(operands((3, 4)), {"shift": 1, "axis": 0}),
                   fixed(operands((3, 4)), {"shift": (1, -2), "axis": (0, 1)}),
                   fixed(operands((3, 4)), {"shift": 5, "axis": 1})]

# indexing: basic, integer arrays with repeats, mixed, boolean masks, scatter
DOMAINS["getitem"] = [
    indexed((4, 5), (slice(1, 3), 2)),
    indexed((4, 5), (None, slice(None, None, -1), 1)),
    indexed((4, 5), np.array([0, 2, 2, 3])),
    indexed((4, 5), (Ellipsis, np.array([[1, 0], [4, 4]]))),
    indexed((3, 4, 5), (np.array([0, 2]), slice(None), np.array([1, 3]))),
    indexed((2, 3), np.array([[True, False, True], [False, True, True]])),
]
DOMAINS["getitem"].append(indexed((4, 5), (np.array([0, 3, 3]), np.array([4, 0, 4]))))
# flat positions of per-axis index arrays (what x[i, j] gathers at): negative indices
# wrap, shapes broadcast, three axes
DOMAINS["ravel_index"] = [
    fixed(lambda rng: (rng.integers(0, 4, (6,)), rng.integers(-5, 5, (6,))), {"dims": (4, 5)},
          diff=(0, 1), label="(4, 5), negative columns"),
    fixed(lambda rng: (rng.integers(0, 3, (2, 1)), rng.integers(0, 4, (3,))), {"dims": (3, 4)},
          diff=(0, 1), label="broadcast"),
    fixed(lambda rng: (rng.integers(0, 2, (4,)), rng.integers(0, 3, (4,)),
                       rng.integers(0, 4, (4,))), {"dims": (2, 3, 4)},
          diff=(0, 1, 2), label="three axes"),
]
DOMAINS["index_add"] = [
    scatter((4, 5), np.array([0, 2, 0]), (3, 5)),     # repeated rows accumulate
    scatter((4, 5), np.array([1, 3]), (5,)),          # values broadcast
    scatter((4, 5), (slice(1, 3), 4), (2,)),
]
DOMAINS["index_set"] = [                              # unique indices: set is well defined
    scatter((4, 5), np.array([3, 1]), (2, 5)),
    scatter((4, 5), (slice(0, 2), slice(1, 3)), ()),
    scatter((4, 5), np.array([0, 2]), (5,)),
]

# contractions
DOMAINS["matmul"] = [fixed(operands(sa, sb), {}, diff=(0, 1), label=f"{sa} @ {sb}")
                     for sa, sb in [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)),
                                    ((1, 3, 4), (2, 4, 2)),
                                    # 1-D operands, promoted as NumPy does
                                    ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4,)), ((4,), (2, 4, 3))]]
_EINSUMS: list[tuple[str, list[tuple[int, ...]]]] = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("i,i->", [(5,), (5,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,jk->k", [(3, 4), (4, 2)]),      # i is summed inside one operand
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]
DOMAINS["einsum"] = [fixed(operands(*shapes), {"subscripts": spec},
                           diff=tuple(range(len(shapes)))) for spec, shapes in _EINSUMS]

# ----------------------------------------------------------------------------- non-differentiable
for _name, _sample in {
    "sign": NONZERO, "floor": REAL, "ceil": REAL, "rint": REAL, "trunc": REAL,
    "isnan": with_specials, "isinf": with_specials, "isfinite": with_specials,
    "logical_not": REAL, "stop_gradient": REAL,
}.items():
    DOMAINS[_name] = unary(_sample)
DOMAINS["round"] = unary(REAL, {"decimals": 1})
DOMAINS["convert_to_integer"] = unary(REAL, {"dtype": np.dtype(np.int64)})

for _name, _pair in {
    "floor_divide": independent(REAL, NONZERO),
    "equal": independent(REAL, REAL), "not_equal": independent(REAL, REAL),
    "less": independent(REAL, REAL), "less_equal": independent(REAL, REAL),
    "greater": independent(REAL, REAL), "greater_equal": independent(REAL, REAL),
    "logical_and": independent(REAL, REAL), "logical_or": independent(REAL, REAL),
    "logical_xor": independent(REAL, REAL), "heaviside": independent(REAL, REAL),
}.items():
    DOMAINS[_name] = binary(_pair, shapes=BINARY_SHAPES[:3])

def uint32(rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
    """Unsigned 32-bit words over their whole range (the bitwise ops, random keys)."""
    return rng.integers(0, 2 ** 32, size=shape, dtype=np.uint32)


def shift(rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 32, size=shape).astype(np.uint32)


for _name, _pair in {
    "bitwise_and": independent(uint32, uint32), "bitwise_or": independent(uint32, uint32),
    "bitwise_xor": independent(uint32, uint32), "left_shift": independent(uint32, shift),
    "right_shift": independent(uint32, shift),
}.items():
    DOMAINS[_name] = binary(_pair, shapes=BINARY_SHAPES[:3])
DOMAINS["nextafter"] = binary(independent(REAL, REAL), shapes=BINARY_SHAPES[:3])
DOMAINS["invert"] = unary(uint32) + unary(boolean, shapes=[(3, 4)])


for _name in ("argmax", "argmin"):
    DOMAINS[_name] = [fixed(operands((3, 4)), {"axis": 1, "keepdims": False}),
                      fixed(operands((3, 4)), {"axis": None, "keepdims": False})]
for _name in ("all", "any"):
    DOMAINS[_name] = [fixed(operands((3, 4)), {"axis": (1,), "keepdims": True}),
                      fixed(operands((3, 4)), {"axis": None, "keepdims": False})]
DOMAINS["argsort"] = [fixed(operands((3, 4)), {"axis": -1})]


# ----------------------------------------------------------------------------- other families
# Each op family keeps its domains in tests/domains_<family>.py, defining its own
# ``DOMAINS`` dict with the builders above; they are merged here.
def _merge_family_domains() -> None:
    import importlib
    import pathlib
    for path in sorted(pathlib.Path(__file__).parent.glob("domains_*.py")):
        family = importlib.import_module(path.stem)
        clash = set(DOMAINS) & set(family.DOMAINS)
        if clash:
            raise ValueError(f"{path.name} redefines domains of {sorted(clash)}")
        DOMAINS.update(family.DOMAINS)


_merge_family_domains()
