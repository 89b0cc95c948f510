#!/usr/bin/env python3
"""Reads the Tcl suite's output into per-test results and applies the CI rule.

Subcommands:
  parse UNIT LOG                 prints one `unit<TAB>status<TAB>name<TAB>message` line per test in LOG
                                 (status: ok, err, skip, timeout, missing), then nothing else.
  summary RESULTS                one line per unit (passed/failed/skipped/timed out) and a total.
  baseline RESULTS [OLD]         prints baseline.txt: the `unit<TAB>name` of every test that passed in RESULTS
                                 (several runs may be concatenated: passing once is enough), plus OLD's lines
                                 of units RESULTS does not cover.
  check RESULTS BASELINE EXPECTED
                                 every test the baseline passes must pass in RESULTS unless EXPECTED lists it;
                                 exit 1 on an unlisted failure. Listed tests that now pass are reported only.
  write-expected RESULTS BASELINE EXPECTED
                                 rewrites EXPECTED from RESULTS, keeping the reasons already written and lines of
                                 units this run did not cover.
  hangs EXPECTED UNIT             the names of UNIT's tests EXPECTED lists with a reason starting `hangs`
                                 (run.sh skips them, so one hang does not cost the rest of the unit).
  selftest                       checks this script on a made-up log.

A test name may occur several times in a unit (loops over encodings name some tests alike): such a test passes
only when every occurrence passed.
"""

import re
import sys
from collections import OrderedDict, defaultdict

ANSI = re.compile(r"\x1b\[[0-9;]*m")
OK = re.compile(r"^\[ok\]: (.*) \(\d+ ms\)$")
ERR = re.compile(r"^\[err\]: (.*) in tests/\S+\.tcl$")
SKIP = re.compile(r"^\[(skip|ignore)\]: (.*)$")
EXCEPTION = re.compile(r"^\[exception\]: (.*)$")
TIMEOUT = re.compile(r"^\[TIMEOUT\]:")
IN_PROGRESS = re.compile(r" => \(IN PROGRESS\) (.*)$")


def timeout_of(lines):
    """The --timeout the run was given, from run.sh's note at the top of the log."""
    for line in lines[:3]:
        if m := re.match(r"^# test timeout (\d+)", line):
            return m.group(1)
    return "?"


