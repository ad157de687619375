#!/usr/bin/env python3
"""Host-to-device copy bandwidth: `gpupass bench` against NVIDIA's nvbandwidth, same GPU,
same invocation.

Usage: bench/copy.py GPUPASS_BINARY [GPU_INDEX] [REPEATS]

Runs, alternately and REPEATS times (default 3):
  A  gpupass bench GPU --json --max-size 256M --no-pageable   (pinned, largest size, median)
  B  nvbandwidth -t host_to_device_memcpy_ce -b 256           ("SUM host_to_device_memcpy_ce")
and prints the median of each and the ratio A/B (target: within 3 %, 0.97 to 1.03).
nvbandwidth copies 256 MiB buffers; gpupass's largest size is 256 MiB too. Both report
decimal GB/s. Without an NVIDIA GPU, or without nvbandwidth in PATH, it says so and exits 0:
the figure is only ever taken on real hardware, never estimated.
"""
import json
import re
import shutil
import statistics
import subprocess
import sys


def gpupass_h2d(binary, gpu):
    p = subprocess.run([binary, "bench", str(gpu), "--json", "--max-size", "256M", "--no-pageable"],
                       capture_output=True, text=True, timeout=600)
    if p.returncode not in (0, 1):
        raise RuntimeError("gpupass bench: " + p.stderr.strip())
    doc = json.loads(p.stdout)
    h2d = [c for c in doc["copy"] if c["direction"] == "h2d" and c["memory"] == "pinned"]
    return max(h2d, key=lambda c: c["bytes"])["gbps_median"], doc


def nvbandwidth_h2d(gpu):
    p = subprocess.run(["nvbandwidth", "-t", "host_to_device_memcpy_ce", "-b", "256"], capture_output=True,
                       text=True, timeout=600)
    m = re.search(r"SUM host_to_device_memcpy_ce\s+([0-9.]+)", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError("nvbandwidth: " + (p.stderr or p.stdout).strip()[-400:])
    return float(m.group(1))


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2])
        return 3
    binary = sys.argv[1]
    gpu = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if not shutil.which("nvbandwidth"):
        print("bench/copy.py: nvbandwidth not in PATH: no reference on this machine, nothing measured")
        return 0
    try:
        a, b = [], []
        for _ in range(repeats):
            v, doc = gpupass_h2d(binary, gpu)
            a.append(v)
            b.append(nvbandwidth_h2d(gpu))
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print("bench/copy.py: %s: nothing measured" % e)
        return 0
    ma, mb = statistics.median(a), statistics.median(b)
    link = doc["gpu"]["link"]
    print("GPU %s (%s), link %s x%s" % (doc["gpu"]["name"], doc["gpu"]["pci_bus_id"], link.get("current_speed"),
                                        link.get("current_width")))
    print("  gpupass bench H2D pinned 256 MiB : median %.2f GB/s  %s" % (ma, a))
    print("  nvbandwidth h2d_memcpy_ce 256 MiB: median %.2f GB/s  %s" % (mb, b))
    print("ratio gpupass/nvbandwidth = %.3f  (target 0.97 to 1.03)" % (ma / mb))
    if link.get("theoretical_gbps"):
        print("efficiency against the link = %.1f %%" % (ma / link["theoretical_gbps"] * 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
