"""``xform.random``: counter-based random numbers with explicit keys, as ``jax.random``.

A key is a ``uint32`` array of shape ``(2,)``; a function of a key always returns the
same values, so draws are reproducible and safe under ``jit``, ``vmap`` and ``grad``
(nothing is hidden in global state, so nothing is frozen at trace time). Split a key
to get independent streams::

    key = xform.random.PRNGKey(0)
    key, sub = xform.random.split(key)
    x = xform.random.normal(sub, (3,))

The bits are those of JAX's default generator (threefry2x32, the "partitionable"
layout JAX uses by default): the same key, shape and dtype give the same ``bits`` and
``uniform`` values bit for bit, and ``normal`` and the samplers built on the inverse
error function agree to a few units in the last place (the inverse error function is
SciPy's rather than XLA's approximation). Defaults follow NumPy and JAX's x64 mode:
``float64``, ``int64`` and ``uint64`` unless a ``dtype`` is given.

Keys are plain ``uint32`` arrays (JAX's raw keys): ``key`` and ``PRNGKey`` are the
same function here, and ``key_data``/``wrap_key_data`` return their argument.

Threefry-2x32 (Salmon et al., *Parallel random numbers: as easy as 1, 2, 3*, SC 2011)
is one primitive, ``threefry2x32``, declared here with its facts; everything else is
written with ``xform.numpy``, so it traces.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from . import numpy as xnp
from .core.rules import (Primitive as _Primitive, align_batched as _align_batched, bind as _bind,
                         dtype_of as _dtype_of, shape_of as _shape_of)
from .core.arrays import numpy_only as _numpy_only
from .core.staging import TracedRandomWarning, staging_active, warn_if_staged
from .custom import custom_jvp as _custom_jvp
from .numpy._elementwise import stop_gradient as _stop_gradient
from .scipy.special import erf as _erf, erfinv as _erfinv, gammaln as _gammaln
from .scipy.special._incomplete import gammainc_p as _gammainc_p

__all__ = ["PRNGKey", "key", "key_data", "wrap_key_data", "split", "fold_in", "bits",
           "uniform", "normal", "bernoulli", "categorical", "randint", "permutation",
           "choice", "truncated_normal", "gumbel", "exponential", "gamma", "loggamma",
           "beta", "dirichlet", "staging_active", "warn_if_staged", "TracedRandomWarning"]

_Shape = Sequence[int]

# ---------------------------------------------------------------- the threefry primitive
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KS_PARITY = np.uint32(0x1BD11BDA)


def _threefry_impl(k1: Any, k2: Any, x1: Any, x2: Any) -> list[np.ndarray]:
    """Threefry-2x32 with 20 rounds on broadcast ``uint32`` arrays (arithmetic mod 2**32;
    1-d working arrays so NumPy wraps silently instead of warning as scalars do)."""
    k1, k2, x1, x2 = np.broadcast_arrays(*[np.asarray(v, np.uint32) for v in (k1, k2, x1, x2)])
    shape = k1.shape
    k1, k2, x1, x2 = [np.array(v).reshape(-1) for v in (k1, k2, x1, x2)]
    x1, x2 = _threefry_rounds(k1, k2, x1, x2)
    return [x1.reshape(shape), x2.reshape(shape)]


def _threefry_rounds(k1: Any, k2: Any, x1: Any, x2: Any) -> tuple[Any, Any]:
    """The 20 rounds on ``uint32`` arrays of one shape, NumPy's or JAX's (both wrap
    modulo 2**32 and shift as unsigned)."""
    ks = (k1, k2, k1 ^ k2 ^ _KS_PARITY)
    x1 = x1 + ks[0]
    x2 = x2 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x1 = x1 + x2
            x2 = (x2 << np.uint32(r)) | (x2 >> np.uint32(32 - r))
            x2 = x1 ^ x2
        x1 = x1 + ks[(i + 1) % 3]
        x2 = x2 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x1, x2


def _threefry_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    return _bind(_threefry2x32_p, *_align_batched(vals, dims)), [0, 0]


def _threefry_lower(ctx: Any, *words: Any) -> list[Any]:
    u32 = np.dtype(np.uint32)
    k1, k2, x1, x2 = ctx.jnp.broadcast_arrays(
        *[ctx.lax.convert_element_type(w, u32) for w in words])
    return list(_threefry_rounds(k1, k2, x1, x2))


_threefry2x32_p = _Primitive(
    "threefry2x32", _numpy_only("xform.random (threefry2x32)", _threefry_impl),
    multiple_results=True, nondiff=True)
_threefry2x32_p.batch = _threefry_batch
_threefry2x32_p.lower = _threefry_lower


def _threefry_2x32(k1: Any, k2: Any, x1: Any, x2: Any) -> tuple[Any, Any]:
    """The Threefry-2x32 block cipher, elementwise with broadcasting: the key words
    ``(k1, k2)`` encrypt the counter words ``(x1, x2)`` (all ``uint32``).

    >>> import numpy as np
    >>> y1, y2 = _threefry_2x32(np.uint32(0), np.uint32(0), np.uint32(0), np.uint32(0))
    >>> hex(int(y1)), hex(int(y2))
    ('0x6b200159', '0x99ba4efe')
    """
    out = _bind(_threefry2x32_p, k1, k2, x1, x2)
    return out[0], out[1]


# ---------------------------------------------------------------- keys
def _check_key(name: str, key: Any) -> Any:
    if isinstance(key, (list, tuple)):
        key = np.asarray(key, np.uint32)
    if not hasattr(key, "shape"):
        raise TypeError(f"xform.random.{name}: key must be a key from xform.random.PRNGKey "
                        f"(a uint32 array of shape (2,)); got {key!r}.")
    if tuple(_shape_of(key)) != (2,) or _dtype_of(key) != np.uint32:
        raise TypeError(
            f"xform.random.{name}: key must be a single key, a uint32 array of shape (2,) "
            f"(from xform.random.PRNGKey, split or fold_in); got "
            f"{_dtype_of(key)}{list(_shape_of(key))}. For a batch of keys, map over them "
            f"with xform.vmap(lambda k: xform.random.{name}(k, ...))(keys).")
    return key


def _counts(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The flat index of each element of ``shape`` as 64 bits, in two uint32 words."""
    idx = np.arange(math.prod(shape), dtype=np.uint64).reshape(shape)
    return (idx >> np.uint64(32)).astype(np.uint32), idx.astype(np.uint32)


