#!/usr/bin/env python3
"""`gpupass check --json` on every fixture host against tests/check/<host>*.expect
(written by hand from the host descriptions; syntax in expectlib.py). TAP on stdout.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import glob
import json
import os
import subprocess
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
gpupass, hosts = os.environ["GPUPASS"], os.environ["HOSTS"]
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-check-")


for root in sorted(glob.glob(os.path.join(hosts, "*/"))):
    host = os.path.basename(root.rstrip("/"))
    files = sorted(glob.glob(os.path.join(top, "tests/check", host + ".expect")) +
                   glob.glob(os.path.join(top, "tests/check", host + ".*.expect")))
    ok(os.path.join(top, "tests/check", host + ".expect") in files, "%s has tests/check/%s.expect" % (host, host))
    p = subprocess.run([gpupass, "--root", root, "check", "--json"], capture_output=True, text=True)
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        ok(False, "%s: check --json is JSON" % host, "%s\n%s" % (e, p.stderr))
        continue
    findings = doc["findings"]
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("pass", "info", "warn", "fail")}
    ok(counts == doc["summary"], "%s: summary counts the findings" % host, "%s vs %s" % (counts, doc["summary"]))
    worst = max([("pass", "info", "warn", "fail").index(f["severity"]) for f in findings] or [0])
    ok(p.returncode == [0, 0, 1, 2][worst], "%s: exit status follows the worst severity" % host,
       "rc %d, worst %d" % (p.returncode, worst))
    bad = [f["id"] for f in findings if f["severity"] in ("warn", "fail") and not f["evidence"]]
    ok(not bad, "%s: every warning and failure has evidence" % host, ", ".join(bad))
    for path in files:
        for good, desc, detail in expectlib.check(expectlib.parse(path), findings, p.returncode):
            ok(good, "%s: %s" % (host, desc), detail)
    # -q leaves out exactly the passes; text and JSON agree on the count
    q = subprocess.run([gpupass, "--root", root, "check", "-q", "--json"], capture_output=True, text=True)
    qf = json.loads(q.stdout)["findings"]
    ok(len(qf) == len(findings) - counts["pass"] and q.returncode == p.returncode,
       "%s: -q leaves out the %d passes" % (host, counts["pass"]))
    t = subprocess.run([gpupass, "--root", root, "check"], capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1"))
    checking = sum(1 for l in t.stdout.splitlines() if l.startswith("  Checking "))
    ok(checking == len(findings) and t.returncode == p.returncode,
       "%s: text output has one Checking line per finding" % host, "%d vs %d" % (checking, len(findings)))

    # A snapshot carries everything check reads: the same findings come out of it
    # (only whether a VM runs is lost: processes are not captured).
    snap = os.path.join(tmp, host + ".tar.gz")
    sp = subprocess.run([gpupass, "--root", root, "snapshot", "-o", snap], capture_output=True, text=True)
    if sp.returncode != 0:
        ok(False, "%s: snapshot for the round trip" % host, sp.stderr)
        continue
    s2 = subprocess.run([gpupass, "--root", snap, "check", "--json"], capture_output=True, text=True)
    again = sorted((f["id"], f["severity"], f["layer"]) for f in json.loads(s2.stdout)["findings"])
    first = sorted((f["id"], f["severity"], f["layer"]) for f in findings)
    ok(again == first and s2.returncode == p.returncode, "%s: check on its snapshot gives the same findings" % host,
       "only on the host: %s\nonly in the snapshot: %s" % (sorted(set(first) - set(again)), sorted(set(again) - set(first))))

shutil.rmtree(tmp)
sys.exit(tap.done())
