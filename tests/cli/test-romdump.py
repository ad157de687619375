#!/usr/bin/env python3
"""`gpupass rom dump GPU -o FILE` and `gpupass rom info GPU` on fixture roots whose `rom`
file behaves like the kernel's PCI rom attribute (tests/shim/sysfs-rom.c, LD_PRELOAD): reads
fail until "1\\n" is written, "0\\n" switches it off, and the switch's last state is kept in
rom.enabled. Every path must leave the switch off: success, a refused dump, a kernel read
error, an output that cannot be written, an injected error at each step, SIGTERM and SIGINT
during the read. The boot VGA device is refused without --force. TAP.
Env: GPUPASS (binary), HOSTS (fixture roots)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402
from romlib import image  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
hosts = os.path.abspath(os.environ["HOSTS"])
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-romdump-")
# The shim is built next to the test programs of the same build.
shim = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(gpupass))), "tests", "sysfs-rom-shim.so")

GOOD = image(0, False) + image(3, True)          # 10de:2684, legacy + x64 EFI
DEV = "sys/bus/pci/devices/0000:01:00.0"


def host(name, data=GOOD, host="pve8-intel-1gpu", dev=DEV):
    """A private copy of a fixture whose GPU's rom holds data; returns (root, rom path)."""
    root = rootlib.fresh(hosts, tmp, host, name)
    path = os.path.realpath(os.path.join(root, dev, "rom"))
    rootlib.replace_file(path, data)
    return root, path


def state(rom):
    """The switch as the shim saw it last: "0", "1", or None when never written."""
    try:
        return open(rom + ".enabled").read()
    except FileNotFoundError:
        return None


