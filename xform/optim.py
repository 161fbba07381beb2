"""``xform.optim``: optax-style gradient transformations over pytrees.

An optimiser is a :class:`GradientTransformation`, a pair of pure functions:
``state = opt.init(params)`` and ``updates, state = opt.update(grads, state, params)``;
:func:`apply_updates` adds the updates to the parameters. Transformations compose with
:func:`chain`, learning rates may be schedules (functions of the step count), and since
everything is written with ``xform.numpy`` a whole training step can be ``jit``-compiled
(and differentiated). The updates follow optax's published rules; leaves keep their
dtype (float32 parameters get float32 updates).

>>> import numpy as np
>>> import xform
>>> from xform import optim
>>> opt = optim.adam(0.1)
>>> params = {"w": np.array([1.0, -2.0])}
>>> state = opt.init(params)
>>> grads = xform.grad(lambda p: (p["w"] ** 2).sum())(params)
>>> updates, state = opt.update(grads, state, params)
>>> optim.apply_updates(params, updates)["w"]
array([ 0.9, -1.9])

(``xform.optimizers`` keeps autograd's loop-running optimisers.)
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from . import numpy as xnp
from .core.rules import dtype_of as _dtype_of
from .tree_util import tree_leaves as _tree_leaves, tree_map as _tree_map

__all__ = ["GradientTransformation", "apply_updates", "chain", "identity", "scale",
           "scale_by_learning_rate", "scale_by_schedule", "trace", "scale_by_adam",
           "scale_by_rms", "scale_by_rss", "scale_by_lion", "add_decayed_weights",
           "clip_by_global_norm", "global_norm", "sgd", "adam", "adamw", "rmsprop",
           "adagrad", "lion", "constant_schedule", "linear_schedule", "exponential_decay",
           "cosine_decay_schedule", "warmup_cosine_decay_schedule",
           "piecewise_constant_schedule", "join_schedules"]

_Params = Any
_Updates = Any
_Schedule = Callable[[Any], Any]
_ScalarOrSchedule = float | _Schedule


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(updates, state, params=None) ->
    (updates, state)``.



    >>> import numpy, xform
    >>> tx = xform.optim.sgd(0.1)
    >>> params = {"w": numpy.ones(2)}
    >>> state = tx.init(params)
    >>> updates, state = tx.update({"w": numpy.array([1.0, -1.0])}, state, params)
    >>> xform.optim.apply_updates(params, updates)["w"].tolist()
    [0.9, 1.1]
    """
    init: Callable[[_Params], Any]
    update: Callable[..., tuple[_Updates, Any]]


class _EmptyState(NamedTuple):
    pass


class _CountState(NamedTuple):
    count: Any


class _TraceState(NamedTuple):
    trace: Any


class _ScaleByAdamState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class _ScaleByRmsState(NamedTuple):
    nu: Any


class _ScaleByRssState(NamedTuple):
    sum_of_squares: Any


class _ScaleByLionState(NamedTuple):
    count: Any
    mu: Any


def _zeros_like(params: _Params) -> Any:
    return _tree_map(lambda p: xnp.zeros_like(p), params)


def _count0() -> np.ndarray:
    return np.zeros((), np.int32)


def _like(value: Any, leaf: Any) -> Any:
    """A scalar coefficient in the dtype of ``leaf`` (so float32 stays float32)."""
    dt = _dtype_of(leaf)
    if isinstance(value, (int, float)):
        return np.asarray(value, dt)[()]
    return xnp.astype(value, dt)


def _inc(count: Any) -> Any:
    return count + np.int32(1)


def apply_updates(params: _Params, updates: _Updates) -> _Params:
    """``params + updates``, leaf by leaf, in the parameters' dtypes.

    Args:
        params: the parameters (a pytree).
        updates: a pytree like ``params``.

    Returns:
        The updated parameters, in the parameters' dtypes.

    >>> apply_updates({"a": np.array([1.0])}, {"a": np.array([0.5])})
    {'a': array([1.5])}
    """
    return _tree_map(lambda p, u: xnp.astype(p + u, _dtype_of(p)), params, updates)


