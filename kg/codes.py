"""The official code rules: an area's level and class from its statistical division code.

One home for "what kind of area is this?". The level comes from the code's length (2, 4, 6, 9 or 12 digits);
the class within a level from the range its last segment falls in, as ``kg/data/reference/code_rules.csv``
records it with its sources (GB/T 2260 for county-level units, GB/T 10114 for township-level ones, the NBS
code table for village-level ones). Names decide nothing here, except the designation 自治县 that an
autonomous county's official name states.

Every area carries its level class *and* its rule class, so ``?a a dcpa:Township`` finds every township-level
unit in plain SPARQL and ``?a a dcpa:Town`` only the towns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from .resources import DATA_DIR
from .safetext import ZERO_WIDTH, typed

CODE_RULES_FILE = DATA_DIR / "reference" / "code_rules.csv"
#: The release of the NBS code table that the bundled areas come from (see SOURCES.md).
CODE_VINTAGE = "2023"

#: Level → its class (local name in the ontology), from the largest to the smallest.
LEVEL_CLASS = {
    "province": "Province",
    "city": "PrefectureCity",
    "county": "CountyLevelUnit",
    "township": "Township",
    "village": "VillageLevelUnit",
}
#: Level → what a message calls an area of it in Chinese (the English message names the level itself).
LEVEL_ZH = {"province": "省级行政区", "city": "地级市", "county": "县级单位", "township": "乡级单位",
            "village": "村级单位"}
LEVEL_BY_CODE_LENGTH = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}
#: An area code of any level (2, 4, 6, 9 or 12 ASCII digits), as the graph holds it: the catalogue's ``area`` type
#: once ``normal_code`` has read it. ``[0-9]``, not ``\d``, which matches the full-width ２ in Python and in pydantic.
AREA_CODE_PATTERN = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$"
_AROUND = r"[\s" + "".join(f"\\u{ord(c):04x}" for c in ZERO_WIDTH) + "]*"
_DIGIT = "[0-9０-９]"
#: A digit as typed, with the spaces or zero-width characters after it: a long code is often typed in groups
#: (``210123 203200``), which ``normal_code`` reads as the library always did. (No backtracking to fear: each
#: repetition takes exactly one digit.)
_TYPED_DIGIT = rf"(?:{_DIGIT}{_AROUND})"
#: An area code as a person types it (full-width digits of a Chinese IME; spaces or zero-width characters around
#: it or between its digits): what the API's parameters and the plan form accept, the library's resolver reading
#: it (``normal_code``). The same in Python, pydantic (Rust) and a browser's ``pattern`` attribute.
TYPED_AREA_CODE_PATTERN = (rf"^{_AROUND}{_TYPED_DIGIT}{{2}}({_TYPED_DIGIT}{{2}}({_TYPED_DIGIT}{{2}}({_TYPED_DIGIT}{{3}}"
                           rf"({_TYPED_DIGIT}{{3}})?)?)?)?$")
#: A village's 12-digit code as a person types it (as ``TYPED_AREA_CODE_PATTERN``).
TYPED_VILLAGE_CODE_PATTERN = rf"^{_AROUND}{_TYPED_DIGIT}{{12}}$"
#: A concept's notation (N22, C1, RM3) as a person types it: either case, full-width letters and digits of a Chinese
#: IME, spaces or zero-width characters around it (``normal_notation`` reads it); at most 20 characters.
TYPED_NOTATION_PATTERN = rf"^{_AROUND}[A-Za-zＡ-Ｚａ-ｚ0-9０-９_-]{{1,20}}{_AROUND}$"
#: Which digits of a code of each level the rules read.
_SEGMENT = {"county": slice(4, 6), "township": slice(6, 9), "village": slice(9, 12)}
AUTONOMOUS_COUNTY = "AutonomousCounty"
_AUTONOMOUS_MARK = "自治县"


@dataclass(frozen=True)
class CodeRule:
    """One range of one segment, the class it gives, and where the rule was seen."""

    level: str
    first: int
    last: int
    cls: str
    label_zh: str
    label_en: str
    rule_zh: str
    confidence: str
    original_publisher: str
    seen_at: str

    def covers(self, code: str) -> bool:
        return LEVEL_BY_CODE_LENGTH.get(len(code)) == self.level and self.first <= int(code[_SEGMENT[self.level]]) \
            <= self.last


@lru_cache(maxsize=1)
def code_rules() -> tuple[CodeRule, ...]:
    """The rules of ``code_rules.csv``, in file order."""
    with CODE_RULES_FILE.open(encoding="utf-8", newline="") as f:
        return tuple(
            CodeRule(r["level"], int(r["first"]), int(r["last"]), r["class"], r["label_zh"], r["label_en"],
                     r["rule_zh"], r["confidence"], r["original_publisher"], r["seen_at"])
            for r in csv.DictReader(f)
        )


def normal_code(code: str) -> str:
    """A code as typed (``２１０１``, ``2101　``, a zero-width space pasted with it) as the graph writes it (``2101``):
    ``kg.safetext.typed`` with every space taken out. Not checked: ``kg.answers.areas`` says what is wrong."""
    return "".join(typed(str(code)).split())


def unpadded(code: str) -> str:
    """A code printed in 12 digits, as the statistics print every level's (沈北新区 210113000000), as the graph
    writes it: the zero segments of the levels below it dropped (210113000000 → 210113, 210113014000 → 210113014).
    Read so only where the 12 digits name no village: a village's own code may end in zeros."""
    for length in (9, 6, 4, 2):
        if code[length:].strip("0"):
            return code
        code = code[:length]
    return code


