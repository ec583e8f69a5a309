"""Typed settings of each AuraLink service, in a package every service may import.

Each service reads only its own section: :class:`EngineSettings` (calls, rooms, telemetry
reporting), :class:`ControlPlaneSettings` (database, auth, billing, compliance, secrets),
:class:`AicSettings` and :class:`SpeechSettings`. :class:`Settings` composes them for the
``auralink`` shell, which launches any of them from one configuration. Every setting is
documented in ``docs/configuration.md`` (kept in step by a test) and printed with its value
and where it came from by ``auralink config``.
"""

from settings.aic import AicSettings
from settings.base import CommonSettings, SettingsError, default_data_dir, package_version
from settings.control_plane import ControlPlaneSettings
from settings.engine import EngineSettings
from settings.join_secret import MIN_SECRET_BYTES, join_token_secret
from settings.loading import CONFIG_ENV, Settings, load_settings
from settings.speech import SpeechSettings

__all__ = [
    "CONFIG_ENV",
    "MIN_SECRET_BYTES",
    "AicSettings",
    "CommonSettings",
    "ControlPlaneSettings",
    "EngineSettings",
    "Settings",
    "SettingsError",
    "SpeechSettings",
    "default_data_dir",
    "join_token_secret",
    "load_settings",
    "package_version",
]
