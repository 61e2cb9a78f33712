"""Bearer-token authorisation of writes.

No token configured means writes are off (403), so a fresh deployment is read-only until
someone chooses a secret; a missing or wrong token is 401. The author recorded with each
write is ``settings.api_user``, or the ``X-DCPA-User`` header of an authorised request
(percent-encoded UTF-8 for names that are not ASCII).
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, HTTPException, Request

from kg.settings import Settings

from .deps import SettingsDep

USER_HEADER = "X-DCPA-User"


def require_writer(request: Request, settings: SettingsDep) -> str:
    """Check the bearer token and return the name to record as the author of the write."""
    return check_token(request.headers.get("authorization", ""), request.headers.get(USER_HEADER), settings)


def check_token(authorization: str, user_header: str | None, settings: Settings) -> str:
    if not settings.api_token:
        raise HTTPException(
            status_code=403,
            detail="writes are switched off on this server: no API token is configured (set DCPA_API_TOKEN)",
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status_code=401,
            detail="this write needs the header `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(token.strip().encode(), settings.api_token.encode()):
        raise HTTPException(
            status_code=401, detail="the bearer token is not valid", headers={"WWW-Authenticate": "Bearer"}
        )
    # HTTP headers are ASCII: a Chinese name comes percent-encoded (UTF-8), e.g. %E5%BC%A0%E4%B8%89.
    user = unquote(user_header or "").strip()
    return user[:100] if user else settings.api_user


WriterDep = Annotated[str, Depends(require_writer)]
