"""What a planner or a data steward meets from the library's core (a record's id, a reach rule, a search, an
export, a store another process writes) is said in Chinese first, then in English (``中文 / English``)."""

from __future__ import annotations

import ast
import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kg.errors import DcpaError, StoreBusy
from kg.export import export
from kg.namespaces import GRAPH_ONTOLOGY
from kg.records import RECORD_KINDS, get_record
from kg.remote import RemoteStore
from kg.resources import ontology_graph
from kg.rule import parse_reach
from kg.search import normalise
from kg.settings import Settings
from kg.store import Store
from kg.synthetic import plan_areas
from kg.writer import WriterLock

from .conftest import writer_lock_held


@pytest.fixture(scope="module")
def store() -> Store:
    s = Store.memory()
    s.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    return s


#: (what is asked, the English the message keeps, the English the hint keeps)
CASES: dict[str, tuple[Callable[[Store], Any], str, str]] = {
    "no such record": (lambda s: get_record(s, RECORD_KINDS["interventions"], "NOPE"),
                       "no intervention with id 'NOPE'", "list them with /api/interventions"),
    "reach library": (lambda s: parse_reach("library"), "reach mode 'library' no longer exists",
                      "use direct and/or area"),
    "reach unknown": (lambda s: parse_reach("direct,near"), "unknown reach mode(s) near",
                      "reach is a comma list of direct, area"),
    "long search": (lambda s: normalise("a b c d e f"), "the search has 6 words; at most 5", "search by name"),
    "export format": (lambda s: export(s, "xml", io.BytesIO()), "unknown export format 'xml'", "use one of: nq, trig"),
    "generate area": (lambda s: plan_areas(5, random.Random(0), area_code="9999"),
                      "no area with code '9999' in the reference data", "use an official code such as 21"),
}


@pytest.mark.parametrize("case", CASES)
def test_core_refusals_are_chinese_first(store: Store, case: str,
                                         zh_first: Callable[..., None]) -> None:
    ask, english, hint = CASES[case]
    with pytest.raises(DcpaError) as e:
        ask(store)
    zh_first(e.value.message, english)
    zh_first(e.value.hint, hint)


def test_a_reach_mode_is_called_what_the_village_page_calls_it() -> None:
    """The refusal said 到达途径 where the village page's reasons say 到达方式 (intervention · reach · valid until)."""
    for reach in ("library", "direct,near"):
        with pytest.raises(DcpaError) as e:
            parse_reach(reach)
        assert "到达方式" in e.value.message and "途径" not in e.value.message


def test_a_busy_store_is_said_chinese_first(tmp_path: Path,
                                            zh_first: Callable[..., None]) -> None:
    """What a data steward reads when `dcpa import` finds another process writing the store."""
    store_path = tmp_path / "store"
    with writer_lock_held(store_path) as pid, pytest.raises(StoreBusy) as e:
        WriterLock(store_path, "import").acquire_or_fail()
    zh_first(e.value.message, f"dcpa build (pid {pid}) is writing the store at {store_path}")
    zh_first(e.value.hint, "wait for it to finish")


def test_a_missing_or_half_built_store_is_said_chinese_first(tmp_path: Path,
                                                             zh_first: Callable[..., None]) -> None:
    """What `dcpa stats` and every reading command say before `dcpa build`, or on a store a build left unfinished:
    English alone before, where the README promises a plain error with its fix."""
    place = tmp_path / "store"
    with pytest.raises(DcpaError) as e:
        Store.open(place, create=False)
    zh_first(e.value.message, f"no store at {place}")
    zh_first(e.value.hint, "run `dcpa build` first")
    place.mkdir()  # a directory with no store in it
    with pytest.raises(DcpaError) as e:
        Store.open(place, create=False)
    zh_first(e.value.message, f"the store at {place} is damaged or half-built")
    zh_first(e.value.hint, "run `dcpa build` to rebuild it")


