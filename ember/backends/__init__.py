"""torch.backends stand-in: what tutorials query to pick a device, answered for ember's CPU-only NumPy
backend (no cuDNN, MPS, MKL, MKL-DNN or OpenMP), with the settable flags torch has."""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
