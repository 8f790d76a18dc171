"""The library's task rows: every row of a 任务分工表 in an index, with its citation (`rag tasks`, the app's 任务 view).

A row counts when its table has a task column and a responsible-unit or deadline column
(`rag.text.tasks.columns`); rows of documents that a newer version replaced are left out.
Filters: a unit (any unit column containing it: "环保局" finds "市环保局、商务局") and a
deadline (rows due on or before a date; rows without a date are then left out).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import asdict, dataclass

from rag.citing.cite import citation
from rag.storage.store import Store
from rag.text.tasks import task_fields

COLUMNS = ("完成时限（日期）", "重点任务", "责任单位", "完成时限", "出处")


@dataclass(frozen=True)
class TaskRow:
    """One task row of the library."""

    task: str
    units: dict[str, str]  # unit column -> its value
    deadline: str | None  # ISO date, None when open-ended or not stated
    deadline_text: str  # as the table writes it
    citation: str
    title: str
    doc_id: str
    clause_id: str
    source: str
    fields: dict[str, str]  # every column of the row

    @property
    def unit_text(self) -> str:
        return "；".join(self.units.values())

    def to_dict(self) -> dict:
        return asdict(self)


def parse_date(text: str) -> str:
    """A --due-before date as ISO (2024-09-30), or ValueError naming the expected form."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2024-09-30") from None


def task_rows(index: Store, unit: str | None = None, due_before: str | None = None) -> list[TaskRow]:
    """The task rows of the store's current documents, soonest deadline first (open-ended last).

    Args:
        unit: keep the rows where a unit column contains this text.
        due_before: keep the rows due on or before this ISO date (YYYY-MM-DD).
    """
    due = parse_date(due_before) if due_before else None
    unit = (unit or "").strip()
    out: list[tuple[int, TaskRow]] = []
    docs = sorted(index.docs.values(), key=lambda d: (d.source, d.doc_id))  # the library's order, in any store
    current = (d for d in docs if d.doc_id not in index.superseded)
    for n, (doc, clause) in enumerate((d, c) for d in current for c in index.doc_clauses(d.doc_id)):
        if clause.part:
            continue
        found = task_fields(clause.text, clause.headings)
        if found is None:
            continue
        if unit and not any(unit in v for v in found.units.values()):
            continue
        if due and (found.deadline is None or found.deadline > due):
            continue
        row = TaskRow(found.task, found.units, found.deadline, found.deadline_text, citation(doc, clause),
                      doc.title, doc.doc_id, clause.clause_id, doc.source, found.fields)  # fmt: skip
        out.append((n, row))
    out.sort(key=lambda t: (t[1].deadline is None, t[1].deadline or "", t[0]))
    return [row for _, row in out]


def to_xlsx(rows: list[TaskRow]) -> bytes:
    """The rows as an .xlsx workbook (one sheet, a header row, one row per task)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务"
    ws.append(list(COLUMNS))
    for r in rows:
        ws.append([r.deadline or "", r.task, r.unit_text, r.deadline_text, r.citation])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
