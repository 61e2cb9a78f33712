"""A live server under hostile HTTP: the token before the body, size and time limits, header decoding.

The server runs exactly as `dcpa serve` does (``api.testing.LiveServer``), with limits small
enough to test quickly. Clients here speak raw HTTP over sockets, so they can stall, trickle and
lie about sizes. Assertions are about states (what the server answered, whether it closed the
connection, how much the client had still to send), never about how long anything took; the
socket timeout only stops a broken server from hanging the suite.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from api.app import create_app
from api.guards import _GATED, StopOnDisconnect
from api.server import head_limit
from api.testing import LiveServer, wait_for
from kg.store import Store

from . import hostile as h
from .conftest import AUTH, load_fixture, make_settings, nquads

pytestmark = pytest.mark.timeout(120)

MAX_BODY = 64 * 1024
#: A broken server makes the test fail after this long instead of hanging it.
SAFETY = 30.0
NEED: dict[str, Any] = {
    "village_code": h.VILLAGE,
    "need_type": "N41",
    "severity": 5,
    "people_affected": 30,
    "source": "survey",
    "identified_on": "2019-04-01",
    "surveyor": "示例·县图书馆",
}


@dataclass
class Live:
    url: str
    host: str
    port: int
    store: Store


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    store = load_fixture(Store.memory())
    settings = make_settings(tmp, max_request_bytes=MAX_BODY, header_timeout=1.0, body_timeout=1.0, body_min_rate=500.0)
    server = LiveServer(create_app(settings, store))
    host, port = server.url.removeprefix("http://").split(":")
    yield Live(server.url, host, int(port), store)
    server.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after answering

    def error(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)["error"]
        assert set(data) == {"code", "message", "hint", "details"}
        return data


def connect(live: Live) -> socket.socket:
    return socket.create_connection((live.host, live.port), timeout=SAFETY)


def read_answer(sock: socket.socket) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed without answering: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed in the middle of its answer"
        body += chunk
    try:
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        closed = True
    return Answer(status, headers, body[:length], closed)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Trickle(threading.Thread):
    """Send ``data`` a byte at a time, ``gap`` seconds apart (a slowloris client), until done or cut off."""

    def __init__(self, sock: socket.socket, data: bytes, gap: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.sock, self.data, self.gap = sock, data, gap
        self.sent = 0
        self.stop = threading.Event()

    def run(self) -> None:
        for i in range(len(self.data)):
            if self.stop.is_set():
                return
            try:
                self.sock.sendall(self.data[i : i + 1])
            except OSError:
                return  # the server closed the connection
            self.sent += 1
            self.stop.wait(self.gap)


# ---------------------------------------------------------------------------
# The token comes before the body
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "status"), [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic x"}, 401)]
)
def test_a_write_without_the_token_is_refused_before_its_200_MB_body(live: Live, auth: dict[str, str], status: int):
    with connect(live) as s:
        head = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(200 * 1024 * 1024), **auth}
        s.sendall(request_head("POST", "/api/imports", head))  # ... and not one byte of the body
        answer = read_answer(s)
    assert answer.status == status
    assert answer.error()["code"] == "unauthorized"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.closed


def test_put_without_the_token_is_refused_before_its_body_too(live: Live):
    with connect(live) as s:
        s.sendall(request_head("PUT", "/api/needs/N-1", {"Content-Type": "application/json", "Content-Length": "5000"}))
        answer = read_answer(s)
    assert answer.status == 401 and answer.closed


def test_a_read_only_post_needs_no_token(live: Live):
    """POST /api/plans computes a plan: it is not a write, so the gate leaves it alone."""
    r = httpx.post(live.url + "/api/plans", json={"budget": 1000, "area": "21"}, timeout=SAFETY)
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------
# Too large: 413
# ---------------------------------------------------------------------------


def test_a_declared_body_over_the_limit_is_413_before_it_is_read(live: Live, zh_first: Callable[..., None]):
    with connect(live) as s:
        head = {**AUTH, "Content-Type": "application/json", "Content-Length": str(MAX_BODY + 1)}
        s.sendall(request_head("POST", "/api/needs", head))
        answer = read_answer(s)
    assert answer.status == 413
    error = answer.error()
    assert error["code"] == "request_too_large"
    zh_first(error["message"], f"the request body is larger than {MAX_BODY} bytes")  # Chinese first, as every message
    zh_first(error["hint"], "or raise DCPA_MAX_REQUEST_BYTES")
    assert answer.closed


def test_a_streamed_body_is_cut_off_at_the_limit_with_413(live: Live):
    before = nquads(live.store)
    with connect(live) as s:
        head = {**AUTH, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        s.sendall(request_head("POST", "/api/needs", head))
        chunk = b"[" + b" " * 16383
        sent = 0
        answer = None
        s.settimeout(SAFETY)
        while sent <= 4 * MAX_BODY:
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break
            sent += len(chunk)
            if sent > MAX_BODY:  # the server has what breaks the limit: it answers now
                answer = read_answer(s)
                break
    assert answer is not None and answer.status == 413, answer
    assert answer.error()["code"] == "request_too_large" and answer.closed
    assert sent < 2 * MAX_BODY  # it did not read on to the end
    assert nquads(live.store) == before


#: The largest query of the server below: a request without the token may send what such a query takes as a form
#: (``api.sparql.body_limit``: 3 x 4,096 + 8,192 = 20,480 bytes), a writer up to ``MAX_BODY`` (64 KiB).
SMALL_QUERY = 4096


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("small")
    store = load_fixture(Store.memory())
    server = LiveServer(create_app(make_settings(tmp, max_request_bytes=MAX_BODY, max_query_bytes=SMALL_QUERY), store))
    host, port = server.url.removeprefix("http://").split(":")
    yield Live(server.url, host, int(port), store)
    server.stop()


def test_a_request_without_the_token_may_send_no_more_than_the_largest_query_takes(small: Live,
        zh_first: Callable[..., None]):
    """An anonymous POST /api/plans of 45 MB (the old limit was 50 MB for every request) grew the server by 500 MB,
    which it kept: FastAPI parses a JSON body whole."""
    with connect(small) as s:
        head = {"Content-Type": "application/json", "Content-Length": "30000"}
        s.sendall(request_head("POST", "/api/plans", head))  # ... and not one byte of the body
        answer = read_answer(s)
    assert answer.status == 413 and answer.closed
    error = answer.error()
    assert error["code"] == "request_too_large"
    zh_first(error["message"], "the request body is larger than 20480 bytes, the most a request without the write "
                               "token may send")
    zh_first(error["hint"], "send a shorter query or request")
    # streamed, it is cut off there too
    with connect(small) as s:
        s.sendall(request_head("POST", "/api/plans", {"Content-Type": "application/json",
                                                      "Transfer-Encoding": "chunked"}))
        chunk = b"[" + b" " * 8191
        for _ in range(3):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = read_answer(s)
    assert answer.status == 413 and answer.closed


def test_a_query_as_large_as_allowed_and_a_writer_s_larger_body_are_read(small: Live):
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #" + "村" * ((SMALL_QUERY - 40) // 3)
    form = "query=" + quote(query)
    assert len(query.encode()) <= SMALL_QUERY and len(form) > 12000  # three times the query: percent-encoded
    r = httpx.post(small.url + "/sparql", content=form.encode(), timeout=SAFETY,
                   headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    assert r.status_code == 200, r.text
    body = json.dumps([NEED]).encode() + b" " * 30000  # over what a request without the token may send
    r = httpx.post(small.url + "/api/needs", content=body, timeout=SAFETY,
                   headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code in (200, 201), r.text


def test_the_admin_channel_refuses_before_the_body(small: Live):
    """Its checks (this machine, the admin token) ran after FastAPI had read a multipart body of any size."""
    with connect(small) as s:
        head = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(200 * 1024 * 1024)}
        s.sendall(request_head("POST", "/admin/import", head))
        answer = read_answer(s)
    assert answer.status == 404  # this server has no admin channel: it was given its store
    assert answer.error()["code"] == "not_found" and answer.closed


# ---------------------------------------------------------------------------
# Too slow: 408
# ---------------------------------------------------------------------------


def test_a_stalled_body_is_408(live: Live, zh_first: Callable[..., None]):
    body = json.dumps(NEED).encode()
    with connect(live) as s:
        head = {**AUTH, "Content-Type": "application/json", "Content-Length": str(len(body))}
        s.sendall(request_head("POST", "/api/needs", head) + body[:10])  # then nothing more
        answer = read_answer(s)
    assert answer.status == 408
    error = answer.error()
    assert error["code"] == "request_timeout"
    zh_first(error["message"], "the request body arrived too slowly (after 10 bytes)")
    zh_first(error["hint"], "bytes per second or faster (limits: DCPA_BODY_TIMEOUT, DCPA_BODY_MIN_RATE)")
    assert answer.closed


def test_a_body_sent_a_byte_at_a_time_is_408_long_before_it_ends(live: Live):
    before = nquads(live.store)
    body = json.dumps([NEED] * 20).encode()  # ~4 KB: 80 s at 50 bytes a second
    with connect(live) as s:
        head = {**AUTH, "Content-Type": "application/json", "Content-Length": str(len(body))}
        s.sendall(request_head("POST", "/api/needs", head))
        sender = Trickle(s, body)
        sender.start()
        answer = read_answer(s)
        sender.stop.set()
        sender.join()
    assert answer.status == 408 and answer.closed
    assert sender.sent < len(body) // 2
    assert nquads(live.store) == before


def test_an_idle_connection_is_closed_with_408(live: Live, zh_first: Callable[..., None]):
    with connect(live) as s:
        answer = read_answer(s)  # we send nothing at all
    assert answer.status == 408
    assert answer.error()["code"] == "request_timeout"
    zh_first(answer.error()["message"], "the request line and headers did not arrive within ")
    zh_first(answer.error()["hint"], "send the whole request head at once (limit: DCPA_HEADER_TIMEOUT)")
    assert answer.closed


def test_headers_sent_a_byte_at_a_time_are_408(live: Live):
    head = request_head("GET", "/health", {"User-Agent": "slowloris " + "x" * 2000})
    with connect(live) as s:
        sender = Trickle(s, head)
        sender.start()
        answer = read_answer(s)
        sender.stop.set()
        sender.join()
    assert answer.status == 408 and answer.closed
    assert sender.sent < len(head)


def test_slow_headers_of_a_second_request_on_a_kept_alive_connection_are_408(live: Live):
    with connect(live) as s:
        s.sendall(request_head("GET", "/health", {}))
        first, _ = read_answer_keep(s)
        assert first == 200
        head = request_head("GET", "/health", {"User-Agent": "x" * 2000})
        sender = Trickle(s, head)
        sender.start()
        answer = read_answer(s)
        sender.stop.set()
        sender.join()
    assert answer.status == 408 and answer.closed
    assert sender.sent < len(head)


def read_answer_keep(sock: socket.socket) -> tuple[int, bytes]:
    """Read one answer without waiting for the connection to close; its status and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body[:length]


