"""The sandbox store's product images: ``featuredMedia`` as the real schema shapes it, and the picture
behind each URL served from the sandbox's own origin (no network)."""

from __future__ import annotations

import struct
from typing import Any

import pytest
import requests

from tower.connectors.shopify.streams import load_document
from tower_dev.sandboxes.shopify_store import images, testing
from tower_dev.sandboxes.shopify_store.server import serve_world


@pytest.fixture(scope="module")
def world() -> Any:
    # another seed than the other sandbox tests' world: the shop numbers and handles differ
    return testing.small_world(seed=41)


@pytest.fixture(scope="module")
def handle(world):
    h = serve_world(world, clock=testing.clock_after(world))
    yield h
    h.stop()


def _products(handle: Any, brand: str) -> list[dict[str, Any]]:
    """Every product through the connector's own products query."""
    r = requests.post(f"{handle.origin}/admin/api/2026-04/graphql.json",
                      json={"query": load_document("products"), "variables": {"first": 200, "query": None}},
                      headers={"X-Shopify-Access-Token": handle.tokens[brand]}, timeout=10)
    body = r.json()
    assert "errors" not in body, body
    return list(body["data"]["products"]["nodes"])


def test_each_product_has_a_cdn_shaped_image_url_or_no_media(world, handle):
    brand = world.brands[0].brand["brand_id"]
    nodes = _products(handle, brand)
    with_media = [n for n in nodes if n["featuredMedia"]]
    without = [n for n in nodes if not n["featuredMedia"]]
    assert with_media and without  # the catalogue has both, as a real one does
    for n in with_media:
        image = n["featuredMedia"]["preview"]["image"]
        assert image["url"].startswith(f"{handle.origin}/s/files/1/")
        assert f"/files/{n['handle']}.png?v=" in image["url"]
        assert image["altText"] == n["title"]
    shop_numbers = {n["featuredMedia"]["preview"]["image"]["url"].split("/")[7] for n in with_media}
    assert len(shop_numbers) == 1


def test_the_url_serves_a_small_png_of_its_size(world, handle):
    brand = world.brands[0].brand["brand_id"]
    first, second = [n for n in _products(handle, brand) if n["featuredMedia"]][:2]
    bodies = []
    for n in (first, second):
        r = requests.get(n["featuredMedia"]["preview"]["image"]["url"], timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", r.content[16:24])
        assert (width, height) == (images.SIZE, images.SIZE) and len(r.content) < 4000
        bodies.append(r.content)
    assert bodies[0] != bodies[1]  # each product its own picture


def test_unknown_files_are_the_cdns_404(world, handle):
    brand = world.brands[0].brand["brand_id"]
    url = next(n for n in _products(handle, brand) if n["featuredMedia"])["featuredMedia"]["preview"]["image"]["url"]
    path = url.split("?")[0]
    assert requests.get(path.replace(".png", "-nope.png"), timeout=10).status_code == 404
    assert requests.get(f"{handle.origin}/s/files/1/0000/0000/0000/files/x.png", timeout=10).status_code == 404
    no_media = next(n for n in _products(handle, brand) if not n["featuredMedia"])
    assert requests.get(path.rsplit("/", 1)[0] + f"/{no_media['handle']}.png", timeout=10).status_code == 404


def test_shop_numbers_do_not_depend_on_the_process():
    assert images.shop_number("acme.myshopify.com") == images.shop_number("acme.myshopify.com")
    assert images.shop_number("acme.myshopify.com") != images.shop_number("acme2.myshopify.com")
    assert all(len(part) == 4 and part.isdigit() for part in images.shop_number("x.myshopify.com").split("/"))
