"""A stub OpenSearch peer for the configurator: the plugin APIs it calls, in memory, behind a SigV4 check.

Signatures are verified with botocore's own SigV4 signer (canonical request, string to sign and signature
recomputed from what arrived), not by hand. Objects are echoed back the way OpenSearch does: extra fields
(ids, timestamps, `reserved`, `boost`), settings as strings, query shorthands expanded, so the configurator's
read-and-compare is exercised against realistic answers.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "eu-west-1"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$"
)


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


def _echo_query(value: Any) -> Any:
    """Expand query shorthands as OpenSearch's SearchSourceBuilder prints them."""
    if isinstance(value, list):
        return [_echo_query(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, body in value.items():
        if key == "term" and isinstance(body, dict):
            out[key] = {f: (v if isinstance(v, dict) else {"value": v, "boost": 1.0}) for f, v in body.items()}
        elif key == "range" and isinstance(body, dict):
            out[key] = {f: _echo_range(v) for f, v in body.items()}
        elif key == "terms" and isinstance(body, dict):
            out[key] = {**body, "boost": 1.0}
        elif key == "bool" and isinstance(body, dict):
            out[key] = {**_echo_query(body), "adjust_pure_negative": True, "boost": 1.0}
        else:
            out[key] = _echo_query(body)
    return out


def _echo_range(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if k not in ("gte", "gt", "lte", "lt")}
    out.update({"from": spec.get("gte", spec.get("gt")), "to": spec.get("lte", spec.get("lt"))})
    out.update({"include_lower": "gt" not in spec, "include_upper": "lt" not in spec, "boost": 1.0})
    return out


class StubOpenSearch:
    def __init__(self, credentials: Credentials | Callable[[str], Credentials | None]) -> None:
        """`credentials`: the caller's, or a lookup from access key id to credentials (e.g. moto's STS)."""
        if isinstance(credentials, Credentials):
            fixed = credentials
            self.lookup: Callable[[str], Credentials | None] = lambda key: fixed if key == fixed.access_key else None
        else:
            self.lookup = credentials
        self.store: dict[str, dict[str, Any]] = {
            k: {} for k in ("roles", "rolesmapping", "templates", "ism", "channels", "saved", "monitors")
        }
        self.requests: list[tuple[str, str]] = []
        self.writes: list[tuple[str, str]] = []
        self.refuse: dict[str, tuple[int, dict[str, Any]]] = {}  # path prefix -> (status, body)
        self.signature_failures = 0
        self._seq = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                stub._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubOpenSearch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ SigV4, verified with botocore's signer

    def signature_ok(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> bool:
        match = _AUTH.match(headers.get("authorization", ""))
        credentials = self.lookup(match.group(1)) if match else None
        if not match or credentials is None:
            return False
        _, day, region, service, signed, signature = match.groups()
        amz_date = headers.get("x-amz-date", "")
        if region != REGION or service != "es" or not amz_date.startswith(day):
            return False
        names = signed.split(";")
        if credentials.token and "x-amz-security-token" not in names:
            return False
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{raw_path}",
            data=body or None,
            headers={n: headers[n] for n in names if n in headers},
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(credentials, "es", REGION)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        return bool(expected == signature)

    # ------------------------------------------------------------ dispatch

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        if not self.signature_ok(h.command, h.path, headers, raw):
            self.signature_failures += 1
            return self._reply(
                h, 403, {"message": "The request signature we calculated does not match the signature you provided."}
            )
        parts = urlsplit(h.path)
        path = unquote(parts.path.lstrip("/"))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = json.loads(raw) if raw else None
        self.requests.append((h.command, path))
        for prefix, (status, answer) in self.refuse.items():
            if path.startswith(prefix) and h.command != "GET":
                return self._reply(h, status, answer)
        if h.command != "GET" and not path.endswith("_search"):
            self.writes.append((h.command, path))
        status, answer = self._route(h.command, path, query, body, headers)
        self._reply(h, status, answer)

    def _reply(self, h: BaseHTTPRequestHandler, status: int, answer: Any) -> None:
        data = json.dumps(answer).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        m = re.fullmatch(r"_plugins/_security/api/(roles|rolesmapping)/([^/]+)", path)
        if m:
            return self._security(method, m.group(1), m.group(2), body)
        m = re.fullmatch(r"_index_template/([^/]+)", path)
        if m:
            return self._template(method, m.group(1), body)
        m = re.fullmatch(r"_plugins/_ism/policies/([^/]+)", path)
        if m:
            return self._ism(method, m.group(1), query, body)
        m = re.fullmatch(r"_plugins/_notifications/configs(?:/([^/]+))?", path)
        if m:
            return self._channel(method, m.group(1), body)
        m = re.fullmatch(r"_dashboards/api/saved_objects/([^/]+)/([^/]+)", path)
        if m:
            return self._saved(method, f"{m.group(1)}/{m.group(2)}", query, body, headers)
        if path.startswith("_plugins/_alerting/monitors"):
            return self._monitor(method, path[len("_plugins/_alerting/monitors") :].strip("/"), query, body)
        return 400, {"error": f"stub: no route for {method} {path}"}

    def _security(self, method: str, kind: str, name: str, body: Any) -> tuple[int, Any]:
        store = self.store[kind]
        if method == "GET":
            if name not in store:
                return 404, {"status": "NOT_FOUND", "message": f"Resource '{name}' not found."}
            extra = {"reserved": False, "hidden": False, "static": False}
            if kind == "rolesmapping":
                extra["and_backend_roles"] = []
            return 200, {name: {**copy.deepcopy(store[name]), **extra}}
        created = name not in store
        store[name] = body
        return (201 if created else 200), {"status": "CREATED" if created else "OK", "message": f"'{name}' updated."}

    def _template(self, method: str, name: str, body: Any) -> tuple[int, Any]:
        store = self.store["templates"]
        if method == "GET":
            if name not in store:
                return 404, {
                    "error": {
                        "type": "resource_not_found_exception",
                        "reason": f"index template matching [{name}] not found",
                    },
                    "status": 404,
                }
            echo = copy.deepcopy(store[name])
            echo["template"]["settings"] = _stringify(echo["template"]["settings"])
            return 200, {"index_templates": [{"name": name, "index_template": echo}]}
        store[name] = body
        return 200, {"acknowledged": True}

    def _ism(self, method: str, name: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        store = self.store["ism"]
        if method == "GET":
            if name not in store:
                return 404, {"error": {"type": "status_exception", "reason": "Policy not found"}, "status": 404}
            entry = store[name]
            policy = {
                "policy_id": name,
                "last_updated_time": 1,
                "schema_version": 21,
                "error_notification": None,
                **copy.deepcopy(entry["policy"]),
            }
            for template in policy.get("ism_template") or []:
                template["last_updated_time"] = 1
            for state in policy["states"]:
                for action in state["actions"]:
                    action["retry"] = {"count": 3, "backoff": "exponential", "delay": "1m"}
            return 200, {
                "_id": name,
                "_version": entry["seq"],
                "_seq_no": entry["seq"],
                "_primary_term": 1,
                "policy": policy,
            }
        if name in store and query.get("if_seq_no") != str(store[name]["seq"]):
            return 409, {
                "error": {"type": "version_conflict_engine_exception", "reason": f"[{name}]: version conflict"},
                "status": 409,
            }
        store[name] = {"policy": body["policy"], "seq": self._next()}
        return 201, {"_id": name}

    def _channel(self, method: str, config_id: str | None, body: Any) -> tuple[int, Any]:
        store = self.store["channels"]
        if method == "POST" and config_id is None:
            if body["config_id"] in store:
                return 409, {
                    "error": {"type": "version_conflict_engine_exception", "reason": "config exists"},
                    "status": 409,
                }
            store[body["config_id"]] = body["config"]
            return 200, {"config_id": body["config_id"]}
        assert config_id is not None
        if method == "GET":
            if config_id not in store:
                return 404, {
                    "error": {"type": "status_exception", "reason": f"NotificationConfig {config_id} not found"},
                    "status": 404,
                }
            item = {
                "config_id": config_id,
                "last_updated_time_ms": 1,
                "created_time_ms": 1,
                "config": copy.deepcopy(store[config_id]),
            }
            return 200, {"start_index": 0, "total_hits": 1, "total_hit_relation": "eq", "config_list": [item]}
        store[config_id] = body["config"]
        return 200, {"config_id": config_id}

    def _saved(
        self, method: str, key: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        store = self.store["saved"]
        type_, id_ = key.split("/", 1)
        if headers.get("securitytenant") != "global":
            return 400, {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "stub: saved objects go to the global tenant",
            }
        if method == "GET":
            if key not in store:
                return 404, {"statusCode": 404, "error": "Not Found", "message": f"Saved object [{key}] not found"}
            return 200, {
                "id": id_,
                "type": type_,
                "version": "WzEsMV0=",
                "migrationVersion": {type_: "7.10.0"},
                "updated_at": "2026-01-01T00:00:00Z",
                **copy.deepcopy(store[key]),
            }
        if headers.get("osd-xsrf") != "true":
            return 400, {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "Request must contain a osd-xsrf header.",
            }
        if key in store and query.get("overwrite") != "true":
            return 409, {"statusCode": 409, "error": "Conflict", "message": "Saved object conflict"}
        store[key] = {"attributes": body["attributes"], "references": body.get("references", [])}
        return 200, {"id": id_, "type": type_, **body}

    def _monitor(self, method: str, rest: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        store = self.store["monitors"]
        if rest == "_search":
            if not store:  # the alerting config index does not exist before the first monitor
                return 404, {
                    "error": {
                        "type": "index_not_found_exception",
                        "reason": "no such index [.opendistro-alerting-config]",
                    },
                    "status": 404,
                }
            wanted = body["query"]["term"]["monitor.name.keyword"]
            hits = [
                {"_id": i, "_seq_no": m["seq"], "_primary_term": 1, "_source": {"monitor": m["monitor"]}}
                for i, m in store.items()
                if m["monitor"]["name"] == wanted
            ]
            return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}
        if method == "GET":
            if rest not in store:
                return 404, {"error": {"type": "status_exception", "reason": "Monitor not found."}, "status": 404}
            entry = store[rest]
            return 200, {
                "_id": rest,
                "_version": entry["seq"],
                "_seq_no": entry["seq"],
                "_primary_term": 1,
                "monitor": self._echo_monitor(entry["monitor"]),
            }
        if method == "POST" and not rest:
            monitor_id = f"m{self._next()}"
            store[monitor_id] = {"monitor": body, "seq": self._seq}
            return 201, {"_id": monitor_id, "_version": 1, "monitor": body}
        if rest not in store:
            return 404, {"error": {"type": "status_exception", "reason": "Monitor not found."}, "status": 404}
        if "if_seq_no" in query and query["if_seq_no"] != str(store[rest]["seq"]):
            return 409, {
                "error": {"type": "version_conflict_engine_exception", "reason": "version conflict"},
                "status": 409,
            }
        store[rest] = {"monitor": body, "seq": self._next()}
        return 200, {"_id": rest, "monitor": body}

    @staticmethod
    def _echo_monitor(monitor: dict[str, Any]) -> dict[str, Any]:
        echo = copy.deepcopy(monitor)
        echo.update(
            {
                "schema_version": 5,
                "last_update_time": 1,
                "enabled_time": 1,
                "user": {"name": "admin", "backend_roles": []},
            }
        )
        for search in echo.get("inputs", []):
            search["search"]["query"] = _echo_query(search["search"]["query"])
        for n, trigger in enumerate(echo.get("triggers", [])):
            trigger["id"] = f"t{n}"
            for a, action in enumerate(trigger.get("actions", [])):
                action["id"] = f"a{n}{a}"
        return echo
