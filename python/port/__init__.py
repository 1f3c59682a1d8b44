"""The Python runtime for data-donation study scripts, compatible with feldspar scripts.

`port.start(session_id, platform)` is what the engine calls; `port.api` holds the
commands, props and `Table`; `port.helpers` holds the flow helpers. Nothing here
requires pandas.
"""

from port import main
from port.main import register_script, start

__version__ = "0.1.0"

__all__ = ["main", "register_script", "start", "__version__"]
