import io

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.latent import explorer as E
from gan_core.models import ClassifierConfig, ModelConfig, build_classifier, build_discriminator, build_generator


def make(classes=0):
    torch.manual_seed(0)
    cfg = ModelConfig(width=8, z_dim=8, num_classes=classes)   # conditioning 'class' when classes > 0
    C = build_classifier(ClassifierConfig(width=4, feature_dim=16)).eval()
    return E.Explorer(build_generator(cfg).eval(), build_discriminator(cfg).eval(), C, k=4)


def test_z_offsets_are_in_sigmas_along_unit_directions():
    ex = make()
    z0 = ex.z_for(3)
    z1 = ex.z_for(3, directions={1: 2.0}, dims={5: -1.0})
    delta = z1 - z0
    delta[0, 5] += 1.0
    assert torch.allclose(delta[0], 2.0 * ex.directions[1], atol=1e-6)
    with pytest.raises(ValueError):
        ex.z_for(3, dims={99: 1.0})


def test_moving_a_direction_changes_the_image_and_judgement():
    ex = make()
    a, b = ex.image(ex.z_for(1)), ex.image(ex.z_for(1, directions={0: 3.0}))
    assert a.shape == (28, 28, 1) and not np.array_equal(a, b)
    v = ex.judge(ex.z_for(1))
    assert 0 <= v["realness"] <= 1 and v["realness_is_probability"]
    assert len(v["class_probs"]) == 10 and sum(v["class_probs"]) == pytest.approx(1.0, abs=1e-5)


def test_direction_strip_centre_is_the_current_image():
    ex = make()
    z = ex.z_for(4)
    s = ex.direction_strip(z, 0)
    assert s.shape == (7, 28, 28, 1) and np.array_equal(s[3], ex.image(z))


@pytest.mark.parametrize("classes", [0, 10])
def test_one_pass_view_matches_image_strip_and_judge(classes):
    """The explorer's view (one pass of G for the image, the strip and the verdict) gives what the three
    separate calls give."""
    ex = make(classes)
    label = 3 if classes else None
    z = ex.z_for(9, directions={1: 1.5})
    v = ex.view(z, 2, label)
    assert np.array_equal(v["image"], ex.image(z, label)) and v["image"].shape == (28, 28, 1)
    assert np.abs(v["strip"].astype(int) - ex.direction_strip(z, 2, label=label).astype(int)).max() <= 1
    j = ex.judge(z, label)
    assert v["realness"] == pytest.approx(j["realness"], abs=1e-5)
    assert v["class_probs"] == pytest.approx(j["class_probs"], abs=1e-5)


def test_interpolation_frames_and_smoothness_readout():
    ex = make()
    wp = torch.cat([ex.z_for(1), ex.z_for(2), ex.z_for(3)])
    r = ex.interpolation(wp, 5, "slerp")
    assert r["frames"].shape == (9, 28, 28, 1) and len(r["step_distances"]) == 8
    assert all(d >= 0 for d in r["step_distances"])


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_latent_map_projects_every_seed(method):
    m = make().latent_map(range(40), method)
    assert m["xy"].shape == (40, 2) and len(m["pred"]) == 40 and m["seeds"] == list(range(40))


def test_arithmetic_reports_missing_classes_clearly():
    ex = make()
    with pytest.raises(ValueError, match="confidence"):
        ex.arithmetic(0, 1, 2, n=50, min_confidence=1.01)


def test_conditional_helpers():
    ex = make(10)
    cols = E.every_class(ex, [1, 2])
    assert cols.shape == (2, 10, 28, 28, 1)
    # same z in a row: the class input alone changes the image
    assert not np.array_equal(cols[0, 0], cols[0, 1])
    m = E.morph(ex, 5, 1, 7, [0.0, 0.5, 1.0])
    assert np.array_equal(m["frames"][0], E.class_samples(ex, 1, [5])[0])
    assert np.array_equal(m["frames"][2], E.class_samples(ex, 7, [5])[0])
    assert len(m["p_a"]) == 3
    with pytest.raises(ValueError, match="class"):
        ex.image(ex.z_for(1), label=None)


def test_sorted_by_class_and_discriminator_scores_and_memorization():
    ex = make()
    groups = E.sorted_by_class(ex, n=30, per_class=3)
    assert set(groups) == set(range(10)) and sum(len(g) for g in groups.values()) <= 30
    s = E.discriminator_scores(ex, n=20)
    assert s["real"].shape == (20,) and s["fake"].shape == (20,)
    m = E.memorization(ex, n=3)
    assert m["samples"].shape == (3, 28, 28, 1) and len(m["pixel_dist"]) == 3
    # a real digit's nearest *other* real digit (issue 25: self-pairs left ~5e-7, shown as "0.000 away")
    assert 0.2 < m["real_to_real_pixel"] < 0.6, m["real_to_real_pixel"]


def test_gif_is_animated_and_png_strip_decodes():
    frames = np.stack([np.full((4, 4, 1), v, np.uint8) for v in (0, 100, 200)])
    gif = Image.open(io.BytesIO(E.gif_bytes(frames, scale=2)))
    assert gif.format == "GIF" and gif.n_frames >= 3 and gif.size == (8, 8)
    png = Image.open(io.BytesIO(E.png_bytes(E.strip(frames))))
    assert png.size == (3 * 4 + 2 * 2, 4)


def test_cluster_of_the_current_z_only_for_self_conditioned_generators():
    assert make().clusters == 0 and make().cluster(torch.randn(1, 8)) is None
    cfg = ModelConfig(width=8, z_dim=8, clusters=4)
    ex = E.Explorer(build_generator(cfg).eval(), build_discriminator(cfg).eval(), None, k=4)
    z = torch.tensor([[0.1, 2.0, -1.0, 0.5, 3.0, 0.0, 0.0, 0.0]])   # z[4] is not a cluster entry
    assert ex.clusters == 4 and ex.cluster(z) == 1
    assert ex.judge(z)["realness"] is not None                        # D places the image in a cluster itself
