"""Shared fixtures of the ontology quality suite: graphs are parsed once, HermiT runs once per dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg.resources import ontology_graph

DATA = Path(__file__).resolve().parent.parent / "data" / "ontology"
VALID = DATA / "fixture_valid.ttl"
INCONSISTENT = DATA / "fixture_inconsistent.ttl"
SHACL_BROKEN = DATA / "shacl_broken"


@pytest.fixture(scope="session")
def ontology() -> rdflib.Graph:
    return ontology_graph()


@pytest.fixture(scope="session")
def valid_data() -> rdflib.Graph:
    return rdflib.Graph().parse(VALID, format="turtle")
