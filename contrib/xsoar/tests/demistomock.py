"""A minimal stand-in for XSOAR's demistomock, for the integration's unit
tests: the test sets the params, args and command, and reads back what the
integration returned. Only what iocane.py uses is here."""

_state = {"params": {}, "args": {}, "command": "", "results": []}


def reset(params=None, args=None, command=""):
    _state.update(params=params or {}, args=args or {}, command=command, results=[])


def params():
    return _state["params"]


def args():
    return _state["args"]


def command():
    return _state["command"]


def results(entry):
    _state["results"].append(entry)


def returned():
    return _state["results"]


def debug(msg):
    pass


def error(msg):
    pass
