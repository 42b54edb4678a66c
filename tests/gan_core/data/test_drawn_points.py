"""Your own 2D data: CSV parsing, painted canvases, link text, clustering into modes, training on it."""
import base64
import zlib

import numpy as np
import pytest
import torch

from gan_core.data import drawn_points as drawn
from gan_core.data.toy import sample_toy
from gan_core.data.drawn_points import PointsError
from gan_core.training.playground import Playground, playground_config
from gan_core.training.config import TrainConfig
from gan_core.training.trainer import Trainer


def test_parse_csv_reads_headers_separators_and_comments():
    pts, note = drawn.parse_csv("# my points\nx;y\n0.5,1\n-1\t0.25\n\n2 -2\n")
    assert note is None
    np.testing.assert_allclose(pts, [[0.5, 1], [-1, 0.25], [2, -2]], atol=0.013)
    pts, _ = drawn.parse_csv(b"\xef\xbb\xbfx,y\n1,1\n0,0\n")     # a UTF-8 file with a byte-order mark
    assert len(pts) == 2


@pytest.mark.parametrize("text, words", [
    ("x,y\n1,2\nabc,3\n", "Line 3: 'abc' is not a number"),
    ("1,2\n3,4,5\n", "Line 2 has 3 values"),
    ("1,2\nnan,1\n", "Line 2 holds a value that is not a finite number"),
    ("1,2\n1,inf\n", "not a finite number"),
    ("1,1\n1,1\n1,1\n", "same point"),
    ("4,4\n", "same point"),
    ("x,y\n", "No points found"),
    ("", "No points found"),
    ("\n".join(f"{i % 7},{i % 5}" for i in range(drawn.MAX_POINTS + 1)), "at most 5,000"),
])
def test_parse_csv_refuses_bad_input_with_one_sentence(text, words):
    with pytest.raises(PointsError, match=words):
        drawn.parse_csv(text)


