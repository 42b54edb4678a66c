"""Classification Accuracy Score on toy generators with known answers: real digits with their own classes
score like real data; the same digits with every class shifted by one teach the classifier nothing right."""
import pytest
import torch

from gan_core.metrics import cas as C
from gan_core.training.classifier import train_classifier
from tests.helpers import LookupGenerator


class Shifted(LookupGenerator):
    """Asked for class y, it draws a real digit of class y + 1."""

    def forward(self, z, y=None):
        return super().forward(z, (y + 1) % 10)


def test_cas_of_real_digits_is_near_the_floor_and_of_wrong_classes_near_zero():
    right = C.classification_accuracy_score(LookupGenerator(True), n=600, epochs=3, seed=0)
    assert right["n_train"] == 600 and right["epochs"] == 3
    assert right["floor_cas"] > 0.7 and right["cas"] > right["floor_cas"] - 0.1   # 600 digits, 3 epochs: rough
    wrong = C.classification_accuracy_score(Shifted(True), n=600, epochs=3, seed=0)
    assert wrong["cas"] < 0.1 and wrong["floor_cas"] == right["floor_cas"]      # the floor is computed once


def test_cas_needs_a_ten_class_conditional_generator():
    with pytest.raises(ValueError, match="conditional"):
        C.classification_accuracy_score(LookupGenerator(False))
    with pytest.raises(ValueError, match="one label per training image"):
        train_classifier(epochs=1, train_images=torch.zeros(4, 1, 28, 28), train_labels=torch.zeros(3))
