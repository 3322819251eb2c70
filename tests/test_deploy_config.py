"""The deployment config that docs/deploying.md shows, checked without a cluster or a network.

- ``deploy/z2jh/values.yaml`` validates against the Zero to JupyterHub chart's own
  ``values.schema.json`` merged over the chart's defaults, as Helm does (both vendored from the
  chart, BSD-3-Clause, in ``deploy/z2jh/``) and keeps
  the settings the docs rely on (LTI 1.3 login, Postgres, ngshare, formgrader hidden from
  students with the same plugin ids as the local hub).
- The Python snippets in ``hub.extraConfig`` and ``singleuser.extraFiles`` compile.
- ``deploy/grading/autograde-job.yaml`` is an Indexed Job whose shards cover every student once.
- ``hub/jupyterhub_config.py`` loads in JupyterHub's own config loader and initialises the
  authenticator and spawner classes it names (no server is started).
- Every config file docs/deploying.md names exists.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # hub/ is run from the checkout (python -m hub.site), not installed
from hub.site import INSTRUCTOR_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS  # noqa: E402

DEPLOY = ROOT / "deploy"
VALUES = DEPLOY / "z2jh" / "values.yaml"
JOB = DEPLOY / "grading" / "autograde-job.yaml"
DOCS = ROOT / "docs" / "deploying.md"


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def merged(defaults, overrides):
    """Helm's merge of a values file over the chart's defaults (maps merge, the rest replaces)."""
    if isinstance(defaults, dict) and isinstance(overrides, dict):
        out = dict(defaults)
        for key, value in overrides.items():
            out[key] = merged(defaults.get(key), value) if key in defaults else value
        return out
    return overrides


def chart_values(values: dict) -> dict:
    defaults = yaml.safe_load((DEPLOY / "z2jh" / "chart-defaults.yaml").read_text("utf-8"))
    return merged(defaults, values)


def test_values_validate_against_the_charts_schema(values):
    """As ``helm install`` does: the chart's defaults with these values over them, checked
    against the chart's ``values.schema.json``."""
    schema = json.loads((DEPLOY / "z2jh" / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(chart_values(values)), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_misspelt_key(values):
    """The vendored schema is strict (additionalProperties: false), so the check above bites."""
    schema = json.loads((DEPLOY / "z2jh" / "values.schema.json").read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(values))
    broken["singleuser"]["defaultURL"] = "/lab"
    assert list(jsonschema.Draft7Validator(schema).iter_errors(chart_values(broken)))


def test_values_hold_what_the_docs_rely_on(values):
    hub = values["hub"]
    assert hub["config"]["JupyterHub"]["authenticator_class"].endswith("LTI13Authenticator")
    lti = hub["config"]["LTI13Authenticator"]
    for key in ("issuer", "client_id", "authorize_url", "jwks_endpoint", "username_key"):
        assert lti[key], key
    assert hub["db"]["type"] == "postgres"
    files = values["singleuser"]["extraFiles"]
    disabled = files["student-page-config"]["data"]["disabledExtensions"]
    assert set(disabled) == set(INSTRUCTOR_PLUGINS) and all(disabled.values())
    server = files["student-server-config"]["data"]["ServerApp"]["jpserver_extensions"]
    assert set(server) == set(INSTRUCTOR_SERVER_EXTENSIONS) and not any(server.values())
    assert "db_url" in files["instructor-nbgrader"]["stringData"]
    assert "configureExchange" in files["nbgrader-common"]["stringData"]  # ngshare
    assert any("ngshare" in source for source in hub["extraConfig"].values())


def test_the_lti_settings_load_into_ltiauthenticator(values):
    """A dry run of the hub's LTI 1.3 login: the class the values name, configured by them."""
    from traitlets.config import Config
    from traitlets.utils.importstring import import_item

    config = values["hub"]["config"]
    authenticator_class = import_item(config["JupyterHub"]["authenticator_class"])
    authenticator = authenticator_class(config=Config(config))
    for key, value in config["LTI13Authenticator"].items():
        assert authenticator.has_trait(key), key
        expected = set(value) if isinstance(value, list) else value
        assert getattr(authenticator, key) == expected, key
    assert authenticator.login_url("/hub/") == "/hub/lti13/oauth_login"  # what the docs tell
    assert authenticator.callback_url("/hub/") == "/hub/lti13/oauth_callback"


def test_python_snippets_in_the_values_compile(values):
    snippets = dict(values["hub"]["extraConfig"])
    for name, entry in values["singleuser"]["extraFiles"].items():
        if entry["mountPath"].endswith(".py"):
            snippets[name] = entry["stringData"]
    assert len(snippets) >= 4
    for name, source in snippets.items():
        compile(source, name, "exec")


def test_the_grading_job_shards_cover_every_student_once():
    job = yaml.safe_load(JOB.read_text(encoding="utf-8"))
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["SHARDS"]) == spec["completions"]
    script = container["command"][-1]
    assert "python -m grader" in script and "--student" in script
    # run the shard selection of the script (the awk part) on a listing of 19 students
    selection = re.search(r"ls submitted \| (.*?) \| paste", script, re.S).group(1)
    selection = selection.replace("\\\n", " ")
    students = [f"s{i:02d}" for i in range(19)]
    shards = []
    for index in range(spec["completions"]):
        done = subprocess.run(
            ["bash", "-c", f"printf '%s\\n' {' '.join(students)} | {selection}"],
            env={
                "SHARDS": env["SHARDS"],
                "JOB_COMPLETION_INDEX": str(index),
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            check=True,
        )
        shards.append(done.stdout.split())
    assert sorted(s for shard in shards for s in shard) == students
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_the_local_hub_config_loads_in_jupyterhubs_loader(tmp_path, monkeypatch):
    from jupyterhub.app import JupyterHub

    site = {
        "python": str(ROOT / ".venv" / "bin" / "python"),
        "proxy": "/nonexistent/configurable-http-proxy",
        "port": 18000,
        "hub_port": 18081,
        "students": ["s1", "s2"],
        "instructors": ["prof"],
        "course_dir": str(tmp_path / "course"),
    }
    (tmp_path / "site.json").write_text(json.dumps(site))
    monkeypatch.setenv("AUTODIFF_HUB_SITE", str(tmp_path))
    app = JupyterHub()
    app.load_config_file(str(ROOT / "hub" / "jupyterhub_config.py"))
    config = app.config
    assert config.JupyterHub.ip == "127.0.0.1" and config.JupyterHub.port == 18000
    assert config.Authenticator.admin_users == {"prof"}
    assert config.Authenticator.allowed_users == {"s1", "s2", "prof"}
    app.init_logging()
    authenticator = app.authenticator_class(parent=app)
    assert type(authenticator).__name__ == "PAMAuthenticator"
    assert app.spawner_class.__name__ == "LocalProcessSpawner"

    class User:
        name = "s1"

    class Spawner:
        user, environment, notebook_dir = User(), {}, ""

    student = Spawner()
    config.Spawner.pre_spawn_hook(student)
    assert str(tmp_path / "etc" / "student") in student.environment["JUPYTER_CONFIG_PATH"]
    teacher = Spawner()
    teacher.user = type("U", (), {"name": "prof"})()
    teacher.environment = {}
    config.Spawner.pre_spawn_hook(teacher)
    assert teacher.notebook_dir == site["course_dir"]


def test_every_config_file_the_docs_name_exists():
    text = DOCS.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:deploy|hub)/[\w./-]+)`", text))
    assert {"deploy/z2jh/values.yaml", "deploy/grading/autograde-job.yaml"} <= named
    for path in named:
        assert (ROOT / path).exists(), path
