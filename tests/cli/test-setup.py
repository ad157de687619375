#!/usr/bin/env python3
"""`gpupass setup` / `undo` on copies of the fixture hosts: the printed plan and the files
after --apply against golden files (tests/setup/<case>/plan.txt and after/<path>), a second
--apply that changes nothing, undo back to every original byte and mode, refusals that
write nothing, and fault injection (the process killed, or ENOSPC, at every fault point).
GPUPASS_TEST_REGENERATE=1 rewrites the golden files. TAP on stdout.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
from rootlib import JOURNAL, chain, copy_root, edit, replace_file, snapshot_tree, tree_diff, write  # noqa: E402,F401
import rootlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
gpupass, hosts = os.path.abspath(os.environ["GPUPASS"]), os.path.abspath(os.environ["HOSTS"])
regen = os.environ.get("GPUPASS_TEST_REGENERATE") == "1"
golden = os.path.join(top, "tests/setup")
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-setup-")
def run(root, *args, env=None):
    return rootlib.run(gpupass, root, *args, env=env)


def fresh(host, name, prep=None):
    return rootlib.fresh(hosts, tmp, host, name, prep)



# name, host, gpu, extra args, preparation of the copy
CASES = [
    ("grub-amd-bootvga", "amd-gpu-bus-reset", "01:00.0", [], None),
    ("sdboot-bootvga", "amd-consumer-shared", "0b:00.0", [], None),
    ("identical-gpus", "two-identical-gpus", "02:00.0", [], None),
    ("identical-gpus-ask-ids", "two-identical-gpus", "02:00.0", ["--method", "ids"], None),
    ("debian61-laptop", "laptop-dgpu-0302", "01:00.0", [], None),
    ("debian61-no-intel-iommu", "laptop-dgpu-0302", "01:00.0", [],
     chain(edit("etc/default/grub", "quiet intel_iommu=on", "quiet"),
           edit("proc/cmdline", " intel_iommu=on", ""))),
    ("pve7-legacy", "pve7-intel-legacy", "01:00.0", ["--iommu-pt"], None),
    ("h100-virqfd-on-6.8", "large-8gpu", "04:00.0", [], None),
    ("dracut-host", "laptop-dgpu-0302", "01:00.0", [],
     lambda r: (shutil.rmtree(os.path.join(r, "etc/initramfs-tools")),
                os.makedirs(os.path.join(r, "etc/dracut.conf.d")))),
]

for name, host, gpu, extra, prep in CASES:
    gdir = os.path.join(golden, name)
    root = fresh(host, name, prep)
    before = snapshot_tree(root)

    p = run(root, "setup", gpu, *extra)
    if regen:
        os.makedirs(gdir, exist_ok=True)
        open(os.path.join(gdir, "plan.txt"), "w").write(p.stdout)
    want = open(os.path.join(gdir, "plan.txt")).read() if os.path.exists(os.path.join(gdir, "plan.txt")) else None
    ok(p.returncode == 0 and p.stdout == want, "%s: setup %s prints the plan" % (name, gpu),
       "rc %d\n%s" % (p.returncode, p.stderr) + "".join(
           "\n-%s\n+%s" % (a, b) for a, b in zip((want or "").splitlines(), p.stdout.splitlines()) if a != b)[:1500])
    ok(not tree_diff(before, snapshot_tree(root)), "%s: the plan alone writes nothing" % name)

    p = run(root, "setup", gpu, "--apply", *extra)
    after = snapshot_tree(root)
    changed = tree_diff(before, after)
    if regen:
        shutil.rmtree(os.path.join(gdir, "after"), ignore_errors=True)
        for k in changed:
            if after.get(k) and after[k][1] is not None:
                dst = os.path.join(gdir, "after", k)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                open(dst, "wb").write(after[k][1])
    gfiles = {}
    adir = os.path.join(gdir, "after")
    for dirpath, _, filenames in os.walk(adir):
        for f in filenames:
            gfiles[os.path.relpath(os.path.join(dirpath, f), adir)] = open(os.path.join(dirpath, f), "rb").read()
    changed_files = [k for k in changed if after.get(k) and after[k][1] is not None]
    ok(p.returncode == 0 and sorted(changed_files) == sorted(gfiles) and
       all(after[k][1] == gfiles[k] for k in gfiles),
       "%s: --apply writes exactly the expected files" % name,
       "rc %d %s\nchanged: %s\ngolden: %s" % (p.returncode, p.stderr, changed, sorted(gfiles)))
    ok("Run these inside the host's system" in p.stdout, "%s: offline --apply prints the commands for a chroot" % name,
       p.stdout[-600:])
    mid = snapshot_tree(root)
    p2 = run(root, "setup", gpu, "--apply", *extra)
    ok(p2.returncode == 0 and p2.stdout.startswith("Nothing to do") and not tree_diff(mid, snapshot_tree(root)),
       "%s: a second --apply changes nothing" % name, p2.stdout[:800] + p2.stderr)
    u = run(root, "undo")
    d = tree_diff(before, snapshot_tree(root))
    ok(u.returncode == 0 and not d, "%s: undo restores every byte and mode" % name,
       "rc %d %s %s\ndiffers: %s" % (u.returncode, u.stdout, u.stderr, d))
    u2 = run(root, "undo")
    ok(u2.returncode != 0 and not tree_diff(before, snapshot_tree(root)),
       "%s: a second undo has nothing to do and changes nothing" % name, u2.stdout + u2.stderr)

# After the apply, check compares what setup meant with what runs: pending until a reboot,
# then exactly the layer that did not take, then all in effect.
import json  # noqa: E402
import time  # noqa: E402


def findings(root):
    p = run(root, "check", "--json")
    return {f["id"]: f for f in json.loads(p.stdout)["findings"]}


root = fresh("amd-gpu-bus-reset", "after-reboot")
run(root, "setup", "01:00.0", "--apply")
f = findings(root)
ok(f.get("setup.pending-reboot", {}).get("severity") == "warn", "check after setup: pending reboot",
   json.dumps(f.get("setup.pending-reboot")))
replace_file(os.path.join(root, "proc/stat"), b"cpu  1 2 3 4\nbtime %d\n" % (int(time.time()) + 3600))
edit("proc/cmdline", "iommu=pt", "iommu=pt initcall_blacklist=sysfb_init")(root)
f = findings(root)
titles = [x["title"] for x in json.loads(run(root, "check", "--json").stdout)["findings"]
          if x["id"] == "setup.not-effective" and x["severity"] == "fail"]
ok(len(titles) == 2 and any("0000:01:00.0 is on amdgpu" in t and "Modules" in t for t in titles)
   and "setup.pending-reboot" not in f, "check after the reboot: the binding did not take, and says which layer",
   json.dumps(f.get("setup.not-effective")))
for fn in ("0000:01:00.0", "0000:01:00.1"):
    link = os.path.join(root, "sys/bus/pci/devices", fn)
    drv = os.path.join(os.path.realpath(link), "driver")
    os.unlink(drv)
    os.symlink("../../../../bus/pci/drivers/vfio-pci", drv)
f = findings(root)
ok(f.get("setup.effective", {}).get("severity") == "pass" and "setup.not-effective" not in f,
   "check when everything took: setup in effect", json.dumps([k for k in f if k.startswith("setup")]))
run(root, "undo")
f = findings(root)
ok(not [k for k in f if k.startswith("setup.")], "after undo, check no longer looks for the setup")

# Already configured by hand, the Proxmox way: nothing to do.
root = fresh("pve8-intel-1gpu", "already")
p = run(root, "setup", "01:00")
ok(p.returncode == 0 and p.stdout.startswith("Nothing to do"), "a host already set up gets an empty plan", p.stdout)

# Refusals: exit 2, one reason on stderr, nothing written.
REFUSE = [
    ("shared group with the root disk", "amd-consumer-shared", "0a:00.0", [], "holds what this host needs", None),
    ("--allow-shared-group does not cover host-critical", "amd-consumer-shared", "0a:00.0",
     ["--allow-shared-group"], "holds what this host needs", None),
    ("IOMMU off in firmware", "pve8-intel-iommu-off", "01:00.0", [], "IOMMU is off in the firmware", None),
    ("binary /etc/default/grub", "amd-gpu-bus-reset", "01:00.0", [], "/etc/default/grub",
     write("etc/default/grub", b"GRUB_DEFAULT=0\n\x00\x01\x02garbage\n")),
    ("unclosed quote in /etc/default/grub", "amd-gpu-bus-reset", "01:00.0", [], "/etc/default/grub line",
     edit("etc/default/grub", 'iommu=pt"', "iommu=pt")),
    ("/etc/kernel/cmdline without root=", "amd-consumer-shared", "0b:00.0", [], "no root=",
     write("etc/kernel/cmdline", b"boot=zfs quiet\n")),
]
for i, (what, host, gpu, extra, needle, prep) in enumerate(REFUSE):
    root = fresh(host, "refuse%d" % i, prep)
    before = snapshot_tree(root, skip_journal=False)
    p = run(root, "setup", gpu, "--apply", *extra)
    ok(p.returncode == 2 and needle in p.stderr and not tree_diff(before, snapshot_tree(root, skip_journal=False)),
       "refused: %s" % what, "rc %d\n%s" % (p.returncode, p.stderr))

root = fresh("amd-consumer-shared", "force")
p = run(root, "setup", "0a:00.0", "--allow-shared-group", "--force")
ok(p.returncode == 0 and "takes that away from the host" in p.stdout and "0000:09:00.0" in p.stdout,
   "--force plans it and says what breaks", p.stdout[-800:] + p.stderr)

root = fresh("amd-gpu-bus-reset", "archive")
snap = os.path.join(tmp, "snap.tar.gz")
run(root, "snapshot", "-o", snap)
p = run(snap, "setup", "01:00.0", "--apply")
ok(p.returncode == 3 and "snapshot archive" in p.stderr, "--apply on a snapshot archive is refused", p.stderr)

# A command that fails: stop, say how to go on or undo.
root = fresh("amd-gpu-bus-reset", "cmdfail")
rec = os.path.join(tmp, "commands.txt")
p = run(root, "setup", "01:00.0", "--apply", env={"GPUPASS_TEST_RUNNER": "record:%s,fail=update-grub" % rec})
ok(p.returncode == 2 and "update-grub" in p.stderr and "gpupass undo" in p.stderr,
   "a failing command stops the apply and names undo", p.stdout[-400:] + p.stderr)
ok(os.path.exists(rec) and open(rec).read().splitlines()[:1] == ["update-grub"],
   "commands go through the runner, in order", open(rec).read() if os.path.exists(rec) else "no record")

# Fault injection: kill the process (or fail with ENOSPC) at every fault point of an
# apply; each target is then entirely old or entirely new, and undo, or applying again,
# converges.
for mode in ("kill", "enospc"):
    name, host, gpu = "grub-amd-bootvga", "amd-gpu-bus-reset", "01:00.0"
    base = fresh(host, "fault-base")
    original = snapshot_tree(base)
    run(base, "setup", gpu, "--apply")
    final = snapshot_tree(base)
    targets = tree_diff(original, final)
    points, bad = 0, []
    for n in range(1, 500):
        root = fresh(host, "fault")
        p = run(root, "setup", gpu, "--apply", env={"GPUPASS_FAULT": "%d:%s" % (n, mode)})
        if p.returncode == 0 and mode == "enospc" or p.returncode == 0 and mode == "kill":
            break
        points += 1
        now = snapshot_tree(root)
        torn = [k for k in targets if now.get(k) not in (original.get(k), final.get(k))]
        if torn:
            bad.append("point %d: torn %s" % (n, torn))
        again = os.path.join(tmp, "fault-again")
        if os.path.exists(again):
            shutil.rmtree(again)
        copy_root(root, again)
        u = run(root, "undo")
        if tree_diff(original, snapshot_tree(root)):
            bad.append("point %d: undo (rc %d: %s) left %s" % (n, u.returncode, u.stderr.strip(),
                                                              tree_diff(original, snapshot_tree(root))))
        a = run(again, "setup", gpu, "--apply")
        if tree_diff(final, snapshot_tree(again)):
            bad.append("point %d: applying again (rc %d: %s) left %s" % (n, a.returncode, a.stderr.strip(),
                                                                       tree_diff(final, snapshot_tree(again))))
    ok(points > 10 and not bad, "fault injection (%s) at all %d points: never torn, undo and re-apply converge"
       % (mode, points), "\n".join(bad[:20]))
    print("# fault injection (%s): %d points tried" % (mode, points))

shutil.rmtree(tmp)
sys.exit(tap.done())
