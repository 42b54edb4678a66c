"""The digit classifier whose penultimate features the metrics measure in (our stand-in for Inception)."""
from __future__ import annotations

import torch
from torch import nn


class DigitClassifier(nn.Module):
    """Two conv blocks and a 128-unit feature layer.

    ``features(x)`` gives the (B, feature_dim) embedding used by FID, KID, precision/recall and PPL;
    ``forward(x)`` gives class logits. Inputs are images in [-1, 1].

    Example:
        >>> C = DigitClassifier()
        >>> C(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, img_shape: tuple = (1, 28, 28), width: int = 32,
                 feature_dim: int = 128):
        super().__init__()
        self.num_classes, self.img_shape, self.feature_dim = num_classes, tuple(img_shape), feature_dim
        c, h, w = self.img_shape
        self.conv = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.MaxPool2d(2),                                            # H/2
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(True),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(True),
            nn.MaxPool2d(2),                                            # H/4
        )
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * (h // 4) * (w // 4), feature_dim),
                                   nn.ReLU(True))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.conv(x))                                 # (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))               # (B, num_classes)
