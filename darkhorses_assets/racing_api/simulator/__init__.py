"""A simulated Racing API (seeded world, real HTTP, a movable clock, faults, replay) so the platform runs offline."""

from .clock import SimulatorClock
from .faults import Faults
from .server import SimulatorConfig, SimulatorServer

__all__ = ["Faults", "SimulatorClock", "SimulatorConfig", "SimulatorServer"]
