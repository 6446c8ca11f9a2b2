"""Ion-channel mechanisms as declarations, and the seed's plain current functions.

:mod:`.mechanism` declares a mechanism (gates, Q10, conductance or permeability, ion,
reversal: fixed, Nernst or GHK; gates of V or of [Ca]ᵢ); :mod:`.library` holds the declared
mechanisms (leak, Hodgkin-Huxley 1952 and Traub-Miles Na/K, L- and T-type Ca, M-current,
I_h, SK and AHP calcium-activated K); :mod:`.currents` gives the steady-state I-V and gate
curves as named DataArrays (``leak_current``, ``sodium_current``, ``potassium_current``,
``calcium_current``, ``channel_current``, ``calcium_activated_current``,
``steady_state_gates``, ``gate_time_constants``);
:mod:`.pools` the submembrane calcium pool (``ion_dynamics``, Destexhe's ``cadecay``).

This package imports only the foundation (units, params, numerics, _jit, _validation):
the neuron models may build on it, never the reverse.
"""

from neurosim_nb.channels.currents import (
    calcium_activated_current,
    calcium_current,
    channel_current,
    gate_time_constants,
    leak_current,
    potassium_current,
    sodium_current,
    steady_state_gates,
)
from neurosim_nb.channels.library import MECHANISMS, mechanism
from neurosim_nb.channels.mechanism import (
    Gate,
    Mechanism,
    ghk_current_density,
    nernst_potential,
)
from neurosim_nb.channels.pools import calcium_influx, ion_dynamics

__all__ = ["Gate", "MECHANISMS", "Mechanism", "calcium_activated_current", "calcium_current",
           "calcium_influx", "channel_current",
           "gate_time_constants", "ion_dynamics",
           "ghk_current_density", "leak_current", "mechanism", "nernst_potential",
           "potassium_current", "sodium_current", "steady_state_gates"]
