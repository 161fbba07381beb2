"""Collection settings shared by the whole suite."""

# The generators in tests/data rebuild the committed known-answer files from JAX; they are
# scripts run by hand, not tests, and importing them would need JAX (an optional extra).
collect_ignore_glob = ["data/*.py"]
