#!/usr/bin/env python3
"""Hostile input for every command: bad PCI addresses and IDs (empty, malformed, out of range,
huge numbers, 10 KB strings, non-UTF-8, terminal escapes), VMIDs and CTIDs that do not exist,
empty, binary and 100 MB files, a 1 MB line, symlink loops, a --root whose sysfs links leave it,
non-UTF-8 configs, a read-only target and a user who is not root. Each case must end in time with
its documented exit status, name what was wrong, raise no sanitizer report, and change no file
of the (private, fully copied) host root nor of the input files. TAP; ends with
"# N hostile inputs tried". Env: GPUPASS (binary), HOSTS (fixture roots).
HOSTILE_SHOW=1 prints every case's exit status and first stderr line."""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
hosts = os.path.abspath(os.environ["HOSTS"])
SHOW = os.environ.get("HOSTILE_SHOW") == "1"
ASAN = "asan" in gpupass
TIMEOUT = 60 if ASAN else 30
tap = expectlib.Tap()
tmp = tempfile.mkdtemp(prefix="gpupass-hostile-")
os.chmod(tmp, 0o755)            # the cases run as nobody read it too
build = os.path.dirname(os.path.dirname(os.path.dirname(gpupass)))
FAKELIB = os.path.join(build, "tests", "fakegpu")
PVE, DC = "pve8-intel-1gpu", "server-dc-gpus"
DEV = "sys/bus/pci/devices/"
SAN = (b"AddressSanitizer", b"runtime error", b"LeakSanitizer", b"Segmentation fault", b"core dumped")
tried = 0


# --- private roots: full copies (no hard links), so nothing gpupass could write is shared
def private(host, name, prep=None):
    dst = os.path.join(tmp, "roots", name)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    subprocess.run(["cp", "-a", os.path.join(hosts, host), dst], check=True)
    if prep:
        prep(dst)
    return dst


# PVE's lock protocol (qm, pct and pmxcfs do the same): an --apply takes the config lock
# before it reads, and the empty lock file stays, as Proxmox leaves it; nothing else may.
LOCKS = ("var/lock", "run/lock", "etc/pve/priv/lock", "var/lock/qemu-server", "run/lock/lxc", "etc/pve/priv",
         "run", "var")


def is_lock(rel):
    if rel in LOCKS:
        return True
    return rel.startswith(("var/lock/qemu-server/lock-", "run/lock/lxc/pve-config-", "etc/pve/priv/lock/"))


def fingerprint(top):
    """path -> (type, mode, size, mtime, inode, link target) of everything below top: a write,
    a rename, a new or removed file all show; cheap enough to take around every case."""
    out = {}
    if not os.path.lexists(top):
        return out
    cut = len(top) + 1
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = dirpath + "/" + n
            if is_lock(p[cut:]):
                continue
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):     # a new or removed entry shows as its own path
                out[p] = (st.st_mode,)
                continue
            out[p] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino,
                      os.readlink(p) if stat.S_ISLNK(st.st_mode) else None)
    return out


def content_sum(top, skip=()):
    """sha256 of every regular file's bytes and every link's target, by path (locks and skip left out)."""
    import hashlib
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(top)):
        dirnames.sort()
        for n in sorted(filenames + dirnames):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, top)
            if is_lock(rel) or rel.startswith(skip) or rel + "/" in skip:
                continue
            st = os.lstat(p)
            h.update(os.fsencode(os.path.relpath(p, top)) + b"\0%o\0" % st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                h.update(os.fsencode(os.readlink(p)))
            elif stat.S_ISREG(st.st_mode) and st.st_size < (4 << 20):
                with open(p, "rb") as fh:
                    h.update(fh.read())
            elif stat.S_ISREG(st.st_mode):
                h.update(b"%d:%d" % (st.st_size, st.st_mtime_ns))
    return h.hexdigest()


def diff(a, b):
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


# --- who runs it
NOBODY = None
if os.geteuid() == 0 and shutil.which("setpriv"):
    try:
        pw = pwd.getpwnam("nobody")
        NOBODY = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups", "--"]
    except KeyError:
        pass


def gp(args, root=None, env=None, stdin=None, as_user=False):
    e = dict(os.environ, NO_COLOR="1")
    for k in ("GPUPASS_FAULT", "GPUPASS_ROOT", "GPUPASS_TEST_RUNNER"):
        e.pop(k, None)
    e.update(env or {})
    argv = [gpupass] + (["--root", root] if root is not None else []) + list(args)
    if as_user:
        argv = NOBODY + argv
    try:
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                           timeout=TIMEOUT, cwd=tmp)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, b"", b"(no end within %d s)" % TIMEOUT


def short(b, n=70):
    s = b if isinstance(b, bytes) else os.fsencode(b)
    return repr(s[:n])[2:-1] + ("...(%d bytes)" % len(s) if len(s) > n else "")


