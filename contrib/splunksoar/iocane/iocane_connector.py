"""iocane for Splunk SOAR: the connector of the iocane app. Its actions ask
an iocane server (POST /v1/enrich) and return each result as action data:
verdict, score, confidence, dbot_score, reasons and per-source status.
Standard library only besides the phantom modules SOAR provides."""

import json
import sys
import urllib.error
import urllib.request

import phantom.app as phantom
from phantom.action_result import ActionResult
from phantom.base_connector import BaseConnector

# action identifier → the parameter that holds the value.
LOOKUPS = {"lookup_ip": "ip", "lookup_domain": "domain", "lookup_url": "url", "lookup_hash": "hash"}


class IocaneConnector(BaseConnector):
    def __init__(self):
        super().__init__()
        self._base = ""
        self._token = ""
        self._timeout = 120

    def initialize(self):
        config = self.get_config()
        self._base = (config.get("base_url") or "").rstrip("/")
        self._token = config.get("api_token") or ""
        if not self._base.startswith(("http://", "https://")):
            return self.set_status(phantom.APP_ERROR, "base_url must be an http(s) URL")
        return phantom.APP_SUCCESS

    def _post(self, body, content_type):
        req = urllib.request.Request(self._base + "/v1/enrich", data=body, method="POST")
        req.add_header("Authorization", "Bearer " + self._token)
        req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:
                return json.loads(resp.read()), None
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read()).get("detail", "")
            except ValueError:
                detail = ""
            return None, f"iocane answered {e.code} {e.reason}: {detail}".replace(self._token, "<token>") if self._token else f"iocane answered {e.code}"
        except (urllib.error.URLError, OSError) as e:
            return None, f"iocane is unreachable: {getattr(e, 'reason', e)}"

    def _report(self, action_result, results):
        counts = {}
        for r in results:
            action_result.add_data({
                "ioc_type": r["ioc"]["type"], "ioc_value": r["ioc"]["value"], "verdict": r.get("verdict"),
                "score": r.get("score", 0), "confidence": r.get("confidence", 0), "dbot_score": r.get("dbot_score", 0),
                "tlp": r.get("tlp", ""), "reasons": r.get("reasons") or [],
                "sources": [{"provider": s.get("provider"), "status": s.get("status"), "reason": s.get("reason", ""),
                             "summary": s.get("summary", "")} for s in r.get("sources") or []],
            })
            counts[r.get("verdict")] = counts.get(r.get("verdict"), 0) + 1
        summary = {"total_iocs": len(results), "malicious": counts.get("malicious", 0), "suspicious": counts.get("suspicious", 0)}
        if len(results) == 1:
            summary.update(verdict=results[0].get("verdict"), score=results[0].get("score", 0))
        action_result.update_summary(summary)
        return action_result.set_status(phantom.APP_SUCCESS)

    def _lookup(self, param, key):
        action_result = self.add_action_result(ActionResult(dict(param)))
        value = (param.get(key) or "").strip()
        if not value:
            return action_result.set_status(phantom.APP_ERROR, f"the {key} parameter is required")
        results, err = self._post(json.dumps({"iocs": [value]}).encode(), "application/json")
        if err:
            return action_result.set_status(phantom.APP_ERROR, err)
        return self._report(action_result, results)

    def _enrich_text(self, param):
        action_result = self.add_action_result(ActionResult(dict(param)))
        results, err = self._post((param.get("text") or "").encode(), "text/plain")
        if err:
            return action_result.set_status(phantom.APP_ERROR, err)
        return self._report(action_result, results)

    def _test_connectivity(self, param):
        action_result = self.add_action_result(ActionResult(dict(param)))
        self.save_progress("Asking iocane about 8.8.8.8")
        _, err = self._post(json.dumps({"iocs": ["8.8.8.8"]}).encode(), "application/json")
        if err:
            self.save_progress("Test Connectivity Failed")
            return action_result.set_status(phantom.APP_ERROR, err)
        self.save_progress("Test Connectivity Passed")
        return action_result.set_status(phantom.APP_SUCCESS)

    def handle_action(self, param):
        action = self.get_action_identifier()
        if action in LOOKUPS:
            return self._lookup(param, LOOKUPS[action])
        if action == "enrich_text":
            return self._enrich_text(param)
        if action == "test_connectivity":
            return self._test_connectivity(param)
        return self.set_status(phantom.APP_ERROR, f"unknown action {action}")


def main():
    if len(sys.argv) < 2:
        print("usage: iocane_connector.py <action JSON file>")
        sys.exit(2)
    with open(sys.argv[1]) as f:
        in_json = f.read()
    connector = IocaneConnector()
    print(json.dumps(json.loads(connector._handle_action(in_json, None)), indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()
