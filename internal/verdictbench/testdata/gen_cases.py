#!/usr/bin/env python3
"""Writes cases/*.json, the verdict benchmark's labelled cases.

Each answer body follows the provider's documented response shape (the same
shapes as the fixtures in internal/provider/<name>/testdata, whose READMEs
cite the docs). Run from this directory: python3 gen_cases.py
The JSON files are the benchmark; this script only saves typing them.
"""
import hashlib
import json
import os

T0 = 1764100000  # 2025-11-25, a fixed "last analysed" time


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


# --- VirusTotal v3 -----------------------------------------------------------
def vt(kind, ioc, mal=0, sus=0, harmless=None, undetected=None, rep=0, **attrs):
    engines = {"ip_address": 94, "domain": 94, "url": 97, "file": 76}[kind]
    if harmless is None:
        harmless = 0 if kind == "file" else max(0, int((engines - mal - sus) * 0.65))
    if undetected is None:
        undetected = max(0, engines - mal - sus - harmless)
    stats = {"harmless": harmless, "malicious": mal, "suspicious": sus, "undetected": undetected, "timeout": 0}
    if kind == "file":
        stats.update({"type-unsupported": 4, "confirmed-timeout": 0, "failure": 0})
    ident = ioc
    if kind == "url":
        ident = sha256(ioc)
        attrs.setdefault("url", ioc)
        attrs.setdefault("last_final_url", ioc)
    a = {"last_analysis_date": T0, "last_analysis_stats": stats, "reputation": rep, "tags": attrs.pop("tags", [])}
    a.update(attrs)
    return {"body": {"data": {"id": ident, "type": kind, "links": {"self": "https://www.virustotal.com/api/v3/x"}, "attributes": a}}}


def vt_nf():
    return {"status": 404, "body": {"error": {"code": "NotFoundError", "message": "Resource not found."}}}


def vt_ip(ip, mal=0, sus=0, owner="", asn=0, country="US", rep=0, **kw):
    return vt("ip_address", ip, mal, sus, rep=rep, as_owner=owner, asn=asn, country=country, **kw)


def vt_dom(d, mal=0, sus=0, rep=0, created=None, registrar="", cats=None, **kw):
    extra = {}
    if created:
        extra["creation_date"] = created
    if registrar:
        extra["registrar"] = registrar
    if cats:
        extra["categories"] = cats
    return vt("domain", d, mal, sus, rep=rep, **extra, **kw)


def vt_url(u, mal=0, sus=0, rep=0, **kw):
    return vt("url", u, mal, sus, rep=rep, **kw)


def vt_file(h, mal=0, sus=0, undetected=None, label="", names=(), typ="Win32 EXE", rep=0, harmless=0):
    extra = {"sha256": h if len(h) == 64 else sha256(h), "type_description": typ, "size": 245760}
    if names:
        extra["meaningful_name"] = names[0]
        extra["names"] = list(names)
    if label:
        extra["popular_threat_classification"] = {"suggested_threat_label": label}
    engines = 72
    if undetected is None:
        undetected = engines - mal - sus - harmless
    return vt("file", h, mal, sus, harmless=harmless, undetected=undetected, rep=rep, **extra)


