#!/usr/bin/env python3
"""`gpupass vm`, `vm lint`, `map`, `map lint` and `vm --libvirt` on copies of the fixture
hosts: printed plans and lint output against golden files (tests/guests/<case>.txt), the
VM config after --apply (tests/guests/<case>.after), snapshots and [PENDING] left byte for
byte, a second run that changes nothing, undo back to every byte, refusals that write
nothing, two writers on one config that lose no update.
GPUPASS_TEST_REGENERATE=1 rewrites the golden files. TAP on stdout.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
gpupass, hosts = os.path.abspath(os.environ["GPUPASS"]), os.path.abspath(os.environ["HOSTS"])
regen = os.environ.get("GPUPASS_TEST_REGENERATE") == "1"
golden = os.path.join(top, "tests/guests")
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-guests-")
PVE1 = "etc/pve/nodes/pve1/qemu-server"


def run(root, *args, env=None):
    return rootlib.run(gpupass, root, *args, env=env)


def fresh(host, name, prep=None):
    return rootlib.fresh(hosts, tmp, host, name, prep)


def files(root):
    return rootlib.config_tree(root)


def compare_golden(name, text, suffix=".txt"):
    return rootlib.golden_matches(golden, name, text, suffix, regen)


def sections_after_main(data):
    """Every line from the first [section] header on: what no edit may touch."""
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"["):
            return lines[i:]
    return []


# ---- vm VMID --gpu: plan, apply, again, undo --------------------------------------------
# name, host, vmid, args
VM_CASES = [
    ("vm-101-mapping", "pve8-intel-1gpu", 101, ["--gpu", "01:00.0"]),
    ("vm-101-raw-primary-hugepages", "pve8-intel-1gpu", 101,
     ["--gpu", "01:00.0", "--no-mapping", "--primary", "--hugepages", "1024", "--keep-bios"]),
    ("vm-105-mapping", "pve8-intel-1gpu", 105, ["--gpu", "01:00.0", "--mapping", "rtx4090"]),
    ("vm-400-affinity", "server-dc-gpus", 400, ["--gpu", "81:00.0", "--affinity", "--hugepages", "1024"]),
    ("vm-400-vf", "server-dc-gpus", 400, ["--gpu", "17:00.4"]),
]

for name, host, vmid, args in VM_CASES:
    root = fresh(host, name)
    conf = os.path.realpath(os.path.join(root, "etc/pve/qemu-server/%d.conf" % vmid))
    original = open(conf, "rb").read()
    before = files(root)

    p = run(root, "vm", str(vmid), *args)
    ok(p.returncode == 0 and compare_golden(name, p.stdout), "%s: the plan matches tests/guests/%s.txt (rc %d%s)"
       % (name, name, p.returncode, (": " + p.stderr.strip()) if p.stderr else ""))
    ok(not rootlib.tree_diff(before, files(root)), "%s: the plan alone writes nothing" % name)

    a = run(root, "vm", str(vmid), *args, "--apply")
    after = open(conf, "rb").read()
    ok(a.returncode == 0 and "Applied as transaction" in a.stdout, "%s: --apply (rc %d %s)"
       % (name, a.returncode, a.stderr.strip()))
    ok(compare_golden(name, after.decode(), ".after"), "%s: the config after --apply matches %s.after" % (name, name))
    changed = rootlib.tree_diff(before, files(root))
    ok(changed == [os.path.relpath(conf, root)], "%s: only the VM config changed (%s)" % (name, changed))
    ok(sections_after_main(after) == sections_after_main(original),
       "%s: snapshot and pending sections are byte-identical" % name)
    again = run(root, "vm", str(vmid), *args)
    ok(again.returncode == 0 and again.stdout.startswith("Nothing to do"),
       "%s: a second run has nothing to do (%s)" % (name, again.stdout.splitlines()[:1]))
    u = run(root, "undo")
    ok(u.returncode == 0 and open(conf, "rb").read() == original and not rootlib.tree_diff(before, files(root)),
       "%s: undo puts back every byte (rc %d %s)" % (name, u.returncode, u.stderr.strip()))


# ---- refusals: nothing written ------------------------------------------------------------
def big_config(root):
    p = os.path.join(root, PVE1, "105.conf")
    rootlib.replace_file(p, open(p, "rb").read() + b"#" + b"x" * (2 * 1024 * 1024) + b"\n")


def duplicate_key(root):
    p = os.path.join(root, PVE1, "105.conf")
    rootlib.replace_file(p, open(p, "rb").read() + b"cores: 4\n")


# name, prep, vmid argument, extra args, rc, text expected on stderr
REFUSALS = [
    ("locked", None, "102", [], 2, "VM 102 is locked (backup)"),
    ("running", None, "100", [], 2, "VM 100 is running"),
    ("malformed", None, "104", [], 2, "104.conf:6: keys are lower-case"),
    ("duplicate", duplicate_key, "105", [], 2, "105.conf:12: 'cores' appears twice"),
    ("other-node", None, "300", [], 2, "VM 300 belongs to node pve2"),
    ("missing", None, "1000", [], 3, "VM 1000 does not exist"),
    ("vmid-low", None, "99", [], 3, "'99' is not a VMID"),
    ("vmid-leading-zero", None, "0100", [], 3, "'0100' is not a VMID"),
    ("vmid-huge", None, "1000000000", [], 3, "is not a VMID"),
    ("too-big", big_config, "105", [], 3, "larger than the 1 MiB PVE allows"),
    ("bad-hugepages", None, "105", ["--hugepages", "1G"], 3, "--hugepages takes any, 2 or 1024"),
    ("hugepages-odd-memory", lambda r: rootlib.edit(PVE1 + "/105.conf", "memory: 32768", "memory: 32767")(r),
     "105", ["--hugepages", "2"], 3, "not a multiple of 2 MiB"),
    ("affinity-one-node", None, "105", ["--affinity"], 3, "reports no NUMA node"),
    ("unknown-mapping", None, "105", ["--mapping", "nope"], 3, "--mapping nope"),
    ("not-a-gpu", None, "105", ["--gpu", "00:17.0"], 3, "not a GPU"),
]

for name, prep, vmid, extra, rc, needle in REFUSALS:
    root = fresh("pve8-intel-1gpu", "refuse-" + name, prep)
    before = files(root)
    args = ["vm", vmid] + (extra if "--gpu" in extra else ["--gpu", "01:00.0"] + extra) + ["--apply"]
    p = run(root, *args)
    ok(p.returncode == rc and needle in p.stderr and not rootlib.tree_diff(before, files(root)),
       "refused (%s): rc %d, says %r, writes nothing (rc %d: %s)" % (name, rc, needle, p.returncode,
                                                                       p.stderr.strip()[:300]))


# ---- two writers, one config: PVE's lock serialises them, no update is lost -------------
root = fresh("pve8-intel-1gpu", "two-writers")
conf = os.path.join(root, PVE1, "105.conf")
lockdir = os.path.join(root, "var/lock/qemu-server")
os.makedirs(lockdir, exist_ok=True)
with open(os.path.join(lockdir, "lock-105.conf"), "a") as lk:
    # Held by "PVE" while both writers start: each must wait for it, then for the other.
    fcntl.flock(lk, fcntl.LOCK_EX)
    e = dict(os.environ, NO_COLOR="1")
    procs = [subprocess.Popen([gpupass, "--root", root, "vm", "105", "--gpu", g, "--no-mapping", "--apply"] + x,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
             for g, x in (("01:00.0", []), ("00:02.0", ["--force"]))]
    time.sleep(0.5)
    waiting = all(pr.poll() is None for pr in procs)
    unchanged = b"hostpci" not in open(conf, "rb").read()
    fcntl.flock(lk, fcntl.LOCK_UN)
outs = [pr.communicate(timeout=60) for pr in procs]
data = open(conf).read()
ok(waiting and unchanged, "two writers: both wait while PVE's lock is held, the config untouched")
ok(all(pr.returncode == 0 for pr in procs) and "0000:01:00,pcie=1" in data and "0000:00:02,pcie=1" in data,
   "two writers: both updates are in the config (rc %s; %s)" % ([pr.returncode for pr in procs],
                                                                [o[1].strip()[:200] for o in outs]))
hp = sorted(line.split(":")[0] for line in data.splitlines() if line.startswith("hostpci"))
ok(hp == ["hostpci0", "hostpci1"], "two writers: two distinct hostpci entries (%s)" % hp)


# ---- map NAME --gpu, map lint ----------------------------------------------------------
root = fresh("pve8-intel-1gpu", "map")
cfg = os.path.join(root, "etc/pve/mapping/pci.cfg")
original = open(cfg, "rb").read()
before = files(root)
p = run(root, "map", "ada-pool", "--gpu", "01:00.0")
ok(p.returncode == 0 and compare_golden("map-new", p.stdout), "map: new mapping plan matches map-new.txt")
p = run(root, "map", "old-a4000", "--gpu", "01:00.0")
ok(p.returncode == 0 and compare_golden("map-update", p.stdout), "map: updating this node's entry matches map-update.txt")
a = run(root, "map", "old-a4000", "--gpu", "01:00.0", "--apply")
now = open(cfg, "rb").read().split(b"\n")
ok(a.returncode == 0 and [x for x in now if b"node=pve1" not in x] == [x for x in original.split(b"\n")
                                                                         if b"node=pve1" not in x],
   "map --apply: other nodes' lines are byte-identical (rc %d %s)" % (a.returncode, a.stderr.strip()))
ok(not os.path.exists(os.path.join(root, "etc/pve/priv/lock/file-mapping_pci_cfg")),
   "map --apply: the cluster lock is released")
ok(run(root, "map", "old-a4000", "--gpu", "01:00.0").stdout.startswith("Nothing to do"),
   "map: a second run has nothing to do")
u = run(root, "undo")
ok(u.returncode == 0 and open(cfg, "rb").read() == original and not rootlib.tree_diff(before, files(root)),
   "map: undo puts back every byte")
os.makedirs(os.path.join(root, "etc/pve/priv/lock/file-mapping_pci_cfg"))
t0 = time.monotonic()
p = subprocess.run([gpupass, "--root", root, "map", "x1", "--gpu", "01:00.0", "--apply"], capture_output=True,
                   text=True, env=dict(os.environ, NO_COLOR="1"), timeout=60)
ok(p.returncode == 2 and "holds the cluster lock" in p.stderr and open(cfg, "rb").read() == original,
   "map --apply: refused while another node holds the cluster lock (rc %d, %.1f s)" % (p.returncode,
                                                                                      time.monotonic() - t0))
for args, rc, needle in ((["9bad", "--gpu", "01:00.0"], 3, "mapping name '9bad'"),
                         (["ok-name"], 3, "--gpu ADDRESS")):
    p = run(root, "map", *args)
    ok(p.returncode == rc and needle in p.stderr, "map %s: rc %d, says %r (%s)" % (args, rc, needle, p.stderr.strip()))
lap = fresh("laptop-dgpu-0302", "map-laptop")
p = run(lap, "map", "gpu", "--gpu", "01:00.0")
ok(p.returncode == 3 and "/etc/pve does not exist" in p.stderr, "map on a host without Proxmox: rc 3 (%s)"
   % p.stderr.strip())


# ---- lint output, libvirt XML ---------------------------------------------------------
for name, host, args, rc in (
        ("vm-lint-pve8", "pve8-intel-1gpu", ["vm", "lint"], 2),
        ("vm-lint-101", "pve8-intel-1gpu", ["vm", "lint", "101"], None),
        ("map-lint-pve8", "pve8-intel-1gpu", ["map", "lint"], 2),
        ("libvirt-rtx4090", "pve8-intel-1gpu", ["vm", "--libvirt", "--gpu", "01:00.0"], 0),
        ("libvirt-vf-bus7", "server-dc-gpus", ["vm", "--libvirt", "--gpu", "17:00.4", "--guest-bus", "7"], 0)):
    p = run(os.path.join(hosts, host), *args)
    ok((rc is None or p.returncode == rc) and compare_golden(name, p.stdout),
       "%s: output matches tests/guests/%s.txt (rc %d)" % (" ".join(args), name, p.returncode))

# `gpupass lint FILE` takes a VM config or pci.cfg by its name and judges it against the host
pve8 = os.path.join(hosts, "pve8-intel-1gpu")
for path, want in (("etc/pve/qemu-server/103.conf", {"vm.hugepages-invalid", "vm.bridge-missing",
                                                       "vm.pcie-without-q35", "vm.unknown-key"}),
                   ("etc/pve/mapping/pci.cfg", {"map.entry-invalid", "map.entry-ok"}),
                   ("etc/pve/qemu-server/106.conf", {"rom.legacy-only"})):
    p = run(pve8, "lint", "--json", os.path.join(pve8, path))
    try:
        ids = {f["id"] for f in json.loads(p.stdout)["findings"]}
    except ValueError:
        ids = set()
    ok(p.returncode in (1, 2) and want <= ids, "lint %s: %s (rc %d, got %s)" % (path, sorted(want), p.returncode,
                                                                          sorted(ids)))

shutil.rmtree(tmp)
tap.done()