def identity() -> GradientTransformation:
    """Leaves the updates unchanged.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.identity()
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [1.0, -2.0]
    """
    return GradientTransformation(lambda params: _EmptyState(),
                                  lambda updates, state, params=None: (updates, state))


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """The transformations applied in order (their states form a tuple).

    Args:
        *transforms: the transformations, applied left to right.

    Returns:
        A :class:`GradientTransformation`.

    >>> opt = chain(clip_by_global_norm(1.0), sgd(0.1))
    >>> u, _ = opt.update({"w": np.array([3.0, 4.0])}, opt.init({"w": np.zeros(2)}))
    >>> u["w"]
    array([-0.06, -0.08])
    """
    def init(params: _Params) -> tuple[Any, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(updates: _Updates, state: Any, params: _Params = None) -> tuple[_Updates, Any]:
        new = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new.append(s)
        return updates, tuple(new)

    return GradientTransformation(init, update)


def scale(step_size: Any) -> GradientTransformation:
    """Multiplies the updates by ``step_size``.

    Args:
        step_size: the factor.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale(0.5)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [0.5, -1.0]
    """
    def update(updates: _Updates, state: Any, params: _Params = None) -> tuple[_Updates, Any]:
        return _tree_map(lambda g: g * _like(step_size, g), updates), state
    return GradientTransformation(lambda params: _EmptyState(), update)


def scale_by_schedule(step_size_fn: _Schedule) -> GradientTransformation:
    """Multiplies the updates by ``step_size_fn(count)``, ``count`` the steps taken.

    Args:
        step_size_fn: a schedule ``count -> float``.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale_by_schedule(lambda count: 0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [0.1, -0.2]
    """
    def update(updates: _Updates, state: _CountState, params: _Params = None
               ) -> tuple[_Updates, _CountState]:
        s = step_size_fn(state.count)
        return _tree_map(lambda g: g * _like(s, g), updates), _CountState(_inc(state.count))
    return GradientTransformation(lambda params: _CountState(_count0()), update)


def scale_by_learning_rate(learning_rate: _ScalarOrSchedule) -> GradientTransformation:
    """Multiplies by ``-learning_rate`` (descent); a callable is a schedule.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale_by_learning_rate(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [-0.1, 0.2]
    """
    if callable(learning_rate):
        lr = learning_rate
        return scale_by_schedule(lambda count: -lr(count))
    return scale(-learning_rate)


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: ``t = g + decay * t``; the update is ``t`` (``g + decay * t`` with
    ``nesterov``).

    Args:
        decay: the decay of the running average.
        nesterov: use Nesterov's momentum.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.trace(0.9)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [1.0, -2.0]
    """
    def update(updates: _Updates, state: _TraceState, params: _Params = None
               ) -> tuple[_Updates, _TraceState]:
        new = _tree_map(lambda g, t: g + _like(decay, g) * t, updates, state.trace)
        out = _tree_map(lambda g, t: g + _like(decay, g) * t, updates, new) if nesterov else new
        return out, _TraceState(new)
    return GradientTransformation(lambda params: _TraceState(_zeros_like(params)), update)


def _bias_corrected(moment: Any, decay: float, count: Any) -> Any:
    correction = 1.0 - xnp.power(decay, xnp.astype(count, np.float64))
    return _tree_map(lambda m: m / _like(correction, m), moment)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                  eps_root: float = 0.0) -> GradientTransformation:
    """Adam's rescaling (Kingma & Ba): ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g**2``,
    update ``m_hat / (sqrt(v_hat + eps_root) + eps)`` with bias-corrected moments.

    Args:
        b1: the decay of the first moment.
        b2: the decay of the second moment.
        eps: added to the denominator.
        eps_root: added inside the square root.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale_by_adam()
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [1.0, -1.0]
    """
    def init(params: _Params) -> _ScaleByAdamState:
        return _ScaleByAdamState(_count0(), _zeros_like(params), _zeros_like(params))

    def update(updates: _Updates, state: _ScaleByAdamState, params: _Params = None
               ) -> tuple[_Updates, _ScaleByAdamState]:
        mu = _tree_map(lambda g, m: _like(b1, g) * m + _like(1 - b1, g) * g, updates, state.mu)
        nu = _tree_map(lambda g, v: _like(b2, g) * v + _like(1 - b2, g) * (g * g), updates,
                      state.nu)
        count = _inc(state.count)
        mu_hat, nu_hat = _bias_corrected(mu, b1, count), _bias_corrected(nu, b2, count)
        out = _tree_map(lambda m, v: m / (xnp.sqrt(v + _like(eps_root, v)) + _like(eps, v)),
                       mu_hat, nu_hat)
        return out, _ScaleByAdamState(count, mu, nu)

    return GradientTransformation(init, update)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0
                 ) -> GradientTransformation:
    """RMSProp's rescaling: ``v = decay v + (1-decay) g**2``, update ``g / sqrt(v + eps)``
    (optax's default ``eps_in_sqrt=True``).

    Args:
        decay: the decay of the running average.
        eps: added to the denominator.
        initial_scale: the initial running average.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale_by_rms()
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [3.162278, -3.162278]
    """
    def init(params: _Params) -> _ScaleByRmsState:
        return _ScaleByRmsState(_tree_map(lambda p: xnp.full_like(p, initial_scale), params))

    def update(updates: _Updates, state: _ScaleByRmsState, params: _Params = None
               ) -> tuple[_Updates, _ScaleByRmsState]:
        nu = _tree_map(lambda g, v: _like(decay, g) * v + _like(1 - decay, g) * (g * g),
                      updates, state.nu)
        out = _tree_map(lambda g, v: g / xnp.sqrt(v + _like(eps, v)), updates, nu)
        return out, _ScaleByRmsState(nu)

    return GradientTransformation(init, update)


def scale_by_rss(initial_accumulator_value: float = 0.1, eps: float = 1e-7
                 ) -> GradientTransformation:
    """Adagrad's rescaling: ``s = s + g**2``, update ``g / sqrt(s + eps)`` (0 where
    ``s == 0``).

    Args:
        initial_accumulator_value: the initial sum of squares.
        eps: added to the denominator.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale_by_rss()
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [0.953463, -0.98773]
    """
    def init(params: _Params) -> _ScaleByRssState:
        return _ScaleByRssState(_tree_map(lambda p: xnp.full_like(p, initial_accumulator_value),
                                        params))

    def update(updates: _Updates, state: _ScaleByRssState, params: _Params = None
               ) -> tuple[_Updates, _ScaleByRssState]:
        sums = _tree_map(lambda g, s: s + g * g, updates, state.sum_of_squares)
        out = _tree_map(lambda g, s: xnp.where(s > 0, g / xnp.sqrt(s + _like(eps, s)),
                                              xnp.zeros_like(g)), updates, sums)
        return out, _ScaleByRssState(sums)

    return GradientTransformation(init, update)


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    """Lion's rescaling (Chen et al. 2023): update ``sign(b1 m + (1-b1) g)``, then
    ``m = b2 m + (1-b2) g``.

    Args:
        b1: the decay of the first moment.
        b2: the decay of the second moment.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.scale_by_lion()
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [1.0, -1.0]
    """
    def init(params: _Params) -> _ScaleByLionState:
        return _ScaleByLionState(_count0(), _zeros_like(params))

    def update(updates: _Updates, state: _ScaleByLionState, params: _Params = None
               ) -> tuple[_Updates, _ScaleByLionState]:
        out = _tree_map(lambda g, m: xnp.sign(_like(1 - b1, g) * g + _like(b1, g) * m),
                       updates, state.mu)
        mu = _tree_map(lambda g, m: _like(b2, g) * m + _like(1 - b2, g) * g, updates, state.mu)
        return out, _ScaleByLionState(_inc(state.count), mu)

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float = 0.0) -> GradientTransformation:
    """Adds ``weight_decay * params`` to the updates (decoupled weight decay).

    Args:
        weight_decay: the decay factor on the parameters.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.add_decayed_weights(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [1.05, -1.95]
    """
    def update(updates: _Updates, state: Any, params: _Params = None) -> tuple[_Updates, Any]:
        if params is None:
            raise ValueError("xform.optim.add_decayed_weights needs the parameters: call "
                             "opt.update(grads, state, params).")
        return _tree_map(lambda g, p: g + _like(weight_decay, g) * p, updates, params), state
    return GradientTransformation(lambda params: _EmptyState(), update)


def global_norm(updates: _Updates) -> Any:
    """The Euclidean norm of all leaves together.

    Args:
        updates: a pytree of arrays.

    Returns:
        ``sqrt(sum of squares of every leaf)``.

    >>> float(global_norm({"a": np.array([3.0]), "b": np.array([4.0])}))
    5.0
    """
    return xnp.sqrt(sum(xnp.sum(xnp.square(g)) for g in _tree_leaves(updates)))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescales the updates to global norm ``max_norm`` when it is larger.

    Args:
        max_norm: the largest global norm let through.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.clip_by_global_norm(1.0)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [0.447214, -0.894427]
    """
    def update(updates: _Updates, state: Any, params: _Params = None) -> tuple[_Updates, Any]:
        norm = global_norm(updates)
        keep = norm < max_norm
        safe = xnp.where(keep, 1.0, norm)
        return _tree_map(lambda g: xnp.where(keep, g, g / _like(safe, g) * _like(max_norm, g)),
                        updates), state
    return GradientTransformation(lambda params: _EmptyState(), update)


# ---------------------------------------------------------------- the usual optimisers
def sgd(learning_rate: _ScalarOrSchedule, momentum: float | None = None,
        nesterov: bool = False) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.
        momentum: the momentum decay (None: no momentum).
        nesterov: use Nesterov's momentum.

    Returns:
        A :class:`GradientTransformation`.

    >>> u, _ = sgd(0.5).update(np.array([2.0]), sgd(0.5).init(np.zeros(1)))
    >>> u
    array([-1.])
    """
    parts = [trace(momentum, nesterov)] if momentum is not None else []
    return chain(*parts, scale_by_learning_rate(learning_rate))


def adam(learning_rate: _ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8, eps_root: float = 0.0) -> GradientTransformation:
    """Adam: :func:`scale_by_adam`, then the learning rate.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.
        b1: the decay of the first moment.
        b2: the decay of the second moment.
        eps: added to the denominator.
        eps_root: added inside the square root.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.adam(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [-0.1, 0.1]
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root), scale_by_learning_rate(learning_rate))


def adamw(learning_rate: _ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, eps_root: float = 0.0, weight_decay: float = 1e-4
          ) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter): Adam with decoupled weight decay.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.
        b1: the decay of the first moment.
        b2: the decay of the second moment.
        eps: added to the denominator.
        eps_root: added inside the square root.
        weight_decay: the decay factor on the parameters.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.adamw(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [-0.100005, 0.099995]
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(learning_rate))


