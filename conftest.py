"""Suite-wide hooks (at the repository root: a ``tests/conftest.py`` would collide, as module
``conftest``, with ``tests/browser/conftest.py`` under ``--doctest-modules``)."""

from __future__ import annotations

BACKGROUND = "test_binder_files_install_in_a_clean_environment"


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
