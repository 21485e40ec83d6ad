import pytest

from lti_tool.lti.claims import LaunchClaims, is_our_url
from lti_tool.lti.vocabulary import LTI

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"


def claims(roles: list[str], **extra: object) -> LaunchClaims:
    body = {
        "iss": "https://lms",
        "sub": "u",
        LTI + "deployment_id": "d",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "roles": roles,
        **extra,
    }
    return LaunchClaims.from_body(body, "client")


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        ([f"{MEMBERSHIP}#Learner"], "learner"),
        ([f"{MEMBERSHIP}#Instructor"], "instructor"),
        ([f"{MEMBERSHIP}/Instructor#TeachingAssistant"], "instructor"),
        ([f"{MEMBERSHIP}#Learner", f"{MEMBERSHIP}#Instructor"], "instructor"),
        (["Learner"], "learner"),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"], "other"),
        ([], "other"),
        # The course's roles decide when there are any: an administrator or a teacher of the
        # institution enrolled as a student here is a learner here.
        (
            [
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
                f"{MEMBERSHIP}#Learner",
            ],
            "learner",
        ),
        (
            [
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
                f"{MEMBERSHIP}#Learner",
            ],
            "learner",
        ),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], "instructor"),
        ([f"{MEMBERSHIP}/Instructor#Grader"], "instructor"),
        ([f"{MEMBERSHIP}/Learner#NonCreditLearner"], "learner"),
    ],
)
def test_role_comes_from_the_context_roles(roles: list[str], role: str) -> None:
    assert claims(roles).role == role


def test_name_falls_back_to_given_and_family_names() -> None:
    assert claims([], given_name="Ada", family_name="Lovelace").name == "Ada Lovelace"
    assert claims([], name="  ").name is None


@pytest.mark.parametrize(
    ("url", "ours"),
    [
        ("https://skillpath.example.org/lti/launch", True),
        ("https://SKILLPATH.example.org/lti/launch?pathway=x", True),
        ("http://skillpath.example.org/lti/launch", False),
        ("https://skillpath.example.org.evil.example/lti/launch", False),
        ("https://evil.example/https://skillpath.example.org/", False),
    ],
)
def test_target_link_uri_must_be_under_the_base_url(url: str, ours: bool) -> None:
    assert is_our_url(url, "https://skillpath.example.org") is ours
