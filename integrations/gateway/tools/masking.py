"""Arguments as the audit keeps them: ids and choices, never free text.

Free-text fields a tool declares (notes, titles, descriptions) become their
length; secret-looking names or values become "[masked]"; an unknown tool's
arguments are all masked, since nothing about them is trusted.
"""

import json
import re
from collections.abc import Callable
from typing import Any

from portal.observability import redact

MASKED = "[masked]"
SECRET_NAME = re.compile(r"(?i)token|secret|password|passwd|api[_-]?key|authori[sz]")
MAX_STRING = 120
MAX_ITEMS = 50
MAX_DEPTH = 4
MAX_BYTES = 4000


def mask_arguments(
    arguments: Any,
    *,
    free_text: tuple[str, ...] | None,
    hide: Callable[[str], bool] | None = None,
) -> dict:
    """Return a masked copy of a call's arguments for the audit row.

    `free_text` None means the tool is unknown: every value is masked.
    Strings for which `hide` returns True (the caller's own token) are too.
    """
    if not isinstance(arguments, dict):
        return {"_": MASKED}
    if free_text is None:
        return {str(key)[:MAX_STRING]: MASKED for key in list(arguments)[:MAX_ITEMS]}
    masked = _mask(arguments, set(free_text), 0, hide=hide or (lambda value: False))
    if len(json.dumps(masked, default=str)) > MAX_BYTES:
        return {
            "_truncated": True,
            "keys": [str(k)[:MAX_STRING] for k in arguments][:MAX_ITEMS],
        }
    return masked


def _mask(value: Any, free_text: set[str], depth: int, name: str = "", *, hide) -> Any:
    if name and SECRET_NAME.search(name):
        return MASKED
    if name in free_text and value not in (None, ""):
        return f"[text, {len(str(value))} chars]"
    if depth > MAX_DEPTH:
        return MASKED
    if isinstance(value, dict):
        return {
            str(key)[:MAX_STRING]: _mask(
                item, free_text, depth + 1, str(key), hide=hide
            )
            for key, item in list(value.items())[:MAX_ITEMS]
        }
    if isinstance(value, list):
        return [
            _mask(item, free_text, depth + 1, name, hide=hide)
            for item in value[:MAX_ITEMS]
        ]
    if isinstance(value, str):
        if redact(value) != value or hide(value):
            return MASKED
        return value if len(value) <= MAX_STRING else value[:MAX_STRING] + "…"
    if isinstance(value, bool | int | float) or value is None:
        return value
    return MASKED
