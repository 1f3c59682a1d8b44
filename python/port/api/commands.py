"""Commands a study script yields to the engine (feldspar's `port.api.commands`).

Each command's `toDict()` is exactly the wire dict the engine decodes, with the
`__type__` discriminator first. This module knows nothing about payloads or pages
beyond calling `toDict()` on the page it carries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The host validates log levels against exactly these four, so anything else is
# rejected here instead of being dropped silently on the other side.
LOG_LEVELS = ("debug", "info", "warn", "error")


def _page_to_wire(page: Any) -> Any:
    # Pages are normally prop objects, but a pre-built dict is accepted so tools and
    # tests can render hand-written pages.
    if hasattr(page, "toDict"):
        return page.toDict()
    return page


@dataclass
class CommandUIRender:
    """Render a page and wait for the payload the participant's action resolves."""

    page: Any

    def toDict(self) -> dict:
        return {"__type__": "CommandUIRender", "page": _page_to_wire(self.page)}


@dataclass
class CommandSystemDonate:
    """Send `json_string` to the host under `key`; answered by PayloadVoid or PayloadResponse."""

    key: str
    json_string: str

    def __post_init__(self) -> None:
        if not isinstance(self.key, str):
            raise TypeError("donation key must be a str")
        if not isinstance(self.json_string, str):
            raise TypeError("donation json_string must be a str")

    def toDict(self) -> dict:
        return {"__type__": "CommandSystemDonate", "key": self.key, "json_string": self.json_string}


@dataclass
class CommandSystemLog:
    """A PII-free log line for the host; answered by PayloadVoid."""

    level: str
    message: str

    def __post_init__(self) -> None:
        if self.level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, got {self.level!r}")
        self.message = str(self.message)

    @property
    def json_string(self) -> str:
        # The host still parses this field rather than `level`/`message`, so it is
        # derived here and always present on the wire.
        return json.dumps({"level": self.level, "message": self.message})

    def toDict(self) -> dict:
        return {
            "__type__": "CommandSystemLog",
            "level": self.level,
            "message": self.message,
            "json_string": self.json_string,
        }


@dataclass
class CommandSystemExit:
    """End the run; code 0 means the study completed. Scripts normally just return instead."""

    code: int
    info: str

    def toDict(self) -> dict:
        return {"__type__": "CommandSystemExit", "code": int(self.code), "info": str(self.info)}


__all__ = [
    "LOG_LEVELS",
    "CommandUIRender",
    "CommandSystemDonate",
    "CommandSystemLog",
    "CommandSystemExit",
]
