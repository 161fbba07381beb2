"""xform: differentiate ordinary NumPy code, forward and reverse, with composable transforms.

>>> import xform
>>> import xform.numpy as np
>>> float(xform.grad(lambda x: np.sin(x) * x)(0.0))
0.0
"""
from . import numpy, tree_util
from .api import (elementwise_grad, grad, grad_named, jvp, linearize, make_jaxpr,
                  multigrad_dict, stop_gradient, value_and_grad, vjp)
from .core.trace import ConcretizationError, LeakedTracerError, TracerError

__version__ = "0.1.0"

__all__ = ["numpy", "tree_util", "grad", "value_and_grad", "elementwise_grad", "grad_named",
           "multigrad_dict", "jvp", "vjp", "linearize", "make_jaxpr", "stop_gradient",
           "ConcretizationError", "LeakedTracerError", "TracerError"]
from .batching_api import hessian, hvp, jacfwd, jacobian, jacrev, linear_transpose, vmap

__all__ += ["vmap", "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "linear_transpose"]