class Flood(threading.Thread):
    """Send ``data`` as fast as the server reads it, until done or cut off (a client that never ends its head)."""

    def __init__(self, sock: socket.socket, data: bytes) -> None:
        super().__init__(daemon=True)
        self.sock, self.data = sock, data

    def run(self) -> None:
        try:
            self.sock.sendall(self.data)
        except OSError:  # the server closed the connection: what is wanted
            pass


def test_a_head_longer_than_a_get_of_the_largest_query_is_431_and_the_connection_closed(live: Live,
        zh_first: Callable[..., None]):
    """httptools keeps every header it is sent: the guard stops reading a head past ``head_limit`` (a GET of
    the largest query the endpoint takes), answers 431 in the JSON error shape and closes."""
    limit = head_limit(100_000)  # the fixture's DCPA_MAX_QUERY_BYTES (the default)
    with connect(live) as s:
        sender = Flood(s, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * (4 * limit))
        sender.start()
        answer = read_answer(s)
        sender.join(SAFETY)
    assert answer.status == 431 and answer.closed
    error = answer.error()
    assert error["code"] == "request_head_too_large"
    zh_first(error["message"], f"the request line and headers are longer than {limit} bytes")
    zh_first(error["hint"], "send a long query by POST")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_get_query_longer_than_the_old_16_kib_head_is_answered(live: Live):
    """h11 refused a request head over 16 KiB, and so a GET query of a few thousand Chinese characters; the
    limit now is the query's own (``DCPA_MAX_QUERY_BYTES``)."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?c } # " + "村" * 5000  # 15 KB of UTF-8, 45 KB in the URL
    r = httpx.get(live.url + "/sparql", params={"query": query},
                  headers={"Accept": "application/sparql-results+json"}, timeout=SAFETY)
    assert r.status_code == 200, r.text
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 0


def quote_query(query: str) -> str:
    return "query=" + quote(query, safe="")


def test_a_get_query_longer_than_the_url_parser_reads_is_414_in_the_json_shape(live: Live,
        zh_first: Callable[..., None]):
    """httptools reads no URL over 65,535 bytes (its offsets are 16-bit), far under ``head_limit``: a GET of 8,000
    Chinese characters (72 KB in the URL) was answered uvicorn's plain-text "Invalid HTTP request received."."""
    query = "ASK { ?s ?p ?o } # " + "村" * 8000
    with connect(live) as s:
        s.sendall(request_head("GET", "/sparql?" + quote_query(query), {"Accept": "application/json"}))
        answer = read_answer(s)
    assert answer.status == 414 and answer.closed
    error = answer.error()
    assert error["code"] == "uri_too_long"
    zh_first(error["message"], "bytes long; the server reads at most 65535")
    zh_first(error["hint"], "send a long query by POST")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_malformed_request_is_400_in_the_json_shape(live: Live, zh_first: Callable[..., None]):
    """A request the HTTP parser cannot read was answered uvicorn's plain-text 400; now the API's one shape."""
    with connect(live) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon in this header\r\n\r\n")
        answer = read_answer(s)
    assert answer.status == 400 and answer.closed
    assert answer.headers["content-type"] == "application/json"
    assert answer.error()["code"] == "bad_request"
    zh_first(answer.error()["message"], "the request is not valid HTTP/1.1: the server cannot read it")
    zh_first(answer.error()["hint"], "check the request line and the headers")


