"""The service side of INFERENCE__BACKEND=ray: engines with the local protocols, backed by Serve handles.

The rest of the service cannot tell these from the in-process engines. A call whose replica
dies (or whose deployment is briefly missing) is retried `INFERENCE__RETRIES` times, on
whichever replica Serve routes it to next; after that the caller gets EngineUnavailable
(`engine_unavailable` on the socket) and the session goes on. Errors the engine itself raises
(a bad image: InvalidInput) come back as themselves and are never retried.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import numpy as np

from app.errors import DomainError, EngineUnavailable
from app.inference.head_pose.base import FaceObservation
from app.inference.registry import Engines
from app.inference.speech_metrics.base import AcousticMeasures
from app.inference.stt.base import Transcript
from app.inference.tts.base import SpeechChunk
from app.settings import InferenceSettings, Settings

log = logging.getLogger(__name__)
STATUS_REFRESH_S = 5.0


class RayCluster:
    """The connection to Ray and the Serve applications, shared by the four engines of a process."""

    def __init__(self, settings: Settings, families: list[str]) -> None:
        self.settings = settings
        self.families = families
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self.config: InferenceSettings = settings.inference
        self._lock = threading.Lock()
        self._handles: dict[str, Any] = {}
        self._deploying: set[str] = set()
        self.connected = False
        self.error: str | None = None
        self.applications: dict[str, str] = {}
        self.checked_at: float | None = None
        self._status_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def app_name(self, family: str) -> str:
        return f"{self.config.app_prefix}-{family}"

    # --- blocking steps: call from a worker thread ------------------------------------

    def connect(self) -> None:
        import ray

        with self._lock:
            if not ray.is_initialized():
                ray.init(address=self.config.ray_address, namespace=self.config.namespace, log_to_driver=False,
                         ignore_reinit_error=True, configure_logging=False)
            self.connected = True

    def ensure_deployed(self, family: str) -> None:
        """Deploy the family's application unless it is running (INFERENCE__DEPLOY)."""
        from ray import serve

        from app.inference.ray_serve.deployments import application

        name = self.app_name(family)
        if name in self._running_applications():
            return
        log.info("deploying Serve application %s", name)
        serve.start(proxy_location="Disabled")  # handles only; joins a running Serve instance as it is
        serve.run(application(family, self.settings), name=name, route_prefix=None)

    def _running_applications(self) -> dict[str, str]:
        from ray import serve

        status = serve.status()
        self.applications = {name: str(app.status) for name, app in status.applications.items()}
        self.checked_at = time.time()
        return {name: s for name, s in self.applications.items() if s.endswith("RUNNING")}

    def handle(self, family: str) -> Any:
        handle = self._handles.get(family)
        if handle is None:
            from ray import serve

            self.connect()
            handle = serve.get_app_handle(self.app_name(family))
            self._handles[family] = handle
        return handle

    def forget(self, family: str) -> None:
        """Drop a handle after a failure: the next call looks the application up again."""
        self._handles.pop(family, None)

    # --- async -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and, when configured to, deploy the applications, once (from the first engine's warm-up).

        Failures only degrade: the engines answer engine_unavailable and the status watch reports it."""
        self._start_lock = self._start_lock or asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            self._started = True
            await self._start(self.families)

    async def _start(self, families: list[str]) -> None:
        try:
            await asyncio.to_thread(self.connect)
            if self.config.deploy:
                for family in families:
                    await asyncio.to_thread(self.ensure_deployed, family)
            await asyncio.to_thread(self._running_applications)
            self.error = None
        except Exception as exc:  # the service runs on; engines answer engine_unavailable
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("Ray Serve is not available")
        if self._status_task is None:
            self._status_task = asyncio.create_task(self._watch(families), name="ray-status")

    async def redeploy(self, family: str) -> None:
        """After a failure: put a missing application back (once at a time), so the engine recovers."""
        if not self.config.deploy or family in self._deploying:
            return
        self._deploying.add(family)
        try:
            await asyncio.to_thread(self.ensure_deployed, family)
        except Exception as exc:  # noqa: BLE001
            log.warning("redeploying %s failed: %s", family, exc)
        finally:
            self._deploying.discard(family)

    async def _watch(self, families: list[str]) -> None:
        """Keep the Serve status /health shows fresh (serve.status() is a blocking controller call)."""
        while True:
            await asyncio.sleep(STATUS_REFRESH_S)
            try:
                await asyncio.wait_for(asyncio.to_thread(self._running_applications), STATUS_REFRESH_S)
                self.error = None
            except Exception as exc:  # noqa: BLE001
                self.error = f"{type(exc).__name__}: {exc}"

    def spawn(self, coroutine: Any) -> None:
        """Run in the background, keeping a reference until done (the loop holds tasks weakly)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def state(self) -> dict[str, Any]:
        return {
            "address": self.config.ray_address, "connected": self.connected, "error": self.error,
            "applications": dict(self.applications),
            "checked_s_ago": round(time.time() - self.checked_at, 1) if self.checked_at else None,
        }

    async def aclose(self) -> None:
        if self._status_task is not None:
            self._status_task.cancel()
            self._status_task = None


