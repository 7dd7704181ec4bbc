"""Shared fixtures: named people in the demo roles, and where test artifacts go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(
    os.environ.get("SB_ARTIFACTS", Path(__file__).resolve().parent.parent / "artifacts")
)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
