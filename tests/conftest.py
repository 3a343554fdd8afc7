"""Shared test settings.

Hypothesis runs a bounded number of examples per property (the "ci" profile) so
the whole suite stays within CI's time on a 2-core machine; set
HYPOTHESIS_PROFILE=thorough locally for a deeper search.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
