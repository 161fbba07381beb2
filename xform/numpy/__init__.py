"""``xform.numpy``: the traceable, differentiable NumPy namespace.

An explicit list: a NumPy function that is not here raises a clear error naming
it, rather than silently running without a derivative.

The family's files import one another at module level, each only from files
below it in this order (``tests/test_layers.py`` keeps it so):
``_elementwise`` < ``_shape`` < ``_reductions`` < ``_creation`` < ``_indexing`` <
``_extra_elementwise`` < ``_contract`` < ``_manip`` < ``_stats`` < ``_signal`` <
``_fft`` < ``_linalg`` < ``linalg``, ``fft`` < ``_values``, ``_vectorize`` <
``_tracer_methods``; ``random`` imports only the core, ``_passthrough`` only NumPy.
"""
from __future__ import annotations

import sys as _sys

import numpy as _np

from . import _tracer_methods, fft, linalg, random
from ._contract import dot, einsum, inner, matmul, outer, tensordot, vdot
from ._creation import (arange, array, asarray, bool_, complex64, complex128, copy, empty,
                        empty_like, eye, float16, float32, float64, full, full_like, identity,
                        int8, int16, int32, int64, linspace, logspace, meshgrid, ndim, ones,
                        ones_like, result_type, shape, size, tri, uint8, uint16, uint32, uint64,
                        zeros, zeros_like)
from ._elementwise import (abs, absolute, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                           arctanh, around, astype, bitwise_and, bitwise_invert,
                           bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                           bitwise_xor, cbrt, ceil, clip, conj, conjugate, copysign, cos, cosh,
                           deg2rad, divide, equal, exp, exp2, expm1, fabs, floor, floor_divide,
                           fmax, fmin, fmod, greater, greater_equal, heaviside, hypot, imag,
                           invert, isfinite, isinf, isnan, left_shift, less, less_equal, log,
                           log10, log1p, log2, logaddexp, logaddexp2, logical_and, logical_not,
                           logical_or, logical_xor, maximum, minimum, mod, multiply, negative,
                           nextafter, nonzero, not_equal, positive, pow, power, rad2deg, real,
                           reciprocal, remainder, right_shift, rint, round, sign, sin, sinh, sqrt,
                           square, subtract, tan, tanh, true_divide, trunc, where)
from ._indexing import argsort, at, take
from ._reductions import (all, amax, amin, any, argmax, argmin, cumprod, cumsum, max, mean,
                          min, prod, ptp, std, sum, var)
from ._shape import (atleast_1d, atleast_2d, broadcast_arrays, broadcast_to, column_stack,
                     concatenate, expand_dims, flip, hstack, moveaxis, permute_dims, ravel,
                     repeat, reshape, roll, squeeze, stack, swapaxes, tile, transpose, vstack)
from ._extra_elementwise import (allclose, angle, float_power, iscomplex, iscomplexobj, isclose,
                                 isneginf, isposinf, isreal, isrealobj, nan_to_num, real_if_close,
                                 signbit, sinc)
from ._manip import (append, array_split, ascontiguousarray, asfortranarray, atleast_3d, block, c_, cross, r_, row_stack, diag, diagflat, diagonal, dsplit, dstack,
                     fliplr, flipud, hsplit, kron, pad, rollaxis, rot90, select, split,
                     take_along_axis, trace, tril, triu, vsplit)
from ._signal import convolve, correlate, diff, ediff1d, gradient, interp, polyval, trapezoid
from ._stats import (argpartition, argwhere, average, corrcoef, count_nonzero, cov, flatnonzero,
                     median, nancumprod, nancumsum, nanmax, nanmean, nanmedian, nanmin,
                     nanpercentile, nanprod,
                     nanquantile, nanstd, nansum, nanvar, partition, percentile, quantile,
                     searchsorted, sort, unique)
from ._values import (array_equal, array_equiv, bincount, digitize, histogram,
                      histogram_bin_edges, isin, lexsort, nanargmax, nanargmin)
from ._vectorize import vectorize
from . import _passthrough
from ._passthrough import (array2string, array_repr, array_str, broadcast_shapes, bytes_,
                           can_cast, complexfloating, diag_indices, format_float_positional,
                           format_float_scientific, frombuffer, fromfile, genfromtxt,
                           generic, get_printoptions, geterr, geterrcall, indices, isscalar,
                           ix_, load, loadtxt, mgrid, min_scalar_type, ndindex, object_,
                           ogrid, printoptions, promote_types, ravel_multi_index, save,
                           savetxt, savez, savez_compressed, set_printoptions, seterr,
                           seterrcall, signedinteger, str_, testing, tril_indices,
                           triu_indices, typing, unravel_index, unsignedinteger)
