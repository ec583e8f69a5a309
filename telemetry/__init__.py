"""The telemetry contract between engines and the control plane.

Records (:mod:`telemetry.records`), their wire form and its declared constraints
(:mod:`telemetry.wire`), the engine's on-disk journal (:mod:`telemetry.journal`) and
its gRPC reporter (:mod:`telemetry.grpc_reporter`). The engine's call server and
stages produce records; the control plane's telemetry service receives them; both
import this package and neither imports the other.
"""
