"""The report pages' content block, the one layer of their page cache (``indicators.views.base.cached_page``).

``{% page_content %}...{% endpage_content %}`` outputs the content the view found in the cache and put in the
context as ``page_content``; without it, the block is rendered from the view's full context and handed to
``cached_page`` on the request, which stores it once the page has answered 200. The block never reads the
cache itself: a page either holds its content before it renders, or renders it in full, so an entry evicted
between a look-up and the render cannot give an empty page, let alone store one."""

from __future__ import annotations

from django import template

from ..forms import TOP_CHOICES

register = template.Library()


class PageContentNode(template.Node):
    def __init__(self, nodelist: template.NodeList):
        self.nodelist = nodelist

    def render(self, context) -> str:
        held = context.get("page_content")
        if held is not None:
            return held
        rendered = self.nodelist.render(context)
        request = getattr(context, "request", None)
        if request is not None:
            request.rendered_page_content = rendered
        return rendered


@register.tag
def page_content(parser, token) -> PageContentNode:
    nodelist = parser.parse(("endpage_content",))
    parser.delete_first_token()
    return PageContentNode(nodelist)


@register.simple_tag
def ranking_top_choices() -> tuple[str, ...]:
    """The numbers of rows the disaggregation page's "Rows shown" control offers: the ones the filter form and the
    catalogue accept, declared once in ``indicators.forms``."""
    return TOP_CHOICES
