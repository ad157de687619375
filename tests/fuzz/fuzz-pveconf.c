/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the lossless Proxmox guest config editor (pveconf.h):
 * any bytes are parsed as a VM config and as a CT config. Invariants:
 *   - what parsed formats back byte for byte (final newline included);
 *   - every line points inside its text, every line's section exists,
 *     sections[0] is the main one and each other section's header line is
 *     a HEADER line;
 *   - get finds what find finds, the value of the key line;
 *   - set (of a key from the input and of fixed keys) either refuses or
 *     leaves a file that reparses with get == the value set; delete leaves
 *     no such key in the main section, before and after a reparse; the
 *     section headers still point at headers after every edit;
 *   - the description encoding round-trips (decode(encode(s)) == s).
 * Plain builds replay tests/fuzz/seeds/pveconf (copies of tests/pveconf/corpus).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pveconf.h"

#define FUZZ_NAME "pveconf"
#define FUZZ_TOKENS "\n", "\r\n", ": ", ":", " = ", "[PENDING]\n", "[pve:pending]\n", "[special:cloudinit]\n", \
    "[snap1]\n", "#", "%3A", "hostpci0: ", "lxc.mount.entry = ", "delete: ", "parent: ", "\t", " "
#include "fuzz-main.h"

static void check_shape(const gp_pveconf *c)
{
    FUZZ_CHECK(c->n_sections >= 1);
    FUZZ_CHECK(c->sections[0].type == GP_PVECONF_SECTION_MAIN);
    for (size_t s = 1; s < c->n_sections; s++) {
        FUZZ_CHECK(c->sections[s].header < c->n_lines);
        FUZZ_CHECK(c->lines[c->sections[s].header].type == GP_PVECONF_LINE_HEADER);
        FUZZ_CHECK(c->lines[c->sections[s].header].section == s);
        FUZZ_CHECK(c->sections[s].name);
        if (s > 1)
            FUZZ_CHECK(c->sections[s].header > c->sections[s - 1].header);
    }
    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *l = &c->lines[i];

        FUZZ_CHECK(l->text && strlen(l->text) == l->len);
        FUZZ_CHECK(l->section < c->n_sections);
        FUZZ_CHECK(!memchr(l->text, '\n', l->len));
        if (l->type == GP_PVECONF_LINE_KEY) {
            FUZZ_CHECK(l->key_len > 0 && l->key_len <= l->len);
            FUZZ_CHECK(l->value_off >= l->key_len && l->value_off <= l->len);
            FUZZ_CHECK(l->value_len <= l->len - l->value_off);
        }
        if (l->type == GP_PVECONF_LINE_BAD)
            FUZZ_CHECK(l->why_bad);
    }
}

/* get and find agree for every key line of the main section. */
static void check_lookups(const gp_pveconf *c)
{
    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *l = &c->lines[i];
        char key[256], *v = NULL, *lv;
        long at;

        if (l->type != GP_PVECONF_LINE_KEY || l->key_len >= sizeof(key))
            continue;
        gp_pveconf_line_key(l, key, sizeof(key));
        if (strlen(key) != l->key_len)      /* a key holding a NUL cannot be asked for */
            continue;
        FUZZ_CHECK(gp_pveconf_line_is_key(l, key));
        at = gp_pveconf_find(c, l->section, key);
        FUZZ_CHECK(at >= (long)i);
        FUZZ_CHECK(gp_pveconf_get(c, l->section, key, &v) == 1);
        lv = gp_pveconf_line_value(&c->lines[at]);
        FUZZ_CHECK(lv && strcmp(v, lv) == 0);
        free(lv);
        free(v);
    }
}

/* format, reparse, and the value of key in the main section (NULL absent). */
static char *reparse_get(const gp_pveconf *c, const char *key, gp_pveconf *out)
{
    size_t len;
    char *text = gp_pveconf_format(c, &len), *v = NULL;

    FUZZ_CHECK(text && strlen(text) == len);
    FUZZ_CHECK(gp_pveconf_parse(text, len, c->kind, "fuzz.conf", out, NULL) == 0);
    check_shape(out);
    FUZZ_CHECK(gp_pveconf_get(out, 0, key, &v) >= 0);
    free(text);
    return v;
}

