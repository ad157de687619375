#!/usr/bin/env python3
"""Generate fixture host roots (sysfs/procfs/etc trees) from *.host descriptions.

usage: mkhost.py OUTDIR [name...]      (re)generate hosts into OUTDIR/<name>/
       mkhost.py --manifest name        print "bdf vendor:device class driver" per PCI function

Python 3 standard library only.  See README.md for the description format.
"""
import hashlib
import os
import re
import shlex
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KVER = "6.8.12-4-pve"

# ---------------------------------------------------------------- helpers

SIZES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(s):
    s = s.strip()
    if s[-1] in SIZES:
        return int(s[:-1]) * SIZES[s[-1]]
    return int(s, 0)


def speed_str(gen):
    return {0: "Unknown", 1: "2.5 GT/s PCIe", 2: "5.0 GT/s PCIe", 3: "8.0 GT/s PCIe",
            4: "16.0 GT/s PCIe", 5: "32.0 GT/s PCIe", 6: "64.0 GT/s PCIe"}[gen]


# kernel IORESOURCE_* flags
IO_IO, IO_MEM, IO_PREF, IO_RO, IO_SIZEALIGN, IO_MEM64 = 0x100, 0x200, 0x2000, 0x4000, 0x40000, 0x100000

# driver name -> module name (None: built in)
DRV_MODULE = {
    "pcieport": None, "vfio-pci": "vfio_pci", "nvidia": "nvidia", "nouveau": "nouveau",
    "amdgpu": "amdgpu", "radeon": "radeon", "i915": "i915", "xe": "xe",
    "snd_hda_intel": "snd_hda_intel", "ahci": "ahci",
    "nvme": "nvme", "e1000e": "e1000e", "igb": "igb", "i40e": "i40e", "ixgbe": "ixgbe",
    "mlx5_core": "mlx5_core", "xhci_hcd": "xhci_pci", "i801_smbus": "i2c_i801",
    "piix4_smbus": "i2c_piix4", "mei_me": "mei_me", "ast": "ast", "ccp": "ccp",
    "ptdma": "ptdma", "iwlwifi": "iwlwifi", "r8169": "r8169", "intel-spi": "spi_intel_pci",
    "k10temp": "k10temp", "i10nm_edac": "i10nm_edac", "intel_pmc_core": "intel_pmc_core",
}
MODULE_SIZE = {
    "vfio_pci": 16384, "nvidia": 54566912, "nouveau": 2998272, "amdgpu": 12365824,
    "i915": 3903488, "snd_hda_intel": 61440, "ahci": 49152, "nvme": 61440, "e1000e": 348160,
    "igb": 290816, "i40e": 577536, "ixgbe": 425984, "mlx5_core": 2379776, "xhci_pci": 24576,
    "i2c_i801": 36864, "i2c_piix4": 32768, "mei_me": 53248, "ast": 94208, "ccp": 131072,
    "ptdma": 24576, "iwlwifi": 471040, "r8169": 114688, "spi_intel_pci": 12288,
    "k10temp": 16384, "i10nm_edac": 36864, "vfio": 69632, "vfio_iommu_type1": 49152,
    "vfio_pci_core": 86016, "kvm": 1409024, "kvm_intel": 487424, "kvm_amd": 208896,
    "zfs": 6037504, "nvidia_modeset": 1540096, "nvidia_uvm": 4911104, "nvidia_drm": 122880,
    "intel_pmc_core": 118784,
}


# vGPU types on the VFs of a PF with vfvgpu=nvidia|mdev (illustrative type IDs and names,
# in the formats of the NVIDIA vGPU manager): nvidia/ is the per-VF interface of kernels
# >= 6.8 ("ID : name" lines, the types creatable now; current_vgpu_type 0 = none);
# mdev_supported_types/ the mediated-device one (name, available_instances).
VGPU_TYPES = [("1155", "NVIDIA L40S-1Q", 1), ("1156", "NVIDIA L40S-2Q", 1), ("1161", "NVIDIA L40S-48Q", 0)]


def write_vgpu_types(w, p, kind, vfindex):
    if kind == "nvidia":
        # the first VF has a vGPU type set: the others can still take the small ones
        cur = VGPU_TYPES[0][0] if vfindex == 0 else "0"
        types = [t for t in VGPU_TYPES if t[2]] if vfindex else []
        w.file(p + "/nvidia/creatable_vgpu_types", "".join("%s : %s\n" % (i, n) for i, n, _ in types))
        w.file(p + "/nvidia/current_vgpu_type", cur + "\n")
    elif kind == "mdev":
        for i, n, avail in VGPU_TYPES:
            t = p + "/mdev_supported_types/nvidia-" + i
            w.file(t + "/name", n + "\n")
            w.file(t + "/available_instances", "%d\n" % avail)
            w.file(t + "/device_api", "vfio-pci\n")


class Dev:
    def __init__(self, dom, bus, dev, fn):
        self.dom, self.bus, self.slot, self.fn = dom, bus, dev, fn
        self.opts = {}
        self.flags = set()
        self.children = []
        self.parent = None
        self.vfs = []
        self.physfn = None
        self.vfindex = None

    @property
    def devfn(self):
        return (self.slot << 3) | self.fn

    @property
    def bdf(self):
        return "%04x:%02x:%02x.%x" % (self.dom, self.bus, self.slot, self.fn)

    def key(self):
        return (self.dom, self.bus, self.devfn)

    @property
    def is_bridge(self):
        return self.cls >> 8 in (0x0604, 0x0609)


def parse_bdf(s):
    parts = s.split(":")
    dom = 0
    if len(parts) == 3:
        dom = int(parts[0], 16)
        parts = parts[1:]
    bus = int(parts[0], 16)
    d, f = parts[1].split(".")
    return dom, bus, int(d, 16), int(f, 16)


class Host:
    def __init__(self, name):
        self.name = name
        self.devs = {}          # bdf -> Dev
        self.order = []
        self.rcs = {}           # (dom,bus) -> numa
        self.kv = {}
        self.cmdline = ""
        self.disks = []         # dicts
        self.nics = []
        self.extra_modules = []
        self.iomem_extra = []
        self.cpu = ("intel", "Intel(R) Core(TM) i7-12700K", 4)

    # ---------------------------------------------------- description parsing
    def add_dev(self, bdf, ids, subsys, cls, rev, *opts):
        d = Dev(*parse_bdf(bdf))
        d.vendor, d.device = (int(x, 16) for x in ids.split(":"))
        d.svendor, d.sdevice = (int(x, 16) for x in subsys.split(":"))
        d.cls = int(cls, 16)
        d.rev = int(rev, 16)
        for o in opts:
            if "=" in o:
                k, v = o.split("=", 1)
                d.opts[k] = v
            else:
                d.flags.add(o)
        if d.bdf in self.devs:
            raise SystemExit("%s: duplicate device %s" % (self.name, d.bdf))
        self.devs[d.bdf] = d
        self.order.append(d)
        return d

    def line(self, toks, raw):
        kw = toks[0]
        if kw == "dev":
            self.add_dev(*toks[1:])
        elif kw == "rc":
            dom, bus = (int(x, 16) for x in toks[1].split(":"))
            numa = -1
            for t in toks[2:]:
                if t.startswith("numa="):
                    numa = int(t[5:])
            self.rcs[(dom, bus)] = numa
        elif kw == "cmdline":
            self.cmdline = raw.split(None, 1)[1]
        elif kw == "cpu":
            self.cpu = (toks[1], toks[2], int(toks[3]))
        elif kw == "disk":
            d = {"name": toks[1]}
            for t in toks[2:]:
                k, v = t.split("=", 1)
                d[k] = v
            self.disks.append(d)
        elif kw == "nic":
            n = {"name": toks[1]}
            for t in toks[2:]:
                if "=" in t:
                    k, v = t.split("=", 1)
                    n[k] = v
                else:
                    n[t] = True
            self.nics.append(n)
        elif kw == "modules":
            self.extra_modules += toks[1:]
        elif kw == "iomem":
            self.iomem_extra.append(raw.split(None, 1)[1])
        elif kw in HELPERS:
            HELPERS[kw](self, toks[1:])
        else:
            self.kv[kw] = raw.split(None, 1)[1] if len(toks) > 1 else ""

    # ---------------------------------------------------- topology
    def finish(self):
        # SR-IOV VFs
        for d in list(self.order):
            if "sriov" in d.opts:
                total, num, off, stride, vfdev = d.opts["sriov"].split(":")
                d.sriov = dict(total=int(total), num=int(num), off=int(off),
                               stride=int(stride), vfdev=int(vfdev, 16))
                for i in range(d.sriov["num"]):
                    rid = (d.bus << 8 | d.devfn) + d.sriov["off"] + i * d.sriov["stride"]
                    vf = Dev(d.dom, rid >> 8, (rid >> 3) & 0x1f, rid & 7)
                    vf.vendor, vf.device = d.vendor, d.sriov["vfdev"]
                    vf.svendor, vf.sdevice = d.svendor, d.sdevice
                    vf.cls, vf.rev = d.cls, d.rev
                    vf.opts = {"t": "ep", "link": d.opts.get("link", "1x1"),
                               "bars": d.opts.get("vfbars", "0:1M:m64")}
                    if "vfdrv" in d.opts:
                        vf.opts["drv"] = d.opts["vfdrv"]
                    if "numa" in d.opts:
                        vf.opts["numa"] = d.opts["numa"]
                    vf.flags = {"flr"}
                    vf.physfn, vf.vfindex = d, i
                    vf.sriov = None
                    d.vfs.append(vf)
                    self.devs[vf.bdf] = vf
                    self.order.append(vf)
            else:
                d.sriov = None
        self.order.sort(key=Dev.key)
        for d in self.order:
            if "sec" in d.opts:
                d.sec = int(d.opts["sec"], 16)
        bymap = {}
        for d in self.order:
            if d.is_bridge:
                bymap[(d.dom, d.sec)] = d
        for d in self.order:
            if (d.dom, d.bus) in self.rcs:
                d.parent = None
            elif (d.dom, d.bus) in bymap:
                d.parent = bymap[(d.dom, d.bus)]
                d.parent.children.append(d)
            else:
                raise SystemExit("%s: no bridge or root complex for bus of %s" % (self.name, d.bdf))
        # types
        for d in self.order:
            t = d.opts.get("t")
            if not t:
                if d.cls >> 8 == 0x0600 or d.parent is None and d.cls >> 16 == 0x06 and not d.is_bridge:
                    t = "pci" if d.parent is None else "ep"
                elif d.is_bridge:
                    if d.parent is None:
                        t = "rp"
                    elif d.parent.type == "up":
                        t = "dn"
                    else:
                        t = "up"
                else:
                    t = "pci" if d.parent is None else "ep"
            d.type = t
            d.pcie = t not in ("pci",)
        # subordinate bus numbers
        def sub(d):
            m = d.sec
            for c in d.children:
                if c.is_bridge:
                    m = max(m, sub(c))
            d.subord = m
            return m
        for d in self.order:
            if d.is_bridge and d.parent is None:
                sub(d)
        for d in self.order:
            if d.is_bridge and not hasattr(d, "subord"):
                sub(d)
        # sysfs paths
        for d in self.order:
            chain = []
            p = d
            while p is not None:
                chain.append(p.bdf)
                p = p.parent
            root = d if d.parent is None else None
            top = d
            while top.parent is not None:
                top = top.parent
            chain.append("pci%04x:%02x" % (top.dom, top.bus))
            d.path = "sys/devices/" + "/".join(reversed(chain))
            d.numa = int(d.opts.get("numa", self.rcs[(top.dom, top.bus)]))
        # link speeds
        for d in self.order:
            lk = d.opts.get("link")
            if d.type == "rciep" or not d.pcie:
                d.maxg, d.maxw = 0, 0
            else:
                g, w = (lk or "3x1").split("x")
                d.maxg, d.maxw = int(g), int(w)
            cur = d.opts.get("cur")
            if cur:
                g, w = cur.split("x")
                d.curg, d.curw = int(g), int(w)
            else:
                d.curg, d.curw = d.maxg, d.maxw
        # iommu groups
        self.iommu = self.kv.get("iommu", "off")
        self.groups = {}
        if self.iommu != "off":
            explicit = [int(d.opts["grp"]) for d in self.order
                        if d.opts.get("grp", "").isdigit()]
            nxt = max(explicit) + 1 if explicit else 0
            for d in self.order:
                g = d.opts.get("grp", "+")
                if g == "none":
                    d.group = None
                    continue
                if g.startswith("@"):
                    continue
                if g == "+":
                    d.group = nxt
                    nxt += 1
                else:
                    d.group = int(g)
            for d in self.order:
                g = d.opts.get("grp", "")
                if g.startswith("@"):
                    d.group = self.devs[self.full(g[1:])].group
            for d in self.order:
                if d.group is not None:
                    self.groups.setdefault(d.group, []).append(d)
        else:
            for d in self.order:
                d.group = None
        # reset methods
        for d in self.order:
            r = d.opts.get("reset")
            if r is not None:
                d.resets = [] if r == "none" else r.split(",")
            else:
                m = []
                if "flr" in d.flags:
                    m.append("flr")
                alone = d.parent is not None and len(d.parent.children) == 1
                hp = d.parent is not None and "hp" in d.parent.flags
                nobus = d.vendor == 0x10de and (d.device & 0xffc0) == 0x2340
                if not d.is_bridge and d.parent is not None and (alone or hp) and not nobus:
                    m.append("bus")
                d.resets = m
            if "flr" in d.resets:
                d.flags.add("flr")

    def full(self, s):
        return "%04x:%02x:%02x.%x" % parse_bdf(s)


