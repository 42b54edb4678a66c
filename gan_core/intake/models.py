"""One intake for untrusted model files: a .pth from elsewhere, safetensors weights of an uploaded checkpoint.

Sizes come first, from what the file declares: a torch.save archive's members are checked in the zip's
directory (stored, as torch.save writes them, and within the file's own size: nothing can inflate) before
``torch.load(weights_only=True)`` reads it; the parameter count is summed from tensor shapes (a stride-0 tensor
declares a huge shape for a tiny storage) and refused above ``MAX_PARAMETERS`` before any network is built or a
byte is written; safetensors headers are read for names and shapes before their data.

Example:
    >>> import torch, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "big.pth"
    >>> torch.save({"w": torch.zeros(1).expand(60_000, 1_000)}, p)      # 60 M declared, 4 bytes stored
    >>> read_state_dict(p)                                              # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    IntakeError: big.pth declares tensors of 60 M parameters in all; this app opens models of at most 50 M.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import torch

from gan_core.models import MAX_PARAMETERS
from gan_core.intake.archives import ZipLimits, open_zip
from gan_core.intake.errors import IntakeError

MAX_PTH_BYTES = 200_000_000
MAX_SAFETENSORS_HEADER = 10_000_000


def check_parameter_count(n: int, what: str) -> None:
    """Refuse ``n`` parameters above MAX_PARAMETERS (200 MB of float32): the one cap for every network opened."""
    if n > MAX_PARAMETERS:
        raise IntakeError(f"{what} declares tensors of {n / 1e6:,.0f} M parameters in all; this app opens "
                          f"models of at most {MAX_PARAMETERS / 1e6:.0f} M.")


def _check_torch_archive(path: Path) -> None:
    """A torch.save zip: every member stored (never inflated), all within the file's own size."""
    size = path.stat().st_size
    zf, _ = open_zip(path, path.name, ZipLimits(max_members=100_000, max_member_bytes=size,
                                                  max_total_bytes=size, stored_only=True))
    zf.close()


def read_torch_file(path: str | os.PathLike, allowed: tuple = (), max_bytes: int = MAX_PTH_BYTES):
    """What a torch.save file holds, read by PyTorch's restricted unpickler (tensors, plain containers and the
    ``allowed`` classes only; nothing is run), after its archive was checked (stored members within the file's
    size). Large archives are memory-mapped, so tensors nobody reads (optimiser states) cost no memory.

    Raises:
        IntakeError: too large, compressed, holds another object, or is not a torch.save file.
    """
    path = Path(path)
    if not path.is_file():
        raise IntakeError(f"{path} does not exist.")
    if path.stat().st_size > max_bytes:
        raise IntakeError(f"{path.name} is larger than {max_bytes // 1_000_000:,} MB.")
    is_zip = zipfile.is_zipfile(path)
    if is_zip:
        _check_torch_archive(path)
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(list(allowed)):
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as e:
        why = re.search(r"(Unsupported global: GLOBAL [\w.]+)", str(e))
        if why is None:
            raise IntakeError(f"{path.name} is not a file torch.save wrote (its pickle does not read). Nothing was "
                              "run.") from None
        raise IntakeError(f"{path.name} was refused: it holds more than tensors and plain containers"
                          f"{' and ' + ', '.join(c.__name__ for c in allowed) if allowed else ''}; a pickle can run "
                          f"code, so nothing else is read{f' ({why.group(1)})' if why else ''}. Nothing was run.") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, TypeError, MemoryError) as e:
        raise IntakeError(f"{path.name} is not a file torch.save wrote ({e.__class__.__name__}).") from None


def count_tensors(tensors, what: str) -> None:
    """Refuse a collection of tensors whose declared sizes sum above MAX_PARAMETERS (before any arithmetic on
    them: a stride-0 tensor declares a huge shape for a tiny storage)."""
    check_parameter_count(sum(t.numel() for t in tensors if isinstance(t, torch.Tensor)), what)


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A state dict (names -> tensors) from a .pth, read safely and counted before anything is built.

    Raises:
        IntakeError: too large a file, a compressed archive, an object other than tensors and plain
        containers (PyTorch's restricted unpickler stops at it; nothing is run), not a state dict, or more
        parameters than MAX_PARAMETERS.
    """
    path = Path(path)
    if not path.is_file():
        raise IntakeError(f"{path} does not exist.")
    if path.stat().st_size > MAX_PTH_BYTES:
        raise IntakeError(f"{path.name} is larger than {MAX_PTH_BYTES // 1_000_000} MB.")
    if zipfile.is_zipfile(path):
        _check_torch_archive(path)
    try:
        with warnings.catch_warnings():  # "pickle protocol 4 detected": irrelevant here, the load is refused or fine
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # PyTorch's restricted unpickler stopped: an object other than tensors and plain containers (a pickle
        # that could run code), or bytes that are no pickle at all. Nothing was built either way.
        why = re.search(r"(Unsupported global: GLOBAL [\w.]+)", str(e))
        raise IntakeError(f"{path.name} was refused: it holds more than tensors, or is not a file torch.save "
                          f"wrote. Only tensors are read from a .pth (a pickle can run code)"
                          f"{f' ({why.group(1)})' if why else ''}.") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, TypeError, MemoryError) as e:
        raise IntakeError(f"{path.name} is not a file torch.save wrote ({e.__class__.__name__}).") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, (dict, OrderedDict)) or not obj or \
            not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise IntakeError(f"{path.name} is not a state dict (a mapping of names to tensors); save it with "
                          "torch.save(netG.state_dict(), 'netG.pth').")
    check_parameter_count(sum(v.numel() for v in obj.values()), path.name)
    prefix = "module."  # nn.DataParallel, as the PyTorch examples use with --ngpu > 1
    if all(k.startswith(prefix) for k in obj):
        obj = {k[len(prefix):]: v for k, v in obj.items()}
    return dict(obj)


def safetensors_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors file's header alone (no tensor data is read).

    Raises:
        IntakeError: not a safetensors file (a pickle or a torch.save zip renamed is named as such).
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= n <= MAX_SAFETENSORS_HEADER or n > path.stat().st_size - 8:
            looks = head[:1] == b"\x80" or head[:2] == b"PK"
            raise IntakeError(f"{path.name} is not a " + ("safetensors file (it looks like a pickle or a torch.save "
                              "archive). Only safetensors weights are accepted; pickles can run code." if looks
                              else "valid safetensors file (its header length does not fit the file)."))
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise IntakeError(f"{path.name} is not a valid safetensors file (its header is not JSON).") from None
    if not isinstance(header, dict):
        raise IntakeError(f"{path.name} is not a valid safetensors file (its header is not a JSON object).")
    shapes = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        shape = v.get("shape") if isinstance(v, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise IntakeError(f"{path.name}: tensor {k[:60]!r} has no valid shape in the header.")
        shapes[k] = tuple(shape)
    return shapes
