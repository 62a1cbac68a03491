"""Tests of iocane_client against a running iocane server.

IOCANE_URL and IOCANE_TOKEN name the server and a token with every scope;
the server asks the fake providers (internal/fakeintel), where
185.220.101.47 is a malicious Tor exit and 8.8.8.8 benign. `go test
./clients` starts both and runs these tests.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from iocane_client import Client, IocaneError, Job, Result  # noqa: E402

URL = os.environ.get("IOCANE_URL", "")
TOKEN = os.environ.get("IOCANE_TOKEN", "")


@unittest.skipUnless(URL, "IOCANE_URL is not set: run through `go test ./clients`")
class ClientTest(unittest.TestCase):
    def setUp(self):
        self.c = Client(URL, TOKEN, timeout=60)

    def test_enrich(self):
        rs = self.c.enrich(["185.220.101.47", "8.8.8.8"], tlp="amber")
        self.assertEqual(len(rs), 2)
        by = {r.ioc.value: r for r in rs}
        self.assertIsInstance(by["185.220.101.47"], Result)
        self.assertEqual(by["185.220.101.47"].verdict, "malicious")
        self.assertGreaterEqual(by["185.220.101.47"].score, 50)
        self.assertEqual(by["185.220.101.47"].dbot_score, 3)
        self.assertTrue(by["185.220.101.47"].reasons)
        self.assertIn("virustotal", [s.provider for s in by["185.220.101.47"].sources])
        self.assertEqual(by["8.8.8.8"].verdict, "benign")

    def test_defanged_and_bad_iocs(self):
        rs = self.c.enrich(["evil-phish-login[.]com"])
        self.assertEqual(rs[0].ioc.value, "evil-phish-login.com")
        with self.assertRaises(IocaneError) as e:
            self.c.enrich(["not an ioc"])
        self.assertEqual(e.exception.status, 422)
        self.assertIn("not IOCs", e.exception.detail)

    def test_job_wait_results(self):
        text = "beacon from 185.220.101.47 to hxxp://sskymedia[.]com/VMYB-ht_JAQo-gi/INV/"
        job = self.c.submit_job(text=text, idempotency_key="py-client-job-1")
        self.assertIsInstance(job, Job)
        again = self.c.submit_job(text=text, idempotency_key="py-client-job-1")
        self.assertEqual(again.id, job.id)
        done = self.c.wait(job.id, timeout=60, poll=0.05)
        self.assertEqual(done.state, "completed")
        rs = {r.ioc.value: r for r in self.c.results(job.id)}
        self.assertEqual(rs["185.220.101.47"].verdict, "malicious")
        self.assertIn("http://sskymedia.com/VMYB-ht_JAQo-gi/INV/", rs)

    def test_job_of_iocs(self):
        job = self.c.submit_job(iocs=["8.8.8.8"], providers=["greynoise"])
        done = self.c.wait(job.id, timeout=60, poll=0.05)
        self.assertEqual(done.counts.get("iocs"), 1)

    def test_verdict(self):
        self.c.enrich(["185.220.101.47"])
        self.assertEqual(self.c.verdict("ipv4", "185.220.101.47"), "malicious")
        self.assertIsNone(self.c.verdict("ipv4", "192.0.2.77"))

    def test_errors_hide_the_token(self):
        bad = Client(URL, "wrong-" + TOKEN)
        with self.assertRaises(IocaneError) as e:
            bad.enrich(["8.8.8.8"])
        self.assertEqual(e.exception.status, 401)
        self.assertTrue(e.exception.request_id)
        self.assertNotIn(TOKEN, str(e.exception) + repr(bad))
        with self.assertRaises(IocaneError):
            self.c.job("no-such-job")
        with self.assertRaises(ValueError):
            Client("ftp://x")


if __name__ == "__main__":
    unittest.main()
