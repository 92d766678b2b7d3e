"""Product images of the sandbox store: Shopify-shaped CDN URLs and the small images behind them.

A real product's featured media is a ``MediaImage`` whose ``preview.image.url`` lives on Shopify's
CDN, ``https://cdn.shopify.com/s/files/1/0612/3456/7890/files/<name>.jpg?v=<epoch>``. The sandbox
gives each product the same path on its own origin (no network: the page's browser tests load it from
127.0.0.1) and serves a small PNG drawn from the product's handle, so each product has its own,
stable picture. The shop's number in the path comes from a digest of its domain (Python's ``hash`` is
salted per process; a restored sandbox must serve the same URLs the warehouse stored).

About one product in :data:`WITHOUT_IMAGE_EVERY` has no media at all, as in a real catalogue, so the
connector, the API and the page meet the ``null`` case on the demo too.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.state import Product, ShopState

SIZE = 96
"""Width and height of every generated image, in pixels (a thumbnail's size, a few hundred bytes)."""

WITHOUT_IMAGE_EVERY = 10
"""A product whose id's thousands are a multiple of this has no featured media (the synthetic world
numbers a brand's products a thousand apart, so every tenth product of a brand, even a small one)."""

IMAGE_PATH = re.compile(r"^/s/files/1/(?P<shop>\d{4}/\d{4}/\d{4})/files/(?P<handle>[a-z0-9][a-z0-9-]*)\.png$")


def shop_number(shop_domain: str) -> str:
    """The shop's ``dddd/dddd/dddd`` part of its CDN paths (stable across processes)."""
    n = int.from_bytes(hashlib.sha256(shop_domain.encode()).digest()[:8], "big") % 10**12
    s = f"{n:012d}"
    return f"{s[:4]}/{s[4:8]}/{s[8:]}"


def has_image(p: Product) -> bool:
    """Whether the product has featured media (see :data:`WITHOUT_IMAGE_EVERY`)."""
    return (p.id // 1000) % WITHOUT_IMAGE_EVERY != 0


def image_url(state: ShopState, p: Product, origin: str) -> str:
    """The product's featured image URL on ``origin``, versioned by its creation time as Shopify's are."""
    return (f"{origin}/s/files/1/{shop_number(state.shop_domain)}/files/{p.handle}.png"
            f"?v={int(p.created_at.timestamp())}")


def media_node(state: ShopState, p: Product, origin: str) -> dict[str, Any] | None:
    """``Product.featuredMedia``: a ready ``MediaImage`` with its preview image, None without one."""
    if not has_image(p):
        return None
    url = image_url(state, p, origin)
    alt = p.title
    return {
        "__typename": "MediaImage",
        "id": f"gid://shopify/MediaImage/{p.id}",
        "alt": alt,
        "mediaContentType": "IMAGE",
        "status": "READY",
        "preview": {
            "__typename": "MediaPreviewImage",
            "status": "READY",
            "image": {"__typename": "Image", "id": f"gid://shopify/ImageSource/{p.id}",
                      # ``url(transform:)``: the sandbox serves one size whatever the transform asks
                      "url": lambda info, **a: url, "altText": alt, "width": SIZE, "height": SIZE},
        },
    }


def find(states: Any, path: str) -> Product | None:
    """The product whose image ``path`` names among ``states`` (ShopStates), None when none has it."""
    m = IMAGE_PATH.match(path)
    if not m:
        return None
    for state in states:
        if shop_number(state.shop_domain) != m.group("shop"):
            continue
        for p in state.live_products():
            if p.handle == m.group("handle") and has_image(p):
                return p
    return None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(handle: str) -> bytes:
    """A :data:`SIZE`-square PNG for ``handle``: a background colour and a lighter centred disc, both from
    a digest of the handle, so neighbouring products look different."""
    d = hashlib.sha256(handle.encode()).digest()
    back = bytes(64 + b % 128 for b in d[:3])
    front = bytes(min(255, c + 80) for c in back)
    centre, radius2 = (SIZE - 1) / 2, (SIZE * (0.22 + (d[3] % 16) / 100)) ** 2
    rows = []
    for y in range(SIZE):
        row = bytearray(b"\x00")  # filter type None
        for x in range(SIZE):
            row += front if (x - centre) ** 2 + (y - centre) ** 2 <= radius2 else back
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))
