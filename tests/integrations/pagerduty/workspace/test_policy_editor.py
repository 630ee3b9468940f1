"""The escalation policy editor: add, remove and reorder levels, pick targets
by name; levels and durations shown in words."""

import pytest
from django.http import QueryDict

from integrations.pagerduty.templatetags.pagerduty_labels import minutes, seconds
from integrations.pagerduty.workspace.forms import policy_levels_rearranged
from tests.integrations.pagerduty.workspace import payloads as pd
from tests.integrations.pagerduty.workspace.test_directory import (
    body,
    mock_targets,
    policy,
    url,
)

pytestmark = pytest.mark.django_db


def two_levels(**more):
    data = QueryDict(mutable=True)
    data.update({"name": "Night", "num_loops": "1", "levels": "2"})
    data.setlist("rule1_targets", ["user:PUSER01"])
    data["rule1_delay"] = "10"
    data.setlist("rule2_targets", ["schedule:PSCH001"])
    data["rule2_delay"] = "90"
    for key, value in more.items():
        data[key] = value
    return data


def test_a_new_policy_starts_with_one_level_and_pickers(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)

    html = linked_client.get(url(tenant, "escalation_policy_create")).content.decode()

    assert 'id="level-1"' in html
    assert 'id="level-2"' not in html
    assert 'id="level-add"' in html
    assert 'id="level-1-remove"' not in html
    assert '<optgroup label="Users">' in html
    assert '<optgroup label="Schedules">' in html
    assert 'name="rule1_targets"' in html
    assert "data-picker" in html


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("add", [("10", ["user:PUSER01"]), ("90", ["schedule:PSCH001"]), ("30", [])]),
        ("remove-1", [("90", ["schedule:PSCH001"])]),
        ("remove-2", [("10", ["user:PUSER01"])]),
        ("up-2", [("90", ["schedule:PSCH001"]), ("10", ["user:PUSER01"])]),
        ("down-1", [("90", ["schedule:PSCH001"]), ("10", ["user:PUSER01"])]),
        ("up-1", [("10", ["user:PUSER01"]), ("90", ["schedule:PSCH001"])]),
        ("down-2", [("10", ["user:PUSER01"]), ("90", ["schedule:PSCH001"])]),
        ("remove-99", [("10", ["user:PUSER01"]), ("90", ["schedule:PSCH001"])]),
        ("explode", [("10", ["user:PUSER01"]), ("90", ["schedule:PSCH001"])]),
    ],
)
def test_levels_are_added_removed_and_moved_keeping_what_was_typed(op, expected):
    initial, count = policy_levels_rearranged(two_levels(), op)

    assert count == len(expected)
    assert initial["levels"] == count
    assert initial["name"] == "Night"
    assert [
        (initial[f"rule{n}_delay"], initial[f"rule{n}_targets"])
        for n in range(1, count + 1)
    ] == expected


def test_the_last_level_cannot_be_removed():
    data = QueryDict("name=x&levels=1&rule1_delay=5&rule1_targets=user:PUSER01")

    initial, count = policy_levels_rearranged(data, "remove-1")

    assert count == 1
    assert initial["rule1_targets"] == ["user:PUSER01"]


def test_moving_a_level_is_a_round_trip_that_sends_nothing(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)

    response = linked_client.post(
        url(tenant, "escalation_policy_create"), two_levels(op="up-2")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert [c.request.method for c in mocked_responses.calls] == ["GET", "GET"]
    first = html.split('id="level-1"')[1].split('id="level-2"')[0]
    assert '<option value="schedule:PSCH001" selected>' in first
    assert 'value="90"' in first
    assert 'value="Night"' in html
    assert "errorlist" not in html


def test_an_empty_level_is_refused_by_name_and_nothing_is_sent(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)
    data = two_levels()
    data.setlist("rule2_targets", [])

    response = linked_client.post(url(tenant, "escalation_policy_create"), data)

    assert response.status_code == 400
    assert (
        "Pick who level 2 notifies, or remove the level." in response.content.decode()
    )
    assert {c.request.method for c in mocked_responses.calls} == {"GET"}


def test_saving_sends_the_levels_in_their_new_order(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)
    created = mocked_responses.post(
        pd.url("/escalation_policies"),
        status=201,
        json={"escalation_policy": {**policy(), "id": "PEPNEW1"}},
    )
    page = linked_client.post(
        url(tenant, "escalation_policy_create"), two_levels(op="down-1")
    )
    form = page.context["form"]
    data = two_levels()
    for key, value in form.initial.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = str(value)

    response = linked_client.post(url(tenant, "escalation_policy_create"), data)

    assert response.status_code == 302
    rules = body(created.calls[0])["escalation_policy"]["escalation_rules"]
    assert [rule["escalation_delay_in_minutes"] for rule in rules] == [90, 10]


def test_a_policys_target_past_the_lists_stays_selected_by_name(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)
    stranger = policy()
    stranger["escalation_rules"] = [
        {
            "escalation_delay_in_minutes": 5,
            "targets": [pd.ref("user", "PFAR001", "Far Away")],
        }
    ]
    mocked_responses.get(
        pd.url("/escalation_policies/PEP0001"), json={"escalation_policy": stranger}
    )

    html = linked_client.get(
        url(tenant, "escalation_policy_edit", "PEP0001")
    ).content.decode()

    assert '<optgroup label="On this policy">' in html
    assert '<option value="user:PFAR001" selected>Far Away</option>' in html


def test_a_posted_target_that_is_not_an_id_is_not_offered(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)
    data = two_levels(op="add")
    data.setlist("rule1_targets", ["user:../x", "team:PTEAM01", "user:PUSER01"])

    html = linked_client.post(
        url(tenant, "escalation_policy_create"), data
    ).content.decode()

    assert "../x" not in html
    assert "team:PTEAM01" not in html


def test_levels_show_their_targets_names_and_delays_in_words(
    linked_client, tenant, mocked_responses
):
    shown = policy()
    shown["escalation_rules"][0]["escalation_delay_in_minutes"] = 90
    mocked_responses.get(
        pd.url("/escalation_policies/PEP0001"), json={"escalation_policy": shown}
    )

    html = linked_client.get(
        url(tenant, "escalation_policy_detail", "PEP0001")
    ).content.decode()

    assert "Payments primary" in html
    assert "escalates after 1 h 30 min" in html


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "0 min"),
        (30, "30 min"),
        (60, "1 h"),
        (90, "1 h 30 min"),
        (1440, "24 h"),
        (None, ""),
        (-1, ""),
        ("5", ""),
    ],
)
def test_minutes_in_words(value, words):
    assert minutes(value) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (45, "45 s"),
        (1800, "30 min"),
        (14400, "4 h"),
        (5400, "1 h 30 min"),
        (90, "1 min"),
    ],
)
def test_seconds_in_words(value, words):
    assert seconds(value) == words