def test_a_url_typed_in_chinese_into_a_shell_is_read_as_a_browser_sends_it(live: Live):
    """curl sends what is typed: raw UTF-8 in the request line, which the HTTP parser refused with 400. It is read
    as its percent-encoding, on every request of a kept-alive connection, and the query gets the text as typed."""
    query = 'SELECT ?x WHERE { BIND("新民村" AS ?x) }'
    with connect(live) as s:
        for _ in range(2):
            s.sendall(f"GET /sparql?query={query.replace(' ', '%20')} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Accept: application/sparql-results+json\r\n\r\n".encode())
            status, body = read_answer_keep(s)
            assert status == 200, body
            assert json.loads(body)["results"]["bindings"] == [{"x": {"type": "literal", "value": "新民村"}}]


def test_a_fast_client_is_not_disturbed(live: Live):
    """The limits leave ordinary requests alone: a normal write and a keep-alive read still work."""
    with httpx.Client(base_url=live.url, timeout=SAFETY) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health").status_code == 200
        r = client.post(
            "/api/needs", json={**NEED, "identified_on": "2019-04-02"}, params={"dry_run": "true"}, headers=AUTH
        )
        assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------
# X-DCPA-User: UTF-8, percent-encoded and RFC 8187; control and bidi characters refused
# ---------------------------------------------------------------------------


