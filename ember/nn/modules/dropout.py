"""Dropout layers."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements with probability p during training, scaling the rest by 1/(1-p)."""

    def forward(self, input: Tensor) -> Tensor:
        """Dropout in training mode, identity in eval mode."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p during training (see F.dropout1d)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel dropout in training mode, identity in eval mode."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input with probability p during training (see F.dropout2d)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel dropout in training mode, identity in eval mode."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) input with probability p during training (see F.dropout3d)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel dropout in training mode, identity in eval mode."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks (see F.alpha_dropout); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        """Drop units to SELU's saturation value and rescale, while training."""
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (see F.feature_alpha_dropout); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        """Drop channels to SELU's saturation value and rescale, while training."""
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
