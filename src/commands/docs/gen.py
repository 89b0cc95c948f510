#!/usr/bin/env python3
"""Generates redis-7.0.txt, the part of COMMAND DOCS the command table does not hold (doc flags, deprecation,
history, argument trees), from Redis 7.0's command files, as Redis's utils/generate-command-code.py reads them.

    python3 src/commands/docs/gen.py /path/to/redis-7.0.15/src/commands > src/commands/docs/redis-7.0.txt

Format, one record a line, fields separated by tabs (no field holds a tab; a newline is written as \\n):
    =<full name>                      starts a command (`get`, `client|kill`)
    complexity <text>                 Redis's complexity text (COMMAND DOCS prefers it to the row's)
    tips <tip> ...                    COMMAND INFO's tips, lower case
    doc_flags <flag> ...              deprecated, syscmd
    deprecated_since <version>
    replaced_by <text>
    history <version> <text>          one line per entry, in order
    arg <depth> <name> <type> <key_spec_index or empty> <token> <summary> <since> <deprecated_since> <flags>
                                      flags: letters o (optional), m (multiple), t (multiple_token); an argument
                                      of depth d+1 right after one of depth d is its sub-argument
"""
import json
import os
import sys


def clean(v):
    v = "" if v is None else str(v)
    assert "\t" not in v
    return v.replace("\n", "\\n")


def args(out, items, depth):
    for a in items:
        flags = ""
        if a.get("optional"):
            flags += "o"
        if a.get("multiple"):
            flags += "m"
        if a.get("multiple_token"):
            flags += "t"
        token = a.get("token") or ""
        ksi = a.get("key_spec_index")
        out.append("\t".join(clean(x) for x in [
            "arg", depth, a["name"].lower(), a["type"], "" if ksi is None else ksi, token.upper(),
            a.get("summary") or "", a.get("since") or "", a.get("deprecated_since") or "", flags]))
        if a["type"] in ("oneof", "block"):
            args(out, a.get("arguments", []), depth + 1)


def main(folder):
    out = []
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".json"):
            continue
        with open(os.path.join(folder, f)) as fh:
            for name, d in json.load(fh).items():
                full = name.lower()
                if d.get("container"):
                    full = d["container"].lower() + "|" + full
                out.append("=" + full)
                if d.get("command_tips"):
                    out.append("\t".join(["tips"] + [t.lower() for t in d["command_tips"]]))
                if d.get("complexity"):
                    out.append("complexity\t" + clean(d["complexity"]))
                if d.get("doc_flags"):
                    out.append("\t".join(["doc_flags"] + [x.lower() for x in d["doc_flags"]]))
                for field in ("deprecated_since", "replaced_by"):
                    if d.get(field):
                        out.append(field + "\t" + clean(d[field]))
                for version, text in d.get("history") or []:
                    out.append("\t".join(["history", clean(version), clean(text)]))
                args(out, d.get("arguments") or [], 0)
    print("\n".join(out))


main(sys.argv[1])
