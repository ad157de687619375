/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Proxmox guest configs (pveconf.c), checked against the contract in
 * pveconf.h and the parser facts in the Proxmox format reference: every file
 * of tests/pveconf/corpus round-trips byte for byte; lines and sections are
 * classified as qemu-server / pve-container would read them; edits change the
 * main section only, one line at a time, where PVE's writer would put it;
 * a few thousand seeded random mutations of the corpus never break that.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pveconf.h"

#define CORPUS GP_TEST_SRCDIR "/tests/pveconf/corpus"

/* ---- helpers -------------------------------------------------------------- */

typedef struct cfile {
    char *name;
    char *data;
    size_t len;
    gp_pveconf_kind kind;
} cfile;

typedef struct corpus {
    cfile *f;
    size_t n;
} corpus;

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);

    return n >= m && strcmp(s + n - m, x) == 0;
}

static char *read_all(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "re");
    char *s = NULL;
    size_t n = 0, cap = 0, k;

    if (!f) {
        fail_msg("cannot open %s: %s", path, strerror(errno));
        abort();
    }
    do {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            s = realloc(s, cap);
            assert_non_null(s);
        }
        k = fread(s + n, 1, 4096, f);
        n += k;
    } while (k > 0);
    assert_int_equal(ferror(f), 0);
    fclose(f);
    s[n] = '\0';
    *ret_len = n;
    return s;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const cfile *)a)->name, ((const cfile *)b)->name);
}

/* Every qemu-*.conf and lxc-*.conf of the corpus, sorted by name. Fails when
 * the directory is missing or holds none. */
static corpus load_corpus(void)
{
    corpus c = { 0 };
    size_t cap = 0;
    struct dirent *de;
    DIR *d = opendir(CORPUS);

    if (!d) {
        fail_msg("corpus directory %s is missing: %s", CORPUS, strerror(errno));
        abort();
    }
    while ((de = readdir(d))) {
        char path[4096];
        cfile *f;

        if (de->d_name[0] == '.')
            continue;
        if (!has_suffix(de->d_name, ".conf"))
            continue;
        if (!has_prefix(de->d_name, "qemu-") && !has_prefix(de->d_name, "lxc-"))
            fail_msg("corpus file %s is named neither qemu-*.conf nor lxc-*.conf", de->d_name);
        if (c.n == cap) {
            cap = cap ? cap * 2 : 32;
            c.f = realloc(c.f, cap * sizeof(*c.f));
            assert_non_null(c.f);
        }
        f = &c.f[c.n++];
        f->name = strdup(de->d_name);
        assert_non_null(f->name);
        f->kind = has_prefix(de->d_name, "qemu-") ? GP_PVECONF_QEMU : GP_PVECONF_LXC;
        snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
        f->data = read_all(path, &f->len);
    }
    closedir(d);
    if (c.n == 0)
        fail_msg("corpus directory %s holds no qemu-*.conf or lxc-*.conf", CORPUS);
    qsort(c.f, c.n, sizeof(*c.f), cmp_name);
    return c;
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->f[i].name);
        free(c->f[i].data);
    }
    free(c->f);
    *c = (corpus){ 0 };
}

static const cfile *corpus_get(const corpus *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->f[i].name, name) == 0)
            return &c->f[i];
    fail_msg("corpus file %s is missing", name);
    abort();    /* not reached: fail_msg() does not return */
}

static void parse_ok(const char *buf, size_t len, gp_pveconf_kind kind, const char *label, gp_pveconf *c)
{
    gp_error err = { 0 };
    int r;

    memset(c, 0, sizeof(*c));
    r = gp_pveconf_parse(buf, len, kind, label, c, &err);
    if (r != 0)
        fail_msg("%s: gp_pveconf_parse() = %d (%s)", label, r, err.msg);
}

static void parse_str(const char *s, gp_pveconf_kind kind, gp_pveconf *c)
{
    parse_ok(s, strlen(s), kind, "test.conf", c);
}

static char *fmt(const gp_pveconf *c, size_t *ret_len)
{
    size_t n = (size_t)-1;
    char *s = gp_pveconf_format(c, &n);

    assert_non_null(s);
    assert_int_equal(strlen(s), n);     /* NUL-terminated, no NUL inside */
    if (ret_len)
        *ret_len = n;
    return s;
}

static bool line_is(const gp_pveconf_line *l, const char *s)
{
    return l->len == strlen(s) && memcmp(l->text, s, l->len) == 0;
}

/* The index of the first line whose text is s; fails when there is none. */
static size_t line_of(const gp_pveconf *c, const char *s)
{
    for (size_t i = 0; i < c->n_lines; i++)
        if (line_is(&c->lines[i], s))
            return i;
    fail_msg("no line \"%s\"", s);
    return 0;
}

static char *line_str(const gp_pveconf_line *l)
{
    char *s = strndup(l->text, l->len);

    assert_non_null(s);
    return s;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* The index of the first header, n_lines when there is none: the main
 * section is lines [0, first_header). */
static size_t first_header(const gp_pveconf *c)
{
    return c->n_sections > 1 ? c->sections[1].header : c->n_lines;
}

/* What the header promises about the structure, for any config. */
static void check_struct(const gp_pveconf *c, const char *label)
{
    size_t prev_header = 0;
    unsigned prev_section = 0;

    if (c->n_sections < 1)
        fail_msg("%s: no main section", label);
    if (c->sections[0].type != GP_PVECONF_SECTION_MAIN || c->sections[0].name)
        fail_msg("%s: sections[0] is not the main section", label);
    for (size_t s = 1; s < c->n_sections; s++) {
        const gp_pveconf_section *sec = &c->sections[s];
        const gp_pveconf_line *h;
        size_t nl;

        if (sec->header >= c->n_lines || (s > 1 && sec->header <= prev_header))
            fail_msg("%s: section %zu: header index %zu out of order", label, s, sec->header);
        prev_header = sec->header;
        h = &c->lines[sec->header];
        if (h->type != GP_PVECONF_LINE_HEADER || h->section != s)
            fail_msg("%s: section %zu: line %zu is not its header", label, s, sec->header);
        if (sec->type == GP_PVECONF_SECTION_MAIN)
            fail_msg("%s: section %zu has type MAIN", label, s);
        if (!sec->name)
            fail_msg("%s: section %zu has no name", label, s);
        nl = strlen(sec->name);
        if (h->len < nl + 2 || h->text[0] != '[' || memcmp(h->text + 1, sec->name, nl) != 0 || h->text[nl + 1] != ']')
            fail_msg("%s: section %zu: name \"%s\" is not the text inside []", label, s, sec->name);
    }
    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *l = &c->lines[i];

        if (l->len && !l->text)
            fail_msg("%s: line %zu has no text", label, i);
        if (memchr(l->text, '\n', l->len))
            fail_msg("%s: line %zu holds a newline", label, i);
        if (l->section >= c->n_sections || l->section < prev_section)
            fail_msg("%s: line %zu: section %u out of order", label, i, l->section);
        prev_section = l->section;
        if ((l->type == GP_PVECONF_LINE_HEADER) != (l->section > 0 && c->sections[l->section].header == i))
            fail_msg("%s: line %zu: header lines and section headers disagree", label, i);
        switch (l->type) {
        case GP_PVECONF_LINE_KEY:
            if (l->key_len == 0 || l->key_len > l->len || l->value_off < l->key_len ||
                l->value_off + l->value_len > l->len)
                fail_msg("%s: line %zu: key/value out of range", label, i);
            if (l->text[0] < 'a' || l->text[0] > 'z')
                fail_msg("%s: line %zu: a key must start with a lower-case letter", label, i);
            if (l->value_len && (is_ws(l->text[l->value_off]) || is_ws(l->text[l->value_off + l->value_len - 1])))
                fail_msg("%s: line %zu: value not trimmed", label, i);
            break;
        case GP_PVECONF_LINE_BAD:
            if (!l->why_bad || !*l->why_bad)
                fail_msg("%s: line %zu: BAD without why_bad", label, i);
            break;
        case GP_PVECONF_LINE_BLANK:
            for (size_t k = 0; k < l->len; k++)
                if (!is_ws(l->text[k]))
                    fail_msg("%s: line %zu: BLANK with text", label, i);
            break;
        case GP_PVECONF_LINE_COMMENT:
            if (l->len == 0 || l->text[0] != '#')
                fail_msg("%s: line %zu: COMMENT without '#'", label, i);
            break;
        case GP_PVECONF_LINE_HEADER:
            break;
        default:
            fail_msg("%s: line %zu: type %d", label, i, (int)l->type);
        }
    }
}

/* The config in memory (after edits too) is what parsing its text gives. */
static void check_reparse(const gp_pveconf *c, const char *label)
{
    size_t n, n2;
    char *s = fmt(c, &n), *s2;
    gp_pveconf r;

    check_struct(c, label);
    parse_ok(s, n, c->kind, label, &r);
    if (r.n_lines != c->n_lines)
        fail_msg("%s: %zu lines in memory, %zu when parsed again", label, c->n_lines, r.n_lines);
    if (c->n_lines && r.final_newline != c->final_newline)
        fail_msg("%s: final_newline differs when parsed again", label);
    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *a = &c->lines[i], *b = &r.lines[i];

        if (a->len != b->len || memcmp(a->text, b->text, a->len) != 0 || a->type != b->type ||
            a->section != b->section)
            fail_msg("%s: line %zu differs from the parsed text (type %d/%d, section %u/%u)", label, i,
                     (int)a->type, (int)b->type, a->section, b->section);
        if (a->type == GP_PVECONF_LINE_KEY &&
            (a->key_len != b->key_len || a->value_off != b->value_off || a->value_len != b->value_len))
            fail_msg("%s: line %zu: key/value offsets differ from the parsed text", label, i);
    }
    if (r.n_sections != c->n_sections)
        fail_msg("%s: %zu sections in memory, %zu when parsed again", label, c->n_sections, r.n_sections);
    for (size_t i = 1; i < c->n_sections; i++)
        if (r.sections[i].type != c->sections[i].type || r.sections[i].header != c->sections[i].header ||
            strcmp(r.sections[i].name, c->sections[i].name) != 0)
            fail_msg("%s: section %zu differs from the parsed text", label, i);
    s2 = fmt(&r, &n2);
    if (n2 != n || memcmp(s, s2, n) != 0)
        fail_msg("%s: formatting the parsed text changes it", label);
    free(s2);
    free(s);
    gp_pveconf_clear(&r);
}

/* A copy of the lines (text only), to compare before and after an edit. */
typedef struct tl {
    char *p;
    size_t len;
} tl;

typedef struct tlines {
    tl *v;
    size_t n;
    size_t hdr;         /* first header, n when none */
} tlines;

static tlines snap_lines(const gp_pveconf *c)
{
    tlines t = { .n = c->n_lines, .hdr = first_header(c) };

    t.v = calloc(t.n + 1, sizeof(*t.v));
    assert_non_null(t.v);
    for (size_t i = 0; i < t.n; i++) {
        t.v[i].len = c->lines[i].len;
        t.v[i].p = malloc(t.v[i].len + 1);
        assert_non_null(t.v[i].p);
        memcpy(t.v[i].p, c->lines[i].text, t.v[i].len);
        t.v[i].p[t.v[i].len] = '\0';
    }
    return t;
}

