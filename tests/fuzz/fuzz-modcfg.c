/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the kernel module configuration parsers (modcfg.h): any
 * bytes as /etc/modules (and modules-load.d with ';' comments), as a
 * modprobe.d file, as a kernel's modules.dep + modules.builtin, and the
 * vfio-pci ids= entries found in options lines. Invariants:
 *   - logical lines: text is NUL-free and of its stated length, at most
 *     GP_MODCFG_LINE_MAX, first <= last physical line, lines in order and
 *     one physical line each without continuation;
 *   - module lists: name is the normalised first word (no '-'), equal to
 *     it under kmod's comparison;
 *   - modprobe.d: a known command, a reason for every bad line, rest
 *     pointing into its line, softdep names normalised;
 *   - ids entries: 2 to 6 fields, absent ones GP_PCI_ANY_ID;
 *   - module index: every name it suggests or globs exists in it or in the
 *     known list, globs sorted.
 * Plain builds replay tests/fuzz/seeds/modcfg.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modcfg.h"

#define FUZZ_NAME "modcfg"
#define FUZZ_TOKENS "\\\n", "\n", "\r\n", "#", ";", " ", "\t", "options ", "vfio-pci ", "ids=", "10de:2684,", \
    "softdep ", "pre: ", "post: ", "blacklist ", "alias ", "install ", "\"", "kernel/drivers/", ".ko:", "-", "*"
#include "fuzz-main.h"

static bool normalised(const char *s)
{
    int depth = 0;

    for (; *s; s++) {
        if (*s == '[')
            depth++;
        else if (*s == ']' && depth)
            depth--;
        else if (*s == '-' && !depth)
            return false;
    }
    return true;
}

static void check_text(const gp_cfgtext *t, bool continuation)
{
    for (size_t i = 0; i < t->n; i++) {
        const gp_cfgline *l = &t->lines[i];

        FUZZ_CHECK(l->text && strlen(l->text) == l->len);
        FUZZ_CHECK(l->len <= GP_MODCFG_LINE_MAX);
        FUZZ_CHECK(l->line >= 1 && l->line <= l->last);
        if (!continuation)
            FUZZ_CHECK(l->line == l->last);
        if (i)
            FUZZ_CHECK(l->line > t->lines[i - 1].last);
    }
}

static bool within(const char *p, const gp_cfgline *l)
{
    return p >= l->text && p <= l->text + l->len;
}

static void check_ids(const char *ids)
{
    char *copy = strdup(ids), *save = NULL;

    FUZZ_CHECK(copy);
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        gp_pci_id_match m;

        if (gp_pci_id_parse(w, &m) < 0)
            continue;
        FUZZ_CHECK(m.n_fields >= 2 && m.n_fields <= 6);
        if (m.n_fields < 3)
            FUZZ_CHECK(m.subvendor == GP_PCI_ANY_ID);
        if (m.n_fields < 4)
            FUZZ_CHECK(m.subdevice == GP_PCI_ANY_ID);
    }
    free(copy);
}

