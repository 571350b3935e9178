"""A small OpenSearch REST client signed with SigV4 (botocore) over urllib: nothing beyond the Lambda runtime."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ApiError(RuntimeError):
    """OpenSearch refused a request; the message carries OpenSearch's own error text."""

    def __init__(self, method: str, path: str, status: int, text: str) -> None:
        super().__init__(f"{method} /{path}: HTTP {status}: {text}")
        self.status = status


class Client:
    def __init__(self, endpoint: str, region: str, credentials: Any, *, timeout: float = 30.0) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ValueError(f"endpoint must be https://host (got {endpoint!r})")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.region = region
        self.credentials = credentials
        self.timeout = timeout
        self.writes = 0

    def request(self, method: str, path: str, body: Any = None, *, allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        """(status, parsed JSON) for 2xx and the `allow`ed statuses; any other answer raises ApiError."""
        data = None if body is None else json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        if path.startswith("_dashboards/"):
            headers["osd-xsrf"] = "true"  # Dashboards refuses writes without it
            # With multi-tenancy (on by default in OpenSearch Service) objects land in the caller's preferred
            # tenant, by default the admin's private one: the shared global tenant is where analysts see them.
            headers["securitytenant"] = "global"
        url = f"{self.base}/{path}"
        signed = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(self.credentials, "es", self.region).add_auth(signed)
        prepared = urllib.request.Request(url, data=data, headers=dict(signed.headers.items()), method=method)
        if method not in ("GET", "HEAD") and not path.endswith("/_search") and not path.endswith("_bulk_get"):
            self.writes += 1
        try:
            with urllib.request.urlopen(prepared, timeout=self.timeout) as response:
                return int(response.status), _parse(response.read())
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            if exc.code in allow:
                return exc.code, _parse(text.encode())
            raise ApiError(method, path, exc.code, text.strip()[:2000]) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ApiError(method, path, 0, f"unreachable: {exc}") from None


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {"text": raw.decode("utf-8", "replace")}
