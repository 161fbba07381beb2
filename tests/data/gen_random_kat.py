"""Generate tests/data/random_kat.json: known-answer vectors of jax.random (threefry2x32,
JAX's default, partitionable layout) that tests/test_random.py pins xform.random to.

Run once, with JAX installed (the tests themselves do not need it):

    python tests/data/gen_random_kat.py

x64 is enabled so that float64/int64/uint64 draws exist; float32 cases pass the dtype.
"""
from __future__ import annotations

import json
import pathlib

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from jax import random  # noqa: E402

F32, F64 = np.float32, np.float64
KEYS = {"0": 0, "42": 42, "big": 2 ** 40 + 5}


def cases(k: jax.Array) -> dict:
    logits = np.log(np.array([[0.1, 0.2, 0.7, 0.0001, 0.5]] * 3) + np.arange(3)[:, None])
    return {
        "split": random.split(k),
        "split3": random.split(k, 3),
        "split22": random.split(k, (2, 2)),
        "fold_in7": random.fold_in(k, 7),
        "fold_in_big": random.fold_in(k, 2 ** 31 + 3),
        "bits32": random.bits(k, (3, 4), np.uint32),
        "bits64": random.bits(k, (5,), np.uint64),
        "bits16": random.bits(k, (7,), np.uint16),
        "bits8": random.bits(k, (7,), np.uint8),
        "bits32_scalar": random.bits(k, (), np.uint32),
        "uniform32": random.uniform(k, (2, 3), F32),
        "uniform64": random.uniform(k, (5,), F64),
        "uniform64_range": random.uniform(k, (4,), F64, -3.0, 5.0),
        "uniform16": random.uniform(k, (6,), np.float16),
        "normal32": random.normal(k, (10,), F32),
        "normal64": random.normal(k, (10,), F64),
        "normal_c128": random.normal(k, (3,), np.complex128),
        "truncated32": random.truncated_normal(k, -2.0, 2.0, (8,), F32),
        "truncated64": random.truncated_normal(k, -0.5, 1.5, (8,), F64),
        "bernoulli64": random.bernoulli(k, 0.3, (20,)),
        "bernoulli32": random.bernoulli(k, np.float32(0.7), (20,)),
        "gumbel64": random.gumbel(k, (6,), F64),
        "exponential32": random.exponential(k, (6,), F32),
        "categorical": random.categorical(k, logits, shape=(4, 3)),
        "categorical_axis0": random.categorical(k, logits.T, axis=0),
        "categorical_noreplace": random.categorical(k, logits[0], shape=(3,), replace=False),
        "randint64": random.randint(k, (10,), 0, 100),
        "randint32": random.randint(k, (10,), -5, 5, np.int32),
        "randint8": random.randint(k, (10,), -128, 128, np.int8),
        "randint_uint8": random.randint(k, (10,), 0, 256, np.uint8),
        "randint_scalar": random.randint(k, (), 3, 17),
        "randint_big": random.randint(k, (6,), -2 ** 40, 2 ** 41),
        "permutation10": random.permutation(k, 10),
        "permutation2000": random.permutation(k, 2000),
        "permutation_rows": random.permutation(k, np.arange(12).reshape(3, 4), axis=1),
        "permutation_independent": random.permutation(k, np.arange(12).reshape(3, 4), 1, True),
        "choice_replace": random.choice(k, 10, (5,)),
        "choice_noreplace": random.choice(k, np.arange(20) * 3, (6,), replace=False),
        "choice_p": random.choice(k, 5, (7,), p=np.array([0.1, 0.2, 0.3, 0.15, 0.25])),
        "choice_p_noreplace": random.choice(k, 5, (3,), False, np.array([0.1, 0.2, 0.3, 0.15, 0.25])),
        "gamma64": random.gamma(k, np.array([0.3, 1.0, 2.5, 7.0]), dtype=F64),
        "gamma32": random.gamma(k, 2.0, (5,), F32),
        "loggamma64": random.loggamma(k, np.array([0.01, 0.5, 3.0]), dtype=F64),
        "beta64": random.beta(k, 2.0, 5.0, (5,), F64),
        "dirichlet64": random.dirichlet(k, np.array([0.5, 1.0, 4.0]), (2,), F64),
    }


def encode(v: jax.Array) -> dict:
    a = np.asarray(v)
    if a.dtype.kind == "c":
        return {"dtype": str(a.dtype), "shape": list(a.shape),
                "real": a.real.ravel().tolist(), "imag": a.imag.ravel().tolist()}
    return {"dtype": str(a.dtype), "shape": list(a.shape),
            "values": a.astype(np.float64 if a.dtype.kind == "f" else a.dtype).ravel().tolist()}


out = {"jax_version": jax.__version__, "keys": {}, "cases": {}}
for name, seed in KEYS.items():
    k = random.PRNGKey(seed)
    out["keys"][name] = {"seed": seed, "key": np.asarray(k).tolist()}
    out["cases"][name] = {case: encode(v) for case, v in cases(k).items()}
path = pathlib.Path(__file__).with_name("random_kat.json")
path.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
print(f"wrote {path} ({path.stat().st_size} bytes)")
