/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the kernel command line parsers (cmdline.h): any bytes
 * as a command line (/proc/cmdline, /etc/kernel/cmdline for systemd-boot
 * via proxmox-boot-tool) and as a GRUB defaults file (/etc/default/grub,
 * grub.d snippets: the shell-fragment parser), then the rules and the fix
 * builders over what came out. Invariants:
 *   - split: each word has a name and its raw text; a value only with '=';
 *     get(name) is the last word of that name; has() agrees with get();
 *     name_eq is reflexive and symmetric, param_eq reflexive;
 *   - GRUB: assignments have a name, value and literal strings of their
 *     stated length with one origin per byte, lines within the file; each
 *     issue and each command-line word names a line gp_grub_line() returns
 *     from inside the file's buffer; a second snippet parses on top;
 *   - vfio-pci ids: a parsed entry has 2 to 6 fields;
 *   - value_valid's bad word fits its buffer; a typo suggestion is known;
 *   - the fixes and the judges run on anything (NULL only on ENOMEM).
 * Plain builds replay tests/fuzz/seeds/cmdline (GRUB files, kernel cmdline
 * files and /proc/cmdline copies from tests/lint, tests/hosts, tests/setup).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

#define FUZZ_NAME "cmdline"
#define FUZZ_TOKENS "\"", "'", "\\", "\n", "$", "${", "}", "$(", ")", "`", "=", " ", "GRUB_CMDLINE_LINUX_DEFAULT=", \
    "GRUB_CMDLINE_LINUX=", "export ", "intel_iommu=on", "vfio-pci.ids=", "10de:2684,", ":", "#", "root="
#include "fuzz-main.h"

static char *fix_cb(const void *data, const gp_cmdline_edit *e)
{
    return gp_cmdline_generic_fix(data, e);
}

static void check_grub(const gp_grub *g)
{
    size_t len;
    const char *t;

    for (size_t i = 0; i < g->n_a; i++) {
        const gp_grub_assign *a = &g->a[i];

        FUZZ_CHECK(a->name && a->name[0]);
        FUZZ_CHECK(a->file < g->n_files && a->line >= 1 && a->line <= a->line_end);
        FUZZ_CHECK(a->line_end <= g->files[a->file].n_lines);
        FUZZ_CHECK(!a->value.n || (a->value.s && a->value.o && a->value.n <= a->value.cap));
        FUZZ_CHECK(!a->literal.n || (a->literal.s && a->literal.o && a->literal.n <= a->literal.cap));
        FUZZ_CHECK(gp_grub_get(g, a->name));
    }
    for (size_t i = 0; i < g->n_issues; i++) {
        const gp_grub_issue *is = &g->issues[i];

        FUZZ_CHECK(is->file < g->n_files);
        FUZZ_CHECK(memchr(is->detail, '\0', sizeof(is->detail)));
        FUZZ_CHECK(is->assign >= -1 && is->assign < (int)g->n_a);
        t = gp_grub_line(g, is->file, is->line, &len);
        if (t) {
            const gp_grub_file *f = &g->files[is->file];

            FUZZ_CHECK(t >= f->buf && t + len <= f->buf + f->len);
        }
    }
    for (size_t i = 0; i < g->n_files; i++) {
        const gp_grub_file *f = &g->files[i];

        FUZZ_CHECK(f->n_lines >= 1 || f->len == 0);
        for (size_t l = 0; l < f->n_lines; l++) {
            FUZZ_CHECK(f->lines[l] <= f->len);
            if (l)
                FUZZ_CHECK(f->lines[l] > f->lines[l - 1]);
        }
    }
}

