"""``xform.numpy.random``: NumPy's random API, passed through as autograd does.

``import xform.numpy.random as npr`` gives NumPy's samplers (``npr.randn``,
``npr.normal``, ``npr.seed``, ``npr.RandomState``, ``npr.default_rng``, ...) with
NumPy's signatures, streams and global state: ``npr.seed(0)`` and
``numpy.random.seed(0)`` seed the same generator, and ``npr.RandomState(0).randn(3)``
is bit for bit ``numpy.random.RandomState(0).randn(3)``.

Draws are constants: they are not differentiated. A traced value passed to a
sampler raises a ``TypeError``; to differentiate through a sample, draw a
standard one and transform it (the reparameterisation ``mu + sigma * npr.randn()``).

Every draw, from the module's functions or a generator's methods, passes through
:func:`draw` (as do the ``rvs`` of ``xform.scipy.stats``): the one place to add
behaviour to all of them.

May import: the core (the family's order: ``xform/numpy/__init__.py``).
"""
from __future__ import annotations

import warnings

from typing import Any, Callable

import numpy as np

from ..core.staging import warn_if_staged as _warn_if_staged
from ..core.trace import Tracer as _Tracer

__all__ = [
    "beta", "binomial", "bytes", "chisquare", "choice", "dirichlet", "exponential", "f",
    "gamma", "geometric", "get_state", "gumbel", "hypergeometric", "laplace", "logistic",
    "lognormal", "logseries", "multinomial", "multivariate_normal", "negative_binomial",
    "noncentral_chisquare", "noncentral_f", "normal", "pareto", "permutation", "poisson",
    "power", "rand", "randint", "randn", "random", "random_sample", "ranf", "rayleigh",
    "sample", "seed", "set_state", "shuffle", "standard_cauchy", "standard_exponential",
    "standard_gamma", "standard_normal", "standard_t", "triangular", "uniform", "vonmises",
    "wald", "weibull", "zipf",
    "Generator", "RandomState", "SeedSequence", "BitGenerator", "MT19937", "PCG64",
    "PCG64DXSM", "Philox", "SFC64", "default_rng",
]

BitGenerator, SeedSequence = np.random.BitGenerator, np.random.SeedSequence
MT19937, PCG64, PCG64DXSM = np.random.MT19937, np.random.PCG64, np.random.PCG64DXSM
Philox, SFC64 = np.random.Philox, np.random.SFC64


def _holds_tracer(x: Any) -> bool:
    if isinstance(x, _Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_holds_tracer(e) for e in x)
    if isinstance(x, dict):
        return any(_holds_tracer(e) for e in x.values())
    return False


