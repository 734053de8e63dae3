"""Decoding client frames safely: format and size are checked before pixels are decoded."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from app.errors import InvalidInput

FORMATS = ("JPEG", "PNG", "WEBP")
ORIENTATION_TAG = 0x0112
TRANSPOSING = {5, 6, 7, 8}  # EXIF orientations that turn the image by 90 degrees


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """RGB uint8 array (H x W x 3) of an encoded JPEG, PNG or WebP image.

    Pillow reads only the header, so that a wrong format or an oversized image is refused
    before any pixel is decoded (a small file can expand to gigabytes); OpenCV then decodes,
    about twice as fast as Pillow, and reports truncated or corrupt data as no image.
    """
    import cv2  # local: heavy import, only the head-pose engine needs it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            header = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = header.size
            # Phones and some webcams store the frame sideways with an EXIF Orientation tag;
            # OpenCV applies it, so the upright frame has width and height swapped (5-8).
            orientation = header.getexif().get(ORIENTATION_TAG, 1) if header.format == "JPEG" else 1
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("frame is not a JPEG, PNG or WebP image", code="invalid_image") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput("frame image is corrupt", code="invalid_image") from None
    if width * height > max_pixels:
        raise InvalidInput(f"frame is {width}x{height}, over {max_pixels / 1e6:g} megapixels", code="frame_too_large")
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)
    upright = (width, height) if orientation in TRANSPOSING else (height, width)
    if rgb is None or rgb.shape[:2] != upright:
        raise InvalidInput("frame image is corrupt or truncated", code="invalid_image")
    return rgb
