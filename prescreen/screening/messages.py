"""What the assistant sends: a text with buttons, or a machine-readable custom payload."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Message:
    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict | None = None


def button(title: str, payload: str) -> dict[str, str]:
    return {"title": title, "payload": payload}
