import json


class BaseConnector:
    """Runs one action the way SOAR does: _handle_action takes the action
    JSON ({"identifier", "config", "parameters": [...]}), calls initialize
    then handle_action for each parameter set, and returns the results as
    JSON."""

    def __init__(self):
        self._config = {}
        self._action = ""
        self._results = []
        self._status = True
        self._message = ""
        self.progress = []

    def get_config(self):
        return self._config

    def get_action_identifier(self):
        return self._action

    def add_action_result(self, r):
        self._results.append(r)
        return r

    def save_progress(self, msg, *args):
        self.progress.append(msg)

    def set_status(self, status, message=""):
        self._status, self._message = status, message
        return status

    def _handle_action(self, in_json, handle):
        j = json.loads(in_json)
        self._config, self._action, self._results = j.get("config", {}), j.get("identifier", ""), []
        if not self.initialize():
            return json.dumps([{"status": "failed", "message": self._message}])
        for p in j.get("parameters") or [{}]:
            self.handle_action(p)
        if not self._results:
            return json.dumps([{"status": "failed" if not self._status else "success", "message": self._message}])
        return json.dumps([r.as_dict() for r in self._results])
