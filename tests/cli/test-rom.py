#!/usr/bin/env python3
"""`gpupass rom info` on option ROM files the test builds (PCI Firmware Spec layout): the
image list in text and JSON, the verdicts and exit status, --strip writing a clean ROM
atomically, and bad input (empty, a directory, a missing file) refused with exit 3. TAP.
Env: GPUPASS (binary)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
from romlib import image  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-rom-")


def rom(path, data):
    p = os.path.join(tmp, path)
    with open(p, "wb") as f:
        f.write(data)
    return p


def info(*args):
    p = subprocess.run([gpupass, "rom", "info"] + list(args), capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1"))
    return p


CASES = [
    # name, bytes, rc, ids that must be there, ids that must not
    ("legacy+efi", image(0, False) + image(3, True), 0, {"rom.ovmf-ok"}, {"rom.legacy-only"}),
    ("legacy-only", image(0, True), 1, {"rom.legacy-only"}, {"rom.ovmf-ok"}),
    ("efi-aarch64", image(3, True, machine=0xAA64), 1, {"rom.legacy-only"}, {"rom.ovmf-ok"}),
    ("vendor-header", b"NVGI" + b"\x00" * 508 + image(0, False) + image(3, True), 1, {"rom.vendor-header"}, set()),
    ("truncated", (image(0, False) + image(3, True))[:1536], 2, {"rom.truncated"}, set()),
    ("zeros", b"\x00" * 65536, 2, {"rom.empty"}, {"rom.ovmf-ok"}),
    ("ones", b"\xff" * 65536, 2, {"rom.empty"}, {"rom.ovmf-ok"}),
]
for name, data, rc, want, unwanted in CASES:
    path = rom(name + ".rom", data)
    p = info(path)
    j = info(path, "--json")
    try:
        doc = json.loads(j.stdout)
        ids = {f["id"] for f in doc["findings"]}
        images = doc["rom"]["images"]
    except (ValueError, KeyError):
        ids, images, doc = set(), [], None
    ok(p.returncode == rc and j.returncode == rc, "%s: exit %d (text %d, json %d: %s)"
       % (name, rc, p.returncode, j.returncode, p.stderr.strip()))
    ok(want <= ids and not (unwanted & ids), "%s: findings %s, not %s (got %s)" % (name, sorted(want),
                                                                                  sorted(unwanted), sorted(ids)))
    if name == "legacy+efi":
        ok([i["code_type"] for i in images] == ["x86 BIOS", "EFI"] and images[1]["efi_machine"] == "x64"
           and images[1]["last"] and images[0]["checksum_ok"] and images[0]["id"] == "10de:2684"
           and "image 1 at 0x400: EFI" in p.stdout, "legacy+efi: the image list (text and JSON)", p.stdout)
    if name == "vendor-header":
        ok(doc is not None and doc["rom"]["vendor_header"] == 512 and images and images[0]["offset"] == 512,
           "vendor-header: 512 bytes before the first image")

# --strip writes the chain alone, atomically; the result has no header.
src = os.path.join(tmp, "vendor-header.rom")
out = os.path.join(tmp, "clean.rom")
p = info(src, "--strip", "-o", out)
clean = open(out, "rb").read() if os.path.exists(out) else b""
ok(p.returncode == 1 and clean == image(0, False) + image(3, True) and not any(
   n.startswith(".#clean.rom") for n in os.listdir(tmp)), "--strip -o writes the image chain alone (%d bytes)" % len(clean))
p = info(out)
ok(p.returncode == 0 and "vendor header" not in p.stdout, "the stripped ROM is clean (rc %d)" % p.returncode)
p = info(os.path.join(tmp, "zeros.rom"), "--strip", "-o", os.path.join(tmp, "never.rom"))
ok(p.returncode == 2 and not os.path.exists(os.path.join(tmp, "never.rom")), "--strip of a failed dump writes nothing")

for args, needle in (([os.path.join(tmp, "missing.rom")], "cannot read the ROM"),
                     ([tmp], "not a regular file"),
                     ([src, "--strip"], "--strip and -o OUT go together"),
                     ([], "name one ROM file")):
    p = info(*args)
    ok(p.returncode == 3 and needle in p.stderr, "rom info %s: exit 3, says %r (%s)" % (args, needle, p.stderr.strip()))
p = info(rom("empty.rom", b""))
ok(p.returncode == 2, "an empty file is a failed dump (rc %d)" % p.returncode)

shutil.rmtree(tmp)
sys.exit(tap.done())
