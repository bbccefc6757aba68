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
