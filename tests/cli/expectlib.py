"""Assertions on `gpupass ... --json` findings, one per line of an expect file:

    ID SEVERITY FILE:LINE    a finding with that id and severity, evidence FILE at LINE
    ID SEVERITY @DEVICE      ... with evidence naming DEVICE (0000:01:00.0)
    ID SEVERITY              ... anywhere
    !ID                      no finding with that id
    !ID FILE:LINE|@DEVICE    no finding with that id and that evidence
    exit N                   the exit status
    # comment
Shared by test-check.py and test-lint.py."""
import json


class Tap:
    """TAP lines: ok()/not ok() with details as # comments."""

    def __init__(self):
        self.n = 0
        self.failed = False

    def ok(self, cond, text, detail=""):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, text))
        if not cond:
            self.failed = True
            for line in str(detail).splitlines():
                print("# " + line)

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def parse(path):
    rules = []
    with open(path) as f:
        for no, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("!") else raw.strip()
            if not line:
                continue
            rules.append((path, no, line.split()))
    return rules


def evidence_matches(ev, where):
    if where.startswith("@"):
        return ev.get("device") == where[1:]
    if ":" in where:
        f, l = where.rsplit(":", 1)
        return ev.get("file") == f and str(ev.get("line")) == l
    return ev.get("file") == where


def check(rules, findings, rc):
    """Yields (ok, description, detail) per rule."""
    for path, no, toks in rules:
        desc = "%s:%d %s" % (path.rsplit("/", 1)[-1], no, " ".join(toks))
        if toks[0] == "exit":
            yield rc == int(toks[1]), desc, "exit status was %d" % rc
            continue
        if toks[0].startswith("!"):
            hit = [f for f in findings if f["id"] == toks[0][1:]]
            if len(toks) > 1:
                hit = [f for f in hit if any(evidence_matches(e, toks[1]) for e in f["evidence"])]
            yield not hit, desc, json.dumps(hit)[:600]
            continue
        fid, sev = toks[0], toks[1]
        cand = [f for f in findings if f["id"] == fid and f["severity"] == sev]
        if len(toks) > 2:
            cand = [f for f in cand if any(evidence_matches(e, toks[2]) for e in f["evidence"])]
        same_id = [(f["severity"], f["title"], f["evidence"]) for f in findings if f["id"] == fid]
        yield bool(cand), desc, "findings with id %s: %s" % (fid, json.dumps(same_id)[:800])
