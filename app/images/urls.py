"""Where a client fetches an image: one place builds the URL every response shows."""

from __future__ import annotations


def image_url(base_url: str, image_id: str) -> str:
    return f"{base_url}/v1/images/{image_id}"