static void free_lines(tlines *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].p);
    free(t->v);
    *t = (tlines){ 0 };
}

static bool tl_eq(const tl *a, const tl *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* before and after hold the same lines, except line idx (-1: none). */
static void assert_replaced(const tlines *a, const tlines *b, long idx, const char *label)
{
    if (a->n != b->n)
        fail_msg("%s: %zu lines before, %zu after (expected one line changed in place)", label, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if ((long)i != idx && !tl_eq(&a->v[i], &b->v[i]))
            fail_msg("%s: line %zu changed: \"%s\" -> \"%s\"", label, i, a->v[i].p, b->v[i].p);
}

/* after is before with one line inserted at idx. */
static void assert_inserted(const tlines *a, const tlines *b, size_t idx, const char *label)
{
    if (b->n != a->n + 1)
        fail_msg("%s: %zu lines before, %zu after (expected one inserted)", label, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (!tl_eq(&a->v[i], &b->v[i < idx ? i : i + 1]))
            fail_msg("%s: expected a line inserted at %zu; line %zu \"%s\" -> \"%s\"", label, idx, i, a->v[i].p,
                     b->v[i < idx ? i : i + 1].p);
}

/* Where the new line went: the index of the one line of after that is not in
 * before (the rest in order), or fails. */
static size_t inserted_at(const tlines *a, const tlines *b, const char *label)
{
    size_t i = 0;

    if (b->n != a->n + 1)
        fail_msg("%s: %zu lines before, %zu after (expected one inserted)", label, a->n, b->n);
    while (i < a->n && tl_eq(&a->v[i], &b->v[i]))
        i++;
    assert_inserted(a, b, i, label);
    return i;
}

/* Lines from the first header on are byte-identical. */
static void assert_tail_same(const tlines *a, const tlines *b, const char *label)
{
    if (a->n - a->hdr != b->n - b->hdr)
        fail_msg("%s: the sections after the main one changed size", label);
    for (size_t i = a->hdr, j = b->hdr; i < a->n; i++, j++)
        if (!tl_eq(&a->v[i], &b->v[j]))
            fail_msg("%s: line %zu outside the main section changed: \"%s\" -> \"%s\"", label, i, a->v[i].p,
                     b->v[j].p);
}

static void assert_text(const gp_pveconf *c, const char *expect)
{
    char *s = fmt(c, NULL);

    assert_string_equal(s, expect);
    free(s);
}

/* The text is expect, with or without a final newline added. */
static void assert_text_nl(const gp_pveconf *c, const char *expect)
{
    size_t n = strlen(expect);
    char *s = fmt(c, NULL);

    if (!(strcmp(s, expect) == 0 || (strlen(s) == n + 1 && strncmp(s, expect, n) == 0 && s[n] == '\n')))
        fail_msg("\"%s\", expected \"%s\" (with or without a final newline)", s, expect);
    free(s);
}

static void assert_get(const gp_pveconf *c, unsigned section, const char *key, const char *expect)
{
    char *v = (char *)"sentinel";
    int r = gp_pveconf_get(c, section, key, &v);

    if (!expect) {
        assert_int_equal(r, 0);
        assert_null(v);
        assert_int_equal(gp_pveconf_find(c, section, key), -1);
        return;
    }
    if (r != 1)
        fail_msg("get(%u, %s) = %d, expected \"%s\"", section, key, r, expect);
    assert_non_null(v);
    assert_string_equal(v, expect);
    free(v);
}

static char *key_of(const gp_pveconf_line *l)
{
    char buf[512];
    const char *k = gp_pveconf_line_key(l, buf, sizeof(buf));
    char *s;

    assert_non_null(k);
    s = strdup(k);
    assert_non_null(s);
    return s;
}

static bool is_lxc_key(const char *k)
{
    return has_prefix(k, "lxc.");
}

/* ---- round trip ---------------------------------------------------------- */

static void test_roundtrip_corpus(void **state)
{
    corpus co = load_corpus();

    print_message("# corpus: %zu files\n", co.n);
    for (size_t i = 0; i < co.n; i++) {
        const cfile *f = &co.f[i];
        gp_pveconf c;
        size_t n, nl = 0;
        char *s;

        parse_ok(f->data, f->len, f->kind, f->name, &c);
        s = fmt(&c, &n);
        if (n != f->len || memcmp(s, f->data, n) != 0) {
            size_t k = 0;

            while (k < n && k < f->len && s[k] == f->data[k])
                k++;
            fail_msg("round trip of corpus file %s differs at byte %zu (%zu bytes in, %zu out)", f->name, k,
                     f->len, n);
        }
        for (size_t k = 0; k < f->len; k++)
            nl += f->data[k] == '\n';
        if (c.n_lines != nl + (f->len && f->data[f->len - 1] != '\n'))
            fail_msg("%s: %zu lines parsed, the file has %zu", f->name, c.n_lines, nl);
        if (f->len && c.final_newline != (f->data[f->len - 1] == '\n'))
            fail_msg("%s: final_newline wrong", f->name);
        check_struct(&c, f->name);
        check_reparse(&c, f->name);
        free(s);
        gp_pveconf_clear(&c);
    }
    free_corpus(&co);
}

static void test_roundtrip_small(void **state)
{
    static const char *const texts[] = {
        "", "\n", "\n\n", "memory: 1", "memory: 1\n", "\r\n", "[snap1]", "[snap1]\n", "#", "#\n",
        "  \n\t\n", "a:b\nc", "[PENDING]\n\n[PENDING]\n",
    };

    for (size_t i = 0; i < ELEMENTSOF(texts); i++)
        for (int k = 0; k < 2; k++) {
            gp_pveconf c;
            char *s;
            size_t n;

            parse_str(texts[i], k ? GP_PVECONF_LXC : GP_PVECONF_QEMU, &c);
            s = fmt(&c, &n);
            if (n != strlen(texts[i]) || memcmp(s, texts[i], n) != 0)
                fail_msg("round trip of \"%s\" gave \"%s\"", texts[i], s);
            check_reparse(&c, texts[i]);
            free(s);
            gp_pveconf_clear(&c);
        }

    gp_pveconf c;

    parse_str("", GP_PVECONF_QEMU, &c);
    assert_int_equal(c.n_lines, 0);
    assert_int_equal(c.n_sections, 1);
    gp_pveconf_clear(&c);
}

/* ---- classification ------------------------------------------------------ */

typedef struct lcase {
    gp_pveconf_kind kind;
    const char *text;
    gp_pveconf_line_type type;
    int section;                /* HEADER: the section type */
    const char *key, *value;    /* KEY */
} lcase;

#define Q GP_PVECONF_QEMU
#define L GP_PVECONF_LXC
#define BLANK GP_PVECONF_LINE_BLANK
#define COMMENT GP_PVECONF_LINE_COMMENT
#define HEADER GP_PVECONF_LINE_HEADER
#define KEY GP_PVECONF_LINE_KEY
#define BAD GP_PVECONF_LINE_BAD

static const lcase line_cases[] = {
    { Q, "", BLANK },
    { Q, "   \t", BLANK },
    { Q, "\r", BLANK },
    { Q, "#", COMMENT },
    { Q, "#GPU%3A RTX 4090 %E2%80%93 100%25", COMMENT },
    { Q, "#memory: 1", COMMENT },
    { Q, "# raw: colon and Grafikkarte f\xc3\xbcr Max", COMMENT },
    { Q, " #indented", BAD },
    { Q, "\t#indented", BAD },
    { Q, "[PENDING]", HEADER, GP_PVECONF_SECTION_PENDING },
    { Q, "[pending]", HEADER, GP_PVECONF_SECTION_PENDING },
    { Q, "[Pending]  \t", HEADER, GP_PVECONF_SECTION_PENDING },
    { Q, "[PENDING]\r", HEADER, GP_PVECONF_SECTION_PENDING },
    { Q, "[special:cloudinit]", HEADER, GP_PVECONF_SECTION_SPECIAL },
    { Q, "[special:fleecing]", HEADER, GP_PVECONF_SECTION_SPECIAL },
    { Q, "[special:foo]", HEADER, GP_PVECONF_SECTION_UNKNOWN },
    { Q, "[snap1]", HEADER, GP_PVECONF_SECTION_SNAPSHOT },
    { Q, "[before-upgrade]", HEADER, GP_PVECONF_SECTION_SNAPSHOT },
    { Q, "[Before_Upgrade-2]", HEADER, GP_PVECONF_SECTION_SNAPSHOT },
    { Q, "[snap1]   ", HEADER, GP_PVECONF_SECTION_SNAPSHOT },
    { Q, "[a]", HEADER, GP_PVECONF_SECTION_UNKNOWN },          /* a name needs 2 characters */
    { Q, "[1abc]", HEADER, GP_PVECONF_SECTION_UNKNOWN },
    { Q, "[snap.1]", HEADER, GP_PVECONF_SECTION_UNKNOWN },
    { Q, "[snap\x11]", HEADER, GP_PVECONF_SECTION_UNKNOWN },     /* a control character is no [a-z0-9_-] */
    { Q, "[snap\x7f]", HEADER, GP_PVECONF_SECTION_UNKNOWN },
    { Q, "[foo bar]", HEADER, GP_PVECONF_SECTION_UNKNOWN },
    { Q, "[pve:pending]", HEADER, GP_PVECONF_SECTION_UNKNOWN },
    { Q, "[snap1] x", BAD },
    { Q, " [snap1]", BAD },
    { Q, "memory: 4096", KEY, 0, "memory", "4096" },
    { Q, "memory:4096", KEY, 0, "memory", "4096" },
    { Q, "memory:\t  4096 \t ", KEY, 0, "memory", "4096" },
    { Q, "memory: 4096\r", KEY, 0, "memory", "4096" },
    { Q, "hostpci10: 0000:01:00,pcie=1,x-vga=1", KEY, 0, "hostpci10", "0000:01:00,pcie=1,x-vga=1" },
    { Q, "amd-sev: type=std", KEY, 0, "amd-sev", "type=std" },
    { Q, "args: -cpu 'host,kvm=off' # keep", KEY, 0, "args", "-cpu 'host,kvm=off' # keep" },
    { Q, "memory: 4096 # not a comment", KEY, 0, "memory", "4096 # not a comment" },
    { Q, "delete: balloon,!hostpci1", BAD },                   /* only in [PENDING] */
    { Q, "name: [x]", KEY, 0, "name", "[x]" },
    { Q, "memory:", BAD },
    { Q, "memory:   \t", BAD },
    { Q, "Memory: 4096", BAD },
    { Q, "memory 4096", BAD },
    { Q, "memory : 4096", BAD },
    { Q, " memory: 4096", BAD },
    { Q, "1memory: 4096", BAD },
    { Q, "_x: 1", BAD },
    { Q, "net0x: 1", BAD },
    { Q, "lxc.idmap: u 0 100000 65536", BAD },                 /* raw LXC keys are CT only */
    { Q, "hostpci0 0000:02:00.0", BAD },
    { L, "[pve:pending]", HEADER, GP_PVECONF_SECTION_PENDING },
    { L, "[PENDING]", HEADER, GP_PVECONF_SECTION_SNAPSHOT },    /* a CT snapshot may be called that */
    { L, "[gpu-working]", HEADER, GP_PVECONF_SECTION_SNAPSHOT },
    { L, "#", COMMENT },
    { L, "  ", BLANK },
    { L, "arch: amd64", KEY, 0, "arch", "amd64" },
    { L, "dev0: /dev/dri/renderD128,gid=104", KEY, 0, "dev0", "/dev/dri/renderD128,gid=104" },
    { L, "lxc.cgroup2.devices.allow: c 226:* rwm", KEY, 0, "lxc.cgroup2.devices.allow", "c 226:* rwm" },
    { L, "lxc.cgroup2.devices.allow = c 226:* rwm", KEY, 0, "lxc.cgroup2.devices.allow", "c 226:* rwm" },
    { L, "lxc.mount.entry = /dev/dri dev/dri none bind,optional,create=dir  ", KEY, 0, "lxc.mount.entry",
      "/dev/dri dev/dri none bind,optional,create=dir" },
    { L, "lxc.idmap=u 0 100000 65536", KEY, 0, "lxc.idmap", "u 0 100000 65536" },
    { L, "lxc.apparmor.profile:unconfined", KEY, 0, "lxc.apparmor.profile", "unconfined" },
    { L, "lxc.idmap: g 104 104 1\r", KEY, 0, "lxc.idmap", "g 104 104 1" },
    { L, "amd-sev: type=std", BAD },                           /* no '-' in CT keys */
    { L, "memory = 512", BAD },                                /* '=' is for lxc.* only */
    { L, "Swap: 512", BAD },
    { L, "ostype debian", BAD },
    { L, "  cores: 2", BAD },
    { L, "Lxc.idmap: u 0 100000 65536", BAD },
    { L, "delete: swap", BAD },                                /* only in [pve:pending] */
};

/* s with control bytes as \xNN, for messages. */
static const char *esc(const char *s, char *buf, size_t size)
{
    size_t o = 0;

    for (; *s && o + 5 < size; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    buf[o] = '\0';
    return buf;
}

/* Every case runs; each mismatch is printed, and the test fails at the end. */
static void test_classify_lines(void **state)
{
    size_t failed = 0;

    for (size_t i = 0; i < ELEMENTSOF(line_cases); i++) {
        const lcase *t = &line_cases[i];
        const char *kn = t->kind == Q ? "qemu" : "lxc";
        size_t n = strlen(t->text);
        char *buf = malloc(n + 2), e[256];
        gp_pveconf c;

        assert_non_null(buf);
        memcpy(buf, t->text, n);
        buf[n] = '\n';
        parse_ok(buf, n + 1, t->kind, "line.conf", &c);
        check_struct(&c, t->text);
        esc(t->text, e, sizeof(e));
        if (c.n_lines != 1)
            fail_msg("%s \"%s\": %zu lines", kn, e, c.n_lines);
        if (c.lines[0].type != t->type) {
            print_error("# %s \"%s\": line type %d, expected %d\n", kn, e, (int)c.lines[0].type, (int)t->type);
            failed++;
        } else if (t->type == HEADER) {
            if (c.n_sections != 2 || c.lines[0].section != 1 || c.sections[1].header != 0)
                fail_msg("%s \"%s\": not a section of its own", kn, e);
            if ((int)c.sections[1].type != t->section) {
                print_error("# %s \"%s\": section type %d, expected %d\n", kn, e, (int)c.sections[1].type,
                            t->section);
                failed++;
            }
        } else {
            if (c.n_sections != 1 || c.lines[0].section != 0)
                fail_msg("%s \"%s\": opened a section", kn, e);
        }
        if (t->type == KEY && c.lines[0].type == KEY) {
            char *k = key_of(&c.lines[0]);

            if (strcmp(k, t->key) != 0 || c.lines[0].key_len != strlen(t->key))
                fail_msg("%s \"%s\": key \"%s\", expected \"%s\"", kn, e, k, t->key);
            if (c.lines[0].value_len != strlen(t->value) ||
                memcmp(c.lines[0].text + c.lines[0].value_off, t->value, c.lines[0].value_len) != 0)
                fail_msg("%s \"%s\": value \"%.*s\", expected \"%s\"", kn, e, (int)c.lines[0].value_len,
                         c.lines[0].text + c.lines[0].value_off, t->value);
            assert_get(&c, 0, t->key, t->value);
            assert_int_equal(gp_pveconf_find(&c, 0, t->key), 0);
            free(k);
        }
        gp_pveconf_clear(&c);
        free(buf);
    }
    if (failed)
        fail_msg("%zu of %zu lines classified wrongly", failed, ELEMENTSOF(line_cases));
}

static void test_sections_inline(void **state)
{
    static const char doc[] =
        "#d\n"                          /*  0 main */
        "memory: 1\n"                   /*  1 */
        "\n"                            /*  2 */
        "[PENDING]\n"                   /*  3 section 1 */
        "memory: 2\n"                   /*  4 */
        "\n"                            /*  5 */
        "[special:cloudinit]\n"         /*  6 section 2 */
        "ciuser: x\n"                   /*  7 */
        "\n"                            /*  8 */
        "[snap1]\n"                     /*  9 section 3 */
        "memory: 3\n"                   /* 10 */
        "[foo bar]\n"                   /* 11 section 4 */
        "memory: 4\n"                   /* 12 */
        "[Snap2]\n"                     /* 13 section 5 */
        "#snapshot two\n"               /* 14 */
        "memory: 5\n";                  /* 15 */
    static const unsigned sec[] = { 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 5 };
    static const gp_pveconf_line_type type[] = { COMMENT, KEY, BLANK, HEADER, KEY, BLANK, HEADER, KEY,
                                                 BLANK, HEADER, KEY, HEADER, KEY, HEADER, COMMENT, KEY };
    gp_pveconf c;

    parse_str(doc, GP_PVECONF_QEMU, &c);
    check_struct(&c, "inline");
    assert_int_equal(c.n_lines, ELEMENTSOF(sec));
    for (size_t i = 0; i < c.n_lines; i++) {
        if (c.lines[i].section != sec[i])
            fail_msg("line %zu: section %u, expected %u", i, c.lines[i].section, sec[i]);
        if (i != 12 && c.lines[i].type != type[i])   /* inside an unknown section: not checked */
            fail_msg("line %zu: type %d, expected %d", i, (int)c.lines[i].type, (int)type[i]);
    }
    assert_true(c.final_newline);
    assert_int_equal(c.n_sections, 6);
    assert_int_equal(c.sections[1].type, GP_PVECONF_SECTION_PENDING);
    assert_string_equal(c.sections[1].name, "PENDING");
    assert_int_equal(c.sections[1].header, 3);
    assert_int_equal(c.sections[2].type, GP_PVECONF_SECTION_SPECIAL);
    assert_string_equal(c.sections[2].name, "special:cloudinit");
    assert_int_equal(c.sections[2].header, 6);
    assert_int_equal(c.sections[3].type, GP_PVECONF_SECTION_SNAPSHOT);
    assert_string_equal(c.sections[3].name, "snap1");
    assert_int_equal(c.sections[3].header, 9);
    assert_int_equal(c.sections[4].type, GP_PVECONF_SECTION_UNKNOWN);
    assert_string_equal(c.sections[4].name, "foo bar");
    assert_int_equal(c.sections[4].header, 11);
    assert_int_equal(c.sections[5].type, GP_PVECONF_SECTION_SNAPSHOT);
    assert_string_equal(c.sections[5].name, "Snap2");
    assert_int_equal(c.sections[5].header, 13);

    assert_get(&c, 0, "memory", "1");
    assert_get(&c, 1, "memory", "2");
    assert_get(&c, 2, "ciuser", "x");
    assert_get(&c, 0, "ciuser", NULL);
    assert_get(&c, 3, "memory", "3");
    assert_get(&c, 5, "memory", "5");
    assert_int_equal(gp_pveconf_find(&c, 5, "memory"), 15);
    gp_pveconf_clear(&c);

    /* the LXC pending header */
    parse_str("arch: amd64\n\n[pve:pending]\ncores: 2\n\n[pre-gpu]\ncores: 1\n", GP_PVECONF_LXC, &c);
    check_struct(&c, "lxc inline");
    assert_int_equal(c.n_sections, 3);
    assert_int_equal(c.sections[1].type, GP_PVECONF_SECTION_PENDING);
    assert_string_equal(c.sections[1].name, "pve:pending");
    assert_int_equal(c.sections[1].header, 2);
    assert_int_equal(c.sections[2].type, GP_PVECONF_SECTION_SNAPSHOT);
    assert_string_equal(c.sections[2].name, "pre-gpu");
    assert_get(&c, 1, "cores", "2");
    assert_get(&c, 2, "cores", "1");
    assert_get(&c, 0, "cores", NULL);
    gp_pveconf_clear(&c);
}

static void expect_line(const gp_pveconf *c, const char *text, gp_pveconf_line_type type, unsigned section)
{
    size_t i = line_of(c, text);

    if (c->lines[i].type != type || c->lines[i].section != section)
        fail_msg("line %zu \"%s\": type %d section %u, expected type %d section %u", i, text, (int)c->lines[i].type,
                 c->lines[i].section, (int)type, section);
}

static void expect_section(const gp_pveconf *c, unsigned s, gp_pveconf_section_type type, const char *name,
                           const char *header_text)
{
    if (s >= c->n_sections)
        fail_msg("no section %u", s);
    if (c->sections[s].type != type || strcmp(c->sections[s].name, name) != 0)
        fail_msg("section %u: type %d name %s, expected type %d name %s", s, (int)c->sections[s].type,
                 c->sections[s].name, (int)type, name);
    if (c->sections[s].header != line_of(c, header_text))
        fail_msg("section %u: header %zu, expected the line \"%s\"", s, c->sections[s].header, header_text);
}

static void test_classify_corpus(void **state)
{
    corpus co = load_corpus();
    const cfile *f;
    gp_pveconf c;

    f = corpus_get(&co, "qemu-100-win11-rtx4090.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 1);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(c.lines[i].type, COMMENT);
    for (size_t i = 4; i < c.n_lines; i++)
        assert_int_equal(c.lines[i].type, KEY);
    expect_line(&c, "#", COMMENT, 0);
    assert_get(&c, 0, "hostpci0", "0000:01:00,pcie=1,x-vga=1");
    assert_get(&c, 0, "affinity", "0-7,16-23");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-101-pending-gpu-swap.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 2);
    expect_section(&c, 1, GP_PVECONF_SECTION_PENDING, "PENDING", "[PENDING]");
    expect_line(&c, "#", COMMENT, 1);
    expect_line(&c, "delete: balloon,!hostpci1", KEY, 1);
    expect_line(&c, "hostpci1: 0000:03:00.0,pcie=1", KEY, 0);
    assert_get(&c, 1, "delete", "balloon,!hostpci1");
    assert_get(&c, 1, "memory", "12288");
    assert_get(&c, 0, "memory", "8192");
    assert_get(&c, 0, "delete", NULL);
    assert_int_equal(c.lines[c.sections[1].header - 1].type, BLANK);
    assert_int_equal(c.lines[c.sections[1].header - 1].section, 0);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-102-cloudinit-ml.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 2);
    expect_section(&c, 1, GP_PVECONF_SECTION_SPECIAL, "special:cloudinit", "[special:cloudinit]");
    assert_get(&c, 1, "ipconfig0", "ip=10.10.20.41/24,gw=10.10.20.1");
    assert_get(&c, 0, "ipconfig0", "ip=10.10.20.42/24,gw=10.10.20.1");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-103-snapshots.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 4);
    expect_section(&c, 1, GP_PVECONF_SECTION_SNAPSHOT, "before-upgrade", "[before-upgrade]");
    expect_section(&c, 2, GP_PVECONF_SECTION_SNAPSHOT, "driver-535", "[driver-535]");
    expect_section(&c, 3, GP_PVECONF_SECTION_SNAPSHOT, "driver-550", "[driver-550]");
    expect_line(&c, "#state before the 8.1 -> 8.2 host upgrade", COMMENT, 1);
    expect_line(&c, "#(fixed by disabling ReBAR)", COMMENT, 3);
    expect_line(&c, "vmstate: local-lvm:vm-103-state-before-upgrade", KEY, 1);
    assert_get(&c, 0, "parent", "driver-550");
    assert_get(&c, 3, "parent", "driver-535");
    assert_get(&c, 2, "parent", "before-upgrade");
    assert_get(&c, 1, "parent", NULL);
    assert_get(&c, 1, "runningmachine", "pc-q35-8.1+pve0");
    assert_get(&c, 3, "snaptime", "1719876543");
    assert_get(&c, 0, "snaptime", NULL);
    assert_get(&c, 0, "vmstate", NULL);
    assert_get(&c, 1, "memory", "16384");
    assert_get(&c, 0, "memory", "24576");
    for (unsigned s = 0; s < 4; s++)
        assert_int_equal(gp_pveconf_find_duplicate(&c, s), -1);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-109-pending-lower-fleecing.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 3);
    expect_section(&c, 1, GP_PVECONF_SECTION_PENDING, "pending", "[pending]");
    expect_section(&c, 2, GP_PVECONF_SECTION_SPECIAL, "special:fleecing", "[special:fleecing]");
    assert_get(&c, 1, "delete", "usb1");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-110-crlf.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 3);
    expect_section(&c, 1, GP_PVECONF_SECTION_PENDING, "PENDING", "[PENDING]\r");
    expect_section(&c, 2, GP_PVECONF_SECTION_SNAPSHOT, "clean-install", "[clean-install]\r");
    expect_line(&c, "\r", BLANK, 0);
    for (size_t i = 0; i < c.n_lines; i++)
        assert_int_not_equal(c.lines[i].type, BAD);
    assert_get(&c, 0, "memory", "8192");
    assert_get(&c, 1, "memory", "16384");
    assert_get(&c, 2, "vga", "std");
    assert_get(&c, 0, "vga", "none");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-112-whitespace.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    expect_line(&c, "   ", BLANK, 0);
    expect_line(&c, "\t", BLANK, 0);
    expect_section(&c, 1, GP_PVECONF_SECTION_SNAPSHOT, "snap-a", "[snap-a]   ");
    for (size_t i = 0; i < c.n_lines; i++)
        assert_int_not_equal(c.lines[i].type, BAD);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-113-hand-edited.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 3);
    expect_section(&c, 1, GP_PVECONF_SECTION_UNKNOWN, "foo bar", "[foo bar]");
    expect_section(&c, 2, GP_PVECONF_SECTION_SNAPSHOT, "before-gpu", "[before-gpu]");
    expect_line(&c, "# GPU passthrough notes: Grafikkarte f\xc3\xbcr Max, typed in nano with a raw colon", COMMENT, 0);
    expect_line(&c, "# TODO: check whether rombar=0 is needed", COMMENT, 0);
    expect_line(&c, "Cores: 8", BAD, 0);
    expect_line(&c, "hostpci0 0000:02:00.0", BAD, 0);
    expect_line(&c, "  balloon: 0", BAD, 0);
    expect_line(&c, "", BLANK, 0);
    expect_line(&c, "hostpci1: 0000:02:00.1,pcie=1", KEY, 0);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-115-snap-in-progress.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 4);
    expect_section(&c, 1, GP_PVECONF_SECTION_PENDING, "PENDING", "[PENDING]");
    expect_section(&c, 2, GP_PVECONF_SECTION_SNAPSHOT, "base", "[base]");
    expect_section(&c, 3, GP_PVECONF_SECTION_SNAPSHOT, "with-gpu", "[with-gpu]");
    expect_line(&c, "#Swap the GPU at next cold start", COMMENT, 1);
    assert_get(&c, 3, "snapstate", "prepare");
    assert_get(&c, 0, "lock", "snapshot");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-200-jellyfin-privileged.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 1);
    for (size_t i = 1; i < c.n_lines; i++)
        assert_int_equal(c.lines[i].type, KEY);
    assert_get(&c, 0, "lxc.cgroup2.devices.allow", "c 226:* rwm");
    assert_get(&c, 0, "lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir");
    assert_get(&c, 0, "features", "nesting=1");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-202-custom-idmap.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    expect_line(&c, "lxc.idmap = u 0 100000 65536", KEY, 0);
    expect_line(&c, "lxc.idmap=g 105 100105 65431", KEY, 0);
    assert_get(&c, 0, "lxc.idmap", "g 105 100105 65431");
    assert_get(&c, 0, "lxc.cgroup2.devices.allow", "c 226:128 rwm");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-203-pending.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 2);
    expect_section(&c, 1, GP_PVECONF_SECTION_PENDING, "pve:pending", "[pve:pending]");
    assert_get(&c, 1, "delete", "swap");
    assert_get(&c, 1, "dev1", "/dev/nvidiactl");
    assert_get(&c, 0, "dev1", NULL);
    assert_get(&c, 0, "dev0", "/dev/nvidia0");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-204-snapshots.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(c.n_sections, 3);
    expect_section(&c, 1, GP_PVECONF_SECTION_SNAPSHOT, "gpu-working", "[gpu-working]");
    expect_section(&c, 2, GP_PVECONF_SECTION_SNAPSHOT, "pre-gpu", "[pre-gpu]");
    assert_get(&c, 1, "lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir");
    assert_get(&c, 2, "lxc.mount.entry", NULL);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-206-hand-edited.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_false(c.final_newline);
    expect_line(&c, "Swap: 512", BAD, 0);
    expect_line(&c, "ostype debian", BAD, 0);
    expect_line(&c, "  cores: 2", BAD, 0);
    expect_line(&c, "lxc.cgroup2.devices.allow=c 226:* rwm", KEY, 0);
    expect_line(&c, "lxc.apparmor.profile = unconfined", KEY, 0);
    expect_line(&c, "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir", KEY, 0);
    gp_pveconf_clear(&c);

    free_corpus(&co);
}

