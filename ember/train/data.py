"""The examples of a run: built-in digits, MNIST, Fashion-MNIST or a CSV file, split and normalised as arrays."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import math
import os
import re

import numpy as np

from .config import ConfigError, RunConfig

BUILTIN_DATA = ("digits", "fashion-mnist", "mnist")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")

# Fixed stream tags so the validation and CSV test permutations never coincide with the trainer's per-epoch shuffles.
_VAL_STREAM = 7_001
_TEST_STREAM = 7_002


@dataclasses.dataclass
class DataBundle:
    """Train/validation/test arrays ready for an MLP: x float32 (N, F) already normalised, y int64 class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_features: int
    num_classes: int
    class_names: list[str]
    image_shape: tuple[int, int] | None  # (rows, cols) of image data; None for CSV
    mean: np.ndarray  # normalisation applied: x = (raw - mean) / std, raw images in [0, 1]
    std: np.ndarray
    name: str
    source: str = ""  # where the examples were read from (a folder, a file, or "built in")

    def sizes(self) -> dict[str, int]:
        """Number of examples in each split."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """Apply this bundle's normalisation to raw features (images scaled to [0, 1]) of shape (N, F)."""
        return ((np.asarray(raw, dtype=np.float64) - self.mean) / self.std).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------- entry


def load_data(cfg: RunConfig) -> DataBundle:
    """Load, split and normalise the data named by cfg.data; every mistake is a one-line ConfigError."""
    name = cfg.data.name
    if cfg.data.root and name not in ("fashion-mnist", "mnist"):
        raise ConfigError(
            f"data.root ({cfg.data.root!r}) is where fashion-mnist and mnist are read from; with data {name!r} it "
            "would be unused (add --data mnist or --data fashion-mnist, or drop --data-root)"
        )
    if name == "digits":
        x_train, y_train, x_test, y_test, class_names, shape = _digits()
        source = "built in"
    elif name in ("fashion-mnist", "mnist"):
        x_train, y_train, x_test, y_test, class_names, shape, source = _mnist_family(name, cfg.data.root)
    elif _looks_like_file(name):
        x_train, y_train, x_test, y_test, class_names = _csv_splits(name, cfg)
        shape, source = None, os.path.abspath(name)
    else:
        raise ConfigError(
            f"data.name: unknown data set {name!r}{_did_you_mean(name)}; choices: "
            f"{', '.join(BUILTIN_DATA)}, or the path of a CSV file"
        )
    if cfg.data.limit:
        x_train, y_train = x_train[: cfg.data.limit], y_train[: cfg.data.limit]
    train_idx, val_idx = split_indices(len(y_train), cfg.data.val_fraction, cfg.train.seed, _VAL_STREAM)
    x_val, y_val = x_train[val_idx], y_train[val_idx]
    x_train, y_train = x_train[train_idx], y_train[train_idx]
    if len(y_train) == 0:
        raise ConfigError(f"data {name!r}: no training examples left after the test and validation splits")
    mean, std = _statistics(x_train, per_column=shape is None)
    bundle = DataBundle(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        num_features=int(x_train.shape[1]),
        num_classes=len(class_names),
        class_names=list(class_names),
        image_shape=shape,
        mean=mean,
        std=std,
        name=name,
        source=source,
    )
    for split in ("train", "val", "test"):
        setattr(bundle, f"x_{split}", bundle.normalise(getattr(bundle, f"x_{split}")))
    return bundle


def resolve_paths(cfg: RunConfig) -> None:
    """Make a CSV path and data.root absolute, so eval, predict and --resume work from any folder."""
    if cfg.data.name not in BUILTIN_DATA and os.path.isfile(cfg.data.name):
        cfg.data.name = os.path.abspath(cfg.data.name)
    if cfg.data.root:
        cfg.data.root = os.path.abspath(os.path.expanduser(cfg.data.root))


def data_dims(cfg: RunConfig) -> tuple[int, int]:
    """(num_features, num_classes) of cfg's data, without reading the image files of the built-in data sets."""
    name = cfg.data.name
    if name == "digits":
        return 64, 10
    if name in ("fashion-mnist", "mnist"):
        return 28 * 28, 10
    bundle = load_data(cfg)
    return bundle.num_features, bundle.num_classes


