"""The one place ember imports mpi4py: on first use, with an error naming the extra that installs it."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install 'ember[distributed]'"


def available() -> bool:
    """Whether mpi4py is installed (found without importing it, so MPI is not started)."""
    return importlib.util.find_spec("mpi4py") is not None


def mpi():
    """mpi4py's MPI module (importing it starts MPI in this process)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(
            f"ember.distributed needs mpi4py and an MPI library, which the 'distributed' extra installs: {INSTALL_HINT}"
            f" ({e})"
        ) from None
    except RuntimeError as e:  # mpi4py is there but cannot load an MPI library
        raise RuntimeError(f"ember.distributed could not load an MPI library ({e}): {INSTALL_HINT}") from None
    return MPI
