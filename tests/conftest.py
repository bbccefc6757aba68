import os
import sys

import pytest
from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

# Derandomized: the same examples every run, so CI results are reproducible.
settings.register_profile("ember", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("ember")


@pytest.fixture(autouse=True)
def _seed():
    import numpy as np

    import ember

    ember.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(params=["nchw", "batch_last"])
def conv_layout(request, monkeypatch):
    """Runs a test once with every convolution on NCHW columns and once on batch-last columns."""
    from ember.ops import conv

    if request.param == "batch_last":
        monkeypatch.setattr(conv, "BATCH_LAST_MIN_BATCH", 1)
        monkeypatch.setattr(conv, "BATCH_LAST_MAX_WIDTH", 1 << 30)
    else:
        monkeypatch.setattr(conv, "BATCH_LAST_MIN_BATCH", 1 << 30)
    return request.param
