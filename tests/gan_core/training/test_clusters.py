"""Self-conditioning on k-means or spectral clusters (gan_core.training.clusters and the cluster paths of models and trainer)."""
import pytest
import torch

from gan_core.hub.checkpoints import load_checkpoint, save_checkpoint
from gan_core.training import clusters as C
from gan_core.training.clusters import argmax_offsets, find_clusters, kmeans_clusters, noise_in_clusters, spectral_clusters
from gan_core.data.datasets import load_mnist5k
from gan_core.models import ModelConfig, build_discriminator, build_generator
from gan_core.training.recipes import default_config
from gan_core.training.trainer import Trainer


def test_kmeans_separates_obvious_groups_and_labels_are_nearest_centres():
    g = torch.Generator().manual_seed(0)
    a = -0.9 + 0.05 * torch.randn(30, 1, 4, 4, generator=g)
    b = 0.9 + 0.05 * torch.randn(20, 1, 4, 4, generator=g)
    labels, centres = kmeans_clusters(torch.cat([a, b]), k=2, seed=0)
    assert centres.shape == (2, 16)
    assert len(set(labels[:30].tolist())) == 1 and len(set(labels[30:].tolist())) == 1
    assert labels[0] != labels[-1]
    assert sorted(labels.bincount().tolist()) == [20, 30]
    with pytest.raises(ValueError, match="Cannot make 60 clusters of 50 images"):
        kmeans_clusters(torch.cat([a, b]), k=60)


