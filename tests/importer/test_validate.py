"""`kg.validate.validate`: SHACL on the whole graph or a sample, and the HermiT check."""

from __future__ import annotations

import pytest

from kg.importer import import_files
from kg.validate import validate

from .conftest import write_csv

HEADER = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor"]


def test_imported_data_conforms_and_the_sample_is_announced(store, settings, tmp_path):
    import_files(
        store,
        [
            write_csv(
                tmp_path / "needs.csv", HEADER, [["210123206200", "N22", "4", "120", "survey", "2018-05-12", "张晓梅"]]
            )
        ],
        user="u",
        settings=settings,
    )
    full = validate(store, reasoner=False)
    assert full.conforms and not full.sampled and full.nodes_checked == full.nodes_total > 20
    part = validate(store, sample=4, reasoner=False, seed=1)
    assert part.sampled and part.nodes_checked == 4
    assert f"random sample of 4 of {full.nodes_total} nodes" in part.summary()[0]
    # what `dcpa validate` prints, 中文 / English (English alone before)
    assert part.summary()[0].startswith(f"SHACL：符合——检查了随机抽样的 4 个节点（共 {full.nodes_total} 个；")
    assert full.summary()[1] == "HermiT：没有运行 / HermiT: not run"


def test_large_graphs_are_sampled_by_default(store):
    big = validate(store, threshold=100, default_sample=6, reasoner=False)
    assert big.sampled and big.nodes_checked == 6 and big.conforms


@pytest.mark.slow
def test_hermit_finds_the_fixture_consistent(store):
    rep = validate(store, reasoner=True)
    assert rep.reasoner is not None
    if not rep.reasoner.get("ran"):
        pytest.skip(f"HermiT cannot run here: {rep.reasoner.get('message')}")
    assert rep.reasoner["consistent"] and rep.conforms
    assert "HermiT: consistent" in rep.summary()[1] and rep.summary()[1].startswith("HermiT：在全部 ")
