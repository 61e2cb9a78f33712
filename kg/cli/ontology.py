"""``dcpa ontology …``: the ontology, its documentation and its checks."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..resources import ontology_graph
from ._app import app

ontology_app = typer.Typer(help="The ontology: print it, document it, check it.", no_args_is_help=True)
app.add_typer(ontology_app, name="ontology")


@ontology_app.command("show")
def show(
    fmt: Annotated[str, typer.Option("--format", "-f", help="ttl, nt, xml or json-ld.")] = "ttl",
) -> None:
    """Print the ontology and its SKOS schemes.

    Example: dcpa ontology show --format json-ld > dcpa.jsonld
    """
    formats = {"ttl": "turtle", "nt": "nt", "xml": "xml", "json-ld": "json-ld", "jsonld": "json-ld"}
    if fmt not in formats:
        raise typer.BadParameter(f"unknown format {fmt!r}; use one of {', '.join(formats)}")
    sys.stdout.write(ontology_graph().serialize(format=formats[fmt]))
