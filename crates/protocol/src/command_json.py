"""A study's command as the JSON text the engine decodes; one definition for both runners.

The native runner's shim and the extension's worker both run this file, so a command that
crosses from Python to the engine is written the same way everywhere.

Data is cleaned on the way rather than refused: NaN and infinities (pandas' missing values, a
platform's `NaN` literal) become `null`, because `JSON.parse` and the host would reject them; a
lone surrogate (from a `"\\ud800"` escape in a platform's JSON) becomes U+FFFD, because it has no
UTF-8 form. A command that still cannot be written (a DataFrame left in a prop, a cycle) becomes
`{"__type__": <its type>, "__unserializable__": "<what> at <field>"}`, which the engine shows as a
malformed command, instead of the run failing here.
"""

import json as _json
import math as _math
import re as _re
import sys as _sys

_SURROGATE = _re.compile("[\ud800-\udfff]")


def _clean(value, depth=0):
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if _math.isfinite(value) else None
    if depth > 900:
        raise RecursionError("nested too deeply")
    if isinstance(value, dict):
        return {_clean(key, depth + 1): _clean(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item, depth + 1) for item in value]
    return value


def _find_unserialisable(value, path, seen):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return None
    if id(value) in seen:
        return (f"circular {type(value).__name__}", path)
    if isinstance(value, dict):
        seen.add(id(value))
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return (f"{type(key).__name__} key", path)
            found = _find_unserialisable(item, f"{path}.{key}" if path else str(key), seen)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        seen.add(id(value))
        for index, item in enumerate(value):
            found = _find_unserialisable(item, f"{path}[{index}]", seen)
            if found:
                return found
        return None
    return (type(value).__name__, path)


def split_donation_body(command):
    """The command without a donation's `json_string`, and that text as UTF-8 bytes (else None).

    The extension's worker sends the bytes beside the command's JSON, which keeps `"json_string": ""`
    (`Command::from_json_and_donation_body`): escaped into the JSON, a donation of hundreds of
    megabytes would be copied, scanned and copied again on its way out of Python. A lone surrogate
    becomes U+FFFD, as in `command_to_json`.
    """
    if not (
        isinstance(command, dict)
        and command.get("__type__") == "CommandSystemDonate"
        and isinstance(command.get("json_string"), str)
    ):
        return command, None
    text = command["json_string"]
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        body = _SURROGATE.sub("\ufffd", text).encode("utf-8")
    return {**command, "json_string": ""}, body


def command_to_json(command):
    """The command as JSON text for the engine: valid UTF-8 JSON, never NaN."""
    try:
        # Non-ASCII stays as it is: escaping it would make a donation's text up to six times
        # longer on its way through the worker, the sandbox page and the offscreen document.
        text = _json.dumps(command, allow_nan=False, ensure_ascii=False)
        if text.isascii() or not _SURROGATE.search(text):
            return text
        return _json.dumps(_clean(command), allow_nan=False, ensure_ascii=False)
    except ValueError:
        try:
            return _json.dumps(_clean(command), allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            pass
    except (TypeError, RecursionError):
        pass
    found = _find_unserialisable(command, "", set()) or (type(command).__name__, "")
    what, path = found
    description = f"{what} at {path}" if path else what
    wire_type = command.get("__type__") if isinstance(command, dict) else None
    label = wire_type if isinstance(wire_type, str) else type(command).__name__
    # The developer running the script needs the field; it names a type, never a value.
    print(f"port: the command {label} is not JSON-serialisable: {description}", file=_sys.stderr, flush=True)
    marker = {"__unserializable__": description}
    if isinstance(wire_type, str):
        marker = {"__type__": wire_type, **marker}
    return _json.dumps(marker)