def normal_notation(text: str) -> str:
    """A concept's notation as typed (``n22``, ``Ｎ２２``, ``N22\u200b``) as the schemes write it (``N22``): what
    the importer's coded lists already accept, for the API's and the catalogue's parameters."""
    return normal_code(text).upper()


def level_of(code: str) -> str | None:
    """``province`` … ``village`` from the code's length; None for a code of another length."""
    return LEVEL_BY_CODE_LENGTH.get(len(code)) if code.isdigit() else None


def rule_for(code: str) -> CodeRule | None:
    """The rule whose range holds the code's last segment (None when no rule covers it)."""
    return next((r for r in code_rules() if r.covers(code)), None) if level_of(code) else None


def area_classes(code: str, name: str = "") -> tuple[str, ...]:
    """Every class (local names) an area with this code and official name has: its level's class, the class
    its code range gives, and ``AutonomousCounty`` for a county whose name says 自治县."""
    level = level_of(code)
    if level is None:
        raise ValueError(f"{code!r} is not a statistical division code (2, 4, 6, 9 or 12 digits)")
    out = [LEVEL_CLASS[level]]
    rule = rule_for(code)
    if rule:
        out.append(rule.cls)
    if level == "county" and _AUTONOMOUS_MARK in name:
        out.append(AUTONOMOUS_COUNTY)
    return tuple(out)


def most_specific(classes: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The class that names an area best among those it has (a rule class before its level class)."""
    known = [c for c in SPECIFICITY if c in classes]
    return known[0] if known else None


def _specificity() -> tuple[str, ...]:
    rule_classes = [r.cls for r in code_rules()]
    return (AUTONOMOUS_COUNTY, *rule_classes, *reversed(LEVEL_CLASS.values()))


#: Every area class, the most specific first.
SPECIFICITY: tuple[str, ...] = _specificity()
#: Every area class → the level it belongs to.
LEVEL_OF_CLASS: dict[str, str] = {
    **{c: lvl for lvl, c in LEVEL_CLASS.items()},
    **{r.cls: r.level for r in code_rules()},
    AUTONOMOUS_COUNTY: "county",
}

#: Every class of a village-level unit, as a SPARQL VALUES body: data that states only the specific class
#: (an import, an older store) is found too.
VILLAGE_CLASSES = " ".join(f"dcpa:{c}" for c, level in LEVEL_OF_CLASS.items() if level == "village")

__all__ = [
    "AUTONOMOUS_COUNTY",
    "AREA_CODE_PATTERN",
    "CODE_VINTAGE",
    "LEVEL_BY_CODE_LENGTH",
    "LEVEL_CLASS",
    "LEVEL_OF_CLASS",
    "SPECIFICITY",
    "TYPED_AREA_CODE_PATTERN",
    "TYPED_NOTATION_PATTERN",
    "TYPED_VILLAGE_CODE_PATTERN",
    "VILLAGE_CLASSES",
    "CodeRule",
    "area_classes",
    "code_rules",
    "level_of",
    "most_specific",
    "normal_code",
    "normal_notation",
    "rule_for",
]
