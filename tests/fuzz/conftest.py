"""Hypothesis profiles for the fuzz suite.

``ci`` (the default): 200 examples per property, no deadline: quick enough for every run.
``long``: 20 000 examples per property, for a soak run::

    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz -q

``HYPOTHESIS_SEED=<n>`` (hypothesis' own ``--hypothesis-seed``) reproduces a run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