static void check_split(const gp_cmdline *c, const char *s, size_t size, bool nul)
{
    for (size_t i = 0; i < c->n; i++) {
        const gp_cmdline_param *p = &c->v[i], *last;

        FUZZ_CHECK(p->name && p->raw && p->raw[0]);
        /* (a NUL inside quotes stays in the word, and its C strings end there) */
        FUZZ_CHECK(!p->value || strchr(p->raw, '=') || nul);
        FUZZ_CHECK(gp_cmdline_name_eq(p->name, p->name));
        FUZZ_CHECK(gp_cmdline_param_eq(p, p));
        last = gp_cmdline_get(c, p->name);
        FUZZ_CHECK(last && last >= p && gp_cmdline_name_eq(last->name, p->name));
        FUZZ_CHECK(gp_cmdline_name_eq(p->name, c->v[0].name) == gp_cmdline_name_eq(c->v[0].name, p->name));
        for (const gp_cmdline_param *q = last + 1; q < c->v + c->n; q++)
            FUZZ_CHECK(!gp_cmdline_name_eq(q->name, p->name));
        if (s && !memchr(s, '\0', size)) {
            FUZZ_CHECK(gp_cmdline_has(s, p->name, NULL));
            if (last->value)
                FUZZ_CHECK(gp_cmdline_has(s, p->name, last->value));
        }
        if (p->value) {
            char bad[64];
            const char *typo;

            if (!gp_cmdline_value_valid(p->name, p->value, bad, sizeof(bad)))
                FUZZ_CHECK(memchr(bad, '\0', sizeof(bad)));
            (void)gp_cmdline_value_has_word(p->value, "on");
            typo = gp_cmdline_typo(p->name);
            FUZZ_CHECK(!typo || gp_cmdline_param_known(typo));
            (void)gp_cmdline_param_relevant(p->name);
            if (gp_cmdline_name_eq(p->name, "vfio-pci.ids")) {
                for (const char *w = p->value; *w;) {
                    size_t k = strcspn(w, ",");
                    gp_vfio_id id;

                    if (gp_vfio_id_parse(w, k, &id) == 0)
                        FUZZ_CHECK(id.fields >= 2 && id.fields <= 6);
                    w += k;
                    if (*w)
                        w++;
                }
            }
        }
    }
}

static void check_cmdline_words(const gp_grub *g, const gp_cmdline *c)
{
    for (size_t i = 0; i < c->n; i++)
        FUZZ_CHECK(c->v[i].name && c->v[i].raw);
    (void)g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *fix;
    gp_cmdline c = { 0 }, gc = { 0 };
    gp_grub g = { 0 };
    gp_findings out = { 0 };
    gp_kver kv;
    const char *add[] = { "intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:2684,10de:22ba", NULL };
    const char *remove[] = { "nomodeset", NULL, NULL };
    const char *drop[] = { NULL, NULL };
    gp_cmdline_edit e = { .add = add, .remove = remove, .drop = drop };
    gp_cmdline_judge j = { .layer = "fuzz", .cpu = size & 1 ? 1 : 2, .kver = &kv, .fix = fix_cb };

    if (!s)
        return 0;
    FUZZ_CHECK(gp_kver_parse("6.8.12-4-pve", &kv) == 0);

    /* as a command line */
    if (gp_cmdline_split(&c, s, size) == 0) {
        check_split(&c, s, size, memchr(s, '\0', size) != NULL);
        if (c.n) {
            remove[1] = c.v[0].name;
            e.replace_old = c.v[c.n - 1].raw;
            e.replace_new = "quiet";
            drop[0] = c.v[c.n / 2].raw;
        }
        gp_cmdline_judge_params(&j, &c, &out);
    }
    fix = gp_kernel_cmdline_fix("/etc/kernel/cmdline", s, size, NULL, &e);
    FUZZ_CHECK(fix);
    free(fix);
    fix = gp_kernel_cmdline_fix("/etc/kernel/cmdline", NULL, 0, s, &e);
    FUZZ_CHECK(fix);
    free(fix);
    fix = gp_cmdline_generic_fix(NULL, &e);
    FUZZ_CHECK(fix);
    free(fix);
    gp_kernel_cmdline_judge(&j, "/etc/kernel/cmdline", s, size, "root=/dev/sda1 ro quiet", &out);

    /* as /etc/default/grub, then the same bytes as a grub.d snippet */
    if (gp_grub_parse(&g, "/etc/default/grub", s, size) == 0 &&
        gp_grub_parse(&g, "/etc/default/grub.d/fuzz.cfg", s, size / 2) == 0) {
        check_grub(&g);
        if (gp_grub_cmdline(&g, &gc) == 0) {
            check_cmdline_words(&g, &gc);
            check_split(&gc, NULL, 0, memchr(s, '\0', size) != NULL);
            for (size_t i = 0; i < gc.n; i++) {
                size_t len;
                const char *t;

                if (!gc.v[i].file)
                    continue;
                FUZZ_CHECK(gc.v[i].line >= 1);
                t = gc.v[i].line_text;
                if (t) {
                    bool inside = false;

                    for (size_t f = 0; f < g.n_files; f++)
                        if (t >= g.files[f].buf && t + gc.v[i].line_len <= g.files[f].buf + g.files[f].len)
                            inside = true;
                    FUZZ_CHECK(inside);
                }
                (void)gp_grub_line(&g, 0, gc.v[i].line, &len);
            }
        }
        fix = gp_grub_fix(&g, &e);
        FUZZ_CHECK(fix);
        free(fix);
        gp_grub_judge_issues(&j, &g, &out);
    }
    FUZZ_CHECK(!out.oom);
    gp_findings_clear(&out);
    gp_grub_done(&g);
    gp_cmdline_done(&gc);
    gp_cmdline_done(&c);
    free(s);
    return 0;
}
