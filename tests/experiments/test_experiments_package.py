"""The experiments package: no widget or plotting library needed, an example per function."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("ipywidgets", "bokeh", "jupyter_bokeh", "neurosim_nb.panels", "neurosim_nb.plotting")


def test_experiments_run_with_widgets_and_bokeh_blocked():
    """In a fresh interpreter where importing ipywidgets, bokeh, jupyter_bokeh or the
    panel and plotting packages fails, the experiments import and run."""
    code = textwrap.dedent(f"""
        import sys
        for name in {BLOCKED!r}:
            sys.modules[name] = None          # 'import name' now raises ImportError
        import neurosim_nb.experiments as ex
        from neurosim_nb.experiments import learning, psp, stdp_window
        ds = ex.simulate_psp()
        assert ds.V.attrs["units"] == "mV"
        assert ex.measure_pairs(ex.default_stdp_params(), [10.0]).shape == (1,)
        for name in {BLOCKED!r}:
            assert sys.modules[name] is None, name
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_blocking_works():
    code = "import sys; sys.modules['ipywidgets'] = None; import neurosim_nb.panels"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0 and "ipywidgets" in out.stderr


def test_every_public_experiment_has_a_runnable_example():
    import neurosim_nb.experiments as ex

    for name in ex.__all__:
        obj = getattr(ex, name)
        if callable(obj):
            assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} lacks a doctest example"
