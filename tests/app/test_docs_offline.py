"""/docs and /redoc need no network: every asset they load comes from the server itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_same_origin_assets(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", r.text)
    assert urls, "the page should load its script and the OpenAPI document"
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), f"{page} loads {url} from another origin"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0
