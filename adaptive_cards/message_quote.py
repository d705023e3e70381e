"""Message action invokes, read: the command, the dialog's data, and the message as a plain-text quote.

Teams sends the message body as HTML (`<p>`, `<at>` mentions, `<img>` emoji, entities). A quote is
evidence a person will read back in a card or a tab, so it keeps only the words as Teams showed them:
no markup survives, and text that merely looks like markup (someone typed `<script>`) stays text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from adaptive_cards.elements import truncate
from adaptive_cards.payloads import PayloadError, submit_data

# Long enough for a real chat message; short enough that a dialog prefilled with it stays a small card.
MAX_QUOTE_CHARS = 2000

# Elements whose start or end is a line break where Teams renders them.
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
)
# Elements the reader never sees: their content is not part of what the message said.
_HIDDEN = frozenset({"script", "style", "template", "head", "title"})


@dataclass(frozen=True)
class QuotedMessage:
    """A chat message reduced to what a quote needs; every field may be missing in what Teams sent."""

    text: str
    author_name: str | None
    # The Entra object id of the person who wrote it (None when an app or bot wrote it).
    author_aad_object_id: str | None
    message_id: str | None
    link: str | None
    created: str | None


@dataclass(frozen=True)
class MessageActionInvoke:
    """A `composeExtension/fetchTask` or `submitAction` value: which command, on what, with what data."""

    command_id: str
    # "message" when run on a message; "compose" or "commandBox" when run from the compose box.
    command_context: str | None
    message: QuotedMessage | None
    data: dict[str, Any]


def parse_message_action(value: Any) -> MessageActionInvoke:
    """Read an action command invoke's value; PayloadError without a command id or with odd data."""
    if not isinstance(value, Mapping) or not isinstance(value.get("commandId"), str):
        raise PayloadError("Teams did not say which command this was. Please try again.")
    payload = value.get("messagePayload")
    return MessageActionInvoke(
        command_id=value["commandId"].strip(),
        command_context=_string(value.get("commandContext")),
        message=quote_from_payload(payload) if isinstance(payload, Mapping) else None,
        # The dialog's inputs merged with its Action.Submit data; Teams sends none when the dialog opens.
        data=submit_data(value["data"]) if value.get("data") is not None else {},
    )


def quote_from_payload(payload: Any) -> QuotedMessage:
    """The quote in a `messagePayload` from a message action invoke (missing or odd parts become None)."""
    payload = payload if isinstance(payload, Mapping) else {}
    body = _mapping(payload.get("body"))
    content = _string(body.get("content")) or ""
    text = html_to_text(content) if (body.get("contentType") or "html") == "html" else _tidy(content)
    author = _mapping(_mapping(payload.get("from")).get("user"))
    app = _mapping(_mapping(payload.get("from")).get("application"))
    return QuotedMessage(
        text=truncate(text, MAX_QUOTE_CHARS),
        author_name=_string(author.get("displayName")) or _string(app.get("displayName")),
        author_aad_object_id=_string(author.get("id")),
        message_id=_string(payload.get("id")),
        link=_string(payload.get("linkToMessage")),
        created=_string(payload.get("createdDateTime")),
    )


def html_to_text(html: str) -> str:
    """The words of a Teams message body, as the reader saw them: no tags, entities decoded."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return _tidy("".join(parser.parts))


class _TextParser(HTMLParser):
    """Collects text nodes; block elements become line breaks, hidden ones disappear."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("img", "emoji") and not self._hidden_depth:
            # Teams writes emoji as images whose alt text is the emoji itself.
            self.parts.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        # A line break in the HTML source is only a space on screen; tags make the real breaks.
        if not self._hidden_depth:
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def _tidy(text: str) -> str:
    # HTML collapses runs of spaces; nested blocks (Teams wraps lines in <div><div>) give one line break.
    lines = (" ".join(line.split()) for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _string(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