# ---------------------------------------------------------------- description helpers
# Helpers expand one description line into many devices (loops live here, and the
# description says which helper it calls).

def h_epyc_milan_rc(h, args):
    """epyc-milan-rc BUS numa=N [sec07=XX] [sec08=XX] [fch]: the AMD functions of one
    EPYC 7003 root complex: root complex, IOMMU, dummy host bridges, internal GPP bridges
    with the reserved SPP, PTDMA, PSP/CCP and USB functions behind them.  'fch' adds the
    SMBus/ISA functions and the data-fabric functions of both sockets (bus 00 only)."""
    bus = int(args[0], 16)
    kv = dict(a.split("=", 1) for a in args[1:] if "=" in a)
    fl = set(a for a in args[1:] if "=" not in a)
    numa = kv.get("numa", "0")
    b = "%02x" % bus
    h.rcs[(0, bus)] = int(numa)
    sv = "1022:1480"
    h.add_dev(b + ":00.0", "1022:1480", "15d9:1c0f", "060000", "00", "t=pci", "grp=none")
    h.add_dev(b + ":00.2", "1022:1481", "1022:1481", "080600", "00", "t=pci", "grp=none")
    for dv in ("01", "02", "03", "04", "05", "07", "08"):
        h.add_dev(b + ":%s.0" % dv, "1022:1482", "0000:0000", "060000", "00", "t=pci")
    s7, s8 = kv["sec07"], kv["sec08"]
    h.add_dev(b + ":07.1", "1022:1484", "1022:1484", "060400", "00", "t=rp", "sec=" + s7,
              "link=4x16", "drv=pcieport")
    h.add_dev(s7 + ":00.0", "1022:1485", "1022:1485", "130000", "00", "link=4x16")
    h.add_dev(s7 + ":00.2", "1022:1498", "1022:1498", "108000", "00", "link=4x16", "drv=ptdma")
    h.add_dev(b + ":08.1", "1022:1484", "1022:1484", "060400", "00", "t=rp", "sec=" + s8,
              "link=4x16", "drv=pcieport")
    h.add_dev(s8 + ":00.0", "1022:1485", "1022:1485", "130000", "00", "link=4x16")
    h.add_dev(s8 + ":00.1", "1022:1486", "1022:1486", "108000", "00", "link=4x16", "drv=ccp")
    h.add_dev(s8 + ":00.2", "1022:1498", "1022:1498", "108000", "00", "link=4x16", "drv=ptdma")
    h.add_dev(s8 + ":00.3", "1022:148c", "15d9:1c0f", "0c0330", "00", "link=4x16", "drv=xhci_hcd")
    if "fch" in fl:
        h.add_dev(b + ":14.0", "1022:790b", "15d9:1c0f", "0c0500", "61", "drv=piix4_smbus",
                  "grp=+")
        h.add_dev(b + ":14.3", "1022:790e", "15d9:1c0f", "060100", "51", "grp=@%s:14.0" % b)
        for sock in (0x18, 0x19):
            for f in range(8):
                h.add_dev(b + ":%02x.%d" % (sock, f), "1022:%04x" % (0x1650 + f), "0000:0000",
                          "060000", "00", "grp=" + ("+" if f == 0 else "@%s:%02x.0" % (b, sock)),
                          *(["drv=k10temp"] if f == 3 else []))


def h_gpu_node(h, args):
    """gpu-node RP_BDF sec=XX numa=N vfs=N: AMD GPP root port + Broadcom PEX88000 switch
    (1 upstream, 4 downstream ports, ACS on) with 2x H100 PCIe, one ConnectX-6 Dx (2 PFs,
    64 TotalVFs each, vfs enabled on each PF) and one NVMe drive."""
    rp = args[0]
    kv = dict(a.split("=", 1) for a in args[1:])
    sec = int(kv["sec"], 16)
    numa = "numa=" + kv["numa"]
    nvfs = int(kv["vfs"])
    s = lambda n: "%02x" % (sec + n)
    h.add_dev(rp, "1022:1483", "1022:1453", "060400", "00", "sec=" + s(0), "link=4x16",
              "drv=pcieport", "acs", numa)
    h.add_dev(s(0) + ":00.0", "1000:c010", "1000:a064", "060400", "b0", "t=up", "sec=" + s(1),
              "link=4x16", "drv=pcieport", numa)
    for i in range(4):
        h.add_dev(s(1) + ":%02x.0" % i, "1000:c010", "1000:a064", "060400", "b0", "t=dn",
                  "sec=" + s(2 + i), "link=5x16", "drv=pcieport", "acs", "hp", numa)
    gpu = ("10de:2331", "10de:1626", "030200", "a1", "drv=vfio-pci", "link=5x16", "cur=4x16",
           "bars=0:16M:m32,1:128G:p64,3:32M:p64", "flr", "msix=9", "ari",
           "sriov=32:0:4:1:2331", "vfbars=0:16M:m32,1:4G:p64,3:32M:p64", numa)
    h.add_dev(s(2) + ":00.0", *gpu)
    h.add_dev(s(3) + ":00.0", *gpu)
    nic = ("15b3:101d", "15b3:0016", "020000", "00", "drv=mlx5_core", "link=4x16",
           "bars=0:32M:p64", "flr", "msix=64", "ari", "acs", "vfdrv=mlx5_core",
           "vfbars=0:1M:p64", numa)
    h.add_dev(s(4) + ":00.0", *nic, "sriov=64:%d:2:1:101e" % nvfs)
    h.add_dev(s(4) + ":00.1", *nic, "sriov=64:%d:65:1:101e" % nvfs)
    h.add_dev(s(5) + ":00.0", "144d:a824", "144d:a80a", "010802", "00", "drv=nvme", "link=4x4",
              "bars=0:32K:m64", "flr", "msix=64", numa)


HELPERS = {"epyc-milan-rc": h_epyc_milan_rc, "gpu-node": h_gpu_node}


def load(name):
    h = Host(name)
    with open(os.path.join(HERE, name + ".host")) as f:
        cont = ""
        for raw in f:
            raw = raw.rstrip("\n")
            if raw.endswith("\\"):
                cont += raw[:-1] + " "
                continue
            raw = (cont + raw).strip()
            cont = ""
            if not raw or raw.startswith("#"):
                continue
            toks = shlex.split(raw, comments=True)
            if toks:
                h.line(toks, raw)
    h.finish()
    return h


# ---------------------------------------------------------------- config space

class Cfg:
    def __init__(self, size):
        self.b = bytearray(size)

    def w8(self, o, v):
        self.b[o] = v & 0xff

    def w16(self, o, v):
        struct.pack_into("<H", self.b, o, v & 0xffff)

    def w32(self, o, v):
        struct.pack_into("<I", self.b, o, v & 0xffffffff)


def bar_list(d):
    """Return {index: (size, kind)} kind in m32,m64,p32,p64,io; plus 'rom'."""
    spec = d.opts.get("bars")
    if spec is None:
        c = d.cls >> 8
        if d.is_bridge or c == 0x0600 or d.cls >> 16 == 0x06:
            spec = ""
        elif c == 0x0106:
            spec = "4:io32,5:8K:m32"
        elif c == 0x0c03:
            spec = "0:64K:m64"
        elif c == 0x0108:
            spec = "0:16K:m64"
        else:
            spec = "0:16K:m64"
    out = {}
    for item in filter(None, spec.split(",")):
        parts = item.split(":")
        if parts[0] == "rom":
            out["rom"] = (parse_size(parts[1]), "rom")
        elif parts[1].startswith("io"):
            out[int(parts[0])] = (int(parts[1][2:]), "io")
        else:
            out[int(parts[0])] = (parse_size(parts[1]), parts[2] if len(parts) > 2 else "m32")
    return out


class Alloc:
    """Deterministic address allocator (per host)."""

    def __init__(self):
        self.m32 = 0x80000000
        self.m64 = 0x4000000000
        self.io = 0x3000

    def take(self, size, kind):
        if kind == "io":
            a = (self.io + size - 1) // size * size
            self.io = a + size
            return a
        if kind == "p64":
            a = (self.m64 + size - 1) // size * size
            self.m64 = a + size
            return a
        size = max(size, 4096)
        a = (self.m32 + size - 1) // size * size
        self.m32 = a + size
        return a


