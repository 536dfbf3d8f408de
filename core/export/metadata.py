"""Provenance inside an image file's metadata, whatever the pixels show.

Every exported image says what it is even when its provenance is left out of the picture
(`stamp="none"`) or cropped off later:

* PNG — international text chunks (iTXt, UTF-8): Title, Author, Software, Description (the full
  record, one "Key: value" per line), Comment (the one-line provenance), Creation Time;
* SVG — a `<metadata>` element with Dublin Core title, creator, description, date and subject;
* PDF — the document information: Title (the analysis and the slice), Author and Creator (the
  product and its version), Subject (the one-line provenance), CreationDate, and the full record
  under the key /Provenance.

`image_zip` bundles an image with its provenance as a side `.txt` (`Provenance.text_file`).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Mapping
from xml.sax.saxutils import escape

from core.provenance import PRODUCT_NAME, Provenance

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_title(provenance: Provenance) -> str:
    """"Overall survival — Kaplan–Meier product-limit · Salvage 2–3 · n = 13 of 32"."""
    slice_part = f"{provenance.slice_text} · {provenance.n_text}"
    return f"{provenance.analysis} · {slice_part}" if provenance.analysis else slice_part


def _product(provenance: Provenance) -> str:
    return f"{PRODUCT_NAME} {provenance.product_version}"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_with_text(png: bytes, entries: Mapping[str, str]) -> bytes:
    """The PNG with one iTXt chunk per entry (keyword → UTF-8 text), just before IEND."""
    if png[:8] != _PNG_MAGIC or png[-12:-8] != b"\x00\x00\x00\x00" or png[-8:-4] != b"IEND":
        return png
    chunks = b""
    for keyword, text in entries.items():
        key = keyword.encode("latin-1")[:79]
        # keyword, NUL, compression flag 0, method 0, language tag "", NUL, translated keyword "", NUL, text
        chunks += _chunk(b"iTXt", key + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8"))
    return png[:-12] + chunks + png[-12:]


def png_text(png: bytes) -> dict[str, str]:
    """The iTXt and tEXt entries of a PNG (keyword → text)."""
    out: dict[str, str] = {}
    at = 8
    while at + 8 <= len(png):
        length = int.from_bytes(png[at:at + 4], "big")
        kind, body = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        if kind == b"iTXt":
            key, rest = body.split(b"\x00", 1)
            _flag, _method, rest = rest[0], rest[1], rest[2:]
            _language, rest = rest.split(b"\x00", 1)
            _translated, text = rest.split(b"\x00", 1)
            out[key.decode("latin-1")] = text.decode("utf-8")
        elif kind == b"tEXt":
            key, text = body.split(b"\x00", 1)
            out[key.decode("latin-1")] = text.decode("latin-1")
        at += 12 + length
    return out


def svg_with_metadata(svg: bytes, provenance: Provenance) -> bytes:
    """The SVG with a Dublin Core `<metadata>` element as the root's first child."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    end = text.find(">", start)
    if start < 0 or end < 0:
        return svg
    metadata = (
        '<metadata id="provenance"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">'
        f"<dc:title>{escape(image_title(provenance))}</dc:title>"
        f"<dc:creator>{escape(_product(provenance))}</dc:creator>"
        f"<dc:subject>{escape(provenance.compact_line())}</dc:subject>"
        f"<dc:description>{escape(chr(10).join(provenance.lines()))}</dc:description>"
        f"<dc:date>{provenance.exported_on.isoformat()}</dc:date>"
        "</rdf:Description></rdf:RDF></metadata>")
    return (text[:end + 1] + metadata + text[end + 1:]).encode("utf-8")


def pdf_info(provenance: Provenance) -> dict[str, str]:
    """The PDF document information of an exported chart or deck."""
    day = provenance.exported_on
    return {"/Title": image_title(provenance), "/Author": _product(provenance), "/Creator": _product(provenance),
            "/Subject": provenance.compact_line(), "/CreationDate": f"D:{day:%Y%m%d}000000",
            "/Provenance": "\n".join(provenance.lines())}


def pdf_with_metadata(pdf: bytes, provenance: Provenance, *, title: str | None = None) -> bytes:
    """The PDF with its document information replaced by the provenance's (`pdf_info`)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    info = pdf_info(provenance)
    if title is not None:
        info["/Title"] = title
    writer.add_metadata(info)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def with_metadata(data: bytes, fmt: str, provenance: Provenance) -> bytes:
    """An exported image (png, svg or pdf) with its provenance in the file's metadata."""
    if fmt == "png":
        return png_with_text(data, {
            "Title": image_title(provenance), "Author": _product(provenance), "Software": _product(provenance),
            "Description": "\n".join(provenance.lines()), "Comment": provenance.compact_line(),
            "Creation Time": provenance.exported_on.isoformat()})
    if fmt == "svg":
        return svg_with_metadata(data, provenance)
    if fmt == "pdf":
        return pdf_with_metadata(data, provenance)
    raise ValueError(f"no metadata for format {fmt!r}")


def image_zip(image_name: str, image: bytes, provenance: Provenance, *, text_name: str) -> bytes:
    """A ZIP of the image and its provenance as a side file `text_name` (dated with the export date)."""
    from core.export.tables import zip_entry

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zip_entry(image_name, provenance), image)
        archive.writestr(zip_entry(text_name, provenance), provenance.text_file())
    return buffer.getvalue()
