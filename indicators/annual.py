"""The annual statistical report ("Informe estadístico anual"): one year's reports of the pages, gathered in
sections and printed on the server as a PDF (WeasyPrint), with each chart drawn as SVG beside its table.

It asks the report catalogue for the same reports as the pages (``catalogue.build``, the year as the only
filter), for the user who asked: an analyst's PDF holds the same protected figures ("<k", perturbed values) as
their pages, a coordinator's the exact ones; nothing here counts or protects anything itself. A report the
catalogue refuses is printed as its reason. WeasyPrint fetches nothing: the stylesheet is read from the
portal's static files and every chart is inline."""

from __future__ import annotations

from dataclasses import dataclass, field

import weasyprint
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import catalogue, exports, svgcharts
from .reporting import Report, audience

STYLESHEET = "css/annual-report.css"
# Tables with more columns than this are printed on a landscape page of their own.
WIDE_COLUMNS = 7


@dataclass(frozen=True)
class Entry:
    """One report of a section: its slug, the extra query it is built with (the breakdown's dimension) and a
    heading where the report's own title would not say what it is (a breakdown is titled by its measure)."""

    slug: str
    query: dict = field(default_factory=dict)
    heading: object = None


SECTIONS: tuple[tuple[str, object, tuple[Entry, ...]], ...] = (
    ("overview", gettext_lazy("Overview"), (Entry("by-year"),)),
    (
        "profiles",
        gettext_lazy("Victim profiles"),
        (Entry("dimension-sex"), Entry("dimension-age_group"), Entry("dimension-nationality"), Entry("profiles")),
    ),
    (
        "recruitment",
        gettext_lazy("Recruitment and exploitation"),
        (
            Entry("breakdown", {"dims": ["exploitation_form"]}, gettext_lazy("Forms of exploitation")),
            Entry("breakdown", {"dims": ["recruitment_method"]}, gettext_lazy("Recruitment methods")),
            Entry("countries"),
            Entry("flows"),
        ),
    ),
    ("geography", gettext_lazy("Geography"), (Entry("map-province"),)),
    ("timeliness", gettext_lazy("Timeliness of the ERI"), (Entry("timeliness"), Entry("quality-timeliness"))),
    (
        "international",
        gettext_lazy("International indicators"),
        tuple(Entry(slug) for slug in ("glotip-forms", "glotip-citizenship", "sdg-16-2-2-sex-age", "sdg-16-2-2-form")),
    ),
)


@dataclass(frozen=True)
class Block:
    """One report as the PDF prints it: heading, definition, chart (SVG, or "" where the table stands alone)
    and the table's rows of display text, exactly ``Report.header``/``body``/``totals_row``; or the reason
    the catalogue gave for not publishing it (``unavailable``)."""

    slug: str
    heading: str
    unavailable: str = ""
    definition: str = ""
    note: str = ""
    chart: SafeString | str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    totals: list[str] | None = None
    label_count: int = 1
    wide: bool = False
    # The chart's legend sample of a hidden value, where the chart draws one ("" otherwise).
    hidden_swatch: SafeString | str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: list[Block]

    @property
    def wide(self) -> bool:
        """Printed on landscape pages when one of its tables is wide, so its heading stays with its tables."""
        return any(block.wide for block in self.blocks)


@dataclass(frozen=True)
class AnnualReport:
    year: int
    sections: list[Section]
    exact: bool
    k: int
    data_as_of: str
    protection: str
    source: str


def _block(entry: Entry, report: Report, *, index: int) -> Block:
    heading = str(entry.heading) if entry.heading else report.title
    bars = svgcharts.report_bars(report)
    header = report.header()
    return Block(
        slug=report.slug,
        heading=heading,
        definition=report.definition,
        note=report.note,
        chart=svgcharts.horizontal_bars(bars, k=report.k, chart_id=f"{index}", title=heading) if bars else "",
        header=header,
        rows=report.body(),
        totals=report.totals_row() if report.show_totals_row else None,
        label_count=max(len(report.row_dimensions), 1),
        wide=len(header) > WIDE_COLUMNS,
        hidden_swatch=svgcharts.hidden_swatch(f"{index}") if any(bar.value is None for bar in bars) else "",
    )


def protection_text(*, exact: bool, k: int) -> str:
    """The sentence the files carry about their protection (``exports.describe``), for the whole report."""
    if exact:
        return _(
            "Exact counts, for coordinators: not protected. Do not pass small counts on to people without that role."
        )
    return _(
        "Figures are protected by the cell key method: each is changed by a small amount, the same "
        'wherever it appears, and values from 1 to %(k_minus_1)s are shown as "<%(k)s".'
    ) % {"k": k, "k_minus_1": k - 1}


def annual_report_build(*, year: int, user) -> AnnualReport:
    """The sections of ``year``'s report for ``user``, every figure from ``catalogue.build``. The caller checks
    that ``year`` is one of ``catalogue.years()`` (the filter form refuses any other)."""
    filters = catalogue.filter_form({"year_from": year, "year_to": year}).filters()
    exact, k = audience(user)
    sections = []
    index = 0
    for key, title, entries in SECTIONS:
        blocks = []
        for entry in entries:
            index += 1
            try:
                report = catalogue.build(entry.slug, user, filters, entry.query)
            except catalogue.ReportUnavailable as refused:
                blocks.append(Block(slug=entry.slug, heading=str(entry.heading or ""), unavailable=str(refused)))
                continue
            blocks.append(_block(entry, report, index=index))
        sections.append(Section(key=key, title=str(title), blocks=blocks))
    return AnnualReport(
        year=year,
        sections=sections,
        exact=exact,
        k=k,
        data_as_of=catalogue.data_as_of_display(),
        protection=protection_text(exact=exact, k=k),
        source=exports.source(),
    )


def filename(year: int) -> str:
    return f"conatt-informe-anual-{year}.pdf"


def annual_report_html(report: AnnualReport) -> str:
    return render_to_string("indicators/annual_report.html", {"annual": report})


class NoFetching(weasyprint.URLFetcher):
    """Refuse every URL: the report holds its charts inline and its stylesheet is passed in, so nothing is
    fetched from the network or the disk on a document's say-so."""

    def fetch(self, url, headers=None):
        raise ValueError(f"the annual report fetches nothing ({url[:80]})")


def annual_report_pdf(report: AnnualReport) -> bytes:
    """The PDF of ``report``, laid out by WeasyPrint with the print stylesheet of the static files."""
    stylesheet = finders.find(STYLESHEET)
    if not isinstance(stylesheet, str):
        raise LookupError(f"static file {STYLESHEET} not found")
    document = weasyprint.HTML(string=annual_report_html(report), url_fetcher=NoFetching())
    pdf = document.write_pdf(stylesheets=[weasyprint.CSS(filename=stylesheet, url_fetcher=NoFetching())])
    if pdf is None:
        raise RuntimeError("WeasyPrint wrote no PDF")
    return pdf
