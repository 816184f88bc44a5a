"""The material table of the forms that post files (申请材料表): its rows as HTML, its columns as a
browser posts them, and its files checked as the document store takes them before anything is
stored. The window officer's correction and supplement forms and the applicant's own forms (在线
申请, 在线补正, 在线补齐) share it; each route says who may post."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, File, Form, Request, UploadFile
from starlette.datastructures import UploadFile as FilePart

from api.pages.labels import MATERIAL_KIND
from ledger.application import CaseLedger
from ledger.catalog import ItemTerms
from ledger.timeline import timeline
from projections.document_store import (
    MAX_DOCUMENT_BYTES,
    DocumentStore,
    checked_document,
    sniffed_media_type,
)
from projections.errors import DocumentRejected

# The media types the document store accepts (ALLOWED_MEDIA_TYPES), so the file picker offers those.
ACCEPT = "application/pdf,application/ofd,image/jpeg,image/png,image/tiff"
GENERIC_TYPES = frozenset({"", "application/octet-stream"})
Rows = Annotated[list[str] | None, Form()]
Files = Annotated[list[UploadFile] | None, File()]
Table = tuple[list[str], list[FilePart], list[str]]  # each row's code, file and e-license number


async def material_rows(
    request: Request, material: Rows = None, license_id: Rows = None, file: Files = None
) -> Table:
    """The columns of a form's material table as posted: each row's code, file and e-license
    number (empty where it has no rows)."""
    # A browser posts a file for every row, an empty nameless one where none was chosen. FastAPI's
    # list (``file``, declared so the schema shows the form's files) leaves those out and would no
    # longer line up with the rows, so the files are taken from the form it parsed (kept once).
    posted = await request.form()
    files = [part for part in posted.getlist("file") if isinstance(part, FilePart)]
    return (material or [], files, license_id or [])


MaterialTable = Annotated[Table, Depends(material_rows)]


# --- HTML ----------------------------------------------------------------------------------------


def material_name(terms: ItemTerms, code: str) -> str:
    """A material's name with its code, escaped (the code alone if the item lists no such one)."""
    for material in terms.materials:
        if material.code == code:
            return escape(f"{material.name}（{code}）")
    return escape(code)


def material_table(
    terms: ItemTerms, codes: Sequence[str], *, kinds: bool = False, licensable: bool = False
) -> str:
    """One row a material: its name, with ``kinds`` whether main or secondary, a file input and an
    e-license number box (with ``licensable`` only where the catalog lets an e-license prove it)."""
    by_code = {m.code: m for m in terms.materials}
    rows = []
    for code in codes:
        material = by_code.get(code)
        kind = material.kind.value if material else ""
        number = (
            '<input type="text" name="license_id" maxlength="128">'
            if not licensable or (material and material.e_license_type)
            # An empty value keeps the row's columns lined up; the ledger takes no e-license here.
            else '<input type="hidden" name="license_id" value="">不适用，请上传文件'
        )
        rows.append(
            f'<tr><td><input type="hidden" name="material" value="{escape(code)}">'
            f"{material_name(terms, code)}</td>"
            + (f"<td>{escape(MATERIAL_KIND.get(kind, kind))}</td>" if kinds else "")
            + f'<td><input type="file" name="file" accept="{ACCEPT}"></td><td>{number}</td></tr>'
        )
    heads = ("材料", *(("类别",) if kinds else ()), "上传文件（PDF、OFD、JPEG、PNG、TIFF）")
    head = "".join(f"<th>{h}</th>" for h in (*heads, "或电子证照编号"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def noticed(ledger: CaseLedger, case_id: UUID) -> list[str]:
    """The materials the one-time notice asked for, as its signed event lists them."""
    for entry in timeline(ledger, case_id):
        if entry.type == "case.CorrectionNotified":
            return [str(item["material"]) for item in entry.data.get("items", [])]
    return []


# --- the files posted ----------------------------------------------------------------------------


def file_content(upload: FilePart) -> bytes:
    """The bytes of an uploaded file, read from its start: one byte more than the store keeps at
    most, so an oversized file is refused without being held whole."""
    upload.file.seek(0)
    return upload.file.read(MAX_DOCUMENT_BYTES + 1)


def file_media_type(upload: FilePart) -> str:
    """The media type a browser gave the file, or, where it gave only a generic one (as for an
    ``.ofd`` file it does not know), the type the file's first bytes show."""
    given = (upload.content_type or "").split(";", 1)[0].strip().lower()
    if given in GENERIC_TYPES:
        return sniffed_media_type(file_content(upload)) or given
    return upload.content_type or ""


def materials(
    material: Sequence[str], files: Sequence[FilePart], license_id: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], list[FilePart]]:
    """The materials of the rows filled in (an e-license number, or a file's reference as the
    store will keep it) and the files to store; ``DocumentRejected`` if it would refuse one."""
    found: dict[str, dict[str, Any]] = {}
    chosen: list[FilePart] = []
    for code, upload, number in zip(material, files, license_id, strict=True):
        if number.strip():
            found[code] = {"kind": "e_license", "license_id": number.strip()}
        elif upload.filename or upload.size:
            # A browser posts an empty, nameless file for a row whose file was not chosen; a chosen
            # file that is empty is the store's to refuse.
            try:
                ref = checked_document(file_content(upload), file_media_type(upload))
            except DocumentRejected as exc:
                raise DocumentRejected(f"材料 {code} 的文件不能接收：{exc}") from exc
            found[code] = ref.as_dict()
            chosen.append(upload)
    return found, chosen


def store_files(
    documents: DocumentStore,
    files: Sequence[FilePart],
    *,
    uploader: str,
    at: datetime,
    quota: int | None = None,
) -> None:
    """Store checked files as ``uploader``'s uploads, the only ones a case route lets them cite;
    with ``quota``, within that many bytes a day (``UploadQuotaExceeded`` past it)."""
    for upload in files:
        content, media_type = file_content(upload), file_media_type(upload)
        documents.put(content, media_type, uploader=uploader, at=at, quota=quota)
