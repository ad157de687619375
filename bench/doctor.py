#!/usr/bin/env python3
"""Benchmark `gpupass doctor --log FILE` against `grep -E` with the same patterns.

Usage: bench/doctor.py GPUPASS_BINARY HOST_ROOT [SIZE_MB] [REPEATS]

Writes a synthetic kernel log of SIZE_MB (default 200) megabytes: a normal
Proxmox boot's lines over and over with a few failure lines among them,
half with dmesg stamps, some journal-format and CRLF lines. Then, in this
one invocation and on the same file, times
  A  gpupass --root ROOT doctor --log FILE --json
  B  grep -E -c 'p1|p2|...' FILE   (every needle of `gpupass doctor --signatures`)
and prints each one's throughput in MB/s and the ratio A/B (target >= 1.0).
Both read the whole file; doctor also normalizes each line and groups the
matches. Machines here are noisy: read the ratio, not the seconds.
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

NORMAL = [
    "pci 0000:00:1f.3: [8086:7ad0] type 00 class 0x040300 conventional PCI endpoint",
    "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "vmbr0: port 1(eno1) entered forwarding state",
    "audit: type=1400 audit(1732528801.123:42): apparmor=\"STATUS\" operation=\"profile_load\"",
    "fwbr100i0: port 2(tap100i0) entered blocking state",
    "EXT4-fs (dm-1): mounted filesystem with ordered data mode. Quota mode: none.",
    "nvme nvme0: 16/0/0 default/read/poll queues",
    "usb 1-4: new high-speed USB device number 3 using xhci_hcd",
    "kvm: kvm [2341]: ignored rdmsr: 0x64e data 0x0",
    "vfio-pci 0000:01:00.0: enabling device (0000 -> 0003)",
]
FAILURES = [
    "vfio-pci 0000:01:00.0: BAR 3: can't reserve [mem 0x6000000000-0x6001ffffff 64bit pref]",
    "vfio-pci 0000:01:00.0: not ready 65535ms after FLR; giving up",
    "vfio-pci 0000:01:00.0: vfio_ecap_init: hiding ecap 0x1e@0x258",
]


def make_log(path, size):
    block = []
    for i in range(2000):
        line = NORMAL[i % len(NORMAL)]
        if i % 997 == 0:
            line = FAILURES[(i // 997) % len(FAILURES)]
        if i % 3 == 0:
            block.append("[%12.6f] %s\n" % (i / 1000.0, line))
        elif i % 3 == 1:
            block.append("Nov 25 10:00:%02d pve kernel: %s\n" % (i % 60, line))
        else:
            block.append("[%12.6f] %s\r\n" % (i / 1000.0, line))
    data = "".join(block).encode()
    with open(path, "wb") as f:
        written = 0
        while written < size:
            f.write(data)
            written += len(data)
    return os.path.getsize(path)


def timed(argv, ok_codes):
    t0 = time.perf_counter()
    # Output to a pipe, not /dev/null: GNU grep stops at the first match
    # when it writes to /dev/null.
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if r.returncode not in ok_codes:
        sys.exit("bench: %s failed (%d): %s" % (argv[0], r.returncode, r.stderr.decode(errors="replace").strip()))
    return dt


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    gpupass, root = argv[0], argv[1]
    size_mb = int(argv[2]) if len(argv) > 2 else 200
    repeats = int(argv[3]) if len(argv) > 3 else 3
    sigs = subprocess.run([gpupass, "--root", root, "doctor", "--signatures"], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    needles = sorted({line.split("\t")[2] for line in sigs if line.count("\t") >= 2})
    if not needles:
        sys.exit("bench: gpupass doctor --signatures listed nothing")
    pattern = "|".join(re.escape(n).replace("\\ ", " ") for n in needles)
    with tempfile.TemporaryDirectory(prefix="gpupass-bench-") as tmp:
        log = os.path.join(tmp, "kern.log")
        size = make_log(log, size_mb * 1024 * 1024)
        a, b = [], []
        for _ in range(repeats):
            a.append(timed([gpupass, "--root", root, "doctor", "--log", log, "--json"], (0, 1, 2)))
            b.append(timed(["grep", "-E", "-c", "-e", pattern, log], (0, 1)))
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ma, mb = statistics.median(a), statistics.median(b)
    mib = size / 1024 / 1024
    print("log: %.0f MiB synthetic kernel log, %d signatures (%d distinct needles), %d runs each"
          % (mib, len(sigs), len(needles), repeats))
    print("  gpupass doctor --log : median %8.2f s  %8.1f MB/s" % (ma, mib / ma))
    print("  grep -E -c (same)    : median %8.2f s  %8.1f MB/s" % (mb, mib / mb))
    print("ratio doctor/grep throughput = %.2f  (target >= 1.00)" % (mb / ma))
    print("peak RSS of the children     = %.1f MiB (doctor streams: bounded, whatever the size)" % rss)


if __name__ == "__main__":
    main(sys.argv[1:])
