// ioc-extractor.mjs runs the npm ioc-extractor package (pinned in
// bench/package.json) the way iocane's benchmark needs it, and prints what
// it finds as JSON lines {"type","value"} with iocane's type names.
//
//   node bench/ioc-extractor.mjs FILE            one run over a whole file
//   node bench/ioc-extractor.mjs --cases FILE    each case of an
//       extract_cases.json on its own; lines also carry "case"
//
// It calls extractIOC(text, {strict: true, refang: true, punycode: false,
// sort: false}): the package's own defaults except sort, which only orders
// each result array. Its values are then put in iocane's canonical form by
// case and spelling only (lower-case domains, e-mail addresses and hashes,
// punycode hosts with the package's own unicodeToASCII, upper-case CVE,
// RFC 5952 IPv6, "AS<n>" ASNs, URL scheme and host lower case and default
// port dropped), so that precision and recall measure what was found, not
// how it was spelled. Types iocane does not have (eths, gaPubIDs,
// gaTrackIDs, macAddresses, ssdeeps, xmrs) are counted on stderr only.
//
// Timing goes to stderr: bytes, seconds and MB/s of the extractIOC call
// alone (reading the file and printing are outside it).
import { readFileSync, writeSync } from 'node:fs';
import { extractIOC, unicodeToASCII } from 'ioc-extractor';

const version = JSON.parse(readFileSync(new URL('node_modules/ioc-extractor/package.json', import.meta.url), 'utf8')).version;
const options = { strict: true, refang: true, punycode: false, sort: false };

const typeOf = {
  ipv4s: 'ipv4', ipv6s: 'ipv6', domains: 'domain', urls: 'url', emails: 'email',
  md5s: 'md5', sha1s: 'sha1', sha256s: 'sha256', sha512s: 'sha512', cves: 'cve', asns: 'asn', btcs: 'btc',
};
const defaultPorts = { http: '80', https: '443', ftp: '21', ws: '80', wss: '443' };

function host(h) {
  h = h.toLowerCase().replace(/\.$/, '');
  try {
    return unicodeToASCII(h);
  } catch {
    return h;
  }
}

function ipv6(v) {
  try {
    return new URL(`http://[${v}]/`).hostname.slice(1, -1);
  } catch {
    return v.toLowerCase();
  }
}

function url(v) {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(v);
  if (!m) return v;
  const scheme = m[1].toLowerCase();
  let auth = m[2];
  let user = '';
  const at = auth.lastIndexOf('@');
  if (at >= 0) {
    user = auth.slice(0, at + 1);
    auth = auth.slice(at + 1);
  }
  let h = auth;
  let port = '';
  const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(auth);
  if (pm) {
    h = pm[1];
    port = pm[2] ?? '';
  }
  h = h.startsWith('[') ? `[${ipv6(h.slice(1, -1))}]` : host(h);
  if (port !== '' && defaultPorts[scheme] !== port) h += `:${port}`;
  return `${scheme}://${user}${h}${m[3]}`;
}

function canonical(type, v) {
  switch (type) {
    case 'domain': return host(v);
    case 'email': {
      const at = v.lastIndexOf('@');
      return (v.slice(0, at + 1) + host(v.slice(at + 1))).toLowerCase();
    }
    case 'ipv6': return ipv6(v);
    case 'url': return url(v);
    case 'cve': return v.toUpperCase();
    case 'asn': return `AS${v.replace(/^asn?/i, '')}`;
    case 'md5': case 'sha1': case 'sha256': case 'sha512': return v.toLowerCase();
    default: return v;
  }
}

const other = {};

// records maps one extractIOC result to deduplicated iocane records.
function records(res, extra) {
  const out = [];
  const seen = new Set();
  for (const [key, values] of Object.entries(res)) {
    const type = typeOf[key];
    if (!type) {
      if (values.length) other[key] = (other[key] ?? 0) + values.length;
      continue;
    }
    for (const v of values) {
      const value = canonical(type, v);
      const k = `${type}\u0000${value}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(JSON.stringify({ ...extra, type, value }));
    }
  }
  return out;
}

function write(lines) {
  if (lines.length) writeSync(1, `${lines.join('\n')}\n`);
}

const args = process.argv.slice(2);
if (args.length === 2 && args[0] === '--cases') {
  const cases = JSON.parse(readFileSync(args[1], 'utf8'));
  let bytes = 0;
  let secs = 0;
  for (const c of cases) {
    const t0 = process.hrtime.bigint();
    const res = extractIOC(c.input, options);
    secs += Number(process.hrtime.bigint() - t0) / 1e9;
    bytes += Buffer.byteLength(c.input);
    write(records(res, { case: c.name }));
  }
  console.error(`ioc-extractor ${version}: ${cases.length} cases, ${bytes} bytes in ${secs.toFixed(3)} s`);
} else if (args.length === 1 && !args[0].startsWith('--')) {
  const text = readFileSync(args[0], 'utf8');
  const bytes = Buffer.byteLength(text);
  const t0 = process.hrtime.bigint();
  const res = extractIOC(text, options);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = records(res, {});
  for (let i = 0; i < lines.length; i += 10000) write(lines.slice(i, i + 10000));
  console.error(`ioc-extractor ${version}: ${args[0]}: ${bytes} bytes, ${lines.length} IOCs, extractIOC ${secs.toFixed(3)} s = ${(bytes / 1e6 / secs).toFixed(2)} MB/s`);
  if (Object.keys(other).length) console.error(`ioc-extractor: not iocane types, not scored: ${JSON.stringify(other)}`);
} else {
  console.error('usage: node bench/ioc-extractor.mjs FILE | --cases extract_cases.json');
  process.exit(2);
}