def bar_flags(kind):
    if kind == "io":
        return IO_IO | IO_SIZEALIGN | 0x1, 0x1
    low = {"m32": 0x0, "m64": 0x4, "p32": 0x8, "p64": 0xc}[kind]
    f = IO_MEM | IO_SIZEALIGN | low
    if kind[0] == "p":
        f |= IO_PREF
    if kind.endswith("64"):
        f |= IO_MEM64
    return f, low


def build_config(h, d):
    pcie = d.pcie
    c = Cfg(4096 if pcie else 256)
    vf = d.physfn is not None
    # VFs read 0xffff vendor/device in hardware; the kernel takes them from the PF.
    c.w16(0x00, 0xffff if vf else d.vendor)
    c.w16(0x02, 0xffff if vf else d.device)
    enabled = d.opts.get("drv") not in (None, "vfio-pci")
    c.w16(0x04, (0x0406 if enabled else 0x0400) | (0 if vf else 0))
    c.w16(0x06, 0x0010)
    c.w8(0x08, d.rev)
    c.w8(0x09, d.cls & 0xff)
    c.w8(0x0a, (d.cls >> 8) & 0xff)
    c.w8(0x0b, d.cls >> 16)
    c.w8(0x0c, 0x10)
    multi = any(o.bus == d.bus and o.slot == d.slot and o is not d and o.physfn is None
                for o in (h.devs.values() if d.physfn is None else []))
    htype = 1 if d.is_bridge else 0
    c.w8(0x0e, htype | (0x80 if multi else 0))
    if not vf:
        for i, (addr, size, kind) in sorted(d.res.items(), key=lambda x: str(x[0])):
            if i == "rom" or not isinstance(i, int) or i > 5:
                continue
            f, low = bar_flags(kind)
            off = 0x10 + 4 * i
            c.w32(off, (addr & 0xfffffff0) | low if kind != "io" else addr | 1)
            if kind.endswith("64"):
                c.w32(off + 4, addr >> 32)
        if "rom" in d.res and htype == 0:
            c.w32(0x30, d.res["rom"][0] & 0xfffff800)
    if htype == 0:
        c.w16(0x2c, d.svendor)
        c.w16(0x2e, d.sdevice)
    else:
        c.w8(0x18, d.bus)
        c.w8(0x19, d.sec)
        c.w8(0x1a, d.subord)
        w = getattr(d, "win", {})
        if "io" in w:
            c.w8(0x1c, ((w["io"][0] >> 8) & 0xf0) | 1)
            c.w8(0x1d, ((w["io"][1] >> 8) & 0xf0) | 1)
        else:
            c.w8(0x1c, 0xf1)   # io base/limit: closed window
            c.w8(0x1d, 0x01)
        if "mem" in w:
            lo, hi = w["mem"]
            c.w16(0x20, (lo >> 16) & 0xfff0)
            c.w16(0x22, (hi >> 16) & 0xfff0)
        else:
            c.w16(0x20, 0xfff0)
        if "pref" in w:
            lo, hi = w["pref"]
            c.w16(0x24, ((lo >> 16) & 0xfff0) | 1)
            c.w16(0x26, ((hi >> 16) & 0xfff0) | 1)
            c.w32(0x28, lo >> 32)
            c.w32(0x2c, hi >> 32)
        else:
            c.w16(0x24, 0xfff1)
            c.w16(0x26, 0x0001)
        c.w16(0x3e, 0x0010 if "bootvga_path" in d.flags else 0x0000)
    c.w8(0x3c, 0xff if d.opts.get("irq") is None else int(d.opts["irq"]) & 0xff)
    c.w8(0x3d, 0 if vf else 1)

    # ---- standard capabilities
    caps = []
    if d.cls >> 8 == 0x0600 and not pcie:
        caps.append(("vndr", 0x0c))
    else:
        if not vf:
            caps.append(("pm", 8))
        if not vf:
            caps.append(("msi", 0x18))
        if pcie:
            caps.append(("exp", 0x3c))
        if "msix" in d.opts or vf:
            caps.append(("msix", 12))
        if d.is_bridge and d.svendor:
            caps.append(("ssvid", 8))
    off = 0x40
    prev = 0x34
    for name, ln in caps:
        c.w8(prev, off)
        prev = off + 1
        cap_at = off
        if name == "vndr":
            c.w8(off, 0x09)
            c.w8(off + 2, ln)
        elif name == "pm":
            c.w8(off, 0x01)
            c.w16(off + 2, 0x0003 | (0xc800 if "d3cold" in d.flags else 0x0000) | 0x0600)
            c.w16(off + 4, 0x0008)   # D0, No_Soft_Reset
        elif name == "msi":
            c.w8(off, 0x05)
            c.w16(off + 2, 0x0080 | (0x0001 if d.opts.get("drv") and "msix" not in d.opts else 0))
        elif name == "exp":
            exp_cap(c, h, d, off)
        elif name == "msix":
            c.w8(off, 0x11)
            n = int(d.opts.get("msix", "8")) - 1
            c.w16(off + 2, n | (0x8000 if d.opts.get("drv") not in (None, "vfio-pci") else 0))
            c.w32(off + 4, 0x00b90000 if False else 0x00000000)
            c.w32(off + 8, 0x00000800)
        elif name == "ssvid":
            c.w8(off, 0x0d)
            c.w16(off + 4, d.svendor)
            c.w16(off + 6, d.sdevice)
        off = (off + ln + 3) & ~3
        if off < 0x60 and name == "msi":
            off = 0x60
        if name == "exp":
            off = max(off, 0xa0)
    c.w8(prev, 0)
    if not caps:
        c.w16(0x06, 0)

    # ---- extended capabilities
    if pcie:
        ext = [("aer", 0x48 if d.type in ("rp",) else 0x38)]
        if d.type in ("rp", "dn") and "acs" in d.flags or (d.type == "ep" and "acs" in d.flags):
            ext.append(("acs", 8))
        if "ari" in d.flags or vf:
            ext.append(("ari", 8))
        if "rebar" in d.opts:
            ext.append(("rebar", 4 + 8 * len(d.opts["rebar"].split(","))))
        if d.sriov:
            ext.append(("sriov", 0x40))
        if "dsn" in d.opts:
            ext.append(("dsn", 12))
        off = 0x100
        for i, (name, ln) in enumerate(ext):
            nxt = (off + ln + 3) & ~3 if i + 1 < len(ext) else 0
            idv = {"aer": (1, 2), "acs": (0xd, 1), "ari": (0xe, 1), "rebar": (0x15, 1),
                   "sriov": (0x10, 1), "dsn": (3, 1)}[name]
            c.w32(off, idv[0] | idv[1] << 16 | nxt << 20)
            if name == "aer":
                c.w32(off + 0x0c, 0x00462030)  # uncorrectable severity default
                c.w32(off + 0x14, 0x00002000)  # correctable mask: advisory non-fatal
                c.w32(off + 0x18, 0x000000a0)  # ECRC gen/check capable
            elif name == "acs":
                cap = 0x5f if d.type in ("rp", "dn") else 0x00
                if d.type == "ep":
                    cap = 0x00
                c.w16(off + 4, cap)
                c.w16(off + 6, 0x1d & cap if d.type in ("rp", "dn") else 0)
            elif name == "ari":
                fns = sorted(o.devfn for o in h.devs.values()
                             if o.bus == d.bus and o.dom == d.dom and o.devfn > d.devfn
                             and o.physfn is None)
                c.w16(off + 4, (fns[0] << 8) if fns and not vf else 0)
            elif name == "rebar":
                items = d.opts["rebar"].split(",")
                for j, it in enumerate(items):
                    bi, sz = it.split(":")
                    mb = parse_size(sz) >> 20
                    lg = mb.bit_length() - 1
                    supported = 0
                    for k in range(6, lg + 1):       # 64MB .. current size
                        supported |= 1 << (k + 4)
                    c.w32(off + 4 + 8 * j, supported)
                    c.w32(off + 8 + 8 * j, int(bi) | ((len(items) << 5) if j == 0 else 0) | (lg << 8))
            elif name == "sriov":
                s = d.sriov
                c.w32(off + 4, 0x00000002 if "ari" in d.flags else 0)
                c.w16(off + 8, (0x0019 if s["num"] else 0x0010) if "ari" in d.flags else
                      (0x0009 if s["num"] else 0))
                c.w16(off + 0x0c, s["total"])
                c.w16(off + 0x0e, s["total"])
                c.w16(off + 0x10, s["num"])
                c.w8(off + 0x12, d.fn)
                c.w16(off + 0x14, s["off"])
                c.w16(off + 0x16, s["stride"])
                c.w16(off + 0x1a, s["vfdev"])
                c.w32(off + 0x1c, 0x00000553)
                c.w32(off + 0x20, 0x00000001)
                for k, (addr, size, kind) in d.vfres.items():
                    f, low = bar_flags(kind)
                    c.w32(off + 0x24 + 4 * k, (addr & 0xfffffff0) | low)
                    if kind.endswith("64"):
                        c.w32(off + 0x28 + 4 * k, addr >> 32)
            elif name == "dsn":
                v = int(d.opts["dsn"], 16)
                c.w32(off + 4, v & 0xffffffff)
                c.w32(off + 8, v >> 32)
            off = nxt
    return bytes(c.b)


def exp_cap(c, h, d, off):
    ptype = {"ep": 0, "leg": 1, "rp": 4, "up": 5, "dn": 6, "pcie2pci": 7, "rciep": 9}[d.type]
    slot = d.type in ("rp", "dn") and ("slot" in d.flags or "hp" in d.flags or d.type == "rp")
    c.w8(off, 0x10)
    c.w16(off + 2, 0x0002 | ptype << 4 | (0x0100 if slot else 0))
    devcap = 0x2 | 0x20 | (0x7 << 6) | (0x7 << 9) | 0x8000   # 512B MPS, ext tag, latencies, RBER
    if "flr" in d.flags and d.type in ("ep", "rciep", "leg"):
        devcap |= 1 << 28
    c.w32(off + 4, devcap)
    c.w16(off + 8, 0x2810 | (0x8000 if "flr" in d.flags else 0) * 0)  # MPS 128, MRRS 512, ext tag, RO
    if d.type != "rciep":
        port = d.slot if d.type in ("rp", "dn") else 0
        lnkcap = d.maxg | d.maxw << 4 | 0x3 << 10 | 0x4 << 12 | 0x4 << 15 | port << 24
        if d.type in ("rp", "dn"):
            lnkcap |= (1 << 20) | (1 << 21)   # DLL link active reporting, BW notification
        c.w32(off + 0x0c, lnkcap)
        c.w16(off + 0x10, 0x0040)     # common clock
        lnksta = d.curg | d.curw << 4 | 0x1000
        if d.type in ("rp", "dn") and d.children:
            lnksta |= 0x2000
        c.w16(off + 0x12, lnksta)
    if slot:
        hp = "hp" in d.flags
        sltcap = (0x60 if hp else 0) | (25 << 7) | (d.slot + 1) << 19
        if hp:
            sltcap |= 0x40 | 0x20   # hot-plug surprise? no: HPC + HPS
            sltcap = (sltcap & ~0x60) | 0x20 | 0x40
        c.w32(off + 0x14, sltcap)
        c.w16(off + 0x1a, 0x0040 if d.children else 0x0000)   # presence detect
    c.w32(off + 0x24, 0x0000001f | (0x20 if d.type in ("rp", "dn") else 0) | 0x800)
    c.w16(off + 0x28, 0x0020 if d.type in ("rp", "dn") and "ari" in d.flags else 0)
    if d.type != "rciep":
        vec = 0
        for g in range(1, d.maxg + 1):
            vec |= 1 << g
        c.w32(off + 0x2c, vec)
        c.w16(off + 0x30, d.maxg)
        c.w16(off + 0x32, 0x0002 if d.curg >= 3 else 0)