def env(**kw):
    e = {"GPUPASS_SHIM_ROM": "1", "LD_PRELOAD": shim,
         # the shim comes before libasan in the ASan build: allowed, it only wraps pread/pwrite
         "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    e.update(kw)
    return e


def dump(root, *args, **kw):
    return rootlib.run(gpupass, root, "rom", "dump", *args, env=env(**kw))


def leftovers(d):
    return [f for f in os.listdir(d) if f.startswith(".#")]


if not os.path.exists(shim):
    ok(True, "rom dump tests # SKIP the shim %s is not built" % shim)
    sys.exit(tap.done())

# --- the good path
root, rom = host("good")
out = os.path.join(tmp, "good.rom")
log = os.path.join(tmp, "good.faults")
p = dump(root, "01:00.0", "-o", out, GPUPASS_FAULT_LOG=log)
ok(p.returncode == 0, "dump 01:00.0: exit 0 (%d: %s)" % (p.returncode, p.stderr.strip()))
ok(os.path.exists(out) and open(out, "rb").read() == GOOD, "the file holds exactly the bytes the rom gave")
ok(state(rom) == "0", "the rom switch is off after the dump (%r)" % state(rom))
points = [x for x in open(log).read().split() if x.startswith("rom.")] if os.path.exists(log) else []
ok(points == ["rom.enable", "rom.read", "rom.disable"], "the sequence is enable, read, disable (%s)" % points)
ok("image 1 at 0x400: EFI" in p.stdout and "PASS" in p.stdout, "the dump is listed and judged", p.stdout)
ok(open(rom, "rb").read() == GOOD, "the rom attribute's content is untouched")

p = dump(root, "01:00.0", "-o", out, "--json")
try:
    doc = json.loads(p.stdout)
    ids = {f["id"] for f in doc["findings"]}
    n = len(doc["rom"]["images"])
except (ValueError, KeyError):
    ids, n = set(), 0
ok(p.returncode == 0 and n == 2 and "rom.ovmf-ok" in ids, "dump --json: 2 images, rom.ovmf-ok (%s)" % sorted(ids))

# --- info GPU: read and judged, nothing written
os.remove(out)
before = set(os.listdir(tmp))
p = subprocess.run([gpupass, "--root", root, "rom", "info", "01:00.0"], capture_output=True, text=True,
                   cwd=tmp, env=dict(os.environ, NO_COLOR="1", **env()))
ok(p.returncode == 0 and "0000:01:00.0 (rom)" in p.stdout, "info 01:00.0 reads the GPU's ROM (%d: %s)"
   % (p.returncode, p.stderr.strip()), p.stdout)
ok(set(os.listdir(tmp)) == before and state(rom) == "0", "info 01:00.0 writes no file and leaves the switch off")

# the IDs are the GPU's: a ROM for another card is called out
root, rom = host("ids", image(0, False, device=0x1b80) + image(3, True, device=0x1b80))
p = rootlib.run(gpupass, root, "rom", "info", "01:00.0", "--json", env=env())
try:
    ids = {f["id"]: f["severity"] for f in json.loads(p.stdout)["findings"]}
except (ValueError, KeyError):
    ids = {}
ok("rom.ids-mismatch" in ids and p.returncode == 2, "a ROM with 10de:1b80 on the 10de:2684 GPU: rom.ids-mismatch, "
   "exit 2 (%d, %s)" % (p.returncode, ids))

# --- paths that fail: the switch is off after each, nothing is written
FAILS = [
    # name, rom bytes, extra env, args, rc, text in stderr
    ("all-ff", b"\xff" * 65536, {}, [], 2, "all 0xFF"),
    ("eio", GOOD, {"GPUPASS_SHIM_ROM_EIO": "1"}, [], 3, "vfio-pci"),
    ("no-dir", GOOD, {}, ["-o", os.path.join(tmp, "missing", "x.rom")], 3, "cannot write"),
    ("fault-enable", GOOD, {"GPUPASS_FAULT": "1:enospc"}, [], 3, "reading the ROM failed"),
    ("fault-read", GOOD, {"GPUPASS_FAULT": "2:enospc"}, [], 3, "reading the ROM failed"),
]
for name, data, extra, args, rc, text in FAILS:
    root, rom = host(name, data)
    out = os.path.join(tmp, name + ".rom")
    p = dump(root, "01:00.0", *(args or ["-o", out]), **extra)
    ok(p.returncode == rc and text in p.stderr, "%s: exit %d, says %r (%d: %s)"
       % (name, rc, text, p.returncode, p.stderr.strip()))
    ok(state(rom) == "0" and not os.path.exists(out) and not leftovers(tmp),
       "%s: the switch is off (%r), nothing written" % (name, state(rom)))

# a switch that cannot be turned off is said, with the command that does it
root, rom = host("fault-disable")
out = os.path.join(tmp, "fault-disable.rom")
p = dump(root, "01:00.0", "-o", out, GPUPASS_FAULT="3:enospc")
ok(p.returncode == 3 and "echo 0 > /sys/bus/pci/devices/0000:01:00.0/rom" in p.stderr and not os.path.exists(out),
   "a failed switch-off: exit 3, gives the command to switch it off, writes nothing (%s)" % p.stderr.strip())

# --- signals wait until the switch is off
for sig in (signal.SIGTERM, signal.SIGINT):
    root, rom = host("sig%d" % sig)
    out = os.path.join(tmp, "sig.rom")
    e = dict(os.environ, NO_COLOR="1", **env(GPUPASS_SHIM_ROM_DELAY_MS="1500"))
    e.pop("GPUPASS_FAULT", None)
    # a shell's background job starts with SIGINT ignored, and an ignored
    # signal stays ignored across exec: give the child the default action
    proc = subprocess.Popen([gpupass, "--root", root, "rom", "dump", "01:00.0", "-o", out], env=e,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # wait until the read has begun (the switch is on), then signal
    t0 = time.monotonic()
    while state(rom) != "1" and proc.poll() is None and time.monotonic() - t0 < 20:
        time.sleep(0.02)
    on = state(rom) == "1"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    ok(on and proc.returncode == -sig and state(rom) == "0" and not os.path.exists(out) and not leftovers(tmp),
       "%s during the read: the process ends by it after switching the rom off (rc %s, switch %r, was on %s)"
       % (signal.Signals(sig).name, proc.returncode, state(rom), on))

# --- refusals and bad input
root, rom = host("bootvga", image(0, False, device=0x2504) + image(3, True, device=0x2504), host="two-identical-gpus")
out = os.path.join(tmp, "bootvga.rom")
p = dump(root, "01:00.0", "-o", out)
ok(p.returncode == 2 and "shadow copy" in p.stderr and state(rom) is None and not os.path.exists(out),
   "the boot VGA device is refused (exit 2), the switch never touched (%d: %s)" % (p.returncode, p.stderr.strip()))
p = dump(root, "01:00.0", "-o", out, "--force")
ok(p.returncode == 0 and "shadow copy" in p.stderr and state(rom) == "0" and os.path.exists(out),
   "--force dumps it and says it is the shadow copy (%d: %s)" % (p.returncode, p.stderr.strip()))

root = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", "norom")
p = dump(root, "00:02.0", "-o", os.path.join(tmp, "igpu.rom"))
ok(p.returncode == 3 and "has no option ROM" in p.stderr, "a GPU without a rom attribute: exit 3 (%s)"
   % p.stderr.strip())
p = dump(root, "00:1f.0", "-o", os.path.join(tmp, "x.rom"))
ok(p.returncode == 3 and "not a GPU" in p.stderr, "a function that is no GPU: exit 3 (%s)" % p.stderr.strip())
p = dump(root, "01:00.0")
ok(p.returncode == 3 and "-o FILE" in p.stderr, "no -o: exit 3 (%s)" % p.stderr.strip())
p = dump(root, "01:00.0", "-o", "x", "--strip")
ok(p.returncode == 3 and "--strip" in p.stderr, "--strip is info's: exit 3 (%s)" % p.stderr.strip())

snap = os.path.join(tmp, "snap.tar.gz")
s = rootlib.run(gpupass, root, "snapshot", "-o", snap)
p = dump(snap, "01:00.0", "-o", os.path.join(tmp, "snap.rom"))
ok(s.returncode == 0 and p.returncode == 2 and "snapshot archive" in p.stderr,
   "a snapshot archive: refused, exit 2 (%d: %s)" % (p.returncode, p.stderr.strip()))

shutil.rmtree(tmp)
sys.exit(tap.done())
