"""Truncated Taylor polynomials in one or two variables ("jets").

The derivatives of the incomplete gamma and beta functions with respect to their
shape parameters have no closed form. We get them by running the series and
continued fractions that evaluate those functions on jets instead of numbers:
each arithmetic step then carries the exact Taylor coefficients of its result,
so the last step holds the derivatives of the limit (the iterations converge
together with their derivatives).

A jet stores ``c[(i, j)] = d^(i+j) f / da^i db^j / (i! j!)`` for ``i <= I``,
``j <= J``; absent entries are zero. Coefficients are anything with ``+ - * /``:
NumPy arrays inside primitive implementations, traced ``xform.numpy`` values
inside derivative rules (so those rules differentiate again).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

Order = tuple[int, int]


class Jet:
    """A truncated Taylor polynomial ``sum c[i, j] h^i k^j`` (``i <= I``, ``j <= J``)."""

    __slots__ = ("c", "order")
    __array_ufunc__ = None  # ``ndarray op jet`` defers to the jet's reflected operator

    def __init__(self, c: dict[Order, Any], order: Order) -> None:
        self.c = c
        self.order = order

    # ------------------------------------------------------------------ constructors
    @staticmethod
    def const(value: Any, order: Order) -> "Jet":
        return Jet({(0, 0): value}, order)

    @staticmethod
    def var(value: Any, order: Order, axis: int) -> "Jet":
        """The variable itself: ``value + h`` (axis 0) or ``value + k`` (axis 1)."""
        c: dict[Order, Any] = {(0, 0): value}
        key = (1, 0) if axis == 0 else (0, 1)
        if key[0] <= order[0] and key[1] <= order[1]:
            c[key] = 1.0
        return Jet(c, order)

    def keys(self) -> list[Order]:
        """Every coefficient position, each after all the positions below it."""
        return [(i, j) for i in range(self.order[0] + 1) for j in range(self.order[1] + 1)]

    def value(self) -> Any:
        return self.c[(0, 0)]

    def derivative(self, i: int, j: int) -> Any:
        """``d^(i+j) f / da^i db^j`` (0 when the coefficient is absent)."""
        return self.c.get((i, j), 0.0) * float(math.factorial(i) * math.factorial(j))

    # ------------------------------------------------------------------ arithmetic
    def _lift(self, other: Any) -> "Jet":
        return other if isinstance(other, Jet) else Jet.const(other, self.order)

    def __add__(self, other: Any) -> "Jet":
        other = self._lift(other)
        c = dict(self.c)
        for k, v in other.c.items():
            c[k] = c[k] + v if k in c else v
        return Jet(c, self.order)

    __radd__ = __add__

    def __neg__(self) -> "Jet":
        return Jet({k: -v for k, v in self.c.items()}, self.order)

    def __sub__(self, other: Any) -> "Jet":
        return self + (-self._lift(other))

    def __rsub__(self, other: Any) -> "Jet":
        return self._lift(other) + (-self)

    def __mul__(self, other: Any) -> "Jet":
        if not isinstance(other, Jet):
            return Jet({k: v * other for k, v in self.c.items()}, self.order)
        I, J = self.order
        c: dict[Order, Any] = {}
        for (p, q), u in self.c.items():
            for (r, s), v in other.c.items():
                k = (p + r, q + s)
                if k[0] <= I and k[1] <= J:
                    c[k] = c[k] + u * v if k in c else u * v
        return Jet(c, self.order)

    __rmul__ = __mul__

    def reciprocal(self) -> "Jet":
        """``1 / self`` by solving ``self * r == 1`` coefficient by coefficient."""
        r0 = 1.0 / self.c[(0, 0)]
        r: dict[Order, Any] = {(0, 0): r0}
        rest = [(k, v) for k, v in self.c.items() if k != (0, 0)]
        for i, j in self.keys()[1:]:
            acc = None
            for (p, q), v in rest:
                m = (i - p, j - q)
                if m in r:
                    acc = v * r[m] if acc is None else acc + v * r[m]
            if acc is not None:
                r[(i, j)] = -acc * r0
        return Jet(r, self.order)

    def __truediv__(self, other: Any) -> "Jet":
        if not isinstance(other, Jet):
            return Jet({k: v / other for k, v in self.c.items()}, self.order)
        return self * other.reciprocal()

    def __rtruediv__(self, other: Any) -> "Jet":
        return self.reciprocal() * other

    # ------------------------------------------------------------------ functions
    def compose(self, derivs: Sequence[Any]) -> "Jet":
        """``f(self)`` from ``derivs[n] = f^(n)(self.value())``, n = 0 .. I + J:
        the non-constant part is nilpotent, so Taylor's series of ``f`` is finite."""
        g = Jet({k: v for k, v in self.c.items() if k != (0, 0)}, self.order)
        out = Jet.const(derivs[0], self.order)
        power = None
        for n in range(1, sum(self.order) + 1):
            if not g.c:
                break
            power = g if power is None else power * g
            out = out + power * (derivs[n] / float(math.factorial(n)))
        return out

    def exp(self, exp: Callable[[Any], Any]) -> "Jet":
        e = exp(self.value())
        return self.compose([e] * (sum(self.order) + 1))

    def log(self, log: Callable[[Any], Any]) -> "Jet":
        x = self.value()
        derivs = [log(x)] + [(-1.0) ** (n - 1) * float(math.factorial(n - 1)) / x ** n
                             for n in range(1, sum(self.order) + 1)]
        return self.compose(derivs)

    def gammaln(self, gammaln: Callable[[Any], Any],
                polygamma: Callable[[int, Any], Any]) -> "Jet":
        x = self.value()
        return self.compose([gammaln(x)] + [polygamma(n - 1, x)
                                            for n in range(1, sum(self.order) + 1)])