def case(name, args, rcs, needle, root=None, watch=(), env=None, stdin=None, as_user=False, root_watched=True,
         need_for=(1, 2, 3), allow=()):
    """One hostile input: exit status in rcs, needle (bytes/str, or a tuple of which one must
    show) in the message (stderr; for exit 1-2 stdout counts too), no sanitizer report, done
    in time, and nothing below root or any of watch changed."""
    global tried
    tried += 1
    tops = ([root] if root and root_watched else []) + list(watch)
    before = [fingerprint(t) for t in tops]
    t0 = time.time()
    rc, out, err = gp(args, root=root, env=env, stdin=stdin, as_user=as_user)
    took = time.time() - t0
    after = [fingerprint(t) for t in tops]
    changed = [x for b, a in zip(before, after) for x in diff(b, a) if not x.endswith(allow)]
    needles = needle if isinstance(needle, tuple) else (needle,)
    needles = [os.fsencode(x) if isinstance(x, str) else x for x in needles if x is not None]
    text = err if rc == 3 or rc is None else err + out
    named = not needles or rc not in need_for or any(x in text for x in needles)
    san = [s for s in SAN if s in err]
    good = rc is not None and rc in rcs and named and not san and not changed
    if SHOW:
        print("# [%s] rc=%s %.2fs %s" % (name, rc, took, short(err.split(b"\n")[0], 200)))
    detail = "exit %s (want %s); needle %s %s; stderr: %s%s%s" % (
        rc, "/".join(map(str, rcs)), [short(x, 40) for x in needles], "found" if named else "MISSING",
        short(err, 600), "\nsanitizer: %s" % san if san else "", "\nchanged: %s" % changed[:10] if changed else "")
    tap.ok(good, name, detail)
    return rc, out, err


# --- the inputs
inp = os.path.join(tmp, "in")
os.makedirs(inp)
os.chmod(inp, 0o755)


