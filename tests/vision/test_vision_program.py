"""A small torchvision program (FakeData, make_grid, save_image, read_image, write_png) runs unchanged under
`python -m ember run` and prints what torch's generator and Pillow say it should."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent(
    """
    import sys

    import torch
    import torchvision
    import torchvision.transforms as transforms
    from torchvision.io import ImageReadMode, read_image, write_png
    from torchvision.utils import make_grid, save_image

    out = sys.argv[1]
    data = torchvision.datasets.FakeData(size=12, image_size=(1, 10, 8), num_classes=5, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(data, batch_size=12)
    images, labels = next(iter(loader))
    print("labels", labels.tolist())
    grid = make_grid(images, nrow=4, normalize=True)
    print("grid", tuple(grid.shape))
    save_image(images, out + "/grid.png", nrow=4)
    back = read_image(out + "/grid.png", mode=ImageReadMode.GRAY)
    print("read", tuple(back.shape), back.dtype, int(back.sum()))
    write_png(back, out + "/gray.png")
    print("again", torch.equal(read_image(out + "/gray.png"), back))
    """
)


def test_a_torchvision_program_runs_under_ember_run(tmp_path):
    script = tmp_path / "vision_program.py"
    script.write_text(PROGRAM)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ember", "run", str(script), str(tmp_path)]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()

    labels = []
    for i in range(12):  # torchvision's recipe on torch's generator
        torch.manual_seed(i)
        torch.randn(1, 10, 8)
        labels.append(int(torch.randint(0, 5, (1,))[0]))
    assert lines[0] == f"labels {labels}"
    assert lines[1] == "grid (3, 38, 42)"  # 3 rows of 4 tiles of 10 x 8, 2 pixels of padding
    with Image.open(tmp_path / "grid.png") as img:
        saved = np.asarray(img)
    assert saved.shape == (38, 42, 3) and (saved[..., 0] == saved[..., 2]).all()  # gray, repeated
    assert lines[2] == f"read (1, 38, 42) torch.uint8 {int(saved[..., 0].astype(np.int64).sum())}"
    assert lines[3] == "again True"
