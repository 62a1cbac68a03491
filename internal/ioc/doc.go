// Package ioc defines indicators of compromise (IOCs): their types, how one is
// parsed and normalised, how defanged text is refanged, which values are
// internal or reserved and so must never leave the organisation, and a
// linear-time scanner that extracts IOCs from arbitrary text.
//
// Everything downstream (enrichment, scoring, output) relies on the values
// produced here being canonical: two IOCs are the same indicator exactly when
// they are equal. A missed IOC is a missed threat; a false one burns provider
// quota and analyst time, so where a token is ambiguous the rules below lean
// towards precision and say so.
//
// # Canonical forms
//
//   - domain: lower case, IDN converted to punycode (UTS 46 non-transitional
//     mapping, so "ß" stays distinct), trailing dot removed. Labels are 1-63
//     letters, digits, hyphens (not first or last) or underscores (allowed
//     because real hostnames such as "_dmarc.x.com" carry them, but not in the
//     TLD); the name is at most 253 bytes and has at least two labels.
//   - ipv4: four decimal octets 0-255. Octets with a leading zero
//     ("010.1.1.1") are rejected, not normalised: inet_aton reads them as
//     octal, so the intended host is ambiguous.
//   - ipv6: RFC 5952 (net/netip), zone dropped. Parse returns an IPv4-mapped
//     address ("::ffff:1.2.3.4") as the ipv4 it maps, and Extract does the
//     same; ParseAs(IPv6, ...) keeps it as ipv6 when the caller insists.
//   - url: the scheme and host are canonical (defanged schemes such as hxxp,
//     hXXps, h**p, fxp mapped; lower case; IDN host to punycode; IPv6 host in
//     brackets, RFC 5952), a default port (80, 443, 21, ...) is dropped, and
//     userinfo, path, query and fragment are kept byte for byte. No "/" is
//     added to an empty path. Accepted schemes: http, https, ftp, ftps, sftp,
//     ws, wss and their defanged spellings; the host must be a valid domain,
//     IPv4 or bracketed IPv6 ("http://localhost/" is not an IOC).
//   - email: the whole address is lower-cased. RFC 5321 lets the local part
//     be case-sensitive, but no mail system in practice is, and threat feeds
//     and providers match lower case; lower-casing also deduplicates.
//   - md5, sha1, sha256, sha512: exactly 32, 40, 64 or 128 hex digits, lower
//     case.
//   - cve: "CVE-YYYY-NNNN" upper case, year from 1999, 4-7 digit number.
//   - asn: "AS13335", from "AS13335", "ASN13335" or "ASN 13335" (Parse also
//     accepts lower case; Extract only upper case, so the English word "as"
//     is never an ASN). 0 and values above 2^32-1 are rejected.
//   - btc: legacy and P2SH base58check addresses and bech32/bech32m segwit
//     addresses, checksums verified, kept as written.
//
// # Which dotted words are domains
//
// The last label must be an ICANN top-level domain according to the public
// suffix list (golang.org/x/net/publicsuffix), so "report.pdf", "setup.exe",
// "config.json", "main.go" and "document.getElementById" are not domains. The
// non-delegated names used inside organisations (.local .internal .lan .corp
// .intranet .localdomain .home .private) and the RFC 2606/6761 names (.test
// .example .invalid .localhost) are also accepted, so that they are extracted
// and then classified internal.
//
// Some TLDs are also file extensions or end code and SIEM field names: .zip
// .mov .py .sh .rs .pl .pm .md .ps .cc .so .ai .in .app .one .name .email .id
// .host .run and others (see extTLDs). In free text, Extract reports a bare
// two-label name with such a TLD ("archive.zip", "script.py", "self.name"),
// or with one of the internal pseudo-TLDs ("settings.local"), or of the form
// "<code receiver>.<word TLD>" ("user.email", "host.name", "log.info"), only
// with evidence that it is a host: it was defanged ("evil[.]zip"), it sits in
// a URL or an e-mail address, or it has three or more labels
// ("download.evil.zip"). Parse and ParseAs take the caller's word and accept
// it.
//
// An IPv4 address must be a whole run of digits and dots: "999.12.1.1",
// "10.0.0.1.5", OIDs ("1.3.6.1.4.1"), versions ("v2.1.0.4") and dates
// ("2018.12.15.14.05.43") are not addresses. A hash must be a whole hex run
// delimited by non-alphanumerics or by '.', '-', '_' ("<sha256>.exe" yields
// the hash; a 70-digit hex run yields nothing). An IPv6 candidate needs two
// colons and a digit, so "a::b", "std::vector", times and MAC addresses are
// not addresses.
//
// # Refanging
//
// Refang and the scanner undo "[.] (.) {.} [dot] (dot) {dot} \." (any case;
// " [.] " and " [dot] " with their spaces), "[:] [://] [/] \/", "[@] (@) {@}
// [at] (at) {at}", fullwidth "．＠：／", and the schemes "hxxp hXXp hxxps
// h**p fxp" and similar before "://". The words " at " and " dot " are read
// only inside an e-mail address, and only when the domain uses at least one
// " dot " word and the result is a valid address ("john at evil dot com");
// "meet at example.com" stays prose.
//
// Around URLs the scanner drops trailing ". , ; : ! ? ' *", stops at quotes
// (straight, typographic and guillemets), angle brackets, '|', '\', '{',
// white space and invalid UTF-8, stops at a closing ')' or ']' that has no
// partner inside the URL (so "(see http://x.com/a)" and markdown
// "[t](http://x.com/a)" lose the bracket while ".../Emotet_(malware)" keeps
// it), and, when the URL follows a single quote, stops at the next one. A
// URL nested in another's query string is part of the outer URL.
//
// # Extraction
//
// Extract makes one pass to refang the context-free forms into a copy (only
// when the input holds one; an edit list maps every position back to the
// input for Match.Offset and Match.Raw) and one pass over the result with a
// byte-class table. It looks at runs of host-name bytes and at what follows
// them ("://", '@', ':', " at "), so every byte is visited a bounded number
// of times: failed URL attempts cost only their authority, IPv6 candidates
// at most 45 bytes, local parts at most 64. There is no regular expression
// and no rescan of the input per match. Candidates longer than MaxToken are
// skipped. ExtractReader feeds Extract chunks of about 1 MiB cut at safe
// places (see ExtractReader) and so needs bounded memory for any input,
// including a 200 MB line.
//
// The host of every URL and e-mail address is emitted right after it, as a
// domain, ipv4 or ipv6. Extract does not deduplicate; Seen (or Set, its
// lock-free twin for one goroutine) does, per run, exactly: an open-addressing
// table over a byte arena, so that a run of a million values costs one probe
// per value and leaves nothing for the garbage collector to scan. Internal
// and reserved values are extracted like any other; Classifier says which
// must not leave the organisation.
//
// Each value is allocated once: parsers that keep no part of their input read
// the scan buffer in place (view), and URL, e-mail and hash values are built
// in one step (figures in BENCHMARKS.md).
//
// # Classification
//
// Classifier.Internal follows the IANA IPv4 and IPv6 special-purpose address
// registries: private (RFC 1918, ULA fc00::/7, local-use NAT64), loopback,
// link-local, cgnat (100.64/10), multicast, documentation (192.0.2/24,
// 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20), benchmarking
// (198.18/15), this-network (0/8), broadcast, reserved (240/4, anything
// outside 2000::/3), unspecified, discard and the IETF protocol blocks, minus
// the entries IANA marks globally reachable (192.0.0.9, 192.0.0.10,
// 2001:3::/32, AS112, ORCHIDv2). IPv4-mapped, well-known NAT64 (64:ff9b::/96)
// and 6to4 (2002::/16) addresses are judged by the IPv4 address they embed:
// NAT64 of a public address is public. Names under the internal pseudo-TLDs
// and home.arpa are "internal domain", RFC 2606/6761 names and example.com,
// .net, .org are "reserved domain", names under a configured suffix are
// "internal suffix". URLs and e-mail addresses are internal when their host
// is; private, documentation and reserved AS numbers are internal too.
package ioc
