"""Small helpers shared by the XML renderers: one declaration, one serialiser."""

from __future__ import annotations

from xml.etree import ElementTree as ET

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def sub(parent: ET.Element, tag: str, text: str | int | None = None, **attrs: str) -> ET.Element:
    """Append a child element with optional text; ElementTree escapes every value."""
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = str(text)
    return child


def serialize(root: ET.Element) -> bytes:
    """UTF-8 bytes with a double-quoted XML declaration and two-space indentation."""
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return DECLARATION + body + b"\n"
