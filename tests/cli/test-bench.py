#!/usr/bin/env python3
"""`gpupass bench` and `gpupass bench compare` without a GPU: the driver library is the
stand-in tests/fakegpu/fakecuda.c (libcuda.so.1, loaded through GPUPASS_GPU_LIBDIR), whose
virtual clock makes a pinned copy run at exactly FAKECUDA_GBPS. So the figures test
gpupass's loading, timing arithmetic, link math, JSON and comparison, not any GPU's speed.
Also: a missing library, a library without an entry point, driver errors, a GPU index out
of range, the environment (bare metal, VM from DMI, container), bad result files. TAP.
Env: GPUPASS (binary), HOSTS (fixture roots)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402
import rootlib  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
hosts = os.path.abspath(os.environ["HOSTS"])
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-bench-")
build = os.path.dirname(os.path.dirname(os.path.dirname(gpupass)))
libdir = os.path.join(build, "tests", "fakegpu")
broken = os.path.join(libdir, "broken")
PVE = os.path.join(hosts, "pve8-intel-1gpu")      # 01:00.0: an RTX 4090 on a Gen4 x16 link


def bench(*args, root=PVE, env=None):
    e = {"GPUPASS_GPU_LIBDIR": libdir, "FAKECUDA_BUSID": "0000:01:00.0"}
    e.update(env or {})
    for k in [k for k, v in e.items() if v is None]:
        del e[k]
    base = dict(os.environ, NO_COLOR="1")
    for k in list(base):
        if k.startswith("FAKECUDA_"):
            del base[k]
    base.update(e)
    return subprocess.run([gpupass, "--root", root, "bench"] + list(args), capture_output=True, text=True,
                          env=base, timeout=300)


def js(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {}


if not os.path.exists(os.path.join(libdir, "libcuda.so.1")):
    ok(True, "bench # SKIP the stand-in library %s is not built" % libdir)
    sys.exit(tap.done())

# --- the measurement
p = bench("--json", "--max-size", "1M", env={"FAKECUDA_GBPS": "25", "FAKECUDA_D2H_GBPS": "12.5",
                                             "FAKECUDA_LATENCY_US": "10"})
j = js(p)
copy = j.get("copy", [])
pinned = {(c["direction"], c["bytes"]): c for c in copy if c["memory"] == "pinned"}
ok(p.returncode == 0 and len(copy) == 4 * 3 and sorted({c["bytes"] for c in copy}) == [65536, 262144, 1048576],
   "bench --max-size 1M: 3 sizes x H2D/D2H x pinned/pageable (%d: %s)" % (p.returncode, p.stderr.strip()))


def near(a, b, rel=0.01):
    return a is not None and b and abs(a - b) <= rel * b


# With a fixed 10 µs per copy, a batch of n-byte copies at 25 GB/s gives n / (10 µs + n/25e9).
def expect(n, gbps):
    return n / (10e-6 + n / (gbps * 1e9)) / 1e9


ok(all(near(pinned[("h2d", n)]["gbps_median"], expect(n, 25)) and near(pinned[("d2h", n)]["gbps_median"],
                                                                          expect(n, 12.5))
       for n in (65536, 262144, 1048576)),
   "pinned medians are what the stand-in's clock gives (bytes / (latency + bytes / rate))",
   json.dumps(list(pinned.values()))[:1500])
lat = j.get("latency_us", {})
ok(near(lat.get("h2d"), 10, 0.02) and near(lat.get("d2h"), 10, 0.02), "latency of a 4-byte copy: 10 µs (%s)" % lat)
gpu = j.get("gpu", {})
link = gpu.get("link", {})
ok(gpu.get("api") == "cuda" and gpu.get("api_version") == "12.8" and gpu.get("pci_bus_id") == "0000:01:00.0"
   and gpu.get("name") == "Fake GPU" and link.get("current_speed") == "16.0 GT/s PCIe" and link.get("current_width")
   == 16 and near(link.get("theoretical_gbps"), 31.508, 0.001),
   "the GPU record: CUDA 12.8, bus ID in lower case, its sysfs link (Gen4 x16 = 31.5 GB/s)", json.dumps(gpu))
ok(near(j.get("efficiency"), expect(1048576, 25) / 31.5077, 0.002),
   "efficiency: the largest pinned H2D median over the link's rate (%s)" % j.get("efficiency"))
env = j.get("environment", {})
ok(j.get("gpupass_bench") == 1 and env.get("place") == "bare-metal" and j.get("label") == "bare metal",
   "the document: format 1, label and place bare metal on a fixture without DMI or container marks", json.dumps(env))

p = bench("--max-size", "256K", "--samples", "5", env={"FAKECUDA_GBPS": "25"})
ok(p.returncode == 0 and "H2D pinned" in p.stdout and "25.00" in p.stdout and "Efficiency: H2D 25.0 GB/s = 79 %"
   in p.stdout and "median of 5" in p.stdout, "the text report: the table, the efficiency", p.stdout)

p = bench("--max-size", "256K", "--no-pageable", "--json")
ok(p.returncode == 0 and {c["memory"] for c in js(p).get("copy", [])} == {"pinned"}, "--no-pageable: pinned only")

p = bench("--max-size", "256K", env={"FAKECUDA_GBPS": "5"})
ok(p.returncode == 1 and "16 %" in p.stdout, "copies at 16 %% of the link: exit 1 (%d)" % p.returncode, p.stdout)

p = bench("--max-size", "256K", "--json", env={"FAKECUDA_BUSID": "0000:99:00.0"})
ok(p.returncode == 0 and js(p).get("efficiency") is None and js(p)["gpu"]["link"]["current_speed"] is None,
   "a GPU the root's sysfs does not have: measured, no link, no efficiency (%d: %s)" % (p.returncode,
                                                                                       p.stderr.strip()))
p = bench("01:00.0", "--max-size", "64K", "--json")
ok(p.returncode == 0 and js(p).get("gpu", {}).get("index") == 0, "GPU by PCI address (%s)" % p.stderr.strip())

# --- the HIP backend, loaded when there is no libcuda (ROCm hosts)
hip = os.path.join(libdir, "hip")
p = bench("--max-size", "256K", "--json", root=os.path.join(hosts, "amd-gpu-bus-reset"),
          env={"GPUPASS_GPU_LIBDIR": hip, "FAKEHIP_BUSID": "0000:01:00.0", "FAKEHIP_GBPS": "20"})
j = js(p)
h = {(c["direction"], c["bytes"]): c["gbps_median"] for c in j.get("copy", []) if c["memory"] == "pinned"}
ok(p.returncode == 0 and j.get("gpu", {}).get("api") == "hip" and j["gpu"].get("api_version") == "6.2"
   and all(near(h.get((d, n)), 20) for d in ("h2d", "d2h") for n in (65536, 262144))
   and j["gpu"]["link"]["current_speed"] == "16.0 GT/s PCIe",
   "HIP (libamdhip64.so): the same measurement through the other backend (%d: %s)" % (p.returncode,
                                                                                     p.stderr.strip()),
   json.dumps(j.get("gpu"))[:600])
p = bench("--max-size", "64K", root=os.path.join(hosts, "amd-gpu-bus-reset"),
          env={"GPUPASS_GPU_LIBDIR": hip, "FAKEHIP_FAIL": "hipMalloc"})
ok(p.returncode == 3 and "hipErrorOutOfMemory" in p.stderr, "a HIP error is named (%s)" % p.stderr.strip())

# --- -o and compare
base_f = os.path.join(tmp, "bare.json")
vm_f = os.path.join(tmp, "vm.json")
p1 = bench("--max-size", "1M", "-o", base_f, env={"FAKECUDA_GBPS": "25"})
p2 = bench("--max-size", "1M", "--json", "-o", vm_f, "--label", "VM 101", env={"FAKECUDA_GBPS": "24"})
ok(p1.returncode == 0 and p2.returncode == 0 and "Wrote " + base_f in p1.stdout and js(p2).get("label") == "VM 101"
   and json.load(open(vm_f))["label"] == "VM 101", "-o writes the document (with --json too)")
svg = os.path.join(tmp, "cmp.svg")
p = subprocess.run([gpupass, "bench", "compare", base_f, vm_f, "--svg", svg], capture_output=True, text=True)
row = next((line for line in p.stdout.splitlines() if line.startswith("H2D pinned copy")), "")
ok(p.returncode == 0 and "bare metal" in p.stdout and "VM 101" in p.stdout and "(+4.0 %)" in row,
   "compare: the base and the VM side by side, 24 vs 25 GB/s is +4.0 %% overhead (%d: %s)"
   % (p.returncode, p.stderr.strip()), p.stdout)
ok("H2D latency" in p.stdout and "D2H pageable copy" in p.stdout, "compare: copies, pageable copies and latency rows")
try:
    root = ET.parse(svg).getroot()
    rects = [e for e in root.iter() if e.tag.endswith("rect")]
    texts = "".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    good = root.tag.endswith("svg") and len(rects) >= 8 and "VM 101" in texts and "(+4.0 %)" in texts
except (ET.ParseError, OSError) as e:
    good, texts = False, str(e)
ok(good, "--svg: a well-formed SVG with a bar per run and measurement and the overhead", texts[:500])

llm = os.path.join(tmp, "llm.json")
doc = json.load(open(base_f))
doc.update(label="LXC 200", llm={"tokens_per_s": {"median": 40.0}, "ttft_ms": {"median": 120.0}})
del doc["copy"]
json.dump(doc, open(llm, "w"))
doc2 = json.load(open(base_f))
doc2.update(llm={"tokens_per_s": {"median": 50.0}, "ttft_ms": {"median": 100.0}})
llm0 = os.path.join(tmp, "llm0.json")
json.dump(doc2, open(llm0, "w"))
p = subprocess.run([gpupass, "bench", "compare", llm0, llm], capture_output=True, text=True)
gen = next((line for line in p.stdout.splitlines() if line.startswith("LLM generation")), "")
ttft = next((line for line in p.stdout.splitlines() if line.startswith("LLM first token")), "")
cp = next((line for line in p.stdout.splitlines() if line.startswith("H2D pinned copy")), "")
ok(p.returncode == 0 and "(+20.0 %)" in gen and "(+20.0 %)" in ttft and cp.rstrip().endswith("-"),
   "compare: LLM tokens/s (higher is better) and first token (lower is better) both +20 %; a missing row is -",
   p.stdout)

# --- bad input
bad_json = os.path.join(tmp, "bad.json")
open(bad_json, "w").write("{not json")
other = os.path.join(tmp, "other.json")
json.dump({"hello": 1}, open(other, "w"))
for args, text in [([base_f], "give 2 to 8"), ([base_f, bad_json], "is not JSON"),
                   ([base_f, other], "not a gpupass bench result"), ([base_f, os.path.join(tmp, "nope.json")],
                                                                     "cannot read")]:
    p = subprocess.run([gpupass, "bench", "compare"] + args, capture_output=True, text=True)
    ok(p.returncode == 3 and text in p.stderr, "compare %s: exit 3, says %r (%s)"
       % (" ".join(os.path.basename(a) for a in args), text, p.stderr.strip()))

BAD = [
    ({"GPUPASS_GPU_LIBDIR": os.path.join(tmp, "none")}, [], "no GPU driver library"),
    ({"GPUPASS_GPU_LIBDIR": broken}, [], "has no cuEventRecord"),
    ({"FAKECUDA_INIT_FAIL": "1"}, [], "CUDA_ERROR_NO_DEVICE"),
    ({"FAKECUDA_FAIL": "cuMemAlloc_v2"}, [], "CUDA_ERROR_OUT_OF_MEMORY: out of memory"),
    ({"FAKECUDA_FAIL": "cuMemcpyHtoDAsync_v2"}, [], "a host-to-device copy failed"),
    ({"FAKECUDA_DEVICES": "0"}, [], "sees no GPU"),
    ({}, ["3"], "sees 1 GPU (index 0 to 0"),
    ({}, ["02:00.0"], "sees 1 GPU"),
    ({}, ["--max-size", "1T"], "--max-size takes"),
    ({}, ["--samples", "0"], "--samples takes 1 to 100"),
    ({}, ["0", "1"], "at most one GPU"),
]
for env, args, text in BAD:
    p = bench(*(args + ["--max-size", "64K"] if "--max-size" not in args else args), env=env)
    ok(p.returncode == 3 and text in p.stderr, "bench %s %s: exit 3, says %r (%d: %s)"
       % (" ".join(args), " ".join("%s=%s" % kv for kv in env.items()), text, p.returncode, p.stderr.strip()))
out = os.path.join(tmp, "never.json")
p = bench("--max-size", "64K", "-o", out, env={"FAKECUDA_FAIL": "cuMemAllocHost_v2"})
ok(p.returncode == 3 and not os.path.exists(out) and "pinned host memory" in p.stderr,
   "a failed run writes no -o file (%s)" % p.stderr.strip())

# --- where it runs
root = rootlib.fresh(hosts, tmp, "pve8-intel-1gpu", "vm")
os.makedirs(os.path.join(root, "sys/class/dmi/id"), exist_ok=True)
rootlib.write("sys/class/dmi/id/sys_vendor", b"QEMU\n")(root)
rootlib.write("sys/class/dmi/id/product_name", b"Standard PC (Q35 + ICH9, 2009)\n")(root)
e = js(bench("--max-size", "64K", "--json", root=root)).get("environment", {})
ok(e.get("place") == "vm" and e.get("hypervisor") == "KVM" and e.get("product_name", "").startswith("Standard PC"),
   "a root whose DMI says QEMU: a VM under KVM", json.dumps(e))
os.makedirs(os.path.join(root, "run/systemd"), exist_ok=True)
rootlib.write("run/systemd/container", b"lxc\n")(root)
j = js(bench("--max-size", "64K", "--json", root=root))
ok(j.get("environment", {}).get("place") == "container" and j["environment"].get("container") == "lxc"
   and j.get("label") == "container", "run/systemd/container says lxc: a container", json.dumps(j.get("environment")))

shutil.rmtree(tmp)
sys.exit(tap.done())