def recorded_authors(live: Live) -> list[str]:
    q = "SELECT ?who WHERE { ?b a dcpa:ImportActivity ; dcpa:recordedBy ?who }"
    rows = httpx.get(live.url + "/sparql", params={"query": q}, timeout=SAFETY).json()["results"]["bindings"]
    return sorted(b["who"]["value"] for b in rows)


@pytest.mark.parametrize(
    ("header", "day"),
    [
        ("张三".encode(), "05"),
        (quote("张三").encode(), "06"),
        (b"UTF-8''" + quote("张三").encode(), "07"),
        (b"utf-8'zh'" + quote("张三").encode(), "08"),
    ],
    ids=["utf-8", "percent-encoded", "rfc8187", "rfc8187-language"],
)
def test_a_chinese_author_is_recorded_as_sent(live: Live, header: bytes, day: str):
    before = recorded_authors(live).count("张三")
    r = httpx.post(
        live.url + "/api/needs",
        json={**NEED, "identified_on": f"2019-05-{day}"},
        headers={**AUTH, "X-DCPA-User": header},
        timeout=SAFETY,
    )
    assert r.status_code == 201, r.text
    assert r.json()["user"] == "张三"
    assert recorded_authors(live).count("张三") == before + 1


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("张\u202e三".encode(), "U+202E RIGHT-TO-LEFT OVERRIDE"),
        (quote("张\x1b[31m三").encode(), "U+001B ESCAPE"),
        ("张三".encode("gb18030"), "not UTF-8"),
        (b"%E5%BC", "not UTF-8"),
    ],
    ids=["bidi", "escape-percent-encoded", "gb18030-bytes", "broken-percent-encoding"],
)
def test_a_hostile_author_header_is_422_before_the_body(live: Live, header: bytes, says: str):
    before = nquads(live.store)
    with connect(live) as s:
        head = request_head(
            "POST", "/api/needs", {**AUTH, "Content-Type": "application/json", "Content-Length": "9999"}
        )
        s.sendall(head.replace(b"\r\n\r\n", b"\r\nX-DCPA-User: " + header + b"\r\n\r\n"))
        answer = read_answer(s)  # no body was sent: the header alone is refused
    assert answer.status == 422
    [issue] = answer.error()["details"]
    assert says in issue["message"] and issue["column"] == "X-DCPA-User" and issue["hint"]
    assert "\u202e" not in answer.body.decode()
    assert nquads(live.store) == before


