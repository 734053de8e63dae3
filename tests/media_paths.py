"""Where the tests and benchmarks find their media: the repository's own `tests/data/` (see its README
for sources and licences), a portrait made at run time from scikit-image's public-domain `astronaut`,
and the AFLW2000 sample, which may not be redistributed and is read from `FACE_TEST_DATA`."""

from __future__ import annotations

import csv
import io
import os
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
SPEECH = TEST_DATA / "speech"

# The AFLW2000-3D photos are for research use only, so they are not in the repository. Tests that need
# their head-pose labels read this folder (images + labels.csv) and skip, saying why, when it is absent.
DEFAULT_FACE_TEST_DATA = (ROOT / ".." / "shared" / "data" / "faces" / "aflw2000").resolve()
FACE_TEST_DATA_ENV = "FACE_TEST_DATA"

# The astronaut photo (512 x 512) cropped to 240 x 240 around the face: the box is centred on the
# Face Mesh landmarks' bounding box (x 179-271, y 71-177), so the face sits at the image centre.
PORTRAIT_BOX = (105, 4, 345, 244)


def face_test_data() -> Path:
    """The folder named by FACE_TEST_DATA, else ../shared/data/faces/aflw2000 (it may not exist)."""
    configured = os.environ.get(FACE_TEST_DATA_ENV)
    return Path(configured).expanduser().resolve() if configured else DEFAULT_FACE_TEST_DATA


def face_test_data_missing() -> str | None:
    """Why the labelled face photos cannot be used, or None when they can."""
    folder = face_test_data()
    if not (folder / "labels.csv").is_file():
        return (f"AFLW2000 sample not found at {folder} (research-use licence, not redistributed): "
                f"set {FACE_TEST_DATA_ENV} to a folder with its images and labels.csv")
    return None


def labelled_faces() -> list[tuple[str, bytes, tuple[float, float, float]]]:
    """(name, JPEG bytes, (yaw, pitch, roll) label) of the AFLW2000 sample in face_test_data()."""
    folder = face_test_data()
    with (folder / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows, f"{folder / 'labels.csv'} has no rows"
    return [
        (r["image"], (folder / r["image"]).read_bytes(), (float(r["yaw_deg"]), float(r["pitch_deg"]), float(r["roll_deg"])))
        for r in rows
    ]


@lru_cache
def portrait_jpeg(quality: int = 90) -> bytes:
    """A nearly frontal face photo that may be redistributed: scikit-image's `astronaut` (NASA, public
    domain), cropped around the face, as JPEG."""
    from PIL import Image
    from skimage import data

    image = Image.fromarray(data.astronaut()).crop(PORTRAIT_BOX)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