# ---------------------------------------------------------------- writer

class Writer:
    def __init__(self, root):
        self.root = root
        self.made = set()

    def _dir(self, p):
        if p not in self.made:
            os.makedirs(p, exist_ok=True)
            self.made.add(p)

    def mkdir(self, rel):
        self._dir(os.path.join(self.root, rel))

    def file(self, rel, data):
        p = os.path.join(self.root, rel)
        self._dir(os.path.dirname(p))
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)

    def link(self, rel, target_rel):
        """Symlink at rel pointing at target_rel (both relative to root), made relative the
        way the kernel's sysfs does it (through the nearest common ancestor)."""
        p = os.path.join(self.root, rel)
        self._dir(os.path.dirname(p))
        tgt = os.path.relpath(os.path.join(self.root, target_rel), os.path.dirname(p))
        os.symlink(tgt, p)

    def symlink(self, rel, target):
        """Symlink at rel with exactly this target text."""
        p = os.path.join(self.root, rel)
        self._dir(os.path.dirname(p))
        os.symlink(target, p)


def hexid(v):
    return "0x%04x\n" % v


def assign_resources(h):
    al = Alloc()
    # allocate depth first so that every bridge's window is contiguous and 1M (I/O: 4K)
    # aligned, the way firmware assigns it
    def align():
        al.m32 = (al.m32 + 0xfffff) & ~0xfffff
        al.m64 = (al.m64 + 0xfffff) & ~0xfffff
        al.io = (al.io + 0xfff) & ~0xfff

    def walk(d):
        yield d
        if d.is_bridge:
            align()
            for c in sorted(d.children, key=Dev.key):
                yield from walk(c)
            align()
    tops = [d for d in h.order if d.parent is None]
    seq = (x for t in sorted(tops, key=lambda d: (d.is_bridge, d.key())) for x in walk(t))
    for d in seq:   # lazily: align() runs between allocations
        d.res = {}
        d.vfres = {}
        if d.physfn is not None:
            continue
        for i, (size, kind) in sorted(bar_list(d).items(), key=lambda x: str(x[0])):
            if i == "rom":
                d.res["rom"] = (al.take(size, "m32"), size, "rom")
            else:
                d.res[i] = (al.take(size, kind), size, kind)
        if d.sriov:
            vb = {}
            spec = d.opts.get("vfbars", "0:1M:m64")
            for it in spec.split(","):
                p = it.split(":")
                vb[int(p[0])] = (parse_size(p[1]), p[2] if len(p) > 2 else "m32")
            for k, (size, kind) in sorted(vb.items()):
                base = al.take(size * d.sriov["total"], kind)
                d.vfres[k] = (base, size, kind)
    for d in h.order:
        if d.physfn is not None:
            pf = d.physfn
            for k, (base, size, kind) in pf.vfres.items():
                d.res[k] = (base + size * d.vfindex, size, kind)

    def window(d):
        lo = {"mem": [], "pref": [], "io": []}
        for c in d.children:
            if c.is_bridge:
                window(c)
                for k, (a, b) in c.win.items():
                    lo[k].append((a, b))
            items = list(c.res.values()) + [(b, s * c.sriov["total"], k)
                                            for (b, s, k) in c.vfres.values()] if c.sriov else \
                list(c.res.values())
            for a, s, k in items:
                if k == "io":
                    lo["io"].append((a, a + s - 1))
                    continue
                key = "pref" if k in ("p64", "p32") else "mem"
                lo[key].append((a, a + s - 1))
        d.win = {}
        for k, v in lo.items():
            if v:
                gran = 0xfff if k == "io" else 0xfffff
                a = min(x for x, _ in v) & ~gran
                b = max(y for _, y in v) | gran
                d.win[k] = (a, b)
    for d in h.order:
        if d.is_bridge and d.parent is None:
            window(d)


def resource_text(d):
    lines = []
    n = 17 if d.is_bridge else 13
    for i in range(n):
        start = end = flags = 0
        if i < 6 and i in d.res:
            a, s, k = d.res[i]
            start, end, flags = a, a + s - 1, bar_flags(k)[0]
        elif i == 6 and "rom" in d.res:
            a, s, k = d.res["rom"]
            start, end, flags = a, a + s - 1, IO_MEM | IO_PREF | IO_RO | IO_SIZEALIGN
        elif 7 <= i <= 12 and d.sriov and (i - 7) in d.vfres:
            a, s, k = d.vfres[i - 7]
            start, end, flags = a, a + s * d.sriov["total"] - 1, bar_flags(k)[0]
        elif i >= 13:
            w = getattr(d, "win", {})
            if i == 13 and "io" in w:
                start, end, flags = w["io"][0], w["io"][1], IO_IO | 1
            elif i == 14 and "mem" in w:
                start, end, flags = w["mem"][0], w["mem"][1], IO_MEM
            elif i == 15 and "pref" in w:
                start, end, flags = w["pref"][0], w["pref"][1], IO_MEM | IO_PREF | IO_MEM64 | 1
        lines.append("0x%016x 0x%016x 0x%016x\n" % (start, end, flags))
    return "".join(lines)


def cpulist(h, numa):
    vendor, model, n = h.cpu
    if numa < 0:
        return "0-%d" % (n - 1)
    per = n // max(1, h.sockets)
    return "%d-%d" % (numa * per, numa * per + per - 1)


def gen_numa(h, w):
    # The kernel always has node0, also on a single-node machine.
    nodes = sorted(set(n for n in h.rcs.values() if n >= 0)) or [0]
    for n in nodes:
        w.file("sys/devices/system/node/node%d/cpulist" % n,
               cpulist(h, n if len(nodes) > 1 else -1) + "\n")
    w.file("sys/devices/system/node/online", "%d-%d\n" % (nodes[0], nodes[-1]) if len(nodes) > 1 else "0\n")


def gen_pci(h, w):
    assign_resources(h)
    irq = 16
    drivers = {}
    pt = "iommu=pt" in h.cmdline.split()
    for d in h.order:
        p = d.path
        drv = d.opts.get("drv")
        if d.physfn is None and (drv is None or drv == "vfio-pci") and not d.is_bridge:
            pass
        w.file(p + "/vendor", hexid(d.vendor))
        w.file(p + "/device", hexid(d.device))
        w.file(p + "/subsystem_vendor", hexid(d.svendor))
        w.file(p + "/subsystem_device", hexid(d.sdevice))
        w.file(p + "/class", "0x%06x\n" % d.cls)
        w.file(p + "/revision", "0x%02x\n" % d.rev)
        if d.physfn is not None:
            d.irq = 0
        else:
            d.irq = int(d.opts.get("irq", str(irq)))
            irq = irq + 1 if irq < 200 else 16
        w.file(p + "/irq", "%d\n" % d.irq)
        w.file(p + "/numa_node", "%d\n" % d.numa)
        w.file(p + "/local_cpulist", cpulist(h, d.numa) + "\n")
        w.file(p + "/enable", "1\n" if drv and drv != "vfio-pci" else "0\n")
        bc, sc, pi = d.cls >> 16, (d.cls >> 8) & 0xff, d.cls & 0xff
        modalias = "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" % (
            d.vendor, d.device, d.svendor, d.sdevice, bc, sc, pi)
        w.file(p + "/modalias", modalias + "\n")
        ue = ""
        if drv:
            ue += "DRIVER=%s\n" % drv
        ue += "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n" % (
            d.cls, d.vendor, d.device, d.svendor, d.sdevice, d.bdf, modalias)
        w.file(p + "/uevent", ue)
        w.file(p + "/resource", resource_text(d))
        if "rom" in d.res:
            # sysfs "rom" exists for devices with a ROM BAR; it reads empty until "1" is written
            w.file(p + "/rom", "")
        w.file(p + "/config", build_config(h, d))
        if d.pcie:
            w.file(p + "/current_link_speed", speed_str(d.curg) + "\n")
            w.file(p + "/current_link_width", "%d\n" % d.curw)
            w.file(p + "/max_link_speed", speed_str(d.maxg) + "\n")
            w.file(p + "/max_link_width", "%d\n" % d.maxw)
        if d.is_bridge:
            w.file(p + "/secondary_bus_number", "%d\n" % d.sec)
            w.file(p + "/subordinate_bus_number", "%d\n" % d.subord)
        if d.resets:
            w.file(p + "/reset_method", " ".join(d.resets) + "\n")
            w.file(p + "/reset", "")
        if d.cls >> 8 == 0x0300:
            w.file(p + "/boot_vga", "1\n" if "bootvga" in d.flags else "0\n")
        w.file(p + "/d3cold_allowed", "1\n")
        w.file(p + "/power_state", "D0\n")
        w.file(p + "/driver_override", "(null)\n")
        w.file(p + "/remove", "")
        w.file(p + "/rescan", "")
        if d.sriov:
            s = d.sriov
            w.file(p + "/sriov_totalvfs", "%d\n" % s["total"])
            w.file(p + "/sriov_numvfs", "%d\n" % s["num"])
            w.file(p + "/sriov_offset", "%d\n" % s["off"])
            w.file(p + "/sriov_stride", "%d\n" % s["stride"])
            w.file(p + "/sriov_vf_device", "%x\n" % s["vfdev"])
            w.file(p + "/sriov_drivers_autoprobe", "1\n")
            for i, vf in enumerate(d.vfs):
                w.link(p + "/virtfn%d" % i, vf.path)
        if d.physfn is not None:
            w.link(p + "/physfn", d.physfn.path)
            write_vgpu_types(w, p, d.physfn.opts.get("vfvgpu"), d.vfindex)
        w.link(p + "/subsystem", "sys/bus/pci")
        w.link("sys/bus/pci/devices/" + d.bdf, p)
        if drv:
            w.link(p + "/driver", "sys/bus/pci/drivers/" + drv)
            w.link("sys/bus/pci/drivers/%s/%s" % (drv, d.bdf), p)
            drivers.setdefault(drv, []).append(d)
        if d.group is not None:
            w.link(p + "/iommu_group", "sys/kernel/iommu_groups/%d" % d.group)
            w.link(p + "/iommu", h.iommu_dev)
            w.link(h.iommu_dev + "/devices/" + d.bdf, p)
    # top of each root complex
    for (dom, bus), numa in sorted(h.rcs.items()):
        rp = "sys/devices/pci%04x:%02x" % (dom, bus)
        w.file(rp + "/uevent", "")
        w.mkdir(rp + "/power")
    # drivers
    for drv in sorted(set(DRV_MODULE) | set(drivers)):
        if drv not in drivers and drv != "pcieport":
            continue
        dp = "sys/bus/pci/drivers/" + drv
        for f in ("bind", "unbind", "new_id", "remove_id", "uevent"):
            w.file(dp + "/" + f, "")
        mod = DRV_MODULE.get(drv)
        if mod:
            w.link(dp + "/module", "sys/module/" + mod)
            w.file("sys/module/%s/initstate" % mod, "live\n")
            w.file("sys/module/%s/refcnt" % mod, "0\n")
    w.file("sys/bus/pci/rescan", "")
    w.file("sys/bus/pci/drivers_probe", "")
    w.file("sys/bus/pci/drivers_autoprobe", "1\n")
    w.file("sys/bus/pci/resource_alignment", "\n")
    w.mkdir("sys/bus/pci/slots")
    return drivers


