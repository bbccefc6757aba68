"""Classifying new examples with a trained run: image files, IDX files and CSV rows, prepared as in training."""

from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np

from .config import ConfigError, RunConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_PNG_MAGIC = b"\x89PNG"
_JPEG_MAGIC = b"\xff\xd8\xff"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclasses.dataclass
class Prediction:
    """The model's verdict on one example: where it came from, the best class and the class probabilities."""

    source: str  # "file" or "file:row"
    probs: np.ndarray  # (C,) class probabilities
    class_names: list[str]

    @property
    def label(self) -> int:
        """Index of the most probable class."""
        return int(np.argmax(self.probs))

    @property
    def class_name(self) -> str:
        """Name of the most probable class."""
        return self.class_names[self.label]

    def ranked(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable (class name, probability) pairs, best first."""
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(self.class_names[i], float(self.probs[i])) for i in order]

    def line(self) -> str:
        """`source  -> class  (p=0.93; next: a 0.04, b 0.01)`."""
        (best, p), *others = self.ranked(3)
        rest = "; next: " + ", ".join(f"{name} {q:.2f}" for name, q in others) if others else ""
        return f"{self.source}  -> {best}  (p={p:.2f}{rest})"


@dataclasses.dataclass
class InputInfo:
    """What preparing inputs needs to know about a run's data (read from its data.json and config.toml)."""

    num_features: int
    image_shape: tuple[int, int] | None
    mean: np.ndarray
    std: np.ndarray
    target: str  # CSV runs: data.target, to drop the label column when a file still has it

    @classmethod
    def from_run(cls, info: dict, cfg: RunConfig) -> InputInfo:
        """Build from the data.json contents and the run's config."""
        shape = info.get("image_shape")
        return cls(
            num_features=int(info["num_features"]),
            image_shape=tuple(int(d) for d in shape) if shape else None,
            mean=np.asarray(info["mean"], dtype=np.float64).reshape(-1),
            std=np.asarray(info["std"], dtype=np.float64).reshape(-1),
            target=cfg.data.target,
        )

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """Raw features (images scaled to [0, 1]) -> the normalised float32 rows the model was trained on."""
        return ((raw.astype(np.float64) - self.mean) / self.std).astype(np.float32)


def predict_files(run_dir: str, paths: list[str], checkpoint: str = "model", invert: bool = False) -> list[Prediction]:
    """Classify every example in the given files with the run's model."""
    from .evaluate import load_run_model, outputs_to_probs, predict_outputs

    if not paths:
        raise ConfigError("give at least one file to classify (PNG/JPEG images, IDX files or CSV files)")
    model, cfg, info = load_run_model(run_dir, checkpoint)
    spec = InputInfo.from_run(info, cfg)
    sources: list[str] = []
    rows: list[np.ndarray] = []
    for path in paths:
        names, raw = read_inputs(path, spec, invert)
        sources += names
        rows.append(raw)
    x = spec.normalise(np.concatenate(rows))
    probs = outputs_to_probs(predict_outputs(model, x), cfg.train.loss)
    class_names = list(info["class_names"])
    return [Prediction(source, p, class_names) for source, p in zip(sources, probs)]


def read_inputs(path: str, spec: InputInfo, invert: bool = False) -> tuple[list[str], np.ndarray]:
    """(source names, raw feature rows (N, F)) of one file, by its kind: image, IDX or CSV."""
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such file")
    kind = file_kind(path)
    if kind == "csv":
        return read_csv_rows(path, spec)
    if spec.image_shape is None:
        raise ConfigError(f"{path}: this run was trained on table data, so it classifies CSV rows, not {kind} files")
    if kind == "image":
        pixels = read_image(path, spec.image_shape)
        return [path], (1 - pixels if invert else pixels).reshape(1, -1)
    images = read_idx_images(path, spec.image_shape)
    names = [f"{path}:{i}" for i in range(len(images))] if len(images) > 1 else [path]
    return names, (1 - images if invert else images).reshape(len(images), -1)


def file_kind(path: str) -> str:
    """'image', 'idx' or 'csv', from the file's first bytes and then its name."""
    with open(path, "rb") as f:
        head = f.read(4)
    lower = path.lower()
    if head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC) or lower.endswith(IMAGE_SUFFIXES):
        return "image"
    if head[:2] == b"\x00\x00" or head.startswith(_GZIP_MAGIC) or "idx" in os.path.basename(lower):
        return "idx"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    raise ConfigError(
        f"{path}: cannot tell what kind of file this is; predict reads PNG/JPEG images, IDX files and CSV files (.csv)"
    )


