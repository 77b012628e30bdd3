"""What the ops scripts share when they carry the operator's bearer token: where it may go, and how.

(Named for the token, not `http`, which would shadow the standard library's module for a script run by path.)

A token goes only to https, or to plain http on this machine's loopback interface (the tests' fake
servers); never through a redirect, which urllib would follow with the Authorization header to wherever
it points; and loopback traffic bypasses any configured proxy, which could not reach it anyway. The
operator signs in with the Azure CLI (`az login`): the token must come from the stack's tenant.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ConfigurationError(Exception):
    """Nothing can start: the message says which input is wrong and how to fix it."""


class Credential(Protocol):
    def get_token(self, *scopes: str) -> Any: ...


def token_url(url: str, what: str) -> str:
    """`url`, where a bearer token may be sent; ConfigurationError naming `what` otherwise."""
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    if not host:
        raise ConfigurationError(f"{what} {url!r} is not an absolute URL")
    if parsed.scheme == "https" or (parsed.scheme == "http" and host in LOOPBACK_HOSTS):
        return url
    raise ConfigurationError(f"{what} {url!r} must use https: a bearer token goes only to https, or to plain http "
                             "on 127.0.0.1, localhost or ::1")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is, so the token goes only where it was sent."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def token_opener(url: str) -> urllib.request.OpenerDirector:
    """An opener for requests that carry a token to `url`: no redirects, no proxy for loopback."""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if (urllib.parse.urlsplit(url).hostname or "").lower() in LOOPBACK_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


class ApiError(Exception):
    """An error answer (or none) from a JSON API: its HTTP status, its error code and message."""

    def __init__(self, status: int | None, code: str, message: str):
        super().__init__(" ".join(part for part in (str(status or "no response"), code and f"{code}:", message)
                                  if part))
        self.status, self.code, self.message = status, code, message

    @classmethod
    def answered(cls, status: int, text: str) -> ApiError:
        """ARM and Microsoft Graph both answer `{"error": {"code": ..., "message": ...}}`."""
        try:
            error = json.loads(text).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        return cls(status, str(error.get("code") or ""), str(error.get("message") or text[:300]))


class JsonApi:
    """A JSON API called with the operator's bearer token (Azure Resource Manager, Microsoft Graph)."""

    error: type[ApiError] = ApiError
    what = "the API URL"  # the option that sets base_url, for messages

    def __init__(self, base_url: str, token: str, timeout: float = 60.0):
        self.base_url = token_url(base_url, self.what).rstrip("/")
        self._token, self._timeout = token, timeout
        self._opener = token_opener(self.base_url)

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The answer's JSON object; an empty answer (204, or an action that returns nothing) is {}."""
        request = urllib.request.Request(
            self.base_url + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                text = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            raise self.error.answered(error.code, error.read().decode("utf-8", "replace")) from None
        except (urllib.error.URLError, OSError) as error:
            raise self.error(None, "Unreachable", str(getattr(error, "reason", error))) from None
        return json.loads(text) if text.strip() else {}


def token_claims(token: str) -> dict[str, Any]:
    """The claims of an access token, read as a client reads them (nothing is verified here: the API the
    token is for verifies it); {} when the token carries none."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, TypeError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def sign_in(credential: Credential, api: type[JsonApi], api_url: str, tenant_id: Any) -> tuple[str, dict[str, Any]]:
    """(token, claims) of the operator for `api` at `api_url`, refused unless from the stack's tenant."""
    from azure.core.exceptions import ClientAuthenticationError

    if not isinstance(tenant_id, str) or not tenant_id:
        raise ConfigurationError(f"the stack outputs have no tenantId ({tenant_id!r}): run `make up` first")
    audience = urllib.parse.urlsplit(token_url(api_url, api.what))
    try:
        token = credential.get_token(f"{audience.scheme}://{audience.netloc}/.default").token
    except ClientAuthenticationError as problem:
        raise ConfigurationError(f"no Azure sign-in ({problem}): `az login --tenant {tenant_id}`") from None
    claims = token_claims(token)
    if not isinstance(claims.get("tid"), str):
        raise ConfigurationError(f"the token for {api_url} carries no tid claim: sign in as a user with `az login`")
    if claims["tid"].lower() != tenant_id.lower():
        raise ConfigurationError(f"you are signed in to tenant {claims['tid']}, the stack is in {tenant_id}: "
                                 f"`az login --tenant {tenant_id}`")
    return token, claims


def azure_cli_credential() -> Credential:
    from azure.identity import AzureCliCredential  # only when signing in for real

    return AzureCliCredential()