def gen_iommu(h, w):
    w.mkdir("sys/kernel/iommu_groups")
    w.mkdir("sys/class/iommu")
    fw = h.kv.get("firmware_iommu", h.iommu)
    if fw == "intel":
        w.file("sys/firmware/acpi/tables/DMAR", acpi_table(b"DMAR", dmar_body(h.kv.get("ir", "on") != "off")))
    elif fw == "amd":
        w.file("sys/firmware/acpi/tables/IVRS", acpi_table(b"IVRS", ivrs_body()))
    w.file("sys/firmware/acpi/tables/FACP", acpi_table(b"FACP", bytes(208)))
    w.file("sys/firmware/acpi/tables/APIC", acpi_table(b"APIC", bytes(8)))
    if h.iommu == "off":
        return
    pt = "iommu=pt" in h.cmdline.split()
    for g, members in sorted(h.groups.items()):
        gp = "sys/kernel/iommu_groups/%d" % g
        w.mkdir(gp + "/devices")
        w.file(gp + "/type", "identity\n" if pt else "DMA-FQ\n")
        rr = []
        if any(m.cls >> 8 == 0x0300 and m.vendor == 0x8086 and m.bus == 0 for m in members):
            rr.append("0x000000007c800000 0x000000008c7fffff direct-relaxable\n")
        if any(m.cls == 0x0c0330 and m.vendor == 0x8086 and m.bus == 0 for m in members):
            rr.append("0x000000006d3a9000 0x000000006d3c8fff direct\n")
        rr.append("0x00000000fee00000 0x00000000feefffff msi\n")
        if h.iommu == "amd":
            rr.append("0x000000fd00000000 0x000000ffffffffff reserved\n")
        w.file(gp + "/reserved_regions", "".join(rr))
        for m in members:
            w.link(gp + "/devices/" + m.bdf, m.path)
    name = os.path.basename(h.iommu_dev)
    w.link("sys/class/iommu/" + name, h.iommu_dev)
    w.file(h.iommu_dev + "/uevent", "")


def acpi_table(sig, body):
    length = 36 + len(body)
    hdr = bytearray(struct.pack("<4sIBB6s8sI4sI", sig, length, 1, 0, b"ALASKA", b"A M I   ",
                                0x01072009, b"AMI ", 0x00010013))
    t = bytearray(hdr + body)
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


def dmar_body(ir=True):
    # host address width 46 (value 45+1), flags INTR_REMAP|X2APIC_OPT_OUT (no INTR_REMAP on
    # platforms without interrupt remapping), reserved
    b = struct.pack("<BB10s", 45, 0x03 if ir else 0x02, bytes(10))
    # DRHD: type 0, length 16, flags INCLUDE_PCI_ALL, segment 0, register base
    b += struct.pack("<HHBBHQ", 0, 16, 1, 0, 0, 0xfed91000)
    # RMRR for the iGPU stolen memory with one PCI device scope 00:02.0
    scope = struct.pack("<BBHBBBB", 1, 8, 0, 0, 0, 0x02, 0x00)
    b += struct.pack("<HHHHQQ", 1, 24 + len(scope), 0, 0, 0x7c800000, 0x8c7fffff) + scope
    return b


def ivrs_body():
    b = struct.pack("<I8s", 0x00203041, bytes(8))   # IVinfo: VA/PA sizes, EFRSup
    entries = struct.pack("<BHB", 3, 0x0000, 0) + struct.pack("<BHB", 4, 0xffff, 0)
    ivhd = struct.pack("<BBHHHQHHIQQ", 0x11, 0xb0, 40 + len(entries), 0x0002, 0x0040,
                       0xfd200000, 0, 0, 0x00000000, 0x246577efa2254afa, 0) + entries
    return b + ivhd


# ---------------------------------------------------------------- storage, net, proc, etc

def gen_storage(h, w):
    root = h.kv.get("rootfs", "lvm")
    dm_targets = {}
    for disk in h.disks:
        ctl = h.devs[h.full(disk["at"])]
        name = disk["name"]
        nparts = int(disk.get("parts", "3"))
        if name.startswith("nvme"):
            ctrl = name.split("n")[0] + "n" + name.split("n")[1]  # nvme0
            ctrl = name[: name.index("n", 4)]
            dpath = "%s/nvme/%s/%s" % (ctl.path, ctrl, name)
            major, minor0 = 259, int(disk.get("minor", "0"))
            pname = lambda i: "%sp%d" % (name, i)
            w.file("%s/nvme/%s/model" % (ctl.path, ctrl), disk.get("model", "Samsung SSD 980 PRO 1TB") + "\n")
            w.link("sys/class/nvme/" + ctrl, "%s/nvme/%s" % (ctl.path, ctrl))
            w.link("%s/nvme/%s/device" % (ctl.path, ctrl), ctl.path)
        else:
            port = int(disk.get("port", "1"))
            hostn = int(disk.get("host", "0"))
            t = "%d:0:0:0" % hostn
            scsi = "%s/ata%d/host%d/target%d:0:0/%s" % (ctl.path, port, hostn, hostn, t)
            dpath = scsi + "/block/" + name
            major, minor0 = 8, (ord(name[2]) - ord("a")) * 16
            pname = lambda i: "%s%d" % (name, i)
            w.file(scsi + "/model", disk.get("model", "Samsung SSD 870") + "\n")
            w.file(scsi + "/vendor", "ATA     \n")
            w.link(dpath + "/device", scsi)
        sectors = int(disk.get("sectors", "1953525168"))
        w.file(dpath + "/dev", "%d:%d\n" % (major, minor0))
        w.file(dpath + "/size", "%d\n" % sectors)
        w.file(dpath + "/removable", "0\n")
        w.file(dpath + "/ro", "0\n")
        w.file(dpath + "/uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=disk\n" % (major, minor0, name))
        w.link(dpath + "/subsystem", "sys/class/block")
        w.link("sys/block/" + name, dpath)
        w.link("sys/class/block/" + name, dpath)
        starts = [2048, 4096, 2101248]
        sizes = [2014, 2097152, sectors - 2101248 - 2048]
        for i in range(1, nparts + 1):
            pn = pname(i)
            pp = dpath + "/" + pn
            mn = minor0 + i
            w.file(pp + "/partition", "%d\n" % i)
            w.file(pp + "/dev", "%d:%d\n" % (major, mn))
            w.file(pp + "/start", "%d\n" % starts[min(i - 1, 2)])
            w.file(pp + "/size", "%d\n" % sizes[min(i - 1, 2)])
            w.file(pp + "/ro", "0\n")
            w.file(pp + "/uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%d\n" % (major, mn, pn, i))
            w.mkdir(pp + "/holders")
            w.link(pp + "/subsystem", "sys/class/block")
            w.link("sys/class/block/" + pn, pp)
            if disk.get("lvm") == pn:
                dm_targets[pn] = pp
    # device mapper (LVM 'pve' volume group: dm-0 swap, dm-1 root)
    if dm_targets:
        pv, pvpath = sorted(dm_targets.items())[0]
        for i, lv in enumerate(("pve-swap", "pve-root")):
            dm = "dm-%d" % i
            dp = "sys/devices/virtual/block/" + dm
            w.file(dp + "/dev", "252:%d\n" % i)
            w.file(dp + "/size", "%d\n" % (16777216 if i == 0 else 201326592))
            w.file(dp + "/ro", "0\n")
            w.file(dp + "/removable", "0\n")
            w.file(dp + "/uevent", "MAJOR=252\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=disk\n" % (i, dm))
            w.file(dp + "/dm/name", lv + "\n")
            w.file(dp + "/dm/uuid", "LVM-%s\n" % ("Pve0" * 8 + ("Swap%04d" % i) * 4))
            w.file(dp + "/dm/suspended", "0\n")
            w.link(dp + "/slaves/" + pv, pvpath)
            w.link(pvpath + "/holders/" + dm, dp)
            w.link(dp + "/subsystem", "sys/class/block")
            w.link("sys/block/" + dm, dp)
            w.link("sys/class/block/" + dm, dp)


def gen_net(h, w):
    w.mkdir("sys/class/net")

    def common(p, idx, typ="1", oper="up"):
        w.file(p + "/ifindex", "%d\n" % idx)
        w.file(p + "/type", typ + "\n")
        w.file(p + "/operstate", oper + "\n")
        w.file(p + "/mtu", ("65536" if typ == "772" else "1500") + "\n")
        w.file(p + "/carrier", "1\n")
        w.file(p + "/flags", "0x1003\n" if typ != "772" else "0x9\n")
        w.link(p + "/subsystem", "sys/class/net")

    lo = "sys/devices/virtual/net/lo"
    common(lo, 1, "772", "unknown")
    w.link("sys/class/net/lo", lo)
    idx = 2
    bridges = {}
    for n in h.nics:
        dev = h.devs[h.full(n["at"])]
        p = "%s/net/%s" % (dev.path, n["name"])
        common(p, idx)
        idx += 1
        w.link(p + "/device", dev.path)
        w.file(p + "/uevent", "INTERFACE=%s\nIFINDEX=%d\n" % (n["name"], idx - 1) +
               ("DEVTYPE=wlan\n" if n["name"].startswith("wl") else ""))
        if n["name"].startswith("wl"):
            w.mkdir(p + "/wireless")
        w.link("sys/class/net/" + n["name"], p)
        if "bridge" in n:
            bridges.setdefault(n["bridge"], []).append((n, p))
    for br, ports in sorted(bridges.items()):
        bp = "sys/devices/virtual/net/" + br
        common(bp, idx)
        idx += 1
        w.file(bp + "/uevent", "DEVTYPE=bridge\nINTERFACE=%s\nIFINDEX=%d\n" % (br, idx - 1))
        w.file(bp + "/bridge/stp_state", "0\n")
        w.file(bp + "/bridge/forward_delay", "0\n")
        w.link("sys/class/net/" + br, bp)
        for n, p in ports:
            w.file(p + "/brport/state", "3\n")
            w.link(p + "/brport/bridge", bp)
            w.link(p + "/master", bp)
            w.link(p + "/upper_" + br, bp)
            w.link(bp + "/brif/" + n["name"], p + "/brport")
            w.link(bp + "/lower_" + n["name"], p)
    # routing table
    hdr = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
    lines = ["%-127s\n" % hdr]
    for n in h.nics:
        if "default" in n:
            ifn = n.get("bridge", n["name"])
            net = n.get("net", "192.168.1")
            a, b, c = (int(x) for x in net.split("."))
            gw = (1 << 24) | c << 16 | b << 8 | a
            nw = c << 16 | b << 8 | a
            metric = 600 if ifn.startswith("wl") else 0
            lines.append("%-127s\n" % ("%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u" %
                                       (ifn, 0, gw, 0x3, 0, 0, metric, 0, 0, 0, 0)))
            lines.append("%-127s\n" % ("%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u" %
                                       (ifn, nw, 0, 0x1, 0, 0, metric, 0x00ffffff, 0, 0, 0)))
    w.file("proc/net/route", "".join(lines))


