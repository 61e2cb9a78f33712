"""What the graph holds, in a few numbers, for the landing page: its needs (and how much of them is example
data), the gaps among them, the day they are judged for, the last import and the withdrawals.

Cheap at any scale: the counts are the gap report's over the whole store, which reads the derived graph's
need summaries (milliseconds at national scale); the imports are a handful of nodes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..contract import StoreAPI
from ..settings import Settings, get_settings
from .basis import Basis
from .gaps import gaps


@dataclass
class Overview:
    needs: int
    example_needs: int
    unaddressed: int
    as_of: str
    source: str  # how the counts were read: "summaries", "derived" or "live" (see kg.answers.gaps)
    imports: int
    last_import: str | None  # when the latest import ended (xsd:dateTime lexical form)
    last_import_by: str | None
    basis: Basis
    withdrawals: int = 0  # import batches withdrawn (their records stay: ``dcpa:Withdrawal``)
    last_withdrawal: str | None = None  # when the latest withdrawal ended
    known_by: str | None = None  # needs identified after this day are left out (a past day's answer)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["basis"] = self.basis.to_dict()
        return d


def overview(store: StoreAPI, settings: Settings | None = None) -> Overview:
    """The landing page's numbers."""
    settings = settings or get_settings()
    report = gaps(store, None, settings=settings)
    rows = store.select("SELECT ?when ?who WHERE { ?b a dcpa:ImportActivity ; prov:endedAtTime ?when . "
                        "OPTIONAL { ?b dcpa:recordedBy ?who } } ORDER BY DESC(?when) LIMIT 1")
    count = store.select("SELECT (COUNT(?b) AS ?n) WHERE { ?b a dcpa:ImportActivity }")
    gone = store.select("SELECT (COUNT(?w) AS ?n) (MAX(?when) AS ?last) WHERE { ?w a dcpa:Withdrawal ; "
                        "prov:endedAtTime ?when }")
    last = rows[0] if rows else {}
    return Overview(
        needs=report.totals.needs, example_needs=report.totals.example_needs, unaddressed=report.totals.unaddressed,
        as_of=report.as_of.isoformat(), source=report.source, imports=int(count[0]["n"]) if count else 0,
        last_import=str(last["when"]) if last.get("when") is not None else None,
        last_import_by=str(last["who"]) if last.get("who") is not None else None, basis=report.basis,
        withdrawals=int(gone[0]["n"]) if gone else 0,
        last_withdrawal=str(gone[0]["last"]) if gone and gone[0].get("last") is not None else None,
        known_by=report.known_by.isoformat() if report.known_by else None,
    )


__all__ = ["Overview", "overview"]
