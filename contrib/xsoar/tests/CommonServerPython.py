"""A minimal stand-in for the parts of XSOAR's CommonServerPython that
iocane.py uses, with the same names and behaviour: DemistoException,
EntryType, EntryFormat, argToList, tableToMarkdown, return_results and
return_error (which, as XSOAR's does, writes an error entry and exits)."""

import sys

import demistomock as demisto


class DemistoException(Exception):
    pass


class EntryType:
    NOTE = 1
    ERROR = 4


class EntryFormat:
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def argToList(arg, separator=","):
    if not arg:
        return []
    if isinstance(arg, list):
        return arg
    return [s.strip() for s in str(arg).split(separator) if s.strip()]


def tableToMarkdown(name, t, headers=None):
    rows = t if isinstance(t, list) else [t]
    headers = headers or (list(rows[0].keys()) if rows else [])
    out = f"### {name}\n"
    if not rows:
        return out + "**No entries.**\n"
    out += "|" + "|".join(headers) + "|\n|" + "|".join("---" for _ in headers) + "|\n"
    for r in rows:
        out += "|" + "|".join(str(r.get(h, "")) for h in headers) + "|\n"
    return out


def return_results(results):
    if isinstance(results, list):
        for r in results:
            demisto.results(r)
    else:
        demisto.results(results)


def return_error(message, error="", outputs=None):
    demisto.results({"Type": EntryType.ERROR, "ContentsFormat": EntryFormat.TEXT, "Contents": str(message)})
    sys.exit(0)
