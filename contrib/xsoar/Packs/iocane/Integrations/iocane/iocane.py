"""iocane for Cortex XSOAR: reputation commands (ip, domain, url, file,
email), iocane-enrich-text and iocane-get-job, answered by an iocane server
(POST /v1/enrich, GET /v1/jobs/{id}). It uses only what XSOAR ships:
demistomock and CommonServerPython, and the standard library for HTTP.

Each result becomes the standard context, with XSOAR's merge keys so that a
second run updates rather than duplicates: DBotScore (with the configured
source reliability), IP.Address, Domain.Name, URL.Data,
File.MD5/SHA1/SHA256/SHA512 with File.Hashes, Email.Address,
Cryptocurrency.Address for Bitcoin, and Malicious.Vendor/Description for
the IOCs iocane judges malicious.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401,F403

VENDOR = "iocane"
DEFAULT_RELIABILITY = "B - Usually reliable"

# XSOAR merge keys: a second run over the same indicator updates it.
DBOT_KEY = "DBotScore(val.Indicator && val.Indicator == obj.Indicator && val.Vendor == obj.Vendor && val.Type == obj.Type)"
KEYS = {
    "ip": "IP(val.Address && val.Address == obj.Address)",
    "domain": "Domain(val.Name && val.Name == obj.Name)",
    "url": "URL(val.Data && val.Data == obj.Data)",
    "file": ("File(val.MD5 && val.MD5 == obj.MD5 || val.SHA1 && val.SHA1 == obj.SHA1 || "
             "val.SHA256 && val.SHA256 == obj.SHA256 || val.SHA512 && val.SHA512 == obj.SHA512)"),
    "email": "Email(val.Address && val.Address == obj.Address)",
    "cryptocurrency": "Cryptocurrency(val.Address && val.Address == obj.Address && val.AddressType == obj.AddressType)",
}

# iocane IOC type → (DBotScore type, context kind).
KINDS = {
    "ipv4": ("ip", "ip"), "ipv6": ("ip", "ip"), "domain": ("domain", "domain"), "url": ("url", "url"),
    "md5": ("file", "file"), "sha1": ("file", "file"), "sha256": ("file", "file"), "sha512": ("file", "file"),
    "email": ("email", "email"), "btc": ("cryptocurrency", "cryptocurrency"),
}


class IocaneClient:
    """Calls the iocane server. The token never appears in an error."""

    def __init__(self, base_url, token, verify=True, timeout=120):
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.context = None
        if not verify:
            import ssl

            self.context = ssl._create_unverified_context()  # the operator asked for it (insecure)

    def call(self, method, path, body=None, content_type="application/json", accept="application/json"):
        req = urllib.request.Request(self.base + path, data=body, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Accept", accept)
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                return resp.read()
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read()).get("detail", "")
            except ValueError:
                detail = ""
            raise DemistoException(f"iocane answered {e.code} {e.reason}: {detail}".replace(self.token, "<token>"))
        except urllib.error.URLError as e:
            raise DemistoException(f"iocane is unreachable: {e.reason}")

    def enrich(self, iocs):
        return json.loads(self.call("POST", "/v1/enrich", json.dumps({"iocs": iocs}).encode()))

    def enrich_text(self, text):
        return json.loads(self.call("POST", "/v1/enrich", text.encode(), content_type="text/plain"))

    def job(self, job_id):
        return json.loads(self.call("GET", "/v1/jobs/" + urllib.parse.quote(job_id, safe="")))

    def job_results(self, job_id):
        raw = self.call("GET", "/v1/jobs/" + urllib.parse.quote(job_id, safe="") + "/results", accept="application/x-ndjson")
        return [json.loads(line) for line in raw.splitlines() if line.strip()]


def indicator_context(r, reliability):
    """The context entries of one iocane result: DBotScore and the
    indicator's own, keyed with XSOAR's merge keys."""
    typ, value = r["ioc"]["type"], r["ioc"]["value"]
    dbot_type, kind = KINDS.get(typ, (None, None))
    ctx = {}
    if dbot_type is None:
        return ctx
    ctx[DBOT_KEY] = [{"Indicator": value, "Type": dbot_type, "Vendor": VENDOR, "Score": r.get("dbot_score", 0),
                      "Reliability": reliability}]
    if kind == "ip":
        ind = {"Address": value}
    elif kind == "domain":
        ind = {"Name": value}
    elif kind == "url":
        ind = {"Data": value}
    elif kind == "file":
        ind = {typ.upper(): value, "Hashes": [{"type": typ.upper(), "value": value}]}
    elif kind == "email":
        ind = {"Address": value}
    else:
        ind = {"Address": value, "AddressType": "bitcoin"}
    if r.get("verdict") == "malicious":
        reasons = r.get("reasons") or []
        ind["Malicious"] = {"Vendor": VENDOR, "Description": "; ".join(reasons[:3]) or "malicious"}
    ctx[KEYS[kind]] = [ind]
    return ctx


def merge(into, ctx):
    for k, v in ctx.items():
        into.setdefault(k, []).extend(v)


def results_entry(title, results, reliability, raw=None):
    ctx = {}
    rows = []
    for r in results:
        merge(ctx, indicator_context(r, reliability))
        rows.append({"Verdict": r.get("verdict"), "Score": r.get("score"), "Type": r["ioc"]["type"],
                     "Value": r["ioc"]["value"], "Reasons": "; ".join((r.get("reasons") or [])[:3])})
    return {
        "Type": EntryType.NOTE,
        "ContentsFormat": EntryFormat.JSON,
        "Contents": raw if raw is not None else results,
        "HumanReadable": tableToMarkdown(title, rows, headers=["Verdict", "Score", "Type", "Value", "Reasons"]),
        "ReadableContentsFormat": EntryFormat.MARKDOWN,
        "EntryContext": ctx,
    }


def reputation(client, kind, args, reliability):
    """ip, domain, url, file and email: one entry per value given."""
    values = argToList(args.get(kind))
    if not values:
        raise DemistoException(f"the {kind} argument is required")
    results = client.enrich(values)
    return [results_entry(f"iocane: {r['ioc']['value']}", [r], reliability) for r in results]


def main():
    params = demisto.params()
    creds = params.get("credentials") or {}
    token = creds.get("password") or params.get("token") or ""
    client = IocaneClient(params.get("url", ""), token, verify=not params.get("insecure", False))
    reliability = params.get("integrationReliability") or DEFAULT_RELIABILITY
    command = demisto.command()
    args = demisto.args()
    try:
        if command == "test-module":
            client.enrich(["8.8.8.8"])
            return_results("ok")
        elif command in ("ip", "domain", "url", "file", "email"):
            return_results(reputation(client, command, args, reliability))
        elif command == "iocane-enrich-text":
            rs = client.enrich_text(args.get("text", ""))
            return_results(results_entry("iocane: indicators in the text", rs, reliability))
        elif command == "iocane-get-job":
            job_id = args.get("job_id", "")
            job = client.job(job_id)
            entry = results_entry(f"iocane job {job_id}: {job.get('state')}", client.job_results(job_id), reliability, raw=job)
            entry["EntryContext"]["iocane.Job(val.id && val.id == obj.id)"] = job
            return_results(entry)
        else:
            raise NotImplementedError(f"command {command} is not implemented")
    except Exception as e:  # XSOAR shows the message in the war room
        return_error(f"iocane: {e}")


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
