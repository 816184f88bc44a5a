"""The Simplified Chinese pages: the public catalog and an item's guide, escaped HTML."""

from __future__ import annotations

from tests.e2e.conftest import Service, problem
from tests.scenarios import PERMIT


def test_the_catalog_page_lists_items_with_their_visits(service: Service) -> None:
    response = service.client.get("/pages/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text and "政务服务事项目录" in response.text
    assert f'href="/pages/items/{PERMIT}"' in response.text and "最多跑一次" in response.text


def test_the_guide_says_what_may_be_tolerated_and_proven_by_e_license(service: Service) -> None:
    page = service.client.get(f"/pages/items/{PERMIT}").text
    assert "办事指南" in page and "50 个工作日" in page and "现场勘查" in page
    assert "可容缺" in page and "可用电子证照，无需提交" in page


def test_the_guide_of_an_unknown_item_is_a_404_problem(service: Service) -> None:
    problem(service.client.get("/pages/items/nope"), 404, "unknown-item")
