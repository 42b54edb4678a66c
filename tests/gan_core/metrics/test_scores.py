import math

import pytest
import torch
from torch import nn

from gan_core.metrics import scores as M
from tests.helpers import LookupGenerator
from gan_core.data.datasets import load_mnist5k
from gan_core.models import ClassifierConfig, build_classifier


@pytest.fixture(scope="module")
def clf():
    torch.manual_seed(0)
    return build_classifier(ClassifierConfig(width=4, feature_dim=16)).eval()


@pytest.fixture(scope="module")
def real():
    return load_mnist5k().batch(torch.arange(0, 5000, 10))  # 500 digits, 50 per class


def test_identical_sets_give_zero_fid_and_full_precision_recall(clf, real):
    assert M.fid(real, real, clf) == pytest.approx(0.0, abs=1e-2)
    f = M.ClassifierFeatures(clf)(real)
    assert M.precision_recall(f, f) == (1.0, 1.0)
    kmean, _ = M.kid(real, real, clf)
    assert abs(kmean) < 1e-2


def test_far_apart_sets_score_badly(clf, real):
    noise = torch.rand_like(real) * 2 - 1
    assert M.fid(real, noise, clf) > 10 * M.fid(real[0::2], real[1::2], clf)
    fr, fn = M.ClassifierFeatures(clf)(real), M.ClassifierFeatures(clf)(noise)
    p, r = M.precision_recall(fr, fn)
    assert p < 0.05 and r < 0.05


def test_precision_recall_separate_quality_from_variety():
    torch.manual_seed(0)
    real = torch.randn(1000, 2)
    narrow = torch.randn(1000, 2) * 0.2         # all inside the real manifold, covering little of it
    p, r = M.precision_recall(real, narrow)
    assert p > 0.95 and r < 0.5


def test_inception_score_bounds():
    class Fixed(nn.Module):
        feature_dim = 1

        def __init__(self, logits):
            super().__init__()
            self.logits = logits

        def forward(self, x):
            return self.logits[: len(x)]

        def features(self, x):
            return self.logits[: len(x), :1]

    uniform = torch.zeros(1000, 10)
    assert M.inception_score(torch.zeros(1000, 1, 28, 28), Fixed(uniform))[0] == pytest.approx(1.0, abs=1e-4)
    confident = torch.nn.functional.one_hot(torch.arange(1000) % 10, 10).float() * 50
    # each of the 10 random splits of 100 is only roughly balanced, so the score is just under 10
    assert 9.5 < M.inception_score(torch.zeros(1000, 1, 28, 28), Fixed(confident))[0] <= 10.0


def test_class_coverage_flags_collapse():
    collapsed = torch.nn.functional.one_hot(torch.full((100,), 7), 10).float()
    c = M.class_coverage(collapsed)
    assert c["classes_covered"] == 1 and c["class_histogram"][7] == 1.0
    assert c["kl_from_uniform"] == pytest.approx(math.log(10))
    balanced = torch.nn.functional.one_hot(torch.arange(100) % 10, 10).float()
    b = M.class_coverage(balanced)
    assert b["classes_covered"] == 10 and b["kl_from_uniform"] == pytest.approx(0.0)


def test_ppl_is_zero_for_a_generator_that_ignores_z(clf):
    class Constant(nn.Module):
        z_dim, num_classes, img_shape, noise = 4, 0, (1, 28, 28), "gaussian"

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, z, y=None):
            return torch.zeros(len(z), 1, 28, 28) + self.w

    assert M.perceptual_path_length(Constant(), clf, n=50) == 0.0


def test_ppl_grows_with_generator_sensitivity(clf):
    class Linear(nn.Module):
        num_classes, img_shape, noise = 0, (1, 28, 28), "gaussian"

        def __init__(self, scale):
            super().__init__()
            torch.manual_seed(1)
            self.z_dim, self.proj, self.scale = 8, nn.Linear(8, 784), scale

        def forward(self, z, y=None):
            return torch.tanh(self.scale * self.proj(z)).view(-1, 1, 28, 28)

    assert M.perceptual_path_length(Linear(0.1), clf, n=100) < M.perceptual_path_length(Linear(1.0), clf, n=100)


def test_nearest_training_images_find_copies(clf, real):
    samples = real[[3, 250]]
    nn_ = M.nearest_training_images(samples, real, clf, k=2)
    idx, dist = nn_["pixel"]
    assert idx[:, 0].tolist() == [3, 250] and (dist[:, 0] < 1e-6).all()
    assert (dist[:, 1] > 0).all()
    assert nn_["feature"][0][:, 0].tolist() == [3, 250]


@pytest.mark.pretrained
def test_collapsed_generator_covers_one_class_with_the_shipped_classifier():
    r = M.evaluate(LookupGenerator(False, collapse_to=3), n_samples=500, ppl_samples=20)
    assert r["classes_covered"] == 1 and r["class_histogram"][3] > 0.9
    assert r["recall"] < 0.3 and r["conditional_accuracy"] is None and r["cas"] is None


@pytest.mark.pretrained
def test_a_generator_of_real_digits_scores_near_the_floor():
    r = M.evaluate(LookupGenerator(True), n_samples=1000, ppl_samples=20)
    assert r["conditional_accuracy"] > 0.97
    assert r["cas"] > r["floor_cas"] - 0.06 and r["floor_cas"] > 0.85   # real pairs teach as well as real data
    assert r["classes_covered"] == 10 and r["precision"] > 0.9
    assert r["fid"] < 5 * max(r["floor_fid"], 1.0)
    assert set(r["timings_s"]) >= {"generate", "fid", "kid", "precision_recall", "ppl", "floors"}


@pytest.mark.pretrained
def test_floors_are_what_real_data_scores():
    f = M.floors(0)
    assert f["floor_precision"] > 0.8 and f["floor_recall"] > 0.8 and f["floor_classes_covered"] == 10
    assert f["floor_fid"] < 2.0 and abs(f["floor_kid"]) < 0.1


def test_evaluate_rejects_bad_input(clf):
    with pytest.raises(ValueError, match="positive"):
        M.evaluate(LookupGenerator(False), n_samples=0, classifier=clf)


def test_digit_readiness_known_answers():
    from gan_core.metrics.scores import digit_readiness

    sure = torch.full((10, 10), -10.0)
    sure[torch.arange(10), torch.arange(10)] = 10.0          # ten confident samples, one per class
    r = digit_readiness(sure)
    assert r == {"confident_share": 1.0, "confident_classes": 10, "digits_ready": True}
    unsure = torch.zeros(10, 10)                                # uniform: nobody is confident
    assert digit_readiness(unsure)["confident_share"] == 0.0
    mixed = torch.cat([sure[:8], unsure[:2]])                  # 80% confident but only 8 classes
    r = digit_readiness(mixed)
    assert r["confident_share"] == pytest.approx(0.8) and r["confident_classes"] == 8 and not r["digits_ready"]
