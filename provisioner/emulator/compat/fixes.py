"""The fixes themselves, one function per moto behaviour (see the package docstring)."""

from __future__ import annotations

import functools
from typing import Any

from provisioner.emulator.compat.registry import fix


def _wrap(owner: Any, name: str, wrapper: Any) -> None:
    original = getattr(owner, name)
    setattr(owner, name, functools.wraps(original)(wrapper(original)))


@fix
def policy_bool_secure_transport_is_ignored() -> None:
    """moto ignores `Bool` conditions, so a TLS-only `Deny ... aws:SecureTransport = false` statement denies
    every request. The emulator stands in for AWS's HTTPS endpoints: evaluate the key as "true"."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    def wrapper(original: Any) -> Any:
        def is_action_permitted(self: Any, *args: Any, **kwargs: Any) -> Any:
            condition = self._statement.get("Condition") or {}
            wanted = (condition.get("Bool") or {}).get("aws:SecureTransport")
            if wanted is not None:
                values = [str(v).lower() for v in (wanted if isinstance(wanted, list) else [wanted])]
                if "true" not in values:
                    return PermissionResult.NEUTRAL  # the statement's condition does not match a TLS request
            return original(self, *args, **kwargs)

        return is_action_permitted

    _wrap(IAMPolicyStatement, "is_action_permitted", wrapper)


@fix
def s3_logging_check_fails_on_wildcard_principal() -> None:
    """`PutBucketLogging` answers 500 when the target bucket's policy has a statement with `Principal: "*"`
    (moto calls `.get` on the string). Judge the logging permission on the statements with a mapping principal,
    which are the only ones that can grant it to the logging service."""
    import json

    from moto.s3.models import FakeBucket

    def wrapper(original: Any) -> Any:
        def check(target_bucket: Any, target_prefix: str | None) -> bool:
            if not target_bucket.policy:
                return bool(original(target_bucket, target_prefix))
            doc = json.loads(target_bucket.policy.decode())
            statements = doc.get("Statement") or []
            statements = [s for s in ([statements] if isinstance(statements, dict) else statements)]
            kept = [s for s in statements if isinstance(s.get("Principal"), dict)]
            view = _BucketView(target_bucket, json.dumps({**doc, "Statement": kept}).encode())
            return bool(original(view, target_prefix))

        return staticmethod(check)

    original = FakeBucket.__dict__["_log_permissions_enabled_policy"].__func__
    FakeBucket._log_permissions_enabled_policy = wrapper(original)  # type: ignore[method-assign]


class _BucketView:
    """The attributes moto's logging-permission check reads, with a filtered policy."""

    def __init__(self, bucket: Any, policy: bytes) -> None:
        self.policy = policy
        self.name = bucket.name
        self.partition = bucket.partition


@fix
def securityhub_update_configuration_missing() -> None:
    """Security Hub `UpdateSecurityHubConfiguration` (PATCH /hub) is not implemented; the provider calls it
    when it enables the account. Keep the two settings and return them from `DescribeHub`."""
    import json

    from moto.securityhub.models import SecurityHubBackend
    from moto.securityhub.responses import SecurityHubResponse

    def update_security_hub_configuration(self: Any) -> str:
        params = json.loads(self.body) if self.body else {}
        backend = self.securityhub_backend
        backend.describe_hub()  # raises InvalidAccessException when the hub is not enabled
        settings = getattr(backend, "hub_settings", {})
        for key in ("AutoEnableControls", "ControlFindingGenerator"):
            if key in params:
                settings[key] = params[key]
        backend.hub_settings = settings
        return "{}"

    SecurityHubResponse.update_security_hub_configuration = update_security_hub_configuration  # type: ignore[attr-defined]

    def wrapper(original: Any) -> Any:
        def describe_hub(self: Any, hub_arn: str | None = None) -> dict[str, Any]:
            return {**original(self, hub_arn), **getattr(self, "hub_settings", {})}

        return describe_hub

    _wrap(SecurityHubBackend, "describe_hub", wrapper)


@fix
def codepipeline_metadata_timestamps_are_strings() -> None:
    """`GetPipeline`/`ListPipelines` return `created`/`updated` as ISO strings; the JSON protocol carries
    epoch seconds, and the Go SDK refuses the strings. Return numbers."""
    from moto.codepipeline.models import CodePipeline

    def metadata(self: Any) -> dict[str, Any]:
        return {"pipelineArn": self._arn, "created": self._created.timestamp(), "updated": self._updated.timestamp()}

    CodePipeline.metadata = property(metadata)  # type: ignore[method-assign,assignment]


@fix
def guardduty_update_detector_replaces_features() -> None:
    """`UpdateDetector` replaces the detector's feature list with the request's; GuardDuty merges by name
    (each `aws_guardduty_detector_feature` sends one feature, so the others vanished)."""
    from moto.guardduty.models import Detector

    def wrapper(original: Any) -> Any:
        def update(self: Any, enable: Any, frequency: Any, data_sources: Any, features: Any) -> None:
            if features is not None:
                merged = {f.get("name"): f for f in self.features or []}
                merged.update({f.get("name"): f for f in features})
                features = list(merged.values())
            original(self, enable, frequency, data_sources, features)

        return update

    _wrap(Detector, "update", wrapper)


