#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs gpupass inside a real Debian kernel under QEMU, with an emulated IOMMU.

The guest is a q35 machine under TCG (no KVM needed: see
/work/shared/vm-lab/FINDINGS.md for why KVM is not used) with an Intel VT-d
(and then an AMD-Vi) IOMMU, a "GPU" made of a VGA + HDA multifunction slot,
an e1000e, a PCIe-to-PCI bridge whose devices share one IOMMU group, and an
NVMe with SR-IOV. tests/vm/init runs gpupass there step by step; this script
builds everything, boots, parses the serial log and prints TAP.

Nothing is installed: the kernel .deb is fetched with `apt-get download` into
a cache directory and unpacked there. When QEMU, busybox or the kernel cannot
be had, every test is skipped with the reason, never passed.

Usage: gpvm.py --gpupass BIN [--cache DIR] [--iommu intel,amd] [--timeout S]
Env:   KPKG=linux-image-X-amd64 picks the kernel package instead of
       resolving linux-image-amd64; GPUPASS_VM_KEEP=1 keeps the work dir.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Modules the guest loads, by name; their dependencies come from modules.dep.
MODULES = ["e1000e", "bochs", "snd-hda-intel", "snd-hda-codec-generic", "nvme",
           "irqbypass", "vfio", "vfio_iommu_type1", "vfio_virqfd", "vfio-pci-core", "vfio-pci"]

# The machine of FINDINGS.md, plus a secondary display (bochs-display,
# class 0x0380) behind the PCIe-to-PCI bridge: a GPU that shares its IOMMU
# group, which `bind` must refuse without --group.
DEVICES = [
    "-device", "pcie-root-port,id=rp1,chassis=1",
    "-device", "VGA,bus=rp1,addr=0x0.0,multifunction=on",
    "-device", "intel-hda,id=hda,bus=rp1,addr=0x0.1",
    "-audiodev", "none,id=snd0", "-device", "hda-output,bus=hda.0,audiodev=snd0",
    "-device", "pcie-root-port,id=rp2,chassis=2", "-device", "e1000e,bus=rp2",
    "-device", "pcie-root-port,id=rp3,chassis=3", "-device", "pcie-pci-bridge,id=br1,bus=rp3",
    "-device", "pci-testdev,bus=br1,addr=0x1", "-device", "i6300esb,bus=br1,addr=0x2",
    "-device", "bochs-display,bus=br1,addr=0x3",
    "-device", "pcie-root-port,id=rp4,chassis=4", "-device", "nvme-subsys,id=nvss",
    "-device", "nvme,bus=rp4,serial=gpupass,subsys=nvss,sriov_max_vfs=2,sriov_vq_flexible=4,"
               "sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=4",
]

# iommu: (QEMU device, kernel arguments, guest mode). Mode "full" runs every
# step of tests/vm/init (bind, unbind, snapshot); "list" only list and check.
IOMMUS = {
    # caching-mode=on: QEMU's VT-d needs it to show mappings to an assigned
    # device; intremap=on needs kernel-irqchip=split under KVM (none under TCG).
    "intel": (["-device", "intel-iommu,intremap=on,caching-mode=on"], "intel_iommu=on iommu=pt", "full"),
    # amd_iommu=on is no valid option: AMD-Vi is on by default.
    "amd": (["-device", "amd-iommu,intremap=on"], "iommu=pt", "full"),
}


class Skip(Exception):
    """Nothing can be tested: every test is reported as skipped with this reason."""


