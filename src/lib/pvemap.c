/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/pve/mapping/pci.cfg, read the way PVE reads it: pve-common
 * PVE/SectionConfig.pm parse_config with the header rule of
 * pve-guest-common PVE/Mapping/PCI.pm. What PVE would skip or warn about is
 * kept as GP_PVEMAP_LINE_BAD with the reason, so lint can say it with a line
 * number; the bytes are never touched unless an edit asks for it.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "propstr.h"
#include "pvemap.h"
#include "shared/macro.h"

/* pmxcfs refuses files over 1 MiB (EFBIG, pmxcfs memdb.h). */
#define PVEMAP_MAX (1024u * 1024u)
/* maxLength of the mapping's description (PVE/Mapping/PCI.pm). */
#define DESCRIPTION_MAX 4096

/* Perl's \s on a byte string. */
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lhex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* pve-configid (PVE::JSONSchema pve_verify_configid): /^[a-z][a-z0-9_-]+$/i. */
static bool configid_valid(const char *s, size_t len)
{
    if (len < 2 || !is_alpha(s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* pve-node: letters and digits with inner '-'. */
static bool node_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* SectionConfig drops every line matching /^\s*#/ before looking at it. */
static bool line_is_comment(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && is_ws(s[i]))
        i++;
    return i < len && s[i] == '#';
}

static bool line_is_ws(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_ws(s[i]))
            return false;
    return true;
}

/* The header rule of PVE/Mapping/PCI.pm parse_section_header: /^(\S+)\s*$/. */
static bool header_split(const char *s, size_t len, size_t *id_len)
{
    size_t i = 0;

    while (i < len && !is_ws(s[i]))
        i++;
    if (i == 0 || !line_is_ws(s + i, len - i))
        return false;
    *id_len = i;
    return true;
}

typedef struct prop_span {
    size_t key_off, key_len;
    size_t val_off, val_len;
    bool has_value;
} prop_span;

/*
 * SectionConfig's property rule, /^\s+(\S+)(\s+(.*\S))?\s*$/: leading
 * whitespace, the key, and a value from the first non-blank after it to the
 * last non-blank of the line (inner spaces are part of it).
 */
static bool prop_split(const char *s, size_t len, prop_span *p)
{
    size_t i = 0, end = len;

    *p = (prop_span){ 0 };
    while (i < len && is_ws(s[i]))
        i++;
    if (i == 0 || i == len)
        return false;
    p->key_off = i;
    while (i < len && !is_ws(s[i]))
        i++;
    p->key_len = i - p->key_off;
    while (i < len && is_ws(s[i]))
        i++;
    while (end > i && is_ws(s[end - 1]))
        end--;
    p->val_off = i;
    p->val_len = end - i;
    p->has_value = p->val_len > 0;
    return true;
}

static bool span_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* ---- parse ---------------------------------------------------------------- */

typedef enum parse_state {
    OUTSIDE,        /* between sections: the next non-blank line is an ID */
    IN_SECTION,
    IN_SKIPPED,     /* an invalid ID: PVE reads on to the empty line, ignoring all */
} parse_state;

/* The keys PVE/Mapping/PCI.pm options() lists (live-migration-capable
 * since pve-guest-common 5.1.7). Anything else is "unexpected property". */
static const char *const section_keys[] = { "map", "mdev", "live-migration-capable", "description" };

/* Keys of a map property string ($map_fmt); it allows no others. */
static const char *const map_keys[] = { "node", "path", "id", "subsystem-id", "iommugroup", "description" };

static int add_line(gp_pvemap *m, size_t *cap, const char *p, size_t len)
{
    gp_pvemap_line *l;

    if (m->n_lines == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;

        l = realloc(m->lines, ncap * sizeof(*l));
        if (!l)
            return -ENOMEM;
        m->lines = l;
        *cap = ncap;
    }
    l = &m->lines[m->n_lines];
    *l = (gp_pvemap_line){ .len = len, .section = -1 };
    l->text = strndup(p, len);
    if (!l->text)
        return -ENOMEM;
    m->n_lines++;
    return 0;
}

static int add_section(gp_pvemap *m, const char *name, size_t len, size_t header)
{
    gp_pvemap_section *s = realloc(m->sections, (m->n_sections + 1) * sizeof(*s));

    if (!s)
        return -ENOMEM;
    m->sections = s;
    s = &m->sections[m->n_sections];
    *s = (gp_pvemap_section){ .header = header, .end = header + 1 };
    s->name = strndup(name, len);
    if (!s->name)
        return -ENOMEM;
    m->n_sections++;
    return 0;
}

static void entry_clear(gp_pvemap_entry *e)
{
    free(e->node);
    free(e->path);
    free(e->id);
    free(e->subsystem_id);
    free(e->iommugroup);
    free(e->description);
}

static void section_clear(gp_pvemap_section *s)
{
    for (size_t i = 0; i < s->n_entries; i++)
        entry_clear(&s->entries[i]);
    free(s->entries);
    free(s->name);
}

static int dup_prop(const gp_propstr *p, const char *key, char **ret)
{
    const char *v = gp_propstr_get(p, key);

    *ret = NULL;
    if (!v)
        return 0;
    *ret = strdup(v);
    return *ret ? 0 : -ENOMEM;
}

/*
 * A map value is valid when PVE's parse_property_string would take it: no
 * bare value (there is no default key), no key twice, no key outside
 * $map_fmt, and the required node, path and id present.
 */
static int add_entry(gp_pvemap_section *s, size_t line, const char *value, size_t len)
{
    _cleanup_free_ char *v = strndup(value, len);
    gp_propstr p = { 0 };
    gp_pvemap_entry *e;
    bool parsed;
    int r;

    if (!v)
        return -ENOMEM;
    e = realloc(s->entries, (s->n_entries + 1) * sizeof(*e));
    if (!e)
        return -ENOMEM;
    s->entries = e;
    e = &s->entries[s->n_entries++];
    *e = (gp_pvemap_entry){ .line = line };

    r = gp_propstr_parse(v, NULL, &p);
    if (r == -ENOMEM)
        return r;
    parsed = r == 0;
    for (size_t i = 0; parsed && i < p.n; i++) {
        bool known = false;

        for (size_t k = 0; k < ELEMENTSOF(map_keys); k++)
            known = known || strcmp(p.v[i].key, map_keys[k]) == 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p.v[i].key, p.v[j].key) == 0)
                known = false;
        parsed = known;
    }
    if (r == 0 &&
        ((r = dup_prop(&p, "node", &e->node)) < 0 || (r = dup_prop(&p, "path", &e->path)) < 0 ||
         (r = dup_prop(&p, "id", &e->id)) < 0 || (r = dup_prop(&p, "subsystem-id", &e->subsystem_id)) < 0 ||
         (r = dup_prop(&p, "iommugroup", &e->iommugroup)) < 0 ||
         (r = dup_prop(&p, "description", &e->description)) < 0)) {
        gp_propstr_clear(&p);
        return r;
    }
    gp_propstr_clear(&p);
    e->valid = parsed && e->node && e->path && e->id;
    return 0;
}