def rmsprop(learning_rate: _ScalarOrSchedule, decay: float = 0.9, eps: float = 1e-8,
            initial_scale: float = 0.0, momentum: float | None = None,
            nesterov: bool = False) -> GradientTransformation:
    """RMSProp (uncentred), optionally with momentum.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.
        decay: the decay of the running average.
        eps: added to the denominator.
        initial_scale: the initial running average.
        momentum: the momentum decay (None: no momentum).
        nesterov: use Nesterov's momentum.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.rmsprop(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [-0.316228, 0.316228]
    """
    parts = [scale_by_rms(decay, eps, initial_scale)]
    if momentum is not None:
        parts.append(trace(momentum, nesterov))
    return chain(*parts, scale_by_learning_rate(learning_rate))


def adagrad(learning_rate: _ScalarOrSchedule, initial_accumulator_value: float = 0.1,
            eps: float = 1e-7) -> GradientTransformation:
    """Adagrad.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.
        initial_accumulator_value: the initial sum of squares.
        eps: added to the denominator.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.adagrad(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [-0.095346, 0.098773]
    """
    return chain(scale_by_rss(initial_accumulator_value, eps),
                 scale_by_learning_rate(learning_rate))


def lion(learning_rate: _ScalarOrSchedule, b1: float = 0.9, b2: float = 0.99,
         weight_decay: float = 1e-3) -> GradientTransformation:
    """Lion: the sign of an interpolated momentum, with decoupled weight decay.

    Args:
        learning_rate: a float, or a schedule ``count -> float``.
        b1: the decay of the first moment.
        b2: the decay of the second moment.
        weight_decay: the decay factor on the parameters.

    Returns:
        A :class:`GradientTransformation`.

    >>> import numpy, xform
    >>> tx = xform.optim.lion(0.1)
    >>> params, grads = numpy.array([0.5, 0.5]), numpy.array([1.0, -2.0])
    >>> updates, state = tx.update(grads, tx.init(params), params)
    >>> [round(float(u), 6) for u in updates]
    [-0.10005, 0.09995]
    """
    return chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(learning_rate))


