"""Structured bases: the identity basis of jacfwd/jacrev/hessian, kept symbolic.

A Jacobian pushes (or pulls) every row of an identity through the function in one
batched pass. Carried as a dense ``n x n`` array, the identity costs ``n`` times
the work of the function on the linear steps (jacrev of ``tanh(A x)`` with 1,000
outputs multiplies a 1,000 x 1,000 identity into ``A``). A :class:`Diagonal` is
that basis, scaled, held by its diagonal: batch member ``b`` (axis 0) is zero
except at flat position ``b - offset`` of the member's shape, where it holds
``diag.flat[b - offset]``. The identity is ``Diagonal(ones(n))``.

``BatchTrace`` carries a ``Diagonal`` as the value of a batched tracer (batch axis
0). A primitive keeps it structured through its ``structured`` fact,
``structured(vals, dims, params) -> (out, out_dim)`` or ``None``, declared in the
primitive's family file: elementwise scaling and zero-preserving unary maps keep
the diagonal, a matmul with a dense matrix or a full reduction gives the dense
result straight from the diagonal. Every other primitive receives the basis
densified (:meth:`Diagonal.dense`), so results never depend on the structure.
Rules run with the enclosing trace current, so under ``jit`` they record the short
program (``d[:, None] * A``) instead of the dense one.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from . import arrays
from .primitive import Primitive
from .trace import Tracer, bind, like_value


def _shape(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def _dtype(x: Any) -> np.dtype:
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.result_type(x)


class Diagonal:
    """A batch of ``size`` scaled basis vectors of the shape of ``diag`` (see the
    module docstring); ``diag`` is an array or a tracer of an enclosing trace."""

    __slots__ = ("diag", "offset", "size", "unit", "inner", "shape", "dtype")

    def __init__(self, diag: Any, offset: int = 0, size: int | None = None,
                 unit: bool = False) -> None:
        self.diag = diag
        self.unit = unit  # diag is all ones: scaling by it is no operation
        self.inner = _shape(diag)
        n = math.prod(self.inner)
        self.offset = offset
        self.size = n if size is None else size
        self.shape = (self.size,) + self.inner
        self.dtype = _dtype(diag)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @classmethod
    def identity(cls, n: int, dtype: Any) -> "Diagonal":
        """The ``n x n`` identity basis."""
        return cls(np.ones(n, dtype), unit=True)

    def rows(self, start: int, stop: int) -> "Diagonal":
        """Batch members ``start:stop`` (a chunk of the basis)."""
        return Diagonal(self.diag, self.offset - start, stop - start, self.unit)

    def with_diag(self, diag: Any) -> "Diagonal":
        """The same positions with other values (``diag`` of the member shape)."""
        return Diagonal(diag, self.offset, self.size)

    def scaled(self, other: Any, column: bool = False) -> Any:
        """``diag * other`` (``column``: ``diag[:, None] * other``, scaling the rows of a
        matrix), without the product when the diagonal is ones and ``other`` already
        has the result's dtype."""
        if self.unit and np.result_type(self.dtype, _dtype(other)) == _dtype(other):
            return other
        return (self.diag[:, None] if column else self.diag) * other

    def dense(self) -> Any:
        """The batch as an array ``(size,) + inner``, traceable in ``diag``."""
        n = math.prod(self.inner)
        eye = np.eye(self.size, n, k=-self.offset, dtype=self.dtype).reshape(self.shape)
        return arrays.asarray_like(eye, like_value(self.diag)) * self.diag  # Dask/CuPy alike

    def rows_from(self, per_position: Any) -> Any:
        """A dense batch whose member ``b`` is ``per_position[b - offset]``
        (``per_position`` has one row per flat position of the member shape), zero for
        the members that fall outside; traceable."""
        n = math.prod(self.inner)
        lo, hi = max(0, -self.offset), min(n, self.size - self.offset)
        if lo == 0 and hi == n and self.offset == 0 and self.size == n:
            return per_position
        rest = _shape(per_position)[1:]
        dtype = _dtype(per_position)
        like = like_value(per_position)
        if hi <= lo:
            return arrays.zeros((self.size,) + rest, dtype, like)
        before = arrays.zeros((lo + self.offset,) + rest, dtype, like)
        after = arrays.zeros((self.size - hi - self.offset,) + rest, dtype, like)
        return np.concatenate([before, per_position[lo:hi], after], axis=0)

    def __repr__(self) -> str:
        return f"Diagonal(shape={self.shape}, offset={self.offset})"


def densify(vals: Sequence[Any]) -> list[Any]:
    """The operands with every structured basis made dense."""
    return [v.dense() if type(v) is Diagonal else v for v in vals]


def keep_zero_preserving(prim: Primitive) -> None:
    """Declare ``prim``'s ``structured`` fact for a unary map with ``f(0) == 0`` applied
    elementwise (negation, conjugation, real part, a dtype conversion): the diagonal
    maps and the zeros stay zeros."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> Any:
        (x,) = vals
        return x.with_diag(bind(prim, x.diag, **params)), 0
    prim.structured = rule


def keep_scaling(prim: Primitive, divides: bool = False) -> None:
    """Declare ``prim``'s ``structured`` fact for a broadcasting product: a basis times
    an unbatched factor that broadcasts into the member shape stays a basis, its
    diagonal scaled (``divides``: a quotient, whose basis must be the numerator)."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> Any:
        if len(vals) != 2:
            return None
        k = 0 if type(vals[0]) is Diagonal else 1
        basis, other, other_dim = vals[k], vals[1 - k], dims[1 - k]
        if (k == 1 and divides) or other_dim is not None or type(other) is Diagonal:
            return None
        try:
            if np.broadcast_shapes(_shape(other), basis.inner) != basis.inner:
                return None
        except ValueError:
            return None
        if (basis.unit and not divides and _shape(other) == basis.inner
                and isinstance(other, np.ndarray | Tracer)):
            return basis.with_diag(basis.scaled(other)), 0
        args = (basis.diag, other) if k == 0 else (other, basis.diag)
        return basis.with_diag(bind(prim, *args, **params)), 0
    prim.structured = rule


def keep_sums(prim: Primitive) -> None:
    """Declare ``prim``'s ``structured`` fact for a sum or difference: two bases at the
    same positions give the basis of the summed (or subtracted) diagonals."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> Any:
        a, b = vals
        if (type(a) is not Diagonal or type(b) is not Diagonal or a.offset != b.offset
                or a.size != b.size or a.inner != b.inner):
            return None
        return a.with_diag(bind(prim, a.diag, b.diag, **params)), 0
    prim.structured = rule


__all__ = ["Diagonal", "densify", "keep_zero_preserving", "keep_scaling",
           "keep_sums"]
