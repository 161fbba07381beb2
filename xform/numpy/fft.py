"""``xform.numpy.fft``: differentiable discrete Fourier transforms (NumPy's signatures).

May import: ``_fft``.

Forward mode applies the same transform to the tangent; reverse mode applies its
transpose (JAX's convention, no complex conjugation). See ``_fft.py``.
"""
from ..core.rules import accept_sequences_in as _accept_sequences_in
from ._fft import (fft, fft2, fftfreq, fftn, fftshift, ifft, ifft2, ifftn, ifftshift, irfft,
                   irfft2, irfftn, rfft, rfft2, rfftfreq, rfftn)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq"]

# lists and tuples of traced values are read as arrays where SciPy/NumPy take array_like
_accept_sequences_in(globals())
