class ActionResult:
    def __init__(self, param=None):
        self._param = param or {}
        self._data = []
        self._summary = {}
        self._status = False
        self._message = ""

    def add_data(self, item):
        self._data.append(item)
        return item

    def update_summary(self, summary):
        self._summary.update(summary)
        return self._summary

    def set_status(self, status, message=""):
        self._status, self._message = status, message
        return status

    def get_status(self):
        return self._status

    def get_data(self):
        return self._data

    def get_summary(self):
        return self._summary

    def get_message(self):
        return self._message

    def get_param(self):
        return self._param

    def as_dict(self):
        return {"status": "success" if self._status else "failed", "message": self._message, "parameter": self._param,
                "data": self._data, "summary": self._summary}
