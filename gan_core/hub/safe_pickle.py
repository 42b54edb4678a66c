"""Read the weights out of a pickle that was written to run code when loaded — without running any of it.

NVlabs' stylegan2-ada-pytorch snapshots (``network-snapshot-*.pkl``) are plain pickles made through its
``torch_utils/persistence.py``: every network is stored as a call to ``_reconstruct_persistent_obj(meta)``, where
``meta`` holds the network's module *source code* (which a plain ``pickle.load`` exec()s), its class name and its
state (the module's ``__dict__``: ``_parameters``, ``_buffers``, ``_modules`` and plain attributes). Each tensor's
storage is a nested blob for ``torch.storage._load_from_bytes``, which unpickles it with weights_only=False.

``load`` here resolves globals through a short allow-list of our own functions instead:

- ``_reconstruct_persistent_obj`` -> a ``Persistent`` record of the class name and state (the source is kept as a
  string and never executed);
- tensor and parameter rebuilding -> our own ``as_strided`` of a storage read by ``torch.load(weights_only=True)``
  (the nested blob is read by PyTorch's restricted unpickler, never by ``pickle``);
- ``collections.OrderedDict``, ``dnnlib.util.EasyDict`` -> plain dicts; numpy scalars -> Python numbers;
- every other global -> an inert ``Opaque`` record: calling it, building it or setting its state only stores the
  arguments. A ``__reduce__`` payload (``os.system``, ``builtins.exec``, ...) therefore does nothing.
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict

import numpy as np
import torch


class Opaque:
    """Something the pickle asked for that is not on the allow-list: a name and the arguments it was given."""

    def __init__(self, name: str, args=(), state=None):
        self.name, self.args, self.state = name, args, state

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        return f"Opaque({self.name})"


class _OpaqueFactory:
    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):        # REDUCE / NEWOBJ: record, never run
        return Opaque(self.name, args)

    def __repr__(self):
        return f"<refused global {self.name}>"


class Persistent:
    """One network of an NVlabs snapshot: ``class_name`` (e.g. "training.networks.SynthesisLayer"), its state, and
    the stored module source as inert text (``source``)."""

    def __init__(self, meta):
        meta = meta if isinstance(meta, dict) else {}
        self.class_name = str(meta.get("class_name", ""))
        self.source = meta.get("module_src") if isinstance(meta.get("module_src"), str) else ""
        self.state = meta.get("state") if isinstance(meta.get("state"), dict) else {}

    def __setstate__(self, state):          # a BUILD after the reconstruction: only recorded
        if isinstance(state, dict):
            self.state.update(state)

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """The module's parameters and buffers, with its submodules', named as a state dict."""
        out = {}
        for group in ("_parameters", "_buffers"):
            for k, v in (self.state.get(group) or {}).items():
                if isinstance(v, torch.Tensor):
                    out[prefix + k] = v
        for k, m in (self.state.get("_modules") or {}).items():
            if isinstance(m, Persistent):
                out.update(m.tensors(f"{prefix}{k}."))
        return out

    def sub(self, path: str) -> "Persistent | None":
        node = self
        for part in path.split("."):
            node = (node.state.get("_modules") or {}).get(part) if isinstance(node, Persistent) else None
        return node if isinstance(node, Persistent) else None


def _load_storage(data: bytes):
    """A storage blob (torch.save of one storage, legacy format) read by PyTorch's restricted unpickler."""
    if not isinstance(data, (bytes, bytearray)):
        raise pickle.UnpicklingError("a storage blob that is not bytes")
    return torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)


def _rebuild_tensor(storage, offset, size, stride, *rest):
    """A tensor viewing ``storage`` (only a storage PyTorch's restricted loader built), bounds checked."""
    if isinstance(storage, torch.TypedStorage):
        dtype, raw = storage.dtype, storage._untyped_storage
    elif isinstance(storage, torch.UntypedStorage):
        dtype, raw = torch.uint8, storage
    else:
        raise pickle.UnpicklingError("a tensor whose storage is not one")
    if not all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride)):
        raise pickle.UnpicklingError("a tensor with a malformed shape")
    t = torch.empty((0,), dtype=dtype)
    need = (offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1) if all(size) else 0
    if need * t.element_size() > raw.nbytes():
        raise pickle.UnpicklingError("a tensor larger than its storage")
    return t.set_(raw, offset, tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, *rest):
    return data


class _DType:
    def __init__(self, name, *args):
        self.name, self.order = str(name), "="

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in "<>|=":
            self.order = state[1]


def _np_scalar(dtype, data=None):
    if not isinstance(dtype, _DType) or not isinstance(data, (bytes, bytearray)):
        return Opaque("numpy scalar")
    dt = np.dtype(dtype.name)
    if dt.kind not in "biuf":
        return Opaque(f"numpy scalar {dtype.name}")
    return np.frombuffer(bytes(data), dtype=dt.newbyteorder(dtype.order if dtype.order != "|" else "="))[0].item()


class EasyDict(dict):
    """dnnlib.util.EasyDict, read as a dict."""


ALLOWED = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): Persistent,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("collections", "OrderedDict"): OrderedDict,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("numpy", "dtype"): _DType,
    ("numpy.core.multiarray", "scalar"): _np_scalar,
    ("numpy._core.multiarray", "scalar"): _np_scalar,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves globals through ``ALLOWED`` only; anything else becomes an inert ``Opaque``."""

    refused: list[str]

    def __init__(self, file):
        super().__init__(file)
        self.refused = []

    def find_class(self, module: str, name: str):
        hit = ALLOWED.get((module, name))
        if hit is not None:
            return hit
        self.refused.append(f"{module}.{name}")
        return _OpaqueFactory(f"{module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not read here")


def load(file) -> tuple[object, list[str]]:
    """(the unpickled object, the globals that were refused) for a binary file object."""
    u = RestrictedUnpickler(file)
    return u.load(), u.refused