# ---------------------------------------------------------------- schedules
def _step(count: Any) -> Any:
    return xnp.astype(count, np.float64) if hasattr(count, "dtype") else float(count)


def constant_schedule(value: float) -> _Schedule:
    """``value`` at every step.

    Args:
        value: the value.

    Returns:
        A schedule ``count -> value``.

    >>> import xform
    >>> schedule = xform.optim.constant_schedule(0.1)
    >>> [round(float(schedule(i)), 6) for i in [0, 10]]
    [0.1, 0.1]
    """
    return lambda count: value


def linear_schedule(init_value: float, end_value: float, transition_steps: int,
                    transition_begin: int = 0) -> _Schedule:
    """From ``init_value`` to ``end_value`` linearly over ``transition_steps`` steps.

    Args:
        init_value: the value at step 0.
        end_value: the final value.
        transition_steps: the number of steps of the transition.
        transition_begin: the step the transition starts at.

    Returns:
        A schedule ``count -> value``.

    >>> import xform
    >>> schedule = xform.optim.linear_schedule(1.0, 0.0, 10)
    >>> [round(float(schedule(i)), 6) for i in [0, 5, 20]]
    [1.0, 0.5, 0.0]
    """
    def schedule(count: Any) -> Any:
        if transition_steps <= 0:
            return init_value
        frac = xnp.clip(_step(count) - transition_begin, 0, transition_steps) / transition_steps
        return init_value + frac * (end_value - init_value)
    return schedule


