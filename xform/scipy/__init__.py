"""``xform.scipy``: differentiable versions of the SciPy functions users call.

Submodules: ``special``, ``stats``, ``linalg``, ``signal``, ``integrate``.
"""
