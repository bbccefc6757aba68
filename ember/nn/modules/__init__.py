"""The layer classes of ember.nn, re-exported from their one-concept-per-file modules."""

from __future__ import annotations

from . import (
    activation,
    container,
    conv,
    dropout,
    flatten,
    fold,
    linear,
    loss,
    module,
    normalization,
    padding,
    pooling,
    rnn,
    sparse,
)
from .activation import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .fold import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403

# Each file declares its public classes once, in its own __all__.
__all__ = [
    name
    for mod in (
        module,
        container,
        linear,
        conv,
        pooling,
        padding,
        dropout,
        flatten,
        fold,
        normalization,
        sparse,
        rnn,
        activation,
        loss,
    )
    for name in mod.__all__
]