def _is_failure(exc: BaseException) -> bool:
    """A failure of the cluster (retry, then engine_unavailable), as opposed to an error of the engine."""
    from ray.exceptions import RayError, RayTaskError
    from ray.serve.exceptions import RayServeException

    if isinstance(exc, RayTaskError):
        return isinstance(exc.cause, RayError | RayServeException)  # e.g. a replica that died under the task
    return isinstance(exc, RayError | RayServeException | TimeoutError | ConnectionError | KeyError | ValueError)


class RayEngine:
    """Calls one Serve application; the common part of the four engines."""

    family = ""

    def __init__(self, cluster: RayCluster) -> None:
        self.cluster = cluster
        self.calls = 0
        self.retried = 0
        self.unavailable = 0
        self.replica: dict[str, Any] | None = None
        self.busy_s = 0.0

    async def _call(self, method: str, *args: Any) -> Any:
        from ray.exceptions import RayTaskError

        config = self.cluster.config
        last: BaseException | None = None
        for attempt in range(config.retries + 1):
            if attempt:
                self.retried += 1
            started = time.perf_counter()
            try:
                handle = self.cluster.handle(self.family)
                response = handle.options(method_name=method).remote(*args)
                result = await asyncio.wait_for(response, config.request_timeout_s)
            except Exception as exc:  # sorted below
                cause = exc.cause if isinstance(exc, RayTaskError) else exc
                if isinstance(cause, DomainError):  # the engine's own verdict (a bad image): as it was raised
                    raise cause from None
                if not _is_failure(exc):
                    raise
                last = exc
                self.cluster.forget(self.family)
                log.warning("Ray %s.%s failed (attempt %d): %s", self.family, method, attempt + 1, type(exc).__name__)
                continue
            self.calls += 1
            self.busy_s += time.perf_counter() - started
            return result
        self.unavailable += 1
        self.cluster.spawn(self.cluster.redeploy(self.family))
        raise EngineUnavailable(f"the {self.family.replace('_', ' ')} engine is unavailable "
                                f"(Ray Serve: {type(last).__name__})") from None

    def _call_sync(self, method: str, *args: Any) -> Any:
        """Blocking twin for worker threads and benchmarks (never from the event loop)."""
        response = self.cluster.handle(self.family).options(method_name=method).remote(*args)
        return response.result(timeout_s=self.cluster.config.request_timeout_s)

    async def warm(self) -> None:
        """Learn which replica answers (and that one does): the models load in the replicas, not here."""
        await self.cluster.start()
        try:
            self.replica = await self._call("describe")
        except EngineUnavailable as exc:
            log.warning("%s", exc.message)

    def health(self) -> dict[str, Any]:
        cluster = self.cluster.state()
        app_status = cluster["applications"].get(self.cluster.app_name(self.family), "")
        ok = cluster["connected"] and cluster["error"] is None and app_status.endswith("RUNNING")
        return {
            "status": "ok" if ok else "unavailable", "backend": "ray", "application": self.cluster.app_name(self.family),
            "application_status": app_status or None, "calls": self.calls, "retried": self.retried,
            "unavailable": self.unavailable, "mean_ms": round(1000 * self.busy_s / self.calls, 2) if self.calls else None,
            "replica_engine": (self.replica or {}).get("engine"), "ray": cluster,
        }

    async def aclose(self) -> None:
        await self.cluster.aclose()


class RaySpeechToText(RayEngine):
    family = "stt"
    name = "ray-serve"

    async def transcribe(self, audio: np.ndarray, *, prompt: str | None = None, preview: bool = False) -> Transcript:
        result: Transcript = await self._call("transcribe", audio, prompt, preview)
        return result


class RaySpeechMetrics(RayEngine):
    family = "speech_metrics"
    name = "ray-serve"

    async def analyse(self, audio: np.ndarray) -> AcousticMeasures:
        result: AcousticMeasures = await self._call("analyse", audio)
        return result


class RayHeadPose(RayEngine):
    family = "head_pose"

    async def estimate(self, image: bytes) -> FaceObservation:
        result: FaceObservation = await self._call("estimate", image)
        return result

    def estimate_sync(self, image: bytes) -> FaceObservation:
        result: FaceObservation = self._call_sync("estimate", image)
        return result


class RayTts(RayEngine):
    family = "tts"

    def __init__(self, cluster: RayCluster) -> None:
        super().__init__(cluster)
        self.voice = "ray"
        self.sample_rate = 22_050

    async def warm(self) -> None:
        await super().warm()
        if self.replica is not None:
            self.voice, self.sample_rate = self.replica["voice"], int(self.replica["sample_rate"])

    async def synthesize(self, sentence: str) -> SpeechChunk:
        result: SpeechChunk = await self._call("synthesize", sentence)
        return result

    def synthesize_sync(self, sentence: str) -> SpeechChunk:
        result: SpeechChunk = self._call_sync("synthesize", sentence)
        return result


def build_ray_engines(settings: Settings, engines: Engines) -> Engines:
    """Fill `engines` with Ray-backed engines for every family the settings enable (one cluster connection)."""
    wanted = {
        "stt": (settings.stt.enabled, RaySpeechToText), "speech_metrics": (settings.speech.enabled, RaySpeechMetrics),
        "head_pose": (settings.head_pose.enabled, RayHeadPose), "tts": (settings.tts.enabled, RayTts),
    }
    cluster = RayCluster(settings, [family for family, (enabled, _) in wanted.items() if enabled])
    for family, (enabled, cls) in wanted.items():
        if enabled:
            setattr(engines, family, cls(cluster))
    return engines
