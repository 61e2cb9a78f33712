"""One typed settings object for the library, the CLI and the API.

Every field can be set from the environment with the ``DCPA_`` prefix
(e.g. ``DCPA_STORE_PATH=/srv/dcpa/store``) or from a ``.env`` file.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigurationError, DcpaError
from .rule import parse_validity

_SOURCE = Path(__file__).resolve().parent.parent
#: Where ``var/`` goes by default: the source checkout (``make serve``), else the directory dcpa runs in
#: (an installed wheel: never inside site-packages).
PROJECT_ROOT = _SOURCE if (_SOURCE / "pyproject.toml").is_file() else Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DCPA_", env_file=".env", extra="ignore")

    store_path: Path = Field(
        default=PROJECT_ROOT / "var" / "store",
        description="Directory of the embedded Oxigraph store (created by `dcpa build`).",
    )
    imports_path: Path = Field(
        default=PROJECT_ROOT / "var" / "imports",
        description="Directory where accepted import files are retained, so a rebuild keeps them.",
    )
    sparql_endpoint: str | None = Field(
        default=None,
        description="URL of a remote SPARQL 1.1 endpoint to use instead of the embedded store.",
    )
    sparql_update_endpoint: str | None = Field(
        default=None, description="URL of the remote endpoint's update service (writes)."
    )
    graph_store_endpoint: str | None = Field(
        default=None,
        description="URL of the remote store's SPARQL 1.1 Graph Store Protocol service, where it has one: "
        "whole graphs are then loaded, replaced, removed and dumped through it (faster, one request per graph).",
    )
    max_import_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest file `dcpa import` accepts, in bytes (larger is refused)."
    )
    max_import_rows: int = Field(default=100_000, description="Most data rows one import file may hold.")
    xlsx_max_uncompressed_bytes: int = Field(
        gt=0,
        default=256 * 1024 * 1024,
        description="Most bytes an XLSX file may expand to when unpacked (a 100,000-row sheet is about 50 MB).",
    )
    xlsx_max_ratio: float = Field(
        gt=0,
        default=100.0,
        description="Most times one part of an XLSX file may expand (Excel's are 5-20 times; bombs 1000).",
    )
    xlsx_max_cells: int = Field(
        gt=0, default=3_000_000, description="Most cells (counting blanks inside each row) an XLSX file may hold."
    )
    xlsx_max_sheets: int = Field(gt=0, default=50, description="Most sheets an XLSX file may hold.")
    default_user: str | None = Field(
        default=None, description="Name recorded as the author of imports when --user is not given ($USER else)."
    )
    query_timeout: float = Field(default=10.0, description="Time limit of one query, in seconds.")
    answer_timeout: float = Field(
        default=60.0,
        description="Time limit of one answer the service computes for a request (gaps, plans, "
        "recommendations, records, pages), in seconds; like a query, it runs in a query worker that is "
        "stopped at the limit.",
    )
    max_rows: int = Field(default=10_000, description="Most rows a SPARQL SELECT returns; more is truncated.")
    max_answer_bytes: int = Field(
        gt=0, default=64 * 1024 * 1024,
        description="Largest SPARQL answer the endpoint sends, in bytes of the serialised answer (larger: 507).",
    )
    max_query_bytes: int = Field(
        default=100_000, description="Largest SPARQL query text the endpoint accepts, in bytes."
    )
    result_cache_mb: int = Field(
        ge=0,
        default=64,
        description="Memory the server keeps SPARQL answers in, for the same request on the same data "
        "(every write forgets them all), in MB; 0 turns it off.",
    )
    query_workers: int = Field(
        default=2,
        description="Query worker processes the server keeps ready (idle) for SPARQL and JSON answers; "
        "more start, up to query_workers_max, while others are busy.",
    )
    query_workers_max: int = Field(
        default=6,
        description="Most query worker processes at once (threads for in-memory and remote stores); "
        "further requests wait for a free one within their time limit.",
    )
    client_queries: int | None = Field(
        default=None,
        ge=0,
        description="Most queries and answers one client (its address) may have running in query workers at once; "
        "one more is refused with 429 and a Retry-After. Unset: half of query_workers_max (at least 1), so that "
        "one client leaves workers for the others; 0 means no limit.",
    )
    client_query_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Seconds of query-worker time one client may use a minute on average, and twice that at once "
        "(Wikidata's query service allows 60 and 120); past it its next query or answer is refused with 429 and a "
        "Retry-After until the time has come back. 0 means no budget.",
    )
    sparql_origins: str = Field(
        default="*",
        description="Which other sites' pages may read /sparql's answers in a browser (CORS): * every site, as public "
        "SPARQL endpoints allow (YASGUI at yasgui.org, notebooks); a comma list of origins (https://yasgui.org) "
        "those alone; empty, none. An endpoint on an intranet whose data should not leave it: a page of any site its "
        "users visit can read what their browsers can reach, so list the origins, or none.",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="Comma list of the addresses (or networks) of reverse proxies in front of the server, whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed: a request from one of them is the client the proxy "
        "names. Unset: every request is its peer's address, whatever headers it sends.",
    )
    query_memory_mb: int = Field(
        default=1024,
        description="Memory one query may take in its worker, in MB (address space above the worker's "
        "size at start-up); past it the query is stopped with 507. 0 means no limit.",
    )
    api_user: str = Field(
        default="api", description="Name recorded as the author of API writes (header X-DCPA-User overrides)."
    )
    api_token: str | None = Field(
        default=None, description="Bearer token that allows writes through the API; unset means writes are off."
    )
    max_request_bytes: int = Field(
        gt=0, default=50 * 1024 * 1024,
        description="Largest request body the API reads from a request with the write token or the admin channel, "
        "in bytes (larger: 413); any other at most 3 x max_query_bytes + 8 KiB.",
    )
    header_timeout: float = Field(
        gt=0, default=20.0, description="Seconds a client has to send a request's line and headers (slower: 408)."
    )
    body_timeout: float = Field(
        gt=0,
        default=20.0,
        description="Seconds a client has to send a request body, extended by every byte at body_min_rate "
        "(slower: 408); also the span over which a client must read body_min_rate bytes a second of an answer "
        "waiting for it (slower: the connection is reset).",
    )
    body_min_rate: float = Field(
        gt=0, default=500.0,
        description="Bytes per second a slow request body earns more time at, and an answer must be read at "
        "(see body_timeout).",
    )
    compress_level: int = Field(
        ge=0,
        le=9,
        default=6,
        description="gzip level of responses for clients that accept it (pages, scripts, JSON, CSV, SPARQL "
        "results); 0 sends them as they are (a proxy in front compresses).",
    )
    host: str = Field(default="127.0.0.1", description="Address `dcpa serve` listens on.")
    port: int = Field(default=8000, description="Port `dcpa serve` listens on.")
    example_seed: int = Field(default=42, description="Seed of the default synthetic example data.")
    example_villages: int = Field(
        default=600, description="How many village-level units the default build gives example data."
    )
    reach: str = Field(
        default="direct,area",
        description="Which reach counts for \"addressed\": comma list of `direct` (the intervention names the "
        "village) and `area` (it targets an area containing the village with an online resource or a declared "
        "whole-area scope). A library's service area never counts.",
    )
    as_of: date | None = Field(
        default=None,
        description="Date the answers are for (YYYY-MM-DD): which interventions are in force. Unset: today.",
    )
    derived_check_seconds: float = Field(
        gt=0,
        default=600.0,
        description="How often `dcpa serve` checks that the derived graph still answers for today (a validity "
        "window may have closed); when it does not, the server moves it to today, recomputing only the counties "
        "where an outcome changed.",
    )
    validity_months: str = Field(
        default="C1=24,C2=60,C3=36,C4=60",
        description="Months a completed intervention stays in force after its end, per category (C1 training, "
        "C2 terminals, C3 resources, C4 platforms); a declared in-service date overrides it.",
    )

    @field_validator("validity_months")
    @classmethod
    def _known_windows(cls, value: str) -> str:
        try:
            parse_validity(value)
        except DcpaError as e:  # refused when read, not when the first answer in force is worked out
            (zh, en), (zh_hint, en_hint) = _halves(e.message), _halves(e.hint or "")
            raise ValueError(f"{zh}（{zh_hint}） / {en} ({en_hint})" if e.hint else e.message) from None
        return value

    def client_query_limit(self) -> int | None:
        """How many queries one client may have running at once (``client_queries``, or half the workers); None: no
        limit. Why half: a client at its limit leaves the other half of the workers to everyone else (Wikidata's
        query service allows 5 at once per client address, DBpedia 50 connections)."""
        if self.client_queries is None:
            return max(1, self.query_workers_max // 2)
        return self.client_queries or None

    def validity_windows(self) -> dict[str, int]:
        """``validity_months`` as ``{category notation: months}``."""
        return parse_validity(self.validity_months)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests override through dependency injection); a value that is not one of its
    setting's is a ``ConfigurationError`` naming the variable (exit 2), not a traceback."""
    try:
        return Settings()
    except ValidationError as e:
        raise settings_error(e) from None


def settings_error(e: ValidationError) -> ConfigurationError:
    """The refusal of settings that do not read: each variable named with its value and what is wrong."""
    zh, en = [], []
    for problem in e.errors():
        name = "DCPA_" + "_".join(str(part) for part in problem["loc"]).upper()
        value = problem.get("input")
        said = str(problem["msg"]).removeprefix("Value error, ")
        zh_said, en_said = _halves(said) if " / " in said else ("不是这个设置可取的值", said)
        zh.append(f"{name}（{value!r}）：{zh_said}")
        en.append(f"{name} ({value!r}): {en_said}")
    return ConfigurationError(
        f"设置有误（环境变量或 .env 文件）：{'；'.join(zh)} / "
        f"a setting is wrong (environment or .env file): {'; '.join(en)}",
        hint="请改正或删去这些设置（见 README.md 的 Settings 表） / correct or unset them (see the Settings table "
        "in README.md)",
    )


def _halves(text: str) -> tuple[str, str]:
    """``中文 / English`` as its two halves."""
    zh, _, en = text.partition(" / ")
    return zh, en