def gen_proc(h, w, drivers):
    vendor, model, n = h.cpu
    vid = "GenuineIntel" if vendor == "intel" else "AuthenticAMD"
    virt = "vmx" if vendor == "intel" else "svm"
    flags = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush "
             "mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl "
             "xtopology nonstop_tsc cpuid pni pclmulqdq %s ssse3 fma cx16 pcid sse4_1 sse4_2 "
             "x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch "
             "fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb "
             "sha_ni xsaveopt xsavec xgetbv1 xsaves" % virt)
    if vendor == "amd":
        flags += " svm_lock nrip_save npt lbrv tsc_scale vmcb_clean flushbyasid decodeassists avic"
    else:
        flags += " vnmi ept vpid ept_ad"
    out = []
    shown = min(n, 4)
    for i in range(shown):
        out.append("processor\t: %d\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\n"
                   "model name\t: %s\nstepping\t: 2\nphysical id\t: %d\ncore id\t\t: %d\n"
                   "cpu cores\t: %d\napicid\t\t: %d\nfpu\t\t: yes\ncpuid level\t: 32\n"
                   "flags\t\t: %s\n\n" % (
                       i, vid, 6 if vendor == "intel" else 25, 151 if vendor == "intel" else 33,
                       model, 0, i, n // max(1, h.sockets), i * 2, flags))
    w.file("proc/cpuinfo", "".join(out))
    w.file("proc/cmdline", h.cmdline + "\n")
    pve = h.kv.get("os", "pve8").startswith("pve")
    kver = h.kver
    w.file("proc/version", "Linux version %s (build@proxmox) (gcc (Debian 12.2.0-14) 12.2.0, "
           "GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC PMX %s "
           "(2024-11-06T15:04Z)\n" % (kver, kver.replace("-pve", "")) if kver.endswith("-pve") else
           "Linux version %s (debian-kernel@lists.debian.org) (gcc-12 (Debian "
           "12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC "
           "Debian 6.1.115-1 (2024-11-01)\n" % kver)
    w.file("proc/sys/kernel/osrelease", kver + "\n")
    # modules
    mods = []
    for drv in sorted(drivers):
        m = DRV_MODULE.get(drv)
        if m and m not in mods:
            mods.append(m)
    if "vfio-pci" in drivers:
        mods += ["vfio_pci_core", "vfio_iommu_type1", "vfio"]
    if "nvidia" in drivers:
        mods += ["nvidia_uvm", "nvidia_drm", "nvidia_modeset"]
    mods += ["kvm_intel" if vendor == "intel" else "kvm_amd", "kvm"]
    mods += [m for m in h.extra_modules if m not in mods]
    users = {"vfio": "vfio_pci_core,vfio_iommu_type1,vfio_pci", "vfio_pci_core": "vfio_pci",
             "kvm": "kvm_intel" if vendor == "intel" else "kvm_amd",
             "nvidia": "nvidia_uvm,nvidia_modeset", "nvidia_modeset": "nvidia_drm"}
    ml = []
    for m in mods:
        u = users.get(m, "")
        cnt = len(u.split(",")) if u else 0
        taint = " (POE)" if m.startswith("nvidia") or m == "zfs" else ""
        ml.append("%s %d %d %s Live 0x0000000000000000%s\n" % (
            m, MODULE_SIZE.get(m, 16384), cnt, (u + ",") if u else "-", taint))
    w.file("proc/modules", "".join(ml))
    for m in mods:
        w.file("sys/module/%s/initstate" % m, "live\n")
    if "vfio_iommu_type1" in mods:
        # "Y" only where someone set options vfio_iommu_type1 allow_unsafe_interrupts=1
        w.file("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
               "Y\n" if h.kv.get("unsafe_interrupts") == "yes" else "N\n")
        w.file("sys/module/vfio_iommu_type1/parameters/dma_entry_limit", "65535\n")
    chars = [(1, "mem"), (4, "/dev/vc/0"), (4, "tty"), (4, "ttyS"), (5, "/dev/tty"),
             (5, "/dev/console"), (5, "/dev/ptmx"), (7, "vcs"), (10, "misc"), (13, "input"),
             (29, "fb"), (128, "ptm"), (136, "pts"), (180, "usb"), (189, "usb_device"),
             (226, "drm"), (238, "nvme-generic"), (239, "nvme"), (240, "ttyDBC"),
             (243, "hidraw"), (252, "rtc"), (253, "dax"), (254, "gpiochip")]
    if "nvidia" in drivers:
        chars.append((195, "nvidia-frontend"))
    chars += [(m, name) for name, m in h.majors.items()]
    if "vfio-pci" in drivers or h.iommu != "off":
        chars.append((511, "vfio"))
    chars.sort()
    blocks = [(7, "loop"), (8, "sd"), (9, "md"), (65, "sd"), (128, "sd"), (252, "device-mapper"),
              (253, "zvol"), (254, "mdp"), (259, "blkext")]
    txt = "Character devices:\n" + "".join("%3d %s\n" % c for c in chars)
    txt += "\nBlock devices:\n" + "".join("%3d %s\n" % b for b in blocks)
    w.file("proc/devices", txt)
    # mounts
    root = h.kv.get("rootfs", "lvm")
    if root == "zfs":
        rl = "rpool/ROOT/pve-1 / zfs rw,relatime,xattr,noacl,casesensitive 0 0\n"
    elif root.startswith("/dev/"):
        rl = "%s / ext4 rw,relatime,errors=remount-ro 0 0\n" % root
    else:
        rl = "/dev/mapper/pve-root / ext4 rw,relatime,errors=remount-ro 0 0\n"
    m = ("sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
         "proc /proc proc rw,relatime 0 0\n"
         "udev /dev devtmpfs rw,nosuid,relatime,size=32826532k,nr_inodes=8206633,mode=755,inode64 0 0\n"
         "devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0\n"
         "tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=6571920k,mode=755,inode64 0 0\n"
         + rl +
         "securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0\n"
         "tmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0\n"
         "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"
         "efivarfs /sys/firmware/efi/efivars efivarfs rw,nosuid,nodev,noexec,relatime 0 0\n")
    if root == "zfs":
        m += "rpool /rpool zfs rw,relatime,xattr,noacl,casesensitive 0 0\n"
        m += "rpool/data /rpool/data zfs rw,relatime,xattr,noacl,casesensitive 0 0\n"
    else:
        efi = h.kv.get("efipart")
        if efi:
            m += "%s /boot/efi vfat rw,relatime,fmask=0022,dmask=0022,codepage=437,iocharset=iso8859-1,shortname=mixed,errors=remount-ro 0 0\n" % efi
    if pve:
        m += "/dev/fuse /etc/pve fuse rw,nosuid,nodev,relatime,user_id=0,group_id=0,default_permissions,allow_other 0 0\n"
    w.file("proc/mounts", m)
    w.file("proc/iomem", "".join(iomem_lines(h)))


def iomem_lines(h):
    """/proc/iomem: RAM, then PCI root windows holding bridge windows ("PCI Bus 0000:01"),
    BARs (named by address) and the driver's claim under each BAR, nested by containment
    with two spaces per level as the kernel prints it."""
    ents = [(0x0, 0xfff, 0, "Reserved"), (0x1000, 0x9ffff, 0, "System RAM"),
            (0x100000, 0x6d3a8fff, 0, "System RAM"), (0x80000000, 0xfdffffff, 0, "PCI Bus 0000:00"),
            (0xfec00000, 0xfec003ff, 0, "IOAPIC 0"), (0xfee00000, 0xfee00fff, 0, "Local APIC"),
            (0x100000000, 0x107fffffff, 0, "System RAM"),
            (0x4000000000, 0xffffffffff, 0, "PCI Bus 0000:00")]
    for d in h.order:
        for k in ("mem", "pref"):
            if k in getattr(d, "win", {}):
                a, b = d.win[k]
                ents.append((a, b, 1, "PCI Bus %04x:%02x" % (d.dom, d.sec)))
        for i, (a, s, k) in d.res.items():
            if k == "io":
                continue
            ents.append((a, a + s - 1, 2, d.bdf))
            drv = d.opts.get("drv")
            if "bootfb" in d.opts and str(i) == d.opts["bootfb"]:
                ents.append((a, a + 0x7e9000 - 1, 3, "BOOTFB"))
                ents.append((a, a + 0x7e9000 - 1, 4, "efifb"))
            elif drv and drv != "pcieport" and i != "rom":
                ents.append((a, a + s - 1, 3, drv))
    ents.sort(key=lambda e: (e[0], -e[1], e[2]))
    out, stack = [], []
    for a, b, rank, name in ents:
        while stack and not (stack[-1][0] <= a and b <= stack[-1][1]):
            stack.pop()
        out.append("%s%08x-%08x : %s\n" % ("  " * len(stack), a, b, name))
        stack.append((a, b))
    return out


def gen_etc(h, w):
    os_ = h.kv.get("os", "pve8")
    w.file("etc/hostname", h.kv.get("hostname", h.name) + "\n")
    w.file("etc/os-release",
           'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
           'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
           'HOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n'
           'BUG_REPORT_URL="https://bugs.debian.org/"\n')
    w.mkdir("etc/modprobe.d")
    w.file("etc/modules", "# /etc/modules: kernel modules to load at boot time.\n#\n"
           "# This file contains the names of kernel modules that should be loaded\n"
           "# at boot time, one per line. Lines beginning with \"#\" are ignored.\n"
           "# Parameters can be specified after the module name.\n\n")
    # initramfs-tools, as Debian installs it (the default list is only comments)
    w.file("etc/initramfs-tools/modules",
           "# List of modules that you want to include in your initramfs.\n"
           "# They will be loaded at boot time in the order below.\n#\n"
           "# Syntax:  module_name [args ...]\n#\n"
           "# You must run update-initramfs(8) to effect this change.\n#\n"
           "# Examples:\n#\n# raid1\n# sd_mod\n")
    w.file("etc/initramfs-tools/initramfs.conf", "MODULES=most\nBUSYBOX=auto\nCOMPRESS=zstd\n")
    w.mkdir("etc/initramfs-tools/hooks")
    w.mkdir("etc/initramfs-tools/scripts")
    w.mkdir("etc/modules-load.d")
    w.mkdir("usr/local/sbin")
    boot = h.kv.get("boot", "grub")
    args = [a for a in h.cmdline.split() if not a.startswith(("BOOT_IMAGE=", "root=", "initrd=", "boot=")) and a != "ro"]
    if boot == "grub":
        extra = " ".join(a for a in args if a != "quiet")
        w.file("etc/default/grub",
               "# If you change this file, run 'update-grub' afterwards to update\n"
               "# /boot/grub/grub.cfg.\n# For full documentation of the options in this file, see:\n"
               "#   info -f grub -n 'Simple configuration'\n\n"
               "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n"
               "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
               'GRUB_CMDLINE_LINUX_DEFAULT="quiet%s"\nGRUB_CMDLINE_LINUX=""\n\n'
               "# Uncomment to disable graphical terminal\n#GRUB_TERMINAL=console\n"
               % ((" " + extra) if extra else ""))
    else:
        root = [a for a in h.cmdline.split() if a.startswith(("root=", "boot="))]
        w.file("etc/kernel/cmdline", " ".join(root + args) + "\n")
        w.file("etc/kernel/proxmox-boot-uuids", "2A5C-1F3B\n")
    if os_.startswith("pve"):
        # dpkg's status database, reduced to the packages `pveversion` reports first
        pm = {"pve8": "8.2.7", "pve7": "7.4-19"}.get(os_, "8.2.7")
        w.file("var/lib/dpkg/status",
               "Package: proxmox-ve\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n"
               "Package: pve-manager\nStatus: install ok installed\nPriority: optional\nSection: admin\n"
               "Architecture: amd64\nVersion: %s\nDescription: Proxmox Virtual Environment Management Tools\n\n"
               "Package: qemu-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n"
               % ("8.2.0" if os_ == "pve8" else "7.4-1", pm, "8.2.4" if os_ == "pve8" else "7.4-6"))
        # pmxcfs: each node's guests live under nodes/<node>/; qemu-server and
        # lxc at the top are links to this node's directories.
        node = h.kv.get("hostname", "pve")
        for d in ("qemu-server", "lxc"):
            w.mkdir("etc/pve/nodes/%s/%s" % (node, d))
            w.link("etc/pve/" + d, "etc/pve/nodes/%s/%s" % (node, d))
        w.file("etc/pve/.version", "{\"version\":1}\n")
        w.file("etc/pve/storage.cfg",
               ("zfspool: local-zfs\n\tpool rpool/data\n\tsparse\n\tcontent images,rootdir\n\n"
                if h.kv.get("rootfs") == "zfs" else
                "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n")
               + "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n")
        w.file("etc/pve/datacenter.cfg", "keyboard: en-us\n")


def generate(h, outdir):
    root = os.path.join(outdir, h.name)
    if os.path.lexists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    w = Writer(root)
    h.sockets = int(h.kv.get("sockets", "1"))
    os_ = h.kv.get("os", "pve8")
    h.kver = h.kv.get("kver", KVER if os_ == "pve8" else "5.15.158-2-pve" if os_ == "pve7" else "6.1.0-27-amd64")
    if h.iommu == "intel":
        h.iommu_dev = "sys/devices/virtual/iommu/dmar0"
    elif h.iommu == "amd":
        iom = [d for d in h.order if d.vendor == 0x1022 and d.device == 0x1481]
        h.iommu_dev = iom[0].path + "/iommu/ivhd0"
    drivers = gen_pci(h, w)
    plan_gpu_nodes(h, drivers)
    gen_gpu_nodes(h, w)
    gen_iommu(h, w)
    gen_storage(h, w)
    gen_net(h, w)
    gen_numa(h, w)
    gen_proc(h, w, drivers)
    gen_etc(h, w)
    gen_boot(h, w)
    gen_kmsg(h, w)
    gen_module_tree(h, w, drivers)
    gen_devnodes(h, w, drivers)
    for d in ("dev", "var/log", "run"):
        w.mkdir(d)
    overlay(h, root)
    return root


def kver_tuple(k):
    m = re.match(r"(\d+)\.(\d+)", k)
    return (int(m.group(1)), int(m.group(2)))


def gen_boot(h, w):
    """UEFI hosts have sys/firmware/efi (proxmox-boot-tool's test for UEFI)."""
    efi = h.kv.get("efi", "yes" if h.kv.get("boot") == "systemd-boot" or "efipart" in h.kv else "no")
    if efi == "yes":
        w.file("sys/firmware/efi/fw_platform_size", "64\n")
        w.mkdir("sys/firmware/efi/efivars")


def gen_kmsg(h, w):
    """gpupass/kmsg.txt, as `gpupass snapshot` records the kernel log: the lines check reads
    (IOMMU, interrupt remapping, default domain, boot framebuffer), worded as the kernel
    prints them (drivers/iommu/intel/dmar.c, irq_remapping.c, amd/init.c, iommu.c)."""
    ir = h.kv.get("ir", "on" if h.iommu != "off" else "off")
    args = h.cmdline.split()
    out = ["Linux version %s" % h.kver, "Command line: %s" % h.cmdline]
    fw = h.kv.get("firmware_iommu", h.iommu)
    if fw == "intel":
        out.append("ACPI: DMAR 0x000000007A8E0000 000088 (v02 INTEL  EDK2     00000002      01000013)")
    if fw == "amd":
        out.append("ACPI: IVRS 0x00000000CA2B1000 0000D0 (v02 AMD    AmdTable 00000001 AMD  00000001)")
    if "amd_iommu=on" in args:
        out.append("AMD-Vi: Unknown option - 'on'")
    if h.iommu == "intel":
        if "intel_iommu=on" in args:
            out.append("DMAR: IOMMU enabled")
        out.append("DMAR: Host address width 39")
        out.append("DMAR: DRHD base: 0x000000fed91000 flags: 0x1")
        out.append("DMAR-IR: IOAPIC id 2 under DRHD base  0xfed91000 IOMMU 0")
        if ir == "on":
            out.append("DMAR-IR: Enabled IRQ remapping in x2apic mode")
        else:
            out.append("DMAR-IR: Not enabling interrupt remapping: this platform does not support it")
    if h.iommu == "amd":
        out.append("pci 0000:00:00.2: AMD-Vi: IOMMU performance counters supported")
        out.append("AMD-Vi: Extended features (0x58f77ef22294a5a, 0x0): PPR NX GT IA PC GA_vAPIC")
        if ir == "on":
            out.append("AMD-Vi: Interrupt remapping enabled")
    if h.iommu != "off":
        if "iommu=pt" in args:
            out.append("iommu: Default domain type: Passthrough (set via kernel command line)")
        else:
            out.append("iommu: Default domain type: Translated")
        out.append("iommu: DMA domain TLB invalidation policy: lazy mode")
        if h.iommu == "intel":
            out.append("DMAR: Intel(R) Virtualization Technology for Directed I/O")
    for d in h.order:
        if "bootfb" in d.opts:
            out.append("efifb: probing for efifb")
            out.append("efifb: framebuffer at 0x%x, using 8100k, total 8100k" % d.res[int(d.opts["bootfb"])][0])
            out.append("fb0: EFI VGA frame buffer device")
    if h.iommu != "off" and ir == "off" and any(d.opts.get("drv") == "vfio-pci" for d in h.order):
        out.append("vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "
                   "\"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform")
    out += h.kv.get("kmsg_extra", "").split("|") if h.kv.get("kmsg_extra") else []
    t = 0.0
    lines = []
    for i, l in enumerate(out):
        lines.append("[%5d.%06d] %s\n" % (int(t), int(t * 1e6) % 1000000, l))
        t += 0.013 * (i + 1)
    w.file("gpupass/kmsg.txt", "".join(lines))


# Module files under lib/modules/<release>/kernel, as Debian and Proxmox kernels ship them.
TREE_MODULES = [
    "drivers/vfio/vfio.ko", "drivers/vfio/vfio_iommu_type1.ko", "drivers/vfio/pci/vfio-pci.ko",
    "drivers/vfio/pci/vfio-pci-core.ko", "drivers/vfio/mdev/mdev.ko",
    "arch/x86/kvm/kvm.ko", "arch/x86/kvm/kvm-intel.ko", "arch/x86/kvm/kvm-amd.ko",
    "drivers/gpu/drm/nouveau/nouveau.ko", "drivers/gpu/drm/amd/amdgpu/amdgpu.ko",
    "drivers/gpu/drm/radeon/radeon.ko", "drivers/gpu/drm/i915/i915.ko", "drivers/gpu/drm/ast/ast.ko",
    "sound/pci/hda/snd-hda-intel.ko", "drivers/ata/ahci.ko", "drivers/nvme/host/nvme.ko",
    "drivers/net/ethernet/intel/e1000e/e1000e.ko", "drivers/net/ethernet/intel/igb/igb.ko",
    "drivers/net/ethernet/intel/i40e/i40e.ko", "drivers/net/ethernet/intel/ixgbe/ixgbe.ko",
    "drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko", "drivers/usb/host/xhci-pci.ko",
    "drivers/i2c/busses/i2c-i801.ko", "drivers/i2c/busses/i2c-piix4.ko", "drivers/misc/mei/mei-me.ko",
    "drivers/crypto/ccp/ccp.ko", "drivers/dma/ptdma/ptdma.ko", "drivers/net/wireless/intel/iwlwifi/iwlwifi.ko",
    "drivers/net/ethernet/realtek/r8169.ko", "drivers/spi/spi-intel-pci.ko", "drivers/hwmon/k10temp.ko",
    "drivers/edac/i10nm_edac.ko", "drivers/platform/x86/intel/pmc/intel_pmc_core.ko",
]


def gen_module_tree(h, w, drivers):
    """lib/modules/<release>/modules.dep and modules.builtin (text forms, as depmod writes
    them). vfio_virqfd is its own module before 6.2 and part of vfio from 6.2 on."""
    base = "lib/modules/%s/" % h.kver
    mods = ["kernel/" + m for m in TREE_MODULES]
    if kver_tuple(h.kver) < (6, 2):
        mods.append("kernel/drivers/vfio/vfio_virqfd.ko")
    if "zfs" in h.extra_modules:
        mods.append("zfs/zfs.ko")
    if "nvidia" in drivers:
        mods += ["updates/dkms/nvidia.ko", "updates/dkms/nvidia-uvm.ko", "updates/dkms/nvidia-modeset.ko",
                 "updates/dkms/nvidia-drm.ko"]
    mods += ["updates/dkms/" + m + ".ko" for m in h.kv.get("dkms", "").split() if m]
    deps = {"kernel/drivers/vfio/pci/vfio-pci.ko": ["kernel/drivers/vfio/pci/vfio-pci-core.ko",
                                                      "kernel/drivers/vfio/vfio.ko"],
            "kernel/drivers/vfio/pci/vfio-pci-core.ko": ["kernel/drivers/vfio/vfio.ko"],
            "kernel/drivers/vfio/vfio_iommu_type1.ko": ["kernel/drivers/vfio/vfio.ko"],
            "kernel/arch/x86/kvm/kvm-intel.ko": ["kernel/arch/x86/kvm/kvm.ko"],
            "kernel/arch/x86/kvm/kvm-amd.ko": ["kernel/arch/x86/kvm/kvm.ko"]}
    w.file(base + "modules.dep", "".join("%s:%s\n" % (m, "".join(" " + d for d in deps.get(m, [])))
                                          for m in sorted(mods)))
    w.file(base + "modules.builtin", "kernel/drivers/pci/pcie/portdrv.ko\nkernel/drivers/iommu/iommufd/iommufd.ko\n"
           "kernel/drivers/video/fbdev/core/fb.ko\nkernel/drivers/firmware/efi/efivars.ko\n")


# ---------------------------------------------------------------- GPU device nodes

# Drivers that register a DRM device (nvidia through nvidia-drm); ast drives a display only
# and has no render node.
DRM_DRIVERS = ("i915", "xe", "amdgpu", "radeon", "nouveau", "ast", "nvidia")
DRM_NO_RENDER = ("ast",)
# Character majors the kernel hands out at module load (dynamic: they differ between hosts,
# which is why a guide's "c 235:* rwm" breaks); a host's `majors` line overrides them.
DYN_MAJORS = {"kfd": 234, "nvidia-uvm": 235, "nvidia-nvlink": 236, "nvidia-caps": 237}
# Host groups as Debian 12 / Proxmox VE 8 create them (udev's postinst: input, sgx, kvm, render).
GID_VIDEO, GID_KVM, GID_RENDER = 44, 103, 104
NVIDIA_VERSION = "550.127.05"
NVIDIA_MODEL = {0x26b9: ("NVIDIA L40S", "95.02.66.00.02"),
                0x2504: ("NVIDIA GeForce RTX 3060", "94.06.2f.00.9b"),
                0x25a2: ("NVIDIA GeForce RTX 3050 Laptop GPU", "94.07.3b.00.7d"),
                0x2684: ("NVIDIA GeForce RTX 4090", "95.02.18.80.5f"),
                0x2331: ("NVIDIA H100 PCIe", "96.00.30.00.01")}


def plan_gpu_nodes(h, drivers):
    """Which DRM minors, NVIDIA minors and dynamic majors this host has.  DRM minors follow
    probe order: the boot VGA's driver first, then PCI address order; cardN counts every DRM
    device, renderD128+M only those with a render node.  NVIDIA's Device Minor counts the
    physical functions on nvidia in address order (VFs get none)."""
    gpus = [d for d in h.order if d.cls >> 16 == 0x03 and d.physfn is None
            and d.opts.get("drv") in DRM_DRIVERS]
    gpus.sort(key=lambda d: ("bootvga" not in d.flags, d.key()))
    h.drm = []
    render = 0
    for i, d in enumerate(gpus):
        r = None
        if d.opts["drv"] not in DRM_NO_RENDER:
            r = 128 + render
            render += 1
        h.drm.append((d, i, r))
    h.nv_minor = {}
    for d in h.order:
        if d.opts.get("drv") == "nvidia" and d.physfn is None and d.cls >> 16 == 0x03:
            h.nv_minor[d.bdf] = len(h.nv_minor)
    names = []
    if "nvidia" in drivers:
        names += ["nvidia-uvm", "nvidia-nvlink", "nvidia-caps"]
    if "amdgpu" in drivers:
        names.append("kfd")
    h.majors = dict((n, DYN_MAJORS[n]) for n in names)
    for t in h.kv.get("majors", "").split():
        k, v = t.split("=", 1)
        if k not in h.majors:
            raise SystemExit("%s: majors: %s is not a driver of this host" % (h.name, k))
        h.majors[k] = int(v)
    if len(set(h.majors.values())) != len(h.majors):
        raise SystemExit("%s: majors: two drivers on one major" % h.name)
    nodes = h.kv.get("nvidia_nodes", "all")
    if nodes not in ("all", "partial"):
        raise SystemExit("%s: nvidia_nodes all|partial" % h.name)


def gen_gpu_nodes(h, w):
    """sysfs DRM minors under each GPU (drm/cardN, drm/renderDN with dev, uevent, device and
    subsystem links; sys/class/drm links) and procfs of the nvidia module
    (proc/driver/nvidia/version, gpus/<bdf>/information)."""
    if h.drm:
        w.file("sys/class/drm/version", "drm 1.1.0 20060810\n")
    for d, card, render in h.drm:
        for name, minor in [("card%d" % card, card)] + ([] if render is None else [("renderD%d" % render, render)]):
            base = "%s/drm/%s" % (d.path, name)
            w.file(base + "/dev", "226:%d\n" % minor)
            w.file(base + "/uevent", "MAJOR=226\nMINOR=%d\nDEVNAME=dri/%s\nDEVTYPE=drm_minor\n" % (minor, name))
            # as the kernel writes it: up to the GPU's parent, down to the GPU
            w.symlink(base + "/device", "../../../" + d.bdf)
            w.link(base + "/subsystem", "sys/class/drm")
            w.link("sys/class/drm/" + name, base)
    if not h.nv_minor:
        return
    w.file("proc/driver/nvidia/version",
           "NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Tue Oct  8 03:22:07 UTC 2024\n"
           "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n" % NVIDIA_VERSION)
    for bdf, minor in sorted(h.nv_minor.items()):
        d = h.devs[bdf]
        model, vbios = NVIDIA_MODEL.get(d.device, ("NVIDIA Graphics Device", "00.00.00.00.00"))
        # a fixed, made-up UUID per host and function (the format nvidia-smi -L shows)
        hx = hashlib.md5((h.name + bdf).encode()).hexdigest()
        uuid = "GPU-%s-%s-%s-%s-%s" % (hx[:8], hx[8:12], hx[12:16], hx[16:20], hx[20:])
        w.file("proc/driver/nvidia/gpus/%s/information" % bdf,
               "Model: \t\t %s\nIRQ:   \t\t %d\nGPU UUID: \t %s\nVideo BIOS: \t %s\n"
               "Bus Type: \t PCIe\nDMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\n"
               "Bus Location: \t %s\nDevice Minor: \t %d\nGPU Firmware: \t %s\nGPU Excluded:\t No\n"
               % (model, d.irq, uuid, vbios, bdf, minor, NVIDIA_VERSION))


def gen_devnodes(h, w, drivers):
    """gpupass/devnodes.txt, as `gpupass snapshot` records device nodes (path type
    major:minor mode uid gid; names sorted, directories followed by their entries)."""
    nodes = {}

    def node(path, typ, major=0, minor=0, mode=0o666, uid=0, gid=0):
        nodes[path] = (typ, major, minor, mode, uid, gid)

    if h.kv.get("kvm", "yes") == "yes":
        node("dev/kvm", "char", 10, 232, 0o660, 0, GID_KVM)
    if h.iommu != "off":
        node("dev/vfio", "dir", mode=0o755)
        node("dev/vfio/vfio", "char", 10, 196, 0o666)
        for d in h.order:
            if d.opts.get("drv") == "vfio-pci" and d.group is not None and d.bdf.endswith(".0"):
                node("dev/vfio/%d" % d.group, "char", 511, d.group, 0o600)
    if h.drm:
        node("dev/dri", "dir", mode=0o755)
        node("dev/dri/by-path", "dir", mode=0o755)
    for d, card, render in h.drm:
        node("dev/dri/card%d" % card, "char", 226, card, 0o660, 0, GID_VIDEO)
        node("dev/dri/by-path/pci-%s-card" % d.bdf, "link", mode=0o777)
        if render is not None:
            node("dev/dri/renderD%d" % render, "char", 226, render, 0o660, 0, GID_RENDER)
            node("dev/dri/by-path/pci-%s-render" % d.bdf, "link", mode=0o777)
    if h.nv_minor:
        # nvidia-modprobe makes these 0666 root:root; nvidia-uvm's two only once
        # `nvidia-modprobe -u -c=0` (or nvidia-persistenced) ran: `nvidia_nodes partial`
        node("dev/nvidiactl", "char", 195, 255)
        node("dev/nvidia-modeset", "char", 195, 254)
        for minor in sorted(h.nv_minor.values()):
            node("dev/nvidia%d" % minor, "char", 195, minor)
        if h.kv.get("nvidia_nodes", "all") == "all":
            node("dev/nvidia-uvm", "char", h.majors["nvidia-uvm"], 0)
            node("dev/nvidia-uvm-tools", "char", h.majors["nvidia-uvm"], 1)
        node("dev/nvidia-caps", "dir", mode=0o755)
        node("dev/nvidia-caps/nvidia-cap1", "char", h.majors["nvidia-caps"], 1, 0o400)
        node("dev/nvidia-caps/nvidia-cap2", "char", h.majors["nvidia-caps"], 2, 0o444)
    if "kfd" in h.majors:
        # systemd's 50-udev-default.rules: GROUP="render", Debian's render mode 0660
        node("dev/kfd", "char", h.majors["kfd"], 0, 0o660, 0, GID_RENDER)
    lines = []

    def walk(parent):
        kids = sorted((p for p in nodes if os.path.dirname(p) == parent), key=lambda p: p.encode())
        for p in kids:
            typ, major, minor, mode, uid, gid = nodes[p]
            lines.append("%s %s %d:%d %04o %d %d" % (p, typ, major, minor, mode, uid, gid))
            if typ == "dir":
                walk(p)
    walk("dev")
    w.file("gpupass/devnodes.txt", "".join(l + "\n" for l in lines))


def overlay(h, root):
    """tests/hosts/<name>.files/ holds files written by hand for a host (modprobe.d
    files, a stale /etc/default/grub, VM configs); they are copied over the generated tree."""
    src = os.path.join(HERE, h.name + ".files")
    if not os.path.isdir(src):
        return
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        # a link to a directory shows up in dirnames; treat it as a file
        filenames += [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        rel = os.path.relpath(dirpath, src)
        dst = os.path.normpath(os.path.join(root, rel))
        os.makedirs(dst, exist_ok=True)
        for f in sorted(filenames):
            src_f, dst_f = os.path.join(dirpath, f), os.path.join(dst, f)
            if os.path.islink(src_f):
                # e.g. proc/<pid>/fd/N -> /dev/vfio/2: kept as a link, as procfs shows it
                if os.path.lexists(dst_f):
                    os.unlink(dst_f)
                os.symlink(os.readlink(src_f), dst_f)
            else:
                shutil.copyfile(src_f, dst_f)


def all_hosts():
    return sorted(f[:-5] for f in os.listdir(HERE) if f.endswith(".host"))


def main(argv):
    if len(argv) >= 2 and argv[0] == "--manifest":
        for name in argv[1:]:
            h = load(name)
            for d in h.order:
                print(h.name, d.bdf, "%04x:%04x" % (d.vendor, d.device), "%06x" % d.cls,
                      d.opts.get("drv", "-"), "vf" if d.physfn else "-")
        return 0
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = argv[0]
    names = argv[1:] or all_hosts()
    os.makedirs(out, exist_ok=True)
    for n in names:
        h = load(n)
        generate(h, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