def mk(name, data=None, sparse=0):
    p = os.path.join(inp, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as fh:
        if data:
            fh.write(data)
        if sparse:
            fh.truncate(sparse)
    return p


rnd = os.urandom(64 * 1024)
FILES = {
    "empty": mk("empty"),
    "random": mk("random.bin", rnd),
    "nuls": mk("nuls.bin", b"\0" * 65536),
    "big100M": mk("big100M.bin", sparse=100 << 20),
    "line1M": mk("line1M.txt", b"x" * (1 << 20) + b"\n"),
    "nonutf8": mk("nonutf8.txt", b"\xff\xfe\xc3\x28 caf\xe9 \xed\xa0\x80\n" * 100),
    "romhdr": mk("fake.rom", b"\x55\xaa" + rnd[:4094]),
}
try:
    import romlib  # noqa: E402
    GOODROM = mk("good.rom", romlib.image(0, False) + romlib.image(3, True))
except Exception:   # romlib changed: a header-only ROM still exercises the paths
    GOODROM = FILES["romhdr"]
loop = os.path.join(inp, "loop")
os.symlink("loop", loop)
FILES["loop"] = loop
FILES["dir"] = os.path.join(inp, "adir")
os.makedirs(FILES["dir"])
FILES["missing"] = os.path.join(inp, "no", "such", "file")
FILES["nonutf8-name"] = mk(os.fsdecode(b"n\xe4me-\xff.conf"), b"vfio\n")
FILES["dangling"] = os.path.join(inp, "dangling")
os.symlink("/nonexistent/gpupass/x", FILES["dangling"])
BIG = "1" * 10240
ADDRS = ["", "zz:zz.z", "0000:01:00.9", "01:20.0", "10000:01:00.0", "99999999999999999999:00.0",
         "ffffffff:ff:ff.7", "7f:00.0", "01:00.0x", " 01:00.0", "01:00.0\n", "-01:00.0", "0x01:00.0",
         "01:00.-1", "../../../../no/such/dir/x", "01:00.0/../../x", "%s%n%s%n", "\x1b[2J01:00.0",
         os.fsdecode(b"\xff\xfe:00.0"), BIG, "g" * 10240 + ":00.0"]
IDS = ["", "0", "-1", "1.5", "abc", "99999999999999999999", "4294967296", "999999", "100abc", "+100",
       "../100", "100/../101", os.fsdecode(b"\xff100"), BIG]


def addr_needle(a):
    """What a message about address a must contain: a long one may be cut, an empty one quoted."""
    if a == "":
        return ("''", "empty", "no PCI")
    s = a.strip()
    return (s[:40], repr(s)[1:41])


def watch_inputs():
    return [inp]


# ============================================================ PCI addresses, every command
R = private(PVE, "pve")
Rdc = private(DC, "dc")
fake = {"GPUPASS_GPU_LIBDIR": FAKELIB, "FAKECUDA_BUSID": "0000:01:00.0"}
out_rom = os.path.join(tmp, "out", "dump.rom")
os.makedirs(os.path.dirname(out_rom))
ADDR_CMDS = [
    ("list", lambda a: ["list", a], (3,)),
    ("list --all", lambda a: ["list", "--all", "--json", a], (3,)),
    ("check", lambda a: ["check", "--json", a], (3,)),
    ("setup", lambda a: ["setup", a], (3,)),
    ("setup --apply", lambda a: ["setup", a, "--apply"], (3,)),
    ("bind", lambda a: ["bind", a], (3,)),
    ("bind --dry-run", lambda a: ["bind", a, "--dry-run"], (3,)),
    ("unbind", lambda a: ["unbind", a], (3,)),
    ("status", lambda a: ["status", a], (3,)),
    ("sriov", lambda a: ["sriov", a], (3,)),
    ("sriov --vfs --apply", lambda a: ["sriov", a, "--vfs", "2", "--apply"], (3,)),
    ("rom info", lambda a: ["rom", "info", a], (3,)),
    ("rom dump", lambda a: ["rom", "dump", a, "-o", out_rom], (3,)),
    ("mig plan", lambda a: ["mig", "plan", "--gpu", a, "1g.10gb"], (3,)),
    ("mig apply", lambda a: ["mig", "apply", "--gpu", a, "1g.10gb"], (3,)),
    ("vm", lambda a: ["vm", "100", "--gpu", a], (3,)),
    ("vm --apply", lambda a: ["vm", "101", "--gpu", a, "--apply"], (3,)),
    ("vm --libvirt", lambda a: ["vm", "--libvirt", "--gpu", a], (3,)),
    ("lxc", lambda a: ["lxc", "200", "--gpu", a], (3,)),
    ("lxc --print", lambda a: ["lxc", "--gpu", a, "--print"], (3,)),
    ("map", lambda a: ["map", "gpu0", "--gpu", a, "--apply"], (3,)),
    ("bench", lambda a: ["bench", a, "--max-size", "64K", "--samples", "1"], (3,)),
]
for cname, mkargs, rcs in ADDR_CMDS:
    for a in ADDRS:
        root = R
        if cname.startswith(("mig", "sriov")):
            root = Rdc
        if a == "" and cname == "list":
            continue   # an empty filter is tried below with list --all
        case("%s %s" % (cname, short(a, 24)), mkargs(a), rcs, addr_needle(a), root=root,
             watch=[inp, os.path.dirname(out_rom)], env=fake if cname == "bench" else None)

# mig plan also takes a model name: hostile model names
for m in ["", "A100 999GB", "10de:ffff", "zzzz:20b5", BIG, os.fsdecode(b"A100\xff")]:
    case("mig plan model %s" % short(m, 24), ["mig", "plan", "--gpu", m, "1g.10gb"], (3, 2),
         (m.strip()[:40], "''", "model", "GPU"), root=Rdc)

# ============================================================ IDs: VMIDs, CTIDs, undo IDs, names
RJ = private(PVE, "journal")     # a root with a journal: setup --apply has run on it
rc, out, err = gp(["setup", "01:00.0", "--apply", "--no-iommu-pt"], root=RJ)
tap.ok(rc == 0 and os.path.isdir(os.path.join(RJ, "var/lib/gpupass/journal")),
       "a root with a journal for the undo cases (%s: %s)" % (rc, short(err, 300)))
for i in IDS:
    nd = (i.strip()[:40], repr(i)[1:41], "''", "VMID", "no VM", "not a VM")
    case("vm VMID %s" % short(i, 24), ["vm", i, "--gpu", "01:00.0"], (3,), nd, root=R)
    case("vm VMID --apply %s" % short(i, 24), ["vm", i, "--gpu", "01:00.0", "--apply"], (3,), nd, root=R)
    case("vm lint %s" % short(i, 24), ["vm", "lint", i], (2, 3) if i == "999999" else (3,), nd, root=R)
    ndc = (i.strip()[:40], repr(i)[1:41], "''", "CTID", "no container", "not a container")
    case("lxc CTID %s" % short(i, 24), ["lxc", i, "--gpu", "00:02.0"], (3,), ndc, root=R)
    case("lxc CTID --apply %s" % short(i, 24), ["lxc", i, "--gpu", "00:02.0", "--apply"], (3,), ndc, root=R)
    case("lxc lint %s" % short(i, 24), ["lxc", "lint", i], (2, 3) if i == "999999" else (3,), ndc, root=R)
    case("undo %s" % short(i, 24), ["undo", i], (3, 2), (i.strip()[:40], repr(i)[1:41], "''"), root=R)
    case("undo with a journal %s" % short(i, 24), ["undo", i], (3, 2), (i.strip()[:40], repr(i)[1:41], "''"),
         root=RJ)
    case("map NAME %s" % short(i, 24), ["map", i, "--gpu", "01:00.0"], (3, 0) if i.isalnum() else (3,),
         (i[:40], repr(i)[1:41], "''", "name"), root=R)
    case("undo --force %s" % short(i, 24), ["undo", i, "--force"], (3, 2), (i.strip()[:40], repr(i)[1:41], "''"),
         root=RJ)

# numbers in options
NUMS = ["", "-1", "0", "abc", "99999999999999999999", "4294967296", "1e9", BIG, os.fsdecode(b"\xff")]
for v in NUMS:
    nd = (v[:40], repr(v)[1:41], "''")
    case("lxc --render-gid %s" % short(v, 20), ["lxc", "200", "--gpu", "00:02.0", "--render-gid", v],
         (3, 0) if v == "0" else (3,), nd, root=R)
    case("sriov --vfs %s" % short(v, 20), ["sriov", "17:00.0", "--vfs", v], (3, 0, 2) if v == "0" else (3,),
         nd, root=Rdc)
    case("bench --samples %s" % short(v, 20), ["bench", "--samples", v], (3,), nd, root=R, env=fake)
    if v != "4294967296":   # 4G is a size bench takes (and spends minutes on)
        case("bench --max-size %s" % short(v, 20), ["bench", "--max-size", v], (3,), nd, root=R, env=fake)
    case("bench llm --runs %s" % short(v, 20), ["bench", "llm", "--url", "http://127.0.0.1:9", "--model", "m",
                                                "--runs", v], (3,), nd, root=R)
    case("vm --hugepages %s" % short(v, 20), ["vm", "100", "--gpu", "01:00.0", "--hugepages", v], (3,), nd,
         root=R)
    case("mig plan profile count %s" % short(v, 20), ["mig", "plan", "--gpu", "A100 80GB", "1g.10gb:" + v],
         (3, 2), nd + ("1g.10gb",), root=Rdc)
for v in ["", "bad", "../../../x", "flr\nbus", BIG, os.fsdecode(b"fl\xffr")]:
    # a well-formed name the kernel does not know is the kernel's to refuse: a dry run on a GPU
    # already on vfio-pci writes nothing, so 0
    case("bind --reset-method %s" % short(v, 20), ["bind", "01:00.0", "--reset-method", v, "--dry-run"],
         (0, 3) if v == "bad" else (3,),
         (v[:40], repr(v)[1:41], "''"), root=R)
    case("setup --method %s" % short(v, 20), ["setup", "01:00.0", "--method", v], (3,),
         (v[:40], repr(v)[1:41], "''"), root=R)
    case("lxc --style %s" % short(v, 20), ["lxc", "200", "--gpu", "00:02.0", "--style", v], (3,),
         (v[:40], repr(v)[1:41], "''"), root=R)
    case("mig profile %s" % short(v, 20), ["mig", "plan", "--gpu", "A100 80GB", v], (3, 2),
         (v.strip()[:40], repr(v)[1:41], "''", "profile"), root=Rdc)
    case("bench llm --api %s" % short(v, 20), ["bench", "llm", "--url", "http://127.0.0.1:9", "--model", "m",
                                               "--api", v], (3,), (v[:40], repr(v)[1:41], "''"), root=R)
for u in ["", "notaurl", "http://[::1", "ftp://127.0.0.1/", "http://127.0.0.1:99999/", "http://127.0.0.1:9/",
          "http://" + "a" * 10240, os.fsdecode(b"http://\xff/")]:
    case("bench llm --url %s" % short(u, 24), ["bench", "llm", "--url", u, "--model", "m", "--runs", "1"], (3,),
         (u[:40], repr(u)[1:41], "''", "127.0.0.1"), root=R)

# ============================================================ hostile files as every file argument
FILE_CMDS = [
    ("lint", lambda f: ["lint", f], (3, 0, 1, 2)),
    ("lint --json", lambda f: ["lint", "--json", f], (3, 0, 1, 2)),
    ("doctor --log", lambda f: ["doctor", "--log", f], (3, 0, 1, 2)),
    ("doctor --log --json", lambda f: ["doctor", "--log", f, "--json", "-q"], (3, 0, 1, 2)),
    ("rom info", lambda f: ["rom", "info", f], (3, 2)),
    ("rom info --json", lambda f: ["rom", "info", f, "--json"], (3, 2)),
    ("rom info --strip", lambda f: ["rom", "info", f, "--strip", "-o", os.path.join(tmp, "out", "s.rom")], (3, 2)),
    ("vm --romfile", lambda f: ["vm", "100", "--gpu", "01:00.0", "--romfile", f], (3, 2)),
    ("vm --romfile --apply", lambda f: ["vm", "101", "--gpu", "01:00.0", "--romfile", f, "--apply"], (3, 2)),
    ("bench compare base", lambda f: ["bench", "compare", f, FILES["empty"]], (3,)),
    ("bench compare other", lambda f: ["bench", "compare", GOODRUN, f], (3,)),
    ("--root as archive", lambda f: ["list"], (3,)),
]
GOODRUN = os.path.join(tmp, "good-run.json")
rc, out, err = gp(["bench", "--max-size", "64K", "--samples", "1", "-o", GOODRUN], root=R, env=fake)
if rc not in (0, 1):
    GOODRUN = FILES["empty"]
for cname, mkargs, rcs in FILE_CMDS:
    for k, f in FILES.items():
        if k == "romhdr" and not cname.startswith(("rom", "vm")):
            continue
        want = rcs
        if k in ("missing", "loop", "dir", "dangling") or k == "big100M" and cname.startswith("lint") \
                or cname.startswith("bench compare") or cname.startswith("--root"):
            want = (3,)
        if k == "missing" and cname.startswith("rom info"):
            want = (3,)   # a name that is no file is taken as a GPU: not a PCI address
        if cname.startswith("--root"):
            case("%s %s" % (cname, k), mkargs(f), want, os.path.basename(f), root=f, watch=[inp])
        else:
            case("%s %s" % (cname, k), mkargs(f), want, os.path.basename(f), root=R, watch=[inp, tmp + "/out"])
# the log on standard input
for k in ("empty", "random", "nuls", "line1M", "nonutf8"):
    case("doctor --log - %s" % k, ["doctor", "--log", "-", "-q"], (0, 1, 2), None, root=R,
         stdin=open(FILES[k], "rb").read())
# lint: each file type by its name, with each hostile content
LINT_NAMES = ["etc/default/grub", "etc/default/grub.d/x.cfg", "etc/kernel/cmdline", "proc/cmdline", "etc/modules",
              "etc/modules-load.d/x.conf", "etc/modprobe.d/x.conf", "etc/initramfs-tools/modules",
              "etc/pve/qemu-server/100.conf", "etc/pve/lxc/200.conf", "etc/pve/mapping/pci.cfg"]
for ln in LINT_NAMES:
    for k in ("empty", "random", "nuls", "line1M", "nonutf8", "big100M"):
        src = FILES[k]
        dst = os.path.join(inp, "typed", k, ln)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if k == "big100M":
            with open(dst, "wb") as fh:
                fh.truncate(100 << 20)
        else:
            shutil.copyfile(src, dst)
        case("lint %s as %s" % (k, ln), ["lint", "-q", dst], (3,) if k == "big100M" else (0, 1, 2), ln, root=R,
             watch=[inp])

# output files that cannot be written: a missing directory, a loop, a directory, an existing file
ro = os.path.join(tmp, "ro-out")
os.makedirs(ro)
os.chmod(ro, 0o555)
for oname, o0 in [("missing dir", os.path.join(inp, "no", "dir", "x.out")), ("loop", loop),
                  ("directory", FILES["dir"]), ("empty name", ""), ("dangling link", FILES["dangling"])]:
    nd = (os.path.basename(o0) or "''", "''", "-o", "output")

    def target():
        """The atomic writes (rename) replace a link at the output name, as mv does: a link case
        gets its own link each time, which it may replace; the others must stay as they are."""
        if oname not in ("loop", "dangling link"):
            return o0, (3,) if not o0 else (3, 2)
        links = os.path.join(tmp, "links", str(tried))
        os.makedirs(links)
        o = os.path.join(links, "out")
        os.symlink("out" if oname == "loop" else "/nonexistent/gpupass/x", o)
        return o, (0, 2, 3)
    o, rcs = target()
    case("rom dump -o %s" % oname, ["rom", "dump", "01:00.0", "-o", o], rcs, nd + (os.path.basename(o) or "''",), root=R, watch=[inp],
         allow=("/rom",))
    o, rcs = target()
    case("rom info --strip -o %s" % oname, ["rom", "info", GOODROM, "--strip", "-o", o], rcs, nd + (os.path.basename(o) or "''",), root=R,
         watch=[inp])
    case("snapshot -o %s" % oname, ["snapshot", "-o", o0], (3,), nd + (os.path.basename(o) or "''",), root=R, watch=[inp])
    o, rcs = target()
    case("bench -o %s" % oname, ["bench", "--max-size", "64K", "--samples", "1", "-o", o], tuple(set(rcs) - {2}),
         nd + (os.path.basename(o) or "''",), root=R, watch=[inp], env=fake)
    o, rcs = target()
    case("bench compare --svg %s" % oname, ["bench", "compare", GOODRUN, GOODRUN, "--svg", o],
         tuple(set(rcs) - {2}), nd + (os.path.basename(o) or "''",), root=R, watch=[inp])
case("snapshot -o existing file", ["snapshot", "-o", FILES["random"]], (3,), "random.bin", root=R, watch=[inp])

# ============================================================ hostile roots
ROOT_CMDS = [["list"], ["list", "--all", "--json"], ["check", "--json"], ["doctor", "-q"], ["lint", "-q", FILES["empty"]],
             ["setup", "01:00.0"], ["setup", "01:00.0", "--apply", "--no-iommu-pt"], ["undo"], ["undo", "--list"],
             ["bind", "01:00.0", "--dry-run"], ["status"], ["vm", "100", "--gpu", "01:00.0"], ["vm", "lint"],
             ["vm", "--libvirt", "--gpu", "01:00.0"], ["lxc", "200", "--gpu", "00:02.0"], ["lxc", "lint"],
             ["mig", "status"], ["mig", "plan", "--gpu", "01:00.0", "1g.10gb"], ["sriov", "01:00.0"], ["map", "lint"],
             ["map", "gpu0", "--gpu", "01:00.0"], ["snapshot", "-o", "SNAP"],
             ["bench", "--samples", "1", "--max-size", "64K"]]
# these act on the device (sysfs writes are what they do): only on the roots that cannot be read
ACTING = [["bind", "01:00.0"], ["unbind", "01:00.0"], ["rom", "info", "01:00.0"], ["rom", "dump", "01:00.0", "-o", out_rom],
          ["setup", "01:00.0", "--apply"], ["vm", "100", "--gpu", "01:00.0", "--apply"]]
evil = os.path.join(tmp, "evil")              # sysfs links that leave the root
for sub in ("sys/bus/pci/devices", "sys/kernel/iommu_groups", "etc", "proc"):
    os.makedirs(os.path.join(evil, sub))
os.symlink("../../../../../../../../../../etc", os.path.join(evil, DEV, "0000:01:00.0"))
evil2 = private(PVE, "evil-abs")               # a real root, one device link absolute to this machine
os.unlink(os.path.join(evil2, DEV, "0000:01:00.0"))
os.symlink("/sys/devices/pci0000:00/0000:00:00.0", os.path.join(evil2, DEV, "0000:01:00.0"))
evil3 = private(PVE, "evil-dotdot")            # ... and one that climbs out with ..
os.unlink(os.path.join(evil3, DEV, "0000:01:00.0"))
os.symlink("../../../../../../../" + "../" * 8 + "tmp", os.path.join(evil3, DEV, "0000:01:00.0"))
evil4 = private(PVE, "evil-loop")              # a device link that is a loop
os.unlink(os.path.join(evil4, DEV, "0000:01:00.0"))
os.symlink("0000:01:00.0", os.path.join(evil4, DEV, "0000:01:00.0"))
evil5 = private(PVE, "evil-group")             # the iommu_group link leaves the root
g = os.path.join(os.path.realpath(os.path.join(evil5, DEV, "0000:01:00.0")), "iommu_group")
os.unlink(g)
os.symlink("/sys/kernel/iommu_groups/0", g)
rootloop = os.path.join(tmp, "rootloop")
os.symlink("rootloop", rootloop)
ROOTS = [("links out (relative)", evil, ("outside the host root", "0000:01:00.0")),
         ("absolute device link", evil2, ("outside the host root", "0000:01:00.0")),
         ("device link up and out", evil3, ("outside the host root", "0000:01:00.0")),
         ("device link loop", evil4, ("0000:01:00.0",)),
         ("iommu_group out", evil5, ("outside the host root", "iommu_group", "0000:01:00.0")),
         ("root is a loop", rootloop, ("rootloop",)),
         ("root missing", os.path.join(tmp, "no-root"), ("no-root",)),
         ("root empty string", "", ("''", "--root", "not a host root")),
         ("root non-UTF-8", os.path.join(tmp, os.fsdecode(b"r\xffoot")), (b"r\xffoot", "oot")),
         ("root 10 KB", "/" + "a" * 10240, ("aaaaaaaaaa",))]
nsnap = 0
for rname, r, nd in ROOTS:
    unreadable = r in (evil, rootloop) or not os.path.isdir(r)
    for args in ROOT_CMDS + (ACTING if unreadable else []):
        watch = [inp] + ([r] if os.path.isdir(r) and not os.path.islink(r) else [])
        nsnap += 1
        args = [os.path.join(tmp, "out", "s%d.tar.gz" % nsnap) if a == "SNAP" else a for a in args]
        # a root with one bad link may still be read: documented statuses; a refusal names the bad
        # link, the device, or (mig status) that it needs this machine
        rcs = (3,) if unreadable else (0, 1, 2, 3)
        if args[0] == "snapshot":
            rcs += (0,)     # snapshot takes what it can read, and lists what it could not
        if args[:2] == ["undo", "--list"] and r == evil:
            rcs += (0,)     # the journal is not below sys/
        case("root %s: %s" % (rname, " ".join(args[:2])), args, rcs, nd + ("without --root", "journal"),
             root=r, watch=watch, env=fake if args[0] == "bench" else None, need_for=(3,) if unreadable else (),
             allow=("/rom",) if args[0] == "rom" else ())

# ============================================================ hostile files inside a root
# One private root; each case puts its content at one path, runs, and puts the original back.
IR = private(PVE, "in-root")


def put(root, path, data, sparse=0):
    """Puts hostile content at path; returns how to put the original back."""
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    saved = os.path.join(tmp, "saved")
    had = os.path.lexists(p)
    if had:
        os.rename(p, saved)
    if data == "LOOP":
        os.symlink(os.path.basename(p), p)
    else:
        with open(p, "wb") as fh:
            fh.write(data)
            if sparse:
                fh.truncate(sparse)

    def restore():
        if os.path.lexists(p):
            os.unlink(p)
        if had:
            os.rename(saved, p)
    return restore


IN_ROOT = [("etc/default/grub", ["check", "-q"]), ("etc/default/grub", ["setup", "01:00.0", "--no-iommu-pt"]),
           ("etc/default/grub", ["setup", "01:00.0", "--apply", "--no-iommu-pt"]),
           ("etc/modprobe.d/vfio.conf", ["check", "-q"]), ("etc/modprobe.d/vfio.conf", ["setup", "01:00.0"]),
           ("etc/modules", ["setup", "01:00.0", "--apply", "--no-iommu-pt"]),
           ("etc/pve/qemu-server/100.conf", ["vm", "lint"]), ("etc/pve/qemu-server/100.conf", ["vm", "100", "--gpu", "01:00.0"]),
           ("etc/pve/qemu-server/100.conf", ["vm", "100", "--gpu", "01:00.0", "--apply"]),
           ("etc/pve/qemu-server/100.conf", ["check", "-q"]),
           ("etc/pve/lxc/200.conf", ["lxc", "lint"]), ("etc/pve/lxc/200.conf", ["lxc", "200", "--gpu", "00:02.0", "--apply"]),
           ("etc/pve/mapping/pci.cfg", ["map", "lint"]), ("etc/pve/mapping/pci.cfg", ["map", "gpu0", "--gpu", "01:00.0", "--apply"]),
           ("gpupass/kmsg.txt", ["doctor", "-q"]), ("gpupass/kmsg.txt", ["doctor", "--json"]),
           ("proc/cmdline", ["check", "-q"]), ("proc/cpuinfo", ["check", "-q"]), ("etc/os-release", ["check", "-q"]),
           ("sys/bus/pci/devices/0000:01:00.0/config", ["list"]),
           ("sys/bus/pci/devices/0000:01:00.0/config", ["check", "-q"]),
           ("sys/bus/pci/devices/0000:01:00.0/vendor", ["list"]),
           ("sys/bus/pci/devices/0000:01:00.0/resource", ["list"]),
           ("sys/bus/pci/devices/0000:01:00.0/rom", ["rom", "info", "01:00.0"]),
           ("sys/bus/pci/devices/0000:01:00.0/rom", ["rom", "dump", "01:00.0", "-o", out_rom]),
           ("var/lib/gpupass/journal", ["undo", "--list"]), ("var/lib/gpupass/journal", ["undo"])]
CONTENTS = [("empty", b"", 0), ("random", rnd[:8192], 0), ("nuls", b"\0" * 8192, 0),
            ("line1M", b"GRUB_CMDLINE_LINUX_DEFAULT=\"" + b"q" * (1 << 20) + b"\"\n", 0),
            ("nonutf8", open(FILES["nonutf8"], "rb").read() + b"hostpci0: 0000:01:00\xff,pcie=1\n", 0),
            ("100M", b"", 100 << 20), ("loop", "LOOP", 0)]
for path, args in IN_ROOT:
    for cname, data, sparse in CONTENTS:
        rpath = path
        if path.startswith("sys/"):     # the attribute in its device directory, not through the link
            d = os.path.realpath(os.path.join(IR, os.path.dirname(path)))
            rpath = os.path.relpath(os.path.join(d, os.path.basename(path)), IR)
        restore = put(IR, rpath, data, sparse)
        name = "%s in root: %s %s" % (cname, path, " ".join(args[:3]))
        nd = (os.path.basename(path), path.split("/")[-2])
        if "--apply" in args or args[0] == "rom":
            # applied, it must come back with undo; refused, nothing changes. The rom switch is
            # flipped to read the ROM at all (in a copy of sysfs, a write to the file that holds
            # the ROM), so for rom the root is compared without sys/.
            skip = ("var/lib/gpupass",) + (("sys/",) if args[0] == "rom" else ())
            before = content_sum(IR, skip=skip)
            rc, out, err = case(name, args, (0, 1, 2, 3), nd, root=IR, root_watched=False, watch=[inp])
            if rc == 0 and "--apply" in args:
                gp(["undo"], root=IR)
            after = content_sum(IR, skip=skip)
            tap.ok(before == after, "%s: the root is as before%s" % (name, " (after undo)" if rc == 0 else ""))
        else:
            case(name, args, (0, 1, 2, 3), nd, root=IR, watch=[inp])
        restore()

# ============================================================ a read-only target, and not root
if NOBODY is None and os.geteuid() == 0:
    tap.ok(True, "read-only target and non-root cases # SKIP setpriv or the user nobody is missing")
else:
    def ro_case(name, args, rcs, needle, root, env=None):
        if NOBODY:
            return case(name + " (as nobody)", args, rcs, needle, root=root, env=env, as_user=True, watch=[inp])
        return case(name, args, rcs, needle, root=root, env=env, watch=[inp])

    RO = private(PVE, "ro")
    RO_DIRS = ["etc", "etc/default", "etc/modprobe.d", "etc/modules-load.d", "etc/initramfs-tools",
               "etc/pve/qemu-server", "etc/pve/lxc", "etc/pve/mapping", "etc/pve", "var/lib", "run", "usr/share"]
    if not NOBODY:
        for d in RO_DIRS:
            p = os.path.join(RO, d)
            if os.path.isdir(p):
                os.chmod(p, 0o555)
    ro_case("setup --apply, read-only /etc", ["setup", "01:00.0", "--apply", "--no-iommu-pt"], (2, 3),
            ("etc", "ermission", "var/lib"), RO)
    ro_case("setup --apply --method per-device", ["setup", "01:00.0", "--apply", "--method", "per-device", "--no-iommu-pt"], (2, 3),
            ("etc", "ermission", "var/lib"), RO)
    ro_case("vm --apply, read-only qemu-server", ["vm", "101", "--gpu", "01:00.0", "--apply"], (2, 3),
            ("101", "ermission", "etc/pve"), RO)
    ro_case("vm --romfile --apply, read-only", ["vm", "101", "--gpu", "01:00.0", "--apply", "--romfile",
                                                FILES["romhdr"], "--force"], (2, 3), ("101", "ermission", "fake.rom", "usr/share"), RO)
    ro_case("lxc --apply, read-only lxc", ["lxc", "200", "--gpu", "00:02.0", "--apply"], (2, 3),
            ("200", "ermission", "etc/pve"), RO)
    ro_case("map --apply, read-only mapping", ["map", "g", "--gpu", "01:00.0", "--apply"], (2, 3),
            ("pci.cfg", "ermission", "etc/pve"), RO)
    ro_case("undo, read-only", ["undo"], (2, 3), ("journal", "transaction", "undo", "ermission", "var/lib"), RO)
    ro_case("bind 00:02.0 --force, read-only sysfs", ["bind", "00:02.0", "--force"], (2, 3), ("00:02.0", "ermission"), RO)
    ro_case("unbind, read-only", ["unbind", "01:00.0"], (0, 2, 3), ("01:00.0", "ermission", "run"), RO)
    ro_case("sriov --apply, read-only", ["sriov", "01:00.0", "--vfs", "2", "--apply"], (2, 3), ("01:00.0",), RO)
    ro_case("rom dump, read-only sysfs", ["rom", "dump", "01:00.0", "-o", os.path.join(ro, "x.rom")], (2, 3),
            ("01:00.0", "ro-out", "ermission"), RO)
    ro_case("rom info --strip -o read-only dir", ["rom", "info", GOODROM, "--strip", "-o",
                                                   os.path.join(ro, "x.rom")], (2, 3), ("ro-out", "fake.rom"), RO)
    ro_case("snapshot -o read-only dir", ["snapshot", "-o", os.path.join(ro, "s.tar.gz")], (3,), ("ro-out",), RO)
    ro_case("bench -o read-only dir", ["bench", "--samples", "1", "--max-size", "64K", "-o",
                                       os.path.join(ro, "b.json")], (3,), ("ro-out",), RO, env=fake)
    ro_case("bench compare --svg read-only dir", ["bench", "compare", GOODRUN, GOODRUN, "--svg",
                                                  os.path.join(ro, "c.svg")], (3,), ("ro-out",), RO)
    ro_case("mig apply, read-only", ["mig", "apply", "--gpu", "01:00.0", "1g.10gb"], (2, 3), ("01:00.0", "GeForce"), RO)
    # reading as nobody is fine; the answers are the documented ones
    for args in (["list"], ["check", "-q"], ["doctor", "-q"], ["status"], ["vm", "lint"], ["lxc", "lint"],
                 ["map", "lint"], ["undo", "--list"], ["mig", "status"]):
        ro_case("read-only root: %s" % " ".join(args), args, (0, 1, 2, 3), None, RO)
    if NOBODY:
        # without --root as nobody: the commands that write to this machine refuse, naming why
        for args, nd in ((["setup", "01:00.0", "--apply"], ("root", "01:00.0")), (["bind", "01:00.0"], ("root", "01:00.0")),
                         (["undo"], ("root", "journal", "transaction", "undo")),
                         (["rom", "dump", "01:00.0", "-o", os.path.join(tmp, "out", "n.rom")], ("root", "01:00.0"))):
            case("no --root as nobody: %s" % " ".join(args[:2]), args, (2, 3), nd, as_user=True, watch=[inp])
    os.chmod(ro, 0o755)

print("# %d hostile inputs tried" % tried)
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(tap.done())
