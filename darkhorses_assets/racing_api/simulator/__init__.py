"""A simulated Racing API (seeded world, real HTTP, faults, replay) so the platform runs offline."""

from .faults import Faults
from .server import SimulatorConfig, SimulatorServer

__all__ = ["Faults", "SimulatorConfig", "SimulatorServer"]