/* ---- get / find ---------------------------------------------------------- */

static void test_get_find(void **state)
{
    corpus co = load_corpus();
    const cfile *f;
    gp_pveconf c;
    char buf[64];

    f = corpus_get(&co, "qemu-112-whitespace.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_get(&c, 0, "agent", "1");
    assert_get(&c, 0, "balloon", "0");
    assert_get(&c, 0, "bios", "ovmf");
    assert_get(&c, 0, "boot", "order=scsi0;net0");
    assert_get(&c, 0, "cores", "8");
    assert_get(&c, 0, "hostpci0", "0000:01:00,pcie=1,x-vga=1");
    assert_get(&c, 0, "memory", "8192");
    assert_get(&c, 0, "name", "sloppy");
    assert_get(&c, 0, "scsi0", "local-lvm:vm-112-disk-1,size=100G");
    assert_get(&c, 1, "memory", "8192");
    assert_get(&c, 0, "snaptime", NULL);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-104-args-quotes.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_get(&c, 0, "args",
               "-device 'isa-applesmc,osk=notarealkey(c)NotARealKeyEither' -smbios type=2 -cpu "
               "'host,kvm=on,vendor=GenuineIntel,+invtsc,vmware-cpuid-freq=on' -global "
               "'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off' # keep kvm=on for macOS");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-113-hand-edited.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_get(&c, 0, "args", "-set device.hostpci1.x-igd-opregion=on #not a comment, QEMU gets this too");
    assert_get(&c, 0, "description", "added by hand # with a hash");
    assert_get(&c, 0, "memory", "20480");                       /* the later line wins */
    assert_int_equal(gp_pveconf_find(&c, 0, "memory"), (long)line_of(&c, "memory: 20480"));
    assert_int_equal(gp_pveconf_find_duplicate(&c, 0), (long)line_of(&c, "memory: 20480"));
    assert_int_equal(gp_pveconf_find_duplicate(&c, 2), -1);
    assert_get(&c, 0, "cores", "8");
    assert_get(&c, 0, "hostpci0", NULL);                        /* no colon: not a key */
    assert_get(&c, 0, "balloon", NULL);                         /* indented: not a key */
    assert_get(&c, 2, "memory", "16384");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-117-four-gpus.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(gp_pveconf_find(&c, 0, "hostpci1"), (long)line_of(&c, "hostpci1: 0000:31:00,pcie=1"));
    assert_int_equal(gp_pveconf_find(&c, 0, "hostpci10"), (long)line_of(&c, "hostpci10: 0000:ca:00,pcie=1"));
    assert_get(&c, 0, "hostpci", NULL);
    assert_get(&c, 0, "hostpci4", NULL);
    assert_get(&c, 0, "numa", "1");
    assert_get(&c, 0, "numa1", "cpus=24-47,hostnodes=1,memory=131072,policy=bind");
    assert_get(&c, 0, "", NULL);
    assert_int_equal(gp_pveconf_find_duplicate(&c, 0), -1);
    {
        const gp_pveconf_line *l = &c.lines[gp_pveconf_find(&c, 0, "hostpci10")];

        assert_string_equal(gp_pveconf_line_key(l, buf, sizeof(buf)), "hostpci10");
        assert_string_equal(gp_pveconf_line_key(l, buf, 5), "host");    /* truncated to the buffer */
    }
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-205-nvidia-privileged.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_get(&c, 0, "lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir");
    assert_get(&c, 0, "lxc.cgroup2.devices.allow", "c 226:* rwm");
    assert_int_equal(gp_pveconf_find(&c, 0, "lxc.cgroup2.devices.allow"),
                     (long)line_of(&c, "lxc.cgroup2.devices.allow: c 226:* rwm"));
    assert_get(&c, 0, "lxc.mount", NULL);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-202-custom-idmap.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_string_equal(gp_pveconf_line_key(&c.lines[line_of(&c, "lxc.idmap = g 0 100000 104")], buf, sizeof(buf)),
                        "lxc.idmap");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-206-hand-edited.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_get(&c, 0, "memory", "2048");
    assert_get(&c, 0, "hostname", "old-ct");
    assert_get(&c, 0, "swap", NULL);
    assert_get(&c, 0, "cores", NULL);
    assert_int_equal(gp_pveconf_find_duplicate(&c, 0), (long)line_of(&c, "memory:  2048"));
    gp_pveconf_clear(&c);

    /* the first duplicate is the earliest line that repeats an earlier key */
    parse_str("a: 1\nb: 1\nb: 2\na: 2\n", GP_PVECONF_QEMU, &c);
    assert_int_equal(gp_pveconf_find_duplicate(&c, 0), 2);
    assert_int_equal(gp_pveconf_find(&c, 0, "a"), 3);
    assert_get(&c, 0, "b", "2");
    gp_pveconf_clear(&c);

    /* the same key in two sections is no duplicate */
    parse_str("memory: 1\n[snap1]\nmemory: 2\n[PENDING]\nmemory: 3\n", GP_PVECONF_QEMU, &c);
    for (unsigned s = 0; s < c.n_sections; s++)
        assert_int_equal(gp_pveconf_find_duplicate(&c, s), -1);
    assert_get(&c, 0, "memory", "1");
    assert_get(&c, 1, "memory", "2");
    assert_get(&c, 2, "memory", "3");
    gp_pveconf_clear(&c);

    /* a BAD line spelled like a key is not found */
    parse_str("Memory: 1\nmemory 2\n memory: 3\n", GP_PVECONF_QEMU, &c);
    assert_get(&c, 0, "memory", NULL);
    assert_get(&c, 0, "Memory", NULL);
    gp_pveconf_clear(&c);

    free_corpus(&co);
}

/* ---- set ----------------------------------------------------------------- */

/* set, checking the result's consistency; returns its rc. */
static int do_set(gp_pveconf *c, const char *key, const char *value)
{
    int r = gp_pveconf_set(c, key, value);

    if (r == 0)
        check_reparse(c, key);
    return r;
}

/* In every corpus file, replacing each main key that appears once changes only
 * its line; deleting it removes only its line. */
static void test_set_replace_corpus(void **state)
{
    static const char nv[] = "gpupass-test,value=1";
    corpus co = load_corpus();

    for (size_t fi = 0; fi < co.n; fi++) {
        const cfile *f = &co.f[fi];
        gp_pveconf base;
        size_t hdr;

        parse_ok(f->data, f->len, f->kind, f->name, &base);
        hdr = first_header(&base);
        for (size_t i = 0; i < hdr; i++) {
            char label[512], *k;
            gp_pveconf c;
            tlines a, b;
            long li;

            if (base.lines[i].type != KEY)
                continue;
            k = key_of(&base.lines[i]);
            snprintf(label, sizeof(label), "%s: set %s", f->name, k);
            li = gp_pveconf_find(&base, 0, k);
            if (li != (long)i) {        /* a duplicate: see the duplicate tests */
                free(k);
                continue;
            }
            {
                bool dup = false;

                for (size_t j = 0; j < hdr; j++)
                    if (j != i && base.lines[j].type == KEY && base.lines[j].key_len == base.lines[i].key_len &&
                        memcmp(base.lines[j].text, base.lines[i].text, base.lines[i].key_len) == 0)
                        dup = true;
                if (dup) {
                    free(k);
                    continue;
                }
            }

            /* set */
            parse_ok(f->data, f->len, f->kind, f->name, &c);
            a = snap_lines(&c);
            if (do_set(&c, k, nv) != 0)
                fail_msg("%s: failed", label);
            b = snap_lines(&c);
            assert_replaced(&a, &b, (long)i, label);
            if (b.v[i].len < strlen(k) || memcmp(b.v[i].p, k, strlen(k)) != 0)
                fail_msg("%s: the key's spelling changed: \"%s\"", label, b.v[i].p);
            {
                /* a line written as "key: value" becomes "key: new" */
                char canon[8192];
                char *old = line_str(&base.lines[i]);

                snprintf(canon, sizeof(canon), "%s: %.*s", k, (int)base.lines[i].value_len,
                         base.lines[i].text + base.lines[i].value_off);
                if (strcmp(canon, old) == 0) {
                    snprintf(canon, sizeof(canon), "%s: %s", k, nv);
                    if (strcmp(b.v[i].p, canon) != 0)
                        fail_msg("%s: \"%s\", expected \"%s\"", label, b.v[i].p, canon);
                }
                free(old);
            }
            assert_get(&c, 0, k, nv);
            assert_int_equal(c.lines[i].type, KEY);
            free_lines(&b);
            gp_pveconf_clear(&c);

            /* delete */
            snprintf(label, sizeof(label), "%s: delete %s", f->name, k);
            parse_ok(f->data, f->len, f->kind, f->name, &c);
            assert_int_equal(gp_pveconf_delete(&c, k), 1);
            check_reparse(&c, label);
            b = snap_lines(&c);
            if (b.n != a.n - 1)
                fail_msg("%s: %zu lines left of %zu", label, b.n, a.n);
            for (size_t j = 0; j < b.n; j++)
                if (!tl_eq(&a.v[j < i ? j : j + 1], &b.v[j]))
                    fail_msg("%s: line %zu changed", label, j);
            assert_get(&c, 0, k, NULL);
            assert_int_equal(gp_pveconf_delete(&c, k), 0);
            free_lines(&b);
            free_lines(&a);
            gp_pveconf_clear(&c);
            free(k);
        }
        gp_pveconf_clear(&base);
    }
    free_corpus(&co);
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a, b);
}

