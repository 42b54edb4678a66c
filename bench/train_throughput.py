"""Images/s of our Trainer against a plain reference loop with the same networks and batch.

The reference is the classic pytorch/examples DCGAN step (BCE, D on real and detached fake, then G with
flipped labels), written out here. The two run in alternating rounds in one process so machine noise
hits both alike. Also prints model FLOP utilisation against a measured sgemm peak.

``--model stylegan``: the shipped mnist-stylegan recipe's networks (self-conditioned on 50 clusters) against a
plain StyleGAN2 step written out here with the same work: fakes with style mixing (0.9) and random noise, the
non-saturating loss through softplus, lazy R1 every 16 D steps, the running mean w, Adam (0, 0.99); real batches
with their clusters. (Neither side shifts images here: the recipe's DiffAugment is left off in both.)

    python bench/train_throughput.py [--model dcgan|stylegan] [--rounds 5] [--steps 30] [--batch 128]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from gan_core.data.datasets import load_mnist5k
from gan_core.training.recipes import default_config
from gan_core.training.trainer import Trainer


def reference_loop(G, D, real_all, batch, z_dim, steps, seed=0):
    """pytorch/examples dcgan/main.py's step, without EMA, metrics or checks."""
    g = torch.Generator().manual_seed(seed)
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    for _ in range(steps):
        real = real_all[torch.randint(len(real_all), (batch,), generator=g)]
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        D.zero_grad()
        err_real = F.binary_cross_entropy_with_logits(D(real), ones)
        fake = G(torch.randn(batch, z_dim, generator=g))
        err_fake = F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
        (err_real + err_fake).backward()
        opt_d.step()
        # (2) update G: maximize log(D(G(z)))
        G.zero_grad()
        F.binary_cross_entropy_with_logits(D(fake), ones).backward()
        opt_g.step()


def stylegan_reference_loop(G, D, real_all, labels, batch, steps, seed=0, mixing=0.9, r1_gamma=1.0, r1_every=16,
                            lr=2e-3):
    """A plain StyleGAN2 step (Karras et al. 2020) for the same networks, without the Trainer."""
    from gan_core.training.clusters import noise_in_clusters

    g = torch.Generator().manual_seed(seed)
    opt_d = torch.optim.Adam(D.parameters(), lr, betas=(0.0, 0.99))
    opt_g = torch.optim.Adam(G.parameters(), lr, betas=(0.0, 0.99))

    def fakes(y):
        z = noise_in_clusters(y, G.z_dim, G.cluster_offset, "gaussian", g)
        w = G.mapping(z)
        G.track_w_avg(w)
        ws = w[:, None].expand(-1, G.num_ws, -1)
        w2 = G.mapping(torch.randn(batch, G.z_dim, generator=g))
        cut = torch.randint(1, G.num_ws, (batch,), generator=g)
        cut = torch.where(torch.rand(batch, generator=g) < mixing, cut, G.num_ws)
        later = torch.arange(G.num_ws)[None] >= cut[:, None]
        return G.synthesis(torch.where(later[..., None], w2[:, None], ws), noise_mode="random")

    for step in range(steps):
        idx = torch.randint(len(real_all), (batch,), generator=g)
        real, y = real_all[idx], labels[idx]
        fake = fakes(y)
        loss_d = F.softplus(D(fake.detach(), y)).mean() + F.softplus(-D(real, y)).mean()
        if (step + 1) % r1_every == 0:
            x = real.detach().requires_grad_(True)
            grad, = torch.autograd.grad(D(x, y).sum(), x, create_graph=True)
            loss_d = loss_d + r1_gamma / 2 * grad.pow(2).flatten(1).sum(1).mean() * r1_every
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(fake, y)).mean()          # the same fakes, as the DCGAN reference does
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()


def sgemm_peak(n=1024, reps=20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=None, help="default: 128 (dcgan), 32 (stylegan, its recipe's)")
    ap.add_argument("--model", choices=["dcgan", "stylegan"], default="dcgan")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ds = load_mnist5k()
    style = args.model == "stylegan"
    args.batch = args.batch or (32 if style else 128)
    cfg = default_config("stylegan", model=dict(clusters=50), batch_size=args.batch, lr_g=2e-3, lr_d=2e-3) if style \
        else default_config("dcgan", batch_size=args.batch)
    trainer = Trainer(cfg, ds)
    G_ref, D_ref = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    real = ds.batch()
    labels = trainer.objective.labels if style else None

    def reference(steps):
        if style:
            stylegan_reference_loop(G_ref, D_ref, real, labels, args.batch, steps)
        else:
            reference_loop(G_ref, D_ref, real, args.batch, cfg.model.z_dim, steps)

    ours, ref = [], []
    trainer.run(3)
    reference(3)

    def time_ours():
        t0 = time.perf_counter()
        trainer.run(args.steps)
        ours.append(args.steps * args.batch / (time.perf_counter() - t0))

    def time_ref():
        t0 = time.perf_counter()
        reference(args.steps)
        ref.append(args.steps * args.batch / (time.perf_counter() - t0))

    for i in range(args.rounds):  # alternate which goes first: the machine's drift favours neither
        for f in ((time_ours, time_ref) if i % 2 == 0 else (time_ref, time_ours)):
            f()
    with FlopCounterMode(display=False) as fc:
        reference(1)
    flops_per_step = fc.get_total_flops()
    peak = sgemm_peak()
    o, r = statistics.median(ours), statistics.median(ref)
    print(f"{'StyleGAN' if style else 'DCGAN'} width={cfg.model.width} z={cfg.model.z_dim} batch={args.batch}, "
          f"{torch.get_num_threads()} threads")
    print(f"trainer    images/s: median {o:8.0f}  (rounds: {', '.join(f'{x:.0f}' for x in ours)})")
    print(f"reference  images/s: median {r:8.0f}  (rounds: {', '.join(f'{x:.0f}' for x in ref)})")
    paired = statistics.median(a / b for a, b in zip(ours, ref))
    print(f"ratio trainer/reference: {paired:.3f} (median of the rounds' ratios; target >= 0.95); "
          f"ratio of the medians {o / r:.3f}")
    if style:   # the FLOP counter counts a grouped (per-sample modulated) convolution as if ungrouped
        return
    achieved = flops_per_step * o / args.batch
    print(f"FLOPs per step: {flops_per_step / 1e9:.3f} GFLOP; achieved {achieved / 1e9:.2f} GFLOP/s; "
          f"sgemm peak {peak / 1e9:.1f} GFLOP/s; MFU {achieved / peak:.1%}")


if __name__ == "__main__":
    main()
