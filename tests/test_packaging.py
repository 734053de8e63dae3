"""The Dockerfiles can't be built here: check what can be checked without a Docker engine."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_dockerfile_is_sound(name: str) -> None:
    instructions = _instructions(ROOT / name)
    keywords = [k for k, _ in instructions]
    assert keywords[0] == "FROM"
    for keyword, rest in instructions:
        if keyword == "COPY":
            sources = [a for a in shlex.split(rest) if not a.startswith("--")][:-1]
            for source in sources:
                assert (ROOT / source).exists(), f"{name}: COPY source {source} is missing"
    users = [rest for k, rest in instructions if k == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in keywords and any("/data" in rest for k, rest in instructions if k == "VOLUME")
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    assert "/health" in next(rest for k, rest in instructions if k == "HEALTHCHECK")
    if name == "Dockerfile.gpu":
        assert "nvidia/cuda" in instructions[0][1] and "runtime" in instructions[0][1]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    head = "\n".join(readme.splitlines()[:25])
    assert "make run" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()
