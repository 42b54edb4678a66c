"""The pixels of quiz trials, drawn on the server: real digits from mnist-5k, fakes from the session's model,
pure noise for qualification trials. Only these pixels reach the browser."""
from __future__ import annotations

import numpy as np
import torch

from gan_core.hub.checkpoints import load_checkpoint
from gan_core.data.datasets import load_mnist5k
from gan_core.latent.sampling import seeds_to_z, to_uint8, truncate


class QuizImages:
    """Draws trial images for one model checkpoint folder (28x28 grey models)."""

    def __init__(self, checkpoint_dir: str):
        ck = load_checkpoint(checkpoint_dir, discriminator=True)
        self.G, self.D = ck.generator.eval(), ck.discriminator
        if self.D is not None:
            self.D.eval()
        self.loss = ck.config.get("training", {}).get("loss", "nonsaturating")
        if tuple(self.G.img_shape) != (1, 28, 28):
            raise ValueError("The quiz compares against mnist-5k digits: pick a 28x28 grey digit model.")
        self.data = load_mnist5k()

    def _labels(self, seeds) -> torch.Tensor | None:
        if not self.G.num_classes:
            return None
        return torch.tensor([s % self.G.num_classes for s in seeds])  # conditional: the class follows the seed

    @torch.no_grad()
    def fake_tensor(self, seeds, truncation: float = 1.0) -> torch.Tensor:
        z = truncate(seeds_to_z(seeds, self.G.z_dim, self.G.noise), truncation)
        return self.G(z, self._labels(seeds))

    def fake(self, seed: int, truncation: float = 1.0) -> np.ndarray:
        return to_uint8(self.fake_tensor([seed], truncation))[0, :, :, 0]

    def real(self, index: int) -> np.ndarray:
        return self.data.images[int(index) % len(self.data), 0].numpy()

    @staticmethod
    def noise(index: int) -> np.ndarray:
        """A qualification 'fake': random grey speckle no attentive person takes for a digit."""
        g = np.random.default_rng(int(index) + 77)
        return (g.random((28, 28)) ** 2 * 255).astype(np.uint8)

    @torch.no_grad()
    def d_real_prob(self, real_indices=(), fake_seeds=(), truncation: float = 1.0) -> dict:
        """D's probability that each image is real, keyed ("real", index) / ("fake", seed). For WGAN critics
        (scores, not logits) this is sigmoid(score): its ranking is meaningful, its 0.5 cut-off is not."""
        if self.D is None:
            return {}
        out = {}
        if real_indices:
            idx = torch.tensor([int(i) % len(self.data) for i in real_indices])
            y = self.data.labels[idx] if self.G.num_classes else None
            p = torch.sigmoid(self.D(self.data.batch(idx), y))
            out.update({("real", int(i)): float(v) for i, v in zip(real_indices, p)})
        if fake_seeds:
            x = self.fake_tensor(list(fake_seeds), truncation)
            p = torch.sigmoid(self.D(x, self._labels(fake_seeds)))
            out.update({("fake", int(s)): float(v) for s, v in zip(fake_seeds, p)})
        return out