def test_parse_csv_refuses_binary_and_huge_files():
    with pytest.raises(PointsError, match="not text"):
        drawn.parse_csv(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(PointsError, match="at most"):
        drawn.parse_csv(b"1,1\n" * (drawn.MAX_CSV_BYTES // 4 + 1))


def test_points_outside_the_square_are_scaled_to_fit_and_said_so():
    pts, note = drawn.parse_csv("100,200\n300,200\n200,400\n")
    assert note is not None and "scaled by" in note
    assert np.abs(pts).max() <= drawn.FIT + 0.02
    # the shape is kept: the third point stays twice as far above the centre's height as the others are below
    assert pts[0, 0] < pts[2, 0] < pts[1, 0] and pts[2, 1] > pts[0, 1] == pytest.approx(pts[1, 1])


def test_link_text_round_trips_exactly_and_is_short_for_a_drawing():
    pts = drawn.points_from_ink(_canvas([(60, 60, 20)]), n=drawn.DRAWN_POINTS)
    text = drawn.encode_points(pts)
    np.testing.assert_array_equal(drawn.decode_points(text), pts)
    assert drawn.link_text(pts) == text and len(text) <= drawn.URL_MAX_CHARS
    big = drawn.quantise(np.random.default_rng(0).uniform(-3, 3, (3000, 2)))
    assert drawn.link_text(big) is None       # too large: the page offers the download instead


@pytest.mark.parametrize("text", ["", "abc", "!!!!!!!!", "A" * 40, base64.urlsafe_b64encode(b"junk").decode()])
def test_decode_refuses_damaged_link_text(text):
    with pytest.raises(PointsError):
        drawn.decode_points(text)


def test_decode_refuses_a_small_text_that_expands_hugely():
    bomb = base64.urlsafe_b64encode(zlib.compress(bytes(2_000_000), 9)).decode().rstrip("=")
    assert len(bomb) < 4 * drawn.URL_MAX_CHARS
    with pytest.raises(PointsError, match="damaged"):
        drawn.decode_points(bomb)


def _canvas(blobs, size=120):
    """An RGBA canvas, transparent except painted squares (centre x, centre y, half side) in pixels."""
    a = np.zeros((size, size, 4), np.uint8)
    for cx, cy, r in blobs:
        a[cy - r:cy + r, cx - r:cx + r] = (44, 160, 44, 200)
    return a


def test_points_from_ink_land_where_the_paint_is():
    # a square painted in the upper right quarter: x in [1, 2], y in [1, 2] (y grows upwards on the plot)
    pts = drawn.points_from_ink(_canvas([(90, 30, 10)]), n=300)
    assert pts.shape == (300, 2)
    assert (pts[:, 0] >= 1 - 0.03).all() and (pts[:, 0] <= 2 + 0.03).all()
    assert (pts[:, 1] >= 1 - 0.03).all() and (pts[:, 1] <= 2 + 0.03).all()
    # two blobs of equal area share the points about equally
    two = drawn.points_from_ink(_canvas([(30, 30, 8), (90, 90, 8)]), n=400)
    assert 150 < (two[:, 0] < 0).sum() < 250
    with pytest.raises(PointsError, match="Nothing is drawn"):
        drawn.points_from_ink(_canvas([]))


def test_clustering_finds_the_modes_of_known_sets():
    g = torch.Generator().manual_seed(0)
    ring = drawn.quantise(sample_toy("ring8", 400, g).numpy())
    modes = drawn.find_modes(ring)
    assert len(modes) == 8
    np.testing.assert_allclose(np.sort(np.linalg.norm(modes.centres, axis=1)), 2.0, atol=0.05)
    two = drawn.points_from_ink(_canvas([(30, 30, 8), (90, 90, 8)]), n=400)
    assert len(drawn.find_modes(two)) == 2


def test_modes_covered_counts_modes_with_their_share():
    g = torch.Generator().manual_seed(1)
    modes = drawn.find_modes(drawn.quantise(sample_toy("ring8", 400, g).numpy()))
    assert modes.covered(sample_toy("ring8", 2000, g)) == 8
    one = torch.tensor(modes.centres[3]).repeat(500, 1)
    assert modes.covered(one) == 1
    assert modes.covered(torch.zeros(300, 2)) == 0          # the ring's centre is no mode
    half = torch.cat([torch.tensor(modes.centres[:4]).repeat(100, 1), torch.zeros(600, 2)])
    assert modes.covered(half) == 4                          # 10% each, above a quarter of 1/8


def test_train_config_keeps_points_with_the_drawn_dataset_only():
    cfg = playground_config(dataset="drawn", points=[[0, 0], [1, 1]])
    assert cfg.points == ((0.0, 0.0), (1.0, 1.0))
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="needs points"):
        playground_config(dataset="drawn")
    with pytest.raises(ValueError, match="go with dataset 'drawn'"):
        playground_config(dataset="ring8", points=[[0, 0], [1, 1]])


def test_trainer_samples_the_drawn_points_with_jitter():
    pts = np.array([[-2.0, -2.0], [2.0, 2.0]], np.float32)
    t = Trainer(playground_config(dataset="drawn", points=pts, batch_size=64))
    x, y = t.objective.real_batch(2000)
    assert y is None
    d = torch.cdist(x, torch.tensor(pts)).min(1).values
    assert d.max() < 6 * drawn.JITTER and d.mean() > drawn.JITTER / 2      # near a drawn point, not on it
    assert 800 < (x[:, 0] < 0).sum() < 1200


def test_playground_measures_modes_of_your_own_data():
    pts = drawn.points_from_ink(_canvas([(30, 30, 8), (90, 90, 8), (30, 90, 8)]), n=300)
    pg = Playground(playground_config(dataset="drawn", points=pts, batch_size=64))
    assert pg.mode_centres().shape == (3, 2)
    rows = pg.train(10)
    assert rows[-1]["modes"] is not None and 0 <= rows[-1]["modes"] <= 3
    assert pg.view(100)["real"].shape == (100, 2)


def test_a_csv_of_huge_numbers_is_rescaled_without_overflow():
    pts, note = drawn.parse_csv("-1.7e308,1.7e308\n1.7e308,1.7e308\n0,1.7e308")
    assert np.isfinite(pts).all() and len(np.unique(pts, axis=0)) == 3 and np.abs(pts).max() <= 3
    assert "scaled" in note
