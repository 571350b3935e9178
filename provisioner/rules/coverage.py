"""ATT&CK coverage per tactic, rules per log source, and Stratus Red Team's AWS techniques by id.

The Stratus list is its AWS catalogue (technique pages, docs/attack-techniques/AWS/index.md); rules claim a
technique with the custom attribute `stratus: [id]`. Detonation logs are never used to build or tune rules.
"""

from __future__ import annotations

from typing import Any

from provisioner.rules.catalogue import Catalogue

# id -> visible in CloudTrail (every technique here makes API calls CloudTrail records, data events included).
STRATUS_AWS = (
    "aws.credential-access.ec2-get-password-data",
    "aws.credential-access.ec2-steal-instance-credentials",
    "aws.credential-access.secretsmanager-batch-retrieve-secrets",
    "aws.credential-access.secretsmanager-retrieve-secrets",
    "aws.credential-access.ssm-retrieve-securestring-parameters",
    "aws.defense-evasion.bedrock-guardrail-delete",
    "aws.defense-evasion.bedrock-model-invocation-logging-delete",
    "aws.defense-evasion.cloudtrail-delete",
    "aws.defense-evasion.cloudtrail-event-selectors",
    "aws.defense-evasion.cloudtrail-lifecycle-rule",
    "aws.defense-evasion.cloudtrail-stop",
    "aws.defense-evasion.dns-delete-logs",
    "aws.defense-evasion.organizations-leave",
    "aws.defense-evasion.vpc-remove-flow-logs",
    "aws.discovery.bedrock-enumerate-models-multiple-regions",
    "aws.discovery.ec2-download-user-data",
    "aws.discovery.ec2-enumerate-from-instance",
    "aws.discovery.ses-enumerate",
    "aws.execution.ec2-launch-unusual-instances",
    "aws.execution.ec2-user-data",
    "aws.execution.sagemaker-update-lifecycle-config",
    "aws.execution.ssm-send-command",
    "aws.execution.ssm-start-session",
    "aws.exfiltration.ec2-security-group-open-port-22-ingress",
    "aws.exfiltration.ec2-share-ami",
    "aws.exfiltration.ec2-share-ebs-snapshot",
    "aws.exfiltration.rds-share-snapshot",
    "aws.exfiltration.s3-backdoor-bucket-policy",
    "aws.impact.bedrock-invoke-model",
    "aws.impact.ec2-deregister-ami",
    "aws.impact.s3-ransomware-batch-deletion",
    "aws.impact.s3-ransomware-client-side-encryption",
    "aws.impact.s3-ransomware-individual-deletion",
    "aws.initial-access.console-login-without-mfa",
    "aws.lateral-movement.ec2-instance-connect",
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
    "aws.persistence.cognito-refresh-token-reuse",
    "aws.persistence.ec2-create-suspicious-keypair",
    "aws.persistence.iam-backdoor-role",
    "aws.persistence.iam-backdoor-user",
    "aws.persistence.iam-create-admin-user",
    "aws.persistence.iam-create-backdoor-role",
    "aws.persistence.iam-create-user-login-profile",
    "aws.persistence.lambda-backdoor-function",
    "aws.persistence.lambda-layer-extension",
    "aws.persistence.lambda-overwrite-code",
    "aws.persistence.rolesanywhere-create-trust-anchor",
    "aws.persistence.sts-federation-token",
    "aws.privilege-escalation.iam-update-user-login-profile",
)


_PERSIST_PRIV = ("persistence", "privilege-escalation")
# ATT&CK Enterprise tactics of the techniques this catalogue uses (a sub-technique falls back to its parent).
ATTACK_TACTICS: dict[str, tuple[str, ...]] = {
    "T1021": ("lateral-movement",),
    "T1040": ("credential-access", "discovery"),
    "T1059": ("execution",),
    "T1070": ("defense-evasion",),
    "T1078": ("defense-evasion", "persistence", "privilege-escalation", "initial-access"),
    "T1087": ("discovery",),
    "T1098": _PERSIST_PRIV,
    "T1110": ("credential-access",),
    "T1136": ("persistence",),
    "T1190": ("initial-access",),
    "T1484": ("defense-evasion", "privilege-escalation"),
    "T1485": ("impact",),
    "T1486": ("impact",),
    "T1489": ("impact",),
    "T1490": ("impact",),
    "T1496": ("impact",),
    "T1526": ("discovery",),
    "T1530": ("collection",),
    "T1531": ("impact",),
    "T1535": ("defense-evasion",),
    "T1537": ("exfiltration",),
    "T1546": _PERSIST_PRIV,
    "T1550": ("defense-evasion", "lateral-movement"),
    "T1552": ("credential-access",),
    "T1555": ("credential-access",),
    "T1556": ("credential-access", "defense-evasion", "persistence"),
    "T1562": ("defense-evasion",),
    "T1580": ("discovery",),
    "T1584": ("resource-development",),
    "T1595": ("reconnaissance",),
    "T1648": ("execution",),
    "T1651": ("execution",),
    "T1666": ("defense-evasion",),
}


