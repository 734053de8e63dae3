"""The documentation matches the code: the protocol page is the published schema, and the README's map
points at pages that exist."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.schemas.protocol_doc import generated_block, render
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_protocol_page_matches_the_published_schema(tmp_path: Path) -> None:
    # The schema route needs no services, so the app's lifespan (models, database) is not started.
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"))
    published = TestClient(app).get("/ws/interview/schema")
    assert published.status_code == 200
    page = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert generated_block(page) == render(published.json()), (
        "docs/protocol.md differs from GET /ws/interview/schema: run `python -m app.schemas.protocol_doc --write`"
    )


def test_protocol_page_names_every_message_type() -> None:
    page = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    from app.schemas.ws import protocol_schema

    schema = protocol_schema()
    for side in ("client", "server"):
        for message_type in schema[side]["discriminator"]["mapping"]:
            assert f"#### `{message_type}`" in page, message_type


def test_readme_is_short_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    assert len(lines) <= 250
    assert "make run" in "\n".join(lines[:15]) and "make test" in "\n".join(lines[:15])
    docs = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    for name in docs:
        assert f"docs/{name}" in readme, f"README's map of the docs misses docs/{name}"
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
