/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pveconf.h"
#include "shared/macro.h"

/* Perl's \s as PVE's regexes use it (\r of a CRLF file included). */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum_lower(char c)
{
    return is_lower(c) || is_digit(c);
}

/* Length of s without the whitespace at its end. */
static size_t trimmed_len(const char *s, size_t len)
{
    while (len > 0 && is_space(s[len - 1]))
        len--;
    return len;
}

/*
 * "[name]" with optional whitespace after it. Returns the section type, or
 * -1 when the line is not a header at all (qemu-server: anything else that
 * starts with '[' must still parse as "key: value", and so fails).
 */
static int header_type(gp_pveconf_kind kind, const char *t, size_t len, size_t *name_len)
{
    size_t n = trimmed_len(t, len), i;

    if (n < 2 || t[0] != '[' || t[n - 1] != ']')
        return -1;
    *name_len = n - 2;
    t++;
    n -= 2;
    if (kind == GP_PVECONF_QEMU && n == 7 && strncasecmp(t, "PENDING", 7) == 0)
        return GP_PVECONF_SECTION_PENDING;
    if (kind == GP_PVECONF_LXC && n == 11 && strncasecmp(t, "pve:pending", 11) == 0)
        return GP_PVECONF_SECTION_PENDING;
    if (kind == GP_PVECONF_QEMU && ((n == 17 && strncasecmp(t, "special:cloudinit", 17) == 0) ||
                                    (n == 16 && strncasecmp(t, "special:fleecing", 16) == 0)))
        return GP_PVECONF_SECTION_SPECIAL;
    /* Snapshot names: a letter, then one or more of [a-z0-9_-], matched
     * case-insensitively (qemu-server parse_vm_config). */
    if (n >= 2 && is_letter(t[0])) {
        for (i = 1; i < n; i++)
            if (!is_letter(t[i]) && !is_digit(t[i]) && t[i] != '_' && t[i] != '-')
                break;
        if (i == n)
            return GP_PVECONF_SECTION_SNAPSHOT;
    }
    /* pve-container knows no other sections: such a line is just a line it
     * cannot parse, and what follows stays in the section before it. */
    if (kind == GP_PVECONF_LXC)
        return -1;
    return GP_PVECONF_SECTION_UNKNOWN;
}

/*
 * Key grammar. VM keys: a lower-case letter, [a-z_-]*, then digits
 * (hostpci3, amd-sev). CT keys: the same without '-'. CT raw keys:
 * "lxc." then [a-z0-9_.-]+, followed by ':' or by optional whitespace and
 * '='. Returns the key length and sets *sep_len (length of the separator);
 * 0 when the line does not start with a key.
 */
