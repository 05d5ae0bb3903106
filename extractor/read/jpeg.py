"""A JPEG damaged in the middle: what libjpeg says of it.

MuPDF's decoder reads over entropy-coded data that was overwritten (a file damaged
in transfer, a bad sector) without a word, and the page it draws is grey or smeared
from there down; only a cut file makes it warn. libjpeg (through OpenCV, installed
with the OCR extra) reports such data ("Corrupt JPEG data: premature end of data
segment") on its standard error, which is caught here for the one decode.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SAYS_DAMAGED = ("Corrupt JPEG data", "Premature end of JPEG", "Bogus", "Invalid JPEG", "JPEG datastream contains no image")


def jpeg_damage(path: Path) -> str | None:
    """libjpeg's first complaint decoding `path`, or None (a sound file, or no OpenCV).
    File descriptor 2 is redirected for the decode: call it where no other thread of the
    process writes to standard error (a document is opened before its pages are read)."""
    try:
        import cv2
        import numpy as np
    except ImportError:
        return None
    data = np.fromfile(str(path), dtype=np.uint8)
    with tempfile.TemporaryFile() as err:
        saved = os.dup(2)
        try:
            os.dup2(err.fileno(), 2)
            cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)  # (every coefficient is decoded, at 1/8 the pixels)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        said = err.read(4096).decode("utf-8", "replace")
    return next((line.strip() for line in said.splitlines() if line.strip().startswith(_SAYS_DAMAGED)), None)
