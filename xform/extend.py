"""Autograd-style extension: wrap a NumPy-level function as a primitive and give it
rules.

>>> import numpy, xform, xform.numpy as np
>>> from xform.extend import primitive, defvjp
>>> @primitive
... def logsumexp(x):
...     m = numpy.max(x)
...     return m + numpy.log(numpy.sum(numpy.exp(x - m)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
>>> xform.grad(logsumexp)(numpy.zeros(2)).tolist()
[0.5, 0.5]

Rules written with ``xform.numpy`` are themselves differentiable. A primitive
with only a VJP works in reverse mode and raises a clear error in forward mode.
Under ``vmap`` a user primitive runs once per batch member (no batch rule is
known for arbitrary NumPy code). Everything here is defined in ``xform.custom``,
the one home of user-supplied derivatives.
"""
from __future__ import annotations

from .custom import PrimitiveFunction, custom_jvp, custom_vjp, defjvp, defvjp, primitive

__all__ = ["primitive", "defvjp", "defjvp", "custom_jvp", "custom_vjp", "PrimitiveFunction"]
