"""A small typed client for the iocane REST API, standard library only.

    from iocane_client import Client

    c = Client("https://iocane.example.org", token="...")
    for r in c.enrich(["185.220.101.47", "evil[.]example"]):
        print(r.verdict, r.score, r.ioc.value, r.reasons[:1])
    job = c.submit_job(text=open("alert.txt").read())
    job = c.wait(job.id, timeout=300)
    for r in c.results(job.id):
        ...
    c.verdict("ipv4", "185.220.101.47")  # the latest stored verdict, or None

Errors are IocaneError, carrying the HTTP status and the problem+json
detail the server answered with; the token never appears in them.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

__all__ = ["Client", "IocaneError", "IOC", "Source", "Result", "Job"]
__version__ = "1.0.0"


class IocaneError(Exception):
    """A request the server refused or could not answer."""

    def __init__(self, status: int, title: str, detail: str = "", request_id: str = ""):
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail
        self.request_id = request_id


@dataclass(frozen=True)
class IOC:
    type: str
    value: str


@dataclass(frozen=True)
class Source:
    provider: str
    status: str
    reason: str = ""
    summary: str = ""
    link: str = ""
    malicious_signal: float = 0.0
    benign_signal: float = 0.0


@dataclass(frozen=True)
class Result:
    ioc: IOC
    verdict: str
    score: int
    confidence: int
    reasons: list[str]
    sources: list[Source]
    dbot_score: int
    tlp: str
    enriched_at: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Result":
        return cls(
            ioc=IOC(d["ioc"]["type"], d["ioc"]["value"]),
            verdict=d.get("verdict", "unknown"),
            score=int(d.get("score", 0)),
            confidence=int(d.get("confidence", 0)),
            reasons=list(d.get("reasons") or []),
            sources=[
                Source(
                    provider=s.get("provider", ""),
                    status=s.get("status", ""),
                    reason=s.get("reason", ""),
                    summary=s.get("summary", ""),
                    link=s.get("link", ""),
                    malicious_signal=float(s.get("malicious_signal", 0)),
                    benign_signal=float(s.get("benign_signal", 0)),
                )
                for s in d.get("sources") or []
            ],
            dbot_score=int(d.get("dbot_score", 0)),
            tlp=d.get("tlp", ""),
            enriched_at=d.get("enriched_at", ""),
            raw=d,
        )


@dataclass(frozen=True)
class Job:
    id: str
    state: str
    counts: dict[str, int]
    error: str = ""
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state in ("completed", "failed", "canceled")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Job":
        return cls(id=d["id"], state=d.get("state", ""), counts=dict(d.get("counts") or {}), error=d.get("error", ""), raw=d)


class Client:
    """Talks to one iocane server with one API token."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 120.0):
        u = urllib.parse.urlparse(base_url)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError(f"base_url {base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"Client({self.base_url!r})"

    def _request(self, method: str, path: str, body: Optional[bytes] = None, content_type: str = "",
                 headers: Optional[dict[str, str]] = None, accept: str = "application/json") -> tuple[int, bytes]:
        req = urllib.request.Request(self.base_url + path, data=body, method=method)
        req.add_header("Accept", accept)
        req.add_header("User-Agent", f"iocane-client-python/{__version__}")
        if self._token:
            req.add_header("Authorization", "Bearer " + self._token)
        if content_type:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                p = json.loads(raw)
            except ValueError:
                p = {}
            raise IocaneError(e.code, p.get("title") or e.reason or "", p.get("detail", ""),
                              e.headers.get("X-Request-Id", "")) from None
        except urllib.error.URLError as e:
            raise IocaneError(0, "unreachable", str(e.reason)) from None

    def enrich(self, iocs: Iterable[str], tlp: str = "") -> list[Result]:
        """Enriches IOCs now (POST /v1/enrich) and returns one Result each."""
        body: dict[str, Any] = {"iocs": list(iocs)}
        if tlp:
            body["tlp"] = tlp
        _, raw = self._request("POST", "/v1/enrich", json.dumps(body).encode(), "application/json")
        return [Result.from_json(d) for d in json.loads(raw)]

    def submit_job(self, text: str = "", iocs: Optional[Iterable[str]] = None, content_type: str = "text/plain",
                   tlp: str = "", providers: Optional[Iterable[str]] = None, idempotency_key: str = "") -> Job:
        """Queues a job (POST /v1/jobs) for text in any input format iocane
        reads (content_type says which), or for a list of IOCs."""
        query = {}
        if tlp:
            query["tlp"] = tlp
        if providers:
            query["providers"] = ",".join(providers)
        path = "/v1/jobs" + ("?" + urllib.parse.urlencode(query) if query else "")
        if iocs is not None:
            body, content_type = json.dumps({"iocs": list(iocs)}).encode(), "application/json"
        else:
            body = text.encode()
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        _, raw = self._request("POST", path, body, content_type, headers)
        return Job.from_json(json.loads(raw))

    def job(self, job_id: str) -> Job:
        """The job's state and counts (GET /v1/jobs/{id})."""
        _, raw = self._request("GET", "/v1/jobs/" + urllib.parse.quote(job_id, safe=""))
        return Job.from_json(json.loads(raw))

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 1.0) -> Job:
        """Polls the job until it is done; TimeoutError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            j = self.job(job_id)
            if j.done:
                return j
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is still {j.state} after {timeout:g}s")
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def results(self, job_id: str) -> list[Result]:
        """The job's results (GET /v1/jobs/{id}/results)."""
        _, raw = self._request("GET", "/v1/jobs/" + urllib.parse.quote(job_id, safe="") + "/results",
                               accept="application/x-ndjson")
        return [Result.from_json(json.loads(line)) for line in raw.splitlines() if line.strip()]

    def verdict(self, ioc_type: str, value: str) -> Optional[str]:
        """The latest stored verdict of an IOC (GET /v1/iocs/{type}/{value}),
        None when iocane has not enriched it."""
        try:
            _, raw = self._request("GET", "/v1/iocs/" + urllib.parse.quote(ioc_type, safe="") + "/" +
                                   urllib.parse.quote(value, safe=""))
        except IocaneError as e:
            if e.status == 404:
                return None
            raise
        return json.loads(raw).get("verdict")
