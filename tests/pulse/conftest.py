"""Tables for the pulse tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def put_table(any_engine):
    """``put_table(name, frame)`` puts a pandas frame on the engine as ``pulse_<name>``."""
    return lambda name, frame: any_engine.from_frame(f"pulse_{name}", frame)
