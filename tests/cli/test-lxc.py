#!/usr/bin/env python3
"""`gpupass lxc` and `lxc lint` on copies of the fixture hosts: printed plans and lint output
against golden files (tests/lxc/<case>.txt), the container config after --apply
(tests/lxc/<case>.after), every written line naming a device node that exists on the host
with the driver's major, a second run that changes nothing, undo back to every byte, and
refusals that write nothing. GPUPASS_TEST_REGENERATE=1 rewrites the golden files. TAP.
Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree)."""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(__file__), "..", "..")
gpupass, hosts = os.path.abspath(os.environ["GPUPASS"]), os.path.abspath(os.environ["HOSTS"])
regen = os.environ.get("GPUPASS_TEST_REGENERATE") == "1"
golden = os.path.join(top, "tests/lxc")
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-lxc-")


def run(root, *args, env=None):
    return rootlib.run(gpupass, root, *args, env=env)


def fresh(host, name, prep=None):
    return rootlib.fresh(hosts, tmp, host, name, prep)


def files(root):
    return rootlib.config_tree(root)


def compare_golden(name, text, suffix=".txt"):
    return rootlib.golden_matches(golden, name, text, suffix, regen)


def devnodes(root):
    """path -> (type, major, minor) from the fixture's gpupass/devnodes.txt."""
    out = {}
    for line in open(os.path.join(root, "gpupass/devnodes.txt")):
        f = line.split()
        if len(f) >= 3:
            ma, mi = f[2].split(":")
            out["/" + f[0]] = (f[1], int(ma), int(mi))
    return out


def lines_name_real_nodes(root, text):
    """Every node a devN or lxc line names exists as a char device; every allow rule is a
    node's own major:minor. Returns the problems."""
    nodes, bad, allowed, mounted = devnodes(root), [], set(), set()
    for line in text.splitlines():
        m = re.match(r"dev\d+: (/dev/[^,]+)", line)
        if m:
            mounted.add(m.group(1))
            allowed.add(nodes.get(m.group(1), (None, -1, -1))[1:])
        m = re.match(r"lxc\.mount\.entry: (/dev/\S+) ", line)
        if m:
            mounted.add(m.group(1))
        m = re.match(r"lxc\.cgroup2\.devices\.allow: c (\d+):(\d+) rwm", line)
        if m:
            allowed.add((int(m.group(1)), int(m.group(2))))
    for p in sorted(mounted):
        t = nodes.get(p)
        if not t or t[0] != "char":
            bad.append("%s is not a char device on the host" % p)
        elif t[1:] not in allowed:
            bad.append("%s (%d:%d) has no allow rule" % ((p,) + t[1:]))
    return bad, len(mounted)


# name, host, ctid, args
CASES = [
    ("lxc-500-nvidia-dev", "server-dc-gpus", 500, ["--gpu", "81:00.0"]),
    ("lxc-500-nvidia-raw", "server-dc-gpus", 500, ["--gpu", "81:00.0", "--style", "raw"]),
    ("lxc-200-intel", "pve8-intel-1gpu", 200, ["--gpu", "00:02.0"]),
    ("lxc-600-amd", "amd-consumer-shared", 600, ["--gpu", "0a:00.0"]),
    ("lxc-502-gids-given", "server-dc-gpus", 502, ["--gpu", "81:00.0", "--render-gid", "993", "--video-gid", "44"]),
]

for name, host, ctid, args in CASES:
    root = fresh(host, name)
    conf = os.path.realpath(os.path.join(root, "etc/pve/lxc/%d.conf" % ctid))
    original = open(conf, "rb").read()
    before = files(root)
    p = run(root, "lxc", str(ctid), *args)
    ok(p.returncode == 0 and compare_golden(name, p.stdout), "%s: the plan matches tests/lxc/%s.txt (rc %d %s)"
       % (name, name, p.returncode, p.stderr.strip()))
    ok(not rootlib.tree_diff(before, files(root)), "%s: the plan alone writes nothing" % name)
    a = run(root, "lxc", str(ctid), *args, "--apply")
    after = open(conf, "rb").read()
    ok(a.returncode == 0 and compare_golden(name, after.decode(), ".after"),
       "%s: --apply writes the config in %s.after (rc %d %s)" % (name, name, a.returncode, a.stderr.strip()))
    added = "\n".join(line for line in after.decode().splitlines() if line.encode() not in original.split(b"\n"))
    bad, count = lines_name_real_nodes(root, added)
    ok(count > 0 and not bad, "%s: the %d nodes written exist as char devices with their majors allowed %s"
       % (name, count, bad))
    ok(rootlib.tree_diff(before, files(root)) == [os.path.relpath(conf, root)], "%s: only the CT config changed" % name)
    again = run(root, "lxc", str(ctid), *args)
    ok(again.returncode == 0 and again.stdout.startswith("Nothing to do"), "%s: a second run has nothing to do (%s)"
       % (name, again.stdout.splitlines()[:1]))
    lint = run(root, "lxc", "lint", str(ctid), "--json")
    ok('"severity": "fail"' not in lint.stdout and lint.returncode in (0, 1),
       "%s: lxc lint finds no failure in the result (rc %d)" % (name, lint.returncode))
    u = run(root, "undo")
    ok(u.returncode == 0 and open(conf, "rb").read() == original and not rootlib.tree_diff(before, files(root)),
       "%s: undo puts back every byte" % name)


