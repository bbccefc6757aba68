"""docs/where.md (which file holds each Tensor method and function) is generated and must not go stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_where_is_it_index_is_current():
    made = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_where.py")], capture_output=True, text=True, check=True
    ).stdout
    committed = (ROOT / "docs" / "where.md").read_text()
    assert made.strip() == committed.strip(), "docs/where.md is stale: run tools/gen_where.py > docs/where.md"


def test_the_index_leads_from_an_operator_to_the_op_and_its_node():
    text = (ROOT / "docs" / "where.md").read_text()
    assert "| `Tensor.__add__` | `ember/ops/elementwise.py` | `add` |" in text
    assert "| `F.relu` | `ember/nn/functional.py` | `relu` |" in text
    source = (ROOT / "ember" / "ops" / "elementwise.py").read_text()
    assert "class AddBackward0(Node):" in source and "\ndef add(" in source  # forward and backward in one file
