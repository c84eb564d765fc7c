"""What a device with a screen shows: an APL document listing the answer's events.

Only for devices whose request declares ``Alexa.Presentation.APL`` in
``context.System.device.supportedInterfaces`` (a screenless Echo must get no APL directive).
Pure: the directive is a plain dict, the shape ``Alexa.Presentation.APL.RenderDocument`` takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TOKEN = "events-list"
MAX_ROWS = 100  # a screen lists at most this many events


def list_document(title: str, lines: Sequence[str]) -> dict[str, Any]:
    """A RenderDocument directive: the answer's title and one row per event, scrollable."""
    rows = [{"text": line} for line in lines[:MAX_ROWS]]
    return {
        "type": "Alexa.Presentation.APL.RenderDocument",
        "token": TOKEN,
        "document": {
            "type": "APL",
            "version": "2023.3",
            "mainTemplate": {
                "parameters": ["payload"],
                "items": [
                    {
                        "type": "Container",
                        "width": "100vw",
                        "height": "100vh",
                        "paddingLeft": "5vw",
                        "paddingRight": "5vw",
                        "items": [
                            {
                                "type": "Text",
                                "text": "${payload.events.title}",
                                "fontSize": "40dp",
                                "paddingTop": "3vh",
                                "paddingBottom": "2vh",
                            },
                            {
                                "type": "Sequence",
                                "grow": 1,
                                "data": "${payload.events.rows}",
                                "items": [
                                    {"type": "Text", "text": "${data.text}", "fontSize": "28dp"}
                                ],
                            },
                        ],
                    }
                ],
            },
        },
        "datasources": {"events": {"title": title, "rows": rows}},
    }
