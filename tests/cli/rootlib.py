"""Private copies of fixture host roots for the tests that write (setup, vm, map),
and whole-tree comparisons that show which files a command changed."""
import os
import shutil
import stat
import subprocess
import sys

JOURNAL = "var/lib/gpupass"


# setup writes only below these; sys/ and proc/ are read-only facts
WRITABLE = ("etc", "usr", "var", "boot")


def snapshot_tree(root, skip_journal=True):
    """path -> (mode, bytes) for files, (mode, None) for dirs and links, journal left out."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d in WRITABLE]
        rel = os.path.relpath(dirpath, root)
        if skip_journal and (rel == JOURNAL or rel.startswith(JOURNAL + "/")):
            dirnames[:] = []
            continue
        for d in dirnames:
            p = os.path.join(dirpath, d)
            out[os.path.relpath(p, root)] = (stat.S_IMODE(os.lstat(p).st_mode), None)
        for f in filenames:
            p = os.path.join(dirpath, f)
            st = os.lstat(p)
            data = open(p, "rb").read() if stat.S_ISREG(st.st_mode) else os.readlink(p).encode()
            out[os.path.relpath(p, root)] = (stat.S_IMODE(st.st_mode), data)
    # var/lib/gpupass itself may stay (it holds the journal)
    for k in ("var/lib/gpupass", "var/lib"):
        out.pop(k, None)
    return out


def tree_diff(a, b):
    keys = sorted(set(a) | set(b))
    return [k for k in keys if a.get(k) != b.get(k)]


def copy_root(src, dst):
    """A private copy of a host root: what setup may write is copied, the large read-only
    part (sys, proc, ...) is hard-linked, which setup cannot change (it only ever
    replaces files by rename, and only below WRITABLE)."""
    os.makedirs(dst)
    for e in os.listdir(src):
        flag = "-a" if e in WRITABLE else "-al"
        subprocess.run(["cp", flag, os.path.join(src, e), dst], check=True)


def replace_file(p, data):
    """A new inode: the copy may share the old one with the fixture (copy_root)."""
    if os.path.lexists(p):
        os.unlink(p)
    with open(p, "wb") as fh:
        fh.write(data)


def edit(path, old, new):
    def f(root):
        p = os.path.join(root, path)
        s = open(p).read()
        assert old in s, (path, old)
        replace_file(p, s.replace(old, new).encode())
    return f


def write(path, data):
    return lambda root: replace_file(os.path.join(root, path), data)


def chain(*fs):
    def f(root):
        for g in fs:
            g(root)
    return f


def run(gpupass, root, *args, env=None):
    """gpupass --root ROOT ARGS..., without color and without a fault injected."""
    e = dict(os.environ, NO_COLOR="1")
    e.pop("GPUPASS_FAULT", None)
    e.update(env or {})
    return subprocess.run([gpupass, "--root", root] + list(args), capture_output=True, text=True, env=e)


def fresh(hosts, tmp, host, name, prep=None):
    """A new private copy tmp/NAME of fixture HOST, prepared by prep(root)."""
    dst = os.path.join(tmp, name)
    if os.path.exists(dst):
        shutil.rmtree(dst)
    copy_root(os.path.join(hosts, host), dst)
    if prep:
        prep(dst)
    return dst


def config_tree(root):
    """snapshot_tree without the lock files Proxmox's lock protocol leaves behind
    (var/lock, run, etc/pve/priv), as Proxmox leaves them too."""
    t = snapshot_tree(root)
    return {k: v for k, v in t.items() if not k.startswith(("var/lock", "run", "etc/pve/priv"))}


def golden_matches(golden, name, text, suffix=".txt", regen=False):
    """text equals golden/NAME+SUFFIX (rewritten first when regen); a difference is
    shown as TAP comments."""
    path = os.path.join(golden, name + suffix)
    if regen:
        os.makedirs(golden, exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
    want = open(path).read() if os.path.exists(path) else None
    if want != text:
        sys.stdout.write("# --- %s differs; got:\n" % path)
        for line in text.splitlines()[:60]:
            sys.stdout.write("#   %s\n" % line)
    return want == text