def log(msg):
    print("# " + msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ---------------------------------------------------------------- kernel cache

def resolve_kernel_pkg():
    """The versioned package behind linux-image-amd64 (the ABI changes often
    and old ones leave the mirror, so it is never hard-coded)."""
    if os.environ.get("KPKG"):
        return os.environ["KPKG"]
    if not shutil.which("apt-cache"):
        return None
    r = run(["apt-cache", "depends", "linux-image-amd64"])
    m = re.search(r"Depends:\s*(linux-image-\S+-amd64)\b", r.stdout)
    return m.group(1) if m else None


def modules_wanted_hash():
    return hashlib.sha256(" ".join(MODULES).encode()).hexdigest()[:12]


def kernel_ready(kdir):
    try:
        with open(os.path.join(kdir, ".ready")) as f:
            return f.read().strip() == modules_wanted_hash()
    except OSError:
        return False


def parse_modules_dep(path):
    """{normalized name: (relative path, [relative dependency paths])}"""
    deps = {}
    with open(path) as f:
        for line in f:
            if ":" not in line:
                continue
            mod, rest = line.split(":", 1)
            name = os.path.basename(mod.strip()).split(".ko")[0].replace("-", "_")
            deps[name] = (mod.strip(), rest.split())
    return deps


def module_closure(moddir):
    deps = parse_modules_dep(os.path.join(moddir, "modules.dep"))
    by_path = {p: d for p, d in deps.values()}
    need, todo = set(), []
    for m in MODULES:
        key = m.replace("-", "_")
        if key not in deps:
            raise RuntimeError(f"module {m} is not in {moddir}/modules.dep")
        todo.append(deps[key][0])
    while todo:
        p = todo.pop()
        if p in need:
            continue
        need.add(p)
        todo.extend(by_path.get(p, []))
    return sorted(need)


def unpack_kernel(deb, pkg, cache):
    """dpkg -x the .deb (about 400 MB), keep only the kernel image and the
    modules the guest needs (a few MB), and make their modules.dep: the .deb
    has none, its postinst runs depmod."""
    ver = pkg[len("linux-image-"):]
    kdir = os.path.join(cache, pkg)
    tmp = tempfile.mkdtemp(prefix="unpack.", dir=cache)
    out = f"{kdir}.new{os.getpid()}"
    try:
        r = run(["dpkg", "-x", deb, tmp])
        if r.returncode:
            raise RuntimeError(f"dpkg -x {deb} failed: {r.stderr.strip()}")
        moddir_rel = os.path.join("lib", "modules", ver)
        if not os.path.isdir(os.path.join(tmp, moddir_rel)):
            # merged /usr packages put the modules under usr/lib
            moddir_rel = os.path.join("usr", "lib", "modules", ver)
        r = run(["busybox", "depmod", "-b", tmp, ver])
        if r.returncode:
            raise RuntimeError(f"busybox depmod failed: {r.stderr.strip()}")
        need = module_closure(os.path.join(tmp, moddir_rel))
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(os.path.join(out, "boot"))
        shutil.copy(os.path.join(tmp, "boot", "vmlinuz-" + ver), os.path.join(out, "boot"))
        src_moddir = os.path.join(tmp, moddir_rel)
        dst_moddir = os.path.join(out, "lib", "modules", ver)
        for rel in need:
            os.makedirs(os.path.join(dst_moddir, os.path.dirname(rel)), exist_ok=True)
            shutil.copy(os.path.join(src_moddir, rel), os.path.join(dst_moddir, rel))
        for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
            if os.path.exists(os.path.join(src_moddir, f)):
                shutil.copy(os.path.join(src_moddir, f), dst_moddir)
        r = run(["busybox", "depmod", "-b", out, ver])
        if r.returncode:
            raise RuntimeError(f"busybox depmod failed: {r.stderr.strip()}")
        with open(os.path.join(out, ".ready"), "w") as f:
            f.write(modules_wanted_hash() + "\n")
        shutil.rmtree(kdir, ignore_errors=True)
        os.rename(out, kdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return kdir


def prepare_kernel(cache):
    """Returns (kernel dir, kernel version). Downloads once; a later run
    without network uses what the cache holds."""
    os.makedirs(cache, exist_ok=True)
    pkg = resolve_kernel_pkg()
    why = "apt-cache cannot resolve linux-image-amd64"
    if pkg:
        kdir = os.path.join(cache, pkg)
        if kernel_ready(kdir):
            return kdir, pkg[len("linux-image-"):]
        debs = os.path.join(cache, "debs")
        os.makedirs(debs, exist_ok=True)
        deb = next((os.path.join(debs, f) for f in sorted(os.listdir(debs))
                    if f.startswith(pkg + "_") and f.endswith(".deb")), None)
        if not deb:
            log(f"downloading {pkg} into {debs} (about 70 MB, once)")
            r = run(["apt-get", "download", pkg], cwd=debs)
            deb = next((os.path.join(debs, f) for f in sorted(os.listdir(debs))
                        if f.startswith(pkg + "_") and f.endswith(".deb")), None)
            if not deb:
                lines = r.stderr.strip().splitlines() or ["no output"]
                err = next((x for x in lines if x.startswith("E:")), lines[-1])
                why = f"apt-get download {pkg} failed: {err}"
        if deb:
            try:
                return unpack_kernel(deb, pkg, cache), pkg[len("linux-image-"):]
            except (RuntimeError, OSError) as e:
                why = str(e)
    # No network or no apt: any kernel the cache already holds will do.
    for d in sorted(os.listdir(cache), reverse=True):
        kdir = os.path.join(cache, d)
        if d.startswith("linux-image-") and kernel_ready(kdir):
            log(f"using the cached {d} ({why})")
            return kdir, d[len("linux-image-"):]
    raise Skip(f"no kernel: {why}, and none in {cache}")


# ---------------------------------------------------------------- initramfs

class Cpio:
    """A newc ("070701") cpio writer: the initramfs format. Written here so
    that no root (for device nodes) and no cpio tool is needed."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1
        self.seen = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name = name.lstrip("/")
        if name in self.seen:
            return
        self.seen.add(name)
        nb = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.buf.write(hdr + nb)
        self.buf.write(b"\0" * (-(len(hdr) + len(nb)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        if not name.strip("/"):
            return
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self._entry("/".join(parts[:i]), stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o644):
        self.dir(os.path.dirname(name.strip("/")))
        self._entry(name, stat.S_IFREG | mode, data)

    def copy(self, name, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        self.file(name, data, mode if mode is not None else (os.stat(src).st_mode & 0o777))

    def symlink(self, name, target):
        self.dir(os.path.dirname(name.strip("/")))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def gz(self):
        self._entry("TRAILER!!!", 0, nlink=1)
        return gzip.compress(self.buf.getvalue(), compresslevel=6, mtime=0)


def is_static(path):
    """True when the ELF file has no PT_INTERP program header."""
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:
            return False
        phoff = int.from_bytes(h[32:40], "little")
        phentsize = int.from_bytes(h[54:56], "little")
        phnum = int.from_bytes(h[56:58], "little")
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    return all(int.from_bytes(ph[i * phentsize:i * phentsize + 4], "little") != 3 for i in range(phnum))


def shared_libs(binary):
    """The paths `ldd` lists (libraries and the dynamic loader), as listed:
    the loader finds them there in the guest too."""
    r = run(["ldd", binary])
    if r.returncode:
        raise Skip(f"ldd {binary} failed: {r.stderr.strip() or r.stdout.strip()}")
    libs = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(", line)
        if m:
            libs.append(m.group(1))
        elif "not found" in line:
            raise Skip(f"ldd {binary}: {line.strip()}")
    return libs


def pci_ids_files():
    """libpci opens its pci.ids.gz path and falls back to the name without .gz."""
    return [p for p in ("/usr/share/misc/pci.ids", "/usr/share/misc/pci.ids.gz",
                        "/usr/share/hwdata/pci.ids") if os.path.exists(p)]


def base_initramfs(cache, kdir, ver, libs):
    """busybox, the modules, the shared libraries and pci.ids: cached by
    content key. Returns the path of the gzipped cpio."""
    busybox = shutil.which("busybox")
    inputs = [busybox, os.path.join(kdir, ".ready")] + libs + pci_ids_files()
    key = hashlib.sha256()
    for p in inputs:
        st = os.stat(p)
        key.update(f"{p} {st.st_size} {st.st_mtime_ns}\n".encode())
    key.update(kdir.encode())
    path = os.path.join(cache, f"base-{key.hexdigest()[:16]}.cpio.gz")
    if os.path.exists(path):
        return path
    for old in os.listdir(cache):
        if old.startswith("base-") and old.endswith(".cpio.gz"):
            os.unlink(os.path.join(cache, old))
    c = Cpio()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc", "root", "usr/bin"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.copy("bin/busybox", busybox, 0o755)
    applets = run([busybox, "--list"]).stdout.split()
    for a in applets:
        if a != "busybox":
            c.symlink("bin/" + a, "busybox")
    c.symlink("sbin/modprobe", "../bin/busybox")
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\n")
    for lib in libs:
        c.copy(lib, os.path.realpath(lib), 0o755)
    for ids in pci_ids_files():
        c.copy(ids, ids, 0o644)
    moddir = os.path.join(kdir, "lib", "modules", ver)
    for root, _dirs, files in os.walk(moddir):
        for f in sorted(files):
            full = os.path.join(root, f)
            c.copy(os.path.relpath(full, kdir), full, 0o644)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(c.gz())
    os.rename(tmp, path)
    return path


def run_initramfs(work, base, gpupass):
    """The base archive plus a second gzipped cpio with gpupass and /init:
    the kernel unpacks concatenated archives one after the other."""
    c = Cpio()
    c.copy("bin/gpupass", gpupass, 0o755)
    c.copy("init", os.path.join(HERE, "init"), 0o755)
    path = os.path.join(work, "initramfs.cpio.gz")
    with open(path, "wb") as out, open(base, "rb") as b:
        shutil.copyfileobj(b, out)
        out.write(c.gz())
    return path


# ---------------------------------------------------------------- boot

def boot(kernel, initrd, iommu, logpath, timeout):
    dev, append, mode = IOMMUS[iommu]
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-M", "q35,kernel-irqchip=split",
           "-m", "1024", "-smp", "2", "-nographic", "-no-reboot", "-vga", "none", "-net", "none",
           "-serial", "file:" + logpath, "-monitor", "none"] + dev + DEVICES + [
           "-kernel", kernel, "-initrd", initrd,
           "-append", f"console=ttyS0 {append} panic=-1 quiet gpvm_mode={mode}"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        timed_out = True
    secs = time.monotonic() - t0
    with open(logpath, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    return {"cmd": cmd, "rc": p.returncode, "timed_out": timed_out, "secs": secs,
            "qemu_out": out.decode("utf-8", "replace"), "log": text}


MARK = re.compile(r"@@(BEGIN|STDERR|END|GUEST) (\S+)(?: rc=(\d+))?")


def parse_steps(text):
    """{name: {"out": str, "err": str, "rc": int}} from the serial log."""
    steps, cur, where = {}, None, None
    for line in text.split("\n"):
        m = MARK.search(line)
        if m and cur is not None and m.start() > 0:
            cur[where].append(line[:m.start()])
        elif not m:
            if cur is not None:
                cur[where].append(line)
            continue
        kind, name, rc = m.groups()
        if kind == "BEGIN":
            cur, where = {"out": [], "err": [], "rc": None}, "out"
        elif kind == "STDERR" and cur is not None:
            where = "err"
        elif kind == "END" and cur is not None:
            # step() prints a newline after stdout: drop it
            if cur["out"] and cur["out"][-1] == "":
                cur["out"].pop()
            steps[name] = {"out": "\n".join(cur["out"]), "err": "\n".join(cur["err"]).strip(),
                           "rc": int(rc) if rc else None}
            cur = None
    return steps


# ---------------------------------------------------------------- assertions

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=()):
        self.n += 1
        print(("ok" if cond else "not ok") + f" {self.n} - {name}", flush=True)
        if not cond:
            self.failed += 1
            for d in diag:
                for line in str(d).splitlines()[:40]:
                    print("#   " + line)

    def skip(self, name, why):
        self.n += 1
        print(f"ok {self.n} - {name} # SKIP {why}", flush=True)


def full(addr):
    return addr if addr.count(":") == 2 else "0000:" + addr


def kernel_groups(step):
    groups = {}
    for line in step["out"].splitlines():
        if ":" in line and line.split(":", 1)[0].isdigit():
            g, devs = line.split(":", 1)
            groups[int(g)] = set(devs.split())
    return groups


def state_of(step):
    drivers, vfio = {}, set()
    for line in (step or {}).get("out", "").splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == "pci":
            drivers[f[1]] = f[2]
        elif len(f) == 2 and f[0] == "vfio":
            vfio.add(f[1])
    return drivers, vfio


def json_of(step):
    try:
        return json.loads(step["out"])
    except (ValueError, TypeError, KeyError):
        return None


def describe(step):
    if step is None:
        return ["the guest never ran this step"]
    return [f"rc={step['rc']}", "stdout: " + step["out"][-1500:], "stderr: " + step["err"][-1500:]]


def diff_state(a, b):
    da, va = a
    db, vb = b
    out = [f"{k}: {da.get(k)} -> {db.get(k)}" for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)]
    if va != vb:
        out.append(f"/dev/vfio: {sorted(va)} -> {sorted(vb)}")
    return out


# What each boot checks, by name, in order; run() returns (ok, diagnostics).
# Kept as data so that a changed expectation is one line here.
def checks_common(tag):
    def groups(s, ctx):
        g = kernel_groups(s.get("groups", {"out": ""}))
        ctx["groups"] = g
        return len(g) >= 9, [f"kernel groups: {g}"]

    def list_json(s, ctx):
        j = json_of(s.get("list"))
        ctx["list"] = j
        ok = j is not None and j.get("iommu", {}).get("enabled") is True \
            and j["iommu"].get("groups") == len(ctx["groups"])
        return ok, describe(s.get("list")) + [f"kernel has {len(ctx['groups'])} groups"]

    def list_groups(s, ctx):
        j, g = ctx.get("list") or {}, ctx["groups"]
        bad = []
        gpus = j.get("gpus", [])
        for gpu in gpus:
            members = {m["address"] for m in gpu.get("group_members", [])}
            kg = g.get(gpu.get("iommu_group"), set())
            if members != kg:
                bad.append(f"{gpu['address']}: gpupass group {gpu.get('iommu_group')} {sorted(members)}"
                           f", kernel {sorted(kg)}")
        addrs = {gpu["address"] for gpu in gpus}
        want = {"0000:01:00.0", "0000:04:03.0"}
        if not want <= addrs:
            bad.append(f"GPUs found {sorted(addrs)}, want {sorted(want)}")
        return not bad, bad

    def list_functions(s, ctx):
        gpus = {g["address"]: g for g in (ctx.get("list") or {}).get("gpus", [])}
        g = gpus.get("0000:01:00.0", {})
        return g.get("functions") == ["0000:01:00.0", "0000:01:00.1"], [f"01:00.0: {g.get('functions')}"]

    def list_shared(s, ctx):
        gpus = {g["address"]: g for g in (ctx.get("list") or {}).get("gpus", [])}
        a = gpus.get("0000:01:00.0", {})
        b = gpus.get("0000:04:03.0", {})
        # shared_with may hold addresses or objects: compare addresses
        shared = {x["address"] if isinstance(x, dict) else x for x in (b.get("shared_with") or [])}
        ok = a.get("verdict") == "isolated" and b.get("verdict") != "isolated" \
            and {"0000:04:01.0", "0000:04:02.0"} <= shared
        return ok, [f"01:00.0 verdict {a.get('verdict')}; 04:03.0 verdict {b.get('verdict')}, "
                    f"shared with {b.get('shared_with')}"]

    def check_json(s, ctx):
        j = json_of(s.get("check"))
        f = {x["id"]: x for x in (j or {}).get("findings", [])}
        act = f.get("iommu.active", {})
        return (s.get("check") or {}).get("rc") in (0, 1, 2) and act.get("severity") == "pass", \
            describe(s.get("check")) + [f"iommu.active: {act}"]

    return [
        (f"{tag}: the kernel built IOMMU groups", groups),
        (f"{tag}: list --json: IOMMU enabled, as many groups as the kernel", list_json),
        (f"{tag}: list --json: each GPU's group members are the kernel's group", list_groups),
        (f"{tag}: list --json: the GPU's functions are VGA + HDA", list_functions),
        (f"{tag}: list --json: 01:00.0 isolated, 04:03.0 shares its group with 04:01.0 and 04:02.0", list_shared),
        (f"{tag}: check --json: the kernel IOMMU layer passes", check_json),
    ]


def checks_full(tag, gpupass, work):
    def step_rc(name, want, extra=None):
        def f(s, ctx):
            st = s.get(name)
            ok = st is not None and st["rc"] == want
            diag = describe(st)
            if ok and extra:
                ok2, d2 = extra(s, ctx)
                return ok2, diag + d2
            return ok, diag
        return f

    def unchanged(before, after):
        def f(s, ctx):
            a, b = state_of(s.get(before)), state_of(s.get(after))
            return bool(a[0]) and a == b, diff_state(a, b) or ["no state"]
        return f

    def bound(s, ctx):
        d, v = state_of(s.get("state-bound"))
        grp = next((g for g, m in ctx["groups"].items() if "0000:01:00.0" in m), None)
        ok = d.get("0000:01:00.0") == "vfio-pci" and d.get("0000:01:00.1") == "vfio-pci" and str(grp) in v
        rest = diff_state(state_of(s.get("state0")), (d, v))
        others = [x for x in rest if not x.startswith("0000:01:00.") and not x.startswith("/dev/vfio")]
        return ok and not others, [f"01:00.0 {d.get('0000:01:00.0')}, 01:00.1 {d.get('0000:01:00.1')}, "
                                   f"/dev/vfio {sorted(v)} (group {grp})"] + others

    def restored(s, ctx):
        a, b = state_of(s.get("state0")), state_of(s.get("state-unbound"))
        ok = bool(a[0]) and a == b and b[0].get("0000:01:00.0") == "bochs-drm" \
            and b[0].get("0000:01:00.1") == "snd_hda_intel"
        return ok, diff_state(a, b) or [f"drivers {b[0]}"]

    def group_bound(s, ctx):
        d, v = state_of(s.get("state-group"))
        grp = next((g for g, m in ctx["groups"].items() if "0000:04:03.0" in m), None)
        members = ctx["groups"].get(grp, set()) - {"0000:03:00.0"}  # the bridge stays with the host
        ok = bool(members) and all(d.get(m) == "vfio-pci" for m in members) and str(grp) in v
        return ok, [f"group {grp}: " + ", ".join(f"{m} {d.get(m)}" for m in sorted(members)),
                    f"/dev/vfio {sorted(v)}"]

    def status_bound(s, ctx):
        st = s.get("status-bound")
        return st is not None and st["rc"] == 0 and "vfio-pci" in st["out"], describe(st)

    def snapshot_replay(s, ctx):
        b64 = (s.get("snapshot-b64") or {}).get("out", "")
        try:
            data = base64.b64decode("".join(b64.split()), validate=True)
        except ValueError as e:
            return False, [f"base64: {e}"]
        snap = os.path.join(work, f"{tag}-snap.tar.gz")
        with open(snap, "wb") as f:
            f.write(data)
        r = run([gpupass, "--root", snap, "list", "--json"])
        try:
            host = json.loads(r.stdout)
        except ValueError:
            return False, [f"replay rc={r.returncode}", r.stdout[-1500:], r.stderr[-1500:]]
        guest = json_of(s.get("list-final"))
        if host == guest:
            return True, []
        diff = [f"replay differs from the guest's list --json (rc={r.returncode})"]
        hs, gs = json.dumps(host, indent=1).splitlines(), json.dumps(guest, indent=1).splitlines()
        diff += [f"guest: {g}  replay: {h}" for g, h in zip(gs, hs) if g != h][:20]
        return False, diff

    def rom_bytes(s, ctx):
        b64 = (s.get("rom-b64") or {}).get("out", "")
        try:
            data = base64.b64decode("".join(b64.split()), validate=True)
        except ValueError as e:
            return False, [f"base64: {e}"]
        # QEMU loads bochs-display's ROM from this file; the kernel's read
        # stops at the end of the image chain, not at the padded BAR
        src = next((p for p in ("/usr/share/qemu/vgabios-bochs-display.bin",
                                "/usr/share/seabios/vgabios-bochs-display.bin") if os.path.exists(p)), None)
        if src is None:
            return data[:2] == b"\x55\xaa", [f"{len(data)} bytes, no vgabios-bochs-display.bin to compare"]
        want = open(src, "rb").read()
        return data == want, [f"dump {len(data)} bytes, {src} {len(want)} bytes"]

    def rom_info(s, ctx):
        j = json_of(s.get("rom-info")) or {}
        im = (j.get("rom") or {}).get("images") or [{}]
        return im[0].get("id") == "1234:1111" and im[0].get("code_type") == "x86 BIOS", \
            describe(s.get("rom-info"))

    def rom_off(s, ctx):
        st = s.get("rom-switch-off")
        return st is not None and st["rc"] != 0 and "Invalid argument" in st["err"], describe(st)

    def sriov_state(name, num):
        def f(s, ctx):
            j = json_of(s.get(name)) or {}
            vfs = j.get("vfs") or []
            groups = {v.get("iommu_group") for v in vfs}
            ok = j.get("total_vfs") == 2 and j.get("num_vfs") == num and len(vfs) == num \
                and None not in groups and len(groups) == num
            return ok, describe(s.get(name))
        return f

    def final_same(s, ctx):
        a, b = json_of(s.get("list")), json_of(s.get("list-final"))
        return a is not None and a == b, ["list --json after all binds and unbinds differs from the first one"]

    return [
        (f"{tag}: status exits 0", step_rc("status", 0)),
        (f"{tag}: bind 01:00.0 (the boot display) without --force is refused with exit 2",
         step_rc("refuse-bootvga", 2)),
        (f"{tag}: the refused bind 01:00.0 changes nothing", unchanged("state0", "state-refuse-bootvga")),
        (f"{tag}: bind --dry-run --force 01:00.0 exits 0", step_rc("bind-dry", 0)),
        (f"{tag}: bind --dry-run changes nothing", unchanged("state0", "state-dry")),
        (f"{tag}: bind --force 01:00.0 exits 0", step_rc("bind", 0)),
        (f"{tag}: bind 01:00.0 puts both functions on vfio-pci and /dev/vfio/N appears, nothing else moves", bound),
        (f"{tag}: status 01:00.0 exits 0 and shows vfio-pci", status_bound),
        (f"{tag}: unbind 01:00.0 exits 0", step_rc("unbind", 0)),
        (f"{tag}: unbind gives back bochs-drm and snd_hda_intel, /dev/vfio/N is gone", restored),
        (f"{tag}: a bind whose second device fails exits 2", step_rc("bind-rollback", 2)),
        (f"{tag}: ...and is rolled back: every driver as before, no /dev/vfio node",
         unchanged("state-unbound", "state-rollback")),
        # not a GPU is a wrong argument, not a refusal: exit 3 ("could not run")
        (f"{tag}: bind 04:01.0 (no GPU) is rejected with exit 3", step_rc("refuse-nongpu", 3)),
        (f"{tag}: the refused bind 04:01.0 changes nothing", unchanged("state-unbound", "state-refuse-nongpu")),
        (f"{tag}: bind 04:03.0 (GPU in a shared group) without --group is refused with exit 2",
         step_rc("refuse-shared", 2)),
        (f"{tag}: the refused bind 04:03.0 changes nothing", unchanged("state-unbound", "state-refuse-shared")),
        (f"{tag}: bind --group --reset-method bus 04:03.0, which the kernel refuses, exits 2",
         step_rc("reset-refused", 2)),
        (f"{tag}: ...and is rolled back: nothing moved", unchanged("state-unbound", "state-reset-refused")),
        (f"{tag}: bind --group 04:03.0 exits 0", step_rc("bind-group", 0)),
        (f"{tag}: bind --group puts every endpoint of the group on vfio-pci", group_bound),
        (f"{tag}: unbind 04:03.0 exits 0", step_rc("unbind-group", 0)),
        (f"{tag}: unbind 04:03.0 gives every device its driver (or none) back",
         unchanged("state0", "state-group-unbound")),
        (f"{tag}: rom dump 01:00.0 (the boot VGA, a shadow copy) is refused with exit 2",
         step_rc("rom-bootvga", 2)),
        (f"{tag}: rom dump --force 01:00.0 reads the shadow copy (legacy only: exit 1)",
         step_rc("rom-bootvga-force", 1)),
        (f"{tag}: rom dump 04:03.0 exits 1 (a legacy-only VGA BIOS)", step_rc("rom-dump", 1)),
        (f"{tag}: the rom switch is off after the dump: reading the attribute fails with EINVAL", rom_off),
        (f"{tag}: the dump is QEMU's bochs-display ROM byte for byte", rom_bytes),
        (f"{tag}: rom info 04:03.0 --json lists an x86 BIOS image for 1234:1111", rom_info),
        (f"{tag}: sriov 05:00.0 --json: the nvme offers 2 VFs, none enabled", sriov_state("sriov-show", 0)),
        (f"{tag}: sriov 05:00.0 --vfs 2 --apply exits 0", step_rc("sriov-on", 0)),
        (f"{tag}: ...and the kernel made 2 VFs, each in its own IOMMU group", sriov_state("sriov-state", 2)),
        (f"{tag}: sriov 05:00.0 --vfs 0 --apply exits 0", step_rc("sriov-off", 0)),
        (f"{tag}: ...and the VFs are gone", sriov_state("sriov-after", 0)),
        (f"{tag}: both sriov transactions undo", lambda s, ctx: (
            (s.get("sriov-undo") or {}).get("rc") == 0 and (s.get("sriov-undo2") or {}).get("rc") == 0,
            describe(s.get("sriov-undo")) + describe(s.get("sriov-undo2")))),
        (f"{tag}: list --json after all of it equals the first one", final_same),
        (f"{tag}: snapshot exits 0", step_rc("snapshot", 0)),
        (f"{tag}: the snapshot replayed on the host gives the guest's list --json", snapshot_replay),
    ]


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gpupass", required=True)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--top", default=os.path.dirname(os.path.dirname(HERE)))
    ap.add_argument("--iommu", default="intel,amd")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--logdir", default=None, help="keep the serial logs here")
    a = ap.parse_args()
    cache = a.cache or os.environ.get("GPUPASS_VM_CACHE") or os.path.join(a.top, "build", "vm-cache")
    cache = os.path.abspath(cache)
    gpupass = os.path.abspath(a.gpupass)
    iommus = [x for x in a.iommu.split(",") if x]

    plan = []  # (iommu, boot test name, checks)
    work = tempfile.mkdtemp(prefix="gpvm.")
    for iommu in iommus:
        tag = f"{iommu}-iommu"
        checks = list(checks_common(tag))
        if IOMMUS[iommu][2] == "full":
            checks += checks_full(tag, gpupass, work)
        plan.append((iommu, f"{tag}: the guest boots and runs every step", checks))

    tap = Tap()
    try:
        try:
            for tool in ("qemu-system-x86_64", "busybox"):
                if not shutil.which(tool):
                    raise Skip(f"{tool} not found (apt-get install qemu-system-x86 busybox-static)")
            if not is_static(shutil.which("busybox")):
                raise Skip("busybox is not static (apt-get install busybox-static)")
            if not os.access(gpupass, os.X_OK):
                raise Skip(f"{gpupass} is not an executable")
            t0 = time.monotonic()
            kdir, ver = prepare_kernel(cache)
            libs = [] if is_static(gpupass) else shared_libs(gpupass)
            base = base_initramfs(cache, kdir, ver, libs)
            initrd = run_initramfs(work, base, gpupass)
            log(f"kernel {ver}, initramfs {os.path.getsize(initrd) // 1024} KiB, "
                f"ready in {time.monotonic() - t0:.1f} s")
        except Skip as e:
            for _iommu, bname, checks in plan:
                tap.skip(bname, str(e))
                for name, _f in checks:
                    tap.skip(name, str(e))
            return 0
        kernel = os.path.join(kdir, "boot", "vmlinuz-" + ver)
        logdir = a.logdir or os.path.join(cache, "logs")
        os.makedirs(logdir, exist_ok=True)
        for iommu, bname, checks in plan:
            logpath = os.path.join(logdir, f"{iommu}.log")
            b = boot(kernel, initrd, iommu, logpath, a.timeout)
            steps = parse_steps(b["log"])
            done = "@@GUEST done" in b["log"]
            log(f"{iommu}-iommu boot: {b['secs']:.1f} s, qemu rc {b['rc']}, serial log {logpath}")
            why = f"QEMU killed after {a.timeout:.0f} s" if b["timed_out"] else f"qemu exited {b['rc']}"
            # SeaBIOS and the kernel write escape sequences: keep TAP printable
            tail = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]", "", x)
                    for x in b["log"].strip().splitlines()[-25:]]
            tap.ok(done and not b["timed_out"], bname,
                   [why, "qemu: " + b["qemu_out"].strip()[-800:], "serial log tail:"] + tail)
            if "@@GUEST up" not in b["log"]:
                for name, _f in checks:
                    tap.ok(False, name, ["the guest did not start (see the boot test)"])
                continue
            ctx = {}
            for name, f in checks:
                try:
                    ok, diag = f(steps, ctx)
                except Exception as e:  # a malformed answer is a failure, not a crash
                    ok, diag = False, [f"{type(e).__name__}: {e}"]
                tap.ok(ok, name, diag)
    finally:
        if os.environ.get("GPUPASS_VM_KEEP"):
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        print(f"1..{tap.n}", flush=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
