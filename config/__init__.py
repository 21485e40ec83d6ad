"""Skillpath settings: read once from `SKILLPATH_*` environment variables.

Nothing else in the project reads `os.environ`; everything takes a `Settings` value.
This package imports nothing of ours.
"""

from config.logging import RedactingFilter, configure_logging
from config.settings import Settings, SettingsError

__all__ = ["RedactingFilter", "Settings", "SettingsError", "configure_logging"]
