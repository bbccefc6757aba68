"""`ember run` / `python -m ember run`: a program behaves as under `python`, with torch served by ember."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def ember_run(script: Path, *args: str, cwd=None, console: bool = False) -> subprocess.CompletedProcess:
    exe = shutil.which("ember", path=str(Path(sys.executable).parent)) if console else None
    cmd = [exe, "run"] if exe else [sys.executable, "-m", "ember", "run"]
    return subprocess.run([*cmd, str(script), *args], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=120)


def write(tmp_path: Path, code: str, name: str = "prog.py") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(code))
    return p


def test_argv_name_path_and_relative_files(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "helper.py").write_text("VALUE = 42\n")
    (tmp_path / "data.txt").write_text("hello")
    prog = write(
        sub,
        """
        import os, sys
        import helper  # found because sys.path[0] is the script's folder
        import torch
        print(__name__, sys.argv[1:], helper.VALUE, open("data.txt").read())
        print(os.path.realpath(sys.path[0]) == os.path.realpath(os.path.dirname(__file__)))
        print(torch.tensor([1, 2]).sum().item())
        """,
    )
    proc = ember_run(Path("sub") / prog.name, "a", "--flag", "-x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "__main__ ['a', '--flag', '-x'] 42 hello"
    assert lines[1:] == ["True", "3"]


def test_exit_codes(tmp_path):
    assert ember_run(write(tmp_path, "import sys; sys.exit(3)")).returncode == 3
    assert ember_run(write(tmp_path, "pass")).returncode == 0
    proc = ember_run(write(tmp_path, "import sys; sys.exit('bye')"))
    assert proc.returncode == 1 and "bye" in proc.stderr


def test_exception_traceback_like_python(tmp_path):
    prog = write(
        tmp_path,
        """
        def f():
            raise ValueError("boom")
        f()
        """,
    )
    proc = ember_run(prog)
    ref = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True)
    assert proc.returncode == ref.returncode == 1
    assert proc.stderr == ref.stderr
    assert "runpy" not in proc.stderr and "ember" not in proc.stderr


def test_missing_torch_api_is_a_clear_error(tmp_path):
    proc = ember_run(write(tmp_path, "import torch.nn as nn\nnn.Conv3d(1, 1, 3)\n"))
    assert proc.returncode == 1
    assert "ember does not implement torch.nn.Conv3d" in proc.stderr


def test_missing_script():
    proc = ember_run(Path("/nonexistent/x.py"))
    assert proc.returncode == 2 and "can't open file" in proc.stderr


def test_console_script_and_module_mode(tmp_path):
    prog = write(tmp_path, "import torch, sys; print(torch.__name__, sys.argv[1:])")
    if shutil.which("ember", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the ember console script is not installed in this environment")
    proc = ember_run(prog, "z", console=True)
    assert proc.returncode == 0 and proc.stdout.split() == ["torch", "['z']"]


def test_run_module_mode(tmp_path):
    (tmp_path / "mymod.py").write_text("import sys, torch\nprint(__name__, sys.argv[1:], torch.__name__)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "ember", "run", "-m", "mymod", "q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "__main__ ['q'] torch"
    # flags after the module's name are the module's, --help included, as with python -m
    proc = subprocess.run(
        [sys.executable, "-m", "ember", "run", "-m", "mymod", "--help", "-x"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=ENV,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "__main__ ['--help', '-x'] torch", proc.stderr


def test_no_command_prints_help():
    proc = subprocess.run([sys.executable, "-m", "ember"], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2 and "run" in proc.stderr


def test_main_parser_in_process():
    from ember.cli.main import build_parser

    args = build_parser().parse_args(["run", "x.py", "--lr", "3", "-v"])
    assert args.script == "x.py" and args.args == ["--lr", "3", "-v"] and args.module is None
    args = build_parser().parse_args(["run", "x.py", "-m", "foo", "-h"])  # the program's own options pass through
    assert args.args == ["-m", "foo", "-h"] and args.module is None


def test_dataloader_workers_inside_ember_run(tmp_path):
    prog = write(
        tmp_path,
        """
        import torch
        from torch.utils.data import DataLoader, Dataset

        class Squares(Dataset):  # defined in __main__, used by forked workers
            def __len__(self):
                return 10

            def __getitem__(self, i):
                return torch.tensor([float(i * i)]), i

        if __name__ == "__main__":
            loader = DataLoader(Squares(), batch_size=4, num_workers=2)
            print([y.tolist() for _, y in loader], len(loader))
        """,
    )
    proc = ember_run(prog)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] 3"


def test_version_checks_in_programs_see_the_torch_release_ember_follows(tmp_path):
    prog = write(
        tmp_path,
        """
        import torch, torchvision
        import ember
        print(torch.__version__, torchvision.__version__, ember.__version__)
        print(torch.__version__ >= "2.9", torch.__version__ < "2.14", torch.__version__ >= (2, 0), torch.__version__ == "2.13.0")
        """,
    )
    proc = ember_run(prog)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["2.13.0 0.28.0 0.1.0", "True True True True"]


def test_the_device_lines_of_current_tutorials_answer_as_a_cpu_only_torch_does(tmp_path):
    prog = write(
        tmp_path,
        """
        import torch
        import torch.backends.cudnn as cudnn
        device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
        print(f"Using {device} device")
        other = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
        print(other, torch.backends.mps.is_built(), torch.backends.cudnn.is_available(), torch.backends.cudnn.version())
        print(torch.accelerator.device_count(), torch.accelerator.current_accelerator(), torch.mps.is_available())
        cudnn.benchmark = True
        cudnn.deterministic = True
        torch.backends.cuda.matmul.allow_tf32 = True
        print(torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic, torch.backends.cuda.is_built())
        torch.set_default_device(device)
        with torch.device(device):
            x = torch.ones(2)
        print(x.device, torch.get_default_device(), x.to(device).cpu().device)
        try:
            torch.accelerator.current_device_index()
        except RuntimeError as e:
            print("RuntimeError:", e)
        """,
    )
    mine = ember_run(prog)
    theirs = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, timeout=120)
    assert mine.returncode == 0 and theirs.returncode == 0, (mine.stderr, theirs.stderr)
    assert mine.stdout == theirs.stdout
    assert mine.stdout.startswith("Using cpu device\ncpu False False None\n0 None False\nTrue True False\n")


def test_objects_a_tutorial_prints_look_as_torch_prints_them(tmp_path):
    prog = write(
        tmp_path,
        """
        import torch
        x = torch.ones(2, requires_grad=True)
        z = x * 2 + 1
        model = torch.nn.Linear(2, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        print(z.grad_fn)
        print(z.grad_fn.next_functions)
        print(torch.Generator(), torch.utils.data.DataLoader([1, 2]), torch.optim.lr_scheduler.StepLR(opt, 1), sep="\\n")
        print(x.register_hook(lambda g: g), model.register_forward_hook(lambda *a: None), sep="\\n")
        print(torch.device("cpu"), repr(torch.device("cpu")), torch.float32, torch.Size([2, 3]))
        """,
    )
    mine = ember_run(prog)
    theirs = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, timeout=120)
    assert mine.returncode == 0 and theirs.returncode == 0, (mine.stderr, theirs.stderr)

    def masked(text):
        import re

        return re.sub(r"0x[0-9a-f]+", "0x...", text)

    assert masked(mine.stdout) == masked(theirs.stdout)