# --- AbuseIPDB v2 /check -----------------------------------------------------
def abuse(ip, score, reports, users=None, usage="Data Center/Web Hosting/Transit", isp="", domain="",
          tor=False, wl=False, country="US", last="2025-11-24T10:00:00+00:00"):
    if users is None:
        users = max(1, reports // 4) if reports else 0
    return {"body": {"data": {
        "ipAddress": ip, "isPublic": True, "ipVersion": 6 if ":" in ip else 4, "isWhitelisted": wl,
        "abuseConfidenceScore": score, "countryCode": country, "usageType": usage, "isp": isp, "domain": domain,
        "hostnames": [], "isTor": tor, "totalReports": reports, "numDistinctUsers": users,
        "lastReportedAt": last if reports else None}}}


# --- GreyNoise community -----------------------------------------------------
def gn(ip, noise=False, riot=False, cls="unknown", name="unknown"):
    kind = "riot" if riot else "ip"
    return {"body": {"ip": ip, "noise": noise, "riot": riot, "classification": cls, "name": name,
                     "link": "https://viz.greynoise.io/%s/%s" % (kind, ip), "last_seen": "2025-11-24", "message": "Success"}}


def gn_nf(ip):
    return {"status": 404, "body": {"ip": ip, "noise": False, "riot": False,
                                    "message": "IP not observed scanning the internet or contained in RIOT data set."}}


# --- Shodan /shodan/host/{ip} ------------------------------------------------
def shodan(ip, org, ports=(443,), tags=(), product=""):
    data = []
    for p in ports:
        d = {"_shodan": {"module": "https" if p == 443 else "ssh" if p == 22 else "http"}, "port": p, "transport": "tcp",
             "timestamp": "2025-11-24T10:02:11.000000", "ip_str": ip}
        if product and p == 443:
            d["product"] = product
        data.append(d)
    return {"body": {"ip_str": ip, "org": org, "isp": org, "asn": "AS0", "country_code": "US", "ports": list(ports),
                     "tags": list(tags), "hostnames": [], "domains": [], "last_update": "2025-11-24T10:02:11.000000",
                     "data": data}}


def shodan_nf():
    return {"status": 404, "body": {"error": "No information available for that IP."}}


# --- Safe Browsing v4 threatMatches:find -------------------------------------
def sb(u, threat="SOCIAL_ENGINEERING"):
    return {"body": {"matches": [{"threatType": threat, "platformType": "ANY_PLATFORM", "threatEntryType": "URL",
                                  "threat": {"url": u}, "cacheDuration": "300s"}]}}


def sb_none():
    return {"body": {}}


# --- URLhaus -----------------------------------------------------------------
def uh_url(u, status="online", threat="malware_download", tags=("exe",), dbl="not listed", host=None):
    host = host or u.split("/")[2]
    return {"body": {"query_status": "ok", "id": "3%06d" % (int(md5(u)[:8], 16) % 10**6), "urlhaus_reference": "https://urlhaus.abuse.ch/url/1/",
                     "url": u, "url_status": status, "host": host, "date_added": "2025-11-20 01:33:26 UTC", "last_online": None,
                     "threat": threat, "blacklists": {"spamhaus_dbl": dbl, "surbl": "not listed"}, "reporter": "abuse_ch",
                     "larted": "true", "takedown_time_seconds": None, "tags": list(tags), "payloads": []}}


def uh_host(h, online=1, offline=0, dbl="not listed", surbl="not listed", tags=("exe",)):
    urls = []
    for n in range(online + offline):
        urls.append({"id": str(400000 + n), "urlhaus_reference": "https://urlhaus.abuse.ch/url/%d/" % (400000 + n),
                     "url": "http://%s/f/%d.exe" % (h, n), "url_status": "online" if n < online else "offline",
                     "date_added": "2025-11-20 07:45:05 UTC", "threat": "malware_download", "reporter": "abuse_ch",
                     "larted": "false", "takedown_time_seconds": "", "tags": list(tags)})
    return {"body": {"query_status": "ok", "urlhaus_reference": "https://urlhaus.abuse.ch/host/%s/" % h, "host": h,
                     "firstseen": "2025-11-15 07:09:01 UTC", "url_count": str(len(urls)),
                     "blacklists": {"spamhaus_dbl": dbl, "surbl": surbl}, "urls": urls}}


def uh_payload(h, sig="AgentTesla"):
    return {"body": {"query_status": "ok", "md5_hash": md5(h), "sha256_hash": h, "file_type": "exe", "file_size": "245760",
                     "signature": sig, "firstseen": "2025-11-19 01:40:11", "lastseen": "2025-11-21 09:12:45", "url_count": "3",
                     "urlhaus_download": "https://urlhaus-api.abuse.ch/v1/download/%s/" % h, "virustotal": None,
                     "imphash": None, "ssdeep": "3072:abc:def", "tlsh": None, "urls": []}}


def uh_none():
    return {"body": {"query_status": "no_results"}}


# --- ThreatFox search_ioc ----------------------------------------------------
def tf(ioc, conf=100, threat="botnet_cc", malware="win.cobalt_strike", printable="Cobalt Strike", ioc_type="ip:port"):
    return {"body": {"query_status": "ok", "data": [{
        "id": "1%06d" % (int(md5(ioc)[:8], 16) % 10**6), "ioc": ioc, "threat_type": threat, "threat_type_desc": "", "ioc_type": ioc_type,
        "ioc_type_desc": "", "malware": malware, "malware_printable": printable, "malware_alias": None,
        "malware_malpedia": "https://malpedia.caad.fkie.fraunhofer.de/details/" + malware, "confidence_level": conf,
        "first_seen": "2025-11-20 09:10:23 UTC", "last_seen": None, "reference": None, "reporter": "abuse_ch",
        "tags": None, "malware_samples": []}]}}


def tf_none():
    return {"body": {"query_status": "no_result", "data": "Your search did not yield any results"}}


# --- MalwareBazaar get_info --------------------------------------------------
def mb(h, sig="AgentTesla", tags=("exe",), name="invoice.exe"):
    return {"body": {"query_status": "ok", "data": [{
        "sha256_hash": h, "sha1_hash": hashlib.sha1(h.encode()).hexdigest(), "md5_hash": md5(h),
        "first_seen": "2025-11-20 09:00:00", "last_seen": None, "file_name": name, "file_size": 245760,
        "file_type_mime": "application/x-dosexec", "file_type": "exe", "reporter": "abuse_ch", "origin_country": None,
        "signature": sig, "tags": list(tags), "delivery_method": "email_attachment",
        "intelligence": {"clamav": None, "downloads": "12", "uploads": "1", "mail": None}, "yara_rules": None,
        "vendor_intel": {}, "comments": None}]}}


def mb_none():
    return {"body": {"query_status": "hash_not_found"}}


# --- OTX indicators/{type}/{value}/general -----------------------------------
def otx(indicator, typ="IPv4", pulses=(), validation=()):
    ps = [{"id": "%024x" % (n + 1), "name": name, "tags": [], "adversary": "", "malware_families": [], "attack_ids": [],
           "TLP": "white", "author": {"username": author, "id": str(n)}} for n, (name, author) in enumerate(pulses)]
    val = [{"source": s, "message": m, "name": m} for s, m in validation]
    return {"body": {"indicator": indicator, "type": typ, "type_title": typ, "validation": val,
                     "sections": ["general"], "base_indicator": {}, "false_positive": [],
                     "pulse_info": {"count": len(ps), "pulses": ps, "references": [],
                                    "related": {"alienvault": {"adversary": [], "malware_families": [], "industries": []}}}}}


# --- MISP attributes/restSearch ----------------------------------------------
def misp(value, typ="ip-dst", to_ids=True, info="Incident 42 C2", tags=("tlp:amber",)):
    return {"body": {"response": {"Attribute": [{
        "id": "91234", "event_id": "1201", "object_id": "0", "object_relation": None, "category": "Network activity",
        "type": typ, "to_ids": to_ids, "uuid": "5f1c2a3b-7d4e-4c1a-9b2f-0a1b2c3d4e5f", "timestamp": "1700000000",
        "distribution": "5", "sharing_group_id": "0", "comment": "", "deleted": False, "disable_correlation": False,
        "first_seen": None, "last_seen": None, "value": value,
        "Event": {"org_id": "1", "distribution": "1", "id": "1201", "info": info, "orgc_id": "1", "uuid": "5f1c2a00-1111-4c1a-9b2f-0a1b2c3d4e5f"},
        "Tag": [{"id": str(n), "name": t, "colour": "#FFC000", "numerical_value": None, "is_galaxy": False, "local": 0} for n, t in enumerate(tags)]}]}}}


def misp_none():
    return {"body": {"response": {"Attribute": []}}}


# --- cases -------------------------------------------------------------------
FILES = {}


def case(file, name, ioc, label, why, **answers):
    FILES.setdefault(file, []).append({"name": name, "ioc": ioc, "label": label, "why": why, "answers": answers})


def ip_case(file, name, ip, label, why, vtm=0, vts=0, owner="", ab=None, g=None, sh=None, tfx=None, o=None, m=None):
    a = {"virustotal": vt_ip(ip, vtm, vts, owner=owner)}
    a["abuseipdb"] = ab if ab is not None else abuse(ip, 0, 0)
    a["greynoise"] = g if g is not None else gn_nf(ip)
    a["shodan"] = sh if sh is not None else shodan_nf()
    a["threatfox"] = tfx if tfx is not None else tf_none()
    a["otx"] = o if o is not None else otx(ip)
    a["misp"] = m if m is not None else misp_none()
    case(file, name, ip, label, why, **a)


# CDN and cloud edges ----------------------------------------------------------
cdn = [
    ("cloudflare", "104.16.132.229", "CLOUDFLARENET", "Cloudflare"),
    ("cloudflare", "172.67.182.31", "CLOUDFLARENET", "Cloudflare"),
    ("cloudflare", "104.21.48.11", "CLOUDFLARENET", "Cloudflare"),
    ("cloudflare", "188.114.97.3", "CLOUDFLARENET", "Cloudflare"),
    ("fastly", "151.101.1.69", "FASTLY", "Fastly"),
    ("fastly", "199.232.38.133", "FASTLY", "Fastly"),
    ("akamai", "104.86.110.82", "Akamai International B.V.", "Akamai"),
    ("akamai", "23.215.0.136", "Akamai Technologies, Inc.", "Akamai"),
]
for n, (net, ip, owner, gname) in enumerate(cdn):
    isp = owner
    ip_case("cdn.json", "cdn-%s-%d-vt2-riot" % (net, n), ip, "benign",
            "%s edge: 2 of 94 engines and a few abuse reports are shared-address noise; GreyNoise RIOT names the CDN" % gname,
            vtm=2, owner=owner, ab=abuse(ip, 12, 41, usage="Content Delivery Network", isp=isp),
            g=gn(ip, riot=True, cls="benign", name=gname))
    ip_case("cdn.json", "cdn-%s-%d-vt2s1-riot" % (net, n), ip, "benign",
            "%s edge as in issue 18: 2 malicious and 1 suspicious of 94, AbuseIPDB 12 from 41 reports, RIOT benign" % gname,
            vtm=2, vts=1, owner=owner, ab=abuse(ip, 12, 41, usage="Content Delivery Network", isp=isp),
            g=gn(ip, riot=True, cls="benign", name=gname))
    ip_case("cdn.json", "cdn-%s-%d-vt1s2" % (net, n), ip, "unknown",
            "%s edge: 1 malicious and 2 suspicious engines of 94, nothing else; a CDN address says nothing about any one site" % gname,
            vtm=1, vts=2, owner=owner, ab=abuse(ip, 0, 3, usage="Content Delivery Network", isp=isp))
    ip_case("cdn.json", "cdn-%s-%d-vt3-abuse25" % (net, n), ip, "unknown",
            "%s edge: 3 engines and AbuseIPDB 25 from reports about the sites behind it; no site-level evidence" % gname,
            vtm=3, owner=owner, ab=abuse(ip, 25, 60, usage="Content Delivery Network", isp=isp))

cloud = [
    ("aws", "3.120.181.40", "AMAZON-02"), ("aws", "52.95.110.1", "AMAZON-02"), ("aws", "18.205.93.2", "AMAZON-AES"),
    ("azure", "20.42.65.92", "MICROSOFT-CORP-MSN-AS-BLOCK"), ("azure", "40.112.72.205", "MICROSOFT-CORP-MSN-AS-BLOCK"),
    ("gcp", "34.102.136.180", "GOOGLE-CLOUD-PLATFORM"), ("gcp", "35.186.238.101", "GOOGLE-CLOUD-PLATFORM"),
]
for n, (net, ip, owner) in enumerate(cloud):
    ip_case("cdn.json", "cloud-%s-%d-vt1" % (net, n), ip, "unknown",
            "%s address with one engine of 94 and a couple of abuse reports: cloud addresses change tenants daily" % net.upper(),
            vtm=1, owner=owner, ab=abuse(ip, 7, 4))
    ip_case("cdn.json", "cloud-%s-%d-c2" % (net, n), ip, "malicious",
            "%s VM running a C2: ThreatFox botnet_cc at confidence 100, 9 engines, AbuseIPDB 75; the cloud does not excuse it" % net.upper(),
            vtm=9, owner=owner, ab=abuse(ip, 75, 120), tfx=tf(ip + ":443", 100),
            sh=shodan(ip, owner, ports=(443, 22), tags=("c2",), product="Cobalt Strike Beacon"))

# mass scanners ---------------------------------------------------------------
scanners = [
    ("167.94.138.35", "Censys, Inc.", "Censys"), ("167.94.146.58", "Censys, Inc.", "Censys"),
    ("71.6.135.131", "CariNet, Inc.", "Shodan.io"), ("66.240.205.34", "CariNet, Inc.", "Shodan.io"),
    ("184.105.247.194", "Hurricane Electric LLC", "Shadowserver Foundation"),
    ("5.63.151.99", "Rapid7", "Rapid7"), ("162.142.125.10", "Censys, Inc.", "Censys"),
    ("198.235.24.20", "Palo Alto Networks", "Palo Alto Networks"),
]
for n, (ip, isp, name) in enumerate(scanners):
    ip_case("scanners.json", "scanner-benign-%d-abuse100" % n, ip, "benign",
            "%s research scanner: AbuseIPDB 100 from thousands of reports is what scanning collects; GreyNoise classifies it benign" % name,
            vtm=2, owner=isp, ab=abuse(ip, 100, 2841 + n * 97, users=612, isp=isp),
            g=gn(ip, noise=True, cls="benign", name=name))
    ip_case("scanners.json", "scanner-benign-%d-vt4" % n, ip, "benign",
            "%s research scanner flagged by 4 engines for scanning and AbuseIPDB 100; GreyNoise benign explains both" % name,
            vtm=4, owner=isp, ab=abuse(ip, 100, 5120, users=980, isp=isp),
            g=gn(ip, noise=True, cls="benign", name=name))
mal_scanners = ["45.148.10.174", "80.94.95.115", "218.92.0.112", "61.177.172.160", "194.26.29.102", "141.98.11.11"]
for n, ip in enumerate(mal_scanners):
    ip_case("scanners.json", "scanner-malicious-%d" % n, ip, "malicious",
            "SSH/RDP brute-forcer: GreyNoise classifies it malicious, AbuseIPDB 100 from many reporters, 6 engines",
            vtm=6, ab=abuse(ip, 100, 1800 + n, usage="Data Center/Web Hosting/Transit"),
            g=gn(ip, noise=True, cls="malicious"))
for n, ip in enumerate(["103.140.127.44", "91.92.249.33", "185.224.128.17", "45.135.232.9"]):
    ip_case("scanners.json", "scanner-unknown-intent-%d" % n, ip, "suspicious",
            "opportunistic scanner of unknown intent: GreyNoise noise, AbuseIPDB 60 from scanning reports, one engine",
            vtm=1, ab=abuse(ip, 60, 140), g=gn(ip, noise=True, cls="unknown"))

# sinkholes --------------------------------------------------------------------
for n, ip in enumerate(["104.244.12.7", "131.253.18.11", "143.215.130.33", "144.217.254.3", "166.78.144.80", "176.58.104.168"]):
    ip_case("sinkholes.json", "sinkhole-%d" % n, ip, "unknown",
            "a sinkhole run by defenders: engines list it because malware calls it, but the address is not the attacker's",
            vtm=7, ab=abuse(ip, 30, 25), o=otx(ip, pulses=[("Sinkholed C2 traffic", "analyst_a")]))

# public DNS resolvers ----------------------------------------------------------
for n, (ip, name) in enumerate([("8.8.8.8", "Google Public DNS"), ("1.1.1.1", "Cloudflare Public DNS"),
                                ("9.9.9.9", "Quad9 Public DNS"), ("208.67.222.222", "OpenDNS")]):
    ip_case("dns.json", "resolver-%d-riot" % n, ip, "benign",
            "%s: a public resolver every malware sample contacts; RIOT and AbuseIPDB whitelisting say so" % name,
            vtm=2, owner=name, ab=abuse(ip, 0, 52, usage="Content Delivery Network", wl=True),
            g=gn(ip, riot=True, cls="benign", name=name))
    ip_case("dns.json", "resolver-%d-vt3" % n, ip, "unknown",
            "%s with 3 engines (sandboxes see every sample resolve through it) and nothing else: not evidence of harm" % name,
            vtm=3, owner=name, ab=abuse(ip, 4, 9))

# domains: parked, newly registered, well known ------------------------------------
def dom_case(name, d, label, why, vtm=0, vts=0, created=None, sbm=None, uh=None, tfx=None, o=None, m=None, cats=None, rep=0):
    a = {"virustotal": vt_dom(d, vtm, vts, created=created, cats=cats, rep=rep) if vtm is not None else vt_nf(),
         "safebrowsing": sbm or sb_none(), "urlhaus": uh or uh_none(), "threatfox": tfx or tf_none(),
         "otx": o or otx(d, "domain"), "misp": m or misp_none()}
    case("domains.json", name, d, label, why, **a)


for n, d in enumerate(["buy-cheap-domains-here.com", "sedo-parked-example.net", "best-insurance-quotes.info", "myoldblog2014.com",
                       "parked-bodis-sample.org", "expired-shop-domain.net"]):
    dom_case("parked-%d" % n, d, "unknown", "parked domain: 1-2 engines categorise parking pages as spam; no threat",
             vtm=1 + n % 2, cats={"Forcepoint ThreatSeeker": "parked domain"})
for n, d in enumerate(["login-secure-verify-acc.com", "micros0ft-support-desk.net", "dhl-parcel-redelivery.info",
                       "wallet-connect-sync.app"]):
    dom_case("nrd-phish-sb-%d" % n, d, "malicious",
             "newly registered phishing domain: Safe Browsing lists it, VirusTotal has not seen it yet",
             vtm=None, created=T0 - 86400, sbm=sb("http://%s/" % d))
for n, d in enumerate(["fresh-startup-name.io", "new-bakery-site.shop", "conference2026-site.org", "johnsmith-portfolio.dev"]):
    dom_case("nrd-clean-%d" % n, d, "unknown", "newly registered, no engine, no list: nothing is known either way",
             vtm=0, created=T0 - 3 * 86400)
for n, d in enumerate(["paypal-account-limited.com", "office365-mail-quota.net", "appleid-unlock-verify.com", "netflix-billing-update.info"]):
    dom_case("phish-domain-%d" % n, d, "malicious", "phishing domain: Safe Browsing match, 8 engines, an OTX pulse",
             vtm=8, created=T0 - 20 * 86400, sbm=sb("http://%s/" % d),
             o=otx(d, "domain", pulses=[("Phishing campaign", "phish_hunter")]))
for n, d in enumerate(["update-check-cdn.top", "api-telemetry-sync.xyz", "cdn-static-jquery.online", "win-defender-upd.site"]):
    dom_case("c2-domain-%d" % n, d, "malicious", "malware C2 domain: ThreatFox botnet_cc 100, 10 engines",
             vtm=10, tfx=tf(d, 100, ioc_type="domain"), o=otx(d, "domain", pulses=[("Stealer C2", "a"), ("C2 list", "b")]))
for n, d in enumerate(["google.com", "microsoft.com", "wikipedia.org", "apple.com", "amazon.com", "github.com"]):
    dom_case("popular-%d" % n, d, "benign",
             "top site: OTX allow-list validation, 0-2 engines (engines hit popular sites by accident), reputation high",
             vtm=n % 3, rep=500, o=otx(d, "domain", pulses=[("Sandbox contacted domains", "sandbox_bot")],
                                          validation=[("whitelist", "Whitelisted domain " + d)]))

# URL shorteners -------------------------------------------------------------------
for n, d in enumerate(["bit.ly", "tinyurl.com", "t.co", "cutt.ly"]):
    dom_case("shortener-domain-%d" % n, d, "unknown",
             "URL shortener domain: a few engines flag it for the links it carries; the service itself is not the threat",
             vtm=3, rep=10, o=otx(d, "domain", pulses=[("Phishing links", "x"), ("Spam", "y")]))
    u = "https://%s/3xAmPl%d" % (d, n)
    case("shorteners.json", "shortener-url-phish-%d" % n, u, "malicious",
         "shortened link to a phishing page: Safe Browsing and 6 engines flag this exact URL",
         virustotal=vt_url(u, 6), safebrowsing=sb(u), urlhaus=uh_none(), otx=otx(u, "URL"), threatfox=tf_none(), misp=misp_none())
    u2 = "https://%s/n3wsL%d" % (d, n)
    case("shorteners.json", "shortener-url-clean-%d" % n, u2, "unknown",
         "shortened link nobody lists; the shortener's own reputation must not leak onto it",
         virustotal=vt_url(u2, 0), safebrowsing=sb_none(), urlhaus=uh_none(), otx=otx(u2, "URL"), threatfox=tf_none(), misp=misp_none())

# malware on legitimate hosting ------------------------------------------------------
hosted = [
    ("https://raw.githubusercontent.com/evil-user/tools/main/loader.ps1", "raw.githubusercontent.com"),
    ("https://github.com/evil-user/payloads/releases/download/v1/setup.exe", "github.com"),
    ("https://cdn.discordapp.com/attachments/1/2/invoice.exe", "cdn.discordapp.com"),
    ("https://www.dropbox.com/s/abc123/Invoice.zip?dl=1", "www.dropbox.com"),
    ("https://drive.google.com/uc?id=1AbCdEf&export=download", "drive.google.com"),
    ("https://gitlab.com/evil/x/-/raw/main/stage2.bin", "gitlab.com"),
    ("https://bitbucket.org/evil/r/downloads/upd.exe", "bitbucket.org"),
    ("https://pastebin.com/raw/Xy12AbCd", "pastebin.com"),
]
for n, (u, host) in enumerate(hosted):
    case("hosting.json", "hosted-malware-url-%d" % n, u, "malicious",
         "malware download on %s: URLhaus lists this URL online and 7 engines flag it" % host,
         virustotal=vt_url(u, 7), urlhaus=uh_url(u, dbl="abused_legit_malware", host=host), safebrowsing=sb_none(),
         otx=otx(u, "URL"), threatfox=tf_none(), misp=misp_none())
for n, d in enumerate(["raw.githubusercontent.com", "cdn.discordapp.com", "drive.google.com", "pastebin.com", "gitlab.com",
                       "bitbucket.org", "dropbox.com", "transfer.sh"]):
    dom_case("hosting-domain-%d" % n, d, "unknown",
             "code/file hosting domain that malware abuses: URLhaus holds URLs on it, 2-4 engines; the host is not the threat",
             vtm=2 + n % 3, uh=uh_host(d, online=3, offline=12, dbl="abused_legit_malware"),
             o=otx(d, "hostname" if d.count(".") > 1 else "domain", pulses=[("Abused hosting", "a"), ("Malware URLs", "b"), ("Loader", "c")]))

# file hashes ------------------------------------------------------------------------
families = ["AgentTesla", "Formbook", "RedLineStealer", "AsyncRAT", "LummaStealer", "Remcos", "QakBot", "Emotet",
            "SnakeKeylogger", "njRAT", "XWorm", "GuLoader"]
for n, fam in enumerate(families):
    h = sha256("commodity-%s" % fam)
    case("hashes.json", "commodity-%s" % fam.lower(), h, "malicious",
         "%s sample: MalwareBazaar holds it, 45+ of 72 engines detect it" % fam,
         virustotal=vt_file(h, 45 + n, label="trojan.%s" % fam.lower()), malwarebazaar=mb(h, fam),
         urlhaus=uh_none(), threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())
for n, fam in enumerate(families[:6]):
    h = sha256("vtonly-%s" % fam)
    case("hashes.json", "vt-only-%s" % fam.lower(), h, "malicious",
         "%s variant MalwareBazaar does not hold: 30 of 72 engines detect it" % fam,
         virustotal=vt_file(h, 30 + n, label="trojan.%s" % fam.lower()), malwarebazaar=mb_none(),
         urlhaus=uh_none(), threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())
for n, pua in enumerate(["OpenCandy", "InstallCore", "Conduit", "ByteFence", "WebCompanion", "CCleaner-bundler", "MyPCBackup", "Wajam"]):
    h = sha256("pua-%s" % pua)
    case("hashes.json", "pua-%s" % pua.lower(), h, "suspicious",
         "PUA (%s): a handful of engines flag adware/bundler behaviour, most say nothing; worth a look, not malware" % pua,
         virustotal=vt_file(h, 3 + n % 4, 2, label="pua.%s" % pua.lower()), malwarebazaar=mb_none(),
         urlhaus=uh_none(), threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())
eicar = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
case("hashes.json", "eicar-sha256", eicar, "malicious",
     "EICAR test file: harmless by design, but built to be detected; a pipeline that does not flag it fails the detection test",
     virustotal=vt_file(eicar, 62, label="virus.eicar/test", names=("eicar.com",), typ="Text"),
     malwarebazaar=mb(eicar, None, ("eicar",), "eicar.com"), urlhaus=uh_none(), threatfox=tf_none(),
     otx=otx(eicar, "FileHash-SHA256"), misp=misp_none())
case("hashes.json", "eicar-md5", "44d88612fea8a8f36de82e1278abb02f", "malicious",
     "EICAR by MD5: every engine detects it by design",
     virustotal=vt_file("44d88612fea8a8f36de82e1278abb02f", 62, label="virus.eicar/test", names=("eicar.com",), typ="Text"),
     malwarebazaar=mb(eicar, None, ("eicar",), "eicar.com"), otx=otx("44d88612fea8a8f36de82e1278abb02f", "FileHash-MD5"), misp=misp_none())
for n in range(8):
    h = sha256("clean-%d" % n)
    case("hashes.json", "clean-file-%d" % n, h, "unknown",
         "signed vendor installer: 0 of 72 engines; a clean scan is weak evidence, not an allow-list",
         virustotal=vt_file(h, 0, harmless=0, undetected=68, rep=5), malwarebazaar=mb_none(), urlhaus=uh_none(),
         threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())
for n in range(6):
    h = sha256("fp-%d" % n)
    case("hashes.json", "file-one-engine-%d" % n, h, "unknown",
         "rare but legitimate tool: one heuristic engine of 72 (a typical false positive on a rare binary)",
         virustotal=vt_file(h, 1), malwarebazaar=mb_none(), urlhaus=uh_none(), threatfox=tf_none(),
         otx=otx(h, "FileHash-SHA256"), misp=misp_none())
for n in range(4):
    h = sha256("unseen-%d" % n)
    case("hashes.json", "file-unseen-%d" % n, h, "unknown", "hash no source has seen: nothing is known",
         virustotal=vt_nf(), malwarebazaar=mb_none(), urlhaus=uh_none(), threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())

# Tor exits --------------------------------------------------------------------------
for n, ip in enumerate(["185.220.101.47", "185.220.100.252", "199.249.230.87", "204.8.96.123", "107.189.10.143", "192.42.116.16"]):
    ip_case("tor.json", "tor-exit-%d" % n, ip, "suspicious",
            "Tor exit: every abuse through Tor lands on it (AbuseIPDB 100, 10 engines); the relay is not the attacker",
            vtm=10, owner="Tor exit", ab=abuse(ip, 100, 3319, usage="Fixed Line ISP", tor=True),
            g=gn(ip, noise=True, cls="unknown", name="Tor"), o=otx(ip, pulses=[("Tor exit nodes - daily", "tor_feeds_bot")]))

# bulletproof hosting C2 ------------------------------------------------------------------
bph = ["91.109.180.12", "45.141.215.40", "193.233.48.5", "85.209.11.227", "194.147.140.9", "77.91.68.21",
       "5.42.92.88", "147.45.47.33", "179.43.187.20", "62.204.41.176"]
for n, ip in enumerate(bph):
    ip_case("c2.json", "bph-c2-%d" % n, ip, "malicious",
            "C2 on bulletproof hosting: ThreatFox botnet_cc 100, 12 engines, Shodan sees the C2 banner",
            vtm=12, owner="Stark Industries Solutions Ltd", ab=abuse(ip, 64, 33),
            tfx=tf(ip + ":443", 100), sh=shodan(ip, "Stark Industries", ports=(443, 22), tags=("c2",), product="Cobalt Strike Beacon"),
            o=otx(ip, pulses=[("Cobalt Strike servers", "a"), ("C2 tracker", "b")]))

# phishing kits (URLs) -----------------------------------------------------------------
for n in range(10):
    u = "https://secure-login-%d.example-phish.com/wp-content/office365/index.php" % n
    sbm = sb(u) if n % 2 == 0 else sb_none()
    case("phishing.json", "phish-kit-url-%d" % n, u, "malicious",
         "phishing kit page: %s and %d engines flag the URL" % ("Safe Browsing" if n % 2 == 0 else "OTX pulses", 5 + n),
         virustotal=vt_url(u, 5 + n), safebrowsing=sbm, urlhaus=uh_none(), threatfox=tf_none(),
         otx=otx(u, "URL", pulses=[("Phishing kit", "p1"), ("O365 phish", "p2")]), misp=misp_none())
for n in range(4):
    u = "https://compromised-wp-%d.org/wp-includes/sso/login.php" % n
    case("phishing.json", "phish-sb-only-%d" % n, u, "malicious",
         "phishing page on a compromised site: Safe Browsing flags it, VirusTotal does not know the URL yet",
         virustotal=vt_nf(), safebrowsing=sb(u), urlhaus=uh_none(), threatfox=tf_none(), otx=otx(u, "URL"), misp=misp_none())

# single-source hits ---------------------------------------------------------------------
def nothing_ip(ip):
    return dict(virustotal=vt_nf(), abuseipdb=abuse(ip, 0, 0), greynoise=gn_nf(ip), shodan=shodan_nf(),
                threatfox=tf_none(), otx=otx(ip), misp=misp_none())


singles = [
    ("vt1", "45.61.136.9", "unknown", "one VirusTotal engine of 94 and nothing else: noise", {"virustotal": vt_ip("45.61.136.9", 1)}),
    ("vt2", "45.61.136.23", "unknown", "two engines of 94 and nothing else: still noise for an address",
     {"virustotal": vt_ip("45.61.136.23", 2)}),
    ("vt3", "45.61.136.77", "suspicious", "three engines of 94: a handful, worth a look",
     {"virustotal": vt_ip("45.61.136.77", 3)}),
    ("vt8", "45.83.64.8", "malicious", "eight engines of 94 agree", {"virustotal": vt_ip("45.83.64.8", 8)}),
    ("abuse100", "45.95.147.236", "suspicious", "AbuseIPDB 100 from 400 reports alone: crowd reports, no corroboration",
     {"abuseipdb": abuse("45.95.147.236", 100, 400)}),
    ("abuse30", "81.2.69.160", "unknown", "AbuseIPDB 30 from 5 reports, residential: weak",
     {"abuseipdb": abuse("81.2.69.160", 30, 5, usage="Fixed Line ISP")}),
    ("abuse10", "81.2.69.142", "unknown", "AbuseIPDB 10 from 2 reports: noise",
     {"abuseipdb": abuse("81.2.69.142", 10, 2, usage="Fixed Line ISP")}),
    ("gnmal", "89.248.165.52", "suspicious", "GreyNoise malicious alone: it attacks someone, corroboration missing",
     {"greynoise": gn("89.248.165.52", noise=True, cls="malicious")}),
    ("gnnoise", "89.248.165.53", "unknown", "GreyNoise noise of unknown intent alone: background scanning",
     {"greynoise": gn("89.248.165.53", noise=True, cls="unknown")}),
    ("tf100", "139.180.203.104", "malicious", "ThreatFox botnet_cc at confidence 100: a reviewed C2 entry",
     {"threatfox": tf("139.180.203.104:443", 100)}),
    ("tf50", "139.180.203.105", "suspicious", "ThreatFox at confidence 50: a lead, not settled",
     {"threatfox": tf("139.180.203.105:443", 50)}),
    ("shodanc2", "91.109.180.99", "suspicious", "Shodan tags a C2 banner and nothing else",
     {"shodan": shodan("91.109.180.99", "Stark", ports=(443,), tags=("c2",), product="Cobalt Strike Beacon")}),
    ("otx1", "77.83.246.10", "unknown", "one OTX pulse from one author: crowd-sourced, weak",
     {"otx": otx("77.83.246.10", pulses=[("IOC dump", "someone")])}),
    ("otx6", "77.83.246.11", "suspicious", "six OTX pulses by four authors: repeated community sightings",
     {"otx": otx("77.83.246.11", pulses=[("C2", "a"), ("C2", "b"), ("Botnet", "c"), ("Botnet", "d"), ("List", "a"), ("List", "b")])}),
]
for key, ip, label, why, answers in singles:
    a = nothing_ip(ip)
    a.update(answers)
    case("single.json", "single-%s" % key, ip, label, why, **a)
case("single.json", "single-misp-ids", "185.100.87.202", "malicious",
     "your own MISP event marks it for IDS: curated intel, trusted",
     **dict(nothing_ip("185.100.87.202"), misp=misp("185.100.87.202")))
case("single.json", "single-misp-context", "185.100.87.203", "suspicious",
     "your MISP has it as context without the IDS flag",
     **dict(nothing_ip("185.100.87.203"), misp=misp("185.100.87.203", to_ids=False)))
for n, (u, why) in enumerate([("http://malware-drop-cdn.net/bin/x86", "URLhaus online malware URL alone: verified by abuse.ch"),
                              ("http://old-drop-files.net/a.exe", "URLhaus offline malware URL alone: it was verified malware")]):
    case("single.json", "single-urlhaus-%d" % n, u, "malicious", why,
         virustotal=vt_nf(), urlhaus=uh_url(u, "online" if n == 0 else "offline"), safebrowsing=sb_none(),
         otx=otx(u, "URL"), threatfox=tf_none(), misp=misp_none())
u = "http://free-gift-cards-claim.org/claim"
case("single.json", "single-sb", u, "malicious", "Safe Browsing match alone: Google's curated list",
     virustotal=vt_nf(), urlhaus=uh_none(), safebrowsing=sb(u), otx=otx(u, "URL"), threatfox=tf_none(), misp=misp_none())
h = sha256("mb-only")
case("single.json", "single-mb", h, "malicious", "MalwareBazaar holds the sample; VirusTotal has never seen it",
     virustotal=vt_nf(), malwarebazaar=mb(h, "Formbook"), urlhaus=uh_none(), threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())
h = sha256("urlhaus-payload")
case("single.json", "single-urlhaus-payload", h, "malicious", "URLhaus saw malware URLs serve this payload",
     virustotal=vt_nf(), malwarebazaar=mb_none(), urlhaus=uh_payload(h), threatfox=tf_none(), otx=otx(h, "FileHash-SHA256"), misp=misp_none())
d = "evil-updates-srv.com"
case("single.json", "single-urlhaus-host", d, "suspicious", "URLhaus lists malware URLs on this host, none online",
     virustotal=vt_dom(d, 0), urlhaus=uh_host(d, online=0, offline=3), safebrowsing=sb_none(), otx=otx(d, "hostname"),
     threatfox=tf_none(), misp=misp_none())

# benign and unknown addresses --------------------------------------------------------------------
for n, ip in enumerate(["81.2.69.200", "90.152.10.5", "62.30.112.9", "77.100.4.12", "151.224.10.8", "86.1.45.3"]):
    ip_case("unknown.json", "residential-quiet-%d" % n, ip, "unknown",
            "home broadband address nobody has reported: evidence of nothing", vtm=0,
            ab=abuse(ip, 0, 0, usage="Fixed Line ISP"))
for n, ip in enumerate(["17.253.144.10", "13.107.42.14", "140.82.112.3", "157.240.1.35"]):
    ip_case("unknown.json", "corp-riot-%d" % n, ip, "benign",
            "big-company service address: GreyNoise RIOT, AbuseIPDB whitelisted, no engine",
            vtm=0, ab=abuse(ip, 0, 0, wl=True), g=gn(ip, riot=True, cls="benign", name="Corporate service"))

# acceptance scenarios of issue 18 (acceptance_test.go; not in the matrix) -----------------
ip = "104.16.132.229"
for n, (m, su) in enumerate([(1, 0), (2, 0), (1, 2), (2, 1)]):
    case("acceptance", "cdn-edge-%dmal-%dsusp-riot" % (m, su), ip, "benign",
         "Cloudflare edge: %d malicious and %d suspicious engines of 94, AbuseIPDB 12 from 41 reports, GreyNoise RIOT" % (m, su),
         virustotal=vt_ip(ip, m, su, owner="CLOUDFLARENET", asn=13335),
         abuseipdb=abuse(ip, 12, 41, usage="Content Delivery Network", isp="Cloudflare, Inc.", domain="cloudflare.com"),
         greynoise=gn(ip, riot=True, cls="benign", name="Cloudflare"), shodan=shodan_nf(), otx=otx(ip), misp=misp_none(),
         threatfox=tf_none())
ip = "167.94.138.35"
case("acceptance", "benign-scanner-abuse100", ip, "benign",
     "Censys scanner: GreyNoise benign, AbuseIPDB 100 from 2,841 reports",
     virustotal=vt_ip(ip, 1, owner="CENSYS-ARIN-01"), abuseipdb=abuse(ip, 100, 2841, users=612, isp="Censys, Inc.", domain="censys.io"),
     greynoise=gn(ip, noise=True, cls="benign", name="Censys"), shodan=shodan_nf(), otx=otx(ip), misp=misp_none(), threatfox=tf_none())
u = "https://raw.githubusercontent.com/evil-user/tools/main/loader.ps1"
case("acceptance", "malware-url-on-code-hosting", u, "malicious",
     "PowerShell loader on raw.githubusercontent.com: URLhaus online, 7 engines",
     virustotal=vt_url(u, 7), urlhaus=uh_url(u, dbl="abused_legit_malware"), safebrowsing=sb_none(), otx=otx(u, "URL"),
     threatfox=tf_none(), misp=misp_none())
d = "raw.githubusercontent.com"
case("acceptance", "code-hosting-domain", d, "unknown",
     "the code-hosting domain itself: URLhaus holds malware URLs on it, 3 engines, OTX pulses",
     virustotal=vt_dom(d, 3, rep=20), urlhaus=uh_host(d, online=3, offline=12, dbl="abused_legit_malware"),
     safebrowsing=sb_none(), otx=otx(d, "hostname", pulses=[("Abused hosting", "a"), ("Malware URLs", "b"), ("Loader", "c")]),
     threatfox=tf_none(), misp=misp_none())
d = "secure-docusign-review.com"
case("acceptance", "phishing-domain-sb-only", d, "malicious",
     "new phishing domain: Safe Browsing SOCIAL_ENGINEERING, unknown to VirusTotal",
     virustotal=vt_nf(), safebrowsing=sb("http://%s/" % d), urlhaus=uh_none(), otx=otx(d, "domain"), threatfox=tf_none(),
     misp=misp_none())
ACCEPT = FILES.pop("acceptance")
with open("acceptance.json", "w") as fh:
    json.dump(ACCEPT, fh, indent=1)
    fh.write("\n")

os.makedirs("cases", exist_ok=True)
total = 0
for f, cs in sorted(FILES.items()):
    with open(os.path.join("cases", f), "w") as fh:
        json.dump(cs, fh, indent=1, sort_keys=False)
        fh.write("\n")
    total += len(cs)
print(total, "cases")
