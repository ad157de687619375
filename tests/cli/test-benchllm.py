#!/usr/bin/env python3
"""`gpupass bench llm` against tests/cli/llmserver.py, a fake Ollama + OpenAI-compatible server on
127.0.0.1 with known delays (20 ms to the first token, 5 ms per token): the JSON document (runs,
token counts, tokens/s and TTFT within bounds derived from those delays: this checks gpupass's
arithmetic, not speed), the request it sends (deterministic settings, one warm-up), -o FILE, the
text summary, API detection, and every bad input: exit 3 with a message naming it, --timeout
honored, no -o file left behind. TAP. Env: GPUPASS (binary)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectlib  # noqa: E402

gpupass = os.path.abspath(os.environ["GPUPASS"])
here = os.path.dirname(os.path.abspath(__file__))
tap = expectlib.Tap()
ok = tap.ok
tmp = tempfile.mkdtemp(prefix="gpupass-benchllm-")
FIRST_MS, TOKEN_MS = 20, 5
servers = []


def start_server(*args):
    p = subprocess.Popen([sys.executable, os.path.join(here, "llmserver.py"), "--first-ms", str(FIRST_MS),
                          "--token-ms", str(TOKEN_MS)] + list(args), stdout=subprocess.PIPE, text=True)
    servers.append(p)
    return "http://127.0.0.1:%s" % p.stdout.readline().strip()


def requests_seen(url):
    with urllib.request.urlopen(url + "/_requests", timeout=10) as r:
        return json.load(r)


def bench(*args, timeout=60):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("GPUPASS_ROOT", None)
    t = time.monotonic()
    try:
        p = subprocess.run([gpupass, "bench", "llm"] + list(args), capture_output=True, text=True, timeout=timeout,
                           env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        p = subprocess.CompletedProcess(e.cmd, 124, e.stdout or "", "timed out after %d s" % timeout)
        if isinstance(p.stdout, bytes):
            p.stdout = p.stdout.decode()
    p.elapsed = time.monotonic() - t
    return p


def doc_of(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {}


def clean_stderr(p):
    """Nothing that looks like a crash or a sanitizer report."""
    return not any(s in p.stderr for s in ("Sanitizer", "runtime error", "Segmentation", "Aborted", "Traceback"))


try:
    url = start_server()
    openai_only = start_server("--only", "openai")
    neither = start_server("--only", "none")

    # --- Ollama, --json
    p = bench("--url", url, "--model", "test-model", "--api", "ollama", "--runs", "4", "--max-tokens", "32",
              "--prompt", "one two three four", "--json", "--label", "loopback test")
    d = doc_of(p)
    llm = d.get("llm", {})
    ok(p.returncode == 0 and llm, "ollama --json: exit 0 with an llm member (%d: %s)" % (p.returncode, p.stderr),
       p.stdout[:1500])
    ok(d.get("gpupass_bench") == 1 and d.get("label") == "loopback test" and "environment" in d,
       "the bench document: format 1, the --label, the environment", json.dumps(d)[:800])
    ok(llm.get("api") == "ollama" and llm.get("url") == url + "/api/generate" and llm.get("model") == "test-model"
       and llm.get("runs") == 4 and len(llm.get("samples", [])) == 4,
       "api ollama, the endpoint, the model, 4 runs and 4 samples", json.dumps(llm)[:1500])
    ok(llm.get("generated_tokens") == 32 and llm.get("prompt_tokens") == 4 and llm.get("token_count") == "server"
       and all(s.get("generated_tokens") == 32 for s in llm.get("samples", [])),
       "32 tokens generated in every run (what the server sent), 4 prompt tokens", json.dumps(llm)[:1500])
    tps = llm.get("tokens_per_s", {})
    # the server reports eval_duration = 32 * 5 ms: exactly 200 tokens/s by its counters
    ok(all(abs(tps.get(k, 0) - 1000 / TOKEN_MS) < 0.02 for k in ("median", "min", "max"))
       and llm.get("tokens_per_s_clock") == "server",
       "tokens/s = eval_count / eval_duration * 1e9 = 200.00 (median, min, max)", json.dumps(tps))
    ttft = llm.get("ttft_ms", {})
    ok(FIRST_MS * 0.95 <= ttft.get("min", 0) <= ttft.get("median", 0) <= ttft.get("max", 0) < FIRST_MS + 1000,
       "TTFT at least the server's 20 ms delay, and min <= median <= max", json.dumps(ttft))
    reqs = [r for r in requests_seen(url) if r["path"] == "/api/generate"]
    ok(len(reqs) == 5, "one warm-up + 4 runs = 5 requests", json.dumps(reqs)[:600])
    b = reqs[0]["body"] if reqs else {}
    o = b.get("options", {})
    ok(b.get("stream") is True and b.get("model") == "test-model" and b.get("prompt") == "one two three four"
       and o.get("temperature") == 0 and isinstance(o.get("seed"), int) and o.get("num_predict") == 32
       and b.get("keep_alive"),
       "the request: streaming, temperature 0, a seed, num_predict 32, keep_alive", json.dumps(b))

    # --- OpenAI, --json
    p = bench("--url", url, "--model", "test-model", "--api", "openai", "--runs", "3", "--max-tokens", "40",
              "--prompt", "alpha beta", "--json")
    llm = doc_of(p).get("llm", {})
    ok(p.returncode == 0 and llm.get("api") == "openai" and llm.get("url") == url + "/v1/completions"
       and llm.get("runs") == 3 and len(llm.get("samples", [])) == 3,
       "openai --json: exit 0, api openai, the endpoint, 3 samples (%d: %s)" % (p.returncode, p.stderr),
       p.stdout[:1500])
    ok(llm.get("generated_tokens") == 40 and llm.get("prompt_tokens") == 2 and llm.get("token_count") == "server",
       "usage.completion_tokens 40 and prompt_tokens 2 from the usage chunk", json.dumps(llm)[:1500])
    tps = llm.get("tokens_per_s", {})
    # 39 gaps of >= 5 ms between the first and the last token: at most ~200/s, and not far below
    ok(60 <= tps.get("min", 0) <= tps.get("median", 0) <= tps.get("max", 0) <= 230
       and llm.get("tokens_per_s_clock") == "client",
       "tokens/s = (40 - 1) / (last - first token) on the client clock: 60..230 (server: 200)", json.dumps(tps))
    ttft = llm.get("ttft_ms", {})
    ok(FIRST_MS * 0.95 <= ttft.get("min", 0) and ttft.get("max", 1e9) < FIRST_MS + 1000,
       "TTFT at least the 20 ms delay", json.dumps(ttft))
    reqs = [r for r in requests_seen(url) if r["path"] == "/v1/completions"]
    b = reqs[0]["body"] if reqs else {}
    ok(len(reqs) == 4 and b.get("stream") is True and b.get("max_tokens") == 40 and b.get("temperature") == 0
       and isinstance(b.get("seed"), int) and b.get("stream_options", {}).get("include_usage") is True,
       "the request: 1 + 3 posts, stream, max_tokens 40, temperature 0, a seed, include_usage", json.dumps(reqs)[:800])

    # without usage the chunks are counted, and said so
    p = bench("--url", url, "--model", "nousage", "--api", "openai", "--runs", "1", "--max-tokens", "12", "--json")
    llm = doc_of(p).get("llm", {})
    ok(p.returncode == 0 and llm.get("generated_tokens") == 12 and llm.get("token_count") == "stream chunks"
       and llm.get("prompt_tokens") is None,
       "a server without usage: 12 chunks counted, token_count 'stream chunks', prompt_tokens null",
       p.stdout[:1200] + p.stderr)

    # --- API detection
    p = bench("--url", url + "/", "--model", "test-model", "--runs", "1", "--max-tokens", "8", "--json")
    ok(p.returncode == 0 and doc_of(p).get("llm", {}).get("api") == "ollama",
       "no --api: GET /api/version answers, so Ollama (trailing slash taken off)", p.stdout[:600] + p.stderr)
    p = bench("--url", openai_only, "--model", "test-model", "--runs", "1", "--max-tokens", "8", "--json")
    ok(p.returncode == 0 and doc_of(p).get("llm", {}).get("api") == "openai",
       "no --api: only /v1/models answers, so OpenAI", p.stdout[:600] + p.stderr)
    p = bench("--url", openai_only + "/v1", "--model", "test-model", "--runs", "1", "--max-tokens", "8", "--json")
    ok(p.returncode == 0 and doc_of(p).get("llm", {}).get("url") == openai_only + "/v1/completions",
       "--url ending in /v1 (an OpenAI client's base URL) is OpenAI", p.stdout[:600] + p.stderr)
    p = bench("--url", neither, "--model", "test-model")
    ok(p.returncode == 3 and "--api" in p.stderr and neither in p.stderr and "404" in p.stderr,
       "neither API answers: exit 3, the URL, the statuses, and --api as the way out", p.stderr)

    # --- text output and -o
    out = os.path.join(tmp, "r.json")
    p = bench("--url", url, "--model", "test-model", "--api", "ollama", "--runs", "2", "--max-tokens", "16",
              "-o", out)
    try:
        f = json.load(open(out))
    except (OSError, ValueError):
        f = {}
    ok(p.returncode == 0 and f.get("llm", {}).get("runs") == 2 and f.get("llm", {}).get("generated_tokens") == 16,
       "-o FILE: exit 0, FILE holds the document (%d: %s)" % (p.returncode, p.stderr), json.dumps(f)[:800])
    ok("test-model" in p.stdout and "ollama" in p.stdout and "200.0 tokens/s median" in p.stdout
       and "first token" in p.stdout and "16 generated" in p.stdout and not p.stdout.lstrip().startswith("{"),
       "-o FILE also prints the text summary: model, api, tokens/s median, first token, tokens", p.stdout)
    ok(sorted(os.listdir(tmp)) == ["r.json"], "no temporary file left next to it", os.listdir(tmp))
    p = bench("--url", url, "--model", "test-model", "--api", "openai", "--runs", "2", "--max-tokens", "16")
    ok(p.returncode == 0 and "tokens/s median (min" in p.stdout and "ms median" in p.stdout
       and len(p.stdout.splitlines()) <= 8 and p.stderr == "",
       "text summary alone: a few lines, nothing on stderr when it is no terminal", p.stdout + p.stderr)

    # --- bad input: exit 3, a message naming it, no crash, no -o file
    bad_out = os.path.join(tmp, "bad.json")

    def bad(desc, args, needles, timeout=60, max_s=None):
        p = bench(*(list(args) + ["-o", bad_out]), timeout=timeout)
        missing = [n for n in needles if n not in p.stderr]
        cond = p.returncode == 3 and not missing and clean_stderr(p) and not os.path.exists(bad_out)
        if max_s is not None:
            cond = cond and p.elapsed < max_s
            desc += " (%.1f s)" % p.elapsed
        ok(cond, desc, "exit %d, missing %s, elapsed %.1f s\n%s" % (p.returncode, missing, p.elapsed, p.stderr))

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    refused = "http://127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    bad("connection refused: exit 3, names the URL", ["--url", refused, "--model", "m", "--api", "ollama"],
        [refused, "connection refused"])
    bad("connection refused while detecting the API", ["--url", refused, "--model", "m"], [refused, "refused"])
    bad("a host that does not resolve", ["--url", "http://no-such-host.invalid:11434", "--model", "m",
                                         "--timeout", "5"], ["no-such-host.invalid"], max_s=30)
    bad("ftp:// is no http(s) URL", ["--url", "ftp://127.0.0.1/", "--model", "m"], ["ftp://127.0.0.1/", "http"])
    bad("a URL without scheme: says to write http://", ["--url", "127.0.0.1:11434", "--model", "m"],
        ["'127.0.0.1:11434'", "http://127.0.0.1:11434"])
    bad("an unknown model (Ollama 404): its error message", ["--url", url, "--model", "nosuch", "--api", "ollama"],
        ["404", 'model "nosuch" not found', url])
    bad("an unknown model (OpenAI 404): its error message", ["--url", url, "--model", "nosuch", "--api", "openai"],
        ["404", "The model `nosuch` does not exist", url])
    bad("HTTP 500: the status and the start of the body", ["--url", url, "--model", "http500", "--api", "ollama"],
        ["HTTP 500", "the GPU fell off the bus"])
    bad("HTTP 500 (OpenAI)", ["--url", url, "--model", "http500", "--api", "openai"], ["HTTP 500"])
    bad("a body that is not JSON (Ollama)", ["--url", url, "--model", "garbage", "--api", "ollama"],
        ["not a JSON object", "this is not JSON", url + "/api/generate"])
    bad("a body that is not server-sent events (OpenAI)", ["--url", url, "--model", "garbage", "--api", "openai"],
        ["server-sent event", url + "/v1/completions"])
    bad("a stream cut before done: true", ["--url", url, "--model", "cutoff", "--api", "ollama"], ['"done": true'])
    bad("a stream cut before [DONE]", ["--url", url, "--model", "cutoff", "--api", "openai"], ["[DONE]"])
    bad("a server that never answers: --timeout 2 is honored", ["--url", url, "--model", "never", "--api", "ollama",
                                                                "--timeout", "2"], ["--timeout 2", url],
        timeout=30, max_s=8)
    bad("a stream that stops after one token: --timeout 2 is honored",
        ["--url", url, "--model", "stall", "--api", "openai", "--timeout", "2"], ["--timeout 2"], timeout=30, max_s=8)
    bad("--runs 0", ["--url", url, "--model", "m", "--runs", "0"], ["--runs", "'0'", "1 to 1000"])
    bad("--runs 1001", ["--url", url, "--model", "m", "--runs", "1001"], ["--runs", "'1001'"])
    bad("--runs abc", ["--url", url, "--model", "m", "--runs", "abc"], ["--runs", "'abc'"])
    bad("--runs -1", ["--url", url, "--model", "m", "--runs", "-1"], ["--runs", "'-1'"])
    bad("--timeout 0", ["--url", url, "--model", "m", "--timeout", "0"], ["--timeout", "'0'"])
    bad("--max-tokens x", ["--url", url, "--model", "m", "--max-tokens", "x"], ["--max-tokens", "'x'"])
    bad("--api tgi", ["--url", url, "--model", "m", "--api", "tgi"], ["--api", "'tgi'"])
    bad("--url missing", ["--model", "m"], ["--url"])
    bad("--model missing", ["--url", url], ["--model"])
    bad("--prompt empty", ["--url", url, "--model", "test-model", "--api", "ollama", "--prompt", ""], ["--prompt"])
    bad("an unexpected argument", ["--url", url, "--model", "m", "extra"], ["'extra'"])
    bad("--runs without its value", ["--url", url, "--model", "m", "--runs"], ["--runs"])
    p = bench("--url", url, "--model", "test-model", "--api", "ollama", "-o", os.path.join(tmp, "nodir", "x.json"))
    ok(p.returncode == 3 and "nodir" in p.stderr and p.elapsed < 5,
       "-o into a directory that does not exist: said before measuring", p.stderr)
    ok(sorted(os.listdir(tmp)) == ["r.json"], "no -o file and no temporary file left by the failures",
       os.listdir(tmp))
    p = subprocess.run([gpupass, "bench", "llm", "--help"], capture_output=True, text=True)
    ok(p.returncode == 0 and "--max-tokens" in p.stdout and "eval_count / eval_duration" in p.stdout,
       "--help: the options and what is measured", p.stdout)
finally:
    for s in servers:
        s.kill()
        s.wait()
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)

sys.exit(tap.done())
