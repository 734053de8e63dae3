"""deploy/: Compose, HAProxy, Serve config and Kubernetes manifests, checked without containers.

The files must parse, and what they name must exist: services, images' Dockerfile, mounted files,
the load balancer's backends, the Serve applications' import paths and the names the service
looks them up by, probes on /health, and a termination grace period that covers the SIGTERM drain.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from app.inference.ray_serve import FAMILIES
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _compose() -> dict[str, Any]:
    (compose,) = _load(DEPLOY / "docker-compose.yml")
    return compose  # type: ignore[no-any-return]


def _env(items: list[dict[str, str]] | dict[str, str]) -> dict[str, str]:
    if isinstance(items, dict):
        return {k: str(v) for k, v in items.items()}
    return {item["name"]: str(item.get("value", "")) for item in items}


def _settings(env: dict[str, str]) -> Settings:
    """The settings an environment gives, nested groups (`GROUP__FIELD`) included: a typo or bad value fails."""
    values: dict[str, Any] = {}
    for key, value in env.items():
        *groups, name = key.lower().split("__")
        if groups and groups[0] not in Settings.model_fields:
            raise AssertionError(f"unknown settings group in {key}")
        target = values
        for group in groups:
            target = target.setdefault(group, {})
        target[name] = value
    settings = Settings(**{k: v for k, v in values.items() if k in Settings.model_fields or k.upper() in env})
    for key in env:
        if "__" in key:
            model: Any = settings
            for part in key.lower().split("__"):
                assert part in type(model).model_fields, f"unknown setting {key}"
                model = getattr(model, part)
    return settings


def served(host: str, env: dict[str, str]) -> bool:
    """Whether an instance with this environment answers requests with this Host header."""
    from app.api.guards import host_allowed, parse_hosts, split_host

    allowed = parse_hosts(env.get("ALLOWED_HOSTS", "").replace("${PUBLIC_HOST:-localhost}", "localhost"),
                          env.get("HOST", "0.0.0.0"))
    return host_allowed(split_host(host)[0], allowed)


def _check_serve_config(config: dict[str, Any], prefix: str) -> None:
    names = {app["name"] for app in config["applications"]}
    assert names == {f"{prefix}-{family}" for family in FAMILIES}
    for app in config["applications"]:
        module, _, attribute = app["import_path"].partition(":")
        builder = getattr(importlib.import_module(module), attribute)
        assert callable(builder)
        assert app["name"].removeprefix(f"{prefix}-") in attribute  # each name gets its own family's builder
        assert app["route_prefix"] is None  # reached through handles only


def test_every_file_parses() -> None:
    files = sorted(DEPLOY.rglob("*.y*ml"))
    assert len(files) >= 4
    for path in files:
        assert _load(path), path


def test_compose_wires_postgres_instances_balancer_and_ray() -> None:
    compose = _compose()
    services = compose["services"]
    apps = [name for name, s in services.items() if s.get("environment", {}).get("INFERENCE__BACKEND") == "ray"]
    assert len(apps) >= 2
    assert {"postgres", "haproxy", "ray-head", "ray-worker"} <= set(services)
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name} mounts missing {source}"
            else:
                assert source in compose.get("volumes", {}), f"{name} uses undeclared volume {source}"
    postgres = services["postgres"]["environment"]
    for name in apps:
        app = services[name]
        env = app["environment"]
        url = env["DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
        assert url.endswith("/" + postgres["POSTGRES_DB"]) and f"{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@" in url
        settings = _settings(env)
        assert settings.database_url == url and settings.inference.backend == "ray"
        command = " ".join(app["command"])
        assert "ray-head:6379" in command and "exec python -m app serve" in command
        grace = float(env["EDGE__SHUTDOWN_GRACE_S"])
        assert float(app["stop_grace_period"].rstrip("s")) > grace  # Compose waits for the drain before SIGKILL
        assert "/health" in " ".join(app["healthcheck"]["test"])
        assert env["INFERENCE__DEPLOY"] == "false" and "ray-deploy" in app["depends_on"]
    deploy_job = services["ray-deploy"]["command"]
    config_path = deploy_job[deploy_job.index("deploy") + 1]
    assert (ROOT / config_path).is_file()
    assert "ray-head:8265" in " ".join(deploy_job) and "--dashboard-port=8265" in services["ray-head"]["command"]
    assert services["haproxy"]["ports"] == ["8080:8080"]


def test_haproxy_balances_the_compose_instances_with_health_checks() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    services = _compose()["services"]
    servers = re.findall(r"^\s*server\s+(\S+)\s+([\w-]+):(\d+)\s+check", config, re.MULTILINE)
    apps = {name for name, s in services.items() if s.get("environment", {}).get("INFERENCE__BACKEND") == "ray"}
    assert {host for _, host, _ in servers} == apps
    assert all(port == "8000" for _, _, port in servers)
    check = re.search(r"http-check send meth GET uri (\S+) ver HTTP/1.1 hdr Host (\S+)", config)
    assert check and check.group(1) == "/health" and "option httpchk" in config
    app_env = next(s["environment"] for s in services.values() if s.get("environment", {}).get("INFERENCE__BACKEND"))
    assert served(check.group(2), app_env)  # the instance answers the check's Host header
    expect = re.search(r"http-check expect rstring (\S+)", config)
    assert expect and re.search(expect.group(1), json.dumps({"status": "ok"}, separators=(",", ":")))
    assert not re.search(expect.group(1), json.dumps({"status": "degraded"}, separators=(",", ":")))
    assert re.search(r"timeout tunnel (\d+)s", config)  # WebSocket connections outlive the HTTP timeouts
    tunnel = int(re.search(r"timeout tunnel (\d+)s", config).group(1))  # type: ignore[union-attr]
    assert tunnel >= Settings().edge.idle_timeout_s
    bind = re.search(r"bind :(\d+)", config)
    assert bind and services["haproxy"]["ports"][0].endswith(f":{bind.group(1)}")
    rules = "\n".join(line.split("#")[0] for line in config.splitlines())
    assert "stick" not in rules and "cookie" not in rules  # no sticky sessions: any instance resumes any session


def test_serve_config_names_the_applications_the_service_looks_up() -> None:
    (config,) = _load(DEPLOY / "serve.yaml")
    prefix = _compose()["x-ray-env"]["INFERENCE__APP_PREFIX"]
    _check_serve_config(config, prefix)


def test_kubernetes_deployment_probes_and_grace_period() -> None:
    docs = {doc["kind"]: doc for doc in _load(DEPLOY / "k8s" / "service.yaml")}
    deployment, service = docs["Deployment"], docs["Service"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = _env(container["env"])
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == "/health" and check["port"] in port_names
        # kubelet sends Host: <pod IP>:<port> unless told otherwise, which the Host guard refuses.
        host = _env(check["httpHeaders"])["Host"]
        assert served(host, env)
    assert env["INFERENCE__BACKEND"] == "ray" and env["INFERENCE__DEPLOY"] == "false"
    _settings({k: v for k, v in env.items() if v})  # secrets come from the Secret
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= float(pre_stop[1]) + float(env["EDGE__SHUTDOWN_GRACE_S"])
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    assert "sessionAffinity" not in service["spec"]
    (rayservice,) = _load(DEPLOY / "k8s" / "rayservice.yaml")
    head_service = f"{rayservice['metadata']['name']}-head-svc:6379"  # the Service KubeRay creates for the head
    assert head_service in shlex.join(container["command"])


def test_rayservice_serves_the_same_applications() -> None:
    (rayservice,) = _load(DEPLOY / "k8s" / "rayservice.yaml")
    assert rayservice["apiVersion"] == "ray.io/v1" and rayservice["kind"] == "RayService"
    serve_config = yaml.safe_load(rayservice["spec"]["serveConfigV2"])
    (standalone,) = _load(DEPLOY / "serve.yaml")
    assert serve_config == standalone
    cluster = rayservice["spec"]["rayClusterConfig"]
    import ray

    assert cluster["rayVersion"] == ray.__version__  # the image's Ray is the one pinned here
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    prefixes = set()
    for group in groups:
        for container in group["template"]["spec"]["containers"]:
            env = _env(container["env"])
            prefixes.add(env["INFERENCE__APP_PREFIX"])
            _settings(env)
    (prefix,) = prefixes
    _check_serve_config(serve_config, prefix)
    (deployment,) = [d for d in _load(DEPLOY / "k8s" / "service.yaml") if d["kind"] == "Deployment"]
    assert _env(deployment["spec"]["template"]["spec"]["containers"][0]["env"])["INFERENCE__APP_PREFIX"] == prefix
    assert any("nvidia.com/gpu" in c["resources"].get("limits", {})
               for g in cluster["workerGroupSpecs"] for c in g["template"]["spec"]["containers"])
