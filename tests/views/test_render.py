"""Pages and exports: labels stay text, exports are self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg import viz
from kg.store import Store

from .conftest import MALICIOUS

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def embedded(html: str, element_id: str = "dcpa-graph-data") -> dict:
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


def test_embed_json_cannot_close_the_script_element() -> None:
    text = viz.embed_json({"label": "</script><script>alert(1)</script><!--"})
    assert "<" not in text and ">" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script><!--"}


@pytest.mark.parametrize("standalone", [False, True])
def test_malicious_label_is_only_data_in_the_page(store: Store, standalone: bool) -> None:
    html = viz.render_view(viz.village_view(store, "211322101200"), "zh", standalone=standalone)
    # the label never appears as markup …
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    # … but round-trips exactly as data (a library's name, in the details of what it provides)
    shown = [json.dumps(n["props"], ensure_ascii=False) for n in embedded(html)["nodes"]]
    assert any(MALICIOUS in text for text in shown)


def test_standalone_export_is_self_contained(store: Store) -> None:
    html = viz.render_view(viz.area_view(store, "211322"), "zh", standalone=True)
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script src" not in html and 'rel="stylesheet"' not in html
    vis = viz._render.VIS_JS.read_text(encoding="utf-8")
    assert vis[:2000] in html  # the vis-network code itself is inlined
    assert "dcpaNetwork" in html  # and the page script
    assert embedded(html)["node_json"] is None  # no links to a server that is not there


def test_pages_mark_synthetic_data(store: Store) -> None:
    html = viz.render_view(viz.village_view(store, "211322101200"), "en")
    assert "示例数据 / example data" in html
    onto = viz.render_view(viz.ontology_view(), "en")
    assert "data-synthetic" not in onto  # the ontology is not example data: no banner


@pytest.mark.parametrize(
    "args, expect",
    [
        (["village", "211322101200"], "朱碌科村村民委员会"),
        (["area", "211322"], "建平县"),
        (["policy", "P02"], "数字图书馆推广工程"),
        (["ontology"], "行政村"),
    ],
)
def test_cli_writes_an_offline_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expect: str
) -> None:
    from kg.cli import app
    from kg.cli import viz as cli_viz

    monkeypatch.setattr(cli_viz, "_store", lambda: store)
    out = tmp_path / "view.html"
    result = CliRunner().invoke(app, ["viz", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert expect in json.dumps(embedded(html), ensure_ascii=False)
    assert not EXTERNAL.search(html)


def test_cli_unknown_village_exits_2(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.cli import app
    from kg.cli import viz as cli_viz

    monkeypatch.setattr(cli_viz, "_store", lambda: store)
    result = CliRunner().invoke(app, ["viz", "village", "211322101999", "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert not (tmp_path / "x.html").exists()