def drop_nodes(*paths):
    def f(root):
        p = os.path.join(root, "gpupass/devnodes.txt")
        keep = [line for line in open(p) if line.split()[0] not in paths]
        rootlib.replace_file(p, "".join(keep).encode())
    return f


def node_as_file(path):
    def f(root):
        p = os.path.join(root, "gpupass/devnodes.txt")
        out = [re.sub(r"^(%s) char " % re.escape(path), r"\1 file ", line) for line in open(p)]
        rootlib.replace_file(p, "".join(out).encode())
    return f


# name, host, prep, args, rc, text on stderr
REFUSALS = [
    ("gpu-on-vfio", "pve8-intel-1gpu", None, ["200", "--gpu", "01:00.0"], 2, "bound to vfio-pci"),
    ("uvm-missing", "server-dc-gpus", drop_nodes("dev/nvidia-uvm", "dev/nvidia-uvm-tools"),
     ["500", "--gpu", "81:00.0"], 2, "nvidia-modprobe -u -c=0"),
    ("node-is-a-file", "server-dc-gpus", node_as_file("dev/nvidia-uvm"), ["500", "--gpu", "81:00.0"], 2,
     "is not a character device"),
    ("no-such-ct", "server-dc-gpus", None, ["999", "--gpu", "81:00.0"], 3, "does not exist"),
    ("ctid-low", "server-dc-gpus", None, ["12", "--gpu", "81:00.0"], 3, "'12' is not a CTID"),
    ("a-vm", "pve8-intel-1gpu", None, ["100", "--gpu", "00:02.0"], 3, "not a container"),
    ("bad-style", "server-dc-gpus", None, ["500", "--gpu", "81:00.0", "--style", "fancy"], 3, "--style takes"),
    ("bad-gid", "server-dc-gpus", None, ["500", "--gpu", "81:00.0", "--render-gid", "-4"], 3, "--render-gid takes"),
    ("malformed", "server-dc-gpus",
     lambda r: rootlib.replace_file(os.path.realpath(os.path.join(r, "etc/pve/lxc/500.conf")),
                                    open(os.path.join(r, "etc/pve/lxc/500.conf"), "rb").read() + b"Memory: 4\n"),
     ["500", "--gpu", "81:00.0"], 2, "keys are lower-case"),
]

for name, host, prep, args, rc, needle in REFUSALS:
    root = fresh(host, "refuse-" + name, prep)
    before = files(root)
    p = run(root, "lxc", *args, "--apply")
    ok(p.returncode == rc and needle in p.stderr and not rootlib.tree_diff(before, files(root)),
       "refused (%s): rc %d, says %r, writes nothing (rc %d: %s)" % (name, rc, needle, p.returncode,
                                                                       p.stderr.strip()[:300]))

for name, host, args, rc in (
        ("print-nvidia-raw", "server-dc-gpus", ["lxc", "--gpu", "81:00.0", "--print", "--style", "raw"], 0),
        ("print-amd-dev", "amd-consumer-shared", ["lxc", "--gpu", "0a:00.0", "--print", "--style", "dev"], 0),
        ("lint-server-dc", "server-dc-gpus", ["lxc", "lint"], 2),
        ("lint-amd", "amd-consumer-shared", ["lxc", "lint"], None)):
    p = run(os.path.join(hosts, host), *args)
    ok((rc is None or p.returncode == rc) and compare_golden(name, p.stdout),
       "%s: output matches tests/lxc/%s.txt (rc %d %s)" % (" ".join(args), name, p.returncode, p.stderr.strip()))

# `gpupass lint FILE` takes a container config by its path
sd = os.path.join(hosts, "server-dc-gpus")
p = run(sd, "lint", "--json", os.path.join(sd, "etc/pve/lxc/501.conf"))
ok(p.returncode == 2 and '"lxc.node-missing"' in p.stdout and '"lxc.nvidia-version"' in p.stdout,
   "lint etc/pve/lxc/501.conf: node-missing and nvidia-version (rc %d)" % p.returncode)

shutil.rmtree(tmp)
sys.exit(tap.done())
