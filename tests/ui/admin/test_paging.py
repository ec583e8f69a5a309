"""The list pages' pager: one row read past the page says whether another follows; filters survive."""

from __future__ import annotations

from typing import Any

from litestar import Request

from ui.admin.web import PAGE_SIZE, page_window, paged


def _request(query: str) -> Request[Any, Any, Any]:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/ui/audit", "query_string": query.encode(),
                             "headers": [], "app": None}  # fmt: skip
    return Request(scope)  # type: ignore[arg-type]


def test_a_page_reads_one_row_past_its_end() -> None:
    assert page_window(1) == (PAGE_SIZE + 1, 0)
    assert page_window(3) == (PAGE_SIZE + 1, 2 * PAGE_SIZE)


def test_a_full_page_with_one_more_row_has_a_next_page_and_keeps_the_filters() -> None:
    rows, pager = paged(_request("page=2&action=key.created&actor="), list(range(PAGE_SIZE + 1)), 2)
    assert list(rows) == list(range(PAGE_SIZE))
    assert pager == {"has_next": True, "page_number": 2, "query": {"action": "key.created"}}


def test_the_last_page_has_no_next() -> None:
    rows, pager = paged(_request(""), list(range(PAGE_SIZE)), 1)
    assert len(rows) == PAGE_SIZE and pager["has_next"] is False and pager["query"] == {}