def parse(path):
    """Yields (status, name, message) for each test reported in one unit's log; a failure's message is the
    error line after its `[err]` line."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [ANSI.sub("", line.rstrip("\n")) for line in f]
    for i, line in enumerate(lines):
        if m := OK.match(line):
            yield "ok", m.group(1), ""
        elif line.startswith("[err]: "):
            after = [x.strip() for x in lines[i + 1:i + 4]] + ["", "", ""]
            if m := ERR.match(line):
                # A failed assertion's message follows; an error (with --durable) comes with its first 10
                # characters cut, then whole, then its Tcl stack.
                yield "err", m.group(1), after[1] if after[2] == "while executing" else after[0]
            else:
                # An error between tests (a unit's setup code), printed whole after its cut form: the rest of
                # the unit does not run.
                yield "exception", "(unit aborted)", after[0]
        elif m := SKIP.match(line):
            yield "skip", m.group(2), ""
        elif m := EXCEPTION.match(line):
            yield "exception", "(unit aborted)", m.group(1)
        elif TIMEOUT.match(line):
            # The suite then names what each client was doing: the test that hangs.
            hung = [m.group(1) for x in lines[i + 1:i + 4] if (m := IN_PROGRESS.search(x))]
            yield "timeout", hung[0] if hung else "(unit timed out)", f"hangs: no progress for {timeout_of(lines)} s"


def cmd_parse(unit, path):
    for status, name, message in parse(path):
        message = message.replace("\t", " ")[:300]
        print(f"{unit}\t{status}\t{name}\t{message}")


def read_results(path):
    """Returns {unit: OrderedDict(name -> (status, message))}, an error in any occurrence winning."""
    units = OrderedDict()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            unit, status, name = parts[0], parts[1], parts[2]
            message = parts[3] if len(parts) > 3 else ""
            tests = units.setdefault(unit, OrderedDict())
            if name not in tests or tests[name][0] in ("ok", "skip"):
                tests[name] = (status, message)
    return units


def read_pairs(path):
    """Reads `unit<TAB>name[<TAB>reason]` lines, skipping comments; returns {(unit, name): reason}."""
    out = OrderedDict()
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) >= 2:
                    out[(parts[0], parts[1])] = parts[2] if len(parts) > 2 else ""
    except FileNotFoundError:
        pass
    return out


def counts(tests):
    c = defaultdict(int)
    for status, _ in tests.values():
        c[status] += 1
    return c


def cmd_summary(path):
    units = read_results(path)
    total = defaultdict(int)
    for unit, tests in units.items():
        c = counts(tests)
        failed = c["err"] + c["exception"]
        timed_out = c["timeout"]
        print(f"{unit:28} passed {c['ok']:4}  failed {failed:4}  skipped {c['skip']:4}  timed out {timed_out}")
        for k in ("ok", "skip", "timeout"):
            total[k] += c[k]
        total["failed"] += failed
    print(f"{'TOTAL':28} passed {total['ok']:4}  failed {total['failed']:4}  skipped {total['skip']:4}"
          f"  timed out {total['timeout']}")


MODES = {"external": "external mode (run.sh's flags)", "normal": "normal mode (run-normal.sh's flags)",
         "tls": "normal mode over TLS (run-normal.sh --tls)"}
# Per mode: the expected-failures list, the command refreshing the baseline, the one rewriting the list.
LISTS = {"external": ("expected-failures.txt", "baseline.sh", "run.sh"),
         "normal": ("normal-expected-failures.txt", "run-normal.sh --server redis --write-baseline",
                    "run-normal.sh --ci"),
         "tls": ("tls-expected-failures.txt", "run-normal.sh --tls --server redis --ci --write-baseline",
                 "run-normal.sh --tls --ci")}


def cmd_baseline(path, old_path=None, mode="external"):
    passed = OrderedDict()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[1] == "ok":
                passed[(parts[0], parts[2])] = True
    covered = {unit for unit, _ in read_results(path).items()}
    keep = [k for k in read_pairs(old_path) if k[0] not in covered] if old_path else []
    expected, refresh, _ = LISTS[mode]
    print(f"# Tests redis-server 7.0.15 passes in {MODES[mode]}. unit<TAB>test name.\n"
          f"# Refreshed by tests/redis-suite/{refresh}; CI requires ferredis to pass each one unless\n"
          f"# {expected} lists it.")
    for unit, name in sorted(keep + list(passed), key=lambda k: k[0]):
        print(f"{unit}\t{name}")


def stop_reason(tests):
    """Why a unit ended before some of its tests: its abort message, a timeout, or nothing known."""
    for name, (status, message) in tests.items():
        if status == "exception":
            return "the unit aborted: " + message
        if status == "timeout":
            return "the unit timed out" + ("" if name.startswith("(") else f" in '{name}'")
    return "the unit ended early"


def failures(results, baseline):
    """The baseline's passing tests of the units in `results` that did not pass there, with a message."""
    out = OrderedDict()
    for (unit, name) in baseline:
        if unit not in results:
            continue
        status, message = results[unit].get(name, ("missing", "not reached: " + stop_reason(results[unit])))
        if status != "ok":
            out[(unit, name)] = message or status
    return out