@fix
def firehose_opensearch_destination_ignored() -> None:
    """`CreateDeliveryStream` ignores `AmazonopensearchserviceDestinationConfiguration` (and then refuses the
    stream for having no destination). Store it as moto stores an Elasticsearch destination, under the
    OpenSearch name, so `DescribeDeliveryStream` returns `AmazonopensearchserviceDestinationDescription`."""
    from moto.firehose.responses import FirehoseResponse

    def wrapper(original: Any) -> Any:
        def create_delivery_stream(self: Any) -> Any:
            config = self._get_param("AmazonopensearchserviceDestinationConfiguration")
            if not config:
                return original(self)
            get_param = self._get_param

            def patched(key: str, *args: Any, **kwargs: Any) -> Any:
                return config if key == "ElasticsearchDestinationConfiguration" else get_param(key, *args, **kwargs)

            self._get_param = patched
            try:
                result = original(self)
            finally:
                del self._get_param
            stream = self.firehose_backend.delivery_streams[get_param("DeliveryStreamName")]
            destination = stream.destinations[0]
            described = destination.pop("Elasticsearch")
            if "VpcConfiguration" in described:
                vpc = described.pop("VpcConfiguration")
                described["VpcConfigurationDescription"] = {**vpc, "VpcId": _vpc_of(vpc)}
            destination["Amazonopensearchservice"] = described
            return result

        return create_delivery_stream

    _wrap(FirehoseResponse, "create_delivery_stream", wrapper)


def _vpc_of(vpc_config: dict[str, Any]) -> str:
    """The VPC of a Firehose VPC configuration's first subnet (AWS reports it in the description)."""
    from moto.ec2.models import ec2_backends

    subnet_ids = vpc_config.get("SubnetIds") or []
    for backend in ec2_backends.values():
        for regional in backend.values():
            for subnet_id in subnet_ids:
                try:
                    return str(regional.get_subnet(subnet_id).vpc_id)
                except Exception:
                    continue
    return ""


def _codebuild_update_project(self: Any) -> Any:
    """`UpdateProject`: the stored metadata updated in place (moto has no handler)."""
    import json

    from moto.codebuild.exceptions import ResourceNotFoundException
    from moto.core.responses import ActionResult

    name = self._get_param("name")
    project = self.codebuild_backend.codebuild_projects.get(name)
    if project is None:
        raise ResourceNotFoundException(f"Project cannot be found: {name}")
    body = json.loads(self.body) if self.body else {}
    for key, value in body.items():
        if key != "name" and value is not None:
            project.project_metadata[key] = value
    return ActionResult({"project": project.project_metadata})


@fix
def codebuild_codepipeline_projects_refused() -> None:
    """`CreateProject` demands a `location` for CODEPIPELINE sources and artifacts (AWS takes none there),
    ignores `encryptionKey` (always reports aws/s3), and `UpdateProject` is missing. Accept the pipeline
    types, keep the key, and update a project's stored metadata in place."""
    from moto.codebuild import responses

    for name in ("_validate_required_params_source", "_validate_required_params_artifacts"):
        original = getattr(responses, name)

        def relaxed(params: dict[str, Any], _original: Any = original) -> None:
            if params.get("type") in ("CODEPIPELINE", "NO_SOURCE"):
                return
            _original(params)

        setattr(responses, name, relaxed)

    def wrapper(original: Any) -> Any:
        def create_project(self: Any) -> Any:
            result = original(self)
            key = self._get_param("encryptionKey")
            if key:
                self.codebuild_backend.codebuild_projects[self._get_param("name")].project_metadata["encryptionKey"] = (
                    key
                )
            return result

        return create_project

    _wrap(responses.CodeBuildResponse, "create_project", wrapper)

    responses.CodeBuildResponse.update_project = _codebuild_update_project  # type: ignore[attr-defined]


@fix
def cloudtrail_delete_trail_by_arn_ignored() -> None:
    """`DeleteTrail` with a trail ARN (what the provider sends) deletes nothing: moto looks the ARN up as a
    name. Resolve an ARN to the trail's name first."""
    from moto.cloudtrail.models import CloudTrailBackend

    def wrapper(original: Any) -> Any:
        def delete_trail(self: Any, name: str) -> None:
            if name.startswith("arn:"):
                for trail in self.trails.values():
                    if trail.arn == name:
                        name = trail.trail_name
                        break
            original(self, name)

        return delete_trail

    _wrap(CloudTrailBackend, "delete_trail", wrapper)


