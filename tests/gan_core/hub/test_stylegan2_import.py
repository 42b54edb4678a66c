"""StyleGAN2 checkpoints from elsewhere: rosinality's two forms and NVlabs' snapshots, built here in each format's
key layout with random weights (nothing can be downloaded). The imported network is checked against a reference
written independently below (one sample at a time, plain convolutions, the resampling filters as matrices), the
two layouts against each other, the ws and noise order, and the restricted unpickler against payloads."""
import argparse
import copy
import math
import pickle
import sys
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gan_core
from gan_core.hub.checkpoints import CheckpointError
from gan_core.importers import import_generator
from gan_core.latent import wspace as W
from gan_core.models.stylegan2 import upfirdn2d

Z, WD, DEPTH, SIZE = 8, 8, 2, 16
CH = {4: 8, 8: 6, 16: 4}
K1 = torch.tensor([1.0, 3.0, 3.0, 1.0])
FILT = torch.outer(K1, K1) / torch.outer(K1, K1).sum()


def rosinality_state(seed=0, img_c=3) -> dict:
    """A rosinality/stylegan2-pytorch Generator(16, 8, n_mlp=2) state dict: its names, shapes and buffers."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    sd = {"input.input": r(1, CH[4], 4, 4)}
    for i in range(1, DEPTH + 1):
        sd[f"style.{i}.weight"], sd[f"style.{i}.bias"] = r(WD, Z if i == 1 else WD) * 100, r(WD) * 0.1

    def styled(name, cin, cout, up):
        sd[f"{name}.conv.weight"] = r(1, cout, cin, 3, 3)
        sd[f"{name}.conv.modulation.weight"] = r(cin, WD)
        sd[f"{name}.conv.modulation.bias"] = 1 + 0.1 * r(cin)
        sd[f"{name}.noise.weight"] = 0.3 * r(1)
        sd[f"{name}.activate.bias"] = 0.1 * r(cout)
        if up:
            sd[f"{name}.conv.blur.kernel"] = FILT * 4

    def to_rgb(name, cin, up):
        sd[f"{name}.conv.weight"] = r(1, img_c, cin, 1, 1)
        sd[f"{name}.conv.modulation.weight"] = r(cin, WD)
        sd[f"{name}.conv.modulation.bias"] = torch.ones(cin)
        sd[f"{name}.bias"] = 0.1 * r(1, img_c, 1, 1)
        if up:
            sd[f"{name}.upsample.kernel"] = FILT * 4

    styled("conv1", CH[4], CH[4], False)
    to_rgb("to_rgb1", CH[4], False)
    sides = [8, 16]
    prev = CH[4]
    for i, s in enumerate(sides):
        styled(f"convs.{2 * i}", prev, CH[s], True)
        styled(f"convs.{2 * i + 1}", CH[s], CH[s], False)
        to_rgb(f"to_rgbs.{i}", CH[s], True)
        prev = CH[s]
    sd["noises.noise_0"] = r(1, 1, 4, 4)
    for j, s in enumerate([8, 8, 16, 16]):
        sd[f"noises.noise_{j + 1}"] = r(1, 1, s, s)
    return sd


# ---------------------------------------------------------------- an independent reference of rosinality's forward
def up_matrix(n: int) -> torch.Tensor:
    """The 1D upsampling by 2 with the [1,3,3,1] filter and gain 2 as a (2n, n) matrix: out[2i] = (x[i-1] +
    3 x[i]) / 4, out[2i+1] = (3 x[i] + x[i+1]) / 4, zero outside."""
    A = torch.zeros(2 * n, n)
    for i in range(n):
        A[2 * i, i] += 0.75
        if i > 0:
            A[2 * i, i - 1] += 0.25
        A[2 * i + 1, i] += 0.75
        if i + 1 < n:
            A[2 * i + 1, i + 1] += 0.25
    return A


def ref_forward(sd: dict, z: torch.Tensor, lr=0.01, latent=None) -> torch.Tensor:
    """rosinality's Generator with randomize_noise=False, one sample at a time, written from its layer order."""
    outs = []
    n_latent = 6
    for b in range(len(z)):
        x = z[b:b + 1]
        x = x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)
        for i in range(1, DEPTH + 1):
            wgt = sd[f"style.{i}.weight"] * lr / math.sqrt(sd[f"style.{i}.weight"].shape[1])
            x = F.leaky_relu(x @ wgt.T + sd[f"style.{i}.bias"] * lr, 0.2) * math.sqrt(2)
        lat = x.repeat(n_latent, 1) if latent is None else latent[b]

        def mod(name, h, s, demod, up):
            wt = sd[f"{name}.conv.weight"][0]
            cin = wt.shape[1]
            style = s @ (sd[f"{name}.conv.modulation.weight"] / math.sqrt(WD)).T + sd[f"{name}.conv.modulation.bias"]
            wt = wt / math.sqrt(cin * wt.shape[2] * wt.shape[3]) * style.view(1, -1, 1, 1)
            if demod:
                wt = wt / torch.sqrt(wt.pow(2).sum((1, 2, 3), keepdim=True) + 1e-8)
            if up:     # transposed conv of stride 2, then the [1,3,3,1] blur (gain 4) with padding 1
                h = F.conv_transpose2d(h, wt.transpose(0, 1), stride=2)
                k = sd[f"{name}.conv.blur.kernel"]
                h = F.conv2d(F.pad(h, [1, 1, 1, 1]), k.flip([0, 1]).expand(h.shape[1], 1, 4, 4).contiguous(),
                             groups=h.shape[1])
                return h
            return F.conv2d(h, wt, padding=wt.shape[-1] // 2)

        def styled(name, h, s, noise, up):
            h = mod(name, h, s, True, up)
            h = h + sd[f"{name}.noise.weight"] * noise
            return F.leaky_relu(h + sd[f"{name}.activate.bias"].view(1, -1, 1, 1), 0.2) * math.sqrt(2)

        def rgb(name, h, s, skip):
            out = mod(name, h, s, False, False) + sd[f"{name}.bias"]
            if skip is not None:
                A = up_matrix(skip.shape[-1])
                out = out + A @ skip @ A.T
            return out

        h = sd["input.input"]
        h = styled("conv1", h, lat[0:1], sd["noises.noise_0"], False)
        skip = rgb("to_rgb1", h, lat[1:2], None)
        i = 1
        for k in range(2):
            h = styled(f"convs.{2 * k}", h, lat[i:i + 1], sd[f"noises.noise_{2 * k + 1}"], True)
            h = styled(f"convs.{2 * k + 1}", h, lat[i + 1:i + 2], sd[f"noises.noise_{2 * k + 2}"], False)
            skip = rgb(f"to_rgbs.{k}", h, lat[i + 2:i + 3], skip)
            i += 2
        outs.append(skip)
    return torch.cat(outs)


@pytest.fixture(scope="module")
def ros_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("ros")
    sd = rosinality_state()
    torch.save({"g_ema": sd, "latent_avg": torch.randn(WD)}, d / "converted.pt")
    return d / "converted.pt", sd


def test_upfirdn2d_upsampling_is_the_filter_as_a_matrix():
    x = torch.randn(1, 2, 5, 5)
    A = up_matrix(5)
    got = upfirdn2d(x, FILT, up=2, pad=(2, 1, 2, 1), gain=4)
    assert torch.allclose(got, A @ x @ A.T, atol=1e-5)


def test_rosinality_import_matches_the_reference(ros_file, tmp_path):
    path, sd = ros_file
    folder = import_generator("stylegan2-rosinality", path, tmp_path / "g")
    G = gan_core.load_generator(folder)
    assert (G.z_dim, G.w_dim, G.num_ws, G.img_shape, G.has_w) == (Z, WD, 6, (3, SIZE, SIZE), True)
    z = torch.randn(3, Z, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got = G(z)
    assert torch.allclose(got, ref_forward(sd, z), atol=1e-3)
    assert torch.equal(G.w_avg, torch.load(path, weights_only=True)["latent_avg"])
    # ws order: per-layer ws through synthesis match the reference given the same latents
    ws = torch.randn(2, 6, WD, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.allclose(G.synthesis(ws), ref_forward(sd, torch.zeros(2, Z), latent=ws), atol=1e-3)


def test_rosinality_noise_naming(ros_file, tmp_path):
    """noises.noise_0 feeds conv1, noise_{j+1} feeds convs.{j}: only convs.1 keeps its noise strength."""
    _, sd = ros_file
    sd = copy.deepcopy(sd)
    for k in [k for k in sd if k.endswith("noise.weight")]:
        sd[k] = torch.zeros(1) if k != "convs.1.noise.weight" else torch.ones(1)
    outs = {}
    for changed in (None, "noises.noise_1", "noises.noise_2"):
        s = copy.deepcopy(sd)
        if changed:
            s[changed] = s[changed] * -3
        torch.save({"g_ema": s, "latent_avg": torch.zeros(WD)}, tmp_path / "n.pt")
        G = gan_core.load_generator(import_generator("stylegan2-rosinality", tmp_path / "n.pt", tmp_path / str(changed)))
        with torch.no_grad():
            outs[changed] = G(torch.ones(1, Z))
    assert torch.equal(outs[None], outs["noises.noise_1"])
    assert not torch.allclose(outs[None], outs["noises.noise_2"])


def test_rosinality_training_form_with_args(ros_file, tmp_path):
    _, sd = ros_file
    args = argparse.Namespace(size=SIZE, latent=WD, n_mlp=DEPTH, channel_multiplier=2)
    torch.save({"g": sd, "d": {"x": torch.zeros(1)}, "g_ema": sd, "g_optim": {}, "d_optim": {}, "args": args},
               tmp_path / "train.pt")
    G = gan_core.load_generator(import_generator("stylegan2-rosinality", tmp_path / "train.pt", tmp_path / "t"))
    with torch.no_grad():
        mean_w = G.mapping(torch.randn(10_000, Z, generator=torch.Generator().manual_seed(0))).mean(0)
    assert torch.allclose(G.w_avg, mean_w, atol=1e-5)          # none in the file: measured at import
    assert "mean of 10,000 mapped random z" in (tmp_path / "t" / "card.md").read_text()


class NotAllowed:
    def __init__(self):
        self.x = 1


def test_rosinality_file_with_another_class_is_refused(ros_file, tmp_path):
    _, sd = ros_file
    torch.save({"g_ema": sd, "extra": NotAllowed()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refused"):
        import_generator("stylegan2-rosinality", tmp_path / "evil.pt", tmp_path / "e")
    torch.save({"something": sd}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="no 'g_ema'"):
        import_generator("stylegan2-rosinality", tmp_path / "other.pt", tmp_path / "o")


# ---------------------------------------------------------------- NVlabs snapshots, pickled as persistence does
PAYLOAD_SRC = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\n"


def _fake_modules(marker: str):
    """torch_utils.persistence and dnnlib.util as importable modules, so pickle writes the same GLOBALs the
    real snapshots hold (the real reconstructor exec()s the stored source)."""
    pers = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):   # only its name is pickled; nothing here ever loads the snapshot
        raise AssertionError("a loader called the snapshot's reconstructor")

    pers._reconstruct_persistent_obj = _reconstruct_persistent_obj
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    util = types.ModuleType("dnnlib.util")

    class EasyDict(dict):
        pass

    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    util.EasyDict = EasyDict
    for name, mod in (("torch_utils", types.ModuleType("torch_utils")), ("torch_utils.persistence", pers),
                      ("dnnlib", types.ModuleType("dnnlib")), ("dnnlib.util", util)):
        sys.modules[name] = mod
    return pers, util


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def nvlabs_snapshot(sd: dict, marker: str, img_c=3) -> bytes:
    """The same weights as a rosinality state dict, as an NVlabs stylegan2-ada-pytorch snapshot."""
    pers, util = _fake_modules(marker)

    class Net(nn.Module):
        def __init__(self, cls, **attrs):
            super().__init__()
            self._cls = cls
            for k, v in attrs.items():
                setattr(self, k, v)

        def __reduce__(self):
            state = dict(self.__dict__)
            state.pop("_cls")
            meta = dict(type="class", version=4, module_src=PAYLOAD_SRC.format(marker=marker),
                        class_name=f"training.networks.{self._cls}", state=state)
            return (pers._reconstruct_persistent_obj, (meta,), None)

    def param(t):
        return nn.Parameter(t.clone())

    def fc(w, b, lr=1.0):
        m = Net("FullyConnectedLayer", bias_gain=lr, weight_gain=np.float64(lr / math.sqrt(w.shape[1])))
        m.weight, m.bias = param(w), param(b)
        return m

    def layer(name, res, up):
        m = Net("SynthesisLayer", resolution=res, up=2 if up else 1, conv_clamp=256, activation="lrelu")
        m.affine = fc(sd[f"{name}.conv.modulation.weight"], sd[f"{name}.conv.modulation.bias"])
        m.weight, m.bias = param(sd[f"{name}.conv.weight"][0]), param(sd[f"{name}.activate.bias"])
        m.noise_strength = param(sd[f"{name}.noise.weight"].reshape(()))
        m.register_buffer("resample_filter", FILT.clone())
        return m

    def torgb(name):
        m = Net("ToRGBLayer", conv_clamp=256)
        m.affine = fc(sd[f"{name}.conv.modulation.weight"], sd[f"{name}.conv.modulation.bias"])
        m.weight, m.bias = param(sd[f"{name}.conv.weight"][0]), param(sd[f"{name}.bias"].reshape(-1))
        return m

    mapping = Net("MappingNetwork", z_dim=Z, w_dim=WD, num_ws=6, evil=Payload(marker))
    for i in range(DEPTH):
        setattr(mapping, f"fc{i}", fc(sd[f"style.{i + 1}.weight"], sd[f"style.{i + 1}.bias"], 0.01))
    mapping.register_buffer("w_avg", torch.arange(WD).float())
    syn = Net("SynthesisNetwork")
    b4 = Net("SynthesisBlock", resolution=4)
    b4.const = param(sd["input.input"][0])
    b4.conv1, b4.torgb = layer("conv1", 4, False), torgb("to_rgb1")
    b4.conv1.register_buffer("noise_const", sd["noises.noise_0"][0, 0].clone())
    b4.register_buffer("resample_filter", FILT.clone())
    syn.b4 = b4
    for i, s in enumerate([8, 16]):
        blk = Net("SynthesisBlock", resolution=s)
        blk.conv0, blk.conv1 = layer(f"convs.{2 * i}", s, True), layer(f"convs.{2 * i + 1}", s, False)
        blk.conv0.register_buffer("noise_const", sd[f"noises.noise_{2 * i + 1}"][0, 0].clone())
        blk.conv1.register_buffer("noise_const", sd[f"noises.noise_{2 * i + 2}"][0, 0].clone())
        blk.torgb = torgb(f"to_rgbs.{i}")
        blk.register_buffer("resample_filter", FILT.clone())
        setattr(syn, f"b{s}", blk)
    G = Net("Generator", z_dim=Z, c_dim=0, w_dim=WD, img_resolution=SIZE, img_channels=img_c)
    G.mapping, G.synthesis = mapping, syn
    data = {"G": G, "D": Net("Discriminator"), "G_ema": G, "augment_pipe": Payload(marker),
            "training_set_kwargs": util.EasyDict(path="x.zip", resolution=SIZE)}
    return pickle.dumps(data)


@pytest.fixture()
def nv_file(ros_file, tmp_path):
    _, sd = ros_file
    marker = tmp_path / "PAYLOAD_RAN"
    p = tmp_path / "network-snapshot.pkl"
    p.write_bytes(nvlabs_snapshot(sd, str(marker)))
    return p, marker, sd


def test_the_test_snapshot_carries_its_payloads(nv_file):
    """Read without loading (pickletools lists the opcodes): the snapshot calls persistence's reconstructor, whose
    meta holds the payload source, and builtins.exec from a __reduce__ — what a plain pickle.load would run."""
    import pickletools

    path, marker, _ = nv_file
    ops = list(pickletools.genops(path.read_bytes()))
    strings = [arg for _, arg, _ in ops if isinstance(arg, str)]
    assert "torch_utils.persistence" in strings and "_reconstruct_persistent_obj" in strings
    assert "builtins" in strings and "exec" in strings
    assert any(str(marker) in s and "write_text('ran')" in s for s in strings)       # the stored module source
    assert not marker.exists()


def test_nvlabs_import_runs_no_code_and_matches_rosinality(nv_file, ros_file, tmp_path):
    path, marker, sd = nv_file
    folder = import_generator("stylegan2-ada-pkl", path, tmp_path / "nv")
    assert not marker.exists()                                     # neither the source nor __reduce__ ran
    G = gan_core.load_generator(folder)
    assert torch.equal(G.w_avg, torch.arange(WD).float())          # the file's mapping.w_avg
    assert G.torgbs[0].clamp == 256
    z = torch.randn(4, Z, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        got = G(z)
    assert torch.allclose(got, ref_forward(sd, z), atol=1e-3)     # values stay well inside the clamp here
    R = gan_core.load_generator(import_generator("stylegan2-rosinality", ros_file[0], tmp_path / "r"))
    with torch.no_grad():
        assert torch.allclose(R(z), got, atol=1e-5)


def test_the_imported_model_has_the_w_tools(nv_file, tmp_path):
    G = gan_core.load_generator(import_generator("stylegan2-ada-pkl", nv_file[0], tmp_path / "nv"))
    assert W.layer_groups(G) == {"coarse": [0, 1], "middle": [2, 3], "fine": [4, 5]}
    r = W.mixing_grid(G, [1, 2], [3], W.layer_groups(G)["fine"])
    assert r["grid"].shape == (2, 1, SIZE, SIZE, 3)
    assert W.stochastic_variation(G, W.ws_of_seeds(G, [1]), 4, ["fine"])["mean_std"] > 0
    assert W.ganspace(G, 3, 2000)["directions"].shape == (3, WD)
    with torch.no_grad():
        low = G.synthesis(W.ws_of_seeds(G, [1]), stop_at=1)
    assert low.shape == (1, 3, 8, 8)                                # a real coarser image from the skip outputs


def test_a_snapshot_without_g_ema_or_of_another_network_is_refused(tmp_path):
    (tmp_path / "a.pkl").write_bytes(pickle.dumps({"G": 1}))
    with pytest.raises(CheckpointError, match="no G_ema"):
        import_generator("stylegan2-ada-pkl", tmp_path / "a.pkl", tmp_path / "a")
    (tmp_path / "b.pkl").write_bytes(b"not a pickle")
    with pytest.raises(CheckpointError, match="Nothing in it was run"):
        import_generator("stylegan2-ada-pkl", tmp_path / "b.pkl", tmp_path / "b")


def test_the_cli_imports_both(ros_file, nv_file, tmp_path, capsys):
    from gan_core.cli.commands import run

    assert run(["import", "--from", "stylegan2-rosinality", str(ros_file[0]), "--out", str(tmp_path / "c1")]) == 0
    assert run(["import", "--from", "stylegan2-ada-pkl", str(nv_file[0]), "--out", str(tmp_path / "c2")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert run(["import", "--from", "stylegan2-ada-pkl", str(tmp_path / "missing.pkl"), "--out", str(tmp_path / "c3")]) == 2


def test_a_tiny_file_declaring_a_huge_network_is_refused_before_any_arithmetic(ros_file, tmp_path):
    _, sd = ros_file
    sd = dict(sd)
    sd["convs.0.conv.blur.kernel"] = torch.zeros(1).expand(60_000, 1_000)     # 60 M declared, 4 bytes stored
    torch.save({"g_ema": sd}, tmp_path / "bomb.pt")
    assert (tmp_path / "bomb.pt").stat().st_size < 200_000
    with pytest.raises(CheckpointError, match="declares tensors of 60 M"):
        import_generator("stylegan2-rosinality", tmp_path / "bomb.pt", tmp_path / "b")


def test_uploads_are_routed_to_their_importer(ros_file, nv_file):
    from ui.models import upload_source

    assert upload_source("snap.pkl", nv_file[0].read_bytes()) == "stylegan2-ada-pkl"
    assert upload_source("g.pt", ros_file[0].read_bytes()) == "stylegan2-rosinality"
    assert upload_source("netG.pth", b"PK\x03\x04 main.0.weight") == "pytorch-examples-dcgan"
