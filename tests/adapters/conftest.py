"""The grade-passback rig and the platform peer, shared with the AGS tests."""

from tests.lti_tool.lti.services.conftest import proxy, rig  # noqa: F401
from tests.peers.platform_fixtures import launch_browser, platform_peer  # noqa: F401
