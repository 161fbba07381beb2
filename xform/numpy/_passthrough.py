"""NumPy's own helpers that involve no differentiation, re-exported unchanged so that
code written against NumPy (``import xform.numpy as np``) keeps working: error and
print settings, dtype questions, file input and output, index builders that take only
shapes, and the ``testing`` and ``typing`` modules.

Passing them through is safe: none of them computes a value a derivative could flow
through, and a traced value that reaches one of them (``np.save(f, x)`` inside ``grad``)
meets the tracer's conversion error, which says why and what to do instead, never a
silently detached array (``frombuffer`` and ``fromfile``, which read bytes and files,
give NumPy's own TypeError). Functions that compute from array values (``digitize``,
``isin``, ``bincount``...) are xform's own: see ``_values.py``.

This file imports no other file of the family.
"""
from __future__ import annotations

import numpy as _np

# NumPy's floating-point error and print settings (xform's own warnings follow them)
geterr, seterr, geterrcall, seterrcall = _np.geterr, _np.seterr, _np.geterrcall, _np.seterrcall
get_printoptions, set_printoptions, printoptions = (_np.get_printoptions, _np.set_printoptions,
                                                    _np.printoptions)
array2string, array_repr, array_str = _np.array2string, _np.array_repr, _np.array_str
format_float_positional, format_float_scientific = (_np.format_float_positional,
                                                    _np.format_float_scientific)

# questions about dtypes and shapes, and the scalar type hierarchy
can_cast, promote_types, min_scalar_type = _np.can_cast, _np.promote_types, _np.min_scalar_type
broadcast_shapes, isscalar = _np.broadcast_shapes, _np.isscalar
generic, complexfloating, signedinteger, unsignedinteger = (_np.generic, _np.complexfloating,
                                                            _np.signedinteger, _np.unsignedinteger)
object_, str_, bytes_ = _np.object_, _np.str_, _np.bytes_

# files (a traced value written out raises the conversion error)
save, savez, savez_compressed, load = _np.save, _np.savez, _np.savez_compressed, _np.load
savetxt, loadtxt, genfromtxt = _np.savetxt, _np.loadtxt, _np.genfromtxt
fromfile, frombuffer = _np.fromfile, _np.frombuffer

# index builders: integers from shapes (the results index traced arrays as usual)
ndindex, indices, unravel_index, ravel_multi_index = (_np.ndindex, _np.indices,
                                                      _np.unravel_index, _np.ravel_multi_index)
triu_indices, tril_indices, diag_indices = _np.triu_indices, _np.tril_indices, _np.diag_indices
ix_, mgrid, ogrid = _np.ix_, _np.mgrid, _np.ogrid

# modules: assertions for tests (on results, which are NumPy arrays) and annotations
testing, typing = _np.testing, _np.typing

#: the functions, classes and objects above, in the order of the reference page's list
NAMES = ("geterr", "seterr", "geterrcall", "seterrcall", "get_printoptions",
         "set_printoptions", "printoptions", "array2string", "array_repr", "array_str",
         "format_float_positional", "format_float_scientific", "can_cast", "promote_types",
         "min_scalar_type", "broadcast_shapes", "isscalar", "generic", "complexfloating",
         "signedinteger", "unsignedinteger", "object_", "str_", "bytes_", "save", "savez",
         "savez_compressed", "load", "savetxt", "loadtxt", "genfromtxt", "fromfile",
         "frombuffer", "ndindex", "indices", "unravel_index", "ravel_multi_index",
         "triu_indices", "tril_indices", "diag_indices", "ix_", "mgrid", "ogrid")
#: NumPy's modules passed through: attributes, but not in ``__all__`` (whose modules are
#: xform's own namespaces)
MODULES = ("testing", "typing")
