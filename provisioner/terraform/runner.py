"""`Terraform`: terraform bound to one working directory, one method per command.

Every command runs as `terraform -chdir=WORKDIR ...` with `-input=false -no-color` and TF_IN_AUTOMATION=1;
long ones are streamed (`provisioner.terraform.process`), so Ctrl-C gives the caller `Interrupted` (exit 130).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from provisioner.errors import Interrupted, TerraformError
from provisioner.terraform.binary import TerraformBinary, find_terraform
from provisioner.terraform.diagnostics import Diagnostic, lock_id_from, parse_plain_diagnostics
from provisioner.terraform.initrecord import InitRecord, binary_change, write_record
from provisioner.terraform.process import EventHandler, ProcessRun, stream
from provisioner.terraform.results import ApplyOutcome, ChangeCounts, PlanOutcome, RunResult

# The local backend's lock file; remote backends (S3 + DynamoDB) keep their lock elsewhere.
LOCAL_LOCK_FILE = ".terraform.tfstate.lock.info"


class Terraform:
    """Terraform bound to one working directory (a rendered root module).

    A destroy is `plan(out, destroy=True)` then `apply(out)`: the caller reviews the saved plan in between."""

    def __init__(
        self,
        workdir: Path,
        *,
        binary: TerraformBinary | None = None,
        env: Mapping[str, str] | None = None,
        plugin_dir: Path | None = None,
    ) -> None:
        # Absolute: with -chdir, terraform would read relative paths against the workdir, not ours.
        self.workdir = Path(workdir).absolute()
        self.binary = binary or find_terraform()
        self.env_overrides = dict(env or {})
        self.plugin_dir = Path(plugin_dir).absolute() if plugin_dir is not None else None

    # -- commands -------------------------------------------------------------------------------------------

    def init(
        self,
        backend: bool = True,
        backend_config: Mapping[str, str] | None = None,
        reconfigure: bool = False,
        on_event: EventHandler | None = None,
    ) -> RunResult:
        """`terraform init`; before 1.9 init has no `-json`, so its lines reach on_event as `{"type": "log"}`.
        Records which terraform initialised the work dir (`initialised_by_other`)."""
        args = ["init", "-input=false", "-no-color"]
        if self.plugin_dir is not None:
            args.append(f"-plugin-dir={self.plugin_dir}")
        if not backend:
            args.append("-backend=false")
        for key, value in (backend_config or {}).items():
            args.append(f"-backend-config={key}={value}")
        if reconfigure:
            args.append("-reconfigure")
        result = self._stream(args, on_event)
        self._raise_on_failure("terraform init", result)
        write_record(self.workdir, self.binary)
        return result

    def initialised_by_other(self) -> InitRecord | None:
        """The other terraform (path or version) that initialised this work dir last; None if it was this one,
        or if provision never initialised it."""
        return binary_change(self.workdir, self.binary)

    def validate(self) -> list[Diagnostic]:
        """All diagnostics (errors and warnings) of `terraform validate -json`; needs init for providers."""
        result = self._capture(["validate", "-json", "-no-color"])
        try:
            report = json.loads(result.stdout)
        except ValueError:
            self._raise_on_failure("terraform validate", result)
            raise TerraformError("terraform validate printed no JSON", returncode=result.returncode) from None
        return [Diagnostic.from_json(d) for d in report.get("diagnostics") or []]

    def fmt_check(self, paths: Sequence[str | Path] = (".",)) -> list[str]:
        """Files under `paths` (relative to the workdir) that `fmt` would rewrite; works without init."""
        unformatted: list[str] = []
        for target in paths:
            result = self._capture(["fmt", "-check", "-list=true", "-recursive", "-no-color", str(target)])
            # fmt exits 3 when files differ; anything else non-zero is a parse or usage error.
            if result.returncode not in (0, 3) or result.errors:
                self._raise_on_failure("terraform fmt", result, force=True)
            unformatted.extend(line.strip() for line in result.stdout.splitlines() if line.strip())
        return unformatted

    def plan(
        self,
        out: Path,
        *,
        destroy: bool = False,
        refresh_only: bool = False,
        on_event: EventHandler | None = None,
    ) -> PlanOutcome:
        """`terraform plan -out=OUT -json -detailed-exitcode`, streamed."""
        args = [
            "plan",
            "-input=false",
            "-no-color",
            "-json",
            "-detailed-exitcode",
            f"-out={Path(out).resolve()}",
        ]
        if destroy:
            args.append("-destroy")
        if refresh_only:
            args.append("-refresh-only")
        counts = ChangeCounts()
        drift: list[str] = []

        def watch(event: dict[str, Any]) -> None:
            nonlocal counts
            if event.get("type") == "change_summary":
                counts = ChangeCounts.from_event(event)
            elif event.get("type") == "resource_drift":
                drift.append(str(event.get("change", {}).get("resource", {}).get("addr", "")))
            if on_event is not None:
                on_event(event)

        result = self._stream(args, watch)
        if result.returncode not in (0, 2):
            self._raise_on_failure("terraform plan", result, force=True)
        has_changes = result.returncode == 2 and (not refresh_only or bool(drift))
        return PlanOutcome(
            has_changes=has_changes,
            plan_file=Path(out).resolve(),
            returncode=result.returncode,
            counts=counts,
            drift_addresses=tuple(drift),
            warnings=tuple(result.warnings),
            destroy=destroy,
            refresh_only=refresh_only,
        )

    def apply(self, plan_file: Path, on_event: EventHandler | None = None) -> ApplyOutcome:
        """Applies exactly the saved plan (`terraform apply -json PLANFILE`), streamed."""
        counts = ChangeCounts()

        def watch(event: dict[str, Any]) -> None:
            nonlocal counts
            if event.get("type") == "change_summary":
                counts = ChangeCounts.from_event(event)
            if on_event is not None:
                on_event(event)

        args = ["apply", "-input=false", "-no-color", "-json", str(Path(plan_file).resolve())]
        result = self._stream(args, watch)
        self._raise_on_failure("terraform apply", result)
        return ApplyOutcome(counts=counts, warnings=tuple(result.warnings))

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        """`terraform show -json PLANFILE`. Holds unmasked sensitive values: render it only via plan.Plan."""
        return self._json(["show", "-json", "-no-color", str(Path(plan_file).resolve())], "terraform show")

    def show_state_json(self) -> dict[str, Any]:
        """`terraform show -json` of the current state (unmasked, like show_json)."""
        return self._json(["show", "-json", "-no-color"], "terraform show")

    def output_json(self) -> dict[str, Any]:
        """`terraform output -json`: {name: {sensitive, type, value}}, sensitive values included."""
        return self._json(["output", "-json", "-no-color"], "terraform output")

    def state_list(self) -> list[str]:
        result = self._capture(["state", "list", "-no-color"])
        if result.returncode != 0 and "No state file was found" in result.stderr:
            return []
        self._raise_on_failure("terraform state list", result)
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    def force_unlock_hint(self, lock_id: str | None) -> str:
        """The command that clears a stale state lock (run it only when no terraform is running)."""
        return f"terraform -chdir={self.workdir} force-unlock {lock_id or 'LOCK_ID'}"

    # -- running --------------------------------------------------------------------------------------------

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
        env.update(self.env_overrides)
        # A dangling CLI config path (some machines export one) must not decide anything: Terraform defaults.
        for name in ("TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG"):
            value = env.get(name)
            if value is not None and not Path(value).is_file():
                env.pop(name)
        return env

    def _argv(self, args: Sequence[str]) -> list[str]:
        return [str(self.binary.path), f"-chdir={self.workdir}", *args]

    def _capture(self, args: Sequence[str]) -> RunResult:
        """Short, non-streaming commands; Ctrl-C here is the ordinary KeyboardInterrupt."""
        proc = subprocess.run(self._argv(args), capture_output=True, text=True, env=self.child_env(), check=False)
        diagnostics = parse_plain_diagnostics(proc.stderr)
        if proc.returncode != 0 and not diagnostics and proc.stderr.strip():
            diagnostics = [Diagnostic("error", proc.stderr.strip().splitlines()[0])]
        return RunResult(
            returncode=proc.returncode,
            diagnostics=tuple(diagnostics),
            stdout=proc.stdout,
            stderr=proc.stderr,
            lock_id=lock_id_from(diagnostics),
        )

    def _json(self, args: Sequence[str], what: str) -> dict[str, Any]:
        result = self._capture(args)
        self._raise_on_failure(what, result)
        try:
            data = json.loads(result.stdout)
        except ValueError as exc:
            raise TerraformError(f"{what} printed invalid JSON: {exc}", returncode=result.returncode) from exc
        if not isinstance(data, dict):
            raise TerraformError(f"{what} printed {type(data).__name__}, expected an object")
        return data

    def _stream(self, args: Sequence[str], on_event: EventHandler | None) -> RunResult:
        """Runs terraform, handing each stdout line to on_event as it arrives (JSON events as they are,
        other lines as `{"type": "log"}`); collects diagnostics; owns Ctrl-C while it runs."""
        run = stream(self._argv(args), self.child_env(), on_event)
        if run.interrupts:
            raise self._interrupted(run)
        if run.callback_error is not None:
            raise run.callback_error
        diagnostics = tuple(run.diagnostics)
        if run.returncode not in (0, 2) and not any(d.severity == "error" for d in diagnostics):
            # Failed without a diagnostic (a crash, a plugin that died): stderr's last line says why.
            tail = run.stderr.strip().splitlines()[-1:]
            if tail:
                diagnostics += (Diagnostic("error", tail[0]),)
        return RunResult(
            returncode=run.returncode,
            diagnostics=diagnostics,
            stderr=run.stderr,
            lock_id=run.lock_id or lock_id_from(diagnostics),
        )

    def _interrupted(self, run: ProcessRun) -> Interrupted:
        lock_id = run.lock_id or self._local_lock_id()
        if run.interrupts >= 2:
            return Interrupted(
                "Interrupted twice: terraform was stopped before it finished; the state lock may remain "
                "and the state may miss resources created in the last seconds",
                hint=f"when no terraform is running, clear the lock with `{self.force_unlock_hint(lock_id)}`",
            )
        if lock_id is not None:
            return Interrupted(
                "Interrupted: terraform stopped after Ctrl-C but its state lock remains",
                hint=f"when no terraform is running, clear it with `{self.force_unlock_hint(lock_id)}`",
            )
        return Interrupted(
            "Interrupted: terraform stopped after Ctrl-C and saved its state",
            hint="run the command again to continue",
        )

    def _local_lock_id(self) -> str | None:
        lock_file = self.workdir / LOCAL_LOCK_FILE
        try:
            value = json.loads(lock_file.read_text()).get("ID")
        except (OSError, ValueError, AttributeError):
            return None
        return str(value) if value else None

    def _raise_on_failure(self, what: str, result: RunResult, *, force: bool = False) -> None:
        if result.returncode == 0 and not force:
            return
        errors = result.errors or list(result.diagnostics)
        # Located errors first: since 1.5 a failed init leads with a general "problems during initialisation"
        # error and names the file and line only in the next one.
        lines = [str(d) for d in sorted(errors, key=lambda d: d.filename is None)]
        first = lines[0] if lines else "no diagnostics"
        more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
        hint = None
        if result.lock_id is not None:
            unlock = self.force_unlock_hint(result.lock_id)
            hint = f"if no other terraform is running, clear the stale lock with `{unlock}`"
        raise TerraformError(
            f"{what} failed (exit {result.returncode}): {first}{more}",
            diagnostics=lines,
            returncode=result.returncode,
            hint=hint,
        )