/*
 * Where a new key goes, as PVE's writer would put it, or -1 when the model
 * here has no exact answer (BAD lines, gaps between keys, no keys):
 * sorted main section → before the first greater key (CT: among the normal
 * keys, before the raw lxc.* lines); unsorted → after the last key line.
 */
static long expected_insert(const gp_pveconf *c, const char *key)
{
    size_t hdr = first_header(c), first_key = SIZE_MAX, last_key = 0, n_keys = 0;
    bool sorted = true, seen_lxc = false, lxc = c->kind == GP_PVECONF_LXC;
    char prev[512] = "";
    long first_greater = -1, last_normal = -1;

    for (size_t i = 0; i < hdr; i++) {
        const gp_pveconf_line *l = &c->lines[i];
        char *k;

        if (l->type == BAD)
            return -1;
        if (l->type != KEY)
            continue;
        if (first_key == SIZE_MAX)
            first_key = i;
        last_key = i;
        n_keys++;
        k = key_of(l);
        if (lxc && is_lxc_key(k)) {
            seen_lxc = true;
        } else {
            if (seen_lxc || (prev[0] && cmp_str(prev, k) >= 0))
                sorted = false;
            snprintf(prev, sizeof(prev), "%s", k);
            if (first_greater < 0 && cmp_str(k, key) > 0)
                first_greater = (long)i;
            last_normal = (long)i;
        }
        free(k);
    }
    if (n_keys == 0)
        return -1;
    if (last_key - first_key + 1 != n_keys)
        return -1;              /* blank or comment lines between keys */
    if (lxc && is_lxc_key(key))
        return (long)last_key + 1;
    if (!sorted)
        return (long)last_key + 1;
    if (first_greater >= 0)
        return first_greater;
    if (last_normal < 0)
        return -1;
    return last_normal + 1;
}

