"""Tests of the Splunk SOAR connector against a running iocane server
(IOCANE_URL, IOCANE_TOKEN; `go test ./clients` starts one over the fake
providers), with a stand-in for SOAR's phantom modules. Every output data
path the app JSON declares must resolve in the action's real result."""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "iocane"))

import iocane_connector  # noqa: E402

URL = os.environ.get("IOCANE_URL", "")
TOKEN = os.environ.get("IOCANE_TOKEN", "")

with open(os.path.join(HERE, "..", "iocane", "iocane.json")) as f:
    APP = json.load(f)


def run(identifier, params, token=None):
    c = iocane_connector.IocaneConnector()
    in_json = {"identifier": identifier, "config": {"base_url": URL, "api_token": TOKEN if token is None else token},
               "parameters": [params]}
    return json.loads(c._handle_action(json.dumps(in_json), None))


def resolve(obj, path):
    """The values at a SOAR data path such as action_result.data.*.verdict."""
    parts = path.split(".")[1:]
    vals = [obj]
    for p in parts:
        nxt = []
        for v in vals:
            if p == "*" and isinstance(v, list):
                nxt.extend(v)
            elif isinstance(v, dict) and p in v:
                nxt.append(v[p])
        vals = nxt
    return vals


@unittest.skipUnless(URL, "IOCANE_URL is not set: run through `go test ./clients`")
class ConnectorTest(unittest.TestCase):
    def check_paths(self, identifier, result):
        action = next(a for a in APP["actions"] if a["identifier"] == identifier)
        for o in action["output"]:
            self.assertTrue(resolve(result, o["data_path"]), f"{identifier}: {o['data_path']} does not resolve")

    def test_connectivity(self):
        self.assertEqual(run("test_connectivity", {})[0]["status"], "success")

    def test_lookups(self):
        for ident, key, value, verdict in (
            ("lookup_ip", "ip", "185.220.101.47", "malicious"),
            ("lookup_domain", "domain", "login-example-support.com", "malicious"),
            ("lookup_url", "url", "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/", "malicious"),
            ("lookup_hash", "hash", "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d", "malicious"),
            ("lookup_ip", "ip", "8.8.8.8", "benign"),
        ):
            r = run(ident, {key: value})[0]
            self.assertEqual(r["status"], "success", r)
            self.assertEqual(r["data"][0]["verdict"], verdict, ident)
            self.assertEqual(r["summary"]["verdict"], verdict)
            self.assertTrue(r["data"][0]["sources"])
            self.check_paths(ident, r)

    def test_enrich_text(self):
        r = run("enrich_text", {"text": "beacon to 185.220.101[.]47 and hxxp://sskymedia[.]com/VMYB-ht_JAQo-gi/INV/"})[0]
        self.assertEqual(r["status"], "success")
        self.assertEqual(r["summary"]["total_iocs"], len(r["data"]))
        self.assertGreaterEqual(r["summary"]["malicious"], 2)
        self.check_paths("enrich_text", r)

    def test_errors(self):
        r = run("lookup_ip", {"ip": "185.220.101.47"}, token="wrong-token")[0]
        self.assertEqual(r["status"], "failed")
        self.assertIn("401", r["message"])
        self.assertNotIn("wrong-token", r["message"])
        r = run("lookup_ip", {"ip": ""})[0]
        self.assertEqual(r["status"], "failed")


class AppJSONTest(unittest.TestCase):
    def test_actions(self):
        ids = [a["identifier"] for a in APP["actions"]]
        self.assertEqual(ids, ["test_connectivity", "lookup_ip", "lookup_domain", "lookup_url", "lookup_hash", "enrich_text"])
        self.assertEqual(APP["main_module"], "iocane_connector.py")
        for a in APP["actions"][1:]:
            paths = [o["data_path"] for o in a["output"]]
            for p in ("action_result.data.*.verdict", "action_result.data.*.score", "action_result.data.*.reasons",
                      "action_result.data.*.sources.*.provider", "action_result.data.*.sources.*.status"):
                self.assertIn(p, paths, a["identifier"])


if __name__ == "__main__":
    unittest.main()
