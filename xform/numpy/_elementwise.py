"""Elementwise primitives: one table row per op, derivatives as ``d(ans, *args)``;
the complex parts (real, imag, conj), which those rules need; ``stop_gradient``.

May import: the core and ``tree_util`` (the bottom of the family; order: ``__init__``).

Complex derivatives follow JAX's convention: a cotangent is the transpose of the
tangent map under the real pairing ``<a, b> = Re(a * b)``, with no conjugation.
So a holomorphic ``f`` pulls ``ct`` back to ``ct * f'(z)``, and the gradient of a
real-valued function of ``z = x + iy`` comes out as ``df/dx - i df/dy``.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from ..core import algebra, emit
from ..core.lowering import jnp_call
from ..core.rules import (SEQUENCE_TYPES, Primitive, as_array_like, batch_broadcasting,
                          batch_unary, binary_op, bind, defbilinear, defjvp, deflinear, defrules,
                          defvjp, dtype_of, float_elementwise_shape, nondiff_op, real_only,
                          shape_of, unary_op)
from ..core.structured import keep_scaling, keep_sums, keep_zero_preserving
from ..core.arrays import as_operand, zeros
from ..core.trace import Tracer, like_value
from ..tree_util import tree_map

# defined below; named here because derivatives refer to each other
cos: Callable[[Any], Any]
cosh: Callable[[Any], Any]
copysign: Callable[[Any, Any], Any]

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))

_F64 = np.float64
_SCALAR_PARTNERS = (np.float64, float, int)


def _scalar_fast(op: Callable[[Any, Any], Any], ufunc: np.ufunc) -> Callable[[Any, Any], Any]:
    """An arithmetic impl: Python's operator where one operand is a float64 scalar and
    the other a float64 scalar or a Python number (NumPy's scalar fast path, ~20x
    cheaper than the ufunc call there, same result and same warnings), the ufunc for
    everything else (arrays, other dtypes, Dask or CuPy operands)."""
    def impl(x: Any, y: Any) -> Any:
        tx, ty = type(x), type(y)
        if (tx is _F64 and ty in _SCALAR_PARTNERS) or (ty is _F64 and tx in _SCALAR_PARTNERS):
            return op(x, y)
        return ufunc(x, y)
    impl.__name__ = impl.__qualname__ = ufunc.__name__
    return impl


def _unary_scalar_fast(op: Callable[[Any], Any], ufunc: np.ufunc) -> Callable[[Any], Any]:
    """``_scalar_fast`` for an op of one operand (``-x``, ``abs(x)``)."""
    def impl(x: Any) -> Any:
        return op(x) if type(x) is _F64 else ufunc(x)
    impl.__name__ = impl.__qualname__ = ufunc.__name__
    return impl


# ---------------------------------------------------------------- unary, differentiable
negative_p, negative = unary_op("negative", _unary_scalar_fast(operator.neg, np.negative),
                                lambda ans, x: -1.0)
positive_p, positive = unary_op("positive", np.positive, lambda ans, x: 1.0)
exp_p, exp = unary_op("exp", np.exp, lambda ans, x: ans)
exp2_p, exp2 = unary_op("exp2", np.exp2, lambda ans, x: ans * _LN2)
expm1_p, expm1 = unary_op("expm1", np.expm1, lambda ans, x: ans + 1.0)
log_p, log = unary_op("log", np.log, lambda ans, x: 1.0 / x)
log2_p, log2 = unary_op("log2", np.log2, lambda ans, x: 1.0 / (x * _LN2))
log10_p, log10 = unary_op("log10", np.log10, lambda ans, x: 1.0 / (x * _LN10))
log1p_p, log1p = unary_op("log1p", np.log1p, lambda ans, x: 1.0 / (x + 1.0))
sqrt_p, sqrt = unary_op("sqrt", np.sqrt, lambda ans, x: 0.5 / ans)
cbrt_p, cbrt = unary_op("cbrt", np.cbrt, lambda ans, x: 1.0 / (3.0 * ans * ans))
square_p, square = unary_op("square", np.square, lambda ans, x: 2.0 * x)
reciprocal_p, reciprocal = unary_op("reciprocal", np.reciprocal, lambda ans, x: -(ans * ans))
sin_p, sin = unary_op("sin", np.sin, lambda ans, x: cos(x), lambda ans, x: np.cos(x))
cos_p, cos = unary_op("cos", np.cos, lambda ans, x: -sin(x), lambda ans, x: -np.sin(x))
tan_p, tan = unary_op("tan", np.tan, lambda ans, x: 1.0 + ans * ans)
arcsin_p, arcsin = unary_op("arcsin", np.arcsin, lambda ans, x: 1.0 / sqrt(1.0 - x * x),
                            lambda ans, x: 1.0 / np.sqrt(1.0 - x * x))
arccos_p, arccos = unary_op("arccos", np.arccos, lambda ans, x: -1.0 / sqrt(1.0 - x * x),
                            lambda ans, x: -1.0 / np.sqrt(1.0 - x * x))
arctan_p, arctan = unary_op("arctan", np.arctan, lambda ans, x: 1.0 / (1.0 + x * x))
sinh_p, sinh = unary_op("sinh", np.sinh, lambda ans, x: cosh(x), lambda ans, x: np.cosh(x))
cosh_p, cosh = unary_op("cosh", np.cosh, lambda ans, x: sinh(x), lambda ans, x: np.sinh(x))
tanh_p, tanh = unary_op("tanh", np.tanh, lambda ans, x: 1.0 - ans * ans)
arcsinh_p, arcsinh = unary_op("arcsinh", np.arcsinh, lambda ans, x: 1.0 / sqrt(x * x + 1.0),
                              lambda ans, x: 1.0 / np.sqrt(x * x + 1.0))
# sqrt(x - 1) sqrt(x + 1), not sqrt(x^2 - 1): the two differ in sign off the real axis,
# and only the first matches arccosh's principal branch
arccosh_p, arccosh = unary_op("arccosh", np.arccosh,
                              lambda ans, x: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)),
                              lambda ans, x: 1.0 / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0)))
arctanh_p, arctanh = unary_op("arctanh", np.arctanh, lambda ans, x: 1.0 / (1.0 - x * x))
abs_p, absolute = unary_op("absolute", _unary_scalar_fast(operator.abs, np.absolute),
                            lambda ans, x: sign(x))
deg2rad_p, deg2rad = unary_op("deg2rad", np.deg2rad, lambda ans, x: np.pi / 180.0)
rad2deg_p, rad2deg = unary_op("rad2deg", np.rad2deg, lambda ans, x: 180.0 / np.pi)
negative_p.emit = emit.prefix("-")
keep_zero_preserving(negative_p)
positive_p.identities = algebra.pass_through()
negative_p.linear = positive_p.linear = deg2rad_p.linear = rad2deg_p.linear = True
# jit calls these ufuncs directly (`_np.exp(x)`) rather than through the bound impl
for _p in (exp_p, log_p, log1p_p, expm1_p, sqrt_p, sin_p, cos_p, tan_p, tanh_p, sinh_p,
           cosh_p, arctan_p, arcsin_p, arccos_p, arctanh_p, abs_p, square_p, reciprocal_p):
    _p.emit = emit.numpy_call(_p.name)

# ---------------------------------------------------------------- unary, zero derivative
sign_p, _real_sign = unary_op("sign", np.sign, None)


def sign(x: Any) -> Any:
    """`numpy.sign`: piecewise constant on reals (derivative zero); for complex ``z`` it is
    ``z / |z|`` (0 at 0), which is not constant, so it is computed as that quotient and
    differentiates as one (JAX gives it a zero derivative; central differences do not).

    Args:
        x: an array or scalar, real or complex (traced or not).

    Returns:
        -1, 0 or 1 for reals (NaN stays NaN); ``z / |z|`` for complex values.

    >>> import xform, xform.numpy as np
    >>> np.sign(np.array([-2.0, 0.0, 3.0])).tolist(), float(xform.grad(np.sign)(3.0))
    ([-1.0, 0.0, 1.0], 0.0)

    >>> import xform, xform.numpy as np
    >>> complex(xform.jvp(np.sign, (1j,), (1.0 + 0j,))[1])
    (1+0j)
    """
    if x.__class__ in SEQUENCE_TYPES:
        x = as_array_like(x)
    if not is_complex(x):
        return _real_sign(x)
    zero = equal(x, 0)
    return where(zero, 0, x / where(zero, 1, absolute(x)))
floor_p, floor = unary_op("floor", np.floor, None)
ceil_p, ceil = unary_op("ceil", np.ceil, None)
rint_p, rint = unary_op("rint", np.rint, None)
trunc_p, trunc = unary_op("trunc", np.trunc, None)
isnan_p, isnan = unary_op("isnan", np.isnan, None)
isinf_p, isinf = unary_op("isinf", np.isinf, None)
isfinite_p, isfinite = unary_op("isfinite", np.isfinite, None)
logical_not_p, logical_not = unary_op("logical_not", np.logical_not, None)
for _p in (sign_p, floor_p):
    _p.emit = emit.numpy_call(_p.name)
round_p, _ = nondiff_op("round", np.round)


def round(x: Any, decimals: int = 0) -> Any:  # noqa: A001 - NumPy's name
    """`numpy.round`: piecewise constant, so its derivative is zero.

    Args:
        x: an array or scalar (traced or not).
        decimals: the number of decimals to keep (negative: round to tens, hundreds...).

    Returns:
        ``x`` rounded half to even, as NumPy rounds.

    >>> import xform, xform.numpy as np
    >>> np.round(np.array([0.5, 1.5, 2.5])).tolist(), np.round(np.array([2.346]), 2).tolist()
    ([0.0, 2.0, 2.0], [2.35])
    >>> float(xform.grad(np.round)(1.3))
    0.0
    """
    return bind(round_p, x, decimals=decimals)


around = round

# ---------------------------------------------------------------- binary, differentiable
def _sum_numeric(ct: Any, ans: Any, args: Any, params: dict, needs: Any) -> Any:
    return ct, ct


def _difference_numeric(ct: Any, ans: Any, args: Any, params: dict, needs: Any) -> Any:
    return ct, (-ct if needs[1] else None)


def _product_numeric(ct: Any, ans: Any, args: Any, params: dict, needs: Any) -> Any:
    x, y = args
    return (ct * y if needs[0] else None), (x * ct if needs[1] else None)


def _quotient_numeric(ct: Any, ans: Any, args: Any, params: dict, needs: Any) -> Any:
    y = args[1]
    return (ct / y if needs[0] else None), (-ct * ans / y if needs[1] else None)


add_p = Primitive("add", _scalar_fast(operator.add, np.add))
defjvp(add_p, lambda t, ans, x, y: t, lambda t, ans, x, y: t)
defvjp(add_p, lambda ct, ans, x, y: ct, lambda ct, ans, x, y: ct, broadcasting=True)
add_p.emit = emit.infix("+")
add_p.identities = algebra.identity_element(-0.0)  # x + -0.0 == x (x + 0.0 is +0.0 at x = -0.0)

subtract_p = Primitive("subtract", _scalar_fast(operator.sub, np.subtract))
defjvp(subtract_p, lambda t, ans, x, y: t, lambda t, ans, x, y: -t)
defvjp(subtract_p, lambda ct, ans, x, y: ct, lambda ct, ans, x, y: -ct, broadcasting=True)
subtract_p.emit = emit.infix("-")
subtract_p.identities = algebra.right_identity_element(0.0)  # x - 0.0 == x, -0.0 too
# a backward pass often negates a cotangent only to add it: fold the negation in
add_p.negation_folds = (algebra.NegationFold(1, subtract_p), algebra.NegationFold(0, subtract_p))
subtract_p.negation_folds = (algebra.NegationFold(1, add_p),)
negative_p.is_negation = True

multiply_p = Primitive("multiply", _scalar_fast(operator.mul, np.multiply))
# Python's `*` rather than a ufunc call, which costs more on NumPy scalars
defbilinear(multiply_p, lambda ct, ans, x, y: ct * y, lambda ct, ans, x, y: x * ct,
            broadcasting=True, apply=operator.mul)
multiply_p.emit = emit.infix("*")
multiply_p.identities = algebra.identity_element(1.0)  # x * 1 == 1 * x == x

divide_p = Primitive("divide", _scalar_fast(operator.truediv, np.divide))
defjvp(divide_p, lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y)
defvjp(divide_p, lambda ct, ans, x, y: ct / y, lambda ct, ans, x, y: -ct * ans / y,
       broadcasting=True)
divide_p.emit = emit.infix("/")
divide_p.identities = algebra.right_identity_element(1.0)  # x / 1 == x
# a Jacobian basis stays a diagonal when scaled or summed (core/structured.py)
keep_sums(add_p)
keep_sums(subtract_p)
keep_scaling(multiply_p)
keep_scaling(divide_p, divides=True)
# the eager sweep's formulas (the rules above, without their per-argument dispatch)
def _negation_numeric(ct: Any, ans: Any, args: Any, params: dict, needs: Any) -> Any:
    return (-ct,)


for _p, _numeric in ((add_p, _sum_numeric), (subtract_p, _difference_numeric),
                     (multiply_p, _product_numeric), (divide_p, _quotient_numeric),
                     (negative_p, _negation_numeric)):
    _numeric.derived_from = _p.vjp  # type: ignore[attr-defined]
    _p.numeric_vjp = _numeric
    float_elementwise_shape(_p)


def add(x: Any, y: Any) -> Any:
    """Elementwise `numpy.add`.

    Args:
        x: an array or scalar (traced or not).
        y: an array or scalar, broadcast against ``x``.

    Returns:
        ``x + y`` elementwise, traced when an argument is.

    >>> import xform, xform.numpy as np
    >>> np.add(np.array([1.0, 2.0]), 2.0).tolist()
    [3.0, 4.0]
    >>> [float(g) for g in xform.grad(np.add, argnums=(0, 1))(4.0, 2.0)]
    [1.0, 1.0]
    """
    if x.__class__ in SEQUENCE_TYPES or y.__class__ in SEQUENCE_TYPES:
        x, y = as_array_like(x), as_array_like(y)
    return bind(add_p, x, y)


def subtract(x: Any, y: Any) -> Any:
    """Elementwise `numpy.subtract`.

    Args:
        x: an array or scalar (traced or not).
        y: an array or scalar, broadcast against ``x``.

    Returns:
        ``x - y`` elementwise, traced when an argument is.

    >>> import xform, xform.numpy as np
    >>> np.subtract(np.array([1.0, 2.0]), 2.0).tolist()
    [-1.0, 0.0]
    >>> [float(g) for g in xform.grad(np.subtract, argnums=(0, 1))(4.0, 2.0)]
    [1.0, -1.0]
    """
    if x.__class__ in SEQUENCE_TYPES or y.__class__ in SEQUENCE_TYPES:
        x, y = as_array_like(x), as_array_like(y)
    return bind(subtract_p, x, y)


def multiply(x: Any, y: Any) -> Any:
    """Elementwise `numpy.multiply`.

    Args:
        x: an array or scalar (traced or not).
        y: an array or scalar, broadcast against ``x``.

    Returns:
        ``x * y`` elementwise, traced when an argument is.

    >>> import xform, xform.numpy as np
    >>> np.multiply(np.array([1.0, 2.0]), 2.0).tolist()
    [2.0, 4.0]
    >>> [float(g) for g in xform.grad(np.multiply, argnums=(0, 1))(4.0, 2.0)]
    [2.0, 4.0]
    """
    if x.__class__ in SEQUENCE_TYPES or y.__class__ in SEQUENCE_TYPES:
        x, y = as_array_like(x), as_array_like(y)
    return bind(multiply_p, x, y)


def divide(x: Any, y: Any) -> Any:
    """Elementwise `numpy.divide` (true division).

    Args:
        x: an array or scalar (traced or not).
        y: an array or scalar, broadcast against ``x``.

    Returns:
        ``x / y`` elementwise, traced when an argument is.

    >>> import xform, xform.numpy as np
    >>> np.divide(np.array([1.0, 2.0]), 2.0).tolist()
    [0.5, 1.0]
    >>> [float(g) for g in xform.grad(np.divide, argnums=(0, 1))(4.0, 2.0)]
    [0.5, -1.0]
    """
    if x.__class__ in SEQUENCE_TYPES or y.__class__ in SEQUENCE_TYPES:
        x, y = as_array_like(x), as_array_like(y)
    return bind(divide_p, x, y)


true_divide = divide
# the operators' functions read lists of traced values themselves (no wrapper: they are hot)
for _f in (add, subtract, multiply, divide):
    _f._accepts_sequences = True  # type: ignore[attr-defined]


def _safe_log(x: Any) -> Any:
    # d(x**y)/dy = log(x) * x**y; at x == 0 the product is 0, so avoid log(0) = -inf
    return log(where(x == 0, 1.0, x))


def _pow_dx(ans: Any, x: Any, y: Any) -> Any:
    # y * x**(y-1), written so that y == 0 gives 0 rather than 0 * inf
    return where(y == 0, 0.0, y * power(x, y - 1))


power_p, _power = binary_op("power", np.power, _pow_dx, lambda ans, x, y: _safe_log(x) * ans)

# x ** c with a Python constant c: the common case, with a cheaper rule
pow_scalar_p = Primitive("pow_scalar", lambda x, y: np.power(x, y))


def _pow_scalar_deriv(ans: Any, x: Any, y: float) -> Any:
    if y == 0:
        return 0.0 * x
    if y == 1:
        return 1.0 + 0.0 * x
    if y == 2:
        return 2.0 * x
    return y * bind(pow_scalar_p, x, y=y - 1)


defrules(pow_scalar_p, _pow_scalar_deriv, broadcasting=False)
_emit_power = emit.numpy_call("power", "y")


def _emit_pow_scalar(a: list[str], p: dict[str, Any], bind: emit.Bind) -> str:
    # the square, by far the most common power, is cheaper as a product than np.power
    return f"({a[0]} * {a[0]})" if p["y"] == 2 else _emit_power(a, p, bind)


pow_scalar_p.emit = _emit_pow_scalar
float_elementwise_shape(pow_scalar_p)
pow_scalar_p.identities = algebra.pass_through(when=lambda p: p["y"] == 1)  # x ** 1


def power(x: Any, y: Any) -> Any:
    """Elementwise `numpy.power`, differentiable in both base and exponent.

    Args:
        x: an array or scalar (traced or not).
        y: an array or scalar, broadcast against ``x``.

    Returns:
        ``x ** y`` elementwise, traced when an argument is.

    >>> import xform, xform.numpy as np
    >>> np.power(np.array([1.0, 2.0]), 2.0).tolist()
    [1.0, 4.0]
    >>> [float(g) for g in xform.grad(np.power, argnums=(0, 1))(4.0, 2.0)]
    [8.0, 22.18070977791825]
    """
    if x.__class__ in SEQUENCE_TYPES or y.__class__ in SEQUENCE_TYPES:
        x, y = as_array_like(x), as_array_like(y)
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return bind(pow_scalar_p, x, y=y)
    return bind(power_p, x, y)


power._accepts_sequences = True  # type: ignore[attr-defined]
pow = power  # noqa: A001 - NumPy 2 alias


def _max_dx(ans: Any, x: Any, y: Any) -> Any:
    if is_complex(x) or is_complex(y):  # NumPy orders complex values lexicographically
        return where(equal(x, y), 0.5, where(greater(x, y), 1.0, 0.0))
    return 0.5 + 0.5 * sign(x - y)  # 1 where x wins, 0.5 on ties (as JAX), 0 otherwise


def _min_dx(ans: Any, x: Any, y: Any) -> Any:
    return 1.0 - _max_dx(ans, x, y)


maximum_p, maximum = binary_op("maximum", np.maximum, _max_dx, lambda a, x, y: _min_dx(a, x, y))
minimum_p, minimum = binary_op("minimum", np.minimum, _min_dx, lambda a, x, y: _max_dx(a, x, y))
fmax_p, fmax = binary_op("fmax", np.fmax, _max_dx, lambda a, x, y: _min_dx(a, x, y))
fmin_p, fmin = binary_op("fmin", np.fmin, _min_dx, lambda a, x, y: _max_dx(a, x, y))
arctan2_p, arctan2 = binary_op("arctan2", np.arctan2,
                               lambda ans, y, x: x / (x * x + y * y),
                               lambda ans, y, x: -y / (x * x + y * y))
def _hypot_dx(ans: Any, x: Any, y: Any) -> Any:
    # at the origin, JAX's convention: 1/2 for each operand (the derivative of
    # max(|x|, |y|) with the tie split evenly) instead of 0/0
    origin = ans == 0
    return where(origin, 0.5, x / where(origin, 1.0, ans))


hypot_p, hypot = binary_op("hypot", np.hypot, _hypot_dx, lambda ans, x, y: _hypot_dx(ans, y, x))
hypot.__doc__ = """Elementwise `numpy.hypot`, ``sqrt(x^2 + y^2)``; its partial derivatives are
``x / hypot`` and ``y / hypot``, and 1/2 each at the origin (JAX's convention).

Args:
    x: an array or scalar, or a traced value under a transform.
    y: another, broadcast against x.

Returns:
    The length of the hypotenuse, ``sqrt(x**2 + y**2)`` without overflow.

>>> import xform, xform.numpy as np
>>> float(np.hypot(3.0, 4.0)), [float(g) for g in xform.grad(np.hypot, argnums=(0, 1))(3.0, 4.0)]
(5.0, [0.6, 0.8])
>>> [float(g) for g in xform.grad(np.hypot, argnums=(0, 1))(0.0, 0.0)]
[0.5, 0.5]
"""
logaddexp_p, logaddexp = binary_op("logaddexp", np.logaddexp,
                                   lambda ans, x, y: exp(x - ans),
                                   lambda ans, x, y: exp(y - ans))
for _p in (maximum_p, minimum_p, arctan2_p, logaddexp_p):
    _p.emit = emit.numpy_call(_p.name)
logaddexp2_p, logaddexp2 = binary_op("logaddexp2", np.logaddexp2,
                                     lambda ans, x, y: exp2(x - ans),
                                     lambda ans, x, y: exp2(y - ans))
mod_p, mod = binary_op("mod", np.mod, lambda ans, x, y: 1.0, lambda ans, x, y: -floor(x / y))
fmod_p, fmod = binary_op("fmod", np.fmod, lambda ans, x, y: 1.0, lambda ans, x, y: -trunc(x / y))
remainder = mod


def _emit_mod(args: list[str], params: dict, bind: Any) -> str:
    """``np.mod``, or for integers modulo a power of two (periodic grid indices, hash
    buckets) a bitwise and: ``x & (m - 1)`` is the floor modulo of two's-complement
    integers, negative ones included (~0.8 us on 1,024 int64 where ``np.mod`` costs
    ~2.7)."""
    eqn = getattr(bind, "eqn", None)
    if eqn is not None:
        x, m = eqn.invars
        x_aval, m_val = getattr(x, "aval", None), getattr(m, "val", None)
        if (x_aval is not None and x_aval.dtype.kind in "iu"
                and eqn.outvars[0].aval.dtype == x_aval.dtype
                and isinstance(m_val, (int, np.integer)) and not isinstance(m_val, bool)
                and m_val > 0 and m_val & (m_val - 1) == 0):
            return f"({args[0]} & {bind(type(m_val)(m_val - 1))})"
    return f"{bind(np.mod)}({args[0]}, {args[1]})"


mod_p.emit = _emit_mod
# |x| with the sign of y: slope +-1 in x (+1 where the signs of x and y agree, read off
# the sign bits, so it is defined at x = 0 and at -0.0), 0 in y (the jump at y = 0 has
# measure zero, as for sign)
copysign_p, copysign = binary_op("copysign", np.copysign,
                                 lambda ans, x, y: copysign(1.0, x) * copysign(1.0, y), None)

# no complex extension in NumPy (hypot, arctan2, cbrt, mod...), or none with these rules
for _p in (cbrt_p, deg2rad_p, rad2deg_p, arctan2_p, hypot_p, logaddexp_p, logaddexp2_p, mod_p,
           fmod_p, copysign_p):
    real_only(_p, "NumPy defines it for real numbers only")

# ---------------------------------------------------------------- binary, zero derivative
floor_divide_p, floor_divide = binary_op("floor_divide", np.floor_divide, None, None)
equal_p, equal = binary_op("equal", _scalar_fast(operator.eq, np.equal),
                           None, None)
not_equal_p, not_equal = binary_op("not_equal", _scalar_fast(operator.ne, np.not_equal),
                                   None, None)
less_p, less = binary_op("less", _scalar_fast(operator.lt, np.less),
                         None, None)
less_equal_p, less_equal = binary_op("less_equal", _scalar_fast(operator.le, np.less_equal),
                                     None, None)
greater_p, greater = binary_op("greater", _scalar_fast(operator.gt, np.greater),
                               None, None)
greater_equal_p, greater_equal = binary_op("greater_equal", _scalar_fast(operator.ge, np.greater_equal),
                                           None, None)
for _p in (equal_p, not_equal_p, less_p, less_equal_p, greater_p, greater_equal_p):
    _p.emit = emit.numpy_call(_p.name)
logical_and_p, logical_and = binary_op("logical_and", np.logical_and, None, None)
logical_or_p, logical_or = binary_op("logical_or", np.logical_or, None, None)
logical_xor_p, logical_xor = binary_op("logical_xor", np.logical_xor, None, None)
heaviside_p, heaviside = binary_op("heaviside", np.heaviside, None, None)

# ---------------------------------------------------------------- bitwise, zero derivative
# integer and boolean operands only (NumPy raises on floats); unsigned arithmetic wraps
bitwise_and_p, bitwise_and = binary_op("bitwise_and", np.bitwise_and, None, None)
bitwise_or_p, bitwise_or = binary_op("bitwise_or", np.bitwise_or, None, None)
bitwise_xor_p, bitwise_xor = binary_op("bitwise_xor", np.bitwise_xor, None, None)
left_shift_p, left_shift = binary_op("left_shift", np.left_shift, None, None)
right_shift_p, right_shift = binary_op("right_shift", np.right_shift, None, None)
invert_p, invert = unary_op("invert", np.invert, None)
bitwise_and_p.emit = emit.infix("&")
bitwise_or_p.emit = emit.infix("|")
bitwise_xor_p.emit = emit.infix("^")
left_shift_p.emit = emit.infix("<<")
right_shift_p.emit = emit.infix(">>")
invert_p.emit = emit.prefix("~")
bitwise_not = bitwise_invert = invert
# the next representable float after x towards y (a step of the dtype's grid)
nextafter_p, nextafter = binary_op("nextafter", np.nextafter, None, None)
nextafter_p.emit = emit.numpy_call("nextafter")
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift

# ---------------------------------------------------------------- selection and dtype
select_p = Primitive("select", np.where)
defjvp(select_p, None, lambda t, ans, c, x, y: where(c, t, 0.0),
       lambda t, ans, c, x, y: where(c, 0.0, t))
defvjp(select_p, None, lambda ct, ans, c, x, y: where(c, ct, 0.0),
       lambda ct, ans, c, x, y: where(c, 0.0, ct), broadcasting=True)
select_p.emit = emit.numpy_call("where")


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """`numpy.where(condition, x, y)`; the derivative flows to the chosen side.

    A NaN or inf in the branch *not* chosen still poisons reverse mode through
    ``0 * inf``; guard the input of the unsafe branch with a second ``where``
    (the double-where pattern).

    Args:
        condition: a boolean array.
        x: values where ``condition`` holds.
        y: values elsewhere (broadcast together).

    Returns:
        The elementwise choice; with only ``condition``, the indices where it holds (as ``numpy.nonzero``).

    >>> import xform, xform.numpy as np
    >>> np.where(np.array([True, False]), 1.0, -1.0).tolist()
    [1.0, -1.0]
    >>> xform.grad(lambda v: np.where(v > 0, v, 0.0))(2.0).item()
    1.0
    """
    if x is None and y is None:
        return nonzero(condition)
    return bind(select_p, condition, x, y)


def nonzero(a: Any) -> tuple[Any, ...]:
    """`numpy.nonzero`: needs a concrete array (the result's size depends on values).

    Args:
        a: a concrete array (a traced one needs concrete values).

    Returns:
        A tuple of integer arrays, one per dimension, of the indices of nonzero entries.

    >>> import xform.numpy as np
    >>> [i.tolist() for i in np.nonzero(np.array([[0.0, 1.0], [2.0, 0.0]]))]
    [[0, 1], [1, 0]]
    """
    if isinstance(a, Tracer):
        a = a._concrete("nonzero()")
    return np.nonzero(a)


def clip(a: Any, a_min: Any = None, a_max: Any = None, *,
         min: Any = None, max: Any = None) -> Any:  # noqa: A002 - NumPy 2's keywords
    """`numpy.clip`; the derivative is 1 inside the interval and 0 outside.
    ``min``/``max`` are NumPy 2's spellings of ``a_min``/``a_max``.

    Args:
        a: an array.
        a_min: the lower bound (None: none).
        a_max: the upper bound (None: none).
        min: the lower bound, by NumPy 2's name.
        max: the upper bound, by NumPy 2's name.

    Returns:
        ``a`` clipped; the derivative is 1 inside the bounds, 0 outside and 1/2 at a bound.

    >>> import xform, xform.numpy as np
    >>> np.clip(np.array([-1.0, 0.5, 2.0]), 0.0, 1.0).tolist()
    [0.0, 0.5, 1.0]
    >>> xform.grad(lambda v: np.sum(np.clip(v, 0.0, 1.0)))(np.array([-1.0, 0.5])).tolist()
    [0.0, 1.0]
    """
    if (min is not None and a_min is not None) or (max is not None and a_max is not None):
        raise ValueError("clip: pass either a_min/a_max or min/max, not both")
    a_min = min if min is not None else a_min
    a_max = max if max is not None else a_max
    if a_min is not None:
        a = maximum(a, a_min)
    if a_max is not None:
        a = minimum(a, a_max)
    return a


convert_p = Primitive("convert_element_type", lambda x, dtype: as_operand(x).astype(dtype))


def _convert_transpose(ct: Any, ans: Any, x: Any, dtype: Any) -> Any:
    # the adjoint of embedding reals in the complex plane is the real part (said
    # explicitly: a complex-to-real cast would warn and reads as a silent loss)
    if np.iscomplexobj(ct) and not np.iscomplexobj(x):
        ct = bind(real_p, ct)
    return bind(convert_p, ct, dtype=dtype_of(x))


deflinear(convert_p, _convert_transpose)
convert_p.identities = algebra.pass_through()  # a cast to the dtype it has
keep_zero_preserving(convert_p)
convert_nondiff_p, _ = nondiff_op("convert_to_integer",
                                  lambda x, dtype: as_operand(x).astype(dtype))


def astype(x: Any, dtype: Any, *, copy: bool = True) -> Any:
    """`x.astype(dtype)` (and NumPy's `copy` keyword): differentiable between inexact
    dtypes, constant otherwise. A traced value is immutable, so it is never copied; a
    NumPy array is, unless ``copy=False`` and the dtype already matches (as NumPy does).

    Args:
        x: an array or scalar (traced or not).
        dtype: the target dtype.
        copy: whether a concrete NumPy array is copied when its dtype already matches.

    Returns:
        ``x`` converted to ``dtype``.

    >>> import xform, xform.numpy as np
    >>> np.astype(np.array([1.7, 2.2]), np.int64).tolist()
    [1, 2]
    >>> float(xform.grad(lambda x: np.astype(x, np.float32) * 2.0)(1.0))
    2.0

    >>> import numpy as onp
    >>> a = onp.ones(2)
    >>> astype(a, onp.float64) is a, astype(a, onp.float64, copy=False) is a
    (False, True)
    """
    dtype = np.dtype(dtype)
    if dtype_of(x) == dtype and (isinstance(x, Tracer) or not copy):
        return x
    if dtype.kind in 'fc' and dtype_of(x).kind in 'fc':
        return bind(convert_p, x, dtype=dtype)
    return bind(convert_nondiff_p, x, dtype=dtype)


# ---------------------------------------------------------------- complex parts
def is_complex(x: Any) -> bool:
    dt = dtype_of(x) if hasattr(x, "dtype") or np.isscalar(x) else np.asarray(x).dtype
    return bool(np.issubdtype(dt, np.complexfloating))


real_p = Primitive("real", lambda x: np.real(x))
imag_p = Primitive("imag", lambda x: np.imag(x))
conj_p = Primitive("conj", lambda x: np.conjugate(x))


# The cotangent of a real-valued result (real, imag, abs) is real, but mixed
# real/complex arithmetic upstream may hand back one with a (meaningless) imaginary
# part: the transposes drop it with `real`, which keeps them exact.
def _real_vjp(ct: Any, ans: Any, x: Any) -> Any:
    ct = real(ct)
    return astype(ct, dtype_of(x)) if is_complex(x) else ct


def _imag_vjp(ct: Any, ans: Any, x: Any) -> Any:
    # Im(t) = Re(-1j * t): the transpose sends a real ct to -1j * ct
    ct = real(ct)
    return ct * -1j if is_complex(x) else ct * 0.0


deflinear(real_p, _real_vjp)
deflinear(imag_p, _imag_vjp)
deflinear(conj_p, lambda ct, ans, x: bind(conj_p, ct))
for _p in (real_p, imag_p, conj_p):
    keep_zero_preserving(_p)


def real(val: Any) -> Any:
    """`numpy.real`: the real part (the array itself when it is real).

    Args:
        val: an array (real or complex).

    Returns:
        The real part.

    >>> import xform, xform.numpy as np
    >>> np.real(np.array([1.0 + 2.0j])).tolist()
    [1.0]
    """
    return bind(real_p, val) if is_complex(val) else val


def imag(val: Any) -> Any:
    """`numpy.imag`: the imaginary part (constant zeros for a real array).

    Args:
        val: an array (real or complex).

    Returns:
        The imaginary part (zeros for a real array).

    >>> import xform, xform.numpy as np
    >>> np.imag(np.array([1.0 + 2.0j])).tolist()
    [2.0]
    """
    if is_complex(val):
        return bind(imag_p, val)
    return zeros(shape_of(val), dtype_of(val), like_value(val))


def conj(x: Any) -> Any:
    """`numpy.conj`: complex conjugate (the array itself when it is real).

    Args:
        x: an array (real or complex).

    Returns:
        The complex conjugate.

    >>> import xform, xform.numpy as np
    >>> np.conj(np.array([1.0 + 2.0j])).tolist()
    [(1-2j)]
    """
    return bind(conj_p, x) if is_complex(x) else x


conjugate = conj


def abs_squared(x: Any) -> Any:
    """``|x|^2`` as a real array: ``x * x``, or ``Re(x * conj(x))`` for complex ``x``
    (the squares that variances and 2-norms sum)."""
    return real(x * conj(x)) if is_complex(x) else x * x


def real_dtype(x: Any) -> np.dtype:
    """The real dtype of ``x``'s precision (float64 for complex128)."""
    return np.finfo(dtype_of(x)).dtype if is_complex(x) else dtype_of(x)


def _unit_phase(ans: Any, x: Any) -> Any:
    """``x / |x|`` (0 at 0) for complex ``x``: unlike the non-differentiable
    ``sign``, it carries its own derivative into second order."""
    safe = where(ans == 0, 1.0, ans)
    return where(ans == 0, 0.0, x / safe)


def _abs_jvp(tangents: Any, ans: Any, args: Any, params: dict) -> Any:
    t, x = tangents[0], args[0]
    if t is None:
        return None
    if is_complex(x):
        # |z| is not holomorphic: d|z| = Re(conj(z / |z|) dz)
        return real(conj(_unit_phase(ans, x)) * t)
    return t * sign(x)


def _abs_vjp(ct: Any, ans: Any, x: Any) -> Any:
    if is_complex(x):
        return real(ct) * conj(_unit_phase(ans, x))
    return ct * sign(x)


abs_p.jvp = _abs_jvp
defvjp(abs_p, _abs_vjp)


def abs(x: Any) -> Any:  # noqa: A001 - NumPy's name
    """Elementwise `numpy.abs`; derivative ``sign(x)`` (0 at 0), and for complex ``x``
    the gradient ``conj(x) / |x|`` (JAX's convention).

    Args:
        x: an array (real or complex).

    Returns:
        ``|x|`` elementwise; its derivative at 0 is 0.

    >>> import xform, xform.numpy as np
    >>> np.abs(np.array([-2.0, 3.0])).tolist()
    [2.0, 3.0]
    >>> xform.grad(np.abs)(-2.0).item()
    -1.0
    """
    return absolute(x)


fabs = absolute

# ---------------------------------------------------------------- stop_gradient
stop_gradient_p = Primitive("stop_gradient", lambda x: x, nondiff=True)
stop_gradient_p.emit = emit.operand(0)  # only derivatives see it: it runs as its operand
stop_gradient_p.identities = algebra.pass_through()


def stop_gradient(x: Any) -> Any:
    """``x`` with no derivative flowing through it (pytrees allowed).

    Args:
        x: an array, scalar or pytree of them.

    Returns:
        ``x``'s values, treated as constants by every transform.

    >>> import xform, xform.numpy as np
    >>> float(xform.grad(lambda x: x * xform.stop_gradient(x))(3.0))
    3.0
    """
    return tree_map(lambda v: bind(stop_gradient_p, v), x)


# ---------------------------------------------------------------- batching
for _p in (add_p, subtract_p, multiply_p, divide_p, select_p):
    batch_broadcasting(_p)
for _p in (pow_scalar_p, convert_p, convert_nondiff_p, round_p, real_p, imag_p, conj_p,
           stop_gradient_p):
    batch_unary(_p)


# ---------------------------------------------------------------- XLA lowerings
# (the ufuncs and the ops with an emitter lower to jax.numpy by default)
def _lower_astype(ctx: Any, x: Any, dtype: Any) -> Any:
    return ctx.jnp.asarray(x).astype(dtype)


pow_scalar_p.lower = lambda ctx, x, y: ctx.jnp.power(x, y)
round_p.lower = jnp_call("round", "decimals")
convert_p.lower = convert_nondiff_p.lower = _lower_astype
real_p.lower = jnp_call("real")
imag_p.lower = jnp_call("imag")
conj_p.lower = jnp_call("conjugate")
# jax.grad of an exported function must see it too
stop_gradient_p.lower = lambda ctx, x: ctx.lax.stop_gradient(x)