def exponential_decay(init_value: float, transition_steps: int, decay_rate: float,
                      transition_begin: int = 0, staircase: bool = False,
                      end_value: float | None = None) -> _Schedule:
    """``init_value * decay_rate ** ((count - transition_begin) / transition_steps)``
    (the exponent floored with ``staircase``), bounded by ``end_value``.

    Args:
        init_value: the value at step 0.
        transition_steps: the steps per factor ``decay_rate``.
        decay_rate: the factor.
        transition_begin: the step the decay starts at.
        staircase: decay in whole steps of ``transition_steps``.
        end_value: a bound the value does not pass.

    Returns:
        A schedule ``count -> value``.

    >>> float(exponential_decay(1.0, 10, 0.5)(20))
    0.25
    """
    if transition_steps <= 0:
        raise ValueError("xform.optim.exponential_decay: transition_steps must be positive; "
                         f"got {transition_steps}.")

    def schedule(count: Any) -> Any:
        p = xnp.maximum(_step(count) - transition_begin, 0.0) / transition_steps
        if staircase:
            p = xnp.floor(p)
        value = init_value * xnp.power(decay_rate, p)
        if end_value is not None:
            value = (xnp.maximum(value, end_value) if decay_rate < 1
                     else xnp.minimum(value, end_value))
        return value
    return schedule


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0,
                          exponent: float = 1.0) -> _Schedule:
    """Cosine decay from ``init_value`` to ``alpha * init_value`` over ``decay_steps``.

    Args:
        init_value: the value at step 0.
        decay_steps: the length of the decay.
        alpha: the final value, as a fraction of ``init_value``.
        exponent: the power of the cosine factor.

    Returns:
        A schedule ``count -> value``.

    >>> float(cosine_decay_schedule(1.0, 100)(50))
    0.5
    """
    if decay_steps <= 0:
        raise ValueError("xform.optim.cosine_decay_schedule: decay_steps must be positive; "
                         f"got {decay_steps}.")

    def schedule(count: Any) -> Any:
        t = xnp.minimum(_step(count), decay_steps) / decay_steps
        cosine = 0.5 * (1.0 + xnp.cos(np.pi * t))
        return init_value * ((1.0 - alpha) * cosine ** exponent + alpha)
    return schedule