def test_a_query_stopped_by_its_limits_is_said_chinese_first(zh_first: Callable[..., None]) -> None:
    """A gap report, a plan or a SPARQL query past DCPA_QUERY_TIMEOUT answered 503 in English alone."""
    from kg.workers import _shutting_down, query_timeout

    late = query_timeout(10)
    zh_first(late.message, "the query ran longer than its time limit of 10 s")
    zh_first(late.hint, "add a LIMIT")
    down = _shutting_down()
    zh_first(down.message, "the server is shutting down")
    zh_first(down.hint, "try again when it is back")


def _remote(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
            error: Exception | None = None, *, writable: bool = True, gsp: bool = False) -> RemoteStore:
    def handler(request: httpx.Request) -> httpx.Response:
        if error is not None:
            raise error
        return httpx.Response(status, headers=headers or {}, content=body)

    return RemoteStore("http://store.invalid/sparql",
                       update_endpoint="http://store.invalid/update" if writable else None,
                       graph_store="http://store.invalid/gsp" if gsp else None,
                       client=httpx.Client(transport=httpx.MockTransport(handler)))


G = "http://example.org/g"
NT = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"

#: A write to a remote store (DCPA_SPARQL_UPDATE_ENDPOINT) that fails: (the store, what is written) → (the English
#: the message keeps, the English the hint keeps). An import or a withdrawal on such a store said these in English.
REMOTE_WRITES: dict[str, tuple[Callable[[], Any], str, str | None]] = {
    "read-only": (lambda: _remote(writable=False).add_graph(G, NT),
                  "the remote store is read-only here: nothing was written", "set DCPA_SPARQL_UPDATE_ENDPOINT"),
    "refused": (lambda: _remote(400, b"Parse error").add_graph(G, NT),
                "the remote store refused the update; nothing was written: Parse error", None),
    "refused a graph": (lambda: _remote(400, b"bad", gsp=True).replace_graph(G, NT),
                        f"the remote store refused the PUT of graph <{G}>; nothing was written: bad", None),
    "deadlock": (lambda: _remote(500, b"Virtuoso 40001 Error SR172: Transaction deadlocked").add_graph(G, NT),
                 "the remote store gave the update up for another at the same moment; nothing was written",
                 "try again"),
    "no confirmation": (lambda: _remote(error=httpx.ReadTimeout("slow")).add_graph(G, NT),
                        "the remote store did not confirm the update within 600 s: it may or may not have landed",
                        "the next write's recovery"),
    "a problem reported": (lambda: _remote(200, headers={"X-SQL-State": "22023"}).add_graph(G, NT),
                           "the remote store reported a problem with the update", "the next write's recovery"),
    "unreadable data": (lambda: _remote().add_graph(G, b"not n-triples"),
                        f"write to {G} failed; nothing was written", None),
    "no store": (lambda: RemoteStore.from_settings(Settings(sparql_endpoint=None)), "no remote store is configured",
                 "set DCPA_SPARQL_ENDPOINT"),
}


@pytest.mark.parametrize("case", REMOTE_WRITES)
def test_a_remote_stores_failed_write_is_said_chinese_first(case: str, zh_first: Callable[..., None]) -> None:
    write, english, hint = REMOTE_WRITES[case]
    with pytest.raises(DcpaError) as e:
        write()
    zh_first(e.value.message, english)
    if hint is not None:
        zh_first(e.value.hint, hint)


def test_a_failed_write_is_said_alike_by_a_local_and_a_remote_store() -> None:
    """One message for data that cannot be written, whichever store it was to go to."""
    said = []
    for store in (Store.memory(), _remote()):
        with pytest.raises(DcpaError) as e:
            store.add_graphs([(G, b"not n-triples")])
        said.append(e.value.message.split(": ", 1)[0])
    assert said[0] == said[1] and said[0].startswith("写入 ")


