#!/usr/bin/env python3
"""Benchmark `gpupass list --all --json` against lspci on the same host root.

Usage: bench/list.py GPUPASS_BINARY HOST_ROOT [REPEATS]

Times, in this one invocation and on the same root:
  A  gpupass --root ROOT list --all --json       (full group analysis)
  B  lspci -A linux-sysfs -O sysfs.path=ROOT/sys/bus/pci -nnk
  C  the classic shell loop over ROOT/sys/kernel/iommu_groups calling
     `lspci -nns` once per device
and prints medians and the ratios A/B (target <= 1.0) and C/A (target >= 20),
plus gpupass's peak resident memory (target < 8 MB). Machines here are noisy:
read the ratios, not the seconds.
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def run_timed(argv, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({r.returncode}): {r.stderr.decode(errors='replace').strip()}")
    return dt


def peak_rss_kib(argv):
    """Peak RSS of the program itself. GNU time forks from a small process;
    measuring from Python would count the Python image the child had before
    exec (ru_maxrss keeps the pre-exec high-water mark)."""
    if not os.path.exists("/usr/bin/time"):
        return None
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True)
    return int(out.stderr.strip().splitlines()[-1])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    gpupass, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    lspci = "/usr/bin/lspci" if os.path.exists("/usr/bin/lspci") else "lspci"
    sysfs = os.path.join(root, "sys/bus/pci")
    ndev = len(os.listdir(os.path.join(sysfs, "devices")))
    env = dict(os.environ, NO_COLOR="1")

    a_argv = [gpupass, "--root", root, "list", "--all", "--json"]
    b_argv = [lspci, "-A", "linux-sysfs", "-O", f"sysfs.path={sysfs}", "-nnk"]
    loop = (
        'for g in "$R"/sys/kernel/iommu_groups/*; do echo "IOMMU Group ${g##*/}:"; '
        'for d in "$g"/devices/*; do echo -e "\\t$(lspci -A linux-sysfs -O sysfs.path="$R/sys/bus/pci" -nns ${d##*/})"; '
        "done; done"
    )
    c_argv = ["bash", "-c", loop]

    # Warm the page cache for all three before timing.
    for argv in (a_argv, b_argv):
        run_timed(argv, env)
    a, b = [], []
    for _ in range(reps):   # interleaved, so drift hits both alike
        a.append(run_timed(a_argv, env))
        b.append(run_timed(b_argv, env))
    c = [run_timed(c_argv, dict(env, R=root)) for _ in range(max(1, reps // 10))]
    ma, mb, mc = statistics.median(a), statistics.median(b), statistics.median(c)
    rss = peak_rss_kib(a_argv)

    print(f"host root: {root} ({ndev} PCI functions), {reps} runs each (shell loop {len(c)})")
    print(f"  gpupass list --all --json : median {ma * 1000:8.1f} ms  (spread {min(a) * 1000:.1f}-{max(a) * 1000:.1f})")
    print(f"  lspci -nnk                : median {mb * 1000:8.1f} ms  (spread {min(b) * 1000:.1f}-{max(b) * 1000:.1f})")
    print(f"  shell loop + lspci -nns   : median {mc * 1000:8.1f} ms")
    print(f"ratio gpupass/lspci      = {ma / mb:.2f}  (target <= 1.00)")
    print(f"ratio shell-loop/gpupass = {mc / ma:.1f}  (target >= 20)")
    if rss is None:
        print("gpupass peak RSS         = not measured (install the 'time' package for /usr/bin/time)")
    else:
        print(f"gpupass peak RSS         = {rss / 1024:.1f} MiB  (target < 8 MiB)")


if __name__ == "__main__":
    main()
