"""Seeded tutorial-style programs print exactly what PyTorch prints: each runs once under torch and once
under `ember run`, and the two outputs must be equal character for character."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = sorted((Path(__file__).parent / "seeded_programs").glob("*.py"))


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_whole_output_equals_torchs(program):
    with_torch = _run(str(program))
    with_ember = _run("-m", "ember", "run", str(program))
    assert with_torch.strip(), "the program printed nothing"
    assert with_ember == with_torch


def test_there_are_programs():
    assert len(PROGRAMS) >= 3
