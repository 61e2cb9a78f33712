"""What a data steward meets importing, replacing and withdrawing is said in Chinese first, then in English
(``中文 / English``), message and hint, the English as it was (scripts match it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.errors import DcpaError, ValidationFailed, halves
from kg.importer import import_files, import_records, replace_record, withdraw
from kg.importer.readers import read_file
from kg.settings import Settings, get_settings
from kg.store import Store

from .conftest import NEED


def _need_id(store: Store, graph: str) -> str:
    [row] = store.select(f"SELECT ?n WHERE {{ GRAPH <{graph}> {{ ?n a dcpa:Need }} }}")
    return str(row["n"]).rsplit("/", 1)[1]


def _withdrawn(store: Store, settings: Settings) -> str:
    batch = import_records(store, "needs", [NEED], user="u", settings=settings).batch_id
    withdraw(store, batch, user="u", settings=settings)
    return batch


def _replacement(store: Store, settings: Settings) -> str:
    first = import_records(store, "needs", [NEED], user="u", settings=settings)
    return replace_record(store, "needs", _need_id(store, first.graph), {**NEED, "severity": 2}, user="u",
                          settings=settings).batch_id


def _referred_to(store: Store, settings: Settings) -> str:
    """A batch of one interview, and another batch of a need that rests on it."""
    interview = {"id": "ITV-REF-1", "interviewee_role": "IR1", "interviewed_on": "2018-05-10",
                 "place_code": "210123206200", "interviewer": "x", "consent": "CO1", "anonymisation": "AN1"}
    batch = import_records(store, "interviews", [interview], user="u", settings=settings).batch_id
    import_records(store, "needs", [{**NEED, "source": "interview", "interview": "ITV-REF-1",
                                     "identified_on": "2018-05-11"}], user="u", settings=settings)
    return batch


Case = tuple[Callable[[Store, Settings, Path], Any], str, str | None]
#: (what is done, the English the message keeps, the English the hint keeps)
CASES: dict[str, Case] = {
    "no files": (lambda s, st, tmp: import_files(s, [], user="u", settings=st), "no files given",
                 "dcpa import needs.xlsx"),
    "unknown kind": (lambda s, st, tmp: import_records(s, "dogs", [NEED], user="u", settings=st),
                     "unknown record kind 'dogs'", "one of: needs"),
    "no user": (lambda s, st, tmp: import_records(s, "needs", [NEED], user=" ", settings=st), "no user given",
                "say who writes the data"),
    "no such file": (lambda s, st, tmp: read_file(tmp / "missing.csv", st, []), "no such file: ", "check the path"),
    "unknown format": (lambda s, st, tmp: read_file(_touch(tmp / "needs.pdf"), st, []),
                       "unknown file format '.pdf': needs.pdf", "use an .xlsx or .csv file"),
    "WPS's own format": (lambda s, st, tmp: read_file(_touch(tmp / "needs.et"), st, []),
                         "unknown file format '.et': needs.et", "in WPS Spreadsheets, 'Save As' an Excel workbook"),
    "not replaceable": (lambda s, st, tmp: replace_record(s, "policies", "P01", {}, user="u", settings=st),
                        "records of kind 'policies' cannot be replaced", "one of: needs"),
    "no such record": (lambda s, st, tmp: replace_record(s, "needs", "nope", NEED, user="u", settings=st),
                       "no need with id 'nope'", "is not in the graph"),
    "no such batch": (lambda s, st, tmp: withdraw(s, "20990101T000000Z-000000", user="u", settings=st),
                      "no import batch '20990101T000000Z-000000'", "lists the batches"),
    "withdrawn twice": (lambda s, st, tmp: withdraw(s, _withdrawn(s, st), user="u", settings=st),
                        "was already withdrawn on", "import its corrected files as a new batch"),
    "a replacement": (lambda s, st, tmp: withdraw(s, _replacement(s, st), user="u", settings=st),
                      "and cannot be withdrawn: batch ", "replace the record again"),
    "referred to": (lambda s, st, tmp: withdraw(s, _referred_to(s, st), user="u", settings=st, dry_run=True),
                    "records of other batches refer to records of batch ", None),
    "bad reason": (lambda s, st, tmp: withdraw(s, _withdrawn(s, st), user="u", reason="a\x1b[2Jb", settings=st),
                   "the reason cannot be stored; nothing was withdrawn", None),
}


def _touch(path: Path) -> Path:
    path.write_text("x", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES)
def test_import_refusals_are_chinese_first(store: Store, settings: Settings, tmp_path: Path, case: str,
                                           zh_first: Callable[..., None]) -> None:
    do, english, hint = CASES[case]
    with pytest.raises(DcpaError) as e:
        do(store, settings, tmp_path)
    zh_first(e.value.message, english)
    if hint is not None:
        zh_first(e.value.hint, hint)


def test_a_replacement_s_blocker_is_said_in_the_language_of_each_half(store: Store, settings: Settings) -> None:
    """The reason a replacement stays is in both halves, each in its language (not the English one twice)."""
    with pytest.raises(DcpaError) as e:
        withdraw(store, _replacement(store, settings), user="u", settings=settings)
    zh, _, en = e.value.message.partition(" / ")
    assert "尚未撤回" in zh and "whose version it replaced, is not withdrawn" in en
    hint_zh, _, hint_en = e.value.hint.partition(" / ")  # both say the two steps that remove the record
    assert "then this one" in hint_en and "再撤回本批次" in hint_zh


def test_the_cli_says_a_missing_file_chinese_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   zh_first: Callable[..., None]) -> None:
    monkeypatch.setenv("DCPA_STORE_PATH", str(tmp_path / "store"))
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["import", str(tmp_path / "needs.xlsx"), "--user", "u"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2
    message = next(x for x in r.stderr.splitlines() if x.startswith("错误："))  # the label too: 错误 / error
    zh_first(message, f"error: no such file: {tmp_path / 'needs.xlsx'}")


def test_a_problem_the_shapes_find_is_said_chinese_first_with_its_place(
        store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        zh_first: Callable[..., None]) -> None:
    """A problem the SHACL shapes find in a file's row: `dcpa import` printed it with its place in English
    ("needs.csv, row 2, column severity: SHACL: 严重程度… / severity…") and its message after "SHACL: "; a warning
    of the shapes had its place in English alone ("needs.csv row 2: …")."""
    from rdflib.namespace import RDF

    from kg import fastshacl
    from kg.importer import checks
    from kg.namespaces import DCPA, SH

    said = (("en", "severity must be exactly one integer from 1 to 5"),
            ("zh", "严重程度必须恰好是一个 1 到 5 之间的整数"))

    def shapes(severity: Any) -> Callable[[list[Any], set[Any]], list[fastshacl.Result]]:
        """The shapes finding the need's severity wrong (``severity``: a violation, or a warning)."""
        return lambda graphs, focus_on: [fastshacl.Result(f, DCPA.severity, None, severity, said) for f in focus_on
                                         if (f, RDF.type, DCPA.Need) in graphs[0]]

    monkeypatch.setattr(checks, "check_shapes", shapes(SH.Violation))
    path = tmp_path / "needs.csv"
    path.write_text("village_code,need_type,severity,people_affected,source,identified_on,surveyor\n"
                    "210123206200,N22,4,120,survey,2018-05-12,张晓梅\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as e:
        import_files(store, [path], user="u", settings=settings)
    [issue] = e.value.issues
    zh_first(issue.message, "severity must be exactly one integer from 1 to 5")
    line = str(issue)
    assert line == ("needs.csv，第 2 行，“severity”列：严重程度必须恰好是一个 1 到 5 之间的整数"
                    "——请查看模板 readme 表中这一列的说明 / needs.csv, row 2, column severity: "
                    "severity must be exactly one integer from 1 to 5 — see the column's help on the readme sheet")
    monkeypatch.setattr(checks, "check_shapes", shapes(SH.Warning))
    [warning] = import_files(store, [path], user="u", settings=settings, dry_run=True).warnings
    assert warning == ("needs.csv，第 2 行：严重程度必须恰好是一个 1 到 5 之间的整数 / "
                       "needs.csv, row 2: severity must be exactly one integer from 1 to 5")


def test_files_that_cannot_be_kept_are_said_chinese_first(store: Store, tmp_path: Path,
                                                          zh_first: Callable[..., None]) -> None:
    """An import whose files cannot be kept (DCPA_IMPORTS_PATH not writable) is refused: in English alone."""
    blocked = tmp_path / "imports"
    blocked.write_text("a file where the directory should be", encoding="utf-8")
    with pytest.raises(DcpaError) as e:
        import_records(store, "needs", [NEED], user="u",
                       settings=Settings(imports_path=blocked, store_path=tmp_path / "store"))
    zh_first(e.value.message, f"could not keep the import's files under {blocked}: ")
    assert e.value.message.partition(" / ")[0].endswith("什么都没有写入")


def test_a_shapes_message_without_its_language_is_chinese_first(zh_first: Callable[..., None]) -> None:
    """pySHACL (the importer's fallback for a shape kg.fastshacl does not support) gives a SPARQL constraint's
    messages without their language tags: the English, sorted first, led the message."""
    from kg.importer.checks import _message

    said = _message(((None, "severity must be exactly one integer from 1 to 5"),
                     (None, "严重程度必须恰好是一个 1 到 5 之间的整数")))
    zh_first(said, "severity must be exactly one integer from 1 to 5")


def test_a_name_that_cannot_be_stored_is_said_in_each_half_in_its_language(store: Store, settings: Settings,
                                                                           tmp_path: Path) -> None:
    # "文件名 / file name: 不允许的双向文本控制字符 / bidirectional control character…" was parted after 文件名:
    # the data page in Chinese said 文件名 alone, in English "file name: 不允许的… / bidirectional…"; so were a
    # sheet's name, the user's and a withdrawal's reason
    bidi = tmp_path / "needs\u202e.csv"
    bidi.write_text("x", encoding="utf-8")
    with pytest.raises(DcpaError) as e:
        import_files(store, [bidi], user="u", settings=settings)
    with pytest.raises(DcpaError) as u:
        import_records(store, "needs", [NEED], user="张\u202e三", settings=settings)
    with pytest.raises(DcpaError) as w:
        withdraw(store, _withdrawn(store, settings), user="u", reason="a\x1b[2Jb", settings=settings)
    for error, zh_label, en_label in ((e, "文件名", "file name"), (u, "用户名", "user name"),
                                      (w, "撤回原因", "reason")):
        [issue] = error.value.issues
        zh, en = halves(issue.message)
        assert zh.startswith(zh_label + "：") and " / " not in zh, issue.message
        assert en.startswith(en_label + ": ") and not any("\u4e00" <= c <= "\u9fff" for c in en), issue.message