static void check_set(gp_pveconf *c, const char *key, const char *value)
{
    gp_pveconf again = { 0 };
    int r = gp_pveconf_set(c, key, value);
    char *v;

    FUZZ_CHECK(r == 0 || r == -EINVAL);
    check_shape(c);
    if (r < 0)
        return;
    v = reparse_get(c, key, &again);
    FUZZ_CHECK(v && strcmp(v, value) == 0);
    free(v);
    gp_pveconf_clear(&again);
}

static void check_delete(gp_pveconf *c, const char *key)
{
    gp_pveconf again = { 0 };
    int r = gp_pveconf_delete(c, key);
    char *v;

    FUZZ_CHECK(r == 0 || r == 1);
    check_shape(c);
    FUZZ_CHECK(gp_pveconf_find(c, 0, key) < 0);
    v = reparse_get(c, key, &again);
    FUZZ_CHECK(!v);
    gp_pveconf_clear(&again);
}

static void one(const char *buf, size_t size, gp_pveconf_kind kind)
{
    gp_pveconf c = { 0 };
    gp_error err = { 0 };
    char key[128] = "", value[128] = "", *text;
    size_t len;
    int r = gp_pveconf_parse(buf, size, kind, "fuzz.conf", &c, &err);

    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL || r == -EFBIG);
        FUZZ_CHECK(err.code == r);
        FUZZ_CHECK(r != -EINVAL || memchr(buf, '\0', size));
        return;
    }
    check_shape(&c);
    /* lossless */
    text = gp_pveconf_format(&c, &len);
    FUZZ_CHECK(text && len == size && memcmp(text, buf, size) == 0);
    free(text);
    check_lookups(&c);
    (void)gp_pveconf_find_duplicate(&c, 0);

    /* a key and a value from the input: the first key line's */
    for (size_t i = 0; i < c.n_lines; i++)
        if (c.lines[i].type == GP_PVECONF_LINE_KEY && c.lines[i].section == 0) {
            const gp_pveconf_line *l = &c.lines[i];
            size_t n = l->value_len < sizeof(value) ? l->value_len : sizeof(value) - 1;

            gp_pveconf_line_key(l, key, sizeof(key));
            memcpy(value, l->text + l->value_off, n);
            value[n] = '\0';
            break;
        }
    check_set(&c, kind == GP_PVECONF_LXC ? "dev0" : "hostpci0", "0000:01:00,pcie=1,x-vga=1");
    if (key[0]) {
        check_set(&c, key, "fuzz-value");
        if (value[0])
            check_set(&c, key, value);
    }
    if (value[0])
        check_set(&c, "description", value);
    if (kind == GP_PVECONF_LXC) {
        r = gp_pveconf_add(&c, "lxc.mount.entry", "/dev/nvidia0 dev/nvidia0 none bind,optional,create=file");
        FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL);
        check_shape(&c);
    }
    if (key[0])
        check_delete(&c, key);
    check_delete(&c, "hostpci0");
    check_delete(&c, "dev0");
    text = gp_pveconf_format(&c, &len);
    FUZZ_CHECK(text && (len == 0 || text[len - 1] == '\n' || !c.final_newline));
    free(text);
    gp_pveconf_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *enc, *dec;

    if (!s)
        return 0;
    one(s, size, GP_PVECONF_QEMU);
    one(s, size, GP_PVECONF_LXC);
    /* the description encoding: the input up to its first NUL */
    enc = gp_pveconf_text_encode(s);
    FUZZ_CHECK(enc);
    for (const char *p = enc; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e && *p != ':');
    dec = gp_pveconf_text_decode(enc);
    FUZZ_CHECK(dec && strcmp(dec, s) == 0);
    free(dec);
    free(enc);
    dec = gp_pveconf_text_decode(s);
    FUZZ_CHECK(dec && strlen(dec) <= strlen(s));
    free(dec);
    free(s);
    return 0;
}