static size_t key_length(gp_pveconf_kind kind, const char *t, size_t len, size_t *sep_len)
{
    size_t i = 0;

    if (kind == GP_PVECONF_LXC && len > 4 && strncmp(t, "lxc.", 4) == 0) {
        size_t k;

        for (i = 4; i < len && (is_alnum_lower(t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'); i++)
            ;
        if (i == 4)
            return 0;
        if (i < len && t[i] == ':') {
            *sep_len = 1;
            return i;
        }
        for (k = i; k < len && is_space(t[k]); k++)
            ;
        if (k < len && t[k] == '=') {
            *sep_len = k + 1 - i;
            return i;
        }
        return 0;
    }
    if (len == 0 || !is_lower(t[0]))
        return 0;
    for (i = 1; i < len && (is_lower(t[i]) || t[i] == '_' || (kind == GP_PVECONF_QEMU && t[i] == '-')); i++)
        ;
    while (i < len && is_digit(t[i]))
        i++;
    if (i >= len || t[i] != ':')
        return 0;
    *sep_len = 1;
    return i;
}

static void classify(gp_pveconf_kind kind, gp_pveconf_line *l, gp_pveconf_section_type in_section)
{
    const char *t = l->text;
    size_t key_len, sep_len = 0, v, end;

    if (trimmed_len(t, l->len) == 0) {
        l->type = GP_PVECONF_LINE_BLANK;
        return;
    }
    if (t[0] == '#') {
        l->type = GP_PVECONF_LINE_COMMENT;
        return;
    }
    key_len = key_length(kind, t, l->len, &sep_len);
    if (key_len == 0) {
        l->type = GP_PVECONF_LINE_BAD;
        if (is_space(t[0]))
            l->why_bad = "starts with whitespace; a key must start in column 0";
        else if (t[0] >= 'A' && t[0] <= 'Z')
            l->why_bad = "keys are lower-case";
        else if (t[0] == '[')
            l->why_bad = "not a section header: a header is \"[name]\" alone on its line";
        else if (!memchr(t, ':', l->len))
            l->why_bad = "not \"key: value\": there is no ':'";
        else
            l->why_bad = "not \"key: value\": the key has characters PVE does not allow";
        return;
    }
    v = key_len + sep_len;
    while (v < l->len && is_space(t[v]))
        v++;
    end = trimmed_len(t, l->len);
    if (end < v)
        end = v;
    l->key_len = key_len;
    l->value_off = v;
    l->value_len = end - v;
    l->type = GP_PVECONF_LINE_KEY;
    /* PVE's regex wants a value; only raw lxc.* keys may be empty. */
    if (l->value_len == 0 && !(kind == GP_PVECONF_LXC && strncmp(t, "lxc.", 4) == 0)) {
        l->type = GP_PVECONF_LINE_BAD;
        l->why_bad = "the key has no value";
        return;
    }
    if (key_len == 6 && strncmp(t, "delete", 6) == 0 && in_section != GP_PVECONF_SECTION_PENDING) {
        l->type = GP_PVECONF_LINE_BAD;
        l->why_bad = kind == GP_PVECONF_QEMU ? "\"delete:\" is only allowed in [PENDING]"
                                              : "\"delete:\" is only allowed in [pve:pending]";
    }
}

static int add_section(gp_pveconf *c, gp_pveconf_section_type type, const char *name, size_t name_len,
                       size_t header)
{
    gp_pveconf_section *s = realloc(c->sections, (c->n_sections + 1) * sizeof(*s));

    if (!s)
        return -ENOMEM;
    c->sections = s;
    s = &c->sections[c->n_sections];
    *s = (gp_pveconf_section){ .type = type, .header = header };
    if (name) {
        s->name = strndup(name, name_len);
        if (!s->name)
            return -ENOMEM;
    }
    c->n_sections++;
    return 0;
}

int gp_pveconf_parse(const char *buf, size_t len, gp_pveconf_kind kind, const char *label, gp_pveconf *ret,
                     gp_error *err)
{
    gp_pveconf c = { .kind = kind };
    size_t n = 0, cap = 0;
    int r;

    *ret = c;
    if (len > GP_PVECONF_MAX)
        return gp_error_set(err, -EFBIG, "%s: %zu bytes; Proxmox's cluster file system holds at most %u per file, "
                            "so this is not a config PVE wrote", label, len, GP_PVECONF_MAX);
    if (memchr(buf, '\0', len))
        return gp_error_set(err, -EINVAL, "%s: has a NUL byte; a guest config is text", label);
    if (add_section(&c, GP_PVECONF_SECTION_MAIN, NULL, 0, 0) < 0)
        goto oom;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t l_len = nl ? (size_t)(nl - (buf + off)) : len - off, name_len = 0;
        gp_pveconf_line *l;
        int type;

        if (n == cap) {
            gp_pveconf_line *v = realloc(c.lines, (cap ? cap * 2 : 32) * sizeof(*v));

            if (!v)
                goto oom;
            c.lines = v;
            cap = cap ? cap * 2 : 32;
        }
        l = &c.lines[n];
        *l = (gp_pveconf_line){ .len = l_len };
        l->text = strndup(buf + off, l_len);
        if (!l->text)
            goto oom;
        c.n_lines = ++n;
        type = header_type(kind, l->text, l_len, &name_len);
        if (type >= 0) {
            l->type = GP_PVECONF_LINE_HEADER;
            if (add_section(&c, (gp_pveconf_section_type)type, l->text + 1, name_len, n - 1) < 0)
                goto oom;
            l->section = (unsigned)(c.n_sections - 1);
        } else {
            l->section = (unsigned)(c.n_sections - 1);
            classify(kind, l, c.sections[l->section].type);
        }
        off += l_len + (nl ? 1 : 0);
        c.final_newline = nl != NULL;
    }
    *ret = c;
    return 0;
oom:
    r = gp_error_set(err, -ENOMEM, "%s: out of memory", label);
    gp_pveconf_clear(&c);
    return r;
}

void gp_pveconf_clear(gp_pveconf *c)
{
    for (size_t i = 0; i < c->n_lines; i++)
        free(c->lines[i].text);
    for (size_t i = 0; i < c->n_sections; i++)
        free(c->sections[i].name);
    free(c->lines);
    free(c->sections);
    *c = (gp_pveconf){ 0 };
}

char *gp_pveconf_format(const gp_pveconf *c, size_t *ret_len)
{
    size_t len = 0, off = 0;
    char *s;

    for (size_t i = 0; i < c->n_lines; i++)
        len += c->lines[i].len + 1;
    s = malloc(len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < c->n_lines; i++) {
        memcpy(s + off, c->lines[i].text, c->lines[i].len);
        off += c->lines[i].len;
        if (i + 1 < c->n_lines || c->final_newline)
            s[off++] = '\n';
    }
    s[off] = '\0';
    if (ret_len)
        *ret_len = off;
    return s;
}

static bool line_has_key(const gp_pveconf_line *l, const char *key)
{
    size_t n = strlen(key);

    return l->type == GP_PVECONF_LINE_KEY && l->key_len == n && memcmp(l->text, key, n) == 0;
}

long gp_pveconf_find(const gp_pveconf *c, unsigned section, const char *key)
{
    long found = -1;

    for (size_t i = 0; i < c->n_lines; i++)
        if (c->lines[i].section == section && line_has_key(&c->lines[i], key))
            found = (long)i;
    return found;
}

int gp_pveconf_get(const gp_pveconf *c, unsigned section, const char *key, char **ret)
{
    long i = gp_pveconf_find(c, section, key);

    *ret = NULL;
    if (i < 0)
        return 0;
    *ret = strndup(c->lines[i].text + c->lines[i].value_off, c->lines[i].value_len);
    return *ret ? 1 : -ENOMEM;
}

const char *gp_pveconf_line_key(const gp_pveconf_line *l, char *buf, size_t size)
{
    size_t n = l->type == GP_PVECONF_LINE_KEY ? l->key_len : 0;

    if (size == 0)
        return buf;
    if (n >= size)
        n = size - 1;
    memcpy(buf, l->text, n);
    buf[n] = '\0';
    return buf;
}

bool gp_pveconf_line_is_key(const gp_pveconf_line *l, const char *key)
{
    size_t n = strlen(key);

    return l->type == GP_PVECONF_LINE_KEY && l->key_len == n && memcmp(l->text, key, n) == 0;
}

char *gp_pveconf_line_value(const gp_pveconf_line *l)
{
    return strndup(l->text + l->value_off, l->value_len);
}

bool gp_pveconf_bool(const char *v)
{
    /* JSONSchema booleans: 1|on|yes|true, case-insensitive. */
    return v && (strcasecmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "true") == 0);
}

static int key_cmp(const gp_pveconf_line *l, const char *key)
{
    size_t n = strlen(key), m = l->key_len < n ? l->key_len : n;
    int r = memcmp(l->text, key, m);

    if (r != 0)
        return r;
    return l->key_len < n ? -1 : l->key_len > n ? 1 : 0;
}

static bool is_raw_lxc(const gp_pveconf *c, const gp_pveconf_line *l)
{
    return c->kind == GP_PVECONF_LXC && l->key_len > 4 && strncmp(l->text, "lxc.", 4) == 0;
}

/* The end of the main section: the first header, or the end of the file. */
static size_t main_end(const gp_pveconf *c)
{
    return c->n_sections > 1 ? c->sections[1].header : c->n_lines;
}

/*
 * Where PVE's writer would put a new key: keys sorted (qemu-server
 * write_vm_config), raw lxc.* keys after them in their own order
 * (pve-container write_pct_config). In a main section that is not sorted
 * (hand-edited), after the last key line, so the edit stays one line.
 */
static size_t insert_position(const gp_pveconf *c, const char *key)
{
    size_t end = main_end(c), last_key = SIZE_MAX, last_content = SIZE_MAX, first_greater = SIZE_MAX;
    bool raw = c->kind == GP_PVECONF_LXC && strncmp(key, "lxc.", 4) == 0, sorted = true;
    const gp_pveconf_line *prev = NULL;

    for (size_t i = 0; i < end; i++) {
        const gp_pveconf_line *l = &c->lines[i];

        if (l->type != GP_PVECONF_LINE_BLANK)
            last_content = i;
        if (l->type != GP_PVECONF_LINE_KEY && l->type != GP_PVECONF_LINE_BAD)
            continue;
        if (raw || l->type == GP_PVECONF_LINE_BAD || is_raw_lxc(c, l)) {
            last_key = i;
            continue;
        }
        if (prev && prev->key_len > 0) {
            char pk[128];

            if (key_cmp(l, gp_pveconf_line_key(prev, pk, sizeof(pk))) < 0)
                sorted = false;
        }
        prev = l;
        if (first_greater == SIZE_MAX && key_cmp(l, key) > 0)
            first_greater = i;
        /* Only PVE keys count for the sorted tail: raw keys follow them. */
        last_key = i;
    }
    if (!raw && sorted && first_greater != SIZE_MAX)
        return first_greater;
    if (!raw && sorted && prev) {
        /* After the last PVE key, before any raw lxc.* line. */
        return (size_t)(prev - c->lines) + 1;
    }
    if (last_key != SIZE_MAX)
        return last_key + 1;
    if (last_content != SIZE_MAX)
        return last_content + 1;
    return 0;
}

static int insert_line(gp_pveconf *c, size_t at, char *text, size_t len)
{
    gp_pveconf_line *v = realloc(c->lines, (c->n_lines + 1) * sizeof(*v));

    if (!v)
        return -ENOMEM;
    c->lines = v;
    memmove(&c->lines[at + 1], &c->lines[at], (c->n_lines - at) * sizeof(*v));
    c->lines[at] = (gp_pveconf_line){ .text = text, .len = len, .section = 0 };
    c->n_lines++;
    for (size_t i = 1; i < c->n_sections; i++)
        if (c->sections[i].header >= at)
            c->sections[i].header++;
    return 0;
}

/* Non-empty, one line, no whitespace at either end (PVE trims it when
 * reading, so it could not come back as written). */
static bool value_ok(const char *value)
{
    size_t n = strlen(value);

    return n > 0 && !strpbrk(value, "\r\n") && !is_space(value[0]) && !is_space(value[n - 1]);
}

/* Inserts "key: value" at line index at, as a main-section line; -EINVAL
 * (nothing inserted) when PVE could not read it back as that key. */
static int insert_new(gp_pveconf *c, size_t at, const char *key, const char *value)
{
    char *text;
    int r;

    if (asprintf(&text, "%s: %s", key, value) < 0)
        return -ENOMEM;
    r = insert_line(c, at, text, strlen(text));
    if (r < 0) {
        free(text);
        return r;
    }
    classify(c->kind, &c->lines[at], GP_PVECONF_SECTION_MAIN);
    if (c->lines[at].type != GP_PVECONF_LINE_KEY || c->lines[at].key_len != strlen(key)) {
        free(c->lines[at].text);
        memmove(&c->lines[at], &c->lines[at + 1], (c->n_lines - at - 1) * sizeof(c->lines[0]));
        c->n_lines--;
        for (size_t s = 1; s < c->n_sections; s++)
            if (c->sections[s].header > at)
                c->sections[s].header--;
        return -EINVAL;
    }
    c->final_newline = true;
    return 0;
}

int gp_pveconf_set(gp_pveconf *c, const char *key, const char *value)
{
    long i;
    size_t vlen = strlen(value);
    char *text;

    if (!value_ok(value))
        return -EINVAL;
    i = gp_pveconf_find(c, 0, key);
    if (i >= 0) {
        gp_pveconf_line *l = &c->lines[i];
        size_t tail = l->len - (l->value_off + l->value_len);

        if (l->value_len == vlen && memcmp(l->text + l->value_off, value, vlen) == 0)
            return 0;
        text = malloc(l->value_off + vlen + tail + 1);
        if (!text)
            return -ENOMEM;
        memcpy(text, l->text, l->value_off);
        memcpy(text + l->value_off, value, vlen);
        memcpy(text + l->value_off + vlen, l->text + l->value_off + l->value_len, tail);
        text[l->value_off + vlen + tail] = '\0';
        free(l->text);
        l->text = text;
        l->len = l->value_off + vlen + tail;
        l->value_len = vlen;
    } else {
        int r = insert_new(c, insert_position(c, key), key, value);

        if (r < 0)
            return r;
    }
    c->final_newline = true;
    return 0;
}

int gp_pveconf_add(gp_pveconf *c, const char *key, const char *value)
{
    size_t vlen = strlen(value), end = main_end(c), last_key = SIZE_MAX;
    int r;

    if (!value_ok(value))
        return -EINVAL;
    for (size_t i = 0; i < end; i++) {
        const gp_pveconf_line *l = &c->lines[i];

        if (l->type == GP_PVECONF_LINE_KEY || l->type == GP_PVECONF_LINE_BAD)
            last_key = i;
        if (line_has_key(l, key) && l->value_len == vlen && memcmp(l->text + l->value_off, value, vlen) == 0)
            return 0;
    }
    r = insert_new(c, last_key == SIZE_MAX ? insert_position(c, key) : last_key + 1, key, value);
    return r < 0 ? r : 1;
}

int gp_pveconf_delete(gp_pveconf *c, const char *key)
{
    size_t end = main_end(c), w = 0, removed = 0;

    for (size_t i = 0; i < c->n_lines; i++) {
        if (i < end && c->lines[i].section == 0 && line_has_key(&c->lines[i], key)) {
            free(c->lines[i].text);
            removed++;
            continue;
        }
        c->lines[w++] = c->lines[i];
    }
    if (!removed)
        return 0;
    c->n_lines = w;
    for (size_t s = 1; s < c->n_sections; s++)
        c->sections[s].header -= removed;
    c->final_newline = true;
    return 1;
}

long gp_pveconf_find_duplicate(const gp_pveconf *c, unsigned section)
{
    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *a = &c->lines[i];

        /* Raw lxc.* keys repeat by design (lxc.idmap, lxc.mount.entry). */
        if (a->section != section || a->type != GP_PVECONF_LINE_KEY || is_raw_lxc(c, a))
            continue;
        for (size_t j = 0; j < i; j++) {
            const gp_pveconf_line *b = &c->lines[j];

            if (b->section == section && b->type == GP_PVECONF_LINE_KEY && b->key_len == a->key_len &&
                memcmp(a->text, b->text, a->key_len) == 0)
                return (long)i;
        }
    }
    return -1;
}

char *gp_pveconf_text_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), o = 0;
    char *r = malloc(n * 3 + 1);

    if (!r)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p <= 0x7e && *p != '%' && *p != ':') {
            r[o++] = (char)*p;
        } else {
            r[o++] = '%';
            r[o++] = hex[*p >> 4];
            r[o++] = hex[*p & 0xf];
        }
    }
    r[o] = '\0';
    return r;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *gp_pveconf_text_decode(const char *s)
{
    size_t o = 0;
    char *r = malloc(strlen(s) + 1);

    if (!r)
        return NULL;
    for (const char *p = s; *p; p++) {
        int hi, lo;

        if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            char b = (char)(hi << 4 | lo);

            /* A NUL would cut the text short; keep the escape instead. */
            if (b != '\0') {
                r[o++] = b;
                p += 2;
                continue;
            }
        }
        r[o++] = *p;
    }
    r[o] = '\0';
    return r;
}
