"""The few GitHub REST calls provision makes from a GitHub Actions run: issue comments (PR comments are issue
comments) and issues. Standard library only (urllib), configured from what Actions provides.

Shapes and headers follow docs.github.com/en/rest/issues/comments and /rest/issues/issues (API version
2022-11-28): list pages are followed through the `Link: <...>; rel="next"` header.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.errors import InputError, ProvisionError

API_VERSION = "2022-11-28"
# GitHub refuses issue and comment bodies longer than this (characters).
MAX_BODY = 65_536
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def marker(kind: str, key: str) -> str:
    """The hidden line that finds what provision posted earlier under this key."""
    return f"<!-- provision:{kind}{key} -->"


@dataclass(frozen=True)
class GitHub:
    """A client for one repository: `GITHUB_API_URL`, `GITHUB_REPOSITORY`, `GITHUB_TOKEN`."""

    api_url: str
    repository: str
    token: str
    # Named in the one-line error when GitHub answers 403 (what the workflow's `permissions:` must grant).
    permission: str = "pull-requests: write"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, permission: str = "pull-requests: write") -> GitHub:
        env = os.environ if env is None else env
        missing = [name for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN") if not env.get(name)]
        if missing:
            raise InputError(
                f"{', '.join(missing)}: not set (run inside GitHub Actions with `env: GITHUB_TOKEN: "
                "${{ github.token }}`)"
            )
        api = env.get("GITHUB_API_URL") or "https://api.github.com"
        return cls(api.rstrip("/"), env["GITHUB_REPOSITORY"], env["GITHUB_TOKEN"], permission)

    def request(self, method: str, path_or_url: str, body: Mapping[str, Any] | None = None) -> tuple[Any, str]:
        """One call; returns the parsed JSON and the `Link` header. Errors are one line."""
        url = path_or_url if "://" in path_or_url else f"{self.api_url}/repos/{self.repository}{path_or_url}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("X-GitHub-Api-Version", API_VERSION)
        req.add_header("User-Agent", "provision")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return (json.loads(raw) if raw else None), resp.headers.get("Link") or ""
        except urllib.error.HTTPError as exc:
            raise _api_error(method, url, exc, self.permission) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProvisionError(f"GitHub API {method} {url}: {reason}") from None

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page after page (100 per page)."""
        url: str | None = f"{path}{'&' if '?' in path else '?'}per_page=100"
        while url:
            items, link = self.request("GET", url)
            yield from items or ()
            found = _NEXT.search(link)
            url = found.group(1) if found else None

    def find_comment(self, issue: int, hidden: str) -> dict[str, Any] | None:
        return next((c for c in self.pages(f"/issues/{issue}/comments") if hidden in (c.get("body") or "")), None)

    def upsert_comment(self, issue: int, hidden: str, body: str) -> tuple[str, dict[str, Any]]:
        """Updates the comment carrying `hidden`, else creates one; returns ("updated"|"created", comment)."""
        existing = self.find_comment(issue, hidden)
        if existing is not None:
            updated, _ = self.request("PATCH", f"/issues/comments/{existing['id']}", {"body": body})
            return "updated", updated
        created, _ = self.request("POST", f"/issues/{issue}/comments", {"body": body})
        return "created", created

    def find_open_issue(self, hidden: str) -> dict[str, Any] | None:
        for issue in self.pages("/issues?state=open"):
            if "pull_request" not in issue and hidden in (issue.get("body") or ""):
                return issue
        return None

    def create_issue(self, title: str, body: str) -> dict[str, Any]:
        created, _ = self.request("POST", "/issues", {"title": title, "body": body})
        return dict(created)

    def comment(self, issue: int, body: str) -> None:
        self.request("POST", f"/issues/{issue}/comments", {"body": body})

    def close_issue(self, issue: int) -> None:
        self.request("PATCH", f"/issues/{issue}", {"state": "closed", "state_reason": "completed"})


def _api_error(method: str, url: str, exc: urllib.error.HTTPError, permission: str) -> ProvisionError:
    try:
        message = str(json.loads(exc.read() or b"{}").get("message") or exc.reason)
    except ValueError:
        message = str(exc.reason)
    where = f"GitHub API {method} {url}: HTTP {exc.code}"
    # Primary limit: 403/429 with x-ratelimit-remaining 0; secondary limits say "rate limit" in the message.
    if exc.code in (403, 429) and (exc.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower()):
        reset = exc.headers.get("x-ratelimit-reset") or exc.headers.get("retry-after") or "?"
        return ProvisionError(f"{where}: rate limit exceeded (resets at epoch {reset}): {message}")
    if exc.code == 403:
        return ProvisionError(f"{where}: {message}: the token needs {permission}")
    if exc.code == 401:
        return ProvisionError(f"{where}: {message}", hint="GITHUB_TOKEN is invalid or expired")
    return ProvisionError(f"{where}: {message}")


def fit(body: str, notice: str, limit: int = MAX_BODY) -> str:
    """`body` when it fits, else its head cut at a line break, then `notice`, within `limit` characters."""
    if len(body) <= limit:
        return body
    room = limit - len(notice) - 2
    head = body[:room]
    cut = head.rfind("\n")
    return (head[:cut] if cut > room // 2 else head) + "\n\n" + notice