static void check_name(const gp_modindex *x, const char *name)
{
    const char *sug;
    char **v = NULL;
    size_t n = 0;

    (void)gp_modname_valid(name);
    sug = gp_modindex_suggest(x, name);
    if (sug) {
        FUZZ_CHECK(!gp_modname_eq(sug, name));
        FUZZ_CHECK(gp_modindex_lookup(x, sug) != GP_MOD_ABSENT || gp_module_is_known(sug));
    }
    if (gp_modname_is_glob(name) && gp_modindex_glob(x, name, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(v[i] && normalised(v[i]));
            /* (lookup takes names up to GP_MODNAME_MAX; the index keeps longer ones) */
            FUZZ_CHECK(gp_modindex_lookup(x, v[i]) != GP_MOD_ABSENT || gp_module_is_known(v[i]) ||
                       strlen(v[i]) > GP_MODNAME_MAX);
            if (i)
                FUZZ_CHECK(strcmp(v[i - 1], v[i]) <= 0);
        }
        FUZZ_CHECK(!v[n]);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    gp_modlist *ml = NULL;
    gp_modprobe_file *mp = NULL;
    gp_modindex *x = NULL;

    /* the module index of a kernel: the first half as modules.dep, the rest as modules.builtin */
    if (gp_modindex_parse(buf, size / 2, buf + size / 2, size - size / 2, &x) == 0) {
        /* every "path:" line of modules.dep names a module the index has */
        const char *p = buf, *end = buf + size / 2;

        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            char *name = NULL;

            colon = memchr(p, ':', len);
            if (colon && !memchr(p, '\0', len) && gp_modname_from_path(p, (size_t)(colon - p), &name) == 0) {
                FUZZ_CHECK(name && normalised(name));
                free(name);
            }
            p += len + 1;
        }
        (void)gp_modindex_size(x);
    }

    for (int semicolon = 0; semicolon < 2; semicolon++) {
        if (gp_modlist_parse(buf, size, semicolon, &ml) < 0)
            continue;
        check_text(&ml->text, false);
        for (size_t i = 0; i < ml->n; i++) {
            const gp_modlist_entry *e = &ml->v[i];

            FUZZ_CHECK(e->src && e->written && e->name);
            FUZZ_CHECK(e->src >= ml->text.lines && e->src < ml->text.lines + ml->text.n);
            FUZZ_CHECK(!e->src->binary && !e->src->too_long);
            FUZZ_CHECK(normalised(e->name) && gp_modname_eq(e->written, e->name));
            if (!semicolon)
                check_name(x, e->name);
        }
        gp_modlist_free(ml);
        ml = NULL;
    }

    if (gp_modprobe_parse(buf, size, &mp) == 0) {
        check_text(&mp->text, true);
        for (size_t i = 0; i < mp->n; i++) {
            const gp_modprobe_stmt *s = &mp->v[i];

            FUZZ_CHECK(s->cmd < _GP_MODPROBE_MAX && gp_modprobe_cmd_to_string(s->cmd));
            FUZZ_CHECK(s->src >= mp->text.lines && s->src < mp->text.lines + mp->text.n);
            if (s->cmd == GP_MODPROBE_BAD) {
                FUZZ_CHECK(s->why);
                continue;
            }
            FUZZ_CHECK(!s->src->binary);
            FUZZ_CHECK(s->n_words >= 1 && s->words);
            for (size_t w = 0; w < s->n_words; w++)
                FUZZ_CHECK(s->words[w] && s->words[w][0] && !strpbrk(s->words[w], " \t"));
            if (s->module)
                FUZZ_CHECK(normalised(s->module));
            if (s->target)
                FUZZ_CHECK(normalised(s->target));
            if (s->rest)
                FUZZ_CHECK(within(s->rest, s->src));
            for (size_t k = 0; k < s->n_pre; k++)
                FUZZ_CHECK(s->pre[k] && normalised(s->pre[k]));
            for (size_t k = 0; k < s->n_post; k++)
                FUZZ_CHECK(s->post[k] && normalised(s->post[k]));
            if (s->cmd == GP_MODPROBE_OPTIONS) {
                static const char *const params[] = { "ids", "disable_vga", "allow_unsafe_interrupts", "modeset" };

                for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
                    bool oom = false;
                    char *v = gp_modprobe_option(s, params[k], &oom);

                    FUZZ_CHECK(!oom);
                    if (v && k == 0)
                        check_ids(v);
                    free(v);
                }
            }
            if (s->module && (s->cmd == GP_MODPROBE_BLACKLIST || s->cmd == GP_MODPROBE_OPTIONS))
                check_name(x, s->module);
        }
        gp_modprobe_file_free(mp);
    }
    if (x)
        gp_modindex_free(x);
    return 0;
}