def _draw(where: str, sampler: Callable[..., Any], args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> Any:
    """``sampler(*args, **kwargs)``, one of NumPy's or SciPy's samplers (``where`` is the
    name the user called, for messages).

    The single entry of every draw of this module, of its generators and of the
    distributions' ``rvs``."""
    if _holds_tracer(args) or _holds_tracer(kwargs):
        raise TypeError(
            f"{where} received a traced value: random draws are constants "
            "and are not differentiated. Draw with constant arguments and transform the "
            "sample with xform.numpy, e.g. `loc + scale * npr.standard_normal(size)` instead "
            "of `npr.normal(loc, scale, size)`, or `x[npr.permutation(len(x))]` instead of "
            "`npr.permutation(x)`.")
    # under jit the draw happens once, at trace time, and is frozen into the program
    _warn_if_staged(where, stacklevel=4)
    return sampler(*args, **kwargs)


def _global(name: str) -> Callable[..., Any]:
    """``numpy.random.<name>`` on NumPy's global generator, looked up at each call so that
    it follows ``numpy.random.seed``/``set_state`` exactly as NumPy's own function does."""
    def sampler(*args: Any, **kwargs: Any) -> Any:
        return _draw(f"xform.numpy.random.{name}", getattr(np.random, name), args, kwargs)

    sampler.__name__ = sampler.__qualname__ = name
    sampler.__doc__ = (f"`numpy.random.{name}` (NumPy's global generator); the result is a "
                       "constant, not differentiated.\n\n"
                       f"Args:\n    *args: as `numpy.random.{name}`'s (constants, not traced "
                       "values).\n    **kwargs: the same, by keyword.\n\n"
                       f"Returns:\n    What `numpy.random.{name}` returns.\n"
                       + _example(name))
    return sampler


# arguments tried, on a private generator, for the example of a sampler's docstring
_EXAMPLE_ARGS: tuple[tuple[Any, ...], ...] = (
    (), (3,), (0.5, 3), (2.0, 3.0, 3), (5, 0.5, 3), ([0.2, 0.8], 3), (3, [0.5, 0.5]),
    ([0.0, 1.0], [[1.0, 0.5], [0.5, 2.0]], 3))
_PROBE = np.random.RandomState(0)


def _example(name: str) -> str:
    """A doctest showing that the sampler follows NumPy's global stream exactly."""
    if name in ("seed", "get_state", "set_state", "shuffle"):
        probe = {"seed": "0", "get_state": "", "set_state": "numpy.random.get_state()",
                 "shuffle": "numpy.arange(3)"}[name]
        return ("\nExample:\n    >>> import numpy, xform.numpy as np\n"
                f"    >>> _ = np.random.{name}({probe})\n")
    for values in _EXAMPLE_ARGS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                getattr(np.random, name)  # ranf, sample: aliases on the module only
                getattr(_PROBE, name if hasattr(_PROBE, name) else "random_sample")(*values)
        except (TypeError, ValueError, AttributeError):
            continue
        args = ", ".join(repr(v) for v in values)
        return ("\nExample:\n    >>> import numpy, xform.numpy as np\n"
                f"    >>> np.random.seed(0); a = np.random.{name}({args})\n"
                f"    >>> numpy.random.seed(0); b = numpy.random.{name}({args})\n"
                "    >>> bool(numpy.all(a == b))\n    True\n")
    return ""


# the legacy global-state functions, as autograd programs call them
beta, binomial, bytes, chisquare = _global("beta"), _global("binomial"), _global("bytes"), \
    _global("chisquare")
choice, dirichlet, exponential, f = _global("choice"), _global("dirichlet"), \
    _global("exponential"), _global("f")
gamma, geometric, get_state, gumbel = _global("gamma"), _global("geometric"), \
    _global("get_state"), _global("gumbel")
hypergeometric, laplace, logistic = _global("hypergeometric"), _global("laplace"), \
    _global("logistic")
lognormal, logseries, multinomial = _global("lognormal"), _global("logseries"), \
    _global("multinomial")
multivariate_normal, negative_binomial = _global("multivariate_normal"), \
    _global("negative_binomial")
noncentral_chisquare, noncentral_f = _global("noncentral_chisquare"), _global("noncentral_f")
normal, pareto, permutation, poisson = _global("normal"), _global("pareto"), \
    _global("permutation"), _global("poisson")
power, rand, randint, randn, random = _global("power"), _global("rand"), _global("randint"), \
    _global("randn"), _global("random")
random_sample, ranf, rayleigh, sample = _global("random_sample"), _global("ranf"), \
    _global("rayleigh"), _global("sample")
seed, set_state, shuffle = _global("seed"), _global("set_state"), _global("shuffle")
standard_cauchy, standard_exponential = _global("standard_cauchy"), \
    _global("standard_exponential")
standard_gamma, standard_normal, standard_t = _global("standard_gamma"), \
    _global("standard_normal"), _global("standard_t")
triangular, uniform, vonmises, wald = _global("triangular"), _global("uniform"), \
    _global("vonmises"), _global("wald")
weibull, zipf = _global("weibull"), _global("zipf")


def _route_methods(cls: type, base: type) -> None:
    """Override each public sampling method of ``base`` on its subclass ``cls`` so that
    it runs through `draw` (same signature, same stream)."""
    for name in dir(base):
        method = getattr(base, name)
        if name.startswith("_") or not callable(method) or name in ("spawn",):
            continue

        def routed(self: Any, *args: Any, _name: str = name, _method: Any = method,
                   **kwargs: Any) -> Any:
            return _draw(f"xform.numpy.random.{cls.__name__}.{_name}", _method.__get__(self),
                        args, kwargs)

        routed.__name__ = routed.__qualname__ = name
        # a pointer, not NumPy's docstring (whose examples would run as our doctests)
        routed.__doc__ = (f"`numpy.random.{base.__name__}.{name}`; the result is a constant, "
                          "not differentiated.")
        setattr(cls, name, routed)


class RandomState(np.random.RandomState):
    """`numpy.random.RandomState` (a subclass: same streams, ``isinstance`` holds);
    its draws are constants.

    >>> import xform.numpy.random as npr
    >>> import numpy
    >>> bool((npr.RandomState(0).randn(3) == numpy.random.RandomState(0).randn(3)).all())
    True
    """

    def __reduce__(self) -> Any:
        # NumPy's reduction rebuilds the base class; keep the subclass (and its routing)
        _, args, *rest = super().__reduce__()
        return (RandomState, args, *rest)


class Generator(np.random.Generator):
    """`numpy.random.Generator` (a subclass: same streams, ``isinstance`` holds); its
    draws are constants.

    >>> import numpy, xform.numpy.random as npr
    >>> g = npr.Generator(numpy.random.PCG64(0))
    >>> isinstance(g, numpy.random.Generator), g.integers(10, size=3).shape
    (True, (3,))
    """

    def __reduce__(self) -> Any:
        _, args, *rest = super().__reduce__()
        return (Generator, args, *rest)


_route_methods(RandomState, np.random.RandomState)
_route_methods(Generator, np.random.Generator)


def default_rng(seed: Any = None) -> Generator:
    """`numpy.random.default_rng`: a PCG64 `Generator` (a given ``Generator`` or bit
    generator is used as it is, sharing its state).

    Args:
        seed: None (fresh entropy), an int or sequence of ints, a NumPy ``SeedSequence``,
            a bit generator or a ``Generator``.

    Returns:
        An `xform.numpy.random.Generator`; its streams match NumPy's for the same seed.

    >>> import numpy, xform.numpy.random as npr
    >>> bool(numpy.all(npr.default_rng(3).random(3) == numpy.random.default_rng(3).random(3)))
    True

    >>> import xform.numpy.random as npr
    >>> npr.default_rng(0).normal(size=2).shape
    (2,)
    """
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, np.random.Generator):
        return Generator(seed.bit_generator)
    if isinstance(seed, np.random.BitGenerator):
        return Generator(seed)
    return Generator(np.random.PCG64(seed))
