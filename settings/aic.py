"""Settings of the AIC compression service (``auralink serve aic``)."""

from __future__ import annotations

from pydantic import Field

from settings.base import CommonSettings


class AicSettings(CommonSettings):
    """Where the AIC gRPC service listens."""

    aic_host: str = Field("127.0.0.1", description="address `auralink serve aic` listens on")
    aic_port: int = Field(50061, ge=0, le=65535, description="port of `auralink serve aic` (0 = any free port)")
