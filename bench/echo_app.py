"""A bare FastAPI echo WebSocket: the floor any WebSocket service is measured against."""

from __future__ import annotations

from fastapi import FastAPI, WebSocket, WebSocketDisconnect


def create_echo_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            return

    return app
