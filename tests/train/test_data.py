"""load_data: built-in digits, MNIST-style IDX folders and CSV files; splits, normalisation and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from ember.data import digits_arrays
from ember.train import ConfigError, load_config
from ember.train.data import load_data, read_csv, split_indices


def cfg_with(**overrides):
    return load_config(None, {k.replace("__", "."): v for k, v in overrides.items()})


def raw_of(bundle, x):
    """Undo the bundle's normalisation."""
    return x.astype(np.float64) * bundle.std + bundle.mean


# ------------------------------------------------------------------------------------------------- digits


def test_digits_shapes_splits_and_names():
    b = load_data(cfg_with())
    assert (b.num_features, b.num_classes, b.image_shape, b.name) == (64, 10, (8, 8), "digits")
    assert b.class_names == [str(d) for d in range(10)]
    assert len(b.y_train) + len(b.y_val) == 1437 and len(b.y_val) == round(1437 * 0.1)
    assert len(b.y_test) == 1797 - 1437
    for x, y in ((b.x_train, b.y_train), (b.x_val, b.y_val), (b.x_test, b.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (len(y), 64)
    assert b.sizes() == {"train": len(b.y_train), "val": len(b.y_val), "test": len(b.y_test)}


def test_digits_normalisation_uses_training_split_statistics():
    b = load_data(cfg_with())
    assert b.mean.shape == b.std.shape == (1,)
    assert abs(float(b.x_train.mean())) < 1e-5 and abs(float(b.x_train.std()) - 1) < 1e-4
    # the test split is the built-in test split, scaled to [0, 1] and normalised with the training statistics
    test_images, test_labels = digits_arrays("test")
    np.testing.assert_allclose(raw_of(b, b.x_test), test_images.reshape(-1, 64) / 16, atol=1e-5)
    np.testing.assert_array_equal(b.y_test, test_labels)


def test_validation_split_is_a_seeded_partition_of_the_training_split():
    train_images, _ = digits_arrays("train")
    b = load_data(cfg_with(train__seed=3))
    rows = np.concatenate([raw_of(b, b.x_train), raw_of(b, b.x_val)]) * 16
    # together the two parts are exactly the built-in training split (as a multiset of rows)
    got = np.sort(np.round(rows).astype(int).view([("", int)] * 64).ravel())
    want = np.sort(train_images.reshape(-1, 64).astype(int).view([("", int)] * 64).ravel())
    np.testing.assert_array_equal(got, want)
    again = load_data(cfg_with(train__seed=3))
    other = load_data(cfg_with(train__seed=4))
    np.testing.assert_array_equal(again.x_val, b.x_val)
    assert not np.array_equal(other.y_val, b.y_val)


def test_split_indices_partition_and_sizes():
    kept, held = split_indices(50, 0.2, seed=0, stream=1)
    assert len(held) == 10 and sorted(np.concatenate([kept, held]).tolist()) == list(range(50))
    assert len(split_indices(50, 0.0, 0, 1)[1]) == 0
    assert len(split_indices(3, 0.01, 0, 1)[1]) == 1  # a non-zero fraction holds out at least one example


def test_val_fraction_zero_gives_empty_validation():
    b = load_data(cfg_with(data__val_fraction=0.0))
    assert len(b.y_val) == 0 and b.x_val.shape == (0, 64) and len(b.y_train) == 1437


def test_limit_keeps_the_first_training_examples():
    b = load_data(cfg_with(data__limit=100, data__val_fraction=0.2))
    assert len(b.y_train) == 80 and len(b.y_val) == 20 and len(b.y_test) == 360
    _, labels = digits_arrays("train")
    assert sorted(np.concatenate([b.y_train, b.y_val]).tolist()) == sorted(labels[:100].tolist())


# ------------------------------------------------------------------------------------------------- names and errors


def test_unknown_data_name_lists_the_choices():
    with pytest.raises(
        ConfigError,
        match=r"unknown data set 'digts' \(did you mean 'digits'\?\); choices: digits, fashion-mnist, mnist",
    ):
        load_data(cfg_with(data__name="digts"))


def test_missing_csv_file_is_named(tmp_path):
    missing = str(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="data file .*nope.csv' does not exist"):
        load_data(cfg_with(data__name=missing))


# ------------------------------------------------------------------------------------------------- MNIST family


@pytest.mark.parametrize("layout", ["class_raw_folder", "flat_gz"])
def test_mnist_from_idx_files(tmp_path, fake_idx_folder, layout):
    folder = tmp_path / "MNIST" / "raw" if layout == "class_raw_folder" else tmp_path
    arrays = fake_idx_folder(folder, gz=layout == "flat_gz")
    b = load_data(cfg_with(data__name="mnist", data__root=str(tmp_path), data__val_fraction=0.25))
    assert b.image_shape == (4, 5) and b.num_features == 20 and b.num_classes == 10
    assert b.class_names[0] == "0 - zero" and len(b.y_train) == 30 and len(b.y_val) == 10
    np.testing.assert_allclose(raw_of(b, b.x_test), arrays["t10k-images-idx3-ubyte"].reshape(12, 20) / 255, atol=1e-5)
    np.testing.assert_array_equal(b.y_test, arrays["t10k-labels-idx1-ubyte"])
    train_raw = arrays["train-images-idx3-ubyte"][np.sort(split_indices(40, 0.25, 0, 7_001)[0])] / 255
    assert abs(float(b.mean[0]) - train_raw.mean()) < 1e-5 and abs(float(b.std[0]) - train_raw.std()) < 1e-5


def test_fashion_mnist_class_names(tmp_path, fake_idx_folder):
    fake_idx_folder(tmp_path / "FashionMNIST" / "raw", n_train=10, n_test=5)
    b = load_data(cfg_with(data__name="fashion-mnist", data__root=str(tmp_path)))
    assert b.class_names[:2] == ["T-shirt/top", "Trouser"] and b.name == "fashion-mnist"


def test_fashion_mnist_missing_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    from ember.vision.datasets import FashionMNIST
    from ember.vision.datasets import mnist as mnist_module

    monkeypatch.setattr(FashionMNIST, "system_dirs", ("/nonexistent/fashion",))
    monkeypatch.setattr(mnist_module, "_package_dirs", lambda package: [])
    with pytest.raises(ConfigError) as info:
        load_data(cfg_with(data__name="fashion-mnist", data__root=str(tmp_path)))
    message = str(info.value)
    assert "\n" not in message and "fashion-mnist: data files not found" in message
    # a --data-root is the only place looked in: never a copy found elsewhere
    assert str(tmp_path / "FashionMNIST" / "raw") in message and "/nonexistent/fashion" not in message
    assert "apt install dataset-fashion-mnist" in message and "--data-root" in message
    with pytest.raises(ConfigError) as info:  # without one, the usual places, system folders included
        load_data(cfg_with(data__name="fashion-mnist"))
    assert "/nonexistent/fashion" in str(info.value)


def test_mnist_missing_without_root_looks_in_the_default_places(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"mnist: data files not found.*\.cache/ember/data.*download=True"):
        load_data(cfg_with(data__name="mnist"))


def test_corrupt_idx_file_is_a_config_error(tmp_path, fake_idx_folder):
    fake_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")
    with pytest.raises(ConfigError, match="mnist: .*t10k-labels-idx1-ubyte: truncated IDX data"):
        load_data(cfg_with(data__name="mnist", data__root=str(tmp_path)))


def test_idx_data_sets_are_checked_whole_before_training(tmp_path, fake_idx_folder, idx_file_bytes):
    idx_bytes = idx_file_bytes

    def broken(edit, message):
        folder = tmp_path / message[:12].replace(" ", "_")
        fake_idx_folder(folder)
        edit(folder)
        with pytest.raises(ConfigError, match=message):
            load_data(cfg_with(data__name="mnist", data__root=str(folder)))

    def write(folder, name, array):
        (folder / name).write_bytes(idx_bytes(array))

    broken(
        lambda f: write(f, "t10k-labels-idx1-ubyte", np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1], np.uint8)),
        r"t10k-labels-idx1-ubyte gives image 10 the label 10; mnist has 10 classes \(0-9\)",
    )
    broken(
        lambda f: write(f, "t10k-images-idx3-ubyte", np.zeros((12, 5, 4), np.uint8)),
        r"the training images are 4x5 but the test images \(.*t10k-images-idx3-ubyte\) are 5x4",
    )
    broken(
        lambda f: (
            write(f, "t10k-images-idx3-ubyte", np.zeros((0, 4, 5), np.uint8)),
            write(f, "t10k-labels-idx1-ubyte", np.zeros(0, np.uint8)),
        ),
        "t10k-images-idx3-ubyte holds no images",
    )


