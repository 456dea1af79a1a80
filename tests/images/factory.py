"""Tiny real images and archives for the image tests, built in memory with Pillow."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

from PIL import Image

PUBLIC_IP = "93.184.216.34"


def make_image(fmt: str, size: tuple[int, int] = (32, 24), *, noisy: bool = False) -> bytes:
    """A real image file; ``noisy`` makes the pixel data large enough to truncate mid-stream."""
    if noisy:
        pixels = random.Random(0).randbytes(size[0] * size[1] * 3)
        image = Image.frombytes("RGB", size, pixels)
    else:
        image = Image.new("RGB", size, (200, 30, 40))
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def make_animation(fmt: str) -> bytes:
    """A two-frame image (APNG, animated WebP, MPO or GIF)."""
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:])
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1×1 PNG whose IHDR (with a correct CRC) claims ``width``×``height``."""
    real = make_image("PNG", (1, 1))
    ihdr = struct.pack(">II", width, height) + real[24:29]
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return real[:8] + chunk + real[33:]


def make_zip(entries: list[tuple[str, bytes]], *, dirs: tuple[str, ...] = ()) -> bytes:
    """A deflated zip holding ``entries`` (names written as given, even hostile ones)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in dirs:
            archive.writestr(zipfile.ZipInfo(name), b"")
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def patch_zip_headers(
    data: bytes, *, file_size: int | None = None, flags: int | None = None
) -> bytes:
    """Rewrite the declared uncompressed size and/or flag bits of every entry, in both its local
    and central directory headers, the way a hostile archive would."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = [info.header_offset for info in archive.infolist()]
        central_start = archive.start_dir
    out = bytearray(data)
    central, pos = [], central_start
    while out[pos : pos + 4] == b"PK\x01\x02":
        central.append(pos)
        name_len, extra_len, comment_len = struct.unpack("<HHH", out[pos + 28 : pos + 34])
        pos += 46 + name_len + extra_len + comment_len
    for offsets, size_at, flags_at in ((local, 22, 6), (central, 24, 8)):
        for start in offsets:
            if file_size is not None:
                out[start + size_at : start + size_at + 4] = struct.pack("<I", file_size)
            if flags is not None:
                out[start + flags_at : start + flags_at + 2] = struct.pack("<H", flags)
    return bytes(out)
