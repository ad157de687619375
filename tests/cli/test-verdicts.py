#!/usr/bin/env python3
"""Verdicts, groups and host-critical devices of `gpupass list --json` on every
fixture host, against tests/hosts/expect.json (written by hand from the host
descriptions, not from gpupass output). TAP on stdout.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import json
import os
import subprocess
import sys

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
expect = json.load(open(os.path.join(top, "tests/hosts/expect.json")))
gpupass, hosts = os.environ["GPUPASS"], os.environ["HOSTS"]
n = 0
failed = False


def ok(cond, text, detail=""):
    global n, failed
    n += 1
    print(f"{'ok' if cond else 'not ok'} {n} - {text}")
    if not cond:
        failed = True
        for line in str(detail).splitlines():
            print(f"# {line}")


for host, want in expect.items():
    if host.startswith("_"):
        continue
    r = subprocess.run([gpupass, "--root", os.path.join(hosts, host), "list", "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        ok(False, f"{host}: list --json exits 0", r.stderr)
        continue
    got = json.loads(r.stdout)
    ok(len(got["devices"]) == want["pci_functions"], f"{host}: {want['pci_functions']} PCI functions",
       len(got["devices"]))
    ok(got["iommu"]["groups"] == want["iommu_groups"] and got["iommu"]["enabled"] == (want["iommu_groups"] > 0),
       f"{host}: {want['iommu_groups']} IOMMU groups", got["iommu"])
    gpus = {g["address"]: g for g in got["gpus"]}
    ok(sorted(gpus) == sorted(want["gpus"]), f"{host}: GPU addresses", f"got {sorted(gpus)}\nwant {sorted(want['gpus'])}")
    crit_want = sorted(set(want["critical"]["storage"]) | set(want["critical"]["nic"]))
    crit_got = sorted(d["address"] for d in got["devices"] if d["host_critical"])
    ok(crit_got == crit_want, f"{host}: host-critical devices", f"got {crit_got}\nwant {crit_want}")
    for addr, w in want["gpus"].items():
        g = gpus.get(addr)
        if not g:
            continue
        ok(g["verdict"] == w["verdict"], f"{host} {addr}: verdict {w['verdict']}", g["verdict"])
        ok(sorted(g["shared_with"]) == sorted(w["shared_with"]), f"{host} {addr}: shared_with",
           f"got {g['shared_with']}\nwant {w['shared_with']}")
        members = {m["address"] for m in g["group_members"]}
        ok(sorted(g["host_critical"]) == sorted(members & set(crit_want)), f"{host} {addr}: host_critical in its group",
           g["host_critical"])
        ok(all(f.startswith(addr[:-1]) for f in g["functions"]) and addr in g["functions"],
           f"{host} {addr}: functions are its slot", g["functions"])

print(f"1..{n}")
sys.exit(1 if failed else 0)