def tactics_of(technique: str, rule_tactics: list[str]) -> list[str]:
    """The tactics a rule covers a technique under: the technique's ATT&CK tactics the rule tags (all of them
    if it tags none); for a technique missing from the table, the rule's own tactic tags."""
    known = ATTACK_TACTICS.get(technique) or ATTACK_TACTICS.get(technique.split(".")[0])
    if known is None:
        return rule_tactics or ["(no tactic)"]
    return [t for t in known if t in rule_tactics] or list(known)


def coverage(catalogue: Catalogue) -> dict[str, Any]:
    tactics: dict[str, dict[str, list[str]]] = {}
    for rule in catalogue.alerting:
        for technique in rule.techniques or ["(no technique)"]:
            for tactic in tactics_of(technique, rule.tactics):
                tactics.setdefault(tactic, {}).setdefault(technique, []).append(rule.name)
    sources: dict[str, list[str]] = {}
    for rule in catalogue.alerting:
        sources.setdefault(rule.source, []).append(rule.name)
    stratus = {tid: sorted(r.name for r in catalogue.alerting if tid in r.stratus) for tid in STRATUS_AWS}
    covered = sum(1 for names in stratus.values() if names)
    return {
        "tactics": {t: {k: sorted(v) for k, v in sorted(per.items())} for t, per in sorted(tactics.items())},
        "sources": {s: sorted(names) for s, names in sorted(sources.items())},
        "stratus": {"covered": covered, "total": len(STRATUS_AWS), "techniques": stratus},
    }


def coverage_text(report: dict[str, Any]) -> str:
    lines = ["ATT&CK techniques per tactic:"]
    for tactic, techniques in report["tactics"].items():
        lines.append(f"  {tactic} ({len(techniques)})")
        lines.extend(f"    {tech}: {', '.join(names)}" for tech, names in techniques.items())
    lines.append("Rules per log source:")
    lines.extend(f"  {source}: {len(names)}" for source, names in report["sources"].items())
    stratus = report["stratus"]
    lines.append(f"Stratus Red Team AWS techniques (CloudTrail): {stratus['covered']}/{stratus['total']} covered")
    for tid, names in stratus["techniques"].items():
        lines.append(f"  {tid}: {', '.join(names) if names else 'NOT COVERED'}")
    return "\n".join(lines)


# ATT&CK Navigator layer file format 4.5 (attack-navigator `layers/spec/v4.5/layerformat.md`, Navigator 5.1).
LAYER_VERSIONS = {"attack": "18", "navigator": "5.1.0", "layer": "4.5"}


def navigator_layer(catalogue: Catalogue) -> dict[str, Any]:
    """An ATT&CK Navigator layer: one entry per (technique, tactic), scored by the number of rules covering it."""
    per: dict[tuple[str, str], list[str]] = {}
    for rule in catalogue.alerting:
        for technique in rule.techniques:
            for tactic in tactics_of(technique, rule.tactics):
                per.setdefault((technique, tactic), []).append(rule.name)
    techniques = [
        {
            "techniqueID": technique,
            "tactic": tactic,
            "score": len(names),
            "comment": ", ".join(sorted(names)),
            "enabled": True,
            "showSubtechniques": False,
        }
        for (technique, tactic), names in sorted(per.items())
    ]
    top = max((len(names) for names in per.values()), default=1)
    return {
        "name": "provision detection rules",
        "versions": LAYER_VERSIONS,
        "domain": "enterprise-attack",
        "description": f"{len(catalogue.alerting)} alerting rules; score: rules covering the technique",
        "sorting": 3,
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#ffffff", "#66b1ff", "#0050a0"], "minValue": 0, "maxValue": top},
        "legendItems": [],
        "metadata": [],
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": False,
        "selectSubtechniquesWithParent": False,
    }
