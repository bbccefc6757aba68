"""ember.compat: torch, torchvision and torchsummary imports served by ember (checked in fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_py(code: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter with the compat finder installed first."""
    prog = "import ember.compat; ember.compat.install()\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=REPO, timeout=120)


def check(code: str) -> str:
    proc = run_py(code)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_torch_modules_are_ember():
    out = check(
        """
        import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim
        import torch.utils.data, torch.autograd
        from torch.utils.data import DataLoader, Dataset
        import ember, ember.nn, ember.utils.data
        assert torch.Tensor is ember.Tensor and nn.Linear is ember.nn.Linear
        assert F.relu is ember.nn.functional.relu and optim.SGD is ember.optim.SGD
        assert DataLoader is ember.utils.data.DataLoader
        assert torch.nn is nn and torch.nn.functional is F and torch.utils.data.Dataset is Dataset
        x = torch.ones(2, requires_grad=True)
        (x * 3).sum().backward()
        print(type(torch).__name__, torch.__name__, nn.__name__, x.grad.tolist())
        """
    )
    assert out.split() == ["AliasModule", "torch", "torch.nn", "[3.0,", "3.0]"]


def test_torchvision_and_torchsummary():
    out = check(
        """
        import torchvision
        from torchvision import datasets, transforms
        import torchvision.transforms.functional as TF
        from torchvision.datasets import MNIST
        import ember.vision
        assert datasets.MNIST is MNIST is ember.vision.datasets.MNIST
        assert transforms.ToTensor is ember.vision.transforms.ToTensor and TF.to_tensor
        from torchsummary import summary
        import ember.summary
        assert summary is ember.summary.summary
        print(torchvision.datasets.__name__)
        """
    )
    assert out.strip() == "torchvision.datasets"


def test_missing_api_errors_name_the_torch_api():
    out = check(
        """
        import torch, torch.nn as nn
        try:
            nn.Conv3d
        except AttributeError as e:
            print(e)
        try:
            torch.frobnicate(3)
        except AttributeError as e:
            print(e)
        print(hasattr(torch, "frobnicate"))
        try:
            import torch.distributed.rpc
        except ImportError as e:
            print(type(e).__name__, e)
        try:
            from torch.nn import Conv3d
        except ImportError as e:
            print(type(e).__name__, e)
        """
    )
    lines = out.splitlines()
    assert lines[0] == "ember does not implement torch.nn.Conv3d"
    assert lines[1] == "ember does not implement torch.frobnicate"
    assert lines[2] == "False"
    assert lines[3].startswith("ModuleNotFoundError") and "ember does not implement torch.distributed" in lines[3]
    assert lines[4].startswith("ImportError") and "Conv3d" in lines[4] and "torch.nn" in lines[4]


def test_attribute_writes_reach_ember_and_real_torch_is_replaced():
    out = check(
        """
        import sys, torch, ember
        torch.my_flag = 5
        assert ember.my_flag == 5
        assert "site-packages" not in (getattr(torch, "__file__", "") or "")
        print(torch.tensor is ember.tensor and torch.__version__ == "2.13.0", sys.modules["torch"] is torch)
        """
    )
    assert out.split() == ["True", "True"]


def test_uninstall():
    out = check(
        """
        import torch, ember.compat
        ember.compat.uninstall()
        import sys
        print(ember.compat.is_installed(), any(k == "torch" for k in sys.modules))
        """
    )
    assert out.split() == ["False", "False"]


def test_name_mapping():
    from ember import compat

    assert compat.ember_name("torch") == "ember"
    assert compat.ember_name("torch.nn.functional") == "ember.nn.functional"
    assert compat.ember_name("torchvision.datasets") == "ember.vision.datasets"
    assert compat.ember_name("torchsummary") == "ember.summary"
    assert compat.ember_name("torchaudio") is None and compat.ember_name("numpy") is None
    assert compat.alias_name("ember.vision.transforms") == "torchvision.transforms"
    assert compat.alias_name("ember.optim") == "torch.optim"
