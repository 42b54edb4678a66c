"""Zip archives from users, checked member by member from the central directory before anything is inflated.

What a zip declares (member count, each member's uncompressed and compressed size, its compression method, the
encryption flag) is read without inflating a byte; limits are applied to those numbers, and reading a member
then stops at its declared size and verifies its CRC, so a member that lies about its size cannot inflate past
what was checked.

Example:
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
    ...     zf.writestr("zeros.bin", bytes(10_000_000))
    >>> open_zip(buf.getvalue(), "the upload", ZipLimits(max_members=5, max_member_bytes=10**8,
    ...          max_total_bytes=10**8))                                  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    IntakeError: the upload: 'zeros.bin' inflates 1,000-fold: it looks like a zip bomb; refusing it.
"""
from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from gan_core.intake.errors import IntakeError

METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}   # bzip2 and lzma are refused
SLACK_BYTES = 64_000   # a member this small may inflate more than max_ratio (a short text of spaces)


@dataclass(frozen=True)
class ZipLimits:
    """What one kind of zip may declare."""

    max_members: int                 # files counted (folders and skipped names are not)
    max_member_bytes: int            # one member, inflated
    max_total_bytes: int             # all counted members, inflated
    max_ratio: float = 200.0         # inflated / compressed size of any member above SLACK_BYTES
    stored_only: bool = False        # refuse compressed members (torch.save writes stored members only)


def _name(info: zipfile.ZipInfo) -> str:
    return repr(PurePosixPath(info.filename).name[:80])


def open_zip(source: bytes | str | os.PathLike, what: str, limits: ZipLimits,
             counted: Callable[[zipfile.ZipInfo], bool] = lambda info: not info.is_dir()
             ) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open a zip and check what it declares; returns it and its counted members (in archive order).

    Args:
        source: the zip's bytes or a path to it.
        what: how messages name it ("the upload", "'model B's images'").
        limits: the caps for this kind of zip.
        counted: which members are checked and returned (the rest are never read).
    Raises:
        IntakeError: not a zip, too many members, a member too large, compressed where only stored members
        are allowed, an unknown or encrypted compression, an inflation ratio of a zip bomb, or a total too large.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
        infos = [i for i in zf.infolist() if counted(i)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise IntakeError(f"{what} is not a zip file (or its directory is damaged).") from None
    if len(infos) > limits.max_members:
        zf.close()
        raise IntakeError(f"{what} holds {len(infos):,} files; at most {limits.max_members:,} are accepted.")
    total = 0
    try:
        for info in infos:
            if info.flag_bits & 0x1:
                raise IntakeError(f"{what}: {_name(info)} is encrypted; refusing it.")
            if info.compress_type not in METHODS:
                raise IntakeError(f"{what}: {_name(info)} uses a compression this app does not read (only stored "
                                  "and deflate).")
            if limits.stored_only and (info.compress_type != zipfile.ZIP_STORED or
                                       info.compress_size != info.file_size):
                raise IntakeError(f"{what}: {_name(info)} is compressed, and files of this kind are written "
                                  "uncompressed (torch.save stores its members); refusing it rather than "
                                  "inflating it.")
            if info.file_size > limits.max_member_bytes:
                raise IntakeError(f"{what}: {_name(info)} would inflate to {info.file_size / 1e6:,.1f} MB; at "
                                  f"most {limits.max_member_bytes / 1e6:,.1f} MB a file.")
            if info.file_size > SLACK_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise IntakeError(f"{what}: {_name(info)} inflates {info.file_size // max(info.compress_size, 1):,}"
                                  "-fold: it looks like a zip bomb; refusing it.")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise IntakeError(f"{what} would inflate to more than {limits.max_total_bytes / 1e6:,.0f} MB.")
    except IntakeError:
        zf.close()
        raise
    return zf, infos


def _damaged(what: str, info: zipfile.ZipInfo) -> IntakeError:
    return IntakeError(f"{what}: {_name(info)} is damaged inside the zip (its checksum or size does not match, "
                       "or it is cut short).")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> bytes:
    """A checked member's bytes: never more than its declared size, CRC verified."""
    try:
        with zf.open(info) as src:
            data = src.read(info.file_size + 1)        # a CRC mismatch raises at the member's end
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        raise _damaged(what, info) from None
    if len(data) != info.file_size:
        raise _damaged(what, info)
    return data


def copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: BinaryIO, what: str,
                chunk: int = 1 << 20) -> None:
    """Stream a checked member into ``dest`` in chunks (memory stays at one chunk); same checks as read_member."""
    written = 0
    try:
        with zf.open(info) as src:
            while block := src.read(min(chunk, info.file_size + 1 - written)):
                written += len(block)
                if written > info.file_size:
                    raise _damaged(what, info)
                dest.write(block)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        raise _damaged(what, info) from None
    if written != info.file_size:
        raise _damaged(what, info)


def extract_members(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], folder: Path, what: str) -> None:
    """Write checked members to ``folder`` under the given names, streaming (for checkpoint zips)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, info in members.items():
        with open(folder / name, "wb") as f:
            copy_member(zf, info, f, what)


def safe_path(name: str) -> bool:
    """A member name that stays inside the zip's folder (no absolute path, no "..", no backslashes)."""
    p = PurePosixPath(name)
    return not (name.startswith("/") or ".." in p.parts or "\\" in name)


__all__ = ["ZipLimits", "open_zip", "read_member", "copy_member", "extract_members", "safe_path"]
