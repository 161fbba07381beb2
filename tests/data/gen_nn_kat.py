"""Generate tests/data/nn_kat.json: values of jax.nn's activations (float64, x64) on a grid
reaching into the tails, and of its initialisers for fixed keys, which tests/test_nn.py
pins xform.nn to. Run once with JAX installed: ``python tests/data/gen_nn_kat.py``."""
from __future__ import annotations

import json
import pathlib

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from jax import nn, random  # noqa: E402

X = np.concatenate([[-800.0, -40.0, -6.0], np.linspace(-3, 3, 13), [6.0, 40.0, 800.0]])
M = np.array([[1.0, 2.0, 3.0, -1.0], [1000.0, 1000.0, -1000.0, 0.0], [-5.0, 0.0, 5.0, 50.0]])
ACTIVATIONS = {
    "relu": lambda x: nn.relu(x), "relu6": lambda x: nn.relu6(x),
    "leaky_relu": lambda x: nn.leaky_relu(x), "elu": lambda x: nn.elu(x),
    "celu": lambda x: nn.celu(x), "selu": lambda x: nn.selu(x),
    "gelu_tanh": lambda x: nn.gelu(x), "gelu_exact": lambda x: nn.gelu(x, approximate=False),
    "silu": lambda x: nn.silu(x), "softplus": lambda x: nn.softplus(x),
    "sigmoid": lambda x: nn.sigmoid(x), "log_sigmoid": lambda x: nn.log_sigmoid(x),
}
GRADS = {name: jax.vmap(jax.grad(f)) for name, f in ACTIVATIONS.items()}
ROWS = {
    "softmax": lambda m: nn.softmax(m), "log_softmax": lambda m: nn.log_softmax(m),
    "softmax_axis0": lambda m: nn.softmax(m, axis=0), "logsumexp": lambda m: nn.logsumexp(m, axis=-1),
    "standardize": lambda m: nn.standardize(m),
}
INITS = {
    "glorot_uniform": nn.initializers.glorot_uniform(), "glorot_normal": nn.initializers.glorot_normal(),
    "he_uniform": nn.initializers.he_uniform(), "he_normal": nn.initializers.he_normal(),
    "lecun_uniform": nn.initializers.lecun_uniform(), "lecun_normal": nn.initializers.lecun_normal(),
    "orthogonal": nn.initializers.orthogonal(),
}
out = {"x": X.tolist(), "m": M.tolist(), "jax_version": jax.__version__,
       "values": {k: np.asarray(f(X)).tolist() for k, f in ACTIVATIONS.items()},
       "grads": {k: np.asarray(g(X)).tolist() for k, g in GRADS.items()},
       "rows": {k: np.asarray(f(M)).tolist() for k, f in ROWS.items()},
       "inits": {k: np.asarray(f(random.PRNGKey(3), (4, 5), np.float64)).tolist()
                 for k, f in INITS.items()},
       "inits32": {k: np.asarray(f(random.PRNGKey(3), (3, 2, 6), np.float32)).tolist()
                   for k, f in INITS.items()}}
path = pathlib.Path(__file__).with_name("nn_kat.json")
path.write_text(json.dumps(out) + "\n")
print(f"wrote {path} ({path.stat().st_size} bytes)")