def test_security_headers_reach_the_raw_408(live: Live):
    with connect(live) as s:
        answer = read_answer(s)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_the_server_still_serves_after_all_of_this(live: Live):
    assert httpx.get(live.url + "/health", timeout=SAFETY).status_code == 200


@pytest.mark.parametrize("gated", [False, True])
def test_a_client_gone_away_stops_a_read_but_never_a_write(gated: bool) -> None:
    """A read whose client went away is cancelled (its worker is killed: test_sparql_workers); a write is not: its
    thread writes on whatever happens to the request, and cut short, what follows it (the readers told of the new
    data) was skipped, so queries went on reading the data as it was before the write."""
    finished: list[bool] = []
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": b"", "more_body": False},
                                      {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await receive()  # the client is gone; the write's thread has written meanwhile
        await asyncio.sleep(0)
        finished.append(True)  # what follows the write: the readers are told

    async def send(message: Any) -> None:
        raise AssertionError("no answer for a client gone")

    scope = {"type": "http", "method": "POST" if gated else "GET", "headers": [], **({_GATED: True} if gated else {})}
    # in a thread of its own: a browser test run before in this process leaves Playwright's loop running in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, StopOnDisconnect(app)(scope, receive, send)).result()
    assert finished == ([True] if gated else [])


#: 200 rows of 2,048 × a term (with max_rows=200): 14 MB, more than the kernel's socket buffers hold for a client
#: that does not read.
LARGE_ANSWER = "SELECT ?s11 WHERE {{ ?s ?p ?o BIND(STR(?o) AS ?s0) {} }}".format(
    " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(11)))


def test_a_client_that_does_not_read_its_answer_is_dropped(tmp_path: Path):
    """A client that asks for a large answer and then reads it slowly or not at all held the whole answer in the
    server for as long as it liked (four such clients of 64 MB answers: 270 MB, for good). Below
    DCPA_BODY_MIN_RATE, measured over DCPA_BODY_TIMEOUT, the connection is reset and the answer let go."""
    settings = make_settings(tmp_path, body_timeout=1.0, body_min_rate=500.0, max_rows=200)
    server = LiveServer(create_app(settings, load_fixture(Store.memory())))
    host, port = server.url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=SAFETY) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(request_head("GET", "/sparql?" + urlencode({"query": LARGE_ANSWER}), {}))
            data = b""
            while b"\r\n\r\n" not in data:  # the head of the answer, then no more: the client reads no further
                data += s.recv(100)
            length = int(data.split(b"content-length: ")[1].split(b"\r\n")[0])
            assert data.startswith(b"HTTP/1.1 200 ") and length > 10_000_000, data[:300]
            connections = server.server.server_state.connections
            wait_for(lambda: not connections, SAFETY, "the server to drop the connection that does not read")
        assert httpx.get(server.url + "/health", timeout=SAFETY).status_code == 200
    finally:
        server.stop()


def test_a_client_that_reads_slowly_but_steadily_keeps_its_answer(tmp_path: Path):
    """A slow link reads a large answer steadily, above DCPA_BODY_MIN_RATE, yet the kernel takes more of the
    server's buffer only once a third of its send buffer (up to 4 MB) has gone out: measured on the server's buffer
    alone, a download at 100 KB/s showed no progress for seconds and was reset (at the default 20 s, a county
    library's link slower than about 1.3 MB per 20 s could be). A steady reader keeps its connection."""
    settings = make_settings(tmp_path, body_timeout=2.0, body_min_rate=500.0, max_rows=200)
    server = LiveServer(create_app(settings, load_fixture(Store.memory())))
    host, port = server.url.removeprefix("http://").split(":")
    try:
        with socket.socket() as s:
            # a small receive buffer, as a link's: what the client takes frees its window at once (a large one
            # would hold megabytes the server has sent and the client not read)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.settimeout(SAFETY)
            s.connect((host, int(port)))
            s.sendall(request_head("GET", "/sparql?" + urlencode({"query": LARGE_ANSWER}), {}))
            connections = server.server.server_state.connections
            started = time.monotonic()
            while time.monotonic() - started < 5.0:  # 100 KB a second
                assert s.recv(10_000), "the connection was closed"
                time.sleep(0.1)
            assert connections, "the server dropped a client reading at 100 KB/s"
    except ConnectionResetError:
        pytest.fail("the server reset a client reading at 100 KB/s")
    finally:
        server.stop()