@fix
def wafv2_list_resources_for_web_acl_missing() -> None:
    """WAFv2 `ListResourcesForWebACL` is not implemented (drift's posture check and the provider's
    association read call it). Answer from moto's own association records."""
    import json

    from moto.wafv2.responses import WAFV2Response

    def list_resources_for_web_acl(self: Any) -> str:
        acl_arn = self._get_param("WebACLArn")
        web_acl = self.wafv2_backend.wacls.get(acl_arn)
        return json.dumps({"ResourceArns": list(web_acl.associated_resources) if web_acl else []})

    WAFV2Response.list_resources_for_web_acl = list_resources_for_web_acl  # type: ignore[attr-defined]


def _gd_destinations(response: Any) -> dict[str, dict[str, Any]]:
    """The publishing destinations of the detector a GuardDuty request names (kept on the detector)."""
    detector = response.guardduty_backend.get_detector(response.path.split("/")[2])  # raises when unknown
    if not hasattr(detector, "publishing_destinations"):
        detector.publishing_destinations = {}
    return detector.publishing_destinations  # type: ignore[no-any-return]


def _gd_destination(response: Any) -> dict[str, Any]:
    from moto.guardduty.exceptions import DetectorNotFoundException

    found = _gd_destinations(response).get(response.path.rstrip("/").split("/")[-1])
    if found is None:
        raise DetectorNotFoundException()
    return found


@fix
def guardduty_publishing_destinations_not_routed() -> None:
    """GuardDuty publishing destinations have no route and no handlers (the provider's
    `aws_guardduty_publishing_destination` creates, describes and deletes one). Keep them per detector."""
    import json
    import uuid

    from moto.guardduty import urls
    from moto.guardduty.responses import GuardDutyResponse

    urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/publishingDestination$"] = GuardDutyResponse.dispatch
    urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/publishingDestination/(?P<destination_id>[^/]+)$"] = (
        GuardDutyResponse.dispatch
    )

    def create(self: Any) -> str:
        body = json.loads(self.body or "{}")
        destination_id = uuid.uuid4().hex
        _gd_destinations(self)[destination_id] = {
            "destinationId": destination_id,
            "destinationType": body.get("destinationType", "S3"),
            "destinationProperties": body.get("destinationProperties", {}),
            "status": "PUBLISHING",
            "publishingFailureStartTimestamp": 0,
        }
        return json.dumps({"destinationId": destination_id})

    def describe(self: Any) -> str:
        return json.dumps(_gd_destination(self))

    def update(self: Any) -> str:
        body = json.loads(self.body or "{}")
        _gd_destination(self)["destinationProperties"] = body.get("destinationProperties", {})
        return "{}"

    def delete(self: Any) -> str:
        _gd_destinations(self).pop(_gd_destination(self)["destinationId"])
        return "{}"

    def list_all(self: Any) -> str:
        items = [
            {k: d[k] for k in ("destinationId", "destinationType", "status")} for d in _gd_destinations(self).values()
        ]
        return json.dumps({"destinations": items})

    GuardDutyResponse.create_publishing_destination = create  # type: ignore[attr-defined]
    GuardDutyResponse.describe_publishing_destination = describe  # type: ignore[attr-defined]
    GuardDutyResponse.update_publishing_destination = update  # type: ignore[attr-defined]
    GuardDutyResponse.delete_publishing_destination = delete  # type: ignore[attr-defined]
    GuardDutyResponse.list_publishing_destinations = list_all  # type: ignore[attr-defined]


def _lambda_keep(function: Any, spec: dict[str, Any]) -> None:
    """Remember the dead-letter and logging configuration a create or update sent (with AWS's defaults)."""
    if "DeadLetterConfig" in spec:
        function.dead_letter_config = spec["DeadLetterConfig"]
    if "LoggingConfig" in spec or not hasattr(function, "logging_config"):
        given = spec.get("LoggingConfig") or {}
        defaults = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
        function.logging_config = {**defaults, **given}


def _lambda_get_wrapper(original: Any) -> Any:
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = dict(original(self, *args, **kwargs))
        if getattr(self, "dead_letter_config", None):
            config["DeadLetterConfig"] = self.dead_letter_config
        if getattr(self, "logging_config", None):
            config["LoggingConfig"] = self.logging_config
        return config

    return get_configuration


@fix
def lambda_dead_letter_and_logging_config_dropped() -> None:
    """`CreateFunction`/`UpdateFunctionConfiguration` accept `DeadLetterConfig` and `LoggingConfig` but
    `GetFunction` never returns them, so every plan wants to set them again. Keep and return them (with AWS's
    defaults for the log format and group)."""
    from moto.awslambda.models import LambdaFunction

    def init_wrapper(original: Any) -> Any:
        def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            original(self, account_id, spec, *args, **kwargs)
            _lambda_keep(self, spec)

        return __init__

    def update_wrapper(original: Any) -> Any:
        def update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
            original(self, config_updates)
            _lambda_keep(self, config_updates)
            return self.get_configuration()

        return update_configuration

    _wrap(LambdaFunction, "__init__", init_wrapper)
    _wrap(LambdaFunction, "update_configuration", update_wrapper)
    _wrap(LambdaFunction, "get_configuration", _lambda_get_wrapper)
