"""``numpy.vectorize``: a scalar Python function applied to each element.

NumPy's version is a Python loop over the elements, so the function may branch on
each element's value (``if x > 0``). xform's keeps that meaning for traced arrays:
each element is taken out as a 0-d traced value, the function runs on it, and the
results are stacked back, so derivatives flow per element and a Python ``if`` works
wherever the transform knows values (eager ``grad``, ``jvp``; not under ``jit``, nor
under ``vmap``, where each element still holds the whole batch). For functions
without such branches ``xform.vmap`` is the faster tool (one vectorised call instead
of one per element).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable

import numpy as np

from ..core.rules import shape_of
from ..core.trace import Tracer
from ._creation import asarray, zeros
from ._elementwise import astype
from ._indexing import getitem
from ._shape import broadcast_arrays, ravel, reshape, stack


class vectorize:
    """`numpy.vectorize`: ``pyfunc`` called on each element of the broadcast inputs, in
    a Python loop (as NumPy does), so it may branch on values; the results are stacked
    into arrays of the broadcast shape, with the derivative of each element.

    Args:
        pyfunc: a function of scalars returning a scalar or a tuple of scalars.
        otypes: the output dtypes (one per output), as NumPy's.
        doc: the docstring of the vectorised function (``pyfunc``'s by default).
        excluded: positions or keyword names of arguments passed through whole.
        cache: NumPy's flag (accepted; xform never calls ``pyfunc`` an extra time).
        signature: not supported: for functions of arrays use ``xform.vmap``.

    >>> import xform, xform.numpy as np
    >>> leaky = np.vectorize(lambda x: x if x > 0 else 0.5 * x)
    >>> leaky(np.array([-1.0, 2.0])).tolist()
    [-0.5, 2.0]
    >>> xform.grad(lambda v: np.sum(leaky(v) ** 2))(np.array([-1.0, 2.0])).tolist()
    [-0.5, 4.0]
    """

    def __init__(self, pyfunc: Callable[..., Any], otypes: Any = None, doc: str | None = None,
                 excluded: Iterable[int | str] | None = None, cache: bool = False,
                 signature: str | None = None) -> None:
        if signature is not None:
            raise NotImplementedError(
                "xform.numpy.vectorize(signature=...) is not supported: for a function of "
                "arrays, map it over the leading axis with xform.vmap (nest vmap for more "
                "axes)")
        self.pyfunc = pyfunc
        self.otypes = (list(otypes) if otypes is not None and not isinstance(otypes, str)
                       else list(otypes or ""))
        self.excluded = set(excluded or ())
        self.cache = cache
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)
        functools.update_wrapper(self, pyfunc, assigned=("__name__", "__qualname__",
                                                         "__module__"), updated=())

    def _numpy(self) -> Any:
        return np.vectorize(self.pyfunc, otypes=self.otypes or None, excluded=self.excluded,
                            cache=self.cache)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        mapped_pos = [i for i in range(len(args)) if i not in self.excluded]
        mapped_kw = [k for k in kwargs if k not in self.excluded]
        values = [args[i] for i in mapped_pos] + [kwargs[k] for k in mapped_kw]
        if not any(isinstance(v, Tracer) for v in values):
            return self._numpy()(*args, **kwargs)
        arrays = broadcast_arrays(*[asarray(v) for v in values])
        shape = tuple(shape_of(arrays[0]))
        flat = [ravel(a) for a in arrays]
        size = int(np.prod(shape, dtype=np.int64))
        if size == 0:  # nothing to call pyfunc on: NumPy's rule for the result types
            if not self.otypes:
                raise ValueError("cannot call `vectorize` on size 0 inputs unless `otypes` "
                                 "is set")
            empty = [zeros(shape, np.dtype(t)) for t in self.otypes]
            return empty[0] if len(empty) == 1 else tuple(empty)
        results = [self._call(args, kwargs, mapped_pos, mapped_kw,
                              [getitem(f, i) for f in flat]) for i in range(size)]
        if isinstance(results[0], tuple):
            return tuple(self._gather([r[j] for r in results], shape, j)
                         for j in range(len(results[0])))
        return self._gather(results, shape, 0)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], mapped_pos: list[int],
              mapped_kw: list[str], elements: list[Any]) -> Any:
        """``pyfunc`` on one element of each mapped argument (``elements``, positional
        ones first), the excluded ones as given."""
        positional = list(args)
        for i, e in zip(mapped_pos, elements):
            positional[i] = e
        keywords = dict(kwargs)
        for k, e in zip(mapped_kw, elements[len(mapped_pos):]):
            keywords[k] = e
        return self.pyfunc(*positional, **keywords)

    def _gather(self, items: list[Any], shape: tuple[int, ...], which: int) -> Any:
        out = reshape(stack([asarray(r) for r in items]), shape)
        if which < len(self.otypes):
            out = astype(out, np.dtype(self.otypes[which]))
        return out
