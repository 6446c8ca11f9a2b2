"""brunel_phase_diagram: a parameter sweep of the Brunel network (fitting.phase_diagram).

References: each cell equals the standalone run of its point (experiments.brunel, no sweep),
the Dask result equals the serial one bit for bit, and the shipped diagram puts Brunel's
Fig. 8 points in his regimes.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurosim_nb.experiments import brunel
from neurosim_nb.fitting import phase_diagram as pd

SMALL = {"n_exc": 400, "duration_ms": 150.0, "transient_ms": 50.0}


def test_cells_equal_standalone_runs_and_labels():
    ds = pd.brunel_phase_diagram([3.0, 6.0], [2.0, 4.0], client="serial", progress=False,
                                 **SMALL)
    assert ds.rate_hz.dims == ("g", "nu_ext_ratio") and ds.rate_hz.attrs["units"] == "Hz"
    for g in (3.0, 6.0):
        for nu in (2.0, 4.0):
            m = brunel.brunel_point(g, nu, **SMALL)
            cell = ds.sel(g=g, nu_ext_ratio=nu)
            for k, v in m.items():
                np.testing.assert_equal(float(cell[k]), v)
            assert cell.regime.item() == brunel.classify_regime(**m)
    assert set(ds.regime.sel(g=3.0).values) == {"SR"}


def test_local_cluster_equals_serial():
    """On the embedded LocalCluster (worker processes) the diagram is the serial one, bit
    for bit, whatever the batching."""
    serial = pd.brunel_phase_diagram([4.0, 6.0], [1.2, 3.0], client="serial", progress=False,
                                     **SMALL)
    dask = pd.brunel_phase_diagram([4.0, 6.0], [1.2, 3.0], client=None, progress=False,
                                   **SMALL)
    rows = pd.brunel_phase_diagram([4.0, 6.0], [1.2, 3.0], client=None, progress=False,
                                   batch_size=1, **SMALL)
    for other in (dask, rows):
        for name in (*brunel.MEASURE_UNITS, "regime", "network_seed"):
            np.testing.assert_array_equal(other[name].values, serial[name].values)


def test_grid_independence_and_progress_callable():
    """A point's result does not depend on the grid around it; a callable progress hears
    the start and the end."""
    seen = []
    a = pd.brunel_phase_diagram([5.0, 6.0], [2.0], client="serial",
                                progress=lambda d, t: seen.append((d, t)), **SMALL)
    b = pd.brunel_phase_diagram([6.0], [1.0, 2.0], client="serial", progress=False, **SMALL)
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    assert all(x[0] <= y[0] for x, y in zip(seen, seen[1:], strict=False))
    xr.testing.assert_equal(a.rate_hz.sel(g=[6.0]), b.rate_hz.sel(nu_ext_ratio=[2.0]))


@pytest.mark.parametrize(("kw", "err", "match"), [
    ({"g_values": []}, ValueError, "g_values is empty"),
    ({"g_values": [3.0, 3.0]}, ValueError, "repeated"),
    ({"nu_values": [0.0]}, ValueError, "must be > 0"),
    ({"g_values": [-1.0]}, ValueError, "must be >= 0"),
    ({"n_exc": 0}, ValueError, "n_exc must be"),
])
def test_bad_input(kw, err, match):
    args = {"g_values": [5.0], "nu_values": [2.0], "client": "serial", "progress": False,
            **kw}
    with pytest.raises(err, match=match):
        pd.brunel_phase_diagram(args.pop("g_values"), args.pop("nu_values"), **args)


def test_shipped_diagram():
    ds = pd.load_phase_diagram()
    assert ds.sizes == {"g": len(pd.DEFAULT_G), "nu_ext_ratio": len(pd.DEFAULT_NU)}
    assert int(ds.attrs["n_failed"]) == 0 and int(ds.attrs["n_exc"]) == 2000
    for (g, nu), regime in brunel.REGIME_REFERENCE_POINTS.items():
        nu = min(pd.DEFAULT_NU, key=lambda v: abs(v - nu))     # 0.9 -> 0.8 on the grid
        assert ds.regime.sel(g=g, nu_ext_ratio=nu).item() == regime, (g, nu)
    # Brunel's layout: SR left of the balance point g = 4 (g gamma = 1), none well right
    # of it (at g = 4-4.5 the border moves with the drive, as in his Fig. 2)
    assert set(ds.regime.sel(g=[3.0, 3.5]).values.ravel()) == {"SR"}
    assert "SR" not in set(ds.regime.sel(g=slice(5.0, None)).values.ravel())
    # SI slow only at weak drive, SI fast only at strong drive
    slow = ds.nu_ext_ratio.broadcast_like(ds.regime).where(ds.regime == "SI slow")
    fast = ds.nu_ext_ratio.broadcast_like(ds.regime).where(ds.regime == "SI fast")
    assert float(slow.max()) < float(fast.min())


def test_command_writes_netcdf(tmp_path, capsys):
    out = tmp_path / "d.nc"
    assert pd.main(["--out", str(out), "--g", "3,6", "--nu", "2", "--n-exc", "400",
                    "--duration", "150", "--transient", "50", "--scheduler", "serial"]) == 0
    ds = pd.load_phase_diagram(out)
    ref = pd.brunel_phase_diagram([3.0, 6.0], [2.0], client="serial", progress=False, **SMALL)
    xr.testing.assert_equal(ds.rate_hz, ref.rate_hz)
    assert ds.regime.values.tolist() == ref.regime.values.tolist()
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="python -m neurosim_nb.fitting.phase_diagram"):
        pd.load_phase_diagram(tmp_path / "missing.nc")
