"""The run configuration: defaults, TOML files, overrides, type conversion and one-line errors."""

from __future__ import annotations

import pytest

from ember.train.config import ConfigError, RunConfig, load_config, to_toml


def test_defaults_are_valid_and_train_the_builtin_digits():
    cfg = load_config()
    assert cfg.data.name == "digits"
    assert cfg.model.hidden == [128, 64] and cfg.model.activation == "relu"
    assert cfg.train.optimizer == "adam" and cfg.train.lr == 1e-3 and cfg.train.seed == 0


def test_overrides_convert_strings_to_the_setting_type():
    cfg = load_config(
        overrides={
            "train.lr": "0.1",
            "train.epochs": "3",
            "model.hidden": "32, 16 8",
            "model.batch_norm": "yes",
            "train.doctor": "off",
            "model.dropout": 0,
        }
    )
    assert cfg.train.lr == 0.1 and isinstance(cfg.train.lr, float)
    assert cfg.train.epochs == 3
    assert cfg.model.hidden == [32, 16, 8]
    assert cfg.model.batch_norm is True and cfg.train.doctor is False
    assert cfg.model.dropout == 0.0 and isinstance(cfg.model.dropout, float)


def test_toml_round_trip(tmp_path):
    cfg = load_config(overrides={"data.name": 'my "data".csv', "model.hidden": [5], "train.weight_decay": 1e-4})
    path = tmp_path / "config.toml"
    path.write_text(to_toml(cfg))
    again = load_config(path)
    assert again.to_dict() == cfg.to_dict()


def test_file_then_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[train]\nlr = 0.5\nepochs = 4\n[model]\nactivation = "tanh"\n')
    cfg = load_config(path, overrides={"train.epochs": 7})
    assert (cfg.train.lr, cfg.train.epochs, cfg.model.activation) == (0.5, 7, "tanh")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"train.lrr": 1}, "unknown key 'train.lrr' (did you mean 'train.lr'?)"),
        ({"modle.hidden": 1}, "unknown section 'modle' (did you mean 'model'?)"),
        ({"train.epochs": "many"}, "train.epochs must be int, got 'many'"),
        ({"train.epochs": 2.5}, "train.epochs must be int"),
        ({"model.hidden": "a,b"}, "model.hidden must be a list of integers"),
        ({"model.batch_norm": "maybe"}, "model.batch_norm must be bool"),
        ({"model.activation": "rleu"}, "model.activation must be one of relu"),
        ({"train.optimizer": "adamm"}, "did you mean 'adam'"),
        ({"train.lr": 0}, "train.lr must be positive"),
        ({"data.val_fraction": 1.0}, "data.val_fraction must be in [0, 1)"),
        ({"model.hidden": [4, 0]}, "model.hidden sizes must be positive"),
        ({"train.keep": -1}, "train.keep must be >= 0"),
        ({"train.lr": "inf"}, "train.lr must be a finite number, got 'inf'"),
        ({"train.lr": "1e400"}, "train.lr must be a finite number, got '1e400'"),
        ({"train.weight_decay": float("inf")}, "train.weight_decay must be a finite number"),
        ({"train.momentum": "inf"}, "train.momentum must be a finite number"),
        ({"train.gamma": "nan"}, "train.gamma must be a finite number"),
        ({"train.gamma": 0}, "train.gamma must be positive"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_key(overrides, message):
    with pytest.raises(ConfigError) as info:
        load_config(overrides=overrides)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_bad_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[train\nlr = 1\n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_config(broken)
    bare = tmp_path / "bare.toml"
    bare.write_text("lr = 1\n")
    with pytest.raises(ConfigError, match="'lr' must be a \\[section\\] table"):
        load_config(bare)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[train]\nepoch = 3\n")
    with pytest.raises(
        ConfigError, match="unknown.toml: unknown key 'train.epoch' \\(did you mean 'train.epochs'\\?\\)"
    ):
        load_config(unknown)


def test_set_checks_each_value():
    cfg = RunConfig()
    cfg.set("train.batch_size", "128")
    assert cfg.train.batch_size == 128
    with pytest.raises(ConfigError, match="sections: data, model, train"):
        cfg.set("optim.lr", 1)


def test_package_exports_resolve():
    import ember.train

    for name in ember.train.__all__:
        assert getattr(ember.train, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ember.train.nope  # noqa: B018


def test_the_training_guide_lists_every_choice():
    from pathlib import Path

    from ember.train import config

    guide = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    for name in ("ACTIVATIONS", "INITS", "LOSSES", "OPTIMIZERS", "SCHEDULES"):
        for choice in getattr(config, name):
            assert f"`{choice}`" in guide, f"docs/training.md does not mention {name} choice {choice!r}"


def test_toml_infinities_and_nans_are_refused(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[train]\nlr = inf\n")
    with pytest.raises(ConfigError, match="train.lr must be a finite number"):
        load_config(path)