static void check_insert(const char *data, size_t len, gp_pveconf_kind kind, const char *name, const char *key,
                         const char *value)
{
    char label[512], want[1024];
    gp_pveconf c;
    tlines a, b;
    long exp;
    size_t at;

    snprintf(label, sizeof(label), "%s: insert %s", name, key);
    snprintf(want, sizeof(want), "%s: %s", key, value);
    parse_ok(data, len, kind, name, &c);
    assert_int_equal(gp_pveconf_find(&c, 0, key), -1);
    exp = expected_insert(&c, key);
    a = snap_lines(&c);
    if (do_set(&c, key, value) != 0)
        fail_msg("%s: failed", label);
    b = snap_lines(&c);
    at = inserted_at(&a, &b, label);
    if (strcmp(b.v[at].p, want) != 0)
        fail_msg("%s: inserted \"%s\", expected \"%s\"", label, b.v[at].p, want);
    if (at > a.hdr)
        fail_msg("%s: inserted at %zu, after the first header (%zu)", label, at, a.hdr);
    if (c.lines[at].section != 0 || c.lines[at].type != KEY)
        fail_msg("%s: the new line is not a main-section key", label);
    if (exp >= 0 && (long)at != exp)
        fail_msg("%s: inserted at line %zu, expected %ld", label, at, exp);
    assert_tail_same(&a, &b, label);
    assert_get(&c, 0, key, value);
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);
}

static void test_set_insert_corpus(void **state)
{
    static const char *const qemu_keys[] = { "acpi", "bootdisk", "hookscript", "hostpci15", "keyboard", "tags",
                                             "vga", "watchdog" };
    static const char *const lxc_keys[] = { "cmode", "dev9", "hookscript", "lock", "tags", "timezone", "tty",
                                            "lxc.apparmor.profile" };
    corpus co = load_corpus();

    for (size_t fi = 0; fi < co.n; fi++) {
        const cfile *f = &co.f[fi];
        const char *const *keys = f->kind == GP_PVECONF_QEMU ? qemu_keys : lxc_keys;
        gp_pveconf c;

        parse_ok(f->data, f->len, f->kind, f->name, &c);
        for (size_t k = 0; k < 8; k++)
            if (gp_pveconf_find(&c, 0, keys[k]) < 0)
                check_insert(f->data, f->len, f->kind, f->name, keys[k], "1");
        gp_pveconf_clear(&c);
    }
    free_corpus(&co);
}

static void check_insert_at(const char *doc, gp_pveconf_kind kind, const char *key, const char *value, size_t at)
{
    char label[256];
    gp_pveconf c;
    tlines a, b;

    snprintf(label, sizeof(label), "insert %s", key);
    parse_str(doc, kind, &c);
    a = snap_lines(&c);
    assert_int_equal(do_set(&c, key, value), 0);
    b = snap_lines(&c);
    assert_inserted(&a, &b, at, label);
    {
        char want[512];

        snprintf(want, sizeof(want), "%s: %s", key, value);
        if (strcmp(b.v[at].p, want) != 0)
            fail_msg("%s: \"%s\" at %zu, expected \"%s\"", label, b.v[at].p, at, want);
    }
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);
}

