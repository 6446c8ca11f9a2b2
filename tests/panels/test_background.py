"""The panels' one background runner (:class:`BackgroundJob`) and their shared error list."""

from __future__ import annotations

import threading
import time

import pytest

from neurosim_nb.panels import _model_choice, network_explorer, synapses
from neurosim_nb.panels._background import EXPECTED_ERRORS, BackgroundJob


def test_expected_errors_are_defined_once():
    assert OverflowError in EXPECTED_ERRORS and ValueError in EXPECTED_ERRORS
    for module in (_model_choice, network_explorer, synapses):
        assert module.EXPECTED_ERRORS is EXPECTED_ERRORS


def test_no_panel_starts_its_own_thread():
    import inspect

    from neurosim_nb.panels import neuron_explorer, phase_plane

    for module in (network_explorer, synapses, neuron_explorer, phase_plane, _model_choice):
        assert "threading" not in inspect.getsource(module), module.__name__


def test_stale_turns_true_for_a_newer_request():
    job = BackgroundJob(delay_s=0.0)
    started, release, seen = threading.Event(), threading.Event(), []

    def first(progress):
        started.set()
        assert release.wait(10)
        seen.append(progress.stale())

    job.submit(first)
    assert started.wait(5) and not job.pending
    job.submit(lambda progress: seen.append("second"))
    assert job.pending
    release.set()
    assert job.wait(10) and seen == [True, "second"] and not job.busy


def test_queue_mode_finishes_and_applies_the_running_request():
    """supersede=False: the run in progress ends and is applied; requests made meanwhile
    are coalesced into one more run (the latest)."""
    job = BackgroundJob(delay_s=0.0, supersede=False)
    started, release, applied = threading.Event(), threading.Event(), []

    def slow(progress):
        started.set()
        assert release.wait(10)
        progress(1.0)                       # never raises in this mode
        return "slow"

    job.submit(slow, lambda r, e: applied.append(r))
    assert started.wait(5)
    for k in range(3):
        job.submit(lambda progress, k=k: k, lambda r, e: applied.append(r))
    assert job.busy and job.pending
    release.set()
    assert job.wait(10)
    assert applied == ["slow", 2]


def test_run_now_runs_in_the_caller_after_a_running_request():
    job = BackgroundJob(delay_s=0.0)
    started, order = threading.Event(), []

    def slow(progress):
        started.set()
        time.sleep(0.2)
        order.append("worker")

    job.submit(slow)
    assert started.wait(5)
    caller = threading.get_ident()
    assert job.run_now(lambda progress: order.append("now") or threading.get_ident()) == caller
    assert order == ["worker", "now"] and job.wait(5) and not job.busy
    with pytest.raises(ZeroDivisionError):
        job.run_now(lambda progress: 1 / 0)
    assert not job.busy


def test_without_background_requests_run_at_once():
    job = BackgroundJob(background=False)
    out = []
    job.submit(lambda progress: 6 * 7, lambda r, e: out.append(r))
    job.submit(lambda progress: 1 / 0, lambda r, e: out.append(type(e).__name__))
    assert out == [42, "ZeroDivisionError"] and not job.busy
