/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for Proxmox property strings (propstr.h), with and without a
 * default key. Invariants:
 *   - a parse refuses with -EINVAL or gives keys that are non-empty and
 *     hold no ',' or '=', values without ',', and at most one bare value
 *     (only with a default key, and then keyed by it);
 *   - format(parse(s)) parses back to the same list (keys, values, bare),
 *     and formats to the same text again;
 *   - get returns the first value of a key; set makes get return the new
 *     value and keeps the count (existing key) or adds one; delete removes
 *     one and leaves the list formatting and reparsing consistently.
 * Plain builds replay tests/fuzz/seeds/propstr (hostpci, dev, net, mp and
 * map values from the fixtures).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "propstr.h"

#define FUZZ_NAME "propstr"
#define FUZZ_TOKENS ",", "=", ";", ",,", "host=", "mapping=", "pcie=1", "x-vga=1", "romfile=", "path=", "node="
#include "fuzz-main.h"

static bool same(const gp_propstr *a, const gp_propstr *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].key, b->v[i].key) != 0 || strcmp(a->v[i].value, b->v[i].value) != 0 ||
            a->v[i].bare != b->v[i].bare)
            return false;
    return true;
}

static void check_shape(const gp_propstr *p, const char *default_key)
{
    size_t bare = 0;

    for (size_t i = 0; i < p->n; i++) {
        FUZZ_CHECK(p->v[i].key && p->v[i].value);
        FUZZ_CHECK(p->v[i].key[0] && !strpbrk(p->v[i].key, ",="));
        FUZZ_CHECK(!strchr(p->v[i].value, ','));
        if (p->v[i].bare) {
            bare++;
            FUZZ_CHECK(default_key && strcmp(p->v[i].key, default_key) == 0);
            FUZZ_CHECK(!strchr(p->v[i].value, '=') && p->v[i].value[0]);
        }
    }
    FUZZ_CHECK(bare <= 1);
}

/* format, reparse: the same list, the same text. */
static void check_roundtrip(const gp_propstr *p, const char *default_key)
{
    gp_propstr q = { 0 };
    char *f = gp_propstr_format(p), *f2;

    FUZZ_CHECK(f);
    FUZZ_CHECK(gp_propstr_parse(f, default_key, &q) == 0);
    FUZZ_CHECK(same(p, &q));
    f2 = gp_propstr_format(&q);
    FUZZ_CHECK(f2 && strcmp(f, f2) == 0);
    free(f2);
    free(f);
    gp_propstr_clear(&q);
}

static void one(const char *s, const char *default_key)
{
    gp_propstr p = { 0 };
    char *key = NULL, *value = NULL;
    size_t n;
    int r = gp_propstr_parse(s, default_key, &p);

    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL);
        FUZZ_CHECK(p.n == 0 && !p.v);
        return;
    }
    check_shape(&p, default_key);
    check_roundtrip(&p, default_key);
    for (size_t i = 0; i < p.n; i++) {
        const char *g = gp_propstr_get(&p, p.v[i].key);
        size_t first = i;

        for (size_t j = 0; j < i; j++)
            if (strcmp(p.v[j].key, p.v[i].key) == 0) {
                first = j;
                break;
            }
        FUZZ_CHECK(g == p.v[first].value);
    }
    key = strdup(p.n ? p.v[p.n - 1].key : "");
    value = strdup(p.n ? p.v[0].value : "");
    FUZZ_CHECK(key && value);
    /* set: an existing key keeps the count, a new one adds one */
    n = p.n;
    if (key[0]) {
        FUZZ_CHECK(gp_propstr_set(&p, key, "fuzz") == 0);
        FUZZ_CHECK(p.n == n && strcmp(gp_propstr_get(&p, key), "fuzz") == 0);
        check_roundtrip(&p, default_key);
        if (value[0] && !strchr(value, '=')) {
            FUZZ_CHECK(gp_propstr_set(&p, key, value) == 0);
            FUZZ_CHECK(strcmp(gp_propstr_get(&p, key), value) == 0);
            check_roundtrip(&p, default_key);
        }
    }
    if (!gp_propstr_get(&p, "fuzz-new")) {
        FUZZ_CHECK(gp_propstr_set(&p, "fuzz-new", value[0] ? value : "1") == 0);
        FUZZ_CHECK(p.n == n + 1);
        n++;
        check_roundtrip(&p, default_key);
    }
    /* delete: one fewer, until the key is gone */
    if (key[0]) {
        while ((r = gp_propstr_delete(&p, key)) == 1) {
            FUZZ_CHECK(p.n == n - 1);
            n--;
            check_shape(&p, default_key);
            check_roundtrip(&p, default_key);
        }
        FUZZ_CHECK(r == 0 && !gp_propstr_get(&p, key));
    }
    /* a key the list lacks (the input may hold any key, this one too) */
    if (!gp_propstr_get(&p, "fuzz-absent-key"))
        FUZZ_CHECK(gp_propstr_delete(&p, "fuzz-absent-key") == 0);
    gp_propstr_clear(&p);
    free(key);
    free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *nl;

    if (!s)
        return 0;
    /* a property string is one line: a seed file's newline ends it */
    nl = strchr(s, '\n');
    if (nl)
        *nl = '\0';
    one(s, "host");
    one(s, NULL);
    free(s);
    return 0;
}
