#!/usr/bin/env python3
"""src/lib/gen-migdata.py, the build step that compiles data/mig.tsv into the
library: the real table converts; broken tables (bad fields, placements off
the axis, a max count that cannot fit, duplicates, flags that contradict the
name, lines out of order) fail with "FILE:LINE: why" and exit 1. TAP.
Env: TOP (source tree; defaults to this file's ../..)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402

top = os.environ.get("TOP") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
gen = os.path.join(top, "src", "lib", "gen-migdata.py")
table = os.path.join(top, "data", "mig.tsv")
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-migdata-")


def run(path):
    out = os.path.join(tmp, "out.c")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([sys.executable, gen, path, out], capture_output=True, text=True)
    return p.returncode, p.stderr, out


rc, err, out = run(table)
ok(rc == 0, "the shipped table converts", err)
body = open(out).read() if rc == 0 else ""
ok('.name = "3g.40gb", .id = 9,' in body, "3g.40gb is ID 9 in the output", body[:400])
ok('.name = "1g.6gb", .id = 14,' in body, "A30 1g.6gb is ID 14 in the output")
ok('.name = "3g.90gb", .id = -1,' in body, "B200 IDs stay unset (-1)")
ok("0x00010de20b5u" not in body and "0x10de20b5u" in body, "PCI IDs as vendor << 16 | device")

MODEL = "model\tm\tM\tAmpere\t7\t8\t8\t7\t-\n"
GPU = "gpu\t10de:1111\tM card\t-\n"
P1 = "profile\t1g.5gb\t19\t1\t1\t1\t0,1,2,3,4,5,6\t7\t-\n"
P3 = "profile\t3g.20gb\t9\t3\t4\t4\t0,4\t2\t-\n"

good = MODEL + GPU + P1 + P3
bad = [
    # (table text, expected line, fragment of the message)
    (MODEL + GPU + "profile\t3g.20gb\t9\t3\t4\t4\t0,5\t2\t-\n", 3, "runs past the 8-wide axis"),
    (MODEL + GPU + "profile\t3g.20gb\t9\t3\t4\t4\t0,4\t3\t-\n", 3, "max count 3 of '3g.20gb' cannot fit"),
    (MODEL + GPU + "profile\t3g.20gb\t9\t2\t4\t4\t0,4\t2\t-\n", 3, "names 3g but has 2 compute slices"),
    (MODEL + GPU + "profile\t3g.20gb\t9\t3\t4\t4\t4,0\t2\t-\n", 3, "must be increasing"),
    (MODEL + GPU + "profile\t3g.20gb\t9\t3\t4\t4\t0,4\t2\n", 3, "a profile line has 9 fields, this one 8"),
    (MODEL + GPU + "profile\t3g.20gb\tnine\t3\t4\t4\t0,4\t2\t-\n", 3, "profile ID 'nine' is not a number"),
    (MODEL + GPU + P3 + "profile\t4g.20gb\t9\t4\t4\t4\t0\t1\t-\n", 4, "profile ID 9 is already 3g.20gb"),
    (MODEL + GPU + P3 + P3, 4, "profile '3g.20gb' is already in model m"),
    (MODEL + GPU + "profile\t1g.5gb+me\t20\t1\t1\t1\t0\t1\t-\n", 3, "the 'me' flag goes with a +me name"),
    (MODEL + GPU + "profile\t1g.5gb\t19\t1\t1\t1\t0\t1\tme\n", 3, "the 'me' flag goes with a +me name"),
    (MODEL + GPU + "profile\t1g.5gb\t19\t1\t1\t1\t0\t1\tfast\n", 3, "unknown flag 'fast'"),
    (MODEL + GPU + "profile\t3g.20gb\t-\t3\t4\t4\t0,4\t2\t-\n", 3, "has no ID; mark model m ids-unverified"),
    (MODEL + GPU + "profile\tthree\t9\t3\t4\t4\t0,4\t2\t-\n", 3, "is not like 3g.40gb"),
    (MODEL + "gpu\t10de:20B0\tX\t-\n" + P3, 2, "lower-case hex"),
    (MODEL + GPU + "gpu\t10de:1111\tOther\t-\n" + P3, 3, "PCI ID 10de:1111 is already on line 2"),
    (MODEL + GPU + "gpu\t10de:2222\tm card\t-\n" + P3, 3, "name 'm card' is already on line 2"),
    ("profile\t3g.20gb\t9\t3\t4\t4\t0,4\t2\t-\n", 1, "a profile line must follow a model line"),
    ("model\tm\tM\tKepler\t7\t8\t8\t7\t-\n", 1, "generation 'Kepler'"),
    ("model\tm\tM\tAmpere\t7\t8\t40\t7\t-\n", 1, "placement axis 40 is out of range"),
    ("model\tm\tM\tAmpere\t7\t8\t8\t7\tdriver=soon\n", 1, "driver 'soon' is not a version"),
    (good + "gadget\tx\n", 5, "unknown line type 'gadget'"),
    (good + "card\t10de:3333\tThing\t-\n", 5, "sharing is empty"),
    (good + 'card\t10de:3333\tThing\tsays "hi"\n', 5, "holds a character the table does not allow"),
]
path = os.path.join(tmp, "t.tsv")
with open(path, "w") as f:
    f.write("# a comment\n\n" + good)
rc, err, out = run(path)
ok(rc == 0, "a small valid table converts", err)
for text, line, frag in bad:
    with open(path, "w") as f:
        f.write(text)
    rc, err, out = run(path)
    want = "%s:%d: " % (path, line)
    ok(rc == 1 and err.startswith(want) and frag in err and not os.path.exists(out),
       "refused at line %d: %s" % (line, frag), "rc %s, stderr %r" % (rc, err))

# a model without profiles or gpus is caught at the next model / the end
for text, frag in [(MODEL + GPU, ":1: model m has no profile lines"),
                   (MODEL + P3, ":1: model m has no gpu lines"),
                   (MODEL + GPU + P3 + MODEL.replace("\tm\t", "\tn\t"), ":4: model n has no profile lines"),
                   ("# empty\n", ": no model lines")]:
    with open(path, "w") as f:
        f.write(text)
    rc, err, out = run(path)
    ok(rc == 1 and err.startswith(path + frag), "refused: " + frag, err)

rc, err, out = run(os.path.join(tmp, "missing.tsv"))
ok(rc == 1 and "missing.tsv" in err, "a missing table is an error naming it", err)

for name in os.listdir(tmp):
    os.unlink(os.path.join(tmp, name))
os.rmdir(tmp)
sys.exit(tap.done())
