"""Basic behaviour of the transforms on small functions."""
import numpy as onp

import xform
import xform.numpy as np


def test_grad_tanh_matches_closed_form():
    assert onp.isclose(xform.grad(np.tanh)(1.0), 1 - onp.tanh(1.0) ** 2)


def test_no_perturbation_confusion():
    assert xform.grad(lambda x: xform.grad(lambda y: x * y)(1.0))(2.0) == 1.0


def test_jvp_of_sin():
    out, t = xform.jvp(np.sin, (0.5,), (2.0,))
    assert onp.isclose(out, onp.sin(0.5)) and onp.isclose(t, 2 * onp.cos(0.5))