def join_schedules(schedules: Sequence[_Schedule], boundaries: Sequence[int]) -> _Schedule:
    """``schedules[i]`` from ``boundaries[i-1]`` on, each counting from its boundary.

    Args:
        schedules: the schedules.
        boundaries: the steps where the next schedule takes over.

    Returns:
        A schedule ``count -> value``.

    >>> import xform
    >>> o = xform.optim
    >>> schedule = o.join_schedules([o.constant_schedule(1.0), o.linear_schedule(1.0, 0.0, 4)], [2])
    >>> [round(float(schedule(i)), 6) for i in [0, 2, 4, 6]]
    [1.0, 1.0, 0.5, 0.0]
    """
    def schedule(count: Any) -> Any:
        step = _step(count)
        value = schedules[0](count)
        for boundary, sched in zip(boundaries, schedules[1:]):
            value = xnp.where(step >= boundary, sched(step - boundary), value)
        return value
    return schedule


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                 decay_steps: int, end_value: float = 0.0,
                                 exponent: float = 1.0) -> _Schedule:
    """Linear warm-up from ``init_value`` to ``peak_value`` over ``warmup_steps``, then
    cosine decay to ``end_value`` at step ``decay_steps`` (counted from 0).

    Args:
        init_value: the value at step 0.
        peak_value: the value after the warm-up.
        warmup_steps: the length of the warm-up.
        decay_steps: the total length, warm-up included.
        end_value: the final value.
        exponent: the power of the cosine factor.

    Returns:
        A schedule ``count -> value``.

    >>> s = warmup_cosine_decay_schedule(0.0, 1.0, 10, 110)
    >>> float(s(5)), float(s(10)), float(s(60)), float(s(110))
    (0.5, 1.0, 0.5, 0.0)
    """
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return join_schedules(
        [linear_schedule(init_value, peak_value, warmup_steps),
         cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent)],
        [warmup_steps])


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: dict[int, float] | None = None
                                ) -> _Schedule:
    """``init_value`` multiplied by ``scale`` at each step ``boundary`` passed.

    Args:
        init_value: the value at step 0.
        boundaries_and_scales: ``{step: factor}``.

    Returns:
        A schedule ``count -> value``.

    >>> s = piecewise_constant_schedule(1.0, {10: 0.1, 20: 0.5})
    >>> float(s(5)), float(s(15)), float(s(25))
    (1.0, 0.1, 0.05)
    """
    items = sorted((boundaries_and_scales or {}).items())

    def schedule(count: Any) -> Any:
        step = _step(count)
        value: Any = init_value
        for boundary, factor in items:
            value = value * xnp.where(step >= boundary, factor, 1.0)
        return value
    return schedule