# ------------------------------------------------------------------------------------------------- CSV


def test_csv_with_header_and_text_labels(flowers_csv):
    b = load_data(cfg_with(data__name=flowers_csv, data__test_fraction=0.2, data__val_fraction=0.25))
    assert b.class_names == ["setosa", "versicolor", "virginica"] and b.num_classes == 3
    assert b.num_features == 3 and b.image_shape is None
    assert (len(b.y_train), len(b.y_val), len(b.y_test)) == (18, 6, 6)
    # per-column statistics: every training column ends up with mean 0 and std 1
    np.testing.assert_allclose(b.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(b.x_train.std(axis=0), 1, atol=1e-4)
    assert b.mean.shape == b.std.shape == (3,)


def test_csv_target_by_name_and_by_index(write_csv):
    path = write_csv(
        """
        label,a,b
        yes,1,2
        no,3,4
        yes,5,6
        no,7,8
        """
    )
    by_name = read_csv(path, "label")
    by_index = read_csv(path, "0")
    for table in (by_name, by_index):
        assert table.labels == ["yes", "no", "yes", "no"] and table.feature_names == ["a", "b"]
        np.testing.assert_array_equal(table.features, [[1, 2], [3, 4], [5, 6], [7, 8]])
        assert table.has_header and table.target_name == "label"
    # by default the last column is the label, so the text column `label` is then a (bad) feature
    with pytest.raises(ConfigError, match="row 2, column 'label': 'yes' is not a finite decimal number"):
        read_csv(path)


def test_csv_without_header_and_numeric_labels_sort_by_value(write_csv):
    path = write_csv("\n".join(f"{i}.5,{i * 2},{[10, 2, 1][i % 3]}" for i in range(12)))
    table = read_csv(path)
    assert not table.has_header and table.feature_names == ["0", "1"] and table.features.shape == (12, 2)
    b = load_data(cfg_with(data__name=path, data__val_fraction=0.0))
    assert b.class_names == ["1", "2", "10"]  # by value, not alphabetically
    raw = raw_of(b, np.concatenate([b.x_train, b.x_test]))
    labels = np.concatenate([b.y_train, b.y_test])
    # each row keeps its own label: the label column is a function of the first feature
    for row, y in zip(raw, labels):
        i = int(round(row[0] - 0.5))
        assert b.class_names[y] == str([10, 2, 1][i % 3])


def test_csv_text_labels_without_header(write_csv):
    path = write_csv("1,2,cat\n3,4,dog\n5,6,cat")
    table = read_csv(path)
    assert not table.has_header and table.labels == ["cat", "dog", "cat"]


def test_csv_semicolon_delimiter_and_constant_column(write_csv):
    path = write_csv("x;c;y\n1;5;a\n2;5;b\n3;5;a\n4;5;b\n5;5;a")
    b = load_data(cfg_with(data__name=path, data__val_fraction=0.0, data__test_fraction=0.2))
    assert b.num_features == 2
    assert float(b.std[1]) == 1.0 and float(b.mean[1]) == 5.0  # std 0 becomes 1, so the column is all zeros
    np.testing.assert_array_equal(b.x_train[:, 1], 0)


def test_csv_non_numeric_cell_names_file_row_column_and_cell(write_csv):
    path = write_csv("a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(ConfigError) as info:
        load_data(cfg_with(data__name=path))
    assert str(info.value).startswith(f"{path}, row 3, column 'b': 'oops' is not a finite decimal number")


def test_csv_empty_cell_and_ragged_row(write_csv):
    with pytest.raises(ConfigError, match=r"row 2, column 'a': an empty cell"):
        read_csv(write_csv("a,b,label\n,2,x\n3,4,y\n", "empty.csv"))
    with pytest.raises(ConfigError, match=r"ragged.csv, row 3: has 2 cells but the first row has 3"):
        read_csv(write_csv("a,b,label\n1,2,x\n3,y\n", "ragged.csv"))


def test_csv_missing_target_lists_the_columns(flowers_csv):
    with pytest.raises(
        ConfigError,
        match=r"no column 'specis' for data.target \(did you mean 'species'\?\); columns: sepal, petal, stem, species",
    ):
        load_data(cfg_with(data__name=flowers_csv, data__target="specis"))


def test_csv_target_name_without_header(write_csv):
    path = write_csv("1,2,0\n3,4,1\n")
    with pytest.raises(ConfigError, match="column index below 3: the file has no header row"):
        read_csv(path, "label")


def test_csv_empty_and_header_only_files(write_csv):
    with pytest.raises(ConfigError, match="the file is empty"):
        read_csv(write_csv("", "empty.csv"))
    with pytest.raises(ConfigError, match="no data rows"):
        read_csv(write_csv("a,b,label", "header.csv"))


@pytest.mark.parametrize(
    "text,message",
    [
        # a delimiter at the end of every line: the empty last column would be the label (one class "")
        ("a,b,label,\n1,2,x,\n3,4,y,\n", r"the unnamed column 3 \(0-based\) is empty in every row"),
        ("1,2,x,\n3,4,y,\n", "column '3' is empty in every row"),
        ("a,b,label\n1,2,x\n3,4,\n5,6,y\n", "row 3, column 'label': the label cell is empty"),
        ("a,b,label\n1,2,x\n3,4,x\n", "every row has the label 'x' in column 'label'; a classifier needs at least two"),
        ("a,b,label\n1_000,2,x\n3,4,y\n", "'1_000' is not a finite decimal number"),
        ("a,b,label\n\u0661,2,x\n3,4,y\n", "is not a finite decimal number"),
        ("a,b,label\n1e39,2,x\n3,4,y\n", "1e39 is beyond float32's range"),
        ("a,b,label\ninf,2,x\n3,4,y\n", "'inf' is not a finite decimal number"),
    ],
)
def test_csv_files_that_would_train_on_something_else_are_refused(write_csv, text, message):
    from ember.train.config import RunConfig

    cfg = RunConfig()
    cfg.data.name = write_csv(text)
    with pytest.raises(ConfigError, match=message):
        load_data(cfg)


def test_csv_labels_are_one_class_however_a_number_is_written(write_csv):
    path = write_csv("a,label\n1,1\n2,1.0\n3,01\n4,2\n5,0.50\n6,.5\n")
    assert read_csv(path).labels == ["1", "1", "1", "2", "0.5", "0.5"]


def test_a_first_row_numbering_the_columns_is_a_header(write_csv):
    table = read_csv(write_csv("0,1,2\n5.5,6.5,1\n7.5,8.5,0\n"))
    assert table.has_header and table.feature_names == ["0", "1"] and len(table.labels) == 2
    table = read_csv(write_csv("1,2,3\n5.5,6.5,1\n7.5,8.5,0\n", "b.csv"))
    assert table.has_header and table.target_name == "3"


def test_a_csv_field_over_the_csv_modules_limit_is_one_line(write_csv):
    path = write_csv("a,b,label\n1,2," + "x" * 140_000 + "\n3,4,y\n")
    with pytest.raises(ConfigError, match=r"row 2: not a CSV row \(field larger than field limit"):
        read_csv(path)


def test_data_paths_are_taken_as_given_and_their_mistakes_named(tmp_path, fake_idx_folder, monkeypatch):
    fake_idx_folder(tmp_path / "elsewhere" / "MNIST" / "raw")
    monkeypatch.setattr("ember.train.data.default_data_roots", lambda: [str(tmp_path / "elsewhere")])
    assert load_data(cfg_with(data__name="mnist")).source == str(tmp_path / "elsewhere" / "MNIST" / "raw")
    with pytest.raises(ConfigError, match="data.root .*/nonexistent' does not exist"):
        load_data(cfg_with(data__name="mnist", data__root=str(tmp_path / "nonexistent")))
    with pytest.raises(ConfigError, match=r"with data 'digits' it would be unused"):
        load_data(cfg_with(data__root=str(tmp_path)))
    with pytest.raises(ConfigError, match=r"is a folder; data.name is a CSV file or one of"):
        load_data(cfg_with(data__name=str(tmp_path)))
