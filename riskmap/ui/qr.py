"""一企一码: the enterprise QR code, pointing at its record (``riskmap://enterprise/<qr_id>?id=<record id>``).

>>> enterprise_qr_content("ae31…", 7)
'riskmap://enterprise/ae31…?id=7'
"""

from __future__ import annotations

import io

import segno
from PySide6.QtGui import QImage

QR_SCALE = 6
QR_BORDER = 2


def enterprise_qr_content(qr_id: str, record_id: int) -> str:
    return f"riskmap://enterprise/{qr_id}?id={int(record_id)}"


def qr_code(content: str):
    """The segno QR code object (error correction M)."""
    return segno.make(content, error="m", micro=False)


def qr_image(content: str, scale: int = QR_SCALE, border: int = QR_BORDER) -> QImage:
    """The QR code as a black-on-white QImage (``scale`` pixels per module, ``border`` modules margin)."""
    buf = io.BytesIO()
    qr_code(content).save(buf, kind="png", scale=scale, border=border, dark="#000000", light="#FFFFFF")
    img = QImage.fromData(buf.getvalue(), "PNG")
    return img.convertToFormat(QImage.Format.Format_RGB32)
