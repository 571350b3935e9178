"""Regenerates the plan JSON in this folder with the real terraform (1.0.3) and the offline null provider.

    .venv/bin/python tests/data/plans/regenerate.py

The secret in these roots is a made-up test value: the plan-model tests prove it never reaches a renderer.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from provisioner.terraform import Terraform  # noqa: E402

SECRET = "s3cr3t-test-value"
NULL = "terraform-provider-null_v2.1.2_x4"

FIRST = """
variable "token" {
  type      = string
  sensitive = true
  default   = "%(secret)s"
}
resource "null_resource" "keep" {
  triggers = { name = "keep" }
}
resource "null_resource" "swap" {
  triggers = { version = "1" }
}
resource "null_resource" "gone" {}
resource "null_resource" "secret" {
  triggers = { token = var.token, plain = "visible" }
}
output "swap_id" {
  value = null_resource.swap.id
}
output "token" {
  value     = var.token
  sensitive = true
}
"""

SECOND = """
variable "token" {
  type      = string
  sensitive = true
  default   = "%(secret)s-rotated"
}
resource "null_resource" "keep" {
  triggers = { name = "keep" }
}
resource "null_resource" "swap" {
  triggers = { version = "2" }
}
resource "null_resource" "new" {
  count    = 2
  triggers = { index = count.index }
}
resource "null_resource" "secret" {
  triggers = { token = var.token, plain = "visible" }
}
output "swap_id" {
  value = null_resource.swap.id
}
output "token" {
  value     = var.token
  sensitive = true
}
"""


def plugin_dir(root: Path) -> Path:
    src = Path(sys.prefix) / "lib" / NULL
    dest = root / "plugins" / "registry.terraform.io" / "hashicorp" / "null" / "2.1.2" / "linux_amd64"
    dest.mkdir(parents=True)
    shutil.copy2(src, dest / NULL)
    (dest / NULL).chmod(0o755)
    return root / "plugins"


def save(name: str, data: dict[str, object]) -> None:
    (HERE / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        tf = Terraform(root, plugin_dir=plugin_dir(Path(tmp)), env={"TF_CLI_CONFIG_FILE": ""})
        (root / "main.tf").write_text(FIRST % {"secret": SECRET})
        tf.init()
        first = tf.plan(root / "first.tfplan")
        save("create.json", tf.show_json(first.plan_file))
        tf.apply(first.plan_file)

        (root / "main.tf").write_text(SECOND % {"secret": SECRET})
        second = tf.plan(root / "second.tfplan")
        save("mixed.json", tf.show_json(second.plan_file))
        # The runner's scrubbed events while applying mixed.json (create, replace, delete): progress tests.
        events: list[dict[str, object]] = []
        tf.apply(second.plan_file, on_event=events.append)
        (HERE / "apply_events.jsonl").write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events))

        # The null provider reads an empty id as "deleted outside Terraform": real drift, seen on refresh.
        state = json.loads((root / "terraform.tfstate").read_text())
        for resource in state["resources"]:
            if resource["name"] == "secret":
                resource["instances"][0]["attributes"]["id"] = ""
        state["serial"] += 1
        (root / "terraform.tfstate").write_text(json.dumps(state))
        refresh = tf.plan(root / "refresh.tfplan", refresh_only=True)
        save("drift_refresh.json", tf.show_json(refresh.plan_file))
        save("drift_plan.json", tf.show_json(tf.plan(root / "drift.tfplan").plan_file))


if __name__ == "__main__":
    main()
