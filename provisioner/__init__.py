"""provision: render, check and apply an AWS DevSecOps stack with Terraform.

Words used with one meaning each:

- **env** (environment): one file `environments/<env>.yaml`, deep-merged over `_defaults.yaml`; `--env`.
- **template**: an env with `ephemeral.template: true`; instances are stamped from it and it is never deployed
  itself (Jinja2 templates are "the root template", `templates/main.tf.j2`; nothing else is called a template).
- **instance**: one ephemeral copy of a template, named by `--name` (`pr-42`); its **record**
  (`instances.Instance`: env, name, created/expiry) lives in `.provision/instances/` and next to its state.
- **stamp**: build an instance's spec from its template and its record (`workspace.stamped`): own name
  prefix, state key and tags. Only that; a point in time is a timestamp (`functions.common.iso_utc`).
- **workspace id**: `dev`, or `demo--pr-42` for an instance (`project.workspace_id`): the work dir
  `.provision/<id>/`, the state key, the `environment` Terraform variable and what reports call a workspace.
- **WorkspaceRef** (`project.WorkspaceRef`): which env or instance a command works on (env + instance name);
  `workspace.load_spec(project, ref, record)` is the one place a spec is built from it.
- **Workspace** (`workspace.Workspace`): one command's context for one ref: the spec loaded once, the UI, the
  tools it drives (`Tools`: Terraform and Checkov, faked in the fast test lane), the plan store.
- **name**: in a spec, the env (`spec.name`); `--name` on the command line is the instance.
"""

__version__ = "0.1.0"
