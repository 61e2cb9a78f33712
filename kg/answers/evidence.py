"""What a need rests on: its evidence (survey, interview, document, example data or only the imported
file) and the words an interviewee said in support of it.

The one reader of a need's evidence: the village page shows it need by need, the model page counts
needs by it. A need derives from one source as a rule; where it derives from several, a survey,
interview or document is preferred over example data and the bare imported file, so that a need is
never filed under "imported file" when something better is stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..contract import StoreAPI
from ..facts import iri_values
from ..namespaces import DCPA

#: Evidence kind by the class of the source a need derives from.
EVIDENCE_KINDS = {str(DCPA.Interview): "interview", str(DCPA.Survey): "survey",
                  str(DCPA.DocumentSource): "document", str(DCPA.SyntheticExampleData): "example",
                  str(DCPA.ImportedFile): "imported file", str(DCPA.ProjectJudgement): "project judgement"}
#: Which evidence a need is filed under when it derives from several (lower first): what was stated (an
#: example need that rests on an example interview is filed under the interview), then example data, then the
#: bare imported file.
_RANK = {"interview": 0, "survey": 0, "document": 0, "project judgement": 1, "example": 2, "imported file": 3}
#: Needs asked about per query (VALUES lists beyond this slow Oxigraph down).
_CHUNK = 500


@dataclass(frozen=True)
class Quote:
    """Words said in an interview, and who said them (a role, never a name), when and where."""

    text: str
    lang: str
    interview: str
    role: str | None
    on: str | None
    place: str | None
    consent: str | None
    anonymisation: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "lang": self.lang, "interview": self.interview, "role": self.role,
                "on": self.on, "place": self.place, "consent": self.consent, "anonymisation": self.anonymisation}


@dataclass
class Evidence:
    """The source one need derives from, when and by whom it was identified, and its supporting quote."""

    iri: str
    kind: str | None  # a value of EVIDENCE_KINDS
    type: str | None  # the source's class, as an IRI
    label: str | None
    example: bool
    identified_on: str | None = None
    surveyor: str | None = None
    quote: Quote | None = None


def need_evidence(store: StoreAPI, needs: list[str]) -> dict[str, Evidence]:
    """The evidence of each need (IRI → Evidence); needs without a stated source are absent."""
    out: dict[str, Evidence] = {}
    for start in range(0, len(needs), _CHUNK):
        part = iri_values(needs[start:start + _CHUNK])
        for r in store.select(f"""SELECT ?n ?src ?cls ?label ?syn ?on ?by WHERE {{ VALUES ?n {{ {part} }}
              ?n prov:wasDerivedFrom ?src . OPTIONAL {{ ?src a ?cls }} OPTIONAL {{ ?src rdfs:label ?label }}
              OPTIONAL {{ ?src dcpa:isSynthetic ?syn }} OPTIONAL {{ ?n dcpa:identifiedOn ?on }}
              OPTIONAL {{ ?n dcpa:surveyor ?by }} }}"""):
            n, cls = str(r["n"]), r.get("cls")
            kind = EVIDENCE_KINDS.get(str(cls)) if cls else None
            have = out.get(n)
            if have is not None and _RANK.get(kind or "", 9) >= _RANK.get(have.kind or "", 9):
                continue
            on: Any = r.get("on")
            out[n] = Evidence(str(r["src"]), kind, str(cls) if cls else None, r.get("label"), bool(r.get("syn")),
                              on.isoformat() if isinstance(on, date) else on, r.get("by"))
        for r in store.select(f"""SELECT ?n ?text (LANG(?text) AS ?lang) ?itv ?role ?on ?place ?consent ?anon WHERE {{
              VALUES ?n {{ {part} }} ?q dcpa:supportsNeed ?n ; dcpa:quoteText ?text ; prov:wasQuotedFrom ?itv .
              OPTIONAL {{ ?itv dcpa:intervieweeRole ?role }} OPTIONAL {{ ?itv dcpa:interviewedOn ?on }}
              OPTIONAL {{ ?itv dcpa:interviewPlace ?place }} OPTIONAL {{ ?itv dcpa:consentGiven ?consent }}
              OPTIONAL {{ ?itv dcpa:anonymisation ?anon }} }}"""):
            ev = out.get(str(r["n"]))
            if ev is None:
                continue
            on = r.get("on")
            ev.quote = Quote(str(r["text"]), r.get("lang") or "", str(r["itv"]), r.get("role"),
                             on.isoformat() if isinstance(on, date) else on, r.get("place"), r.get("consent"),
                             r.get("anon"))
    return out
