"""xform: differentiate ordinary NumPy code, forward and reverse, with composable transforms.

>>> import xform
>>> import xform.numpy as np
>>> float(xform.grad(lambda x: np.sin(x) * x)(0.0))
0.0
"""
from . import debug, extend, lax, nn, numpy, optim, optimizers, random, test_util, tree_util
from .api import (elementwise_grad, grad, grad_named, jvp, linearize, make_jaxpr,
                  multigrad_dict, stop_gradient, value_and_grad, vjp)
from .config import config, debug_nans
from .batching_api import hessian, hvp, jacfwd, jacobian, jacrev, linear_transpose, vmap
from .core.trace import ConcretizationError, LeakedTracerError, TracerError
from .custom import checkpoint, custom_jvp, custom_vjp
from .jit import jit

__version__ = "0.1.0"

__all__ = [
    "numpy", "tree_util", "lax", "debug", "random", "nn", "optim", "optimizers", "test_util",
    "extend",
    "grad", "value_and_grad", "elementwise_grad", "grad_named", "multigrad_dict",
    "jvp", "vjp", "linearize", "linear_transpose",
    "vmap", "jacfwd", "jacrev", "jacobian", "hessian", "hvp",
    "jit", "make_jaxpr", "stop_gradient", "custom_jvp", "custom_vjp", "checkpoint",
    "ConcretizationError", "LeakedTracerError", "TracerError",
    "config", "debug_nans",
]