def read_image(path: str, shape: tuple[int, int]) -> np.ndarray:
    """An image file as grayscale pixels in [0, 1], resized to shape (rows, cols)."""
    try:
        from PIL import Image
    except ImportError:
        raise ConfigError(f"{path}: reading image files needs Pillow: pip install ember[vision]") from None
    try:
        with Image.open(path) as img:
            gray = img.convert("L")
            if gray.size != (shape[1], shape[0]):
                gray = gray.resize((shape[1], shape[0]), Image.BILINEAR)
            return np.asarray(gray, dtype=np.float64) / 255.0
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read the image ({e})") from None


def read_idx_images(path: str, shape: tuple[int, int]) -> np.ndarray:
    """The images of an IDX file (N x rows x cols, or one rows x cols image) in [0, 1]; uint8 is divided by 255."""
    from ..vision.datasets._idx import IDXFormatError, read_idx

    try:
        arr = read_idx(path)
    except IDXFormatError as e:
        raise ConfigError(str(e)) from None
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or tuple(arr.shape[1:]) != tuple(shape):
        raise ConfigError(
            f"{path}: holds an array of shape {arr.shape}; the model takes {shape[0]}x{shape[1]} images "
            f"(an IDX file of shape N x {shape[0]} x {shape[1]})"
        )
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    return arr.astype(np.float64) / scale


def read_csv_rows(path: str, spec: InputInfo) -> tuple[list[str], np.ndarray]:
    """Rows of a CSV file as raw feature rows; a header row is skipped and a label column, if present, dropped."""
    from .data import _as_number, _delimiter, feature_value, numbers_the_columns

    with open(path, newline="", encoding="utf-8-sig") as f:
        first = f.readline()
        f.seek(0)
        reader = csv.reader(f, delimiter=_delimiter(first))
        try:
            rows = [(reader.line_num, [c.strip() for c in row]) for row in reader if any(c.strip() for c in row)]
        except csv.Error as e:  # a field over the csv module's 128 KiB limit, a NUL byte, ...
            raise ConfigError(f"{path}, row {reader.line_num}: not a CSV row ({e})") from None
    if not rows:
        raise ConfigError(f"{path}: the file is empty")
    header = None
    if all(_as_number(c) is None for c in rows[0][1]) or numbers_the_columns(rows[0][1]):
        header, rows = rows[0][1], rows[1:]
    if not rows:
        raise ConfigError(f"{path}: no data rows (only a header)")
    width = len(rows[0][1])
    drop = _label_column(path, width, header, spec)
    names, out = [], np.empty((len(rows), spec.num_features))
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ConfigError(f"{path}, row {line}: has {len(row)} cells but the first row has {width}")
        cells = [c for j, c in enumerate(row) if j != drop]
        for j, cell in enumerate(cells):
            column = header[j if drop is None or j < drop else j + 1] if header else str(j)
            out[r, j] = feature_value(cell, f"{path}, row {line}, column {column!r}", "drop it from the file")
        names.append(f"{path}:{line}")
    return names, out


def _label_column(path: str, width: int, header: list[str] | None, spec: InputInfo) -> int | None:
    """Which column to drop: none when the row is exactly the features, the label column when it has one more."""
    if width == spec.num_features:
        return None
    if width != spec.num_features + 1:
        raise ConfigError(
            f"{path}: rows have {width} cells; the model takes {spec.num_features} features "
            f"(or {spec.num_features + 1} cells including the label column)"
        )
    if spec.target == "":
        return width - 1
    if header is not None and spec.target in header:
        return header.index(spec.target)
    try:
        return int(spec.target) % width
    except ValueError:
        raise ConfigError(
            f"{path}: rows have one cell more than the {spec.num_features} features, but no header names the "
            f"label column {spec.target!r}; add the header row or drop that column"
        ) from None
