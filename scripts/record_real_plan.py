"""Makes a real first plan of an environment: the real aws provider (5.100.0 mirror) against a moto server.

    PYTHONPATH=$PWD .venv/bin/python scripts/record_real_plan.py --env dev --out /tmp/dev-plan \
        [--plugin-dir /opt/tf-plugins] [--checkov]

Works on a private copy of `modules/` and `environments/`: the copy's provider pins admit 5.100
(`>= 5.100, < 7`), `data.aws_region.current.region` (6.x only) reads `.name`, and the backend is local.
Prints the plan's path and the rendered root's. Writes OUT/plan.json (`terraform show -json`) and, with
--checkov, Checkov's raw JSON reports of the rendered configuration (OUT/checkov-config.json) and of the
plan (OUT/checkov-plan.json).
tests/data/plans/dev-first-plan*.json.gz were made this way (see tests/data/SOURCES.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PIN_6 = '">= 6.0, < 7.0"'
PIN_5_100 = '">= 5.100, < 7"'


def project_copy(dest: Path) -> Path:
    shutil.copytree(REPO / "modules", dest / "modules")
    shutil.copytree(REPO / "environments", dest / "environments")
    shutil.copytree(REPO / "rules", dest / "rules")  # the detection catalogue the OpenSearch content compiles
    for path in (dest / "modules").rglob("*.tf"):
        text = path.read_text(encoding="utf-8")
        relaxed = text.replace(PIN_6, PIN_5_100).replace(
            "data.aws_region.current.region", "data.aws_region.current.name"
        )
        if relaxed != text:
            path.write_text(relaxed, encoding="utf-8")
    defaults = dest / "environments" / "_defaults.yaml"
    text = defaults.read_text(encoding="utf-8").replace('">= 6.0, < 7.0"', '">= 5.100, < 7"')
    defaults.write_text(text.replace("  type: s3 ", "  type: local "), encoding="utf-8")
    return dest


def record(env: str, out: Path, plugin_dir: Path, checkov: bool) -> tuple[Path, Path]:
    """Returns the plan JSON and the rendered root it was planned from."""
    from moto.server import ThreadedMotoServer

    from provisioner.project import Project
    from provisioner.render import render
    from provisioner.spec import load_environment
    from provisioner.terraform import find_terraform

    project = Project(project_copy(Path(tempfile.mkdtemp(prefix="real-plan-"))))
    spec = load_environment(project, env)
    if spec.backend.type != "local":
        raise SystemExit("could not switch the copy's backend to local")
    rendered = render(project, spec)
    os.environ["MOTO_ACCOUNT_ID"] = spec.account_ids[0]  # the provider's allowed_account_ids
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env_vars = dict(
        os.environ,
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=spec.region,
        AWS_REGION=spec.region,
        TF_IN_AUTOMATION="1",
    )
    terraform = [str(find_terraform().path), f"-chdir={rendered.work_dir}"]
    try:
        subprocess.run([*terraform, "init", "-input=false", f"-plugin-dir={plugin_dir}"], env=env_vars, check=True)
        subprocess.run([*terraform, "plan", "-input=false", "-out=first.tfplan"], env=env_vars, check=True)
        shown = subprocess.run(
            [*terraform, "show", "-json", "first.tfplan"], env=env_vars, check=True, capture_output=True
        )
    finally:
        server.stop()
    out.mkdir(parents=True, exist_ok=True)
    plan_json = out / "plan.json"
    plan_json.write_bytes(shown.stdout)
    if checkov:
        _raw_checkov(rendered.work_dir, plan_json, out)
    return plan_json, rendered.work_dir


def _raw_checkov(root: Path, plan_json: Path, out: Path) -> None:
    from provisioner.checkov_runner import CheckovRunner
    from provisioner.scan import config_args, plan_args

    runner = CheckovRunner()
    try:
        runner.submit("config", config_args(root), cwd=root)
        runner.submit("plan", plan_args(plan_json, root), cwd=root)
        for name in ("config", "plan"):
            (out / f"checkov-{name}.json").write_text(json.dumps(runner.wait(name)), encoding="utf-8")
    finally:
        runner.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plugin-dir", type=Path, default=Path("/opt/tf-plugins"))
    parser.add_argument("--checkov", action="store_true")
    args = parser.parse_args(argv)
    plan_json, root = record(args.env, args.out, args.plugin_dir, args.checkov)
    print(f"plan: {plan_json}\nroot: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