typedef struct section_seen {
    bool mdev, live_migration, description;
} section_seen;

/* A property line of a section PVE reads: its type, or why PVE ignores it. */
static int classify_prop(gp_pvemap *m, gp_pvemap_line *l, size_t idx, section_seen *seen)
{
    gp_pvemap_section *s = &m->sections[l->section];
    const char *key, *val;
    bool *flag = NULL, *target = NULL;
    bool known = false;
    prop_span p;

    (void)prop_split(l->text, l->len, &p);
    key = l->text + p.key_off;
    val = l->text + p.val_off;
    for (size_t k = 0; k < ELEMENTSOF(section_keys); k++)
        known = known || span_is(key, p.key_len, section_keys[k]);
    l->type = GP_PVEMAP_LINE_BAD;
    if (!known) {
        l->why_bad = "unknown property: PVE knows map, mdev, live-migration-capable and description here";
        return 0;
    }
    /* check_value refuses a value holding a CR ("property contains a line feed"). */
    if (memchr(val, '\r', p.val_len)) {
        l->why_bad = "a carriage return inside the value: PVE refuses the line";
        return 0;
    }
    if (span_is(key, p.key_len, "map")) {
        if (!p.has_value) {
            l->why_bad = "map without a value: PVE ignores it (got undefined value)";
            return 0;
        }
        l->type = GP_PVEMAP_LINE_PROP;
        return add_entry(s, idx, val, p.val_len);
    }
    if (span_is(key, p.key_len, "description")) {
        if (!p.has_value) {
            l->why_bad = "description without a value: PVE ignores it (got undefined value)";
            return 0;
        }
        if (seen->description) {
            l->why_bad = "duplicate attribute: only map may repeat; PVE ignores this line";
            return 0;
        }
        if (p.val_len > DESCRIPTION_MAX) {
            l->why_bad = "description longer than 4096 characters: PVE ignores it";
            return 0;
        }
        seen->description = true;
        l->type = GP_PVEMAP_LINE_PROP;
        return 0;
    }
    if (span_is(key, p.key_len, "mdev")) {
        flag = &seen->mdev;
        target = &s->mdev;
    } else {
        flag = &seen->live_migration;
        target = &s->live_migration;
    }
    if (*flag) {
        l->why_bad = "duplicate attribute: only map may repeat; PVE ignores this line";
        return 0;
    }
    /*
     * SectionConfig check_value reads a bare boolean key as 1, and the
     * schema's type check for a boolean takes "1" and "0" only (JSONSchema
     * check_type); "yes" or "on" are refused here, unlike inside property
     * strings, and leave the flag unset.
     */
    if (p.has_value && !span_is(val, p.val_len, "1") && !span_is(val, p.val_len, "0")) {
        l->why_bad = "not a boolean as PVE reads one here: only 0 or 1 (type check ('boolean') failed)";
        return 0;
    }
    *flag = true;
    *target = !p.has_value || val[0] == '1';
    l->type = GP_PVEMAP_LINE_PROP;
    return 0;
}