def split_indices(n: int, fraction: float, seed: int, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held out): a seeded permutation of range(n) whose last `fraction` is held out, each sorted."""
    held = 0
    if fraction > 0 and n > 1:
        held = min(n - 1, max(1, round(n * fraction)))  # a non-zero share holds out at least one, keeps at least one
    order = np.random.Generator(np.random.PCG64([seed, stream])).permutation(n)
    return np.sort(order[: n - held]), np.sort(order[n - held :])


def _statistics(x: np.ndarray, per_column: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the training features: one scalar for images, one per column for tables (std 0 -> 1)."""
    x64 = x.astype(np.float64)
    if per_column:
        mean, std = x64.mean(axis=0), x64.std(axis=0)
    else:
        mean, std = np.array([x64.mean()]), np.array([x64.std()])
    std = np.where(std > 0, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), BUILTIN_DATA, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _looks_like_file(name: str) -> bool:
    """A CSV path rather than a data set name: an existing file, or something shaped like a path."""
    if os.path.isfile(name):
        return True
    if os.path.isdir(name):
        raise ConfigError(
            f"data {name!r} is a folder; data.name is a CSV file or one of {', '.join(BUILTIN_DATA)} "
            "(for MNIST-style files in a folder: --data mnist or fashion-mnist with --data-root FOLDER)"
        )
    if name.lower().endswith(CSV_SUFFIXES) or os.sep in name or "/" in name:
        where = "" if os.path.isabs(name) else f" (relative to {os.getcwd()})"
        raise ConfigError(
            f"data file {name!r} does not exist{where}; data.name is a CSV file or one of {', '.join(BUILTIN_DATA)}"
        )
    return False


# ---------------------------------------------------------------------------------------------------------- images


def _digits():
    from ..data import digits_arrays

    train_images, y_train = digits_arrays("train")
    test_images, y_test = digits_arrays("test")
    x_train = train_images.reshape(len(train_images), -1).astype(np.float32) / np.float32(16)
    x_test = test_images.reshape(len(test_images), -1).astype(np.float32) / np.float32(16)
    return x_train, y_train, x_test, y_test, [str(d) for d in range(10)], (8, 8)


def default_data_roots() -> list[str]:
    """Folders searched for MNIST/raw and FashionMNIST/raw when data.root is not set."""
    return [os.path.join(os.path.expanduser("~"), ".cache", "ember", "data"), os.path.abspath("data")]


def _mnist_family(name: str, root: str):
    from ..vision.datasets import MNIST, FashionMNIST
    from ..vision.datasets._idx import IDXFormatError, read_image_file, read_label_file

    cls = FashionMNIST if name == "fashion-mnist" else MNIST
    files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    if root:  # the folder the user named, and nowhere else: never a copy found elsewhere
        root = os.path.abspath(os.path.expanduser(root))
        if not os.path.isdir(root):
            raise ConfigError(f"data.root {root!r} does not exist (it should hold {cls.__name__}/raw or the IDX files)")
        folders = [os.path.join(root, cls.__name__, "raw"), root]
    else:
        folders = _idx_folders(cls, default_data_roots())
    paths = next((found for found in (_find_all(folder, files) for folder in folders) if found), None)
    if paths is None:
        raise ConfigError(_not_found_message(name, cls, folders))
    try:
        train_images, train_labels = read_image_file(paths[0]), read_label_file(paths[1])
        test_images, test_labels = read_image_file(paths[2]), read_label_file(paths[3])
    except IDXFormatError as e:
        raise ConfigError(f"{name}: {e}") from None
    # the whole data set is checked before the first step, so no mistake surfaces after training
    classes = len(cls.classes)
    for images, labels, path, label_path in (
        (train_images, train_labels, paths[0], paths[1]),
        (test_images, test_labels, paths[2], paths[3]),
    ):
        if len(images) != len(labels):
            raise ConfigError(f"{name}: {path} holds {len(images)} images but its labels file holds {len(labels)}")
        if len(images) == 0:
            raise ConfigError(f"{name}: {path} holds no images")
        if labels.size and int(labels.max()) >= classes:
            at = int(np.argmax(labels >= classes))
            raise ConfigError(
                f"{name}: {label_path} gives image {at} the label {int(labels[at])}; {name} has {classes} classes (0-{classes - 1})"
            )
    if train_images.shape[1:] != test_images.shape[1:]:
        raise ConfigError(
            f"{name}: the training images are {train_images.shape[1]}x{train_images.shape[2]} but the test images "
            f"({paths[2]}) are {test_images.shape[1]}x{test_images.shape[2]}"
        )
    rows, cols = train_images.shape[1:]
    x_train = train_images.reshape(len(train_images), -1).astype(np.float32) / np.float32(255)
    x_test = test_images.reshape(len(test_images), -1).astype(np.float32) / np.float32(255)
    source = os.path.dirname(paths[0])
    return x_train, train_labels, x_test, test_labels, list(cls.classes), (int(rows), int(cols)), source


