"""Property tests: random small programs of NumPy ops on random shapes.

Hypothesis draws a program (a start shape and 1-6 ops: smooth unary ops,
broadcasting binary ops against new inputs, reductions, reshapes, transposes,
slicing and integer-array indexing, concatenation, where, matmul and einsum);
the input values come from a drawn seed, away from any kink. For each program:
``grad`` of the summed output matches central differences in every input
element, ``jvp`` matches a central difference along a random direction, and
reverse agrees with forward mode (``<ct, J t> == <J^T ct, t>``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as onp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as np

from helpers import RTOL, ATOL, check_jvp, check_vjp, fd_noise, numerical_grad

MAX_SIZE = 64

UNARY = {
    "sin": np.sin,
    "tanh": np.tanh,
    "exp(tanh(h))": lambda h: np.exp(np.tanh(h)),
    "exp(sin(h))": lambda h: np.exp(np.sin(h)),
    "h * h": lambda h: h * h,
    "log1p(h * h)": lambda h: np.log1p(h * h),
    "sqrt(1 + h * h)": lambda h: np.sqrt(1.0 + h * h),
}
BINARY = {
    "h + y": lambda h, y: h + y,
    "h - y": lambda h, y: h - y,
    "y - h": lambda h, y: y - h,
    "h * y": lambda h, y: h * y,
    "h / (1 + y * y)": lambda h, y: h / (1.0 + y * y),
}
REDUCTIONS: dict[str, Any] = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                              "prod": np.prod}


@dataclass
class Op:
    """One step ``h = <op>(h, x_arg)`` of a program; ``text`` is how it prints."""
    kind: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.text


def apply(op: Op, h: Any, xs: Any) -> Any:
    p = op.params
    y = xs[p["arg"]] if "arg" in p else None
    if op.kind == "unary":
        return UNARY[p["fn"]](h)
    if op.kind == "binary":
        return BINARY[p["fn"]](h, y)
    if op.kind == "reduce":
        return REDUCTIONS[p["fn"]](h, axis=p["axis"], keepdims=p["keepdims"])
    if op.kind == "reshape":
        return np.reshape(h, p["shape"])
    if op.kind == "transpose":
        return np.transpose(h, p["axes"])
    if op.kind == "index":
        return h[p["index"]]
    if op.kind == "concatenate":
        parts = [h, y] if p["first"] else [y, h]
        return np.concatenate(parts, axis=p["axis"])
    if op.kind == "where":
        return np.where(p["mask"], h, y) if p["first"] else np.where(p["mask"], y, h)
    if op.kind == "matmul":
        return h @ y
    if op.kind == "einsum":
        return np.einsum(p["spec"], h, y)
    raise AssertionError(op.kind)


@dataclass
class Program:
    shapes: list[tuple[int, ...]]   # x0 (the start value h) and the inputs ops add
    ops: list[Op]
    seed: int

    def inputs(self) -> list[onp.ndarray]:
        rng = onp.random.default_rng(self.seed)
        return [rng.uniform(-1.0, 1.0, s) for s in self.shapes]

    def __call__(self, *xs: Any) -> Any:
        h = xs[0]
        for op in self.ops:
            h = apply(op, h, xs)
        return h

    def __repr__(self) -> str:
        inputs = ", ".join(f"x{i}: {s}" for i, s in enumerate(self.shapes))
        body = "; ".join(repr(op) for op in self.ops)
        return f"Program({inputs} | h = x0; {body} | seed={self.seed})"


# ----------------------------------------------------------------------------- strategies
def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _fmt(index: tuple[Any, ...]) -> str:
    def one(i: Any) -> str:
        if isinstance(i, slice):
            return ":".join("" if v is None else str(v) for v in (i.start, i.stop, i.step))
        return str(i.tolist())
    return ", ".join(one(i) for i in index)


# Programs stay well conditioned, so that central differences are accurate: with
# inputs in [-1, 1], a bound B on |h| and a bound L on the sum over all input
# elements of |dh/dx| are propagated through every op, and a program stops
# growing before an op would take B above 1e3 or L above 1e2 (beyond that,
# sin(h * h * h * h) say, the function oscillates on the scale of the step).
MAX_B, MAX_L = 1e3, 1e2


def bounds(op: Op, B: float, L: float, k: int) -> tuple[float, float]:
    """(B, L) after ``op``; ``k`` is the number of terms it sums or multiplies."""
    e = math.e
    if op.kind == "unary":
        return {"sin": (min(B, 1.0), L), "tanh": (min(B, 1.0), L),
                "exp(tanh(h))": (e, e * L), "exp(sin(h))": (e, e * L),
                "h * h": (B * B, 2 * B * L), "log1p(h * h)": (math.log1p(B * B), L),
                "sqrt(1 + h * h)": (math.sqrt(1 + B * B), L)}[op.params["fn"]]
    if op.kind == "binary":
        return (B + 1, L + 1) if op.params["fn"] in ("h + y", "h - y", "y - h") \
            else (B, L + B)
    if op.kind == "reduce":
        fn = op.params["fn"]
        if fn == "sum":
            return k * B, k * L
        if fn == "prod":
            return max(B, 1.0) ** k, k * max(B, 1.0) ** (k - 1) * L
        return B, L
    if op.kind in ("concatenate", "where"):
        return max(B, 1.0), max(L, 1.0)
    if op.kind in ("matmul", "einsum"):
        return k * B, k * (L + B)
    return B, L   # reshape, transpose, indexing


@st.composite
def broadcastable(draw: Any, shape: tuple[int, ...], grow: bool) -> tuple[int, ...]:
    """A shape that broadcasts against ``shape``: a suffix of it with some axes set
    to 1, optionally (``grow``) with a new leading axis that enlarges the result."""
    k = draw(st.integers(0, len(shape)))
    out = tuple(1 if draw(st.booleans()) else n for n in shape[len(shape) - k:])
    if grow and len(shape) < 3 and _size(shape) * 2 <= MAX_SIZE and draw(st.booleans()):
        out = (2,) + (1,) * (len(shape) - len(out)) + out
    return out


@st.composite
def ops(draw: Any, shape: tuple[int, ...], n_inputs: int) -> tuple[Op, list[tuple[int, ...]]]:
    """An op applicable to a value of ``shape``, and the shapes of the inputs it adds."""
    nd = len(shape)
    kinds = ["unary", "binary", "reshape"] + (["reduce", "index", "concatenate", "where",
                                               "matmul", "einsum"] if nd else []) \
        + (["transpose"] if nd >= 2 else [])
    kind = draw(st.sampled_from(kinds))
    x = f"x{n_inputs}"
    if kind == "unary":
        fn = draw(st.sampled_from(sorted(UNARY)))
        return Op(kind, f"h = {fn}", {"fn": fn}), []
    if kind == "binary":
        fn = draw(st.sampled_from(sorted(BINARY)))
        yshape = draw(broadcastable(shape, grow=True))
        return Op(kind, f"h = {fn.replace('y', x)}", {"fn": fn, "arg": n_inputs}), [yshape]
    if kind == "reduce":
        fn = draw(st.sampled_from(sorted(REDUCTIONS)))
        axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                              st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd,
                                       unique=True).map(tuple)))
        keepdims = draw(st.booleans())
        return Op(kind, f"h = {fn}(h, axis={axis}, keepdims={keepdims})",
                  {"fn": fn, "axis": axis, "keepdims": keepdims}), []
    if kind == "reshape":
        targets = {(-1,), (1, -1), (-1, 1), tuple(reversed(shape)), shape + (1,)}
        new = draw(st.sampled_from(sorted(targets)))
        return Op(kind, f"h = h.reshape({new})", {"shape": new}), []
    if kind == "transpose":
        axes = tuple(draw(st.permutations(range(nd))))
        return Op(kind, f"h = h.transpose({axes})", {"axes": axes}), []
    if kind == "index":
        axis = draw(st.integers(0, nd - 1))
        n = shape[axis]
        lead = (slice(None),) * axis
        if draw(st.booleans()):   # a non-empty slice
            step = draw(st.sampled_from([1, 2, -1]))
            start = draw(st.integers(0, n - 1))
            if step > 0:
                stop = draw(st.integers(start + 1, n))
            else:
                stop = None if start == 0 or draw(st.booleans()) else \
                    draw(st.integers(0, start - 1))
            index = lead + (slice(start, stop, step),)
            return Op(kind, f"h = h[{_fmt(index)}]", {"index": index}), []
        idx = onp.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
        index = lead + (idx,)  # repeated indices: the cotangents must accumulate
        return Op(kind, f"h = h[{_fmt(index)}]", {"index": index}), []
    if kind == "concatenate":
        axis = draw(st.integers(0, nd - 1))
        room = MAX_SIZE // (_size(shape) // shape[axis])
        extra = draw(st.integers(1, max(1, min(3, room - shape[axis]))))
        yshape = shape[:axis] + (extra,) + shape[axis + 1:]
        first = draw(st.booleans())
        parts = f"[h, {x}]" if first else f"[{x}, h]"
        return Op(kind, f"h = concatenate({parts}, axis={axis})",
                  {"axis": axis, "first": first, "arg": n_inputs}), [yshape]
    if kind == "where":
        mask = onp.array(draw(st.lists(st.booleans(), min_size=_size(shape),
                                       max_size=_size(shape)))).reshape(shape)
        yshape = draw(broadcastable(shape, grow=False))
        first = draw(st.booleans())
        args = f"h, {x}" if first else f"{x}, h"
        return Op(kind, f"h = where(mask, {args})",
                  {"mask": mask, "first": first, "arg": n_inputs}), [yshape]
    if kind == "matmul":
        m = draw(st.integers(1, 3))
        return Op(kind, f"h = h @ {x}", {"arg": n_inputs}), [(shape[-1], m)]
    assert kind == "einsum"
    spec, yshape = draw(st.sampled_from([("...i,i->...", (shape[-1],)),
                                         ("...i,...i->...", shape),
                                         ("...i,ij->...j", (shape[-1], 2))]))
    return Op(kind, f"h = einsum('{spec}', h, {x})", {"spec": spec, "arg": n_inputs}), [yshape]


@st.composite
def programs(draw: Any) -> Program:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    shapes: list[tuple[int, ...]] = [shape]
    steps: list[Op] = []
    B, L = 1.0, 1.0
    for _ in range(draw(st.integers(1, 6))):
        op, new = draw(ops(shape, len(shapes)))
        # the value's new shape, by running the program so far on zeros
        trial = Program(shapes + new, steps + [op], 0)
        new_shape = onp.shape(trial(*[onp.zeros(s) for s in trial.shapes]))
        k = shape[-1] if op.kind in ("matmul", "einsum") else \
            max(1, _size(shape) // max(1, _size(new_shape)))
        new_B, new_L = bounds(op, B, L, k)
        if _size(new_shape) > MAX_SIZE or new_B > MAX_B or new_L > MAX_L:
            break  # keep the arrays small and the program well conditioned
        shapes, steps, shape, B, L = trial.shapes, trial.ops, new_shape, new_B, new_L
    if not steps:
        steps = [Op("unary", "h = sin", {"fn": "sin"})]
    return Program(shapes, steps, draw(st.integers(0, 2 ** 32 - 1)))


# ----------------------------------------------------------------------------- properties
SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(programs())
def test_grad_of_summed_output_matches_central_differences(program: Program) -> None:
    xs = program.inputs()

    def total(*args: Any) -> Any:
        return np.sum(program(*args))

    grads = xform.grad(total, argnums=tuple(range(len(xs))))(*xs)
    noise = fd_noise(onp.sum(onp.abs(program(*xs))))  # rounding noise of the differences
    for i, (g, x) in enumerate(zip(grads, xs)):
        assert onp.shape(g) == onp.shape(x), (program, i)
        expected = numerical_grad(total, x, argnum=i, args=tuple(xs[:i] + xs[i + 1:]))
        onp.testing.assert_allclose(g, expected, rtol=RTOL, atol=ATOL + noise,
                                    err_msg=f"{program}: gradient of x{i}")


@SETTINGS
@given(programs())
def test_forward_and_reverse_agree(program: Program) -> None:
    xs = program.inputs()
    rng = onp.random.default_rng(program.seed)
    check_jvp(program, xs, rng, what=repr(program))
    check_vjp(program, xs, rng, what=repr(program))
