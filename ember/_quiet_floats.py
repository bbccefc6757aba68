"""NumPy's floating-point warnings raised inside ember are silenced, because torch computes inf and NaN quietly.

`ember.tensor([1.0]) / 0` is inf in both libraries, but NumPy would also print "RuntimeWarning: divide by
zero encountered". A warnings filter limited to ember's own modules costs nothing until a warning is
raised, where wrapping every op in np.errstate would cost about a microsecond per op. NumPy warnings
from the user's own code are untouched.
"""

from __future__ import annotations

import warnings

FLOAT_WARNING = r"(divide by zero|invalid value|overflow|underflow) encountered"


def install() -> None:
    """Ignore NumPy floating-point RuntimeWarnings whose source is an ember module."""
    warnings.filterwarnings("ignore", message=FLOAT_WARNING, category=RuntimeWarning, module=r"ember(\.|$)")