def cmd_check(results_path, baseline_path, expected_path):
    results = read_results(results_path)
    baseline = read_pairs(baseline_path)
    expected = read_pairs(expected_path)
    failed = failures(results, baseline)
    unexpected = [k for k in failed if k not in expected]
    fixed = [k for k in expected if k[0] in results and k in baseline and k not in failed]
    per_unit = defaultdict(lambda: [0, 0])
    for k in failed:
        per_unit[k[0]][0 if k in expected else 1] += 1
    for unit in results:
        e, u = per_unit[unit]
        print(f"{unit:28} expected failures {e:4}  unexpected failures {u:4}")
    if fixed:
        print(f"\nNOTE: {len(fixed)} test(s) listed in expected-failures.txt now pass; shrink the list with"
              " `tests/redis-suite/run.sh --write-expected`:")
        for unit, name in fixed:
            print(f"  {unit}\t{name}")
    if unexpected:
        print(f"\nFAIL: {len(unexpected)} test(s) that redis-server 7.0.15 passes failed"
              " and are not in expected-failures.txt:")
        for k in unexpected:
            print(f"  {k[0]}\t{k[1]}\t{failed[k]}")
        return 1
    print(f"\nOK: every test redis-server passes passed, apart from {len(failed)} listed expected failures")
    return 0


UNKNOWN = re.compile(r"unknown (?:sub)?command '([^']+)'", re.I)

# Command families not built yet, by the command an error names: the reason a test is expected to fail.
FAMILIES = [
    (("eval", "evalsha", "evalsha_ro", "eval_ro", "script", "function", "fcall", "fcall_ro"),
     "scripting (EVAL/FUNCTION) is not built yet"),
    (("setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"), "bitmaps are not built yet"),
    (("geoadd", "geodist", "geohash", "geopos", "georadius", "georadiusbymember", "geosearch",
      "geosearchstore", "georadius_ro", "georadiusbymember_ro"), "GEO is not built yet"),
    (("pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"), "HyperLogLog is not built yet"),
    (("debug",), "DEBUG is not built yet"),
    (("sort", "sort_ro"), "SORT is not built yet"),
    (("dump", "restore", "migrate", "restore-asking"), "DUMP/RESTORE are not built yet"),
    (("acl",), "ACL is not built yet"),
    (("memory",), "MEMORY is not built yet"),
    (("latency",), "LATENCY is not built yet"),
    (("slowlog",), "SLOWLOG is not built yet"),
    (("wait",), "WAIT (replication) is not built yet"),
    (("bgsave", "save", "bgrewriteaof", "lastsave"), "persistence is not built yet"),
]


def reason_for(message):
    """A first guess at why a test fails, from its error; a human refines it in the file."""
    if message.startswith("hangs"):
        return message
    later = " (the unit stops before this test)" if message.startswith("not reached") else ""
    if m := UNKNOWN.search(message):
        name = m.group(1).lower()
        for names, reason in FAMILIES:
            if name in names:
                return reason + later
        return f"{name.upper()} is not built yet" + later
    return "TODO: " + (message[:120] if message else "fails")


def cmd_write_expected(results_path, baseline_path, expected_path, mode="external"):
    results = read_results(results_path)
    baseline = read_pairs(baseline_path)
    old = read_pairs(expected_path)
    failed = failures(results, baseline)
    keep = OrderedDict((k, r) for k, r in old.items() if k[0] not in results)
    for k, message in failed.items():
        # A reason written by hand stays; guesses ("TODO: ...") give way to what this run says, and a hang
        # always shows (run.sh skips tests whose reason starts with "hangs").
        guess = reason_for(message)
        written = old.get(k, "")
        keep[k] = written if written and not written.startswith("TODO") and not guess.startswith("hangs") else guess
    with open(expected_path, "w", encoding="utf-8") as f:
        script = LISTS[mode][2]
        f.write(f"# Tests of Redis 7.0.15's suite ({mode} mode) that redis-server passes and ferredis does not yet.\n"
                "# unit<TAB>test name<TAB>reason. CI fails on any other failure. Regenerate with\n"
                f"# `tests/redis-suite/{script} --write-expected` (reasons already written are kept).\n")
        for (unit, name), reason in sorted(keep.items(), key=lambda kv: kv[0][0]):
            f.write(f"{unit}\t{name}\t{reason}\n")
    print(f"wrote {len(keep)} expected failures to {expected_path} (was {len(old)})")
    return 0


