"""Reading message action invokes: the quote is the words the reader saw, never markup."""

from __future__ import annotations

import pytest

from adaptive_cards.message_quote import (
    MAX_QUOTE_CHARS,
    html_to_text,
    parse_message_action,
    quote_from_payload,
)
from adaptive_cards.payloads import PayloadError
from tests.support.teams import fixture


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<p>Thanks <at id="0">Isaiah Langer</at>!</p>', "Thanks Isaiah Langer!"),
        ("R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;", "R&D <script>alert(1)</script>"),
        # A real script or style element is never shown by Teams, so it is not part of the quote.
        ("before<script>alert(1)</script> after<style>p{}</style>", "before after"),
        ("<div><div>one</div>\n<div>two<br>three</div></div>", "one\ntwo\nthree"),
        ("<p>wrapped\nin   the source</p>", "wrapped in the source"),
        ('nice <img alt="🎉" src="x.png"> work', "nice 🎉 work"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("a&nbsp;&nbsp;b", "a b"),
        ("", ""),
        ("<p>unclosed <b>bold", "unclosed bold"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_quote_reads_author_link_and_id_from_the_recorded_payload() -> None:
    payload = fixture("invoke_compose_extension_fetch_task")["value"]["messagePayload"]
    quote = quote_from_payload(payload)
    assert quote.author_name == "Adele Vance"
    assert quote.author_aad_object_id == payload["from"]["user"]["id"]
    assert quote.message_id == payload["id"]
    assert quote.link == payload["linkToMessage"]
    assert quote.created == payload["createdDateTime"]
    assert '<script>alert("pwned")</script>' in quote.text and "<p>" not in quote.text


def test_a_bot_message_has_a_name_but_no_person_and_odd_parts_become_none() -> None:
    quote = quote_from_payload(
        {"from": {"user": None, "application": {"id": "app", "displayName": "Build bot"}}, "body": 42}
    )
    assert (quote.text, quote.author_name, quote.author_aad_object_id) == ("", "Build bot", None)
    assert quote_from_payload(None).text == ""


def test_a_plain_text_body_is_kept_as_written_and_a_long_one_is_cut() -> None:
    quote = quote_from_payload({"body": {"contentType": "text", "content": "<b>as typed</b>"}})
    assert quote.text == "<b>as typed</b>"
    long = quote_from_payload({"body": {"content": "word " * 1000}})
    assert len(long.text) == MAX_QUOTE_CHARS and long.text.endswith("…")


def test_parse_message_action_reads_the_command_data_and_message() -> None:
    value = fixture("invoke_compose_extension_submit_action")["value"]
    invoke = parse_message_action(value)
    assert (invoke.command_id, invoke.command_context) == ("giveFeedback", "message")
    assert invoke.data == value["data"]
    assert invoke.message is not None and invoke.message.author_name == "Adele Vance"
    opening = parse_message_action({"commandId": "praise", "commandContext": "compose"})
    assert (opening.data, opening.message) == ({}, None)


@pytest.mark.parametrize(
    "value", [None, [], {}, {"commandId": 7}, {"commandId": "praise", "data": ["tampered"]}]
)
def test_parse_message_action_refuses_what_teams_never_sends(value: object) -> None:
    with pytest.raises(PayloadError):
        parse_message_action(value)
