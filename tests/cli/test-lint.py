#!/usr/bin/env python3
"""`gpupass lint` cases: each directory tests/lint/<case>/ holds the file(s) to lint, `cmd`
(the arguments, run in the case directory; @HOST is that generated fixture root) and
`expect` (syntax in expectlib.py). TAP on stdout.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import glob
import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
gpupass, hosts = os.path.abspath(os.environ["GPUPASS"]), os.environ["HOSTS"]
tap = expectlib.Tap()
ok = tap.ok


for case in sorted(glob.glob(os.path.join(top, "tests/lint/*/"))):
    name = os.path.basename(case.rstrip("/"))
    if not os.path.exists(os.path.join(case, "cmd")):
        continue
    args = []
    for a in shlex.split(open(os.path.join(case, "cmd")).read()):
        args.append(os.path.join(os.path.abspath(hosts), a[1:]) if a.startswith("@") else a)
    p = subprocess.run([gpupass] + args + ["--json"], cwd=case, capture_output=True)
    try:
        findings = json.loads(p.stdout.decode("utf-8", "replace"))["findings"]
    except ValueError as e:
        ok(False, "%s: lint --json is JSON" % name, "%s\n%s" % (e, p.stderr.decode("utf-8", "replace")))
        continue
    for good, desc, detail in expectlib.check(expectlib.parse(os.path.join(case, "expect")), findings, p.returncode):
        ok(good, "%s: %s" % (name, desc), detail)

sys.exit(tap.done())