SAMPLE_LOG = """Cleanup: may take some time... OK
[ready]: 123
\x1b[1;37;49mTesting unit/x\x1b[0m
[\x1b[0;32;49mok\x1b[0m]: A passes (0 ms)
[err]: B fails in tests/unit/x.tcl
n command 'debug', with args beginning with: 'object'
ERR unknown command 'debug', with args beginning with: 'object'
    while executing
[ok]: C twice (1 ms)
[err]: C twice in tests/unit/x.tcl
Expected '1' to equal '2'
[skip]: D: Not supported on external server
[ok]: E in tests/unit/x.tcl passes (3 ms)
[TIMEOUT]: clients state report follows.
sock55d0 => (IN PROGRESS) G hangs
"""


def cmd_selftest():
    """Checks the parser and the CI rule on a made-up log; exits 1 on the first wrong answer."""
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        log, res, base, exp = (os.path.join(d, n) for n in ("log", "res", "base", "exp"))
        with open(log, "w") as f:
            f.write(SAMPLE_LOG)
        got = list(parse(log))
        want = [("ok", "A passes", ""),
                ("err", "B fails", "ERR unknown command 'debug', with args beginning with: 'object'"),
                ("ok", "C twice", ""), ("err", "C twice", "Expected '1' to equal '2'"),
                ("skip", "D: Not supported on external server", ""), ("ok", "E in tests/unit/x.tcl passes", ""),
                ("timeout", "G hangs", "hangs: no progress for ? s")]
        assert got == want, got
        with open(res, "w") as f:
            f.writelines(f"unit/x\t{st}\t{n}\t{m}\n" for st, n, m in got)
        with open(base, "w") as f:
            f.write("# comment\nunit/x\tA passes\nunit/x\tB fails\nunit/x\tC twice\nunit/x\tF gone\n"
                    "unit/x\tG hangs\nunit/y\tother unit\n")
        results = read_results(res)
        assert results["unit/x"]["C twice"][0] == "err", "an error in any occurrence wins"
        failed = failures(results, read_pairs(base))
        assert list(failed) == [("unit/x", "B fails"), ("unit/x", "C twice"), ("unit/x", "F gone"),
                                ("unit/x", "G hangs")], failed
        assert reason_for(failed[("unit/x", "B fails")]) == "DEBUG is not built yet"
        with open(exp, "w") as f:
            f.write("unit/x\tB fails\tmy reason\nunit/x\tA passes\tfixed since\nunit/z\tkept\tr\n")
        sink = open(os.devnull, "w")
        stdout, sys.stdout = sys.stdout, sink
        try:
            assert cmd_check(res, base, exp) == 1, "unlisted failures must fail"
            cmd_write_expected(res, base, exp)
            assert cmd_check(res, base, exp) == 0, "after --write-expected the run passes"
        finally:
            sys.stdout = stdout
            sink.close()
        written = read_pairs(exp)
        assert written[("unit/x", "B fails")] == "my reason", "reasons are kept"
        assert ("unit/x", "A passes") not in written, "fixed tests leave the list"
        assert written[("unit/z", "kept")] == "r", "units not run are kept"
        assert written[("unit/x", "F gone")] == "TODO: not reached: the unit timed out in 'G hangs'", written
        assert written[("unit/x", "G hangs")] == "hangs: no progress for ? s", written
    print("results.py selftest: ok")
    return 0


def cmd_hangs(expected_path, unit):
    """The tests of `unit` that expected-failures.txt says hang: run.sh skips them (--skipfile) so the rest of
    the unit still runs."""
    for (u, name), reason in read_pairs(expected_path).items():
        if u == unit and reason.startswith("hangs"):
            print(name)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "parse" and len(args) == 2:
        cmd_parse(*args)
        return 0
    if cmd == "summary" and len(args) == 1:
        cmd_summary(*args)
        return 0
    if cmd == "baseline" and len(args) in (1, 2, 3):
        cmd_baseline(*args)
        return 0
    if cmd == "check" and len(args) == 3:
        return cmd_check(*args)
    if cmd == "write-expected" and len(args) in (3, 4):
        return cmd_write_expected(*args)
    if cmd == "hangs" and len(args) == 2:
        return cmd_hangs(*args)
    if cmd == "selftest":
        return cmd_selftest()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