def _hash(key: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    hi, lo = _counts(shape)
    return _threefry_2x32(key[0], key[1], hi, lo)


def PRNGKey(seed: Any) -> Any:
    """A key from an integer seed: the seed's 64 bits as two ``uint32`` words (a 32-bit
    integer seed is padded with zero high bits), as ``jax.random.PRNGKey``. The seed may
    be traced (``jit`` over seeds).

    Args:
        seed: an integer (traced under jit is fine).

    Returns:
        A key: a ``uint32`` array of shape ``(2,)``.

    >>> PRNGKey(42)
    array([ 0, 42], dtype=uint32)
    >>> PRNGKey(2 ** 32 + 7)
    array([1, 7], dtype=uint32)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) and (
            not hasattr(seed, "dtype") or _dtype_of(seed).kind not in "iu"):
        raise TypeError(f"xform.random.PRNGKey: seed must be an integer; got {seed!r}. "
                        "Pass an int such as PRNGKey(0).")
    if isinstance(seed, int):
        seed = np.int64(seed)
    if _shape_of(seed) != ():
        raise TypeError(f"xform.random.PRNGKey: seed must be a scalar; got shape "
                        f"{_shape_of(seed)}. Map over seeds with xform.vmap(PRNGKey)(seeds).")
    if _dtype_of(seed).itemsize <= 4:
        hi = xnp.zeros((), np.uint32)
        lo = xnp.astype(seed, np.uint32)
    else:
        wide = xnp.astype(seed, np.uint64)
        hi = xnp.astype(xnp.right_shift(wide, np.uint64(32)), np.uint32)
        lo = xnp.astype(xnp.bitwise_and(wide, np.uint64(0xFFFFFFFF)), np.uint32)
    return xnp.stack([hi, lo])


key = PRNGKey


def key_data(keys: Any) -> Any:
    """The ``uint32`` words of ``keys`` (keys are already plain arrays here).

    Args:
        keys: a key or an array of keys.

    Returns:
        Their ``uint32`` words (the same array).

    >>> import xform
    >>> xform.random.key_data(xform.random.PRNGKey(0)).tolist()
    [0, 0]
    """
    return keys


def wrap_key_data(key_bits_array: Any) -> Any:
    """Keys from their ``uint32`` words (the identity: keys are plain arrays here).

    Args:
        key_bits_array: ``uint32`` words, last axis of size 2.

    Returns:
        The keys (the same array).

    >>> import numpy, xform
    >>> xform.random.wrap_key_data(numpy.array([0, 42], numpy.uint32)).tolist()
    [0, 42]
    """
    return key_bits_array


def split(key: Any, num: int | _Shape = 2) -> Any:
    """``num`` new independent keys (an array of shape ``(num, 2)``; ``num`` may be a
    shape), as ``jax.random.split``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        num: how many keys (an int or a shape).

    Returns:
        An array of keys, shape ``(num, 2)`` (or ``num + (2,)``).

    >>> split(PRNGKey(0))
    array([[1797259609, 2579123966],
           [ 928981903, 3453687069]], dtype=uint32)
    """
    key = _check_key("split", key)
    shape = _shape("split", num)
    b1, b2 = _hash(key, shape)
    return xnp.stack([b1, b2], axis=len(shape))


def fold_in(key: Any, data: Any) -> Any:
    """A new key determined by ``key`` and the integer ``data`` (a step number, a
    device index...), as ``jax.random.fold_in``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        data: an integer.

    Returns:
        A new key.

    >>> fold_in(PRNGKey(0), 1)
    array([ 928981903, 3453687069], dtype=uint32)
    """
    key = _check_key("fold_in", key)
    if _shape_of(data) != ():
        raise TypeError(f"xform.random.fold_in: data must be a scalar; got shape "
                        f"{_shape_of(data)}. Map over it with xform.vmap.")
    if isinstance(data, (int, np.integer)):
        data = np.uint32(int(data) & 0xFFFFFFFF)
    b1, b2 = _threefry_2x32(key[0], key[1], np.uint32(0), xnp.astype(data, np.uint32))
    return xnp.stack([b1, b2])


def _random_bits(key: Any, width: int, shape: tuple[int, ...]) -> Any:
    b1, b2 = _hash(key, shape)
    if width == 64:
        hi = xnp.left_shift(xnp.astype(b1, np.uint64), np.uint64(32))
        return xnp.bitwise_or(hi, xnp.astype(b2, np.uint64))
    word = xnp.bitwise_xor(b1, b2)
    return word if width == 32 else xnp.astype(word, np.dtype(f"uint{width}"))


def _shape(name: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"xform.random.{name}: shape must be a tuple of ints; got "
                        f"{shape!r}.") from None


def _float_dtype(name: str, dtype: Any) -> np.dtype:
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt.kind != "f" or dt.itemsize not in (2, 4, 8):
        raise ValueError(f"xform.random.{name}: dtype must be a float dtype (float16, "
                         f"float32 or float64); got {dt}.")
    return dt


def bits(key: Any, shape: _Shape = (), dtype: Any = None) -> Any:
    """Uniform random bits as unsigned integers (default ``uint64``).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        shape: the shape of the result.
        dtype: an unsigned integer dtype (default uint64).

    Returns:
        Random bits of that shape and dtype.

    >>> bits(PRNGKey(0), (2,), np.uint32)
    array([4070199207, 4202968722], dtype=uint32)
    """
    key = _check_key("bits", key)
    dt = np.dtype(np.uint64 if dtype is None else dtype)
    if dt.kind != "u":
        raise ValueError(f"xform.random.bits: dtype must be an unsigned integer dtype; "
                         f"got {dt}.")
    return _random_bits(key, dt.itemsize * 8, _shape("bits", shape))


def _unit_floats(key: Any, shape: tuple[int, ...], dt: np.dtype) -> Any:
    """Floats in [0, 1) from the top mantissa bits, exactly as JAX builds them (the
    mantissa over an exponent of 0, minus 1, equals mantissa * 2**-nmant)."""
    info = np.finfo(dt)
    nbits, nmant = info.bits, info.nmant
    width = max(nbits, 8)
    raw = _random_bits(key, width, shape)
    mant = xnp.right_shift(raw, np.dtype(f"uint{width}").type(width - nmant))
    return xnp.astype(mant, dt) * dt.type(2.0 ** -nmant)


def uniform(key: Any, shape: _Shape = (), dtype: Any = None, minval: Any = 0.0,
            maxval: Any = 1.0) -> Any:
    """Uniform floats in ``[minval, maxval)``; differentiable in ``minval`` and ``maxval``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        shape: the shape of the result.
        dtype: a floating dtype (default float64).
        minval: the lower bound (broadcast).
        maxval: the upper bound (broadcast).

    Returns:
        Samples of ``shape``.

    >>> uniform(PRNGKey(0), (3,), np.float32)
    array([0.947667  , 0.9785799 , 0.33229148], dtype=float32)
    """
    key = _check_key("uniform", key)
    dt = _float_dtype("uniform", dtype)
    shape = _shape("uniform", shape)
    minval = xnp.astype(minval, dt)
    maxval = xnp.astype(maxval, dt)
    floats = _unit_floats(key, shape, dt)
    return xnp.maximum(minval, xnp.reshape(floats * (maxval - minval) + minval, shape))


def normal(key: Any, shape: _Shape = (), dtype: Any = None) -> Any:
    """Standard normal samples (``sqrt(2) * erfinv(u)``, ``u`` uniform in (-1, 1)).
    Complex dtypes draw the real and imaginary parts from two split keys, each with
    variance 1/2.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        shape: the shape of the result.
        dtype: a floating dtype (default float64).

    Returns:
        Samples of ``shape``.

    >>> normal(PRNGKey(0), (2,), np.float32)
    array([1.622642 , 2.0252647], dtype=float32)
    """
    key = _check_key("normal", key)
    shape = _shape("normal", shape)
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt.kind == "c":
        real_dt = np.dtype(f"float{dt.itemsize * 4}")
        k_re, k_im = split(key)
        re = _normal_real(k_re, shape, real_dt)
        im = _normal_real(k_im, shape, real_dt)
        return xnp.astype(re + im * dt.type(1j), dt) / dt.type(np.sqrt(2.0))
    return _normal_real(key, shape, _float_dtype("normal", dt))


def _normal_real(key: Any, shape: tuple[int, ...], dt: np.dtype) -> Any:
    lo = np.nextafter(dt.type(-1.0), dt.type(0.0))
    u = uniform(key, shape, dt, lo, dt.type(1.0))
    return dt.type(np.sqrt(2.0)) * xnp.astype(_erfinv(u), dt)


def truncated_normal(key: Any, lower: Any, upper: Any, shape: _Shape | None = None,
                     dtype: Any = None) -> Any:
    """Standard normal samples truncated to ``(lower, upper)``, by inverting the CDF;
    differentiable in the bounds.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        lower: the lower bound (broadcast).
        upper: the upper bound (broadcast).
        shape: the shape of the result (default: the bounds' broadcast shape).
        dtype: a floating dtype (default float64).

    Returns:
        Samples in ``(lower, upper)``.

    >>> bool(xnp.all(xnp.abs(truncated_normal(PRNGKey(0), -2.0, 2.0, (100,))) < 2.0))
    True
    """
    key = _check_key("truncated_normal", key)
    dt = _float_dtype("truncated_normal", dtype)
    if shape is None:
        shape = np.broadcast_shapes(_shape_of(lower), _shape_of(upper))
    shape = _shape("truncated_normal", shape)
    sqrt2 = dt.type(np.sqrt(2.0))
    lower = xnp.astype(lower, dt)
    upper = xnp.astype(upper, dt)
    a = xnp.astype(_erf(lower / sqrt2), dt)
    b = xnp.astype(_erf(upper / sqrt2), dt)
    u = uniform(key, shape, dt, minval=a, maxval=b)
    out = sqrt2 * xnp.astype(_erfinv(u), dt)
    lo = xnp.nextafter(_stop_gradient(lower), dt.type(np.inf))
    hi = xnp.nextafter(_stop_gradient(upper), dt.type(-np.inf))
    return xnp.clip(out, lo, hi)


def bernoulli(key: Any, p: Any = 0.5, shape: _Shape | None = None) -> Any:
    """Booleans that are ``True`` with probability ``p`` (``uniform < p``, in the dtype
    of ``p``; a Python float is float64).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        p: the probability of ``True`` (broadcast).
        shape: the shape of the result (default: ``p``'s).

    Returns:
        A boolean array.

    >>> bernoulli(PRNGKey(0), 0.5, (4,))
    array([ True,  True, False, False])
    """
    key = _check_key("bernoulli", key)
    dt = _dtype_of(p) if hasattr(p, "dtype") else np.dtype(np.float64)
    if dt.kind != "f":
        raise TypeError(f"xform.random.bernoulli: p must be a float; got dtype {dt}. "
                        "Pass e.g. p=0.5 or p.astype(float).")
    shape = _shape_of(p) if shape is None else _shape("bernoulli", shape)
    return xnp.less(uniform(key, shape, dt), p)


def gumbel(key: Any, shape: _Shape = (), dtype: Any = None) -> Any:
    """Standard Gumbel samples, ``-log(-log(u))`` (JAX's "low" mode).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        shape: the shape of the result.
        dtype: a floating dtype (default float64).

    Returns:
        Samples of ``shape``.

    >>> import xform
    >>> xform.random.gumbel(xform.random.PRNGKey(0), (3,)).shape
    (3,)
    """
    key = _check_key("gumbel", key)
    dt = _float_dtype("gumbel", dtype)
    u = uniform(key, _shape("gumbel", shape), dt, minval=np.finfo(dt).tiny, maxval=1.0)
    return -xnp.log(-xnp.log(u))


def exponential(key: Any, shape: _Shape = (), dtype: Any = None) -> Any:
    """Standard exponential samples, ``-log1p(-u)``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        shape: the shape of the result.
        dtype: a floating dtype (default float64).

    Returns:
        Non-negative samples of ``shape``.

    >>> import xform
    >>> bool((xform.random.exponential(xform.random.PRNGKey(0), (100,)) >= 0).all())
    True
    """
    key = _check_key("exponential", key)
    dt = _float_dtype("exponential", dtype)
    return -xnp.log1p(-uniform(key, _shape("exponential", shape), dt))


def _top_k_indices(x: Any, k: int) -> Any:
    """Indices of the ``k`` largest entries along the last axis, largest first (ties:
    lower index first, as ``lax.top_k``)."""
    order = xnp.argsort(-x, axis=-1, stable=True)
    return order[..., :k]


def categorical(key: Any, logits: Any, axis: int = -1, shape: _Shape | None = None,
                replace: bool = True) -> Any:
    """Category indices drawn with probabilities ``softmax(logits, axis)``, by the
    Gumbel-max trick (the Gumbel-top-k trick with ``replace=False``).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        logits: unnormalised log-probabilities.
        axis: the axis of the categories.
        shape: the shape of the result (default: ``logits``' without ``axis``).
        replace: sample with replacement.

    Returns:
        Integer indices into ``axis``.

    >>> categorical(PRNGKey(0), np.log(np.array([0.1, 0.2, 0.7])), shape=(6,))
    array([2, 2, 2, 1, 1, 2])
    """
    key = _check_key("categorical", key)
    logits = xnp.asarray(logits) if not hasattr(logits, "dtype") else logits
    lshape = tuple(_shape_of(logits))
    nd = len(lshape)
    axis = axis % nd
    batch_shape = lshape[:axis] + lshape[axis + 1:]
    shape = batch_shape if shape is None else _shape("categorical", shape)
    if tuple(shape[len(shape) - len(batch_shape):]) != batch_shape:
        raise ValueError(f"xform.random.categorical: shape {shape} must end with the batch "
                         f"shape {batch_shape} of logits (its shape without axis {axis}).")
    dt = _float_dtype("categorical", _dtype_of(logits))
    prefix = tuple(shape[:len(shape) - len(batch_shape)])
    if replace:
        neg_axis = axis - nd
        draw_shape = list(shape[len(shape) - len(batch_shape):])
        draw_shape.insert(neg_axis % nd, lshape[axis])
        g = gumbel(key, prefix + tuple(draw_shape), dt)
        expanded = xnp.reshape(logits, (1,) * len(prefix) + lshape)
        return xnp.argmax(g + expanded, axis=neg_axis)
    k = math.prod(prefix)
    if k > lshape[axis]:
        raise ValueError(f"xform.random.categorical: {k} samples without replacement "
                         f"exceed the {lshape[axis]} categories.")
    perturbed = logits + gumbel(key, lshape, dt)
    idx = _top_k_indices(xnp.moveaxis(perturbed, axis, -1), k)
    # (*batch, k) -> (k, *batch) -> shape
    return xnp.astype(xnp.reshape(xnp.moveaxis(idx, -1, 0), shape), np.int32)  # as top_k


def _int_dtype(name: str, dtype: Any) -> np.dtype:
    dt = np.dtype(np.int64 if dtype is None else dtype)
    if dt.kind not in "iu":
        raise TypeError(f"xform.random.{name}: dtype must be an integer dtype; got {dt}.")
    return dt


def _clip_to(val: Any, dt: np.dtype) -> Any:
    """``val`` (an integer array) in ``dt``, clipped to its range rather than wrapped."""
    src = np.iinfo(_dtype_of(val))
    lo = max(np.iinfo(dt).min, src.min)
    hi = min(np.iinfo(dt).max, src.max)
    return xnp.astype(xnp.clip(val, _dtype_of(val).type(lo), _dtype_of(val).type(hi)), dt)


def _rem(x: Any, span: Any) -> Any:
    """``x % span`` for unsigned words, with ``x % 0 == x`` (XLA's rule: a span that
    wrapped to 0 means the whole range)."""
    zero = xnp.equal(span, 0)
    return xnp.where(zero, x, xnp.mod(x, xnp.where(zero, 1, span)))


def randint(key: Any, shape: _Shape, minval: Any, maxval: Any, dtype: Any = None) -> Any:
    """Integers in ``[minval, maxval)`` (default ``int64``), from twice the dtype's bits
    reduced modulo the span, as ``jax.random.randint``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        shape: the shape of the result.
        minval: the lowest value (inclusive).
        maxval: the highest value (exclusive).
        dtype: an integer dtype (default int64).

    Returns:
        Integers of ``shape``.

    >>> randint(PRNGKey(0), (5,), 0, 10)
    array([5, 1, 5, 7, 3])
    """
    key = _check_key("randint", key)
    shape = _shape("randint", shape)
    dt = _int_dtype("randint", dtype)
    if dt.itemsize < 4:  # sampled in 32 bits, as JAX does, to limit the modulo bias
        info = np.iinfo(dt)
        lo32 = xnp.clip(xnp.astype(xnp.asarray(minval), np.int32), int(info.min), int(info.max))
        hi32 = xnp.clip(xnp.astype(xnp.asarray(maxval), np.int32), int(info.min),
                        int(info.max) + 1)
        return xnp.astype(randint(key, shape, lo32, hi32, np.int32), dt)
    minval = xnp.asarray(minval) if not hasattr(minval, "dtype") else minval
    maxval = xnp.asarray(maxval) if not hasattr(maxval, "dtype") else maxval
    if _dtype_of(minval).kind not in "iu":
        minval = xnp.astype(minval, np.int64)
    if _dtype_of(maxval).kind not in "iu":
        maxval = xnp.astype(maxval, np.int64)
    top = min(np.iinfo(dt).max, np.iinfo(_dtype_of(maxval)).max)
    out_of_range = xnp.greater(maxval, _dtype_of(maxval).type(top))
    minval = _clip_to(minval, dt)
    maxval = _clip_to(maxval, dt)
    nbits = dt.itemsize * 8
    udt = np.dtype(f"uint{nbits}")
    # 1-d working arrays: NumPy wraps unsigned arithmetic silently only on arrays
    work = shape if shape else (1,)
    k1, k2 = split(key)[0], split(key)[1]
    higher, lower = _random_bits(k1, nbits, work), _random_bits(k2, nbits, work)
    span = xnp.astype(xnp.reshape(maxval - minval, (-1,)) if not shape else
                      xnp.broadcast_to(maxval - minval, shape), udt)
    too_low = xnp.less_equal(maxval, minval)
    too_low = too_low if shape else xnp.reshape(too_low, (-1,))
    wide = xnp.logical_and(out_of_range, xnp.greater(maxval, minval))
    wide = wide if shape else xnp.reshape(wide, (-1,))
    span = xnp.where(too_low, udt.type(1), span)
    span = xnp.where(wide, span + udt.type(1), span)
    multiplier = _rem(xnp.broadcast_to(udt.type(2 ** (nbits // 2)), _shape_of(span)), span)
    multiplier = _rem(multiplier * multiplier, span)
    offset = _rem(_rem(higher, span) * multiplier + _rem(lower, span), span)
    out = minval + xnp.reshape(xnp.astype(offset, dt), shape)
    return xnp.astype(out, dt)


def _shuffle(key: Any, x: Any, axis: int) -> Any:
    size = math.prod(_shape_of(x))
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        keys = split(key)
        key, sub = keys[0], keys[1]
        sort_keys = _random_bits(sub, 32, tuple(_shape_of(x)))
        order = xnp.argsort(sort_keys, axis=axis, stable=True)
        x = xnp.take_along_axis(x, order, axis=axis)
    return x


def permutation(key: Any, x: Any, axis: int = 0, independent: bool = False) -> Any:
    """A random permutation of ``arange(x)`` for an integer ``x``, else of ``x`` along
    ``axis`` (each slice on its own with ``independent``), as ``jax.random.permutation``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        x: an integer ``n`` (permute ``arange(n)``) or an array.
        axis: the axis of ``x`` to permute.
        independent: permute each slice along ``axis`` independently.

    Returns:
        The permuted array.

    >>> permutation(PRNGKey(0), 5)
    array([0, 1, 4, 3, 2])
    """
    key = _check_key("permutation", key)
    if isinstance(x, (int, np.integer)) or (not hasattr(x, "shape") and np.ndim(x) == 0):
        return _shuffle(key, np.arange(int(x)), 0)
    if not _shape_of(x):
        raise TypeError("xform.random.permutation: x must be an integer or an array of at "
                        "least one dimension.")
    axis = axis % len(_shape_of(x))
    if independent or len(_shape_of(x)) == 1:
        return _shuffle(key, x, axis)
    ind = _shuffle(key, np.arange(_shape_of(x)[axis]), 0)
    return xnp.take(x, ind, axis=axis)


def choice(key: Any, a: Any, shape: _Shape = (), replace: bool = True, p: Any = None,
           axis: int = 0) -> Any:
    """Samples from ``arange(a)`` (an integer ``a``) or from ``a`` along ``axis``, with or
    without replacement, uniformly or with probabilities ``p``, as ``jax.random.choice``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        a: an integer ``n`` (choose from ``arange(n)``) or an array.
        shape: the shape of the result.
        replace: sample with replacement.
        p: probabilities of the entries (default uniform).
        axis: the axis of ``a`` to choose along.

    Returns:
        The samples.

    >>> choice(PRNGKey(0), 10, (3,), replace=False)
    array([0, 1, 8])
    """
    key = _check_key("choice", key)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"xform.random.choice: shape must be a sequence; got {shape!r}.")
    shape = tuple(shape)
    scalar = isinstance(a, (int, np.integer)) or (not hasattr(a, "shape") and np.ndim(a) == 0)
    arr = None if scalar else (a if hasattr(a, "shape") else np.asarray(a))
    if scalar:
        n_inputs = int(a)
    else:
        axis = axis % len(_shape_of(arr))
        n_inputs = _shape_of(arr)[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return np.zeros(shape, np.int64 if scalar else _dtype_of(arr))
    if n_inputs <= 0:
        raise ValueError("xform.random.choice: a must be greater than 0 unless no samples "
                         "are taken.")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"xform.random.choice: cannot take a larger sample (size {n_draws}) "
                         f"than the population (size {n_inputs}) with replace=False.")
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n_inputs)
            result = ind if scalar else xnp.take(arr, ind, axis=axis)
        else:
            pool = n_inputs if scalar else arr
            perm = permutation(key, pool, axis)
            result = perm[(slice(None),) * (0 if scalar else axis) + (slice(n_draws),)]
    else:
        p = xnp.astype(p, np.result_type(_dtype_of(p), np.float32)) if hasattr(p, "dtype") \
            else np.asarray(p, np.float64)
        if tuple(_shape_of(p)) != (n_inputs,):
            raise ValueError(f"xform.random.choice: p must be None or a 1-d vector of size "
                             f"a.shape[axis] = {n_inputs}; got shape {_shape_of(p)}.")
        if replace:
            cum = xnp.cumsum(p)
            r = cum[-1] * (1 - uniform(key, shape, _dtype_of(cum)))
            ind = xnp.astype(xnp.searchsorted(cum, r), np.int64)
        else:
            g = gumbel(key, (n_inputs,), _dtype_of(p)) + xnp.log(p)
            ind = xnp.astype(_top_k_indices(g, n_draws), np.int64)
        result = ind if scalar else xnp.take(arr, ind, axis=axis)
    out_shape = shape if scalar else (tuple(_shape_of(arr)[:axis]) + shape
                                      + tuple(_shape_of(arr)[axis + 1:]))
    return xnp.reshape(result, out_shape)


# ---------------------------------------------------------------- gamma and friends
def _split_rows(keys: np.ndarray, num: int) -> np.ndarray:
    """``split(k, num)`` for each row of ``keys`` (n, 2) -> (n, num, 2), in NumPy."""
    hi, lo = _counts((num,))
    b1, b2 = _threefry_impl(keys[:, :1], keys[:, 1:], hi, lo)
    return np.stack([b1, b2], axis=-1)


def _uniform_rows(keys: np.ndarray, dt: np.dtype, lo: Any = 0.0, hi: Any = 1.0) -> np.ndarray:
    """``uniform(k, (), dt, lo, hi)`` for each row ``k`` of ``keys``, at once."""
    lo, hi = dt.type(lo), dt.type(hi)
    floats = np.asarray(_unit_floats(keys.T, (), dt))
    return np.maximum(lo, floats * (hi - lo) + lo)


def _normal_rows(keys: np.ndarray, dt: np.dtype) -> np.ndarray:
    u = _uniform_rows(keys, dt, np.nextafter(dt.type(-1.0), dt.type(0.0)), 1.0)
    return dt.type(np.sqrt(2.0)) * np.asarray(_erfinv(u)).astype(dt)


def _gamma_rows(keys: np.ndarray, alpha: np.ndarray, log_space: bool) -> np.ndarray:
    """Marsaglia-Tsang rejection for one Gamma(alpha) sample per (key, alpha) pair, run
    for all pairs at once; each pair follows the key sequence of JAX's per-element loop
    (split off a key for the boost; per trial split three ways, then split per normal)."""
    dt = alpha.dtype
    one, third, squeeze = dt.type(1.0), dt.type(1.0 / 3.0), dt.type(0.0331)
    boost = alpha >= one
    a = np.where(boost, alpha, alpha + one)
    d = a - third
    c = third / np.sqrt(d)
    pair = _split_rows(keys, 2)
    keys, boost_keys = pair[:, 0].copy(), pair[:, 1]
    n = alpha.size
    X, V, U = np.zeros(n, dt), np.ones(n, dt), np.full(n, 2.0, dt)

    def rejected() -> np.ndarray:
        return (U >= one - squeeze * (X * X)) & (
            np.log(U) >= X * dt.type(0.5) + d * (one - V + np.log(V)))

    with np.errstate(all="ignore"):
        todo = rejected()
        while todo.any():
            idx = np.nonzero(todo)[0]
            three = _split_rows(keys[idx], 3)
            keys[idx] = three[:, 0]
            x_keys, u_keys = three[:, 1].copy(), three[:, 2]
            x, v = np.zeros(idx.size, dt), np.full(idx.size, -1.0, dt)
            inner = v <= 0
            while inner.any():
                j = np.nonzero(inner)[0]
                two = _split_rows(x_keys[j], 2)
                x_keys[j] = two[:, 0]
                x[j] = _normal_rows(two[:, 1], dt)
                v[j] = one + x[j] * c[idx[j]]
                inner = v <= 0
            X[idx], V[idx] = x * x, v * v * v
            U[idx] = _uniform_rows(u_keys, dt)
            todo = rejected()
        if log_space:
            log_u = np.log1p(-_uniform_rows(boost_keys, dt))
            log_boost = np.where(boost | (log_u == 0), dt.type(0.0), log_u * (one / alpha))
            return (np.log(d) + np.log(V) + log_boost).astype(dt)
        u = one - _uniform_rows(boost_keys, dt)
        return (d * V * np.where(boost, one, u ** (one / alpha))).astype(dt)


def _gamma_impl(key: Any, a: Any, log_space: bool) -> np.ndarray:
    """``key`` (*batch, 2), ``a`` (*batch, *shape): each batch key is split into one key
    per element of ``shape``, as JAX's ``random_gamma`` does."""
    key, a = np.asarray(key, np.uint32), np.asarray(a)
    count = math.prod(a.shape[key.ndim - 1:])
    keys = _split_rows(key.reshape(-1, 2), count).reshape(-1, 2)
    return _gamma_rows(keys, a.reshape(-1), log_space).reshape(a.shape)


def _gamma_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    key, a = vals
    size = next(_shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)
    key = xnp.moveaxis(key, dims[0], 0) if dims[0] is not None else \
        xnp.broadcast_to(key, (size,) + tuple(_shape_of(key)))
    a = xnp.moveaxis(a, dims[1], 0) if dims[1] is not None else \
        xnp.broadcast_to(a, (size,) + tuple(_shape_of(a)))
    return _bind(_random_gamma_p, key, a, **params), 0


def _gamma_lower(ctx: Any, key: Any, a: Any, log_space: bool) -> Any:
    """``jax.random.gamma``/``loggamma`` per batch key: the same key splitting and
    Marsaglia-Tsang sequence as the implementation."""
    jax = ctx.jax
    batch = tuple(key.shape[:-1])
    sample = jax.random.loggamma if log_space else jax.random.gamma

    def one(k: Any, alpha: Any) -> Any:
        typed = jax.random.wrap_key_data(k, impl="threefry2x32")
        return sample(typed, alpha, alpha.shape, alpha.dtype)

    flat_keys = key.reshape((-1, 2))
    flat_a = a.reshape((flat_keys.shape[0],) + tuple(a.shape[len(batch):]))
    return jax.vmap(one)(flat_keys, flat_a).reshape(a.shape)


_random_gamma_p = _Primitive(
    "random_gamma", _numpy_only("xform.random.gamma", _gamma_impl),
    nondiff=True)
_random_gamma_p.batch = _gamma_batch
_random_gamma_p.lower = _gamma_lower


def _gamma_dsample_dalpha(x: Any, log_x: Any, alpha: Any, of_log: bool) -> Any:
    """Implicit reparameterisation: ``dx/da = -(dP/da) / (dP/dx)`` where ``P(a, x)``, the
    regularised lower incomplete gamma function, is held at the sample's quantile; with
    ``of_log``, ``d log(x) / da``, that over ``x``, with ``x * density(x)`` formed in log
    space (``log_x`` is ``log(x)``)."""
    dp_da = _bind(_gammainc_p, alpha, x, k=1)
    log_density = (alpha - (0.0 if of_log else 1.0)) * log_x - x - _gammaln(alpha)
    return -dp_da / xnp.exp(log_density)


@_custom_jvp
def _gamma_sample(key: Any, alpha: Any) -> Any:
    return _bind(_random_gamma_p, key, alpha, log_space=False)


@_gamma_sample.defjvp
def _gamma_sample_jvp(primals: Any, tangents: Any) -> Any:
    key, alpha = primals
    x = _gamma_sample(key, alpha)
    tangent = tangents[1] * _gamma_dsample_dalpha(x, xnp.log(x), alpha, of_log=False)
    return x, tangent


@_custom_jvp
def _loggamma_sample(key: Any, alpha: Any) -> Any:
    return _bind(_random_gamma_p, key, alpha, log_space=True)


@_loggamma_sample.defjvp
def _loggamma_sample_jvp(primals: Any, tangents: Any) -> Any:
    key, alpha = primals
    log_x = _loggamma_sample(key, alpha)
    return log_x, tangents[1] * _gamma_dsample_dalpha(xnp.exp(log_x), log_x, alpha, of_log=True)


def _gamma_common(name: str, key: Any, a: Any, shape: _Shape | None, dtype: Any,
                  log_space: bool) -> Any:
    key = _check_key(name, key)
    dt = _float_dtype(name, dtype)
    shape = tuple(_shape_of(a)) if shape is None else _shape(name, shape)
    a = xnp.broadcast_to(xnp.astype(a, dt), shape)
    if log_space:
        return _loggamma_sample(key, a)
    return _gamma_sample(key, a)


def gamma(key: Any, a: Any, shape: _Shape | None = None, dtype: Any = None) -> Any:
    """Gamma(``a``, 1) samples (Marsaglia-Tsang), differentiable in ``a`` by implicit
    reparameterisation, as ``jax.random.gamma``.

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        a: the shape parameter (broadcast; differentiable).
        shape: the shape of the result (default: ``a``'s).
        dtype: a floating dtype (default float64).

    Returns:
        Samples.

    >>> x = gamma(PRNGKey(0), 2.0, (1000,))
    >>> bool(abs(float(x.mean()) - 2.0) < 0.2)
    True
    """
    return _gamma_common("gamma", key, a, shape, dtype, log_space=False)


def loggamma(key: Any, a: Any, shape: _Shape | None = None, dtype: Any = None) -> Any:
    """The log of Gamma(``a``, 1) samples, accurate for small ``a``; differentiable in
    ``a`` by implicit reparameterisation (so are :func:`beta` and :func:`dirichlet`).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        a: the shape parameter (broadcast).
        shape: the shape of the result (default: ``a``'s).
        dtype: a floating dtype (default float64).

    Returns:
        ``log`` of Gamma(``a``, 1) samples.

    >>> import xform
    >>> g = xform.grad(lambda a: loggamma(PRNGKey(0), a, (4,)).sum())(2.0)
    >>> bool(g > 0)
    True
    """
    return _gamma_common("loggamma", key, a, shape, dtype, log_space=True)


def beta(key: Any, a: Any, b: Any, shape: _Shape | None = None, dtype: Any = None) -> Any:
    """Beta(``a``, ``b``) samples, as the ratio of two gamma samples (in log space).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        a: the first shape parameter (broadcast).
        b: the second shape parameter (broadcast).
        shape: the shape of the result (default: the broadcast shape).
        dtype: a floating dtype (default float64).

    Returns:
        Samples in ``(0, 1)``.

    >>> x = beta(PRNGKey(0), 2.0, 5.0, (1000,))
    >>> bool(abs(float(x.mean()) - 2.0 / 7.0) < 0.02)
    True
    """
    key = _check_key("beta", key)
    dt = _float_dtype("beta", dtype)
    if shape is None:
        shape = np.broadcast_shapes(_shape_of(a), _shape_of(b))
    shape = _shape("beta", shape)
    key_a, key_b = split(key)[0], split(key)[1]
    log_a = loggamma(key_a, xnp.broadcast_to(xnp.astype(a, dt), shape), shape, dt)
    log_b = loggamma(key_b, xnp.broadcast_to(xnp.astype(b, dt), shape), shape, dt)
    log_max = xnp.maximum(log_a, log_b)
    ga, gb = xnp.exp(log_a - log_max), xnp.exp(log_b - log_max)
    return ga / (ga + gb)


def dirichlet(key: Any, alpha: Any, shape: _Shape | None = None, dtype: Any = None) -> Any:
    """Dirichlet(``alpha``) samples over the last axis of ``alpha`` (normalised gamma
    samples, drawn in log space).

    Args:
        key: a key, from :func:`PRNGKey` or :func:`split`.
        alpha: concentrations, last axis the categories.
        shape: the shape of the result without the last axis (default: ``alpha``'s batch shape).
        dtype: a floating dtype (default float64).

    Returns:
        Samples on the simplex (last axis sums to 1).

    >>> x = dirichlet(PRNGKey(0), np.array([1.0, 2.0, 3.0]), (4,))
    >>> x.shape, bool(np.allclose(x.sum(-1), 1.0))
    ((4, 3), True)
    """
    key = _check_key("dirichlet", key)
    dt = _float_dtype("dirichlet", dtype)
    if len(_shape_of(alpha)) < 1:
        raise ValueError("xform.random.dirichlet: alpha must have at least one dimension "
                         f"(the categories); got shape {_shape_of(alpha)}.")
    shape = tuple(_shape_of(alpha))[:-1] if shape is None else _shape("dirichlet", shape)
    full = shape + tuple(_shape_of(alpha))[-1:]
    logs = loggamma(key, xnp.broadcast_to(xnp.astype(alpha, dt), full), full, dt)
    shifted = xnp.exp(logs - _stop_gradient(xnp.max(logs, axis=-1, keepdims=True)))
    return shifted / xnp.sum(shifted, axis=-1, keepdims=True)

