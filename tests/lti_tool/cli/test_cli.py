from typing import Any

import pytest

PLATFORM = [
    "platform",
    "add",
    "--issuer",
    "https://lms.example.edu",
    "--client-id",
    "c-1",
    "--auth-login-url",
    "https://lms.example.edu/auth",
    "--auth-token-url",
    "https://lms.example.edu/token",
    "--keyset-url",
    "https://lms.example.edu/jwks",
    "--deployment",
    "d-1",
]


def test_init_then_platform_lifecycle(cli: Any) -> None:
    assert cli("init").exit_code == 0
    added = cli(*PLATFORM)
    assert added.exit_code == 0, added.output
    assert "registered https://lms.example.edu (client id c-1) with 1 deployment(s)" in added.output
    assert (
        cli(
            "deployment",
            "add",
            "--issuer",
            "https://lms.example.edu",
            "--client-id",
            "c-1",
            "--deployment-id",
            "d-2",
        ).exit_code
        == 0
    )
    listed = cli("platform", "list")
    assert "deployments: d-1, d-2" in listed.output
    removed = cli("platform", "remove", "--issuer", "https://lms.example.edu", "--client-id", "c-1")
    assert removed.exit_code == 0
    assert "no platforms registered" in cli("platform", "list").output


def test_same_issuer_may_have_several_client_ids(cli: Any) -> None:
    cli("init")
    assert cli(*PLATFORM).exit_code == 0
    second = [("c-2" if a == "c-1" else a) for a in PLATFORM]
    assert cli(*second).exit_code == 0
    assert cli("platform", "list").output.count("issuer: https://lms.example.edu") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (PLATFORM, "is already registered"),
        (
            [("not-a-url" if a == "https://lms.example.edu/jwks" else a) for a in PLATFORM],
            "keyset-url must be an absolute http(s) URL",
        ),
        (
            [
                "deployment",
                "add",
                "--issuer",
                "https://other.example",
                "--client-id",
                "x",
                "--deployment-id",
                "d",
            ],
            "no platform with issuer",
        ),
        (
            ["platform", "remove", "--issuer", "https://other.example", "--client-id", "x"],
            "no platform with issuer",
        ),
        (
            [
                "deployment",
                "add",
                "--issuer",
                "https://lms.example.edu",
                "--client-id",
                "c-1",
                "--deployment-id",
                "d-1",
            ],
            "already registered",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(
    cli: Any, args: list[str], message: str
) -> None:
    cli("init")
    cli(*PLATFORM)
    before = cli("platform", "list").output
    result = cli(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert result.output.strip().count("\n") == 0
    assert cli("platform", "list").output == before


def test_commands_need_init_first(cli_env: dict[str, str], tmp_path: Any) -> None:
    from click.testing import CliRunner

    from lti_tool.cli import main

    env = dict(cli_env, SKILLPATH_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    result = CliRunner().invoke(main, ["platform", "list"], env=env)
    assert result.exit_code == 1
    assert "run `skillpath init` first" in result.output


def test_keys_rotate(cli: Any) -> None:
    cli("init")
    result = cli("keys", "rotate")
    assert result.exit_code == 0
    assert "new signing key" in result.output


def test_catalog_and_lrs_for_an_unregistered_platform_are_refused(
    cli: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.lti_tool.usecases.test_learner_path import EXAMPLE

    cli("init")
    tenant = ["--issuer", "https://nobody.example", "--client-id", "nope"]
    imported = cli("catalog", "import", str(EXAMPLE), *tenant)
    assert imported.exit_code != 0
    assert "no platform with issuer 'https://nobody.example'" in imported.output
    monkeypatch.setenv("SKILLPATH_LRS_SET_PASSWORD", "p")
    lrs = cli("lrs", "set", "--endpoint", "https://lrs.example/xapi/", "--username", "u", *tenant)
    assert lrs.exit_code != 0 and "is registered" in lrs.output
    # The default catalog and LRS need no registration.
    assert cli("catalog", "import", str(EXAMPLE)).exit_code == 0
