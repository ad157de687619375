#!/bin/sh
# test-lspci.sh OUTDIR: check the generated fixture roots with the real lspci.
# For every host: every PCI function of the description must appear in
# `lspci -A linux-sysfs -O sysfs.path=OUTDIR/<host>/sys/bus/pci -nnk` with the right
# [vendor:device], class and "Kernel driver in use".  Then a few `-vvv` checks that the
# binary config spaces decode (Express type, LnkSta, Resizable BAR, SR-IOV, ACS, DSN).
# Output is TAP; exit status 1 when anything failed.
set -u
OUT=${1:?usage: test-lspci.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
if ! command -v lspci >/dev/null 2>&1; then
    echo "1..1"
    echo "ok 1 - lspci checks # SKIP lspci missing"
    exit 0
fi
exec "$PY" - "$OUT" "$HERE" <<'PYEOF'
import os, re, subprocess, sys
out, here = sys.argv[1], sys.argv[2]
n = 0
failed = 0

def tap(ok, text):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, text))

def lspci(host, *args):
    r = subprocess.run(["lspci", "-A", "linux-sysfs", "-O",
                        "sysfs.path=%s/%s/sys/bus/pci" % (out, host)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.stdout

hosts = sorted(f[:-5] for f in os.listdir(here) if f.endswith(".host"))
man = subprocess.run([sys.executable, os.path.join(here, "mkhost.py"), "--manifest"] + hosts,
                     stdout=subprocess.PIPE, text=True, check=True).stdout
want = {}
for line in man.splitlines():
    host, bdf, ids, cls, drv, _ = line.split()
    want.setdefault(host, []).append((bdf, ids, cls, drv))

head = re.compile(r"^(?:([0-9a-f]{4}):)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) .*?\[([0-9a-f]{4})\]: "
                  r".*\[([0-9a-f]{4}:[0-9a-f]{4})\]")
for host in hosts:
    if not os.path.isdir(os.path.join(out, host)):
        tap(False, "%s: generated root missing" % host)
        continue
    got = {}
    cur = None
    for l in lspci(host, "-nnk", "-D").splitlines():
        m = head.match(l)
        if m:
            cur = "%s:%s" % (m.group(1) or "0000", m.group(2))
            got[cur] = [m.group(4), m.group(3), "-"]
        elif cur and l.strip().startswith("Kernel driver in use:"):
            got[cur][2] = l.split(":", 1)[1].strip()
        # "Kernel modules:" comes from the live machine's libkmod: ignored
    errs = []
    for bdf, ids, cls, drv in want[host]:
        g = got.get(bdf)
        if g is None:
            errs.append("%s missing" % bdf)
        elif g != [ids, cls[:4], drv]:
            errs.append("%s: got %s want %s" % (bdf, g, [ids, cls[:4], drv]))
    extra = set(got) - set(b for b, *_ in want[host])
    if extra:
        errs.append("unexpected %s" % sorted(extra)[:3])
    tap(not errs, "%s: %d functions, ids/class/driver match lspci -nnk%s" %
        (host, len(want[host]), ("  # " + "; ".join(errs[:4])) if errs else ""))

def vvv(host, bdf, needles):
    txt = lspci(host, "-vvv", "-s", bdf)
    for nd in needles:
        tap(nd in txt, "%s %s: lspci -vvv shows %r" % (host, bdf, nd))

vvv("pve8-intel-1gpu", "01:00.0", ["Express (v2) Endpoint", "LnkSta:\tSpeed 16GT/s",
                                    "Width x16", "FLReset+", "Physical Resizable BAR",
                                    "BAR 1: current size: 32GB", "Device Serial Number",
                                    "MSI-X: Enable- Count=9", "Power Management version 3",
                                    "Advanced Error Reporting"])
vvv("pve8-intel-1gpu", "00:01.0", ["Express (v2) Root Port (Slot+)",
                                    "Bus: primary=00, secondary=01, subordinate=01"])
vvv("pve8-intel-1gpu", "00:02.0", ["Express (v2) Root Complex Integrated Endpoint"])
vvv("amd-gpu-bus-reset", "01:00.0", ["FLReset-"])
vvv("server-dc-gpus", "17:00.0", ["Single Root I/O Virtualization (SR-IOV)",
                                   "Total VFs: 32, Number of VFs: 4",
                                   "VF offset: 4, stride: 1, Device ID: 26b9"])
vvv("server-dc-gpus", "16:02.0", ["Access Control Services", "SrcValid+"])
vvv("large-8gpu", "03:00.0", ["Express (v2) Downstream Port", "Access Control Services"])
vvv("large-8gpu", "02:00.0", ["Express (v2) Upstream Port"])
vvv("large-8gpu", "06:00.0", ["Total VFs: 64, Number of VFs: 48"])
vvv("laptop-dgpu-0302", "01:00.0", ["3D controller", "LnkSta:\tSpeed 2.5GT/s"])
print("1..%d" % n)
sys.exit(1 if failed else 0)
PYEOF
