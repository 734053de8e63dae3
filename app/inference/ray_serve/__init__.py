"""Inference on Ray Serve (INFERENCE__BACKEND=ray).

`deployments.py` runs on the Ray cluster: one Serve application per engine family, each
replica wrapping the same engine the local backend builds (model loaded once per replica).
`client.py` runs in the service: engines with the local protocols that call those
deployments through handles, retry once when a replica dies, and otherwise answer
`engine_unavailable`.
"""

FAMILIES = ("stt", "speech_metrics", "head_pose", "tts")