static void test_set_insert_sorted(void **state)
{
    static const char doc[] =
        "#desc line\n"                                          /*  0 */
        "balloon: 0\n"                                          /*  1 */
        "bios: ovmf\n"                                          /*  2 */
        "boot: order=scsi0\n"                                   /*  3 */
        "cores: 4\n"                                            /*  4 */
        "hostpci0: 0000:01:00,pcie=1\n"                         /*  5 */
        "hostpci2: 0000:02:00,pcie=1\n"                         /*  6 */
        "machine: q35\n"                                        /*  7 */
        "memory: 8192\n"                                        /*  8 */
        "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n"         /*  9 */
        "ostype: l26\n"                                         /* 10 */
        "sockets: 1\n"                                          /* 11 */
        "vmgenid: 00000000-0000-4000-8000-000000000001\n"       /* 12 */
        "\n"                                                    /* 13 */
        "[PENDING]\n"
        "agent: 1\n"
        "hostpci1: 0000:03:00,pcie=1\n"
        "\n"
        "[snap1]\n"
        "agent: 1\n"
        "memory: 4096\n"
        "snaptime: 1700000000\n"
        "vga: std\n";

    check_insert_at(doc, Q, "agent", "1", 1);
    check_insert_at(doc, Q, "amd-sev", "type=std", 1);
    check_insert_at(doc, Q, "bootdisk", "scsi0", 4);
    check_insert_at(doc, Q, "cpu", "host", 5);
    check_insert_at(doc, Q, "hostpci1", "0000:03:00,pcie=1", 6);
    check_insert_at(doc, Q, "hostpci10", "0000:04:00,pcie=1", 6);   /* PVE sorts as strings */
    check_insert_at(doc, Q, "hostpci3", "0000:05:00,pcie=1", 7);
    check_insert_at(doc, Q, "numa", "1", 10);
    check_insert_at(doc, Q, "vga", "none", 12);
    check_insert_at(doc, Q, "watchdog", "model=i6300esb", 13);

    /* a PVE-written file with hostpci10 between hostpci1 and hostpci2 */
    {
        corpus co = load_corpus();
        const cfile *f = corpus_get(&co, "qemu-117-four-gpus.conf");
        gp_pveconf c;
        size_t at;

        parse_ok(f->data, f->len, f->kind, f->name, &c);
        at = line_of(&c, "hostpci2: 0000:4b:00,pcie=1");
        gp_pveconf_clear(&c);
        check_insert_at(f->data, Q, "hostpci11", "0000:e1:00,pcie=1", at);
        check_insert_at(f->data, Q, "hostpci4", "0000:e1:00,pcie=1", at + 2);
        free_corpus(&co);
    }
}

static void test_set_insert_unsorted(void **state)
{
    static const char doc[] =
        "memory: 8192\n"
        "boot: order=scsi0\n"
        "cores: 4\n"
        "#note left in the middle\n"
        "\n"
        "[snap1]\n"
        "memory: 4096\n";

    check_insert_at(doc, Q, "agent", "1", 3);
    check_insert_at(doc, Q, "zz", "1", 3);
    check_insert_at("memory: 1\nboot: c\n", Q, "hostpci0", "0000:01:00", 2);
}

static void test_set_insert_before_header(void **state)
{
    gp_pveconf c;
    tlines a, b;
    size_t at;

    /* keys, then only snapshots: a new last key goes after the last key line */
    parse_str("boot: c\nmemory: 512\n\n[snap1]\nboot: c\nmemory: 512\nsnaptime: 1700000000\n", Q, &c);
    assert_int_equal(do_set(&c, "vga", "none"), 0);
    assert_text(&c, "boot: c\nmemory: 512\nvga: none\n\n[snap1]\nboot: c\nmemory: 512\nsnaptime: 1700000000\n");
    gp_pveconf_clear(&c);

    /* no main keys at all: before the first header, never into it */
    parse_str("[snap1]\nmemory: 512\nsnaptime: 1\n", Q, &c);
    assert_int_equal(do_set(&c, "memory", "1024"), 0);
    assert_text(&c, "memory: 1024\n[snap1]\nmemory: 512\nsnaptime: 1\n");
    assert_get(&c, 0, "memory", "1024");
    assert_get(&c, 1, "memory", "512");
    gp_pveconf_clear(&c);

    parse_str("[PENDING]\nmemory: 512\n", Q, &c);
    assert_int_equal(do_set(&c, "memory", "1024"), 0);
    assert_text(&c, "memory: 1024\n[PENDING]\nmemory: 512\n");
    gp_pveconf_clear(&c);

    parse_str("[pve:pending]\nmemory: 512\n", L, &c);
    assert_int_equal(do_set(&c, "memory", "1024"), 0);
    assert_text(&c, "memory: 1024\n[pve:pending]\nmemory: 512\n");
    gp_pveconf_clear(&c);

    /* a description, a blank line, then a snapshot */
    parse_str("#only a description\n\n[snap1]\nmemory: 512\n", Q, &c);
    a = snap_lines(&c);
    assert_int_equal(do_set(&c, "memory", "1024"), 0);
    b = snap_lines(&c);
    at = inserted_at(&a, &b, "description only");
    assert_true(at >= 1 && at <= 2);
    assert_string_equal(b.v[at].p, "memory: 1024");
    assert_tail_same(&a, &b, "description only");
    assert_get(&c, 0, "memory", "1024");
    assert_get(&c, 1, "memory", "512");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    /* the key only in [PENDING] and in a snapshot: a new main line, the others untouched */
    {
        corpus co = load_corpus();
        const cfile *f = corpus_get(&co, "qemu-101-pending-gpu-swap.conf");

        parse_ok(f->data, f->len, f->kind, f->name, &c);
        a = snap_lines(&c);
        assert_int_equal(do_set(&c, "hostpci0", "0000:05:00,pcie=1"), 0);
        b = snap_lines(&c);
        assert_inserted(&a, &b, line_of(&c, "hostpci1: 0000:03:00.0,pcie=1") - 1, "hostpci0 into 101");
        assert_tail_same(&a, &b, "hostpci0 into 101");
        assert_get(&c, 0, "hostpci0", "0000:05:00,pcie=1");
        assert_get(&c, 1, "hostpci0", "0000:04:00,pcie=1");
        free_lines(&a);
        free_lines(&b);
        gp_pveconf_clear(&c);

        f = corpus_get(&co, "qemu-103-snapshots.conf");
        parse_ok(f->data, f->len, f->kind, f->name, &c);
        a = snap_lines(&c);
        assert_int_equal(do_set(&c, "vmstate", "local-lvm:vm-103-state-x"), 0);
        b = snap_lines(&c);
        assert_inserted(&a, &b, line_of(&c, "vmgenid: 7a8b9c0d-1e2f-4a3b-8c5d-6e7f8091a2b3") + 1, "vmstate into 103");
        assert_tail_same(&a, &b, "vmstate into 103");
        free_lines(&a);
        free_lines(&b);
        gp_pveconf_clear(&c);

        /* replacing memory leaves every snapshot's memory alone */
        parse_ok(f->data, f->len, f->kind, f->name, &c);
        a = snap_lines(&c);
        assert_int_equal(do_set(&c, "memory", "32768"), 0);
        b = snap_lines(&c);
        assert_replaced(&a, &b, (long)line_of(&c, "memory: 32768"), "memory in 103");
        assert_int_equal(line_of(&c, "memory: 32768"), 9);
        assert_get(&c, 1, "memory", "16384");
        assert_get(&c, 2, "memory", "24576");
        free_lines(&a);
        free_lines(&b);
        gp_pveconf_clear(&c);

        /* and [PENDING]'s memory too */
        f = corpus_get(&co, "qemu-101-pending-gpu-swap.conf");
        parse_ok(f->data, f->len, f->kind, f->name, &c);
        a = snap_lines(&c);
        assert_int_equal(do_set(&c, "memory", "4096"), 0);
        b = snap_lines(&c);
        assert_replaced(&a, &b, (long)line_of(&c, "memory: 4096"), "memory in 101");
        assert_get(&c, 1, "memory", "12288");
        free_lines(&a);
        free_lines(&b);
        gp_pveconf_clear(&c);
        free_corpus(&co);
    }
}

static void test_set_empty_and_no_newline(void **state)
{
    gp_pveconf c;
    char *s;

    /* an empty file */
    parse_str("", Q, &c);
    assert_int_equal(do_set(&c, "memory", "2048"), 0);
    s = fmt(&c, NULL);
    if (strcmp(s, "memory: 2048\n") != 0 && strcmp(s, "memory: 2048") != 0)
        fail_msg("set into an empty file gave \"%s\"", s);
    free(s);
    assert_int_equal(c.n_lines, 1);
    assert_get(&c, 0, "memory", "2048");
    gp_pveconf_clear(&c);

    /* no final newline: a line in the middle, the last line replaced, a line
     * appended; an edit may add the final newline PVE always writes (§2.6),
     * never glue two lines together */
    parse_str("boot: c\nvga: std", Q, &c);
    assert_int_equal(do_set(&c, "memory", "512"), 0);
    assert_text_nl(&c, "boot: c\nmemory: 512\nvga: std");
    gp_pveconf_clear(&c);

    parse_str("boot: c\nmemory: 512", Q, &c);
    assert_int_equal(do_set(&c, "memory", "1024"), 0);
    assert_text_nl(&c, "boot: c\nmemory: 1024");
    gp_pveconf_clear(&c);

    parse_str("boot: c\nmemory: 512", Q, &c);
    assert_int_equal(do_set(&c, "vga", "none"), 0);
    assert_text_nl(&c, "boot: c\nmemory: 512\nvga: none");
    gp_pveconf_clear(&c);

    parse_str("memory: 1\n\n[s1]\nmemory: 2", Q, &c);
    assert_int_equal(do_set(&c, "vga", "none"), 0);
    assert_text_nl(&c, "memory: 1\nvga: none\n\n[s1]\nmemory: 2");
    gp_pveconf_clear(&c);

    parse_str("boot: c\nmemory: 512", Q, &c);
    assert_int_equal(gp_pveconf_delete(&c, "memory"), 1);
    check_reparse(&c, "delete last");
    assert_text_nl(&c, "boot: c");
    gp_pveconf_clear(&c);

    /* the corpus file without a final newline */
    {
        corpus co = load_corpus();
        const cfile *f = corpus_get(&co, "qemu-111-no-final-newline.conf");

        parse_ok(f->data, f->len, f->kind, f->name, &c);
        assert_false(c.final_newline);
        assert_int_equal(do_set(&c, "vmgenid", "00000000-1111-4222-8333-444444444444"), 0);
        s = fmt(&c, NULL);
        assert_true(strlen(s) == f->len || (strlen(s) == f->len + 1 && s[f->len] == '\n'));
        assert_memory_equal(s, f->data, f->len - 36);
        assert_memory_equal(s + f->len - 36, "00000000-1111-4222-8333-444444444444", 36);
        free(s);
        gp_pveconf_clear(&c);
        free_corpus(&co);
    }
}