def _rings(n: int = 150) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric rings as 1x1x2 "images": (2n, 1, 1, 2) and which ring each point is on."""
    g = torch.Generator().manual_seed(0)
    t = torch.rand(2 * n, generator=g) * 6.2832
    r = torch.cat([torch.full((n,), 1.0), torch.full((n,), 3.0)]) + 0.05 * torch.randn(2 * n, generator=g)
    return torch.stack([r * t.cos(), r * t.sin()], 1).view(-1, 1, 1, 2), torch.arange(2 * n) >= n


@pytest.mark.filterwarnings("ignore:Graph is not fully connected")  # two rings: two pieces
def test_spectral_follows_the_shape_of_the_data_where_kmeans_cuts_it():
    """Two concentric rings: a nearest-neighbour graph keeps each ring whole; k-means cuts both in half."""
    x, outer = _rings()
    labels, centres = spectral_clusters(x, k=2, seed=0, components=2)
    assert centres.shape == (2, 2) and labels.dtype == torch.int64
    assert len(set(labels[~outer].tolist())) == 1 and len(set(labels[outer].tolist())) == 1
    assert labels[0] != labels[-1]
    assert torch.allclose(centres[labels[0]], x[labels == labels[0]].flatten(1).mean(0))  # mean of its members
    km, _ = kmeans_clusters(x, k=2, seed=0)
    assert len(set(km[outer].tolist())) == 2                        # k-means mixes the rings
    with pytest.raises(ValueError, match="Cannot make 9 spectral clusters of 5 images"):
        spectral_clusters(x[:5], k=9)
    with pytest.raises(ValueError, match="Unknown clustering 'dbscan'"):
        find_clusters(x, 2, "dbscan")


@pytest.mark.filterwarnings("ignore:Graph is not fully connected")  # two rings: two pieces
def test_spectral_fits_a_subset_of_large_sets_and_the_rest_joins_the_nearest(monkeypatch):
    x, outer = _rings(200)
    monkeypatch.setattr(C, "SPECTRAL_MAX_FIT", 250)                 # 250 clustered, 150 assigned by neighbour
    labels, _ = spectral_clusters(x, k=2, seed=1, components=2)
    assert len(labels) == 400
    assert len(set(labels[~outer].tolist())) == 1 and len(set(labels[outer].tolist())) == 1
    assert labels[0] != labels[-1]


def _stroke(slant: float, shift: int = 0) -> torch.Tensor:
    """A one-pixel-wide line through a 15x15 image, leaning ``slant`` columns per row, moved ``shift`` right."""
    x = -torch.ones(1, 1, 15, 15)
    for r in range(2, 13):
        x[0, 0, r, round(7 + shift + slant * (r - 7))] = 1.0
    return x


def test_deskew_straightens_a_slanted_stroke_and_centres_it():
    out = C.deskew(torch.cat([_stroke(-0.5), _stroke(0.0, shift=3), -torch.ones(1, 1, 15, 15)]))
    assert out.shape == (3, 1, 15, 15) and out.min() >= -1 and out.max() <= 1
    ink = (out + 1) / 2
    cols = torch.arange(15.0)
    for img in ink[:2, 0]:                                 # the slanted stroke, and the upright one off-centre
        per_row = (img * cols).sum(1)[3:12] / img.sum(1)[3:12]    # the ink's column in each inner row
        assert (per_row - 7.5).abs().max() < 0.6, per_row      # one vertical line, in the middle
    assert torch.equal(out[2], -torch.ones(1, 15, 15))    # no ink: nothing to straighten
    with pytest.raises(ValueError, match="single-channel"):
        C.deskew(torch.zeros(2, 3, 8, 8))


def test_spectral_clusters_of_mnist_are_purer_than_kmeans(mnist):
    """The reason "Fast digits, no labels" uses them: the share of each cluster's digits in its main class
    (the labels are read here only to measure; the clustering never sees them)."""
    x, y = mnist.batch(), mnist.labels

    def purity(labels):
        return sum(torch.bincount(y[labels == c]).max().item() for c in labels.unique()) / len(y)

    spectral, kmeans = purity(find_clusters(x, 30, "spectral")[0]), purity(find_clusters(x, 30, "kmeans")[0])
    assert spectral > 0.85 and spectral > kmeans + 0.1, (spectral, kmeans)
    straight = purity(find_clusters(x, 30, "spectral-deskewed")[0])     # slant no longer splits a digit
    assert straight > spectral + 0.02, (straight, spectral)


@pytest.mark.parametrize("noise", ["gaussian", "uniform"])
def test_offsets_make_argmax_follow_the_prior(noise):
    prior = torch.tensor([0.5, 0.25, 0.15, 0.1])
    b = argmax_offsets(prior, noise, n=50_000, seed=0)
    from gan_core.latent.sampling import sample_noise

    z = sample_noise(100_000, 4, noise, torch.Generator().manual_seed(1))   # fresh draws, not the fitted ones
    share = torch.bincount((z + b).argmax(1), minlength=4).float() / len(z)
    assert torch.allclose(share, prior, atol=0.01)
    # without offsets every cluster would come up a quarter of the time
    assert abs(torch.bincount(z.argmax(1), minlength=4)[0].item() / len(z) - 0.25) < 0.01


def test_self_conditioned_networks_look_unconditional_to_their_users():
    cfg = ModelConfig(width=8, z_dim=16, clusters=5)
    G, D = build_generator(cfg).eval(), build_discriminator(cfg).eval()
    assert G.num_classes == 0 and D.num_classes == 0          # no labels needed to sample or to judge
    z = torch.randn(6, 16)
    x = G(z)
    assert x.shape == (6, 1, 28, 28)
    code = G.cluster_code(z)
    assert torch.allclose(code.sum(1), torch.ones(6)) and torch.equal(code.argmax(1), G.cluster_of(z))
    # D without y judges each image as a member of its nearest centre
    D.centroids.copy_(torch.randn(5, 784))
    nearest = torch.cdist(x.flatten(1), D.centroids).argmin(1)
    assert torch.equal(D.cluster_of(x), nearest)
    assert torch.equal(D(x), D(x, nearest))


def test_a_lower_cluster_temperature_leaves_fewer_z_between_two_clusters():
    """What "Fast digits, no labels" sets it for: with 30 clusters, 22% of z have no code entry above 0.9 at
    the default 0.05, and 9% at 0.02 (those z draw a blend of two clusters, which rarely reads as one digit)."""
    z = torch.randn(20_000, 32, generator=torch.Generator().manual_seed(0))
    blended = {}
    for t in (0.05, 0.02):
        G = build_generator(ModelConfig(width=8, z_dim=32, clusters=30, cluster_temperature=t))
        code = G.cluster_code(z)
        assert torch.equal(code.argmax(1), G.cluster_of(z))                 # the same cluster at any temperature
        blended[t] = (code.max(1).values < 0.9).float().mean().item()
    assert 0.19 < blended[0.05] < 0.25 and 0.07 < blended[0.02] < 0.11, blended
    assert build_generator(ModelConfig(clusters=5)).cluster_temperature == 0.05   # the default


@pytest.mark.parametrize("bad,match", [(dict(conditioning="class", num_classes=10, clusters=5), "unconditional"),
                                       (dict(architecture="mlp", clusters=5), "unconditional"),
                                       (dict(z_dim=8, clusters=9), "between 2 and z_dim"),
                                       (dict(clusters=1), "between 2 and z_dim"),
                                       (dict(clusters=5, cluster_temperature=0), "0.001 to 1"),
                                       (dict(clusters=5, cluster_temperature="hot"), "0.001 to 1")])
def test_cluster_settings_are_validated(bad, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**bad)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist5k()


@pytest.mark.parametrize("kind", ["dcgan", "wgan-gp"])
def test_trainer_tells_d_the_clusters_and_g_draws_them_at_their_real_rates(kind, mnist):
    small = mnist.subset(torch.arange(0, 5000, 10))               # 500 digits, 50 per class
    t = Trainer(default_config(kind, model=dict(width=8, z_dim=16, clusters=6), batch_size=16), small)
    real = small.batch()
    assert torch.equal(t.objective.labels, t.D.cluster_of(real))           # real images carry their nearest centre
    counts = torch.bincount(t.objective.labels, minlength=6)
    assert (counts > 0).all() and counts.sum() == 500
    drawn = torch.bincount(t.G.cluster_of(torch.randn(60_000, 16)), minlength=6).float() / 60_000
    assert torch.allclose(drawn, counts.float() / 500, atol=0.015)
    z, y = t.objective.noise(32)
    assert torch.equal(y, t.G.cluster_of(z))                      # D is told the cluster G drew
    before = [p.detach().clone() for p in t.G.parameters()]
    hist = t.run(2)
    assert len(hist) == 2 and any(not torch.equal(a, b) for a, b in zip(before, t.G.parameters()))
    assert torch.equal(t.G_ema.cluster_offset, t.G.cluster_offset)


def test_self_conditioned_checkpoint_round_trips_with_its_clusters(tmp_path, mnist):
    small = mnist.subset(torch.arange(0, 5000, 25))
    t = Trainer(default_config("dcgan", model=dict(width=8, z_dim=16, clusters=4, cluster_temperature=0.02),
                               batch_size=16), small)
    t.run(1)
    folder = save_checkpoint(tmp_path / "sc", t.checkpoint_config(), {"G": t.G_ema, "D": t.D})
    ck = load_checkpoint(folder, discriminator=True)
    assert ck.model_config.clusters == 4 and ck.generator.cluster_temperature == 0.02
    assert torch.equal(ck.generator.cluster_offset, t.G_ema.cluster_offset)
    assert torch.equal(ck.discriminator.centroids, t.D.centroids)
    z = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.equal(ck.generator(z), t.G_ema.eval()(z))


@pytest.mark.parametrize("noise", ["gaussian", "uniform"])
def test_noise_in_clusters_draws_exactly_the_asked_clusters_from_the_right_distribution(noise):
    offsets = argmax_offsets(torch.tensor([0.6, 0.3, 0.08, 0.02]), noise, n=20_000)
    want = torch.tensor([3] * 500 + [0] * 500)                    # the rarest cluster too
    z = noise_in_clusters(want, 6, offsets, noise, torch.Generator().manual_seed(0))
    assert z.shape == (1000, 6)
    assert torch.equal((z[:, :4] + offsets).argmax(1), want)
    # the entries that do not choose the cluster keep their distribution
    rest = z[:, 4:]
    if noise == "gaussian":
        assert abs(rest.mean()) < 0.1 and abs(rest.std() - 1) < 0.1
    else:
        assert rest.min() >= -1 and rest.max() <= 1 and abs(rest.mean()) < 0.1
    # and given the cluster, z[:k] is distributed as plain noise conditioned on that cluster
    from gan_core.latent.sampling import sample_noise

    ref = sample_noise(200_000, 4, noise, torch.Generator().manual_seed(1))
    ref = ref[(ref + offsets).argmax(1) == 0]
    assert torch.allclose(z[500:, :4].mean(0), ref.mean(0), atol=0.1)


def test_d_sees_fakes_from_the_clusters_of_its_real_batch(mnist, monkeypatch):
    small = mnist.subset(torch.arange(0, 5000, 10))
    t = Trainer(default_config("dcgan", model=dict(width=8, z_dim=16, clusters=6), batch_size=32), small)
    seen = []
    real_forward = t.D.forward

    def spy(x, y=None):
        seen.append(y.clone())
        return real_forward(x, y)

    monkeypatch.setattr(t.D, "forward", spy)
    t.discriminator_step(keep_fake=True)
    y_real, y_fake = seen[0], seen[1]
    assert torch.equal(y_real, y_fake)
    fake, y_kept = t.objective.take_kept()
    assert torch.equal(y_kept, y_real)


def test_self_conditioned_acgan_d_names_the_cluster_and_g_stays_unconditional(mnist):
    """"Fast digits, no labels": an AC-GAN whose class head names spectral clusters; no digit label is used."""
    import torch.nn.functional as F

    from gan_core.training.presets import preset_config

    small = mnist.subset(torch.arange(0, 5000, 10))
    cfg = preset_config("Fast digits, no labels", model=dict(width=8, z_dim=16, clusters=6), batch_size=16)
    assert not cfg.model.conditional and cfg.model.num_classes == 0
    t = Trainer(cfg, small)
    assert t.D.aux_classes == 6 and t.D.clusters == 0   # D is not told the cluster: it names it
    assert not torch.equal(t.objective.labels, small.labels)                 # the clusters, not the digits' labels
    assert cfg.clustering == "spectral" and torch.equal(t.objective.labels, spectral_clusters(small.batch(), 6, cfg.seed)[0])
    z, y = t.objective.noise(32)
    assert torch.equal(y, t.G.cluster_of(z))                        # the cluster comes from z alone
    real, y_real = small.batch()[:200], t.objective.labels[:200]

    def cluster_loss():
        t.D.eval()
        with torch.no_grad():
            return F.cross_entropy(t.D.scores_and_classes(real)[1], y_real).item()

    before = cluster_loss()
    t.run(120)                                      # spectral clusters follow shapes, not pixels: slower to learn
    assert cluster_loss() < before - 0.2            # D's head learned the clusters (chance is ln 6 = 1.79)
    with torch.no_grad():
        assert t.G_ema.eval()(torch.randn(4, 16)).shape == (4, 1, 28, 28)   # G(z), nothing else


def test_aux_weight_and_clustering_are_checked():
    with pytest.raises(ValueError, match="aux_weight"):
        default_config("acgan", aux_weight=-1)
    with pytest.raises(ValueError, match="clustering must be one of kmeans, spectral"):
        default_config("dcgan", clustering="dbscan")
    with pytest.raises(ValueError, match="single-channel"):
        default_config("dcgan", model=dict(img_shape=(3, 32, 32), clusters=10), clustering="spectral-deskewed")
    assert default_config("dcgan", model=dict(clusters=10), clustering="spectral-deskewed").clustering == \
        "spectral-deskewed"