static int cmp_section_order(const void *a, const void *b, void *arg)
{
    const gp_pvemap *m = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(m->sections[x].name, m->sections[y].name);

    if (c)
        return c;
    return x < y ? -1 : x > y;
}

/*
 * parse_config stores each section with $ids->{$id} = $config: a later
 * section with the same ID replaces an earlier one whole. The earlier ones
 * are dropped here, their lines marked, so sections[] is what PVE uses.
 */
static int drop_replaced_sections(gp_pvemap *m)
{
    _cleanup_free_ size_t *order = NULL;
    _cleanup_free_ long *remap = NULL;
    size_t n = m->n_sections, kept = 0;

    if (n < 2)
        return 0;
    order = malloc(n * sizeof(*order));
    remap = malloc(n * sizeof(*remap));
    if (!order || !remap)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        remap[i] = 0;
    }
    qsort_r(order, n, sizeof(*order), cmp_section_order, m);
    for (size_t i = 0; i + 1 < n; i++)
        if (strcmp(m->sections[order[i]].name, m->sections[order[i + 1]].name) == 0)
            remap[order[i]] = -1;

    for (size_t i = 0; i < n; i++) {
        gp_pvemap_section *s = &m->sections[i];

        if (remap[i] < 0) {
            for (size_t k = s->header; k < s->end; k++) {
                gp_pvemap_line *l = &m->lines[k];

                if (l->section != (long)i)
                    continue;
                if (k == s->header) {
                    l->type = GP_PVEMAP_LINE_BAD;
                    l->why_bad = "a later section has the same ID: PVE keeps only the last one";
                } else if (l->type == GP_PVEMAP_LINE_PROP) {
                    l->type = GP_PVEMAP_LINE_BAD;
                    l->why_bad = "belongs to a section that a later one with the same ID replaces";
                }
                l->section = -1;
            }
            section_clear(s);
            continue;
        }
        remap[i] = (long)kept;
        if (kept != i)
            m->sections[kept] = *s;
        kept++;
    }
    m->n_sections = kept;
    for (size_t k = 0; k < m->n_lines; k++) {
        gp_pvemap_line *l = &m->lines[k];

        if (l->section >= 0)
            l->section = remap[l->section];
    }
    return 0;
}