def _idx_folders(cls, roots: list[str]) -> list[str]:
    """Candidate folders in search order: ROOT/<Class>/raw and ROOT itself for each root, then system folders."""
    from ..vision.datasets.mnist import _package_dirs

    folders = []
    for root in roots:
        folders += [os.path.join(root, cls.__name__, "raw"), root]
    folders += list(cls.system_dirs)
    if cls.system_package and not any(_find_all(f, ["train-images-idx3-ubyte"]) for f in folders):
        folders += _package_dirs(cls.system_package)  # ask dpkg only when the known places failed
    return list(dict.fromkeys(folders))


def _find_all(folder: str, names: list[str]) -> list[str] | None:
    """Paths of every named file (plain or .gz) in folder, or None when one is missing."""
    found = []
    for name in names:
        path = next(
            (p for p in (os.path.join(folder, name), os.path.join(folder, name + ".gz")) if os.path.isfile(p)), None
        )
        if path is None:
            return None
        found.append(path)
    return found


def _not_found_message(name: str, cls, folders: list[str]) -> str:
    how = f"apt install {cls.system_package}, or " if cls.system_package else ""
    return (
        f"{name}: data files not found (train-images-idx3-ubyte[.gz] and the other three IDX files); looked in "
        f'{", ".join(folders)}; get them with {how}python -c "from ember.vision.datasets import {cls.__name__}; '
        f"{cls.__name__}('~/.cache/ember/data', download=True)\", or point --data-root at the folder holding them"
    )


# ---------------------------------------------------------------------------------------------------------- CSV


@dataclasses.dataclass
class CsvTable:
    """A parsed CSV file: float features (N, F), label strings, and the names of the feature columns."""

    features: np.ndarray
    labels: list[str]
    feature_names: list[str]
    target_name: str
    has_header: bool


def _csv_splits(path: str, cfg: RunConfig):
    table = read_csv(path, cfg.data.target)
    class_names = sorted(set(table.labels), key=_label_sort_key)
    if len(class_names) < 2:
        raise ConfigError(
            f"{path}: every row has the label {class_names[0]!r} in column {table.target_name!r}; a classifier "
            "needs at least two classes (is --target the right column?)"
        )
    index = {label: k for k, label in enumerate(class_names)}
    y = np.array([index[label] for label in table.labels], dtype=np.int64)
    if len(y) < 2:
        raise ConfigError(f"{path}: needs at least 2 data rows to split off a test set, found {len(y)}")
    train_idx, test_idx = split_indices(len(y), cfg.data.test_fraction, cfg.train.seed, _TEST_STREAM)
    x = table.features
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx], class_names


def _label_sort_key(label: str):
    """Numeric labels sort by value (2 before 10), others alphabetically after them."""
    number = _as_number(label)
    return (0, number, label) if number is not None else (1, 0.0, label)


# A number as a CSV cell may write it: ASCII digits, an optional sign, point and exponent. Python's float()
# also takes "1_000", "inf" and other scripts' digits, none of which a data file should mean silently.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _as_number(cell: str) -> float | None:
    """The cell's value when it is a plain decimal number with a finite value, else None."""
    if not _DECIMAL.fullmatch(cell):
        return None
    value = float(cell)
    return value if math.isfinite(value) else None


def feature_value(cell: str, where: str, hint: str) -> float:
    """A feature cell's value, or a ConfigError saying where and why: not a plain finite decimal number, or
    beyond float32's range (it would become inf)."""
    value = _as_number(cell)
    if value is None:
        what = "an empty cell" if cell == "" else f"{cell!r} is not a finite decimal number"
        raise ConfigError(f"{where}: {what}; feature columns must be numeric (encode or drop that column, or {hint})")
    if abs(value) > _FLOAT32_MAX:
        raise ConfigError(f"{where}: {cell} is beyond float32's range (+-{_FLOAT32_MAX:.4g}); rescale that column")
    return value


def _column_words(names: list[str], c: int) -> str:
    """How a message names column c: by its header name, or by number when it has none."""
    return f"column {names[c]!r}" if names[c] else f"the unnamed column {c} (0-based)"


