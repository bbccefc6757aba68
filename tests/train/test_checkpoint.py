"""Training checkpoints: round trip, clear errors for damaged files, keep-k pruning, choosing what to resume."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ember
from ember.train.checkpoint import (
    CheckpointError,
    epoch_checkpoints,
    find_resume_checkpoint,
    load_checkpoint,
    prune_epoch_checkpoints,
    save_checkpoint,
)


def state(global_step: int) -> dict:
    return {
        "epoch": global_step // 10,
        "global_step": global_step,
        "model": {"w": ember.arange(6, dtype=ember.float32).reshape(2, 3) * global_step},
        "rng": ember.get_rng_state(),
        "best_val_loss": 0.25,
        "best_epoch": None,
    }


def truncate(path, keep_fraction: float = 0.5) -> None:
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep_fraction)])


def test_round_trip(tmp_path):
    path = str(tmp_path / "last.pt")
    save_checkpoint(path, state(20))
    loaded = load_checkpoint(path)
    assert loaded["format"] == "ember-train-checkpoint" and loaded["version"] == 2
    assert loaded["global_step"] == 20 and loaded["best_val_loss"] == 0.25 and loaded["best_epoch"] is None
    np.testing.assert_array_equal(loaded["model"]["w"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3) * 20)
    assert os.listdir(tmp_path) == ["last.pt"]  # no temporary file left behind


def test_one_state_written_to_several_files(tmp_path):
    paths = [str(tmp_path / name) for name in ("best.pt", "epoch-0002.pt", "last.pt")]
    save_checkpoint(paths, state(7))
    contents = {open(p, "rb").read() for p in paths}
    assert len(contents) == 1
    assert load_checkpoint(paths[1])["global_step"] == 7
    save_checkpoint(paths[2], state(8))  # replacing last.pt leaves the others as they were
    assert [load_checkpoint(p)["global_step"] for p in paths] == [7, 7, 8]
    assert sorted(os.listdir(tmp_path)) == ["best.pt", "epoch-0002.pt", "last.pt"]


def test_each_checkpoint_is_a_file_of_its_own_that_can_fail_alone(tmp_path):
    paths = [str(tmp_path / name) for name in ("best.pt", "epoch-0002.pt", "last.pt")]
    save_checkpoint(paths, state(5))
    assert not os.path.samefile(paths[0], paths[1]) and not os.path.samefile(paths[1], paths[2])
    with open(paths[0], "r+b") as f:  # damaged in place
        f.seek(40)
        f.write(b"\xff" * 64)
    with pytest.raises(CheckpointError, match=r"cannot be read \(truncated or corrupt\?\)"):
        load_checkpoint(paths[0])
    assert [load_checkpoint(p)["global_step"] for p in paths[1:]] == [5, 5]


def test_truncated_file_names_the_file(tmp_path):
    path = str(tmp_path / "last.pt")
    save_checkpoint(path, state(3))
    truncate(path)
    with pytest.raises(CheckpointError, match=r"checkpoint .*last\.pt cannot be read \(truncated or corrupt\?\)"):
        load_checkpoint(path)


def test_garbage_and_foreign_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="garbage.pt cannot be read"):
        load_checkpoint(str(garbage))
    foreign = str(tmp_path / "weights.pt")
    ember.save({"w": ember.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="weights.pt is not an ember training checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="missing.pt does not exist"):
        load_checkpoint(str(tmp_path / "missing.pt"))


def test_newer_version_is_refused(tmp_path):
    path = str(tmp_path / "last.pt")
    ember.save({"format": "ember-train-checkpoint", "version": 99}, path)
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(path)


def test_prune_keeps_the_newest(tmp_path):
    for epoch in (1, 2, 3, 10, 11):
        save_checkpoint(str(tmp_path / f"epoch-{epoch:04d}.pt"), state(epoch))
    (tmp_path / "epoch-notes.pt").write_text("not mine")  # unrelated names are never touched
    removed = prune_epoch_checkpoints(str(tmp_path), keep=2)
    assert sorted(os.path.basename(p) for p in removed) == ["epoch-0001.pt", "epoch-0002.pt", "epoch-0003.pt"]
    assert [e for e, _ in epoch_checkpoints(str(tmp_path))] == [10, 11]
    assert (tmp_path / "epoch-notes.pt").exists()


def test_resume_prefers_last(tmp_path):
    save_checkpoint([str(tmp_path / "epoch-0001.pt"), str(tmp_path / "last.pt")], state(10))
    save_checkpoint(str(tmp_path / "last.pt"), state(14))
    path, ckpt, notes = find_resume_checkpoint(str(tmp_path))
    assert path.endswith("last.pt") and ckpt["global_step"] == 14 and notes == []


def test_resume_falls_back_to_newest_readable_epoch_checkpoint(tmp_path):
    for step in (10, 20, 30):
        save_checkpoint([str(tmp_path / f"epoch-{step // 10:04d}.pt"), str(tmp_path / "last.pt")], state(step))
    save_checkpoint(str(tmp_path / "best.pt"), state(10))
    truncate(tmp_path / "last.pt")
    truncate(tmp_path / "epoch-0003.pt", 0.9)
    path, ckpt, notes = find_resume_checkpoint(str(tmp_path))
    assert path.endswith("epoch-0002.pt") and ckpt["global_step"] == 20
    assert len(notes) == 2 and "last.pt cannot be read" in notes[0] and "epoch-0003.pt" in notes[1]


def test_resume_uses_best_when_it_got_further(tmp_path):
    save_checkpoint(str(tmp_path / "epoch-0001.pt"), state(10))
    save_checkpoint(str(tmp_path / "best.pt"), state(20))
    (tmp_path / "last.pt").write_bytes(b"")
    path, ckpt, _ = find_resume_checkpoint(str(tmp_path))
    assert path.endswith("best.pt") and ckpt["global_step"] == 20


def test_resume_with_only_damaged_checkpoints_raises(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"PK\x03\x04broken")
    (tmp_path / "epoch-0001.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="no readable checkpoint to resume from: .*last.pt.*epoch-0001.pt"):
        find_resume_checkpoint(str(tmp_path))


def test_resume_before_any_checkpoint(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) == (None, None, [])


def test_stale_temporaries_are_removed(tmp_path):
    from ember._atomic import remove_stale_temporaries

    (tmp_path / ".last.pt.0123456789ab.tmp").write_bytes(b"half a file")
    save_checkpoint(str(tmp_path / "last.pt"), state(1))
    remove_stale_temporaries(str(tmp_path))
    assert os.listdir(tmp_path) == ["last.pt"]
