"""The deployment files: the compose file validated by real tools, the Dockerfiles and
``.env.example`` checked against the code.

``compose_spec.json`` is the Compose Specification's JSON schema as shipped in the
``docker-compose`` 1.29.2 wheel on PyPI (``compose/config/compose_spec.json``,
Apache License 2.0). Debian's ``docker-compose`` package, when installed (``.ci/run``
installs it), runs ``docker-compose config`` on the file too. No container is started.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from base.settings import Settings
from fakewatch.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = Path(__file__).with_name("compose_spec.json")
PROFILES = ("gpu", "cpu", "telegram", "discord")
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def _example_env() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` substitution."""

    def substitute(m: re.Match[str]) -> str:
        name, kind, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if kind == "?":
            raise AssertionError(f"{name} is required: {arg}")
        return arg if kind == "-" else ""

    return _VAR.sub(substitute, text)


def _compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        _interpolate(COMPOSE.read_text(), env or _example_env())
    )
    return loaded


def test_compose_file_matches_the_compose_specification_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    document = _compose()
    jsonschema.Draft201909Validator(schema).validate(document)
    # The validator is not a pushover: a misspelt key or a wrong type is refused.
    broken = _compose()
    broken["services"]["redis"]["healthchek"] = broken["services"]["redis"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(broken)


def test_a_missing_postgres_password_is_an_error() -> None:
    env = {k: v for k, v in _example_env().items() if k != "POSTGRES_PASSWORD"}
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD"):
        _compose(env)


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="Debian's docker-compose missing"
)
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    # A project folder of its own: the checkout's .env (a developer's tokens) stays out of it.
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    shutil.copytree(ROOT / "docker", project / "docker")
    (project / "weights").mkdir()
    (project / ".env").write_text(ENV_EXAMPLE.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    args = ["docker-compose", *(f"--profile={p}" for p in PROFILES), "config"]
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == {
        "redis",
        "postgres",
        "migrate",
        "worker",
        "worker-cpu",
        "telegram",
        "discord",
        "dashboard",
    }
    assert resolved["services"]["dashboard"]["environment"]["DATABASE_URL"].startswith(
        "postgresql://fakewatch:change-me@postgres:5432/"
    )
    # And it refuses a broken file, so the check above means something.
    (project / "docker-compose.yml").write_text(
        COMPOSE.read_text().replace("restart: unless-stopped", "restart: [sometimes]", 1)
    )
    broken = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    assert broken.returncode != 0


def test_every_dependency_waits_for_health() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            condition = rule["condition"]
            if dependency == "migrate":
                assert condition == "service_completed_successfully", name
            else:
                assert condition == "service_healthy", (name, dependency)
                assert "healthcheck" in services[dependency], dependency
    for name in ("redis", "postgres", "worker", "worker-cpu", "dashboard"):
        assert services[name]["healthcheck"]["test"], name


def test_workers_reserve_a_gpu_with_a_cpu_fallback() -> None:
    services = _compose()["services"]
    gpu, cpu = services["worker"], services["worker-cpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert gpu["environment"]["FAKEWATCH_DEVICE"] == "cuda"
    assert "resources" not in cpu["deploy"]
    assert cpu["environment"]["FAKEWATCH_DEVICE"] == "cpu"
    assert cpu["build"]["args"]["TORCH_INDEX_URL"].endswith("/cpu")
    assert set(gpu["profiles"]) | set(cpu["profiles"]) == {"gpu", "cpu"}


def test_services_run_real_commands_from_real_dockerfiles() -> None:
    services = _compose()["services"]
    parser = build_parser()
    for name, service in services.items():
        if "build" in service:
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name
        command = service.get("command")
        if command and command[0] == "fakewatch":
            profiles = set(service.get("profiles", ()))
            bot = bool(profiles) and profiles <= {"telegram", "discord"}
            module = importlib.util.find_spec(f"fakewatch.commands.{command[1]}")
            if bot and module is None:
                # A bot landing in its own change: its service is ready for it.
                warnings.warn(
                    f"compose service {name}: no 'fakewatch {command[1]}' yet", stacklevel=1
                )
                continue
            _assert_command_exists(parser, command[1:])
    app = (ROOT / "docker" / "app.Dockerfile").read_text()
    worker = (ROOT / "docker" / "worker.Dockerfile").read_text()
    assert "torch" not in re.sub(r"(?m)^#.*$", "", app).replace("find_spec('torch')", "")
    assert 'pip install ".[service,metrics,dashboard,telegram,discord]"' in app
    assert 'pip install ".[inference,service,metrics]"' in worker
    assert "torch==${TORCH_VERSION}" in worker


def _assert_command_exists(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    try:
        parser.parse_args([*argv, "--help"])
    except SystemExit as e:
        if e.code == 0:
            return
    # A bot whose command module exists but is not registered in the CLI yet.
    module = importlib.import_module(f"fakewatch.commands.{argv[0]}")
    assert callable(module.register), argv


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"(?m)^#?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text()))
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        assert choices, field
        names.add(str(choices[0]))
    missing = names - documented
    assert not missing, f".env.example lacks {sorted(missing)}"
