"""Raw HTTP/WebSocket clients for probes that well-behaved libraries will not send: a chosen Host
header, repeated header lines, a socket that never reads."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import struct
from dataclasses import dataclass, field


def http_request(port: int, method: str, path: str, headers: list[tuple[str, str]] | None = None,
                 body: bytes | None = None) -> tuple[int, bytes]:
    """One request with exactly these header lines (a Host line is added only when none is given)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        headers = list(headers or [])
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", f"127.0.0.1:{port}"))
        if body is not None:
            headers.append(("Content-Length", str(len(body))))
        for key, value in headers:
            conn.putheader(key, value)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class RawSocket:
    """A WebSocket spoken by hand: masked client frames out, the server's bytes read only on demand."""

    sock: socket.socket
    status: int
    buffer: bytes = b""
    frames: list[tuple[int, bytes]] = field(default_factory=list)

    @classmethod
    def open(cls, port: int, headers: list[tuple[str, str]] | None = None, rcvbuf: int | None = None) -> RawSocket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect, so the advertised window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(60)
        sock.connect(("127.0.0.1", port))
        headers = list(headers or [])
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", f"127.0.0.1:{port}"))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET /ws/interview HTTP/1.1", *(f"{k}: {v}" for k, v in headers), "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", "", ""]
        sock.sendall("\r\n".join(lines).encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        return cls(sock, status, rest)

    def send_text(self, text: str) -> None:
        self._send(0x1, text.encode())

    def send_binary(self, data: bytes) -> None:
        self._send(0x2, data)

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask(payload, mask)
        self.sock.sendall(header + mask + masked)

    def read_until_closed(self, timeout: float) -> tuple[int, int | None]:
        """Read everything until the server closes the TCP connection: (bytes read, close code or None)."""
        self.sock.settimeout(timeout)
        total = len(self.buffer)
        data = bytearray(self.buffer)
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            total += len(chunk)
            data += chunk
        self.frames = list(parse_frames(bytes(data)))
        closes = [payload for opcode, payload in self.frames if opcode == 0x8]
        code = struct.unpack("!H", closes[0][:2])[0] if closes and len(closes[0]) >= 2 else None
        return total, code

    def close(self) -> None:
        self.sock.close()


def _mask(payload: bytes, mask: bytes) -> bytes:
    key = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Unmasked server frames (opcode, payload); a cut-off last frame is left out."""
    frames = []
    i = 0
    while i + 2 <= len(data):
        opcode = data[i] & 0x0F
        n = data[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            n = struct.unpack("!H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            if j + 8 > len(data):
                break
            n = struct.unpack("!Q", data[j:j + 8])[0]
            j += 8
        if j + n > len(data):
            break
        frames.append((opcode, data[j:j + n]))
        i = j + n
    return frames