static int parse_lines(gp_pvemap *m, const char *buf, size_t len)
{
    size_t cap = 0;
    const char *p = buf, *end = buf + len;
    parse_state st = OUTSIDE;
    section_seen seen = { 0 };
    int r;

    /* "a\n" is one line with its newline; "a" one without. */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

        r = add_line(m, &cap, p, l);
        if (r < 0)
            return r;
        m->final_newline = nl != NULL;
        p = nl ? nl + 1 : end;
    }

    for (size_t i = 0; i < m->n_lines; i++) {
        gp_pvemap_line *l = &m->lines[i];
        long cur = st == IN_SECTION ? (long)m->n_sections - 1 : -1;
        size_t id_len;

        if (line_is_comment(l->text, l->len)) {
            l->type = GP_PVEMAP_LINE_COMMENT;
            l->section = cur;
            if (cur >= 0)
                m->sections[cur].end = i + 1;
            continue;
        }
        /*
         * Only a false line ends a section: "" and, Perl being Perl, "0".
         * A line of spaces or a lone CR (a CRLF file) does not; PVE reads
         * on and warns about it.
         */
        if (l->len == 0 || span_is(l->text, l->len, "0")) {
            l->type = l->len == 0 ? GP_PVEMAP_LINE_BLANK : GP_PVEMAP_LINE_BAD;
            l->why_bad = l->len == 0 ? NULL : "a line holding only 0: PVE takes it for an empty line";
            st = OUTSIDE;
            continue;
        }
        switch (st) {
        case OUTSIDE:
            if (header_split(l->text, l->len, &id_len)) {
                if (!configid_valid(l->text, id_len)) {
                    l->type = GP_PVEMAP_LINE_BAD;
                    l->why_bad = "not a valid mapping ID (a letter, then one or more letters, digits, "
                                 "'-' or '_'): PVE skips the whole section";
                    st = IN_SKIPPED;
                    break;
                }
                r = add_section(m, l->text, id_len, i);
                if (r < 0)
                    return r;
                l->type = GP_PVEMAP_LINE_HEADER;
                l->section = (long)m->n_sections - 1;
                seen = (section_seen){ 0 };
                st = IN_SECTION;
            } else {
                l->type = GP_PVEMAP_LINE_BAD;
                if (line_is_ws(l->text, l->len))
                    l->why_bad = "only whitespace: PVE ignores the line (an empty line must be empty)";
                else if (is_ws(l->text[0]))
                    l->why_bad = "a property outside a section: PVE ignores it (an empty line ends a section)";
                else
                    l->why_bad = "neither a mapping ID nor a property: PVE ignores the line";
            }
            break;
        case IN_SECTION:
            l->section = cur;
            m->sections[cur].end = i + 1;
            if (!is_ws(l->text[0])) {
                l->type = GP_PVEMAP_LINE_BAD;
                l->why_bad = "a property line must start with whitespace, and a new mapping ID needs an empty "
                             "line before it: PVE ignores this line";
            } else if (line_is_ws(l->text, l->len)) {
                l->type = GP_PVEMAP_LINE_BAD;
                l->why_bad = "only whitespace: PVE ends a section only at an empty line, and ignores this one";
            } else {
                r = classify_prop(m, l, i, &seen);
                if (r < 0)
                    return r;
            }
            break;
        case IN_SKIPPED:
            l->type = GP_PVEMAP_LINE_BAD;
            l->why_bad = "belongs to a section PVE skips (its ID is invalid)";
            break;
        }
    }
    return drop_replaced_sections(m);
}

