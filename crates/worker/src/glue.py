# The run cycle's glue around port.main, run in the study's worker (crates/worker) once the runtime
# wheel is installed, and before the build's snapshot is made (crates/builder/make_snapshot.mjs).
import sys, types
import port.main
from pyodide.ffi import to_js as _port_to_js

_port_wrapper = None
_port_donation_body = None

def _port_load_script(source, file_name):
    module = types.ModuleType("study_script")
    module.__file__ = file_name
    sys.modules["study_script"] = module
    exec(compile(source, file_name, "exec"), module.__dict__)
    port.main.register_script(module)

def _port_command(command):
    global _port_donation_body
    command, _port_donation_body = split_donation_body(command)
    return command_to_json(command)

def _port_start(session_id, platform):
    global _port_wrapper
    _port_wrapper = port.main.start(session_id, platform)
    return _port_command(_port_wrapper.send(None))

def _port_send(payload):
    return _port_command(_port_wrapper.send(payload))

def _port_take_donation_body():
    # Copied out into a Uint8Array of its own; Python lets go of its bytes at once.
    global _port_donation_body
    body, _port_donation_body = _port_donation_body, None
    return None if body is None else _port_to_js(body)
