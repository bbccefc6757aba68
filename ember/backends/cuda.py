"""torch.backends.cuda: not built in ember; the matmul precision flags exist and can be set."""

from __future__ import annotations


class _MatmulFlags:
    """torch.backends.cuda.matmul: precision switches for CUDA products (no effect in ember)."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    """False: ember is not built with CUDA."""
    return False
