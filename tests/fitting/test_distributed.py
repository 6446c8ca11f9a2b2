"""A sweep on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes on
localhost (random ports), one worker killed (SIGKILL) midway. The result must be complete
and identical, bit for bit, to the serial one: the scheduler reruns the lost tasks on the
surviving worker, and the seeds follow the points, not the workers.

About 10-20 s; the timeout is generous (a loaded 2-core machine).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import _sweep_models
import cloudpickle
import numpy as np
import pytest
import xarray as xr

from neurosim_nb.fitting import close_client, load_sweep, parameter_sweep

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DASK = Path(sys.executable).with_name("dask")
# the workers cannot import the test modules by name: ship the models by value
cloudpickle.register_pickle_by_value(_sweep_models)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def real_cluster(tmp_path):
    """(address, [worker processes], call log): a scheduler and 2 nanny-less workers."""
    if not DASK.exists():
        pytest.skip(f"no dask command next to {sys.executable}")
    log = tmp_path / "calls.log"
    env = {**os.environ, "SWEEP_CALL_LOG": str(log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--no-dashboard"], **quiet)]
    try:
        for k in range(2):
            procs.append(subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--memory-limit", "0", "--name", f"w{k}"], **quiet))
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as probe:
            probe.wait_for_workers(2, timeout=60)
        yield address, procs[1:], log
    finally:
        close_client()
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.mark.timeout(180)
def test_real_scheduler_survives_a_killed_worker(real_cluster, tmp_path):
    address, workers, log = real_cluster
    grid = {"a": np.arange(8.0), "b": np.array([0.5, 1.0, 2.0])}
    kw = dict(measures=["y", "z"], fixed={"sleep_s": 0.25}, seed=11, progress=False)
    store = tmp_path / "sweep.zarr"
    killed = {}

    def kill_midway():
        """SIGKILL worker 1 once it has computed a point and 2 of the 12 batches are in the
        store."""
        batches = store / "batches"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if batches.is_dir() and log.exists():
                done = [p for p in batches.iterdir() if not p.name.startswith(".")]
                pids = {line.split()[2] for line in log.read_text().splitlines()}
                if len(done) >= 2 and str(workers[1].pid) in pids:
                    killed["batches_done"] = len(done)
                    killed["alive"] = workers[1].poll() is None
                    workers[1].send_signal(signal.SIGKILL)
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_midway)
    killer.start()
    ds = parameter_sweep(_sweep_models.noisy_product, grid, client=address, batch_size=2,
                         store=str(store), **kw)
    killer.join()
    assert killed.get("alive"), "the worker was not running when it was to be killed"
    assert killed["batches_done"] < 12, "the sweep was over before the kill"
    assert workers[1].wait(timeout=10) == -signal.SIGKILL
    assert ds.attrs["n_points"] == 24 and ds.attrs["n_failed"] == 0
    assert (ds["error"] == "").all()
    pids = {int(line.split()[2]) for line in log.read_text().splitlines()}
    assert pids == {workers[0].pid, workers[1].pid}     # both worked, no one else did

    serial = parameter_sweep(_sweep_models.noisy_product, grid, client="serial",
                             **{**kw, "fixed": {"sleep_s": 0.0}})
    # the same numbers; only the (unswept) sleep differs in the fixed values
    xr.testing.assert_identical(ds[["y", "z", "seed", "error"]].drop_attrs(),
                                serial[["y", "z", "seed", "error"]].drop_attrs())
    xr.testing.assert_identical(load_sweep(store)[["y", "z"]].drop_attrs(),
                                serial[["y", "z"]].drop_attrs())
