#!/usr/bin/env python3
"""`gpupass vm VMID --gpu GPU --romfile FILE` on a copy of the pve8-intel-1gpu fixture: the
ROM is judged for the GPU and the VM's firmware, copied to /usr/share/kvm/ (image chain only)
and named in hostpciN as romfile=; refusals change nothing; undo restores the tree. TAP.
Env: GPUPASS (binary), HOSTS (fixture roots)."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402
from romlib import image  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
hosts = os.path.abspath(os.environ["HOSTS"])
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-vmrom-")
CONF = "etc/pve/nodes/pve1/qemu-server/%s.conf"

GOOD = image(0, False) + image(3, True)          # 10de:2684 (the fixture's RTX 4090), legacy + x64 EFI


def romfile(name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def conf(root, vmid):
    return open(os.path.join(root, CONF % vmid)).read()


def vm(root, *args):
    return rootlib.run(gpupass, root, "vm", *args)


# --- a ROM with a vendor header: planned, then applied, then undone
root = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", "hdr")
before = rootlib.config_tree(root)
hdr = romfile("rtx4090.rom", b"NVGI" + b"\x00" * 508 + GOOD)
p = vm(root, "101", "--gpu", "01:00.0", "--romfile", hdr)
ok(p.returncode == 0 and "b/usr/share/kvm/rtx4090.rom" in p.stdout and "romfile=rtx4090.rom" in p.stdout
   and "512-byte vendor header" in p.stdout, "plan: copies the ROM and adds romfile= (%d: %s)"
   % (p.returncode, p.stderr.strip()), p.stdout)
ok("gpupass rom info %s --strip -o /usr/share/kvm/rtx4090.rom" % hdr in p.stdout,
   "the by-hand equivalent copies the stripped ROM before qm set", p.stdout)
ok(rootlib.config_tree(root) == before, "without --apply nothing is written")

p = vm(root, "101", "--gpu", "01:00.0", "--romfile", hdr, "--apply")
kvm = os.path.join(root, "usr/share/kvm/rtx4090.rom")
ok(p.returncode == 0 and os.path.exists(kvm) and open(kvm, "rb").read() == GOOD,
   "--apply: /usr/share/kvm/rtx4090.rom holds the image chain without the header (%d: %s)"
   % (p.returncode, p.stderr.strip()))
ok("romfile=rtx4090.rom" in conf(root, 101) and oct(os.stat(kvm).st_mode & 0o777) == "0o644",
   "--apply: hostpci names it, the ROM is 0644", conf(root, 101))
p = rootlib.run(gpupass, root, "vm", "lint", "101", "--json")
ok("rom.ovmf-ok" in p.stdout and "vm.romfile-missing" not in p.stdout, "vm lint judges the copied ROM usable",
   p.stdout[-1500:])
p = vm(root, "101", "--gpu", "01:00.0", "--romfile", hdr)
ok(p.returncode == 0 and "Nothing to do" in p.stdout, "again: nothing to do", p.stdout)
p = rootlib.run(gpupass, root, "undo")
ok(p.returncode == 0 and rootlib.tree_diff(before, rootlib.config_tree(root)) == [],
   "undo removes the ROM and restores the config byte for byte (%s)"
   % rootlib.tree_diff(before, rootlib.config_tree(root)))

# --- refusals: nothing planned, nothing written
REFUSE = [
    # name, file name, bytes, vmid, extra args, rc, text in stderr
    ("legacy-ovmf", "legacy.rom", image(0, True), "101", [], 2, "OVMF"),
    ("other-card", "a4000.rom", image(0, False, device=0x24b0) + image(3, True, device=0x24b0), "101", [], 2,
     "10de:24b0"),
    ("all-ff", "ff.rom", b"\xff" * 4096, "101", [], 2, "romfile"),
    ("truncated", "cut.rom", GOOD[:1536], "101", [], 2, "romfile"),
    ("same-name", "rtx4090-legacy.rom", GOOD, "101", [], 2, "exists with other content"),
    ("bad-name", "bad name.rom", GOOD, "101", [], 3, "no plain file name"),
    ("libvirt", "x.rom", GOOD, None, ["--libvirt"], 3, "--romfile is for a Proxmox VM"),
]
for name, fname, data, vmid, extra, rc, text in REFUSE:
    root = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", name)
    before = rootlib.config_tree(root)
    path = romfile(fname, data)
    args = ([vmid] if vmid else []) + ["--gpu", "01:00.0", "--romfile", path, "--apply"] + extra
    if name == "libvirt":
        args.remove("--apply")
    p = vm(root, *args)
    ok(p.returncode == rc and text in p.stderr, "%s: exit %d, says %r (%d: %s)"
       % (name, rc, text, p.returncode, p.stderr.strip()))
    ok(rootlib.config_tree(root) == before, "%s: nothing written" % name)

p = vm(root, "101", "--gpu", "01:00.0", "--romfile", os.path.join(tmp, "missing.rom"))
ok(p.returncode == 3 and "missing.rom" in p.stderr, "a missing ROM file: exit 3, named (%s)" % p.stderr.strip())

# --- what --keep-bios and --force allow
root = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", "seabios")
p = vm(root, "101", "--gpu", "01:00.0", "--keep-bios", "--romfile", romfile("legacy.rom", image(0, True)), "--apply")
ok(p.returncode == 0 and "romfile=legacy.rom" in conf(root, 101) and "bios: ovmf" not in conf(root, 101),
   "a legacy-only ROM on a VM that keeps SeaBIOS is copied (%d: %s)" % (p.returncode, p.stderr.strip()))
root = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", "force")
p = vm(root, "101", "--gpu", "01:00.0", "--force", "--romfile", romfile("rtx4090-legacy.rom", GOOD), "--apply")
ok(p.returncode == 0 and open(os.path.join(root, "usr/share/kvm/rtx4090-legacy.rom"), "rb").read() == GOOD,
   "--force replaces a different ROM of the same name (%d: %s)" % (p.returncode, p.stderr.strip()))
p = rootlib.run(gpupass, root, "undo")
ok(p.returncode == 0 and open(os.path.join(root, "usr/share/kvm/rtx4090-legacy.rom"), "rb").read() != GOOD,
   "...and undo puts the old one back (%d)" % p.returncode)

shutil.rmtree(tmp)
sys.exit(tap.done())
