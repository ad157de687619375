#!/usr/bin/env python3
"""`gpupass sriov` on fixture roots: the state of a PF (VFs, groups, vGPU types through nvidia/
and mdev), the plans that make N VFs at every boot (a udev rule; NVIDIA's sriov-manage; none when
Proxmox's pve-nvidia-sriov@ unit is there), what --apply does now (sysfs writes, 0 first when
another count is enabled; sriov-manage through the recording runner), and the refusals. TAP.
Env: GPUPASS (binary), HOSTS (fixture roots)."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
hosts = os.path.abspath(os.environ["HOSTS"])
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-sriov-")
DC = "server-dc-gpus"
DEV = "sys/bus/pci/devices/"


def sriov(root, *args, env=None):
    return rootlib.run(gpupass, root, "sriov", *args, env=env)


def recorder(name):
    rec = os.path.join(tmp, name + ".cmds")
    return rec, {"GPUPASS_TEST_RUNNER": "record:" + rec}


def recorded(rec):
    return open(rec).read().splitlines() if os.path.exists(rec) else []


def own_numvfs(root, dev, value=None):
    """sys is hard-linked to the fixture (rootlib.copy_root) and gpupass writes sysfs
    attributes in place, as the kernel expects: give the copy its own inode first."""
    p = os.path.join(os.path.realpath(os.path.join(root, DEV, dev)), "sriov_numvfs")
    rootlib.replace_file(p, (value or open(p).read()).encode())


def attr(root, dev, name):
    return open(os.path.join(root, DEV, dev, name)).read().strip()


root = rootlib.fresh(hosts, tmp, DC, "show")

# --- the state
p = sriov(root, "17:00.0")
ok(p.returncode == 0 and "4 of 32 virtual functions enabled" in p.stdout and "sriov-manage" in p.stdout,
   "17:00.0 (L40S): 4 of 32 VFs, made with sriov-manage (%d: %s)" % (p.returncode, p.stderr.strip()), p.stdout)
ok("0000:17:00.7" in p.stdout and "type 1155 set" in p.stdout and "NVIDIA L40S-2Q" in p.stdout,
   "each VF is listed with its vGPU types; VF 0 has type 1155 set", p.stdout)
p = sriov(root, "17:00.0", "--json")
try:
    j = json.loads(p.stdout)
    vfs = j["vfs"]
except (ValueError, KeyError):
    j, vfs = {}, []
ok(j.get("total_vfs") == 32 and j.get("num_vfs") == 4 and j.get("method") == "sriov-manage" and len(vfs) == 4,
   "--json: total 32, num 4, sriov-manage, 4 VFs", p.stdout[:800])
ok(len(vfs) == 4 and vfs[0]["current_vgpu_type"] == "1155" and vfs[0]["vgpu_types"] == []
   and [t["id"] for t in vfs[1]["vgpu_types"]] == ["1155", "1156"] and vfs[1]["vgpu_interface"] == "nvidia"
   and all(v["iommu_group"] is not None for v in vfs),
   "--json: the nvidia/ interface: VF 0 set to 1155, VF 1 can take 1155 and 1156, every VF has a group",
   json.dumps(vfs, indent=1)[:1500])

# mdev: a VF whose driver offers mdev_supported_types instead
vf = os.path.join(root, DEV, "0000:17:00.6")
shutil.rmtree(os.path.join(os.path.realpath(vf), "nvidia"))
for tid, name, avail in (("nvidia-1155", "NVIDIA L40S-1Q", 3), ("nvidia-1161", "NVIDIA L40S-48Q", 0)):
    d = os.path.join(os.path.realpath(vf), "mdev_supported_types", tid)
    os.makedirs(d)
    rootlib.replace_file(os.path.join(d, "name"), (name + "\n").encode())
    rootlib.replace_file(os.path.join(d, "available_instances"), b"%d\n" % avail)
p = sriov(root, "17:00.0", "--json")
try:
    v2 = json.loads(p.stdout)["vfs"][2]
except (ValueError, KeyError, IndexError):
    v2 = {}
ok(v2.get("vgpu_interface") == "mdev" and [(t["id"], t["available"]) for t in v2.get("vgpu_types", [])]
   == [("nvidia-1155", 3), ("nvidia-1161", 0)], "mdev types with their available instances", json.dumps(v2))

# --- NVIDIA: a udev rule that runs sriov-manage at boot, and sriov-manage now
root = rootlib.fresh(hosts, tmp, DC, "nv")
before = rootlib.config_tree(root)
rule = "etc/udev/rules.d/70-gpupass-sriov-0000:31:00.0.rules"
p = sriov(root, "31:00.0", "--vfs", "32")
ok(p.returncode == 0 and "b/" + rule in p.stdout and 'RUN+="/usr/lib/nvidia/sriov-manage -e 0000:31:00.0"'
   in p.stdout and 'DRIVER=="nvidia"' in p.stdout and rootlib.config_tree(root) == before,
   "31:00.0 --vfs 32: the plan is a udev rule running sriov-manage on the nvidia bind; nothing written (%d: %s)"
   % (p.returncode, p.stderr.strip()), p.stdout)
rec, env = recorder("nv")
p = sriov(root, "31:00.0", "--vfs", "32", "--apply", env=env)
ok(p.returncode == 0 and os.path.exists(os.path.join(root, rule))
   and recorded(rec) == ["/usr/lib/nvidia/sriov-manage -e 0000:31:00.0"],
   "--apply: the rule is written and sriov-manage -e runs (%d: %s; ran %s)"
   % (p.returncode, p.stderr.strip(), recorded(rec)))
p = rootlib.run(gpupass, root, "undo")
ok(p.returncode == 0 and rootlib.tree_diff(before, rootlib.config_tree(root)) == [],
   "undo removes the rule (%s)" % rootlib.tree_diff(before, rootlib.config_tree(root)))
p = sriov(root, "31:00.0", "--vfs", "8")
ok(p.returncode == 0 and "enables every VF the card offers" in p.stdout,
   "a count below the total: sriov-manage enables them all, and says so", p.stdout)

# Proxmox's own unit, when installed, is the way at boot: no rule
root = rootlib.fresh(hosts, tmp, DC, "pvehelper")
os.makedirs(os.path.join(root, "usr/lib/systemd/system"), exist_ok=True)
rootlib.write("usr/lib/systemd/system/pve-nvidia-sriov@.service", b"[Unit]\n")(root)
before = rootlib.config_tree(root)
rec, env = recorder("pvehelper")
p = sriov(root, "31:00.0", "--vfs", "32", "--apply", env=env)
ok(p.returncode == 0 and "systemctl enable pve-nvidia-sriov@0000:31:00.0.service" in p.stdout
   and rootlib.config_tree(root) == before and recorded(rec) == ["/usr/lib/nvidia/sriov-manage -e 0000:31:00.0"],
   "with pve-nvidia-sriov@ installed: no file, its enable command is given, sriov-manage runs now (%d: %s)"
   % (p.returncode, p.stderr.strip()), p.stdout)

# VFs in use are not removed without --force
root = rootlib.fresh(hosts, tmp, DC, "inuse")
p = sriov(root, "17:00.0", "--vfs", "0", "--apply")
ok(p.returncode == 2 and "0000:17:00.4 has vGPU type 1155 set" in p.stderr,
   "--vfs 0 while VF 0 has a vGPU type: refused (%d: %s)" % (p.returncode, p.stderr.strip()))
rootlib.replace_file(os.path.join(os.path.realpath(os.path.join(root, DEV, "0000:17:00.4")), "nvidia",
                                  "current_vgpu_type"), b"0\n")
rootlib.edit("etc/pve/nodes/pve-dc1/qemu-server/400.conf", "memory:", "hostpci0: 0000:17:00.6,pcie=1\nmemory:")(root)
p = sriov(root, "17:00.0", "--vfs", "0")
ok(p.returncode == 2 and "VM 400 has 0000:17:00.6 (hostpci0)" in p.stderr,
   "--vfs 0 while VM 400 has a VF in its config: refused, the VM named (%d: %s)" % (p.returncode, p.stderr.strip()))
rec, env = recorder("inuse")
p = sriov(root, "17:00.0", "--vfs", "0", "--force", "--apply", env=env)
ok(p.returncode == 0 and recorded(rec) == ["/usr/lib/nvidia/sriov-manage -d 0000:17:00.0"],
   "--force: sriov-manage -d runs (%d: %s; ran %s)" % (p.returncode, p.stderr.strip(), recorded(rec)))

# --- the generic way: sriov_numvfs (X710, i40e)
root = rootlib.fresh(hosts, tmp, DC, "sysfs")
own_numvfs(root, "0000:33:00.0")
rule = "etc/udev/rules.d/70-gpupass-sriov-0000:33:00.0.rules"
log = os.path.join(tmp, "sysfs.faults")
p = sriov(root, "33:00.0", "--vfs", "8", "--apply", env={"GPUPASS_FAULT_LOG": log})
text = open(os.path.join(root, rule)).read() if os.path.exists(os.path.join(root, rule)) else ""
points = [x for x in open(log).read().split() if x.startswith("sriov.")] if os.path.exists(log) else []
ok(p.returncode == 0 and 'KERNEL=="0000:33:00.0", DRIVER=="i40e", ATTR{sriov_numvfs}="8"' in text,
   "33:00.0 --vfs 8 --apply: a udev rule writes sriov_numvfs when i40e binds (%d: %s)"
   % (p.returncode, p.stderr.strip()), text)
ok(attr(root, "0000:33:00.0", "sriov_numvfs") == "8" and points == ["sriov.enable"],
   "...and 8 is written now, in one write from 0 (%s, %s)" % (attr(root, "0000:33:00.0", "sriov_numvfs"), points))

root = rootlib.fresh(hosts, tmp, DC, "sysfs-change")
own_numvfs(root, "0000:33:00.0", "4\n")
log = os.path.join(tmp, "change.faults")
p = sriov(root, "33:00.0", "--vfs", "8", "--apply", env={"GPUPASS_FAULT_LOG": log})
points = [x for x in open(log).read().split() if x.startswith("sriov.")] if os.path.exists(log) else []
ok(p.returncode == 0 and points == ["sriov.disable", "sriov.enable"] and "echo 0, then" in p.stdout,
   "4 -> 8 VFs: 0 is written first, as the kernel requires (%s)" % points)

root = rootlib.fresh(hosts, tmp, DC, "sysfs-fail")
own_numvfs(root, "0000:33:00.0")
log = os.path.join(tmp, "fail.faults")
p = sriov(root, "33:00.0", "--vfs", "8", "--apply", env={"GPUPASS_FAULT_LOG": log})
n = [x for x in open(log).read().split()].index("sriov.enable") + 1 if os.path.exists(log) else 0
root = rootlib.fresh(hosts, tmp, DC, "sysfs-fail")
own_numvfs(root, "0000:33:00.0")
p = sriov(root, "33:00.0", "--vfs", "8", "--apply", env={"GPUPASS_FAULT": "%d:enospc" % n})
ok(p.returncode == 3 and "sriov_numvfs failed" in p.stderr and "gpupass undo" in p.stderr
   and attr(root, "0000:33:00.0", "sriov_numvfs") == "0",
   "a failed write: exit 3, says so and how to take the rule back (%d: %s)" % (p.returncode, p.stderr.strip()))

# --- refusals and bad input
root = rootlib.fresh(hosts, tmp, DC, "bad")
CASES = [
    (DC, ["17:00.0", "--vfs", "33"], 2, "offers at most 32"),
    ("pve8-intel-1gpu", ["01:00.0"], 2, "has no SR-IOV"),
    ("pve8-intel-1gpu", ["01:00.0", "--vfs", "2"], 2, "pass it whole to one VM"),
    (DC, ["17:00.5"], 2, "is itself a virtual function of 0000:17:00.0"),
    (DC, ["17:00.0", "--apply"], 3, "go with --vfs"),
    (DC, ["17:00.0", "--vfs", "x"], 3, "--vfs takes a count"),
    (DC, ["17:00.0", "--vfs", "-1"], 3, "--vfs takes a count"),
    (DC, ["17:00.0", "--vfs", "2", "--json"], 3, "does not go with --vfs"),
    (DC, ["ee:00.0"], 3, "no PCI device ee:00.0"),
    (DC, [], 3, "name one device"),
]
for host, args, rc, text in CASES:
    r = os.path.join(hosts, host) if host != DC else root
    before = rootlib.config_tree(r)
    p = sriov(r, *args)
    ok(p.returncode == rc and text in p.stderr and rootlib.config_tree(r) == before,
       "sriov %s on %s: exit %d, says %r, nothing written (%d: %s)"
       % (" ".join(args), host, rc, text, p.returncode, p.stderr.strip()))

fixture = os.path.join(hosts, DC, DEV, "0000:33:00.0", "sriov_numvfs")
ok(open(fixture).read() == "0\n", "the shared fixture's sriov_numvfs is untouched (%r)" % open(fixture).read())

shutil.rmtree(tmp)
sys.exit(tap.done())
