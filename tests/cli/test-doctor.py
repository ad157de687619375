#!/usr/bin/env python3
"""`gpupass doctor` on the log corpus of tests/doctor/: each <case>.log is read with
--log against the fixture host its <case>.expect names ("# host: NAME"), and the
findings are held to the expect rules (expectlib syntax). Then: a flood of one line
collapses to one finding with its count, the same boot-framebuffer line gets a different
fix on a 5.4 kernel than on 6.8, bad input (binary, empty, one 1 MB line, stdin) never
crashes, and the log inside a snapshot root is read without --log. TAP on stdout.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
gpupass, hosts = os.path.abspath(os.environ["GPUPASS"]), os.path.abspath(os.environ["HOSTS"])
corpus = os.path.join(top, "tests/doctor")
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-doctor-")


def doctor(root, *args, stdin=None):
    p = subprocess.run([gpupass, "--root", root, "doctor", "--json"] + list(args), capture_output=True,
                       env=dict(os.environ, NO_COLOR="1"), input=stdin)
    try:
        findings = json.loads(p.stdout.decode())["findings"]
    except ValueError:
        findings = None
    return p, findings


def host_of(expect):
    for line in open(expect):
        if line.startswith("# host:"):
            return line.split(":", 1)[1].strip()
    return None


cases = sorted(glob.glob(os.path.join(corpus, "*.expect")))
ok(len(cases) >= 16, "the corpus has a case per failure mode and more (%d cases)" % len(cases))
for expect in cases:
    name = os.path.basename(expect)[:-7]
    host = host_of(expect)
    p, findings = doctor(os.path.join(hosts, host or "missing"), "--log", expect[:-7] + ".log")
    if findings is None:
        ok(False, "%s: doctor ran (rc %d: %s)" % (name, p.returncode, p.stderr.decode().strip()[:300]))
        continue
    for good, text, detail in expectlib.check(expectlib.parse(expect), findings, p.returncode):
        ok(good, "%s: %s" % (name, text), detail)

# A flood: one finding with the count, the first and the last line.
flood = os.path.join(tmp, "flood.log")
with open(flood, "w") as f:
    for i in range(10000):
        f.write("[%12.6f] vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem 0x6000000000-0x67ffffffff 64bit pref]\n"
                % (20 + i * 0.001))
p, findings = doctor(os.path.join(hosts, "pve8-intel-1gpu"), "--log", flood)
hits = [x for x in (findings or []) if x["layer"] == "Kernel log" and x["severity"] != "pass"]
ok(len(hits) == 1 and "10000 lines" in hits[0]["title"] and len(hits[0]["evidence"]) >= 2,
   "10,000 identical lines give one finding with the count (%s)" % [h["title"][:120] for h in hits])

# One finding per failure mode and card: the reset that times out, the D3cold refusal and
# the BARs restored (on the GPU and on its audio function) are one F9 finding.
p, findings = doctor(os.path.join(hosts, "amd-gpu-bus-reset"), "--log", os.path.join(corpus, "f09-reset-bug.log"))
f9 = [x for x in findings or [] if x["layer"] == "Kernel log" and x["subject"].startswith("F9 ")]
ok(len(f9) == 1 and sum(1 for e in f9[0]["evidence"] if e.get("text")) >= 3
   and {"0000:01:00.0", "0000:01:00.1"} <= {e.get("device") for e in f9[0]["evidence"]},
   "reset lines of one card are one F9 finding with every line as evidence (%d findings)" % len(f9))

# The same line, two kernels: the fix follows the host.
old = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", "kernel-5.4",
                    lambda r: rootlib.replace_file(os.path.join(r, "proc/sys/kernel/osrelease"), b"5.4.203-1-pve\n"))
line = os.path.join(tmp, "bar.log")
with open(line, "w") as f:
    f.write("[    5.100000] vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem 0x6000000000-0x67ffffffff 64bit pref]\n")
_, new_f = doctor(os.path.join(hosts, "pve8-intel-1gpu"), "--log", line)
_, old_f = doctor(old, "--log", line)
fix_new = " ".join(x.get("fix") or "" for x in new_f or [] if x["layer"] == "Kernel log")
fix_old = " ".join(x.get("fix") or "" for x in old_f or [] if x["layer"] == "Kernel log")
ok(fix_new and fix_old and fix_new != fix_old, "the same BAR line gets a different fix on 5.4 and on 6.8",
   "6.8: %s\n5.4: %s" % (fix_new, fix_old))

# Bad input: binary, empty, a 1 MB line, standard input, a missing file.
bad = os.path.join(tmp, "bad.log")
with open(bad, "wb") as f:
    f.write(os.urandom(200000) + b"\n" + b"x" * (1024 * 1024) + b"\n[1.0] group 14 is not viable\n")
for args, stdin, rcs, what in ((["--log", bad], None, (0, 1, 2), "binary and a 1 MB line"),
                              (["--log", "/dev/null"], None, (0,), "an empty log"),
                              (["--log", "-"], b"[1.0] group 14 is not viable\n", (0, 1, 2), "standard input"),
                              (["--log", os.path.join(tmp, "nope.log")], None, (3,), "a missing file")):
    p, findings = doctor(os.path.join(hosts, "pve8-intel-1gpu"), *args, stdin=stdin)
    ok(p.returncode in rcs and (findings is not None or p.returncode == 3) and p.returncode < 128,
       "doctor on %s: rc %d (%s)" % (what, p.returncode, p.stderr.decode().strip()[:200]))
p, findings = doctor(os.path.join(hosts, "pve8-intel-1gpu"), "--log", bad)
ok(any(x["id"] == "doctor.skipped" for x in findings or []), "what was skipped is said (binary lines, cut lines)")

# Without --log: the snapshot root's own log.
p, findings = doctor(os.path.join(hosts, "pve8-intel-1gpu"))
ok(p.returncode in (0, 1, 2) and findings is not None and any(x["layer"] == "Kernel log" for x in findings),
   "without --log the root's gpupass/kmsg.txt is read (rc %d)" % p.returncode)

shutil.rmtree(tmp)
sys.exit(tap.done())