int gp_pvemap_parse(const char *buf, size_t len, const char *label, gp_pvemap *ret, gp_error *err)
{
    gp_pvemap m = { 0 };
    int r;

    *ret = m;
    if (!label)
        label = "/" GP_PVEMAP_PATH;
    if (len > PVEMAP_MAX)
        return gp_error_set(err, -EFBIG, "%s: %zu bytes, over the 1 MiB pmxcfs allows; this is not a PCI mapping file",
                            label, len);
    if (len > 0 && memchr(buf, '\0', len))
        return gp_error_set(err, -EINVAL, "%s: holds a NUL byte; a PCI mapping file is text", label);
    r = parse_lines(&m, buf ? buf : "", len);
    if (r < 0) {
        gp_pvemap_clear(&m);
        return gp_error_set(err, r, "%s: %s", label, strerror(-r));
    }
    *ret = m;
    return 0;
}

void gp_pvemap_clear(gp_pvemap *m)
{
    for (size_t i = 0; i < m->n_lines; i++)
        free(m->lines[i].text);
    free(m->lines);
    for (size_t i = 0; i < m->n_sections; i++)
        section_clear(&m->sections[i]);
    free(m->sections);
    *m = (gp_pvemap){ 0 };
}

/* ---- format and edit ------------------------------------------------------ */

typedef struct text_view {
    const char *p;
    size_t len;
} text_view;

static char *join_lines(const text_view *v, size_t n, bool final_newline, size_t *ret_len)
{
    size_t total = 1;
    char *out, *o;

    for (size_t i = 0; i < n; i++)
        total += v[i].len + 1;
    out = malloc(total);
    if (!out)
        return NULL;
    o = out;
    for (size_t i = 0; i < n; i++) {
        memcpy(o, v[i].p, v[i].len);
        o += v[i].len;
        if (i + 1 < n || final_newline)
            *o++ = '\n';
    }
    *o = '\0';
    if (ret_len)
        *ret_len = (size_t)(o - out);
    return out;
}

char *gp_pvemap_format(const gp_pvemap *m, size_t *ret_len)
{
    _cleanup_free_ text_view *v = malloc((m->n_lines + 1) * sizeof(*v));

    if (!v)
        return NULL;
    for (size_t i = 0; i < m->n_lines; i++)
        v[i] = (text_view){ m->lines[i].text, m->lines[i].len };
    return join_lines(v, m->n_lines, m->final_newline, ret_len);
}

