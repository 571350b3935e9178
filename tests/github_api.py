"""A local stand-in for the GitHub REST API (http.server on 127.0.0.1, in a thread), answering as
docs.github.com/en/rest/issues/comments and /rest/issues/issues document (API version 2022-11-28):

- GET    /repos/{owner}/{repo}/issues/{number}/comments   list, ascending id, `per_page` (max 100) and `page`,
                                                          a `Link: <...>; rel="next", <...>; rel="last"` header
- POST   /repos/{owner}/{repo}/issues/{number}/comments   201 + the comment
- PATCH  /repos/{owner}/{repo}/issues/comments/{id}       200 + the comment
- GET    /repos/{owner}/{repo}/issues?state=open          issues and pull requests (these carry `pull_request`)
- POST   /repos/{owner}/{repo}/issues                     201 + the issue
- PATCH  /repos/{owner}/{repo}/issues/{number}            200 + the issue (state, state_reason)

Errors as GitHub sends them: 401 without a token, 403 "Resource not accessible by integration" when the token
lacks the permission, 403 with `x-ratelimit-remaining: 0` when the rate limit is used up.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghs_test_token_not_a_secret"


@dataclass
class FakeGitHub:
    repository: str = "octo/infra"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue number -> comments
    issues: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_with: str | None = None  # "forbidden" | "rate_limit"
    url: str = ""
    _next_id: int = 1000

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_comment(self, number: int, body: str, login: str = "someone") -> dict[str, Any]:
        comment_id = self.next_id()
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{self.repository}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.url}/repos/{self.repository}/issues/{number}",
            "body": body,
            "user": {"login": login, "type": "User"},
            "created_at": "2026-12-07T12:00:00Z",
            "updated_at": "2026-12-07T12:00:00Z",
            "author_association": "MEMBER",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def add_issue(self, title: str, body: str, *, pull_request: bool = False) -> dict[str, Any]:
        number = len(self.issues) + 1
        issue: dict[str, Any] = {
            "id": self.next_id(),
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "html_url": f"https://github.com/{self.repository}/issues/{number}",
            "user": {"login": "github-actions[bot]", "type": "Bot"},
        }
        if pull_request:
            issue["pull_request"] = {"url": f"{self.url}/repos/{self.repository}/pulls/{number}"}
        self.issues.append(issue)
        return issue

    def open_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if i["state"] == "open" and "pull_request" not in i]


class _Handler(BaseHTTPRequestHandler):
    api: FakeGitHub  # set per server (fake_github)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refused(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"message": "Bad credentials", "status": "401"})
            return True
        if self.api.fail_with == "forbidden":
            self._send(403, {"message": "Resource not accessible by integration", "status": "403"})
            return True
        if self.api.fail_with == "rate_limit":
            headers = {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1765112400"}
            self._send(403, {"message": "API rate limit exceeded for installation ID 1.", "status": "403"}, headers)
            return True
        return False

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return dict(json.loads(self.rfile.read(length) or b"{}"))

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.api.requests.append((method, self.path))
        if self._refused():
            return
        prefix = f"/repos/{self.api.repository}"
        if not parts.path.startswith(prefix + "/"):
            self._send(404, {"message": "Not Found"})
            return
        rest = parts.path[len(prefix) :]
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for pattern, handler in ROUTES.get(method, []):
            found = re.fullmatch(pattern, rest)
            if found:
                handler(self, query, *found.groups())
                return
        self._send(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def page(self, path: str, items: list[dict[str, Any]], query: dict[str, str]) -> None:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        last = max(1, -(-len(items) // per_page))
        links = []
        if page < last:
            base = f"{self.api.url}/repos/{self.api.repository}{path}?per_page={per_page}"
            links = [f'<{base}&page={page + 1}>; rel="next"', f'<{base}&page={last}>; rel="last"']
        headers = {"Link": ", ".join(links)} if links else {}
        self._send(200, items[(page - 1) * per_page : page * per_page], headers)

    def list_comments(self, query: dict[str, str], number: str) -> None:
        self.page(f"/issues/{number}/comments", self.api.comments.get(int(number), []), query)

    def create_comment(self, query: dict[str, str], number: str) -> None:
        self._send(201, self.api.add_comment(int(number), self._body()["body"], login="github-actions[bot]"))

    def update_comment(self, query: dict[str, str], comment_id: str) -> None:
        for comment in (c for cs in self.api.comments.values() for c in cs):
            if comment["id"] == int(comment_id):
                comment["body"] = self._body()["body"]
                comment["updated_at"] = "2026-12-07T13:00:00Z"
                self._send(200, comment)
                return
        self._send(404, {"message": "Not Found"})

    def list_issues(self, query: dict[str, str]) -> None:
        state = query.get("state", "open")
        items = [i for i in self.api.issues if state == "all" or i["state"] == state]
        self.page("/issues", items, query)

    def create_issue(self, query: dict[str, str]) -> None:
        body = self._body()
        self._send(201, self.api.add_issue(body["title"], body.get("body", "")))

    def update_issue(self, query: dict[str, str], number: str) -> None:
        issue = next((i for i in self.api.issues if i["number"] == int(number)), None)
        if issue is None:
            self._send(404, {"message": "Not Found"})
            return
        issue.update({k: v for k, v in self._body().items() if k in ("state", "state_reason", "title", "body")})
        self._send(200, issue)


ROUTES: dict[str, list[tuple[str, Any]]] = {
    "GET": [(r"/issues/(\d+)/comments", _Handler.list_comments), (r"/issues", _Handler.list_issues)],
    "POST": [(r"/issues/(\d+)/comments", _Handler.create_comment), (r"/issues", _Handler.create_issue)],
    "PATCH": [(r"/issues/comments/(\d+)", _Handler.update_comment), (r"/issues/(\d+)", _Handler.update_issue)],
}


@contextmanager
def fake_github() -> Iterator[FakeGitHub]:
    api = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"api": api}))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def actions_env(api: FakeGitHub, event_path: str, *, run_id: str = "4242") -> dict[str, str]:
    """What GitHub Actions sets for a step (only the variables provision reads)."""
    return {
        "GITHUB_API_URL": api.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": api.repository,
        "GITHUB_EVENT_PATH": event_path,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_RUN_ID": run_id,
    }
