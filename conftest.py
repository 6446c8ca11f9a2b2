"""Suite-wide hooks and settings (at the repository root: a ``tests/conftest.py`` would
collide, as module ``conftest``, with ``tests/browser/conftest.py`` under
``--doctest-modules``)."""

from __future__ import annotations

import os

BACKGROUND = "test_binder_files_install_in_a_clean_environment"

#: the environment variable that sets the examples per hypothesis test (a long run: 5000)
FUZZ_EXAMPLES_ENV = "NEUROSIM_NB_FUZZ_EXAMPLES"

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a test extra; a run without it has no fuzz tests
    pass
else:
    # The one profile of every hypothesis test of the suite (issue 20): new inputs every run
    # (no example database, not derandomized), no deadline (the first example of a test may
    # compile kernels), 300 examples unless the environment asks for a long run. The checks
    # suppressed are about speed and input size, which the tests bound themselves; a test
    # overrides the profile only where it says why.
    settings.register_profile(
        "neurosim_nb", max_examples=int(os.environ.get(FUZZ_EXAMPLES_ENV, "300")),
        deadline=None, database=None, derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much])
    settings.load_profile("neurosim_nb")


def pytest_collection_finish(session):
    """Start the Binder install check (subprocesses: a fresh venv, pip, a cold warm-up) in the
    background as soon as it is known to be part of the run, so it overlaps the other tests;
    the test itself waits for it (``tests/test_binder.py``)."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        if item.name == BACKGROUND:
            item.module.start_install_in_background()
            return