/* Section names are unique: parse dropped the ones a later section replaces. */
long gp_pvemap_find(const gp_pvemap *m, const char *name)
{
    for (size_t i = 0; name && i < m->n_sections; i++)
        if (strcmp(m->sections[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* A value PVE would read back unchanged: printable, no line break (check_value
 * refuses CR and LF), no blank at either end (the line is trimmed); and one
 * that says whose entry it is. */
static int map_value_split(const char *v, char **node, char **path)
{
    size_t len = strlen(v);
    gp_propstr p = { 0 };
    const char *n, *pa;
    int r;

    if (len == 0 || is_ws(v[0]) || is_ws(v[len - 1]))
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return -EINVAL;
    r = gp_propstr_parse(v, NULL, &p);
    if (r < 0)
        return r;
    n = gp_propstr_get(&p, "node");
    pa = gp_propstr_get(&p, "path");
    r = -EINVAL;
    if (n && pa && *n && *pa) {
        *node = strdup(n);
        *path = strdup(pa);
        r = *node && *path ? 0 : -ENOMEM;
    }
    gp_propstr_clear(&p);
    return r;
}

int gp_pvemap_set_entry(gp_pvemap *m, const char *name, const char *map_value)
{
    _cleanup_free_ char *node = NULL, *path = NULL, *newline = NULL, *text = NULL, *mapline = NULL;
    _cleanup_free_ text_view *v = NULL;
    gp_pvemap nm;
    size_t n = 0, len = 0, after = 0;
    bool final_newline = m->final_newline, insert = false;
    long si;
    int r;

    if (!name || !configid_valid(name, strlen(name)) || !map_value)
        return -EINVAL;
    r = map_value_split(map_value, &node, &path);
    if (r < 0)
        return r;
    if (asprintf(&mapline, "\tmap %s", map_value) < 0)
        return -ENOMEM;
    v = malloc((m->n_lines + 3) * sizeof(*v));
    if (!v)
        return -ENOMEM;

    si = gp_pvemap_find(m, name);
    if (si >= 0) {
        const gp_pvemap_section *s = &m->sections[si];
        const gp_pvemap_entry *hit = NULL;

        for (size_t i = 0; i < s->n_entries && !hit; i++)
            if (s->entries[i].node && s->entries[i].path && strcmp(s->entries[i].node, node) == 0 &&
                strcmp(s->entries[i].path, path) == 0)
                hit = &s->entries[i];
        if (hit) {
            /* Only the value changes: the indentation and whatever
             * trails it (a CR in a CRLF file) stay as they were. */
            const gp_pvemap_line *l = &m->lines[hit->line];
            size_t vlen = strlen(map_value);
            prop_span p;

            (void)prop_split(l->text, l->len, &p);
            newline = malloc(l->len - p.val_len + vlen + 1);
            if (!newline)
                return -ENOMEM;
            memcpy(newline, l->text, p.val_off);
            memcpy(newline + p.val_off, map_value, vlen);
            memcpy(newline + p.val_off + vlen, l->text + p.val_off + p.val_len, l->len - p.val_off - p.val_len);
            newline[l->len - p.val_len + vlen] = '\0';
            for (size_t i = 0; i < m->n_lines; i++)
                v[n++] = i == hit->line ? (text_view){ newline, strlen(newline) }
                                        : (text_view){ m->lines[i].text, m->lines[i].len };
        } else {
            /* After the last map line, or under the ID when there is none:
             * where PVE's writer puts map, before the optional keys. */
            insert = true;
            after = s->n_entries ? s->entries[s->n_entries - 1].line : s->header;
        }
    } else {
        for (size_t i = 0; i < m->n_lines; i++)
            v[n++] = (text_view){ m->lines[i].text, m->lines[i].len };
        /* Only a truly empty line ends the section before it. */
        if (m->n_lines > 0 && m->lines[m->n_lines - 1].len != 0)
            v[n++] = (text_view){ "", 0 };
        v[n++] = (text_view){ name, strlen(name) };
        v[n++] = (text_view){ mapline, strlen(mapline) };
        final_newline = true;
    }
    if (insert) {
        for (size_t i = 0; i < m->n_lines; i++) {
            v[n++] = (text_view){ m->lines[i].text, m->lines[i].len };
            if (i == after)
                v[n++] = (text_view){ mapline, strlen(mapline) };
        }
        if (after + 1 == m->n_lines)
            final_newline = true;
    }

    text = join_lines(v, n, final_newline, &len);
    if (!text)
        return -ENOMEM;
    r = gp_pvemap_parse(text, len, NULL, &nm, NULL);
    if (r < 0)
        return r;
    gp_pvemap_clear(m);
    *m = nm;
    return 0;
}

/* ---- this node's hardware ------------------------------------------------- */

int gp_pvemap_value_for(const gp_pci_list *pci, const int *devs, size_t n_devs, bool whole, const char *node,
                        char **ret)
{
    _cleanup_free_ char *path = NULL, *out = NULL;
    const gp_pci_dev *d;
    size_t plen = 0;
    int r;

    *ret = NULL;
    if (!pci || !devs || n_devs == 0 || !node_valid(node))
        return -EINVAL;
    for (size_t i = 0; i < n_devs; i++)
        if (devs[i] < 0 || (size_t)devs[i] >= pci->n)
            return -EINVAL;
    d = &pci->devs[devs[0]];

    path = malloc(n_devs * GP_PCI_ADDR_MAX + 1);
    if (!path)
        return -ENOMEM;
    for (size_t i = 0; i < (whole ? 1 : n_devs); i++) {
        char name[GP_PCI_ADDR_MAX];

        gp_pci_addr_format(&pci->devs[devs[i]].addr, name);
        /* The slot without ".f": PVE passes the whole device and checks .0. */
        if (whole)
            *strrchr(name, '.') = '\0';
        plen += (size_t)sprintf(path + plen, "%s%s", i ? ";" : "", name);
    }

    /*
     * What assert_valid compares, as sysfs spells it (lower-case hex, and
     * the check is an exact string compare). subsystem_vendor and
     * subsystem_device exist for every PCI function, 0x0000 included, so
     * PVE always expects subsystem-id; iommu_group may be missing, and then
     * PVE wants no iommugroup.
     */
    r = asprintf(&out, "node=%s,path=%s,id=%04x:%04x,subsystem-id=%04x:%04x", node, path, d->vendor_id,
                 d->device_id, d->subsys_vendor_id, d->subsys_device_id);
    if (r < 0)
        return -ENOMEM;
    if (d->iommu_group >= 0) {
        char *o = NULL;

        if (asprintf(&o, "%s,iommugroup=%d", out, d->iommu_group) < 0)
            return -ENOMEM;
        free(out);
        out = o;
    }
    *ret = TAKE_PTR(out);
    return 0;
}

/* assert_valid compares after s/0x//g on both sides. */
static char *strip_0x(const char *s)
{
    char *out = strdup(s), *o = out;

    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        if (p[0] == '0' && p[1] == 'x') {
            p += 2;
            continue;
        }
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}

static _printf_(3, 4) int problem(char ***problems, int *n, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = gp_strv_appendv(problems, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    (*n)++;
    return 0;
}

/* One property as assert_valid checks it: expected NULL when the hardware
 * has none, configured NULL when the map sets none. */
static int check_prop(char ***problems, int *n, const char *prop, const char *dev, const char *expected,
                      const char *configured)
{
    _cleanup_free_ char *want = NULL, *have = NULL;

    if (!expected && !configured)
        return 0;
    if (expected && !configured)
        return problem(problems, n, "missing expected property '%s' for device '%s': the map has none, "
                       "the hardware has %s", prop, dev, expected);
    if (!expected)
        return problem(problems, n, "unexpected property '%s' configured for device '%s': the map says %s, "
                       "the hardware has none", prop, dev, configured);
    want = strip_0x(expected);
    have = strip_0x(configured);
    if (!want || !have)
        return -ENOMEM;
    if (strcmp(want, have) == 0)
        return 0;
    return problem(problems, n, "%s: the map says %s, the hardware has %s (%s)", prop, have, want, dev);
}

static size_t hex_run(const char *s, size_t len, size_t i)
{
    size_t k = i;

    while (k < len && is_lhex(s[k]))
        k++;
    return k - i;
}

/* $PCI_RE of PVE/Mapping/PCI.pm, anchored by the schema's pattern check:
 * [a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(\.[a-f0-9])?. with_domain false
 * checks the same form without "dddd:". */
static bool pve_pci_path(const char *s, size_t len, bool with_domain)
{
    size_t i = 0, k;

    if (with_domain) {
        k = hex_run(s, len, 0);
        if (k < 4 || k == len || s[k] != ':')
            return false;
        i = k + 1;
    }
    if (hex_run(s, len, i) != 2 || i + 2 == len || s[i + 2] != ':')
        return false;
    i += 3;
    if (hex_run(s, len, i) != 2)
        return false;
    i += 2;
    if (i == len)
        return true;
    return i + 2 == len && s[i] == '.' && is_lhex(s[i + 1]);
}

static bool dev_can_mdev(const gp_host *h, const gp_pci_dev *d)
{
    _cleanup_free_ char *types = NULL, *nvidia = NULL;

    if (asprintf(&types, "%s/mdev_supported_types", d->path) < 0 || asprintf(&nvidia, "%s/nvidia", d->path) < 0)
        return false;
    /* NVIDIA's driver for kernel 6.8 and later offers vGPUs under nvidia/
     * instead (pve-common SysFSTools pci_device_info). */
    return gp_host_exists(h, types) || gp_host_exists(h, nvidia);
}

static int check_part(const gp_host *h, const gp_pci_list *pci, const gp_pvemap_section *s, const gp_pvemap_entry *e,
                      const char *part, size_t len, size_t idx, char ***problems, int *n)
{
    _cleanup_free_ char *name = NULL;
    char norm[GP_PCI_ADDR_MAX], id[16], subsys[16], group[16];
    const gp_pci_dev *d;
    gp_pci_addr a;
    int r, di;

    if (!pve_pci_path(part, len, true)) {
        if (pve_pci_path(part, len, false))
            return problem(problems, n, "path: '%.*s' has no PCI domain; PVE's format requires one ('0000:%.*s')",
                           (int)len, part, (int)len, part);
        return problem(problems, n, "path: '%.*s' is not a PCI address as PVE's format takes it "
                       "(dddd:bb:ss or dddd:bb:ss.f, lower-case hex)", (int)len, part);
    }
    /* Without a function the whole device is meant, and .0 must exist. */
    if (asprintf(&name, "%.*s%s", (int)len, part, memchr(part, '.', len) ? "" : ".0") < 0)
        return -ENOMEM;
    di = -1;
    /* pci_device_info looks up sys/bus/pci/devices/<name> by its exact
     * name: "00000:01:00.0" is not "0000:01:00.0". */
    if (gp_pci_addr_parse(name, &a, NULL) == 0) {
        gp_pci_addr_format(&a, norm);
        if (strcmp(norm, name) == 0)
            di = gp_pci_list_find(pci, &a);
    }
    if (di < 0)
        return problem(problems, n, "pci device '%s' not found: the map's path %.*s names a device this node does "
                       "not have", name, (int)len, part);
    assert((size_t)di < pci->n && pci->devs); /* gp_pci_list_find() found it there */
    d = &pci->devs[di];

    snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
    snprintf(subsys, sizeof(subsys), "%04x:%04x", d->subsys_vendor_id, d->subsys_device_id);
    snprintf(group, sizeof(group), "%d", d->iommu_group);
    if ((r = check_prop(problems, n, "id", name, id, e->id)) < 0)
        return r;
    /* iommugroup is compared for the first path only. */
    if (idx == 0 && (r = check_prop(problems, n, "iommugroup", name, d->iommu_group >= 0 ? group : NULL,
                                    e->iommugroup)) < 0)
        return r;
    if ((r = check_prop(problems, n, "subsystem-id", name, subsys, e->subsystem_id)) < 0)
        return r;
    if (h && s && d->path) {
        bool can = dev_can_mdev(h, d);

        if (can != s->mdev)
            return problem(problems, n, "mdev: the map says %d, the hardware has %d (%s %s mediated devices)",
                           s->mdev, can, name, can ? "offers" : "offers no");
    }
    return 0;
}

int gp_pvemap_entry_check(const gp_host *h, const gp_pci_list *pci, const gp_pvemap_section *s,
                          const gp_pvemap_entry *e, char ***problems)
{
    static const gp_pci_list empty = { 0 };
    const char *p;
    size_t idx = 0, end;
    int n = 0, r;

    if (!pci)
        pci = &empty;
    if (!e->path || !*e->path) {
        r = problem(problems, &n, "path: the map entry names no device; PVE drops an entry without path");
        return r < 0 ? r : n;
    }
    /* Perl's split(';') drops empty fields at the end only. */
    p = e->path;
    end = strlen(p);
    while (end > 0 && p[end - 1] == ';')
        end--;
    for (size_t i = 0; i < end; idx++) {
        const char *semi = memchr(p + i, ';', end - i);
        size_t len = semi ? (size_t)(semi - (p + i)) : end - i;

        r = check_part(h, pci, s, e, p + i, len, idx, problems, &n);
        if (r < 0)
            return r;
        i += len + 1;
    }
    return n;
}
