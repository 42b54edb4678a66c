import numpy as np
import pytest
import torch

import gan_core
from gan_core.hub.checkpoints import save_checkpoint
from gan_core.models import ModelConfig, build_generator


@pytest.fixture()
def folder(tmp_path):
    cfg = ModelConfig(width=8, z_dim=8)
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "g", {"model": cfg.to_dict()}, {"G": build_generator(cfg).eval()})


def test_sample_is_uint8_nhwc_and_seed_stable(folder):
    G = gan_core.load_generator(folder)
    a = gan_core.sample(G, seeds=[1, 2, 3])
    b = gan_core.sample(G, seeds=[3])
    assert a.shape == (3, 28, 28, 1) and a.dtype == np.uint8
    assert np.array_equal(a[2], b[0])
    assert not np.array_equal(gan_core.sample(G, [1], truncation=0.5), a[:1])


def test_interpolate_strip(folder):
    G = gan_core.load_generator(folder)
    strip = gan_core.interpolate(G, seed_a=1, seed_b=2, steps=8, method="slerp")
    assert strip.shape == (8, 28, 28, 1)
    assert np.array_equal(strip[0], gan_core.sample(G, [1])[0])
    assert gan_core.interpolate(G, seeds=[1, 2, 3], steps=3).shape == (5, 28, 28, 1)


def test_conditional_sampling_needs_labels(tmp_path):
    cfg = ModelConfig(conditioning="class", width=8, z_dim=8, num_classes=10)
    folder = save_checkpoint(tmp_path / "c", {"model": cfg.to_dict()}, {"G": build_generator(cfg).eval()})
    G = gan_core.load_generator(folder)
    with pytest.raises(ValueError, match="labels"):
        gan_core.sample(G, [1])
    assert gan_core.sample(G, [1, 1], labels=[0, 1]).shape == (2, 28, 28, 1)


def test_unknown_name_lists_what_exists(monkeypatch, tmp_path, folder):
    monkeypatch.setenv("GAN_STUDIO_PRETRAINED", str(folder.parent))
    assert gan_core.list_pretrained() == ["g"]
    with pytest.raises(gan_core.CheckpointError, match="one of: g"):
        gan_core.load_generator("no-such-model")
    assert gan_core.load_generator("g").z_dim == 8
    assert gan_core.load_generator("g", net="G").z_dim == 8
    for net in ("G_AB", "D"):   # a generator the family does not have, or a discriminator
        with pytest.raises(gan_core.CheckpointError, match="has no generator"):
            gan_core.load_generator("g", net=net)


def test_no_module_imports_the_command_line_entry_point():
    """The recipes (gan_core.hub.pretrained) run commands through gan_core.cli.commands, never the entry point
    gan_core.cli.main: a lower layer does not reach up for a higher one's."""
    import ast
    from pathlib import Path

    root = Path(gan_core.__file__).parent
    for path in root.rglob("*.py"):
        if path.parent.name == "cli" and path.name in ("main.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
                assert node.module != "gan_core.cli.main" and not (node.module == "gan_core.cli" and "main" in names), path
