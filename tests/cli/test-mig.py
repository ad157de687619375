#!/usr/bin/env python3
"""`gpupass mig plan|apply|status`: layouts on models and on fixture GPUs (text, JSON, the
slice picture, the nvidia-smi commands), refusals with the reason and the nearest layouts,
GPUs without MIG, bad input; apply as a transaction (boot unit, drop-in, the commands through
the recording runner, undo without re-running nvidia-smi), refused while processes hold the
GPU; status from a fake nvidia-smi (tests/mig/). TAP. Env: GPUPASS (binary), HOSTS, TOP."""
import json
import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
hosts = os.path.abspath(os.environ["HOSTS"])
top = os.environ.get("TOP") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-mig-")
L8 = os.path.join(hosts, "large-8gpu")


def mig(*args, root=None, env=None):
    if root:
        return rootlib.run(gpupass, root, "mig", *args, env=env)
    e = dict(os.environ, NO_COLOR="1")
    e.pop("GPUPASS_ROOT", None)
    e.update(env or {})
    import subprocess
    return subprocess.run([gpupass, "mig"] + list(args), capture_output=True, text=True, env=e)


def js(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {}


# --- plans on models, one per family, and the classic refusal
PLANS = [
    # model, profiles, the -cgi list
    ("A100 80GB", ["3g.40gb", "4g.40gb"], "-cgi 9,5 -C"),
    ("a100-40gb", ["2g.10gb:3", "1g.5gb"], "-cgi 14,14,14,19 -C"),
    ("H100 80GB", ["1g.10gb:7"], "-cgi 19,19,19,19,19,19,19 -C"),
    ("H200", ["3g.71gb", "2g.35gb", "1g.18gb:2"], "-cgi 9,14,19,19 -C"),
    ("A30", ["2g.12gb", "1g.6gb:2"], "-cgi 5,14,14 -C"),
]
for model, profiles, cgi in PLANS:
    p = mig("plan", "--gpu", model, *profiles)
    ok(p.returncode == 0 and " fits." in p.stdout and cgi in p.stdout and "used:" in p.stdout,
       "plan %s %s: fits, -cgi as %r (%d: %s)" % (model, " ".join(profiles), cgi, p.returncode, p.stderr.strip()),
       p.stdout[:1500])

p = mig("plan", "--gpu", "B200", "3g.90gb", "4g.90gb")
ok(p.returncode in (0, 3) and ("-cgi 3g.90gb,4g.90gb -C" in p.stdout or "unknown MIG profile" in p.stderr),
   "B200 (IDs not confirmed): -cgi names the profiles (%d: %s)" % (p.returncode, p.stderr.strip()), p.stdout[:800])

p = mig("plan", "--gpu", "A100 80GB", "9,9,9")
ok(p.returncode == 2 and "3 × 3g.40gb needs 9 of 7 compute slices" in p.stderr and "at most 2 fit" in p.stderr,
   "A100 80GB 9,9,9: refused, exit 2, with the numbers (%s)" % p.stderr.strip())
ok("gpupass mig plan --gpu 'A100 80GB' 3g.40gb:2" in p.stdout and "3g.40gb,4g.40gb" in p.stdout,
   "...and the layouts that fit: 3g.40gb:2, 3g.40gb + 4g.40gb", p.stdout)
j = js(mig("plan", "--gpu", "A100 80GB", "9,9,9", "--json"))
ok(j.get("fits") is False and "needs 9 of 7" in (j.get("reason") or "") and "3g.40gb:2" in j.get("suggestions", []),
   "--json of the refusal: fits false, the reason, the suggestions", json.dumps(j)[:600])
p = mig("plan", "--gpu", "H100 80GB", "3g.40gb", "4g.40gb", "--json")
j = js(p)
ok(p.returncode == 0 and j.get("fits") is True and [(i["profile"], i["start"], i["size"]) for i in j["instances"]]
   == [("4g.40gb", 0, 4), ("3g.40gb", 4, 4)] and any("-cgi 9,5 -C" in c for c in j["commands"])
   and "ExecStart=/usr/bin/nvidia-smi -i 0 -mig 1" in (j.get("boot_unit") or ""),
   "--json of a plan: placements, commands, and a Hopper boot unit that enables the mode",
   json.dumps(j)[:1200])
j = js(mig("plan", "--gpu", "A100 80GB", "3g.40gb", "--json"))
ok("ExecStart=/usr/bin/nvidia-smi -i 0 -mig 1" not in (j.get("boot_unit") or "ExecStart=/usr/bin/nvidia-smi -i 0 -mig 1"), "an Ampere boot unit does not enable the mode (it persists)",
   (j.get("boot_unit") or "")[:600])

# --- GPUs of a host, and GPUs without MIG
p = mig("plan", "--gpu", "04:00.0", "3g.40gb:2", root=L8)
ok(p.returncode == 0 and "H100 80GB (Hopper, 0000:04:00.0)" in p.stdout and "-i 0000:04:00.0" in p.stdout
   and "bound to vfio-pci now" in p.stdout,
   "plan on the fixture's H100 04:00.0: its bus ID in the commands, and it is on vfio-pci now (%s)"
   % p.stderr.strip(), p.stdout[:800])
REFUSED = [
    ("server-dc-gpus", "17:00.0", 2, "shared with NVIDIA vGPU on SR-IOV"),
    ("two-identical-gpus", "01:00.0", 2, "no MIG on GeForce"),
    ("amd-gpu-bus-reset", "01:00.0", 2, "not an NVIDIA device"),
    ("pve8-intel-1gpu", "00:1f.0", 3, "is not a GPU"),
]
for host, gpu, rc, text in REFUSED:
    p = mig("plan", "--gpu", gpu, "1g.10gb", root=os.path.join(hosts, host))
    ok(p.returncode == rc and text in p.stderr, "plan on %s %s: exit %d, says %r (%d: %s)"
       % (host, gpu, rc, text, p.returncode, p.stderr.strip()))

BAD = [
    (["--gpu", "A999", "1g.10gb"], 3, "MIG GPUs gpupass knows: A100 40GB"),
    (["--gpu", "H100", "1g.10gb"], 3, "say which"),
    (["--gpu", "L40S", "1g.10gb"], 2, "no MIG"),
    (["--gpu", "A100 80GB", "5g.50gb"], 3, "unknown MIG profile '5g.50gb'"),
    (["--gpu", "A100 80GB", "3g.40gb:0"], 3, "3g.40gb:0"),
    (["--gpu", "A100 80GB", "1g.10gb:1000"], 3, "1g.10gb:1000"),
    (["--gpu", "A100 80GB", "1g.10gb:8"], 2, "at most 7 fit"),
    (["--gpu", "A30", "9"], 3, "IDs differ between GPU families"),
    (["--gpu", "A100 80GB"], 3, "name the profiles"),
    (["3g.40gb"], 3, "--gpu"),
    (["--gpu", "A100 80GB", "--force", "3g.40gb"], 3, "--force belongs to mig apply"),
]
for args, rc, text in BAD:
    p = mig("plan", *args)
    ok(p.returncode == rc and text in p.stderr, "plan %s: exit %d, says %r (%d: %s)"
       % (" ".join(args), rc, text, p.returncode, p.stderr.strip()))
p = mig("frobnicate")
ok(p.returncode == 3 and "plan, apply or status" in p.stderr, "an unknown subcommand: exit 3")


# --- apply: a fixture H100 given to the nvidia driver
def nvidia_root(name, holder=None):
    """large-8gpu with 04:00.0 on nvidia (Device Minor 0), optionally held by a process."""
    root = rootlib.fresh(hosts, tmp, "large-8gpu", name)
    dev = os.path.realpath(os.path.join(root, "sys/bus/pci/devices/0000:04:00.0"))
    link = os.path.join(dev, "driver")
    target = os.readlink(link).replace("vfio-pci", "nvidia")
    os.unlink(link)
    os.symlink(target, link)
    os.makedirs(os.path.join(root, "sys/bus/pci/drivers/nvidia"), exist_ok=True)
    info = os.path.join(root, "proc/driver/nvidia/gpus/0000:04:00.0")
    os.makedirs(info)
    rootlib.replace_file(os.path.join(info, "information"), b"Bus Location: \t 0000:04:00.0\nDevice Minor: \t 0\n")
    if holder:
        pid, comm = holder
        fd = os.path.join(root, "proc", str(pid), "fd")
        os.makedirs(fd)
        os.symlink("/dev/nvidia0", os.path.join(fd, "3"))
        rootlib.replace_file(os.path.join(root, "proc", str(pid), "comm"), (comm + "\n").encode())
    return root


root = nvidia_root("apply")
before = rootlib.config_tree(root)
rec = os.path.join(tmp, "apply.cmds")
env = {"GPUPASS_TEST_RUNNER": "record:" + rec}
p = mig("apply", "--gpu", "04:00.0", "3g.40gb", "2g.20gb", "1g.10gb:2", root=root, env=env)
unit = os.path.join(root, "etc/systemd/system/gpupass-mig-0000:04:00.0.service")
dropin = os.path.join(root, "etc/systemd/system/multi-user.target.d/gpupass-mig-0000:04:00.0.conf")
cmds = open(rec).read().splitlines() if os.path.exists(rec) else []
ok(p.returncode == 0 and os.path.exists(unit) and "Wants=gpupass-mig-0000:04:00.0.service" in open(dropin).read(),
   "apply: the boot unit and the drop-in that starts it are written (%d: %s)" % (p.returncode, p.stderr.strip()))
ok(cmds[:2] == ["systemctl daemon-reload", "nvidia-smi -i 0000:04:00.0 -mig 1"]
   and "nvidia-smi mig -i 0000:04:00.0 -cgi 9,14,19,19 -C" in cmds
   and cmds.index("nvidia-smi mig -i 0000:04:00.0 -dgi") < cmds.index("nvidia-smi mig -i 0000:04:00.0 -cgi 9,14,19,19 -C"),
   "apply runs daemon-reload, enables MIG, removes the old instances before creating the new", "\n".join(cmds))
p = mig("apply", "--gpu", "04:00.0", "3g.40gb", "2g.20gb", "1g.10gb:2", root=root, env=env)
ok(p.returncode == 0 and "Nothing to do" in p.stdout, "the same apply again: nothing to do (%s)" % p.stdout.strip())
os.remove(rec)
p = rootlib.run(gpupass, root, "undo", env=env)
cmds = open(rec).read().splitlines() if os.path.exists(rec) else []
ok(p.returncode == 0 and rootlib.tree_diff(before, rootlib.config_tree(root)) == [] and cmds == ["systemctl daemon-reload"],
   "undo removes both files and re-runs only daemon-reload, never nvidia-smi (%s)" % cmds)

rec2 = os.path.join(tmp, "fail.cmds")
root = nvidia_root("apply-fail")
p = mig("apply", "--gpu", "04:00.0", "3g.40gb", root=root, env={"GPUPASS_TEST_RUNNER": "record:%s,fail=nvidia-smi" % rec2})
ok(p.returncode == 2 and "stopped" in p.stderr and "does not roll back" in p.stderr
   and len(open(rec2).read().splitlines()) == 2,
   "a failing nvidia-smi stops the apply at the first failure, with what to do (%d: %s)"
   % (p.returncode, p.stderr.strip()))

root = nvidia_root("held", holder=(4242, "nvidia-persistenced"))
p = mig("apply", "--gpu", "04:00.0", "3g.40gb", root=root)
ok(p.returncode == 2 and "pid 4242 (nvidia-persistenced) holds /dev/nvidia0" in p.stderr
   and not os.path.exists(os.path.join(root, "etc/systemd/system/gpupass-mig-0000:04:00.0.service")),
   "apply while nvidia-persistenced holds the GPU: refused, the process named, nothing written", p.stderr)
p = mig("apply", "--gpu", "04:00.0", "3g.40gb", "--force", root=root,
        env={"GPUPASS_TEST_RUNNER": "record:" + os.path.join(tmp, "force.cmds")})
ok(p.returncode == 0, "...--force applies anyway (%d: %s)" % (p.returncode, p.stderr.strip()))

for args, rc, text, r in [
    (["--gpu", "04:00.0", "3g.40gb"], 2, "bound to vfio-pci", L8),
    (["--gpu", "A100 80GB", "3g.40gb"], 3, "PCI address of a GPU of this host", L8),
    (["--gpu", "04:00.0", "9,9,9"], 2, "needs 9 of 7", nvidia_root("refuse")),
    (["--gpu", "04:00.0", "3g.40gb", "--json"], 3, "--json belongs to", L8),
]:
    before = rootlib.config_tree(r)
    p = mig("apply", *args, root=r)
    ok(p.returncode == rc and text in p.stderr and rootlib.config_tree(r) == before,
       "apply %s: exit %d, says %r, nothing written (%d: %s)" % (" ".join(args), rc, text, p.returncode,
                                                                p.stderr.strip()))

# --- status through a fake nvidia-smi
bindir = os.path.join(tmp, "bin")
os.makedirs(bindir)
fake = os.path.join(bindir, "nvidia-smi")
with open(fake, "w") as f:
    f.write("#!/bin/sh\ncase \"$*\" in\n"
            "  *--query-gpu=index,pci.bus_id,name,mig.mode.current,mig.mode.pending*) cat '%s' ;;\n"
            "  'mig -lgi') cat '%s' ;;\n  *) echo \"unexpected: $*\" >&2; exit 9 ;;\nesac\n"
            % (os.path.join(top, "tests/mig/query-gpus.csv"), os.path.join(top, "tests/mig/lgi.txt")))
os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
path = bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin")
p = mig("status", env={"PATH": path})
ok(p.returncode == 0 and "GPU 0  00000000:04:00.0  NVIDIA H100 PCIe: MIG enabled" in p.stdout
   and "2g.20gb        @0" in p.stdout and "3g.40gb        @4" in p.stdout and "used: 7 of 7" in p.stdout,
   "status: GPU 0's instances drawn on its slices (%d: %s)" % (p.returncode, p.stderr.strip()), p.stdout)
ok("MIG disabled (enable pending: reset the GPU with nvidia-smi -i 1 -r, or reboot)" in p.stdout
   and "NVIDIA L40S: MIG not supported" in p.stdout, "status: a pending mode change and a GPU without MIG", p.stdout)
j = js(mig("status", "--json", env={"PATH": path}))
g0 = (j.get("gpus") or [{}])[0]
ok(g0.get("model") == "h100-80gb" and g0.get("mig_current") is True and
   [(i["profile"], i["start"], i["size"]) for i in g0.get("instances", [])] ==
   [("1g.10gb", 2, 1), ("1g.10gb", 3, 1), ("2g.20gb", 0, 2), ("3g.40gb", 4, 4)],
   "status --json: the model and the instances with their placements", json.dumps(j)[:800])
p = mig("status", env={"PATH": "/nonexistent"})
ok(p.returncode == 3 and "nvidia-smi not found" in p.stderr, "status without nvidia-smi: exit 3 (%s)" % p.stderr.strip())
p = mig("status", root=L8)
ok(p.returncode == 3 and "without --root" in p.stderr, "status on a --root: exit 3 (%s)" % p.stderr.strip())

shutil.rmtree(tmp)
sys.exit(tap.done())