static void test_set_einval(void **state)
{
    static const char doc[] = "boot: c\nmemory: 512\n\n[snap1]\nmemory: 256\n";
    static const char *const bad[] = { "", "1024\n", "10\n24", "\n", "1024\r", "a\r\nb" };
    gp_pveconf c;

    parse_str(doc, Q, &c);
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        if (gp_pveconf_set(&c, "memory", bad[i]) != -EINVAL)
            fail_msg("set memory to \"%s\": expected -EINVAL", bad[i]);
        if (gp_pveconf_set(&c, "vga", bad[i]) != -EINVAL)
            fail_msg("set vga to \"%s\": expected -EINVAL", bad[i]);
        assert_text(&c, doc);
    }
    check_reparse(&c, "einval");
    gp_pveconf_clear(&c);

    /* whitespace around a value: refused, or the line still reads back as it
     * says in memory (value without the whitespace) */
    for (int k = 0; k < 2; k++) {
        int r;

        parse_str(doc, Q, &c);
        r = gp_pveconf_set(&c, k ? "memory" : "vga", " 1024 ");
        if (r != -EINVAL) {
            assert_int_equal(r, 0);
            check_reparse(&c, k ? "replace with \" 1024 \"" : "insert \" 1024 \"");
        }
        gp_pveconf_clear(&c);
    }

    /* whitespace only is no value either (PVE trims it): the same answer
     * whether the key exists or not */
    parse_str(doc, Q, &c);
    if (gp_pveconf_set(&c, "vga", "  \t") != -EINVAL)
        fail_msg("inserting vga = \"  \\t\": expected -EINVAL");
    assert_text(&c, doc);
    if (gp_pveconf_set(&c, "memory", "  \t") != -EINVAL)
        fail_msg("replacing memory with \"  \\t\": expected -EINVAL");
    assert_text(&c, doc);
    gp_pveconf_clear(&c);
}

