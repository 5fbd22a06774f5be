"""GOV.UK pagination for a Django Page, shared by the school list and the public school search."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def page_links(request: HttpRequest, page: Any) -> dict[str, Any] | None:
    """govukPagination parameters whose links keep the request's other query parameters (the filters);
    None when everything fits on one page."""
    paginator = page.paginator
    if paginator.num_pages <= 1:
        return None

    def href(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return "?" + params.urlencode()

    items: list[dict[str, Any]] = []
    for n in paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        if n == paginator.ELLIPSIS:
            items.append({"ellipsis": True})
        else:
            items.append({"number": n, "href": href(n), "current": n == page.number})
    params: dict[str, Any] = {"items": items, "landmarkLabel": "Results pages"}
    if page.has_previous():
        params["previous"] = {"href": href(page.previous_page_number())}
    if page.has_next():
        params["next"] = {"href": href(page.next_page_number())}
    return params
