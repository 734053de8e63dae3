"""Decoding client frames safely: format and size are checked before pixels are decoded."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from app.errors import InvalidInput

FORMATS = ("JPEG", "PNG", "WEBP")


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """RGB uint8 array of an encoded JPEG, PNG or WebP image.

    The header is read first so that an oversized image is refused before its pixels
    are decoded (a small file can expand to gigabytes).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidInput(
                    f"frame is {width}x{height}, over {max_pixels / 1e6:g} megapixels", code="frame_too_large"
                )
            image.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("frame is not a JPEG, PNG or WebP image", code="invalid_image") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput("frame image is corrupt or truncated", code="invalid_image") from None
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
