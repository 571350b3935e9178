"""An OpenSearch domain on the emulator gets a data plane: an osmem-server (in-memory, OpenSearch-compatible:
query DSL, bulk, index templates; no alerting, ISM, security or notifications APIs) started by the emulator
process for each domain it creates, and stopped with the domain or the emulator.

How the endpoint reaches its users, on the emulator only: `DescribeDomain` answers the osmem address
(`127.0.0.1:PORT`) as the domain's endpoint, so Terraform's `aws_opensearch_domain.endpoint`, the module outputs
and every function environment built from them (`https://127.0.0.1:PORT`) name it. osmem speaks plain HTTP, so
the emulator's Lambda runtime (`compat.lambdas`) rewrites `https://` to `http://` for exactly those addresses in
a function's environment and event, and the host side (`provision demo`) does the same for the emulator target. Real
environments keep the AWS endpoint and HTTPS; the Lambda code is unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

from provisioner.emulator.compat.lambdas import REWRITERS
from provisioner.emulator.compat.registry import fix

_servers: dict[str, Any] = {}  # domain ARN -> OsmemServer
_lock = threading.Lock()


def data_plane_addresses() -> set[str]:
    """`127.0.0.1:PORT` of every running domain data plane."""
    with _lock:
        return {server.url.split("://", 1)[1].rstrip("/") for server in _servers.values()}


def plain_http_for_data_planes(text: str) -> str:
    """`https://127.0.0.1:PORT` of a running data plane -> `http://...` (osmem has no TLS)."""
    for address in data_plane_addresses():
        text = text.replace(f"https://{address}", f"http://{address}")
    return text


def _point_at(domain: Any, address: str) -> None:
    if domain.endpoints is not None:  # a VPC domain answers `Endpoints.vpc`
        domain.endpoints = {"vpc": address}
    else:
        domain.endpoint = address


@fix
def opensearch_domain_has_no_data_plane() -> None:
    """moto's OpenSearch domains have a control plane only and a fake `*.es.amazonaws.com` endpoint. Start an
    osmem-server per created domain and answer its address as the domain's endpoint."""
    from moto.opensearch.models import OpenSearchServiceBackend
    from osmem_server import OsmemServer

    create, delete = OpenSearchServiceBackend.create_domain, OpenSearchServiceBackend.delete_domain

    def create_domain(self: Any, *args: Any, **kwargs: Any) -> Any:
        domain = create(self, *args, **kwargs)
        server = OsmemServer.start(japanese=False)
        with _lock:
            _servers[domain.arn] = server
        _point_at(domain, server.url.split("://", 1)[1].rstrip("/"))
        return domain

    def delete_domain(self: Any, domain_name: str) -> Any:
        domain = delete(self, domain_name)
        with _lock:
            server = _servers.pop(domain.arn, None)
        if server is not None:
            server.close()
        return domain

    OpenSearchServiceBackend.create_domain = create_domain  # type: ignore[method-assign]
    OpenSearchServiceBackend.delete_domain = delete_domain  # type: ignore[method-assign]
    REWRITERS.append(plain_http_for_data_planes)