from .._unsupported import unsupported_getattr as _unsupported_getattr
from ..core.rules import accept_sequences_in as _accept_sequences_in

# aliases NumPy 2 provides
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh
degrees, radians = rad2deg, deg2rad
concat = concatenate

# constants, dtypes and helpers that involve no differentiation pass straight through
pi, e, inf, nan, newaxis, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, None, _np.euler_gamma
ndarray, dtype, finfo, iinfo = _np.ndarray, _np.dtype, _np.finfo, _np.iinfo
issubdtype, errstate = _np.issubdtype, _np.errstate
float_, int_ = float64, int64
integer, floating, inexact, number = _np.integer, _np.floating, _np.inexact, _np.number


__all__ = [
    "fft", "linalg", "random", "dot", "einsum", "inner", "matmul", "outer", "tensordot",
    "vdot", "arange", "array", "asarray", "bool_", "complex64", "complex128", "copy", "empty",
    "empty_like", "eye", "float16", "float32", "float64", "full", "full_like", "identity",
    "int8", "int16", "int32", "int64", "linspace", "logspace", "meshgrid", "ndim", "ones",
    "ones_like", "result_type", "shape", "size", "tri", "uint8", "uint16", "uint32", "uint64",
    "zeros", "zeros_like", "abs", "absolute", "add", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctan2", "arctanh", "around", "astype", "bitwise_and", "bitwise_invert",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "cbrt", "ceil", "clip", "conj", "conjugate", "copysign", "cos", "cosh", "deg2rad",
    "divide", "equal", "exp", "exp2", "expm1", "fabs", "floor", "floor_divide", "fmax", "fmin",
    "fmod", "greater", "greater_equal", "heaviside", "hypot", "imag", "invert", "isfinite",
    "isinf", "isnan", "left_shift", "less", "less_equal", "log", "log10", "log1p", "log2",
    "logaddexp", "logaddexp2", "logical_and", "logical_not", "logical_or", "logical_xor",
    "maximum", "minimum", "mod", "multiply", "negative", "nextafter", "nonzero", "not_equal",
    "positive", "pow", "power", "rad2deg", "real", "reciprocal", "remainder", "right_shift",
    "rint", "round", "sign", "sin", "sinh", "sqrt", "square", "subtract", "tan", "tanh",
    "true_divide", "trunc", "where", "argsort", "at", "take", "all", "amax", "amin", "any",
    "argmax", "argmin", "cumprod", "cumsum", "max", "mean", "min", "prod", "ptp", "std", "sum",
    "var", "atleast_1d", "atleast_2d", "broadcast_arrays", "broadcast_to", "column_stack",
    "concatenate", "expand_dims", "flip", "hstack", "moveaxis", "permute_dims", "ravel",
    "repeat", "reshape", "roll", "squeeze", "stack", "swapaxes", "tile", "transpose", "vstack",
    "allclose", "angle", "float_power", "iscomplex", "iscomplexobj", "isclose", "isneginf",
    "isposinf", "isreal", "isrealobj", "nan_to_num", "real_if_close", "signbit", "sinc",
    "append", "array_split", "ascontiguousarray", "asfortranarray", "block", "atleast_3d", "c_", "cross", "r_", "row_stack", "diag",
    "diagflat", "diagonal", "dsplit", "dstack", "fliplr", "flipud", "hsplit", "kron", "pad",
    "rollaxis", "rot90", "select", "split", "take_along_axis", "trace", "tril", "triu",
    "vsplit", "convolve", "correlate", "diff", "gradient", "interp", "polyval", "trapezoid",
    "argpartition", "argwhere", "average", "corrcoef", "count_nonzero", "cov", "flatnonzero",
    "median", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod",
    "nanquantile", "nanstd", "nansum", "nanvar", "partition", "percentile", "quantile",
    "searchsorted", "sort", "unique", "asin", "acos", "atan", "atan2", "asinh", "acosh",
    "atanh", "degrees", "radians", "concat", "pi", "e", "inf", "nan", "newaxis", "euler_gamma",
    "ndarray", "dtype", "finfo", "iinfo", "issubdtype", "errstate", "float_", "int_",
    "integer", "floating", "inexact", "number",
    "ediff1d", "nancumprod", "nancumsum", "array_equal", "array_equiv", "bincount", "digitize",
    "histogram", "histogram_bin_edges", "isin", "lexsort", "nanargmax", "nanargmin",
    "vectorize", *_passthrough.NAMES,
]


__getattr__ = _unsupported_getattr(
    "xform.numpy", _np,
    "Express it with supported xform.numpy functions, or apply it to constants only (plain NumPy arrays).")

# lists and tuples of traced values are read as arrays wherever NumPy takes an array_like
_accept_sequences_in(globals())
_tracer_methods.install(_sys.modules[__name__])
