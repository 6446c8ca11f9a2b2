"""The simulation engine: stimuli, the time loop, recording into xarray Datasets."""

from neurosim_nb.engine.dataset import build_dataset
from neurosim_nb.engine.recorder import Recorder
from neurosim_nb.engine.simulator import (
    RecordingConfig,
    RecordingMemoryError,
    SimulationConfig,
    SimulationDivergedError,
    SimulationEngine,
    SimulationResult,
    simulate,
)
from neurosim_nb.stimuli import (
    ConstantCurrent,
    OUNoise,
    PoissonInput,
    PulseTrain,
    RampCurrent,
    SineCurrent,
    StepCurrent,
    Stimulus,
    Waveform,
)

__all__ = [
    "Recorder", "build_dataset", "RecordingConfig", "RecordingMemoryError", "SimulationConfig",
    "SimulationDivergedError", "SimulationEngine", "SimulationResult", "simulate",
    "ConstantCurrent", "OUNoise", "PoissonInput", "PulseTrain", "RampCurrent", "SineCurrent",
    "StepCurrent", "Stimulus", "Waveform",
]