def test_a_server_lost_during_a_handed_write_is_said_chinese_first(zh_first: Callable[..., None]) -> None:
    """What `dcpa import` (`derive`, `build`, `withdraw`) prints when the `dcpa serve` it handed its work to stops
    answering, or answers what is not the one error shape: English alone, to a steward at the server's console."""
    from kg import handoff
    from kg.writer import ServerInfo

    gone = ServerInfo(4242, "http://127.0.0.1:9", "t", "i", "/s")  # the discard port: nothing answers
    with pytest.raises(DcpaError) as e:
        handoff.derive(gone)
    zh_first(e.value.message, "the server (pid 4242) stopped answering during the derive: ")
    assert "派生" in e.value.message
    zh_first(e.value.hint, "run the command again (an import that is in says 'already exists')")
    zh_first(handoff.error_from(httpx.Response(502, text="Bad Gateway")).message,
             "the server answered 502: Bad Gateway")
    zh_first(handoff.error_from(httpx.Response(500, json={})).message, "the server refused the work")


def test_the_admin_channels_refusals_are_chinese_first(tmp_path: Path, zh_first: Callable[..., None]) -> None:
    """The admin channel's answers to a request it does not take (`dcpa import` prints them as it gets them)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    from .conftest import Place

    app = create_app(Place(tmp_path).settings, Store.memory())  # a store given to it: no admin channel
    r = TestClient(app, client=("127.0.0.1", 50000)).get("/admin/ping")
    assert r.status_code == 404
    zh_first(r.json()["error"]["message"], "this server has no admin channel (it did not open its store itself)")
    served = app.state.served
    served.admin_token = "secret"
    r = TestClient(app, client=("10.0.0.7", 50000)).get("/admin/ping")
    assert r.status_code == 403
    zh_first(r.json()["error"]["message"], "the admin channel answers only requests from this machine")
    r = TestClient(app, client=("127.0.0.1", 50000)).get("/admin/ping", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    zh_first(r.json()["error"]["message"], "the admin token is not valid")


def test_what_stops_a_build_is_said_chinese_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   zh_first: Callable[..., None]) -> None:
    """What `dcpa build` (and a rebuild asked of `dcpa serve`) says when it cannot build: English alone before."""
    import kg.build
    from api.serving import ServedStore
    from kg.viz import _render

    sparql = Settings(sparql_endpoint="http://store.invalid/sparql")
    monkeypatch.setattr(kg.build, "open_store", lambda settings: _remote(writable=False))
    with pytest.raises(DcpaError) as e:
        kg.build.build(sparql)
    zh_first(e.value.message, "the remote store is read-only here: it cannot be built")
    zh_first(e.value.hint, "set DCPA_SPARQL_UPDATE_ENDPOINT to the store's update endpoint")
    one = {"head": {"vars": ["g"]}, "results": {"bindings": [{"g": {"type": "uri", "value": str(GRAPH_ONTOLOGY)}}]}}
    held = _remote(200, json.dumps(one).encode(), {"content-type": "application/sparql-results+json"})
    monkeypatch.setattr(kg.build, "open_store", lambda settings: held)
    with pytest.raises(DcpaError) as e:
        kg.build.build(sparql)
    zh_first(e.value.message, "the remote store at http://store.invalid/sparql already holds 1 graph(s)")
    zh_first(e.value.hint, "empty it with the store's own tools (docs/DEPLOYMENT.md), then build again")

    with pytest.raises(DcpaError) as e:
        ServedStore(None, Settings(store_path=tmp_path / "store")).build()
    zh_first(e.value.message, "this server was given its store (an in-memory or remote store): it cannot rebuild it")
    zh_first(e.value.hint, "rebuild where the store lives, with `dcpa build`")

    monkeypatch.setattr(_render, "VIS_JS", tmp_path / "vis.js")  # what `dcpa viz` needs before `make assets`
    with pytest.raises(DcpaError) as e:
        _render.inline_assets()
    zh_first(e.value.message, f"browser assets are missing: {tmp_path / 'vis.js'}")
    zh_first(e.value.hint, "run `make assets`")


# -- every message written in the code ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
#: A message only a developer reads (a check of the package's own files, an invariant): marked on the line above the
#: statement that says it, with why.
DEVELOPERS = "# for developers"


def _error_names() -> set[str]:
    found, todo = set(), [DcpaError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found | {"Issue"}


def _texts(call: ast.Call, name: str, cli: bool) -> list[ast.expr]:
    """The arguments of ``call`` that a user reads (empty when ``call`` carries nothing to a user)."""
    keywords = [k.value for k in call.keywords if k.arg in ("message", "hint", "detail")]
    if name in _error_names():
        return call.args[:1] + keywords
    if name == "HTTPException":
        return call.args[1:2] + keywords
    if name == "error_body":
        return call.args[1:3] + keywords
    if cli and name in ("err", "write", "echo"):
        return call.args[:1]
    f = call.func  # a note or a warning an answer, a build or an import reports: notes.append(…)
    if name == "append" and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
            and f.value.id in ("notes", "warnings"):
        return call.args[:1]
    return []


def _english_alone(node: ast.expr) -> str | None:
    """The written text of ``node`` when it says something in English with no Chinese (None when it is fine, or
    when it is not written here: a variable, a call). ``f"{zh} / English"``: the Chinese half is ``zh``."""
    parts: list[ast.expr] = []

    def flat(n: ast.expr) -> bool:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            return flat(n.left) and flat(n.right)
        if isinstance(n, ast.JoinedStr):
            parts.extend(n.values)
            return True
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            parts.append(n)
            return True
        parts.append(n)  # a value said inside the text
        return not parts[:-1] == []  # a text that is only a name or a call is not written here

    if not flat(node) or not any(isinstance(p, ast.Constant) for p in parts):
        return None
    written = "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in parts)
    if any("\u4e00" <= c <= "\u9fff" for c in written) or written.startswith("{} / "):
        return None
    words = set(re.findall(r"[A-Za-z]{3,}", written.replace("{}", " "))) - {"dcpa"}  # the program's name is no word
    return written if words else None


def test_every_message_written_for_a_user_is_chinese_first() -> None:
    """Each refusal (an error of kg.errors, an Issue, an HTTPException, an error body), note and warning and each
    line a command prints, as written in kg/ and api/: English alone fails, unless marked as said to developers only
    (``# for developers``, with why). A message made elsewhere (a helper, a variable) is checked by its own tests."""
    found = []
    for path in sorted([*ROOT.glob("kg/**/*.py"), *ROOT.glob("api/**/*.py")]):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        cli = path.parent.name == "cli"
        tree = ast.parse(source)
        marked = {n for stmt in ast.walk(tree) if isinstance(stmt, ast.Raise | ast.Return | ast.Expr | ast.Assign)
                  and stmt.lineno > 1 and lines[stmt.lineno - 2].strip().startswith(DEVELOPERS)
                  for n in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)}  # the statement under the mark
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or node.lineno in marked:
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            for arg in _texts(node, name, cli):
                text = _english_alone(arg)
                if text is not None:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({text!r})")
    assert not found, "English alone:\n" + "\n".join(found)


def test_the_scan_finds_english_alone() -> None:
    """The scan's own check: what it must refuse, and what it must let be."""
    said = {
        'StoreError("the store failed")': "the store failed",
        'StoreError(f"write to {g} failed")': "write to {} failed",
        'Issue("bad row", hint="use " + x)': "bad row",
        'StoreError("存储出错 / the store failed")': None,
        'StoreError(f"{zh} / the store failed: {e}")': None,
        'StoreError(message)': None,
        'StoreError(f"{e}")': None,
    }
    for code, english in said.items():
        call = ast.parse(code).body[0].value  # type: ignore[attr-defined]
        assert _english_alone(call.args[0]) == english, code


def test_a_generation_that_cannot_be_made_is_said_chinese_first(tmp_path: Path,
                                                                 zh_first: Callable[..., None]) -> None:
    """`dcpa generate --villages -1` answered "villages must be >= 0" in English alone."""
    from typer.testing import CliRunner

    from kg.cli import app

    r = CliRunner().invoke(app, ["generate", "--villages", "-1", "-o", str(tmp_path / "x.nt")])
    assert r.exit_code == 2
    said = " ".join(line.strip("│ ") for line in r.stderr.splitlines())
    zh_first(said[said.index("村数"):], "villages must be >= 0")