def numbers_the_columns(cells: list[str]) -> bool:
    """Whether a row reads 0, 1, ..., or 1, 2, ...: the header a table library writes for unnamed columns."""
    return cells in ([str(i) for i in range(len(cells))], [str(i + 1) for i in range(len(cells))])


def _normal_label(cell: str) -> str:
    """A label as one class name whatever its spelling: numeric labels by value ("1", "1.0" and "01" are
    the class "1"; "0.50" is "0.5"), others as written."""
    value = _as_number(cell)
    if value is None:
        return cell
    return str(int(value)) if value.is_integer() else repr(value)


def _delimiter(first_line: str) -> str:
    """Comma unless the first line has none but does have tabs or semicolons."""
    if "," in first_line:
        return ","
    for candidate in ("\t", ";"):
        if candidate in first_line:
            return candidate
    return ","


def read_csv(path: str, target: str = "", has_header: bool | None = None) -> CsvTable:
    """Parse a CSV file of numeric features and one label column (by name or 0-based index; default the last)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            f.seek(0)
            reader = csv.reader(f, delimiter=_delimiter(first))
            rows = [(reader.line_num, [c.strip() for c in row]) for row in reader if any(c.strip() for c in row)]
    except OSError as e:
        raise ConfigError(f"cannot read data file {path!r}: {e.strerror or e}") from None
    except csv.Error as e:  # a field over the csv module's 128 KiB limit, a NUL byte, ...
        raise ConfigError(f"{path}, row {reader.line_num}: not a CSV row ({e})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    if not rows:
        raise ConfigError(f"{path}: the file is empty")
    if has_header is None:
        has_header = _detect_header(rows)
    width = len(rows[0][1])
    names = rows[0][1] if has_header else [str(i) for i in range(width)]
    body = rows[1:] if has_header else rows
    if not body:
        raise ConfigError(f"{path}: no data rows (only a header)")
    if width < 2:
        raise ConfigError(f"{path}: found {width} column; need at least one feature column and a label column")
    col = _target_column(path, target, names, has_header)
    feature_cols = [c for c in range(width) if c != col]
    for line, row in body:
        if len(row) != width:
            raise ConfigError(f"{path}, row {line}: has {len(row)} cells but the first row has {width}")
    for c in range(width):
        if all(row[c] == "" for _, row in body):
            raise ConfigError(
                f"{path}: {_column_words(names, c)} is empty in every row (a delimiter at the end of each line?); "
                "remove it, or choose the label column with --target"
            )
    features = np.empty((len(body), len(feature_cols)), dtype=np.float32)
    labels = []
    for r, (line, row) in enumerate(body):
        if row[col] == "":
            raise ConfigError(f"{path}, row {line}, column {names[col]!r}: the label cell is empty")
        labels.append(_normal_label(row[col]))
        for j, c in enumerate(feature_cols):
            features[r, j] = feature_value(
                row[c], f"{path}, row {line}, column {names[c]!r}", "choose the label column with --target"
            )
    return CsvTable(features, labels, [names[c] for c in feature_cols], names[col], has_header)


def _detect_header(rows) -> bool:
    """The first row is a header when one of its cells is text above a number, every cell of it is text, or
    it numbers the columns (0, 1, ..., or 1, 2, ..., as a table library writes unnamed columns)."""
    first = rows[0][1]
    if numbers_the_columns(first):
        return True
    if len(rows) == 1:
        return all(_as_number(c) is None for c in first)
    second = rows[1][1]
    if all(_as_number(c) is None for c in first) and any(_as_number(c) is not None for c in second):
        return True
    return any(_as_number(a) is None and _as_number(b) is not None for a, b in zip(first, second))


def _target_column(path: str, target: str, names: list[str], has_header: bool) -> int:
    """Index of the label column named (or numbered) by data.target."""
    width = len(names)
    if target == "":
        return width - 1
    if has_header and target in names:
        return names.index(target)
    try:
        index = int(target)
    except ValueError:
        index = None
    if index is not None and -width <= index < width:
        return index % width
    if has_header:
        columns = ", ".join(names)
        raise ConfigError(f"{path}: no column {target!r} for data.target{_close(target, names)}; columns: {columns}")
    raise ConfigError(
        f"{path}: data.target {target!r} must be a 0-based column index below {width}: the file has no header row"
    )


def _close(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
