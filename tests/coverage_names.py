"""The function names of /work/shared/COVERAGE.md, by module (a copy: that file
lives outside the repository). Dotted names are attributes of attributes
(``norm.logpdf`` is ``xform.scipy.stats.norm.logpdf``).

``missing_names(section)`` lists the names a module does not have yet; the
numpy section is pinned by tests/test_coverage_list.py, the other sections'
owners add their own tests with it.
"""
from __future__ import annotations

import importlib

_CONTINUOUS_METHODS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")

NAMES: dict[str, list[str]] = {
    "numpy": [
        # elementwise
        "abs", "absolute", "fabs", "negative", "positive", "sign", "add", "subtract",
        "multiply", "divide", "true_divide", "floor_divide", "mod", "remainder", "fmod",
        "power", "pow", "float_power", "square", "sqrt", "cbrt", "reciprocal", "exp", "exp2",
        "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2", "sin", "cos",
        "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh",
        "arccosh", "arctanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh",
        "hypot", "deg2rad", "rad2deg", "degrees", "radians", "sinc", "maximum", "minimum",
        "fmax", "fmin", "clip", "where", "nan_to_num", "real", "imag", "conj", "conjugate",
        "angle", "real_if_close", "heaviside", "floor", "ceil", "round", "rint", "trunc",
        # reductions and scans
        "sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "ptp", "average",
        "nansum", "nanmean", "cumsum", "cumprod", "diff", "trace", "median", "percentile",
        "quantile", "sort", "partition",
        # shape, construction, indexing
        "reshape", "ravel", "transpose", "permute_dims", "moveaxis", "rollaxis", "swapaxes",
        "expand_dims", "squeeze", "broadcast_to", "broadcast_arrays", "atleast_1d",
        "atleast_2d", "atleast_3d", "concatenate", "stack", "hstack", "vstack", "dstack",
        "column_stack", "split", "array_split", "hsplit", "vsplit", "dsplit", "tile", "repeat",
        "pad", "roll", "rot90", "flip", "fliplr", "flipud", "diag", "diagonal", "diagflat",
        "tril", "triu", "kron", "outer", "inner", "dot", "vdot", "matmul", "tensordot",
        "einsum", "cross", "array", "asarray", "full", "full_like", "zeros_like", "ones_like",
        "linspace", "take", "take_along_axis", "meshgrid", "select", "interp", "polyval",
        "trapezoid", "convolve", "correlate", "cov", "corrcoef", "gradient", "astype",
        # non-differentiable but traceable
        "argmax", "argmin", "argsort", "searchsorted", "isnan", "isinf", "isfinite",
        "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
        "logical_and", "logical_or", "logical_xor", "logical_not", "all", "any", "nonzero",
        "unique", "shape", "ndim", "size", "dtype", "empty_like", "zeros", "ones", "empty",
        "eye", "arange",
        # issue 11: ordinary code that was refused
        "append", "r_", "c_", "row_stack", "iscomplex", "isreal", "copysign", "random",
        "float64", "float32", "int64",
    ],
    "numpy.linalg": [
        "inv", "pinv", "det", "slogdet", "solve", "cholesky", "eigh", "eigvalsh", "eig", "svd",
        "qr", "lstsq", "norm", "matrix_power", "multi_dot", "tensorsolve",
    ],
    "numpy.fft": [
        "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
        "rfftn", "irfftn", "fftshift", "ifftshift",
    ],
    "scipy.special": [
        "logsumexp", "expit", "logit", "log_expit", "log_softmax", "softmax", "erf", "erfc",
        "erfinv", "erfcinv", "gamma", "gammaln", "digamma", "psi", "polygamma", "rgamma",
        "multigammaln", "gammainc", "gammaincc", "beta", "betaln", "betainc", "xlogy",
        "xlog1py", "entr", "gammasgn", "j0", "j1", "jn", "y0", "y1", "yn", "i0", "i1", "iv", "ive",
    ],
    "scipy.stats": [
        *(f"{dist}.{m}" for dist in ("norm", "t", "beta", "gamma", "chi2", "laplace", "cauchy",
                                     "logistic", "expon", "uniform")
          for m in _CONTINUOUS_METHODS),
        "multivariate_normal.pdf", "multivariate_normal.logpdf", "multivariate_normal.entropy",
        "dirichlet.pdf", "dirichlet.logpdf",
        "poisson.pmf", "poisson.logpmf", "poisson.cdf",
    ],
    "scipy.linalg": [
        "solve_triangular", "cho_solve", "cho_factor", "cholesky", "expm", "sqrtm",
        "solve_sylvester", "solve_banded", "lu_solve",
    ],
    "scipy.signal": ["convolve"],
    "scipy.integrate": ["odeint"],
}


def missing_names(section: str, names: list[str] | None = None) -> list[str]:
    """The names of ``section`` (or just ``names``) that ``xform.<section>`` lacks;
    all of them when the module itself does not import."""
    wanted = NAMES[section] if names is None else names
    try:
        module = importlib.import_module(f"xform.{section}")
    except ImportError:
        return list(wanted)
    missing = []
    for name in wanted:
        obj: object = module
        for part in name.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                missing.append(name)
                break
    return missing
