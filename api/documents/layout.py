"""The page frame every document shares: A4 in the STSong-Light CID font, a title block, labelled
rows, tables and images, the source block tracing the document to its signed events, a footer.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from api.timeline import CHINA
from ledger.errors import IntegrityError
from ledger.store import SignedApplication
from ledger.timeline import TimelineEntry, timeline

# A CID font is named, not embedded: every conforming reader carries Adobe's Song face for GB
# text, so there is no font file to ship and the output stays small.
FONT = "STSong-Light"
MONO = "Courier"
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
LABEL_WIDTH = 34 * mm
GRID = colors.HexColor("#999999")
SHADE = colors.HexColor("#f0f0f0")


@functools.cache
def _font() -> str:
    # Registered on first use rather than at import (no import-time side effects).
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    # CJK word wrap breaks between any two characters, which long ids and hashes need too.
    body = ParagraphStyle(
        "body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK", spaceBefore=1.5 * mm
    )
    return {
        "body": body,
        "title": ParagraphStyle(
            "title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=2 * mm
        ),
        "number": ParagraphStyle("number", parent=body, fontSize=9, alignment=TA_CENTER),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontSize=12,
            leading=18,
            spaceBefore=4 * mm,
            spaceAfter=1 * mm,
            keepWithNext=1,
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=13, spaceBefore=0),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11),
        "source": ParagraphStyle("source", parent=body, fontSize=8, leading=11, spaceBefore=0),
        "hash": ParagraphStyle("hash", parent=body, fontName=MONO, fontSize=6.5, leading=9),
    }


def when(at: datetime | None) -> str:
    """A time as people in China read it (UTC+8), to the second."""
    if at is None:
        return "—"
    return at.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M:%S")


def _stamp(at: datetime | None) -> str:
    return "—" if at is None else at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def day(on: date | None) -> str:
    """A date in Chinese form."""
    return "—" if on is None else f"{on.year}年{on.month:02d}月{on.day:02d}日"


def signed_events(app: SignedApplication, stream: UUID) -> list[TimelineEntry]:
    """The stream's events with their hashes, refusing any that fails verification."""
    entries = timeline(app, stream)
    for e in entries:
        # A document is never drawn from an event that fails verification (fail closed).
        if not e.verified:
            raise IntegrityError(stream, e.seq, "timeline", e.problem or "not verified")
    return entries


@dataclass(frozen=True)
class Trail:
    """The signed events of one stream that a document was drawn from."""

    label: str  # what the stream is, e.g. 案件 or 电子证照
    stream: UUID
    events: Sequence[TimelineEntry]


@dataclass
class Sheet:
    """One document being laid out, top to bottom; ``render`` adds the source block and footer."""

    title: str
    number: str | None = None
    _flow: list[Flowable] = field(default_factory=list)

    def _p(self, text: str, style: str = "body") -> Paragraph:
        # Every text is escaped: reasons and notices are free text typed by people.
        return Paragraph(escape(text), _styles()[style])

    def heading(self, text: str) -> None:
        """A section heading."""
        self._flow.append(self._p(text, "heading"))

    def text(self, text: str, style: str = "body") -> None:
        """A paragraph."""
        self._flow.append(self._p(text, style))

    def rows(self, rows: Sequence[tuple[str, str]]) -> None:
        """Labelled values, one per row."""
        data = [[self._p(label, "cell"), self._p(value, "cell")] for label, value in rows]
        self._grid(data, [LABEL_WIDTH, WIDTH - LABEL_WIDTH], shaded_column=True)

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]
    ) -> None:
        """A table with a header row; ``widths`` are fractions of the text width."""
        data = [[self._p(h, "cell") for h in header]]
        data += [[self._p(cell, "cell") for cell in row] for row in rows]
        self._grid(data, [WIDTH * w for w in widths], header=True)

    def image(self, png: bytes, size: float) -> None:
        """A square image (e.g. a QR code) of ``size`` points, centred."""
        self._flow.append(Image(io.BytesIO(png), width=size, height=size))

    def space(self, height: float = 3 * mm) -> None:
        """Vertical space."""
        self._flow.append(Spacer(1, height))

    def _grid(
        self,
        data: list[list[Any]],
        widths: list[float],
        *,
        header: bool = False,
        shaded_column: bool = False,
    ) -> None:
        style = [
            ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
        if shaded_column:
            style.append(("BACKGROUND", (0, 0), (0, -1), SHADE))
        table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
        table.setStyle(TableStyle(style))
        self._flow.append(table)

    def _sources(self, trails: Sequence[Trail], generated_at: datetime) -> list[Flowable]:
        hash_style = _styles()["hash"]
        flow: list[Flowable] = [self._p("文书来源（可追溯至已签名的办件账本）", "heading")]
        for trail in trails:
            data: list[list[Any]] = [
                [self._p(h, "source") for h in ("序号", "事件", "时间", "事件哈希（SHA-256）")]
            ]
            for e in trail.events:
                data.append(
                    [
                        self._p(str(e.seq), "source"),
                        self._p(e.type, "source"),
                        self._p(_stamp(e.at), "source"),
                        Paragraph(e.event_hash, hash_style),
                    ]
                )
            table = Table(data, colWidths=[WIDTH * w for w in (0.06, 0.21, 0.16, 0.57)])
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.25, GRID),
                        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            label = self._p(f"{trail.label}：{trail.stream}", "small")
            flow.append(KeepTogether([label, table, Spacer(1, 1 * mm)]))
        flow.append(
            self._p(
                "事件哈希是账本所存 COSE_Sign1 签名字节的 SHA-256，每个事件又链接其前一事件的哈希；"
                "可用办件时间线或审计追溯接口按案件编号和序号核对，亦可离线核验案件证据包。"
                f"生成时间：{when(generated_at)}（UTC+8）。",
                "small",
            )
        )
        return flow

    def render(self, trails: Sequence[Trail], generated_at: datetime) -> bytes:
        """The PDF bytes: title, the body laid out so far, the source block, a footer per page."""
        font = _font()
        head: list[Flowable] = [self._p(self.title, "title")]
        if self.number:
            head.append(self._p(self.number, "number"))
        head.append(Spacer(1, 4 * mm))
        footer = f"caseledger ｜ {self.title} ｜ 生成于 {when(generated_at)}"

        def on_page(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(font, 8)
            canvas.setFillColor(colors.HexColor("#555555"))
            canvas.drawString(MARGIN, 10 * mm, footer)
            canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"第 {doc.page} 页")
            canvas.restoreState()

        buffer = io.BytesIO()
        template = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=self.title,
            author="caseledger",
            creator="caseledger",
            lang="zh-CN",
            # A fixed document id and dates: the same record renders to the same bytes.
            invariant=1,
        )
        story = [*head, *self._flow, *self._sources(trails, generated_at)]
        template.build(story, onFirstPage=on_page, onLaterPages=on_page)
        return buffer.getvalue()
