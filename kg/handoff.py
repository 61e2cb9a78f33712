"""Handing work to the running server: the client side of the admin channel (``api.routes.admin``).

While ``dcpa serve`` runs it is the only process that may write the store. ``find_server`` finds it
from the file it left beside the store (``kg.writer``) and checks that it answers with the token of
that file; ``import_files``, ``withdraw``, ``build`` and ``derive`` then send it the work and return what the
library functions of the same names return, or raise the same ``DcpaError`` (rebuilt from the one
JSON error shape), so a command prints the same report and exits with the same code either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from .build import BuildReport, ProgressFn
from .errors import DcpaError, Issue, StoreBusy, StoreError, ValidationFailed
from .importer.batch import ImportReport
from .importer.withdraw import WithdrawReport
from .writer import ServerInfo, pid_alive, read_server, server_file

#: How long a command waits for the server to answer a ping (it answers from memory).
PING_TIMEOUT = 5.0


def find_server(store_path: Path | str) -> ServerInfo | None:
    """The running server of this store, if there is one and it answers on its admin channel."""
    try:
        info = read_server(store_path)
    except PermissionError as e:
        raise StoreError(
            f"有一个 dcpa 服务器打开了存储，但读不了它的文件 {server_file(store_path)} / "
            f"a dcpa server has the store open, but its file {server_file(store_path)} cannot be read: {e}",
            hint="请以运行服务器的用户身份运行此命令，或先停止服务器 / "
                 "run the command as the user the server runs as, or stop the server",
        ) from e
    if info is None or not pid_alive(info.pid):
        return None
    try:
        r = httpx.get(info.url + "/admin/ping", headers=_auth(info), timeout=PING_TIMEOUT, trust_env=False)
    except httpx.HTTPError:
        return None
    if r.status_code != 200 or r.json().get("instance") != info.instance:
        return None
    return info


def import_files(info: ServerInfo, paths: list[Path], *, user: str, dry_run: bool) -> Any:
    """``kg.importer.import_files``, run by the server; returns its ``ImportReport``."""
    handles = [p.open("rb") for p in paths]
    try:
        files = [("files", (p.name, fh, "application/octet-stream")) for p, fh in zip(paths, handles, strict=True)]
        data = {"user": user, "dry_run": "true" if dry_run else "false"}
        body = _call(info, "import", lambda c: c.post("/admin/import", files=files, data=data))
    finally:
        for fh in handles:
            fh.close()
    return ImportReport(**body["report"])


def withdraw(info: ServerInfo, batch_id: str, *, user: str, reason: str, dry_run: bool) -> WithdrawReport:
    """``kg.importer.withdraw``, run by the server; returns its ``WithdrawReport``."""
    data = {"batch_id": batch_id, "user": user, "reason": reason, "dry_run": dry_run}
    body = _call(info, "withdrawal", lambda c: c.post("/admin/withdraw", json=data))
    return WithdrawReport(**body["report"])


def build(info: ServerInfo, *, force: bool, example_villages: int | None, seed: int | None,
          progress: ProgressFn | None = None) -> BuildReport:
    """``kg.build.build``, run by the server (which switches to the new version); progress is relayed."""
    payload = {"force": force, "example_villages": example_villages, "seed": seed}
    try:
        with _client(info) as c, c.stream("POST", "/admin/build", json=payload) as r:
            if r.status_code != 200:
                r.read()
                raise error_from(r)
            for line in r.iter_lines():
                if not line.strip():
                    continue
                item = json.loads(line)
                if "progress" in item:
                    if progress is not None:
                        step, done, total = item["progress"]
                        progress(step, done, total)
                elif "report" in item:
                    fields = {k: v for k, v in item["report"].items() if k != "triples"}
                    return BuildReport(**fields)
                elif "error" in item:
                    raise _error(item)
    except httpx.TransportError as e:
        raise _lost(info, "build", e) from e
    raise _lost(info, "build", "the answer ended without a report")


class Derived(NamedTuple):
    """What ``dcpa derive`` did: how many needs, in how long, for which date, stable until when."""

    needs: int
    seconds: float
    as_of: date | None
    stable_until: date | None


def derive(info: ServerInfo, as_of: date | None = None) -> Derived:
    """``dcpa derive [--as-of DATE]``, run by the server."""
    payload = {"as_of": as_of.isoformat() if as_of else None}
    body = _call(info, "derive", lambda c: c.post("/admin/derive", json=payload))

    def day(key: str) -> date | None:
        return date.fromisoformat(body[key]) if body.get(key) else None

    return Derived(int(body["needs"]), float(body["seconds"]), day("as_of"), day("stable_until"))


def error_from(r: httpx.Response) -> DcpaError:
    """The ``DcpaError`` an error answer stands for (same class, message, hint, details)."""
    try:
        body = r.json()
    except ValueError:
        return StoreError(f"服务器回答了 {r.status_code} / the server answered {r.status_code}: {r.text[:200]}")
    e = _error(body)
    if isinstance(e, StoreBusy):
        e.retry_after = int(r.headers.get("retry-after", e.retry_after))
    return e


def _error(body: dict[str, Any]) -> DcpaError:
    err = body.get("error") or {}
    code, message = err.get("code", "error"), err.get("message", "服务器拒绝了这项工作 / the server refused the work")
    hint, details = err.get("hint"), err.get("details")
    if code == ValidationFailed.code and isinstance(details, list):
        return ValidationFailed([Issue(**d) for d in details], message)
    cls = _by_code().get(code, DcpaError)
    if cls is StoreBusy:
        return StoreBusy(message, hint=hint, details=details)
    return cls(message, hint=hint, details=details)


def _by_code() -> dict[str, type[DcpaError]]:
    found: dict[str, type[DcpaError]] = {}
    todo: list[type[DcpaError]] = [DcpaError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo += cls.__subclasses__()
    return found


def _auth(info: ServerInfo) -> dict[str, str]:
    return {"Authorization": f"Bearer {info.token}"}


def _client(info: ServerInfo) -> httpx.Client:
    # No read timeout: a big import or a derive runs for minutes before the server answers. No proxy
    # from the environment: the server is on this machine.
    return httpx.Client(base_url=info.url, headers=_auth(info), timeout=httpx.Timeout(30.0, read=None),
                        trust_env=False)


def _call(info: ServerInfo, what: str, send: Callable[[httpx.Client], httpx.Response]) -> dict[str, Any]:
    try:
        with _client(info) as c:
            r = send(c)
    except httpx.TransportError as e:
        raise _lost(info, what, e) from e
    if r.status_code >= 400:
        raise error_from(r)
    body: dict[str, Any] = r.json()
    return body


def _lost(info: ServerInfo, what: str, e: object) -> StoreError:
    return StoreError(
        f"服务器（pid {info.pid}）在{_WHAT_ZH.get(what, what)}过程中停止了回答 / "
        f"the server (pid {info.pid}) stopped answering during the {what}: {e}",
        hint="服务器再次运行时，中断的写入要么完整在存储中，要么完全不在：请再运行一次此命令"
             "（已导入的会提示“记录已存在”） / "
             "when the server runs again, an interrupted write is either wholly in the store or wholly out: "
             "run the command again (an import that is in says 'already exists')",
    )


#: The work handed to the server (``what`` of ``_call``), as the Chinese half of a message names it.
_WHAT_ZH = {"import": "导入", "withdrawal": "撤回", "build": "构建", "derive": "派生"}
