#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns data/mig.tsv into C arrays for mig.c, validating every line.

Usage: gen-migdata.py TABLE OUTPUT.c
A bad line prints "TABLE:LINE: what is wrong" and exits 1, so a broken table
fails the build instead of shipping wrong placements. The layout of the
table is described in its header comment.
"""
import re
import sys

GENERATIONS = {"Ampere": "GP_MIG_GEN_AMPERE", "Hopper": "GP_MIG_GEN_HOPPER",
               "Blackwell": "GP_MIG_GEN_BLACKWELL"}
MODEL_FLAGS = {"ids-unverified", "placements-unverified", "mig-parted-only"}
PROFILE_NAME = re.compile(r"^([1-9])g\.[0-9]+gb([+-][a-z.]+)?$")
PCI_ID = re.compile(r"^([0-9a-f]{4}):([0-9a-f]{4})$")
DRIVER = re.compile(r"^[0-9]+(\.[0-9A-Za-z]+)*$")
AXIS_MAX = 32        # placements are a uint32_t bitmask


class Bad(Exception):
    pass


class BadAt(Bad):
    """A Bad that already names its file and line."""


def number(text, what, lo, hi):
    if not re.fullmatch(r"[0-9]+", text):
        raise Bad("%s '%s' is not a number" % (what, text))
    v = int(text)
    if not lo <= v <= hi:
        raise Bad("%s %d is out of range %d..%d" % (what, v, lo, hi))
    return v


def text_field(text, what):
    if not text or text == "-":
        raise Bad("%s is empty" % what)
    if any(ord(c) < 0x20 or ord(c) > 0x7e or c in '"\\' for c in text):
        raise Bad("%s '%s' holds a character the table does not allow" % (what, text))
    return text


def flags(text, allowed_plain, allowed_valued):
    """'a,b=c' -> {'a': True, 'b': 'c'}; '-' -> {}."""
    out = {}
    if text == "-":
        return out
    for f in text.split(","):
        key, eq, val = f.partition("=")
        if eq:
            if key not in allowed_valued or not val:
                raise Bad("unknown flag '%s'" % f)
        elif key not in allowed_plain:
            raise Bad("unknown flag '%s'" % f)
        if key in out:
            raise Bad("flag '%s' given twice" % key)
        out[key] = val if eq else True
    return out


def pci_ids(text, seen):
    if text == "-":
        return []
    out = []
    for item in text.split(","):
        m = PCI_ID.match(item)
        if not m:
            raise Bad("PCI ID '%s' is not vendor:device in lower-case hex (10de:20b5)" % item)
        v = int(m.group(1), 16) << 16 | int(m.group(2), 16)
        if v in seen:
            raise Bad("PCI ID %s is already on line %d" % (item, seen[v]))
        out.append(v)
    return out


def names(text, seen, lineno):
    out = [text_field(n.strip(), "name") for n in text.split("|")]
    for n in out:
        k = n.lower()
        if k in seen:
            raise Bad("name '%s' is already on line %d" % (n, seen[k]))
        seen[k] = lineno
    return out


def parse(path):
    models, cards = [], []
    seen_ids, seen_names, model_keys = {}, {}, set()
    model = None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                fields = [x for x in line.split("\t") if x != ""]
                kind = fields[0]
                if kind == "model":
                    if len(fields) != 9:
                        raise Bad("a model line has 9 fields, this one %d" % len(fields))
                    if model is not None:
                        check_model(model, path)
                    _, key, title, gen, compute, memory, axis, max_gi, fl = fields
                    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key):
                        raise Bad("model key '%s' must be lower-case letters, digits and '-'" % key)
                    if key in model_keys:
                        raise Bad("model '%s' is defined twice" % key)
                    model_keys.add(key)
                    if gen not in GENERATIONS:
                        raise Bad("generation '%s' is not one of %s" % (gen, ", ".join(GENERATIONS)))
                    model = {
                        "line": lineno, "key": key, "title": text_field(title, "title"), "gen": gen,
                        "compute": number(compute, "compute slices", 1, 16),
                        "memory": 0 if memory == "-" else number(memory, "memory slices", 1, AXIS_MAX),
                        "axis": number(axis, "placement axis", 1, AXIS_MAX),
                        "max_gi": number(max_gi, "most GPU instances", 1, 16),
                        "flags": flags(fl, MODEL_FLAGS, {"driver"}),
                        "profiles": [], "gpus": 0,
                    }
                    drv = model["flags"].get("driver")
                    if drv is not None and not DRIVER.match(drv):
                        raise Bad("driver '%s' is not a version" % drv)
                    models.append(model)
                elif kind == "gpu":
                    if model is None:
                        raise Bad("a gpu line must follow a model line")
                    if len(fields) != 4:
                        raise Bad("a gpu line has 4 fields, this one %d" % len(fields))
                    ids = pci_ids(fields[1], seen_ids)
                    if not ids:
                        raise Bad("a gpu line needs a PCI ID")
                    fl = flags(fields[3], {"display-mode"}, {"vbios"})
                    cards.append({"ids": ids, "names": names(fields[2], seen_names, lineno),
                                  "model": model["key"], "sharing": None, "flags": fl})
                    for v in ids:
                        seen_ids[v] = lineno
                    model["gpus"] += 1
                elif kind == "profile":
                    if model is None:
                        raise Bad("a profile line must follow a model line")
                    if len(fields) != 9:
                        raise Bad("a profile line has 9 fields, this one %d" % len(fields))
                    model["profiles"].append(profile(model, fields))
                elif kind == "card":
                    if len(fields) != 4:
                        raise Bad("a card line has 4 fields, this one %d" % len(fields))
                    ids = pci_ids(fields[1], seen_ids)
                    cards.append({"ids": ids, "names": names(fields[2], seen_names, lineno),
                                  "model": None, "sharing": text_field(fields[3], "sharing"), "flags": {}})
                    for v in ids:
                        seen_ids[v] = lineno
                else:
                    raise Bad("unknown line type '%s' (model, gpu, profile, card)" % kind)
            except BadAt:
                raise
            except Bad as e:
                raise BadAt("%s:%d: %s" % (path, lineno, e)) from None
    if model is not None:
        check_model(model, path)
    if not models:
        raise BadAt("%s: no model lines" % path)
    return models, cards


def profile(model, fields):
    _, name, pid, compute, memory, size, starts, max_count, fl = fields
    m = PROFILE_NAME.match(name)
    if not m:
        raise Bad("profile name '%s' is not like 3g.40gb or 1g.10gb+me" % name)
    if len(name) > 14:
        raise Bad("profile name '%s' is longer than the 14 columns mig.c's picture gives it" % name)
    for p in model["profiles"]:
        if p["name"] == name:
            raise Bad("profile '%s' is already in model %s" % (name, model["key"]))
    ids_unverified = "ids-unverified" in model["flags"]
    if pid == "-":
        if not ids_unverified:
            raise Bad("profile '%s' has no ID; mark model %s ids-unverified" % (name, model["key"]))
        pid = -1
    else:
        if ids_unverified:
            raise Bad("profile '%s' has an ID but model %s is ids-unverified" % (name, model["key"]))
        pid = number(pid, "profile ID", 0, 255)
        for p in model["profiles"]:
            if p["id"] == pid:
                raise Bad("profile ID %d is already %s in model %s" % (pid, p["name"], model["key"]))
    compute = number(compute, "compute slices", 1, model["compute"])
    if compute != int(m.group(1)):
        raise Bad("profile '%s' names %sg but has %d compute slices" % (name, m.group(1), compute))
    if memory == "-":
        if model["memory"]:
            raise Bad("profile '%s' lacks memory slices though model %s has them" % (name, model["key"]))
        memory = 0
    else:
        if not model["memory"]:
            raise Bad("profile '%s' has memory slices but model %s states none" % (name, model["key"]))
        memory = number(memory, "memory slices", 1, model["memory"])
    size = number(size, "placement size", 1, model["axis"])
    start_list = []
    for s in starts.split(","):
        v = number(s, "start", 0, model["axis"] - 1)
        if start_list and v <= start_list[-1]:
            raise Bad("starts '%s' must be increasing without repeats" % starts)
        if v + size > model["axis"]:
            raise Bad("start %d + size %d runs past the %d-wide axis" % (v, size, model["axis"]))
        start_list.append(v)
    max_count = number(max_count, "max count", 1, model["max_gi"])
    # Instances of one profile cannot overlap, so no more can exist than
    # non-overlapping starts; a larger max is a typo.
    fit, end = 0, -1
    for s in start_list:
        if s >= end:
            fit, end = fit + 1, s + size
    if max_count > fit or max_count * compute > model["compute"]:
        raise Bad("max count %d of '%s' cannot fit (%d non-overlapping starts, %d compute slices)"
                  % (max_count, name, fit, model["compute"]))
    fl = flags(fl, {"me", "gfx"}, {"driver"})
    suffix = m.group(2) or ""
    if ("me" in fl) != suffix.startswith("+me"):
        raise Bad("profile '%s': the 'me' flag goes with a +me name, and only there" % name)
    if ("gfx" in fl) != (suffix == "+gfx"):
        raise Bad("profile '%s': the 'gfx' flag goes with a +gfx name, and only there" % name)
    drv = fl.get("driver")
    if drv is not None and not re.fullmatch(r"R[0-9]{3}", drv):
        raise Bad("profile driver '%s' is not like R525" % drv)
    return {"name": name, "id": pid, "compute": compute, "memory": memory, "size": size,
            "starts": start_list, "max": max_count, "me": "me" in fl, "gfx": "gfx" in fl, "driver": drv}


def check_model(model, path):
    """A finished model section; errors point at its model line."""
    where = "%s:%d: model %s" % (path, model["line"], model["key"])
    if len(model["profiles"]) >= 32:
        raise BadAt("%s has %d profiles; mig.c plans with fewer than 32" % (where, len(model["profiles"])))
    if not model["profiles"]:
        raise BadAt("%s has no profile lines" % where)
    if not model["gpus"]:
        raise BadAt("%s has no gpu lines" % where)
    if model["memory"] and model["memory"] != model["axis"]:
        raise BadAt("%s: placements are on the memory axis, so memory and axis must match" % where)


def c_str(s):
    return "NULL" if s is None else '"%s"' % s


def emit(models, cards, out):
    w = out.write
    w("/* Generated by gen-migdata.py from data/mig.tsv: edit the table, not this file. */\n")
    w('#include "mig-data.h"\n\n')
    for i, m in enumerate(models):
        w("static const gp_mig_profile profiles_%d[] = {\n" % i)
        for p in m["profiles"]:
            mask = 0
            for s in p["starts"]:
                mask |= 1 << s
            w('    { .name = %s, .id = %d, .compute = %d, .memory = %d, .size = %d, .starts = 0x%xu,\n'
              '      .max_count = %d, .media = %s, .gfx = %s, .min_driver = %s },\n'
              % (c_str(p["name"]), p["id"], p["compute"], p["memory"], p["size"], mask, p["max"],
                 "true" if p["me"] else "false", "true" if p["gfx"] else "false", c_str(p["driver"])))
        w("};\n")
    w("\nconst gp_mig_model gp_mig_data_models[] = {\n")
    index = {}
    for i, m in enumerate(models):
        index[m["key"]] = i
        fl = m["flags"]
        w('    { .key = %s, .title = %s, .gen = %s, .compute = %d, .memory = %d, .axis = %d,\n'
          '      .max_instances = %d, .min_driver = %s, .ids_unverified = %s,\n'
          '      .placements_unverified = %s, .mig_parted_only = %s, .profiles = profiles_%d, .n_profiles = %d },\n'
          % (c_str(m["key"]), c_str(m["title"]), GENERATIONS[m["gen"]], m["compute"], m["memory"],
             m["axis"], m["max_gi"], c_str(fl.get("driver")),
             "true" if "ids-unverified" in fl else "false",
             "true" if "placements-unverified" in fl else "false",
             "true" if "mig-parted-only" in fl else "false", i, len(m["profiles"])))
    w("};\nconst size_t gp_mig_data_n_models = %d;\n\n" % len(models))
    for i, c in enumerate(cards):
        if c["ids"]:
            w("static const uint32_t card_ids_%d[] = { %s };\n"
              % (i, ", ".join("0x%08xu" % v for v in c["ids"])))
        w("static const char *const card_names_%d[] = { %s, NULL };\n"
          % (i, ", ".join(c_str(n) for n in c["names"])))
    w("\nconst gp_mig_card gp_mig_data_cards[] = {\n")
    for i, c in enumerate(cards):
        model = "&gp_mig_data_models[%d]" % index[c["model"]] if c["model"] else "NULL"
        w('    { .pci_ids = %s, .n_pci_ids = %d, .names = card_names_%d, .model = %s, .sharing = %s,\n'
          '      .min_vbios = %s, .display_mode = %s },\n'
          % ("card_ids_%d" % i if c["ids"] else "NULL", len(c["ids"]), i, model, c_str(c["sharing"]),
             c_str(c["flags"].get("vbios")), "true" if c["flags"].get("display-mode") else "false"))
    w("};\nconst size_t gp_mig_data_n_cards = %d;\n" % len(cards))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gen-migdata.py TABLE OUTPUT.c\n")
        return 2
    try:
        models, cards = parse(argv[1])
    except Bad as e:
        sys.stderr.write("%s\n" % e)
        return 1
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write("%s: %s\n" % (argv[1], e))
        return 1
    with open(argv[2], "w", encoding="utf-8") as out:
        emit(models, cards, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