static void test_set_lxc(void **state)
{
    corpus co = load_corpus();
    const cfile *f;
    gp_pveconf c;
    tlines a, b;
    size_t i;

    /* a new devN goes among the sorted keys, before the raw lxc.* lines */
    f = corpus_get(&co, "lxc-200-jellyfin-privileged.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    i = line_of(&c, "features: nesting=1");
    gp_pveconf_clear(&c);
    check_insert_at(f->data, L, "dev0", "/dev/dri/renderD128,gid=104", i);
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    i = line_of(&c, "lxc.cgroup2.devices.allow: c 226:* rwm");
    gp_pveconf_clear(&c);
    check_insert_at(f->data, L, "unprivileged", "0", i);
    check_insert_at(f->data, L, "lxc.apparmor.profile", "unconfined", i + 2);
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    i = line_of(&c, "features: nesting=1");
    gp_pveconf_clear(&c);

    parse_ok(f->data, f->len, f->kind, f->name, &c);
    a = snap_lines(&c);
    assert_int_equal(do_set(&c, "features", "keyctl=1,nesting=1"), 0);
    b = snap_lines(&c);
    assert_replaced(&a, &b, (long)i, "features");
    assert_string_equal(b.v[i].p, "features: keyctl=1,nesting=1");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    /* "lxc.x = v": the key's spelling stays, the value changes */
    f = corpus_get(&co, "lxc-202-custom-idmap.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    i = line_of(&c, "lxc.mount.entry = /dev/dri/renderD128 dev/dri/renderD128 none bind,optional,create=file");
    a = snap_lines(&c);
    assert_int_equal(do_set(&c, "lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir"), 0);
    b = snap_lines(&c);
    assert_replaced(&a, &b, (long)i, "lxc.mount.entry");
    assert_true(has_prefix(b.v[i].p, "lxc.mount.entry"));
    assert_get(&c, 0, "lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    /* [pve:pending] keeps its dev1 and cores */
    f = corpus_get(&co, "lxc-203-pending.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    i = line_of(&c, "features: nesting=1");
    gp_pveconf_clear(&c);
    check_insert_at(f->data, L, "dev1", "/dev/nvidiactl", i);
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    a = snap_lines(&c);
    assert_int_equal(do_set(&c, "cores", "12"), 0);
    b = snap_lines(&c);
    assert_replaced(&a, &b, (long)line_of(&c, "cores: 12"), "cores");
    assert_true(line_of(&c, "cores: 12") < c.sections[1].header);
    assert_get(&c, 1, "cores", "12");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    free_corpus(&co);
}

/* ---- delete -------------------------------------------------------------- */

static void test_delete(void **state)
{
    corpus co = load_corpus();
    const cfile *f;
    gp_pveconf c;
    tlines a, b;
    char *s;

    f = corpus_get(&co, "qemu-103-snapshots.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(gp_pveconf_delete(&c, "vmstate"), 0);
    assert_int_equal(gp_pveconf_delete(&c, "snaptime"), 0);
    assert_int_equal(gp_pveconf_delete(&c, "runningmachine"), 0);
    s = fmt(&c, NULL);
    assert_int_equal(strlen(s), f->len);
    assert_memory_equal(s, f->data, f->len);
    free(s);
    a = snap_lines(&c);
    assert_int_equal(gp_pveconf_delete(&c, "memory"), 1);
    check_reparse(&c, "delete memory");
    b = snap_lines(&c);
    assert_int_equal(b.n, a.n - 1);
    assert_tail_same(&a, &b, "delete memory");
    assert_get(&c, 0, "memory", NULL);
    assert_get(&c, 1, "memory", "16384");
    assert_get(&c, 3, "memory", "24576");
    assert_int_equal(gp_pveconf_delete(&c, "memory"), 0);
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "qemu-101-pending-gpu-swap.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(gp_pveconf_delete(&c, "hostpci0"), 0);     /* only in [PENDING] */
    assert_int_equal(gp_pveconf_delete(&c, "delete"), 0);
    a = snap_lines(&c);
    assert_int_equal(gp_pveconf_delete(&c, "hostpci1"), 1);
    check_reparse(&c, "delete hostpci1");
    b = snap_lines(&c);
    assert_int_equal(b.n, a.n - 1);
    assert_tail_same(&a, &b, "delete hostpci1");
    assert_get(&c, 1, "delete", "balloon,!hostpci1");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    /* duplicates go together; BAD lines and the unknown section stay */
    f = corpus_get(&co, "qemu-113-hand-edited.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    a = snap_lines(&c);
    assert_int_equal(gp_pveconf_delete(&c, "memory"), 1);
    check_reparse(&c, "delete memory twice");
    b = snap_lines(&c);
    assert_int_equal(b.n, a.n - 2);
    assert_tail_same(&a, &b, "delete memory twice");
    for (size_t i = 0, j = 0; i < a.n; i++) {
        if (strcmp(a.v[i].p, "memory: 16384") == 0 && i < a.hdr)
            continue;
        if (strcmp(a.v[i].p, "memory: 20480") == 0)
            continue;
        assert_string_equal(a.v[i].p, b.v[j].p);
        j++;
    }
    assert_get(&c, 0, "memory", NULL);
    assert_get(&c, 2, "memory", "16384");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    /* all of a CT's main-section idmap lines; a snapshot's raw lines stay */
    f = corpus_get(&co, "lxc-202-custom-idmap.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    assert_int_equal(gp_pveconf_delete(&c, "lxc.idmap"), 1);
    check_reparse(&c, "delete lxc.idmap");
    assert_int_equal(c.n_lines, 13);
    assert_get(&c, 0, "lxc.idmap", NULL);
    assert_get(&c, 0, "lxc.cgroup2.devices.allow", "c 226:128 rwm");
    gp_pveconf_clear(&c);

    f = corpus_get(&co, "lxc-204-snapshots.conf");
    parse_ok(f->data, f->len, f->kind, f->name, &c);
    a = snap_lines(&c);
    assert_int_equal(gp_pveconf_delete(&c, "lxc.mount.entry"), 1);
    assert_int_equal(gp_pveconf_delete(&c, "lxc.cgroup2.devices.allow"), 1);
    check_reparse(&c, "delete lxc lines");
    b = snap_lines(&c);
    assert_int_equal(b.n, a.n - 2);
    assert_tail_same(&a, &b, "delete lxc lines");
    assert_get(&c, 1, "lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir");
    free_lines(&a);
    free_lines(&b);
    gp_pveconf_clear(&c);

    free_corpus(&co);
}

/* ---- description encoding ------------------------------------------------ */

static void check_encode(const char *in, const char *out)
{
    char *e = gp_pveconf_text_encode(in), *d;

    assert_non_null(e);
    assert_string_equal(e, out);
    d = gp_pveconf_text_decode(e);
    assert_non_null(d);
    assert_string_equal(d, in);
    free(d);
    free(e);
}

static void check_decode(const char *in, const char *out)
{
    char *d = gp_pveconf_text_decode(in);

    assert_non_null(d);
    assert_string_equal(d, out);
    free(d);
}

static bool is_upper_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F');
}

static void test_text_codec(void **state)
{
    char all[256], *e, *d;

    check_encode("GPU: RTX 4090 \xe2\x80\x93 100%", "GPU%3A RTX 4090 %E2%80%93 100%25");
    check_encode("a\tb", "a%09b");
    check_encode("", "");
    check_encode(" !\"#$&'()*+,-./09;<=>?@AZ[\\]^_`az{|}~", " !\"#$&'()*+,-./09;<=>?@AZ[\\]^_`az{|}~");
    check_encode("\x7f", "%7F");
    check_encode("\x01\n\r", "%01%0A%0D");
    check_encode("J\xc3\xb6rg", "J%C3%B6rg");
    check_encode("\xff", "%FF");
    check_encode("%3A", "%253A");

    check_decode("100%", "100%");
    check_decode("50% off", "50% off");
    check_decode("%zz%4", "%zz%4");
    check_decode("%2", "%2");
    check_decode("%g1x", "%g1x");
    check_decode("%%41", "%A");
    check_decode("%3a%3A", "::");
    check_decode("%C3%89mile", "\xc3\x89mile");
    check_decode("no escapes: here", "no escapes: here");
    check_decode("", "");

    for (int b = 1; b < 256; b++) {
        char in[2] = { (char)b, 0 };

        e = gp_pveconf_text_encode(in);
        assert_non_null(e);
        if (b >= 0x20 && b <= 0x7e && b != '%' && b != ':') {
            assert_string_equal(e, in);
        } else {
            char want[4];

            snprintf(want, sizeof(want), "%%%02X", b);
            assert_string_equal(e, want);
        }
        d = gp_pveconf_text_decode(e);
        assert_non_null(d);
        assert_string_equal(d, in);
        free(d);
        free(e);
    }
    for (int b = 1; b < 256; b++)
        all[b - 1] = (char)b;
    all[255] = '\0';
    e = gp_pveconf_text_encode(all);
    assert_non_null(e);
    for (const char *p = e; *p; p++) {
        assert_true(*p >= 0x20 && *p <= 0x7e && *p != ':');
        if (*p == '%') {
            assert_true(is_upper_hex(p[1]) && is_upper_hex(p[2]));
            p += 2;
        }
    }
    d = gp_pveconf_text_decode(e);
    assert_non_null(d);
    assert_string_equal(d, all);
    free(d);
    free(e);
}

/* ---- limits -------------------------------------------------------------- */

static void test_limits(void **state)
{
    static const char label[] = "/etc/pve/qemu-server/4242.conf";
    size_t n = GP_PVECONF_MAX + 1;
    char *buf = malloc(n), *s;
    gp_error err = { 0 };
    gp_pveconf c;
    size_t len;

    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = i % 80 == 0 ? '#' : i % 80 == 79 ? '\n' : 'x';

    memset(&c, 0, sizeof(c));
    assert_int_equal(gp_pveconf_parse(buf, n, GP_PVECONF_QEMU, label, &c, &err), -EFBIG);
    assert_int_equal(err.code, -EFBIG);
    if (!strstr(err.msg, label))
        fail_msg("the -EFBIG message does not name the file: \"%s\"", err.msg);
    memset(&c, 0, sizeof(c));
    assert_int_equal(gp_pveconf_parse(buf, n, GP_PVECONF_LXC, label, &c, NULL), -EFBIG);

    /* exactly the limit is fine */
    parse_ok(buf, GP_PVECONF_MAX, GP_PVECONF_QEMU, label, &c);
    s = fmt(&c, &len);
    assert_int_equal(len, GP_PVECONF_MAX);
    assert_memory_equal(s, buf, len);
    free(s);
    gp_pveconf_clear(&c);
    free(buf);

    /* a NUL byte: not a text file */
    {
        static const char nul[] = "memory: 1\n\0boot: c\n";
        static const char lxc_label[] = "/etc/pve/lxc/4243.conf";

        memset(&err, 0, sizeof(err));
        memset(&c, 0, sizeof(c));
        assert_int_equal(gp_pveconf_parse(nul, sizeof(nul) - 1, GP_PVECONF_QEMU, label, &c, &err), -EINVAL);
        assert_int_equal(err.code, -EINVAL);
        if (!strstr(err.msg, label))
            fail_msg("the -EINVAL message does not name the file: \"%s\"", err.msg);

        memset(&err, 0, sizeof(err));
        memset(&c, 0, sizeof(c));
        assert_int_equal(gp_pveconf_parse(nul, sizeof(nul) - 1, GP_PVECONF_LXC, lxc_label, &c, &err), -EINVAL);
        assert_non_null(strstr(err.msg, lxc_label));

        memset(&c, 0, sizeof(c));
        assert_int_equal(gp_pveconf_parse("\0", 1, GP_PVECONF_QEMU, label, &c, NULL), -EINVAL);
        memset(&c, 0, sizeof(c));
        assert_int_equal(gp_pveconf_parse("a: 1\n\0", 6, GP_PVECONF_QEMU, label, &c, NULL), -EINVAL);
    }
}

/* ---- robustness ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

typedef struct mbuf {
    char *s;
    size_t n, cap;
} mbuf;

static void mb_reserve(mbuf *b, size_t extra)
{
    if (b->n + extra + 1 > b->cap) {
        b->cap = (b->n + extra + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

static void mb_insert(mbuf *b, size_t at, const char *p, size_t len)
{
    mb_reserve(b, len);
    memmove(b->s + at + len, b->s + at, b->n - at);
    memcpy(b->s + at, p, len);
    b->n += len;
}

static void mutate(mbuf *b)
{
    static const char special[] = "[]:\n#=\r \t";
    size_t at = rnd_below(b->n + 1);

    switch (rnd_below(7)) {
    case 0:     /* flip a byte (never to NUL) */
        if (b->n)
            b->s[rnd_below(b->n)] = (char)(1 + rnd_below(255));
        break;
    case 1:     /* a byte that means something to the parser, replaced */
        if (b->n)
            b->s[rnd_below(b->n)] = special[rnd_below(sizeof(special) - 1)];
        break;
    case 2:
    case 3: {   /* ... or inserted */
        char ch = special[rnd_below(5)];

        mb_insert(b, at, &ch, 1);
        break;
    }
    case 4:     /* truncated */
        b->n = at;
        break;
    case 5: {   /* a range removed */
        size_t len = rnd_below(40);

        if (at + len > b->n)
            len = b->n - at;
        memmove(b->s + at, b->s + at + len, b->n - at - len);
        b->n -= len;
        break;
    }
    case 6: {   /* a piece copied elsewhere (a line, a header) */
        size_t from = rnd_below(b->n + 1), len = rnd_below(60);
        char tmp[64];

        if (from + len > b->n)
            len = b->n - from;
        memcpy(tmp, b->s + from, len);
        mb_insert(b, at, tmp, len);
        break;
    }
    }
}

typedef struct keyset {
    char *v[256];
    size_t n;
} keyset;

static void ks_add(keyset *k, const char *s)
{
    if (k->n < ELEMENTSOF(k->v) && strcmp(s, "delete") != 0) {
        k->v[k->n] = strdup(s);
        assert_non_null(k->v[k->n]);
        k->n++;
    }
}

static void ks_free(keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    k->n = 0;
}

static size_t n_deleted, n_inserted, n_replaced, n_absent;

/* One random set or delete on c, checked against what it may change. */
static void random_edit(gp_pveconf *c, const char *label)
{
    static const char *const qemu_keys[] = { "memory", "hostpci0", "hostpci1", "hostpci10", "args", "agent",
                                             "vga", "affinity", "numa0", "amd-sev", "zz", "a" };
    static const char *const lxc_keys[] = { "memory", "dev0", "dev3", "features", "lxc.mount.entry",
                                            "lxc.cgroup2.devices.allow", "lxc.idmap", "swap", "zz", "arch" };
    static const char *const values[] = { "1", "0000:01:00,pcie=1,x-vga=1", "-cpu 'host,kvm=off' # hash",
                                          "c 226:* rwm", "/dev/dri dev/dri none bind,optional,create=dir",
                                          "u 0 100000 65536", "x:y:z", "[x]", "#not-a-comment", "a = b",
                                          "mapping=gpu-pool,pcie=1" };
    bool lxc = c->kind == GP_PVECONF_LXC;
    keyset ks = { 0 };
    const char *key, *value = values[rnd_below(ELEMENTSOF(values))];
    tlines a, b;
    long found;
    int r;

    for (size_t i = 0; i < (lxc ? ELEMENTSOF(lxc_keys) : ELEMENTSOF(qemu_keys)); i++)
        ks_add(&ks, lxc ? lxc_keys[i] : qemu_keys[i]);
    for (size_t i = 0; i < c->n_lines; i++)
        if (c->lines[i].type == KEY) {
            char *k = key_of(&c->lines[i]);

            ks_add(&ks, k);
            free(k);
        }
    key = ks.v[rnd_below(ks.n)];
    found = gp_pveconf_find(c, 0, key);
    a = snap_lines(c);

    if (rnd_below(3) == 0) {
        size_t removed = 0;
        bool *gone = calloc(a.n + 1, sizeof(bool));

        assert_non_null(gone);
        for (size_t i = 0; i < a.hdr; i++)
            if (c->lines[i].type == KEY && c->lines[i].key_len == strlen(key) &&
                memcmp(c->lines[i].text, key, strlen(key)) == 0) {
                gone[i] = true;
                removed++;
            }
        r = gp_pveconf_delete(c, key);
        if (r != (removed > 0))
            fail_msg("%s: delete %s = %d, %zu lines to remove", label, key, r, removed);
        check_reparse(c, label);
        b = snap_lines(c);
        if (b.n != a.n - removed)
            fail_msg("%s: delete %s: %zu lines -> %zu, expected %zu removed", label, key, a.n, b.n, removed);
        /* every line but the removed ones, in order */
        for (size_t i = 0, j = 0; i < a.n; i++) {
            if (gone[i])
                continue;
            if (!tl_eq(&a.v[i], &b.v[j]))
                fail_msg("%s: delete %s: line %zu \"%s\" -> \"%s\"", label, key, i, a.v[i].p, b.v[j].p);
            j++;
        }
        free(gone);
        if (removed)
            n_deleted++;
        else
            n_absent++;
        assert_tail_same(&a, &b, label);
        assert_get(c, 0, key, NULL);
    } else {
        size_t dups = 0;

        for (size_t i = 0; i < a.hdr; i++)
            if (c->lines[i].type == KEY && c->lines[i].key_len == strlen(key) &&
                memcmp(c->lines[i].text, key, strlen(key)) == 0)
                dups++;
        r = gp_pveconf_set(c, key, value);
        if (r != 0)
            fail_msg("%s: set %s = %d", label, key, r);
        check_reparse(c, label);
        b = snap_lines(c);
        assert_tail_same(&a, &b, label);
        if (found < 0) {
            char want[1024];
            size_t at = inserted_at(&a, &b, label);

            n_inserted++;
            snprintf(want, sizeof(want), "%s: %s", key, value);
            if (strcmp(b.v[at].p, want) != 0 || at > a.hdr)
                fail_msg("%s: set %s: inserted \"%s\" at %zu", label, key, b.v[at].p, at);
        } else if (dups == 1) {
            n_replaced++;
            assert_replaced(&a, &b, found, label);
            if (!has_prefix(b.v[found].p, key))
                fail_msg("%s: set %s: the key's spelling changed: \"%s\"", label, key, b.v[found].p);
        }
        assert_get(c, 0, key, value);
    }
    free_lines(&a);
    free_lines(&b);
    ks_free(&ks);
}

static void test_fuzz(void **state)
{
    corpus co = load_corpus();
    size_t total = 0;

    for (size_t fi = 0; fi < co.n; fi++) {
        const cfile *f = &co.f[fi];

        rng_state = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)(fi + 1) * 0x100000001b3ULL);
        for (int iter = 0; iter < 160; iter++) {
            mbuf b = { 0 };
            gp_pveconf c;
            gp_error err = { 0 };
            char label[600], *s;
            size_t n, nm = 1 + rnd_below(4);
            int r;

            mb_reserve(&b, f->len);
            memcpy(b.s, f->data, f->len);
            b.n = f->len;
            for (size_t m = 0; m < nm; m++)
                mutate(&b);
            snprintf(label, sizeof(label), "%s mutation %d", f->name, iter);

            memset(&c, 0, sizeof(c));
            r = gp_pveconf_parse(b.s, b.n, f->kind, label, &c, &err);
            if (r != 0)
                fail_msg("%s: parse = %d (%s)", label, r, err.msg);
            s = fmt(&c, &n);
            if (n != b.n || memcmp(s, b.s, n) != 0)
                fail_msg("%s: no round trip", label);
            free(s);
            check_struct(&c, label);
            for (int e = 0; e < 3; e++)
                random_edit(&c, label);
            gp_pveconf_clear(&c);
            free(b.s);
            total++;
        }
    }
    print_message("# fuzz: %zu mutated configs; edits: %zu inserted, %zu replaced, %zu deleted, "
                  "%zu deletes of absent keys\n", total, n_inserted, n_replaced, n_deleted, n_absent);
    free_corpus(&co);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_corpus),
        cmocka_unit_test(test_roundtrip_small),
        cmocka_unit_test(test_classify_lines),
        cmocka_unit_test(test_sections_inline),
        cmocka_unit_test(test_classify_corpus),
        cmocka_unit_test(test_get_find),
        cmocka_unit_test(test_set_replace_corpus),
        cmocka_unit_test(test_set_insert_corpus),
        cmocka_unit_test(test_set_insert_sorted),
        cmocka_unit_test(test_set_insert_unsorted),
        cmocka_unit_test(test_set_insert_before_header),
        cmocka_unit_test(test_set_empty_and_no_newline),
        cmocka_unit_test(test_set_einval),
        cmocka_unit_test(test_set_lxc),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_text_codec),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_fuzz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
