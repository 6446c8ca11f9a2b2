"""xarray's Dask check deferred (neurosim_nb._lazy.defer_dask_in_xarray): a run imports
neither ``dask`` nor ``dask.array`` (with ``scipy.sparse``/``fft``/``special``: ~20 MB of
resident memory, docs/performance.md "Memory"), and Dask arrays made later are still
xarray's Dask arrays. Numba's BLAS check deferred (neurosim_nb._jit.defer_scipy_in_numba):
a run does not import ``scipy.linalg`` (14.5 MB), and Numba's linear algebra still works.
Checked in fresh interpreters: the test process has imported Dask and SciPy."""

import importlib.util
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

needs_dask = pytest.mark.skipif(importlib.util.find_spec("dask") is None,
                                reason="Dask is not installed: xarray would not import it")


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_dask
def test_a_network_run_imports_no_dask():
    got = _run("""
        import json, sys
        from neurosim_nb.core.networks.benchmarks_models import cuba_network
        ds = cuba_network(400, seed=1).simulate(20.0, record=("V",), seed=1, verbose=False)
        rate = ds.neuro.firing_rate(bin_ms=10.0)          # the accessor, an analysis
        print(json.dumps({m: m in sys.modules for m in ("dask", "dask.array", "scipy.sparse")}
                         | {"spikes": int(ds.sizes["spike"]), "bins": rate.sizes["time"]}))
    """)
    assert got["spikes"] > 0 and got["bins"] == 2        # the run and the analysis happened
    assert not got["dask"] and not got["dask.array"] and not got["scipy.sparse"], got


@needs_dask
def test_dask_arrays_made_later_are_still_dask_arrays_to_xarray():
    # the deferred entry has answered "no Dask type" for the run's Dataset; after
    # ``import dask.array`` xarray must keep a Dask array lazy (chunks as given), know its
    # version and compute it -- what it does when nothing was deferred
    got = _run("""
        import json, sys
        import numpy as np, xarray as xr
        from neurosim_nb import LIFNeuron
        from xarray.namedarray import pycompat
        from xarray.namedarray.utils import is_duck_dask_array
        LIFNeuron(n=2).simulate(5.0, 1.0, seed=0, verbose=False)
        before = [type(pycompat._cached_duck_array_modules["dask"]).__name__,
                  pycompat.array_type("dask"), "dask.array" in sys.modules]
        import dask, dask.array as da
        ds = xr.Dataset({"v": ("t", da.ones(6, chunks=2))})
        print(json.dumps({
            "before": [before[0], len(before[1]), before[2]],
            "chunks": {k: list(v) for k, v in ds.chunks.items()},
            "lazy": isinstance(ds.v.data, da.Array), "duck": bool(is_duck_dask_array(ds.v.data)),
            "type_is_dask": pycompat.array_type("dask") == (da.Array,),
            "version": str(pycompat.mod_version("dask")) == dask.__version__,
            "sum": float(ds.v.sum().compute()),
            "masked": float(xr.DataArray(da.from_array(np.ma.masked_array([1.0, 2.0],
                                                       mask=[0, 1]))).sum())}))
    """)
    assert got["before"] == ["DeferredDask", 0, False]
    assert got["chunks"] == {"t": [2, 2, 2]}
    assert got["lazy"] and got["duck"] and got["type_is_dask"] and got["version"]
    assert got["sum"] == 6.0
    assert got["masked"] == 1.0                          # the masked 2.0 is dropped (NaN)


@needs_dask
def test_nothing_is_deferred_once_dask_array_is_imported():
    got = _run("""
        import json
        import dask.array as da
        import neurosim_nb
        from neurosim_nb._lazy import defer_dask_in_xarray
        from xarray.namedarray import pycompat
        entry = pycompat._cached_duck_array_modules.get("dask")
        print(json.dumps([defer_dask_in_xarray(), type(entry).__name__]))
    """)
    assert got == [False, "NoneType"]


def test_a_run_imports_no_scipy_linalg_and_numba_linear_algebra_still_works():
    got = _run("""
        import json, sys
        import numpy as np
        from neurosim_nb.core.networks.benchmarks_models import cuba_network
        ds = cuba_network(400, seed=1).simulate(20.0, record=(), seed=1, verbose=False)
        linalg_after_run = "scipy.linalg" in sys.modules
        import numba.np.arraymath
        from neurosim_nb._jit import njit
        dot = njit(lambda a, b: np.dot(a, b))      # BLAS: Numba imports scipy.linalg now
        cov = njit(lambda a: np.cov(a))            # reads the deferred check's answer
        m = np.arange(6.0).reshape(2, 3)
        print(json.dumps({"spikes": int(ds.sizes["spike"]), "after_run": linalg_after_run,
                          "have_blas": numba.np.arraymath._HAVE_BLAS,
                          "dot": dot(m, m.T).tolist(), "cov": cov(m).tolist(),
                          "linalg_now": "scipy.linalg" in sys.modules}))
    """)
    assert got["spikes"] > 0 and not got["after_run"], got
    assert got["have_blas"] and got["linalg_now"]
    m = np.arange(6.0).reshape(2, 3)
    assert got["dot"] == (m @ m.T).tolist() and got["cov"] == np.cov(m).tolist()


def test_nothing_is_deferred_once_numba_arraymath_is_imported():
    got = _run("""
        import json
        import numba.np.arraymath
        from neurosim_nb._jit import defer_scipy_in_numba
        print(json.dumps([defer_scipy_in_numba(), numba.np.arraymath._HAVE_BLAS]))
    """)
    assert got == [False, True]
