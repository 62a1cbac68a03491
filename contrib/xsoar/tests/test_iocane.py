"""Tests of the XSOAR integration against a running iocane server
(IOCANE_URL, IOCANE_TOKEN; `go test ./clients` starts one over the fake
providers), with stand-ins for demistomock and CommonServerPython."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "Packs", "iocane", "Integrations", "iocane"))

import demistomock as demisto  # noqa: E402
import iocane  # noqa: E402

URL = os.environ.get("IOCANE_URL", "")
TOKEN = os.environ.get("IOCANE_TOKEN", "")

MAL_IP = "185.220.101.47"
MAL_DOMAIN = "login-example-support.com"
MAL_URL = "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/"
MAL_SHA256 = "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d"


def run(command, args, token=None):
    demisto.reset(params={"url": URL, "credentials": {"password": TOKEN if token is None else token},
                          "integrationReliability": "B - Usually reliable"}, args=args, command=command)
    try:
        iocane.main()
    except SystemExit:
        pass
    return demisto.returned()


@unittest.skipUnless(URL, "IOCANE_URL is not set: run through `go test ./clients`")
class IntegrationTest(unittest.TestCase):
    def one(self, command, args):
        out = run(command, args)
        self.assertEqual(len(out), 1, out)
        self.assertNotEqual(out[0]["Type"], 4, out[0].get("Contents"))
        return out[0]

    def test_test_module(self):
        self.assertEqual(run("test-module", {}), ["ok"])

    def test_ip(self):
        e = self.one("ip", {"ip": MAL_IP})
        ctx = e["EntryContext"]
        self.assertEqual(ctx[iocane.KEYS["ip"]], [{"Address": MAL_IP, "Malicious": {"Vendor": "iocane", "Description": ctx[iocane.KEYS["ip"]][0]["Malicious"]["Description"]}}])
        self.assertTrue(ctx[iocane.KEYS["ip"]][0]["Malicious"]["Description"])
        self.assertEqual(ctx[iocane.DBOT_KEY], [{"Indicator": MAL_IP, "Type": "ip", "Vendor": "iocane", "Score": 3, "Reliability": "B - Usually reliable"}])
        self.assertIn("|malicious|", e["HumanReadable"])

    def test_domain_url_file_email(self):
        for command, value, key, field, dbot in (
            ("domain", MAL_DOMAIN, "domain", "Name", "domain"),
            ("url", MAL_URL, "url", "Data", "url"),
            ("email", "payroll@" + MAL_DOMAIN, "email", "Address", "email"),
        ):
            ctx = self.one(command, {command: value})["EntryContext"]
            self.assertEqual(ctx[iocane.KEYS[key]][0][field], value, command)
            self.assertEqual(ctx[iocane.DBOT_KEY][0]["Type"], dbot, command)
        ctx = self.one("file", {"file": MAL_SHA256})["EntryContext"]
        f = ctx[iocane.KEYS["file"]][0]
        self.assertEqual(f["SHA256"], MAL_SHA256)
        self.assertEqual(f["Hashes"], [{"type": "SHA256", "value": MAL_SHA256}])
        self.assertEqual(f["Malicious"]["Vendor"], "iocane")
        self.assertEqual(ctx[iocane.DBOT_KEY][0]["Score"], 3)

    def test_several_values_one_entry_each(self):
        out = run("ip", {"ip": MAL_IP + ",8.8.8.8"})
        self.assertEqual(len(out), 2)
        self.assertEqual(out[1]["EntryContext"][iocane.DBOT_KEY][0]["Score"], 1)
        self.assertNotIn("Malicious", out[1]["EntryContext"][iocane.KEYS["ip"]][0])

    def test_enrich_text_and_bitcoin(self):
        e = self.one("iocane-enrich-text", {"text": "pay 1BoatSLRHtKNngkdXEeobR76b53LETtpyT or beacon to 185.220.101[.]47"})
        ctx = e["EntryContext"]
        self.assertEqual(ctx[iocane.KEYS["cryptocurrency"]][0], {"Address": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "AddressType": "bitcoin"})
        self.assertEqual(ctx[iocane.KEYS["ip"]][0]["Address"], MAL_IP)
        self.assertEqual(len(ctx[iocane.DBOT_KEY]), 2)

    def test_get_job(self):
        import urllib.request, json  # noqa: E401
        req = urllib.request.Request(URL + "/v1/jobs", data=b"beacon to 185.220.101.47", method="POST",
                                     headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "text/plain"})
        job = json.loads(urllib.request.urlopen(req).read())
        import time
        for _ in range(600):
            e = self.one("iocane-get-job", {"job_id": job["id"]})
            if e["Contents"]["state"] == "completed":
                break
            time.sleep(0.05)
        ctx = e["EntryContext"]
        self.assertEqual(ctx["iocane.Job(val.id && val.id == obj.id)"]["id"], job["id"])
        self.assertEqual(ctx[iocane.KEYS["ip"]][0]["Address"], MAL_IP)

    def test_errors(self):
        out = run("ip", {"ip": MAL_IP}, token="wrong-token")
        self.assertEqual(out[0]["Type"], 4)
        self.assertIn("401", out[0]["Contents"])
        self.assertNotIn("wrong-token", out[0]["Contents"])
        out = run("ip", {})
        self.assertEqual(out[0]["Type"], 4)
        self.assertIn("required", out[0]["Contents"])
        out = run("iocane-nope", {})
        self.assertIn("not implemented", out[0]["Contents"])


class DefinitionTest(unittest.TestCase):
    """The integration YAML declares each command and the context paths the
    issue lists, and its merge keys are the script's."""

    def test_yaml(self):
        path = os.path.join(HERE, "..", "Packs", "iocane", "Integrations", "iocane", "iocane.yml")
        with open(path) as f:
            y = f.read()
        for cmd in ("ip", "domain", "url", "file", "email", "iocane-enrich-text", "iocane-get-job"):
            self.assertIn(f"  - name: {cmd}\n", y, cmd)
        for p in ("IP.Address", "Domain.Name", "URL.Data", "File.SHA256", "File.MD5", "File.SHA1", "File.Hashes",
                  "Email.Address", "Cryptocurrency.Address", "IP.Malicious.Vendor", "IP.Malicious.Description",
                  "DBotScore.Indicator", "DBotScore.Type", "DBotScore.Vendor", "DBotScore.Score", "DBotScore.Reliability"):
            self.assertIn(f"contextPath: {p}\n", y, p)


if __name__ == "__main__":
    unittest.main()
