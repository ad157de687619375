/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module lists and modprobe.d files: what the boot does with each line.
 * Facts behind the rules:
 *   - kmod (libkmod-config.c kmod_config_parse) ignores, with "ignoring bad
 *     line starting with ...", every line that is not one of its commands;
 *     blacklist compares one exact module name, so a glob matches nothing.
 *   - vfio_virqfd was merged into vfio in Linux 6.2 (drivers/vfio/Makefile
 *     builds virqfd.o into vfio.ko); listing it makes systemd-modules-load and
 *     update-initramfs report a module that is not found.
 *   - vfio-pci ids= (vfio_pci_fill_ids) is a comma list of
 *     vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex, read
 *     with sscanf: an entry it cannot read is skipped, and trailing junk is
 *     silently dropped. It matches by ID, so it takes every identical card.
 *   - modprobe.d options never reach a built-in module (the kernel reads
 *     built-in parameters from its command line only).
 *   - allow_unsafe_interrupts lets vfio assign devices without interrupt
 *     remapping: a guest's device can then inject arbitrary MSIs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strdist.h"
#include "check.h"
#include "fileio.h"
#include "lint.h"
#include "modcfg.h"

#define REFRESH "update-initramfs -u -k all"
/* Beyond this many bad lines a file is garbage; one more finding says so. */
#define MAX_BAD_LINES 20

typedef struct mod_lint {
    const gp_lint_ctx *ctx;
    const gp_modules_env *env;
    const char *display;
    const char *layer;
    gp_file_type type;
    gp_findings *out;
    unsigned bad_lines;
    unsigned problems;           /* non-pass findings about single lines */
} mod_lint;

static bool strv_has(char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (gp_modname_eq(v[i], name))
            return true;
    return false;
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static gp_finding *add(mod_lint *m, const char *id, gp_severity sev, const char *subject, const char *fmt, ...)
    _printf_(5, 6);
static gp_finding *add(mod_lint *m, const char *id, gp_severity sev, const char *subject, const char *fmt, ...)
{
    gp_finding *f;
    va_list ap;

    if (sev != GP_SEV_PASS)
        m->problems++;
    va_start(ap, fmt);
    f = gp_findings_addv(m->out, m->layer, id, sev, subject, fmt, ap);
    va_end(ap);
    return f;
}

static void evidence(mod_lint *m, gp_finding *f, const gp_cfgline *src)
{
    gp_finding_add_text(m->out, f, m->display, src->line, src->text, src->len);
}

static void fix_replace(mod_lint *m, gp_finding *f, const gp_cfgline *src, const char *new_line)
{
    gp_finding_set_fix(m->out, f, "edit %s line %u to read:\n%s\nthen run: " REFRESH, m->display, src->line,
                       new_line);
}

static void fix_delete(mod_lint *m, gp_finding *f, const gp_cfgline *src)
{
    gp_finding_set_fix(m->out, f, "delete line %u of %s:\n%.*s\nthen run: " REFRESH, src->line, m->display,
                       (int)(src->len > GP_EVIDENCE_TEXT_MAX ? GP_EVIDENCE_TEXT_MAX : src->len), src->text);
}

/* ---- file-level problems ---- */

static void lint_text(mod_lint *m, const gp_cfgtext *t)
{
    const gp_cfgline *first_bin = NULL, *first_cr = NULL;
    unsigned n_bin = 0, n_cr = 0;

    for (size_t i = 0; i < t->n; i++) {
        const gp_cfgline *l = &t->lines[i];
        gp_finding *f;

        if (l->binary && n_bin++ == 0)
            first_bin = l;
        if (l->cr && n_cr++ == 0)
            first_cr = l;
        if (l->too_long && !l->binary) {
            f = add(m, "modules.long-line", GP_SEV_WARN, "line length",
                    "line %u is longer than %u bytes: not a module name or modprobe command", l->line,
                    GP_MODCFG_LINE_MAX);
            evidence(m, f, l);
            fix_delete(m, f, l);
        }
    }
    if (first_bin) {
        gp_finding *f = add(m, "modules.binary", GP_SEV_FAIL, "file content",
                            "%u line%s hold%s binary data (NUL or control bytes): not a text file the boot can read",
                            n_bin, n_bin == 1 ? "" : "s", n_bin == 1 ? "s" : "");

        evidence(m, f, first_bin);
        gp_finding_set_fix(m->out, f, "restore %s from a backup, or remove it:\nrm %s\nthen run: " REFRESH,
                           m->display, m->display);
    }
    if (first_cr) {
        gp_finding *f = add(m, "modules.crlf", GP_SEV_WARN, "line endings",
                            "%u line%s end%s in CRLF (a Windows editor): the '\\r' stays part of the last word, "
                            "so a module name there matches nothing",
                            n_cr, n_cr == 1 ? "" : "s", n_cr == 1 ? "s" : "");

        evidence(m, f, first_cr);
        gp_finding_set_fix(m->out, f, "sed -i 's/\\r$//' %s\nthen run: " REFRESH, m->display);
    }
}

/* ---- names ---- */

/*
 * A module named in a file that this kernel does not have. Returns true when
 * a finding was made. list: the file loads it (a missing module is an error
 * at boot); otherwise a modprobe.d statement about it (dead but harmless).
 */
static bool check_name(mod_lint *m, const gp_cfgline *src, const char *written, bool list,
                       const char *(*fixed_line)(mod_lint *, const gp_cfgline *, const char *, const char *, char **))
{
    const gp_modindex *x = m->env->index;
    const char *sugg;
    gp_finding *f;

    if (gp_modindex_lookup(x, written) != GP_MOD_ABSENT)
        return false;
    sugg = gp_modindex_suggest(x, written);
    if (sugg) {
        _cleanup_free_ char *line = NULL;

        f = add(m, "modules.unknown", GP_SEV_FAIL, "module name",
                "no module \"%s\" %s: a misspelling of %s?", written,
                x ? "in this kernel" : "exists", sugg);
        evidence(m, f, src);
        fixed_line(m, src, written, sugg, &line);
        if (line)
            fix_replace(m, f, src, line);
        return true;
    }
    if (gp_module_is_known(written))
        return false;      /* real, just not built for this kernel (or no index) */
    if (!x) {
        if (!list)
            return false;
        f = add(m, "modules.unknown", GP_SEV_INFO, "module name",
                "\"%s\" is not a module gpupass knows, and there is no module index to look it up in "
                "(lint with --root HOST to check it against a kernel)", written);
        evidence(m, f, src);
        return true;
    }
    if (list) {
        f = add(m, "modules.unknown", GP_SEV_FAIL, "module name",
                "no module \"%s\" in this kernel: loading it at boot fails (\"Module %s not found\")", written,
                written);
        evidence(m, f, src);
        fix_delete(m, f, src);
    } else {
        f = add(m, "modprobe.absent-module", GP_SEV_INFO, "module name",
                "no module \"%s\" in this kernel: the statement does nothing (harmless)", written);
        evidence(m, f, src);
    }
    return true;
}

/* The line with the word `from` replaced by `to` (first occurrence as a word). */
static const char *replace_word(mod_lint *m, const gp_cfgline *src, const char *from, const char *to, char **ret)
{
    const char *t = src->text, *p = t;
    size_t fl = strlen(from);

    *ret = NULL;
    for (;;) {
        p = strstr(p, from);
        if (!p)
            return NULL;
        if ((p == t || p[-1] == ' ' || p[-1] == '\t') && (p[fl] == '\0' || p[fl] == ' ' || p[fl] == '\t'))
            break;
        p += fl;
    }
    if (asprintf(ret, "%.*s%s%s", (int)(p - t), t, to, p + fl) < 0) {
        *ret = NULL;
        m->out->oom = true;
    }
    return *ret;
}

/* vfio_virqfd: a module of its own before 6.2, part of vfio.ko since. */
static bool check_virqfd(mod_lint *m, const gp_cfgline *src, const char *name)
{
    const gp_kver *k = &m->ctx->kver;
    gp_finding *f;

    if (!gp_modname_eq(name, "vfio_virqfd"))
        return false;
    if (gp_kver_known(k) && !gp_kver_at_least(k, 6, 2))
        return false;
    if (gp_kver_known(k))
        f = add(m, "modules.obsolete", GP_SEV_WARN, "vfio_virqfd",
                "vfio_virqfd is part of vfio since Linux 6.2 (this kernel: %s): there is no such module to "
                "load, and the boot reports it as not found", k->release);
    else
        f = add(m, "modules.obsolete", GP_SEV_INFO, "vfio_virqfd",
                "vfio_virqfd is part of vfio since Linux 6.2: on a 6.2 or later kernel (Proxmox VE 8) "
                "this line names a module that does not exist");
    evidence(m, f, src);
    fix_delete(m, f, src);
    return true;
}

/* ---- module lists ---- */

/* Parameter names whose module is certain, for lines that lost it. */
static const char *module_of_param(const gp_lint_ctx *ctx, const char *param)
{
    static const struct {
        const char *param, *module;
    } map[] = {
        { "allow_unsafe_interrupts", "vfio_iommu_type1" }, { "dma_entry_limit", "vfio_iommu_type1" },
        { "ids", "vfio_pci" }, { "disable_vga", "vfio_pci" }, { "disable_idle_d3", "vfio_pci" },
        { "nointxmask", "vfio_pci" }, { "disable_denylist", "vfio_pci" }, { "enable_sriov", "vfio_pci" },
        { "ignore_msrs", "kvm" }, { "report_ignored_msrs", "kvm" },
    };
    size_t n = strcspn(param, "=");

    for (size_t i = 0; i < ELEMENTSOF(map); i++)
        if (strlen(map[i].param) == n && strncmp(param, map[i].param, n) == 0)
            return map[i].module;
    if (n == 6 && strncmp(param, "nested", 6) == 0)
        return ctx->cpu == GP_CPU_AMD ? "kvm_amd" : ctx->cpu == GP_CPU_INTEL ? "kvm_intel" : NULL;
    return NULL;
}

/*
 * What a line that is not what its file wants most likely meant, as an
 * "options" line: "vfio-pci.ids=X" (kernel command line syntax),
 * "allow_unsafe_interrupts=1" (a parameter without its module),
 * "vfio-pci ids=X" (module and parameters without "options").
 */
static char *as_options_line(mod_lint *m, char **words, size_t n)
{
    const char *w0 = words[0], *dot = strchr(w0, '.'), *eq = strchr(w0, '=');
    _cleanup_free_ char *mod = NULL;
    char *line = NULL;
    size_t first = 0;
    size_t len;
    FILE *f;

    if (eq && dot && dot < eq) {
        mod = strndup(w0, (size_t)(dot - w0));
        if (!mod || !gp_modname_valid(mod))
            return NULL;
    } else if (eq) {
        const char *mm = module_of_param(m->ctx, w0);

        mod = strdup(mm ? mm : "<module>");
    } else if (n >= 2 && strchr(words[1], '=') && gp_modname_valid(w0) &&
               (gp_module_is_known(w0) || gp_modindex_lookup(m->env->index, w0) != GP_MOD_ABSENT)) {
        mod = strdup(w0);
        first = 1;
    } else
        return NULL;
    if (!mod) {
        m->out->oom = true;
        return NULL;
    }
    f = open_memstream(&line, &len);
    if (!f) {
        m->out->oom = true;
        return NULL;
    }
    fprintf(f, "options %s", mod);
    for (size_t i = first; i < n; i++) {
        const char *w = words[i], *d = strchr(w, '.'), *e = strchr(w, '=');

        /* "mod.param=value": the module prefix goes, the parameter stays */
        if (d && e && d < e && strncmp(w, mod, (size_t)(d - w)) == 0 && mod[d - w] == '\0')
            w = d + 1;
        fprintf(f, " %s", w);
    }
    if (fclose(f) != 0) {
        free(line);
        m->out->oom = true;
        return NULL;
    }
    return line;
}

static void split_line_words(mod_lint *m, const char *text, char ***ret, size_t *n)
{
    size_t cap = 0;

    *ret = NULL;
    *n = 0;
    for (const char *p = text + strspn(text, " \t"); *p; p += strspn(p, " \t")) {
        size_t wl = strcspn(p, " \t");

        if (*n + 2 > cap) {
            size_t c2 = cap ? cap * 2 : 8;
            char **v = realloc(*ret, c2 * sizeof(char *));

            if (!v)
                goto oom;
            *ret = v;
            cap = c2;
        }
        (*ret)[*n] = strndup(p, wl);
        if (!(*ret)[*n])
            goto oom;
        (*ret)[++*n] = NULL;
        p += wl;
    }
    return;
oom:
    m->out->oom = true;
    gp_strv_free(*ret);
    *ret = NULL;
    *n = 0;
}

static const char *const modprobe_words[] = {
    "alias", "blacklist", "install", "remove", "options", "softdep", "weakdep", NULL,
};

static bool is_modprobe_word(const char *w)
{
    for (size_t i = 0; modprobe_words[i]; i++)
        if (strcmp(w, modprobe_words[i]) == 0)
            return true;
    return false;
}

static void bad_list_line(mod_lint *m, const gp_modlist_entry *e)
{
    _cleanup_strv_ char **words = NULL;
    _cleanup_free_ char *opt = NULL;
    size_t n = 0;
    gp_finding *f;

    if (++m->bad_lines > MAX_BAD_LINES)
        return;
    split_line_words(m, e->src->text, &words, &n);
    for (size_t i = 0; n > 0 && modprobe_words[i]; i++)
        if (strcmp(words[0], modprobe_words[i]) == 0) {
            f = add(m, "modules.bad-line", GP_SEV_FAIL, "module list line",
                    "a modprobe.d command in a module list: this file takes module names only, so the boot "
                    "tries to load a module named \"%s\"", words[0]);
            evidence(m, f, e->src);
            gp_finding_set_fix(m->out, f,
                               "move the line to /etc/modprobe.d/%s.conf:\n%s\nand delete line %u of %s\n"
                               "then run: " REFRESH,
                               n > 1 ? words[1] : "local", e->src->text, e->src->line, m->display);
            return;
        }
    if (n > 0)
        opt = as_options_line(m, words, n);
    if (opt && strchr(words[0], '=')) {
        f = add(m, "modules.bad-line", GP_SEV_FAIL, "module list line",
                "\"%s\" is not a module name: module parameters go in /etc/modprobe.d "
                "(MODULE.PARAM=VALUE is kernel command line syntax)", e->written);
        evidence(m, f, e->src);
        gp_finding_set_fix(m->out, f,
                           "delete line %u of %s and put this line in /etc/modprobe.d/local.conf:\n%s\n"
                           "then run: " REFRESH,
                           e->src->line, m->display, opt);
        return;
    }
    f = add(m, "modules.bad-line", GP_SEV_FAIL, "module list line",
            "\"%s\" is not a module name (letters, digits, '_' and '-' only)", e->written);
    evidence(m, f, e->src);
    fix_delete(m, f, e->src);
}

static const char *fixed_list_line(mod_lint *m, const gp_cfgline *src, const char *from, const char *to, char **ret)
{
    return replace_word(m, src, from, to, ret);
}

static void lint_list(mod_lint *m, const char *buf, size_t len)
{
    _cleanup_modlist_ gp_modlist *l = NULL;
    bool modules_load_d = m->type == GP_FILE_MODULES_LOAD && strstr(m->display, "modules-load.d") != NULL;
    int r;

    /* ';' comments: modules-load.d(5); /etc/modules is read by the same
     * systemd-modules-load on Debian (via /etc/modules-load.d/modules.conf). */
    r = gp_modlist_parse(buf, len, m->type == GP_FILE_MODULES_LOAD, &l);
    if (r < 0) {
        m->out->oom = true;
        return;
    }
    lint_text(m, &l->text);
    for (size_t i = 0; i < l->n; i++) {
        const gp_modlist_entry *e = &l->v[i];
        gp_finding *f;

        if (!gp_modname_valid(e->written) || (e->params && is_modprobe_word(e->written))) {
            bad_list_line(m, e);
            continue;
        }
        if (check_virqfd(m, e->src, e->name))
            continue;
        check_name(m, e->src, e->written, true, fixed_list_line);
        if (e->params && modules_load_d) {
            f = add(m, "modules.params-ignored", GP_SEV_WARN, "module parameters",
                    "modules-load.d files take a module name only: systemd-modules-load looks up "
                    "\"%s %s\" as one name", e->written, e->params);
            evidence(m, f, e->src);
            gp_finding_set_fix(m->out, f,
                               "edit %s line %u to read:\n%s\nand put the parameters in /etc/modprobe.d/%s.conf:\n"
                               "options %s %s\nthen run: " REFRESH,
                               m->display, e->src->line, e->written, e->name, e->written, e->params);
        }
    }
    if (m->bad_lines > MAX_BAD_LINES) {
        gp_finding *f = add(m, "modules.bad-line", GP_SEV_FAIL, "module list line",
                            "%u more lines are not module names", m->bad_lines - MAX_BAD_LINES);

        gp_finding_add_line(m->out, f, m->display, 0, NULL);
    }
    if (m->problems == 0) {
        gp_finding *f = l->n == 0
            ? add(m, "modules.syntax", GP_SEV_PASS, m->display, "no modules listed")
            : add(m, "modules.syntax", GP_SEV_PASS, m->display, "%zu module%s listed, each one known to %s",
                  l->n, l->n == 1 ? "" : "s", m->env->index ? "this kernel" : "gpupass");

        gp_finding_add_line(m->out, f, m->display, 0, NULL);
    }
}

/* ---- modprobe.d ---- */

static const char *fixed_stmt_line(mod_lint *m, const gp_cfgline *src, const char *from, const char *to, char **ret)
{
    return replace_word(m, src, from, to, ret);
}

static void bad_modprobe_line(mod_lint *m, const gp_modprobe_stmt *s)
{
    _cleanup_free_ char *opt = NULL;
    const char *w0 = s->words[0];
    gp_finding *f;

    if (s->src->binary || s->src->too_long)
        return;           /* reported once for the file */
    if (++m->bad_lines > MAX_BAD_LINES)
        return;
    opt = as_options_line(m, s->words, s->n_words);
    if (opt) {
        const char *dot = strchr(w0, '.'), *eq = strchr(w0, '=');

        f = add(m, "modprobe.bad-line", GP_SEV_FAIL, "modprobe.d line",
                "modprobe ignores this line: %s", eq && dot && dot < eq
                    ? "MODULE.PARAM=VALUE is kernel command line syntax; in modprobe.d it is an options line"
                    : eq ? "a parameter needs \"options MODULE\" before it"
                         : "module parameters need \"options\" before the module name");
        evidence(m, f, s->src);
        if (eq && dot && dot < eq)
            gp_finding_set_fix(m->out, f,
                               "edit %s line %u to read:\n%s\nthen run: " REFRESH
                               "\n(or put %s on the kernel command line instead)",
                               m->display, s->src->line, opt, w0);
        else
            fix_replace(m, f, s->src, opt);
        return;
    }
    if (s->n_words >= 1) {
        /* a misspelt command: "blacklsit nouveau", "option vfio-pci ..." */
        for (size_t i = 0; modprobe_words[i]; i++) {
            _cleanup_free_ char *line = NULL;

            if (strlen(w0) < 5 || gp_name_distance(w0, modprobe_words[i], 2) > 2 ||
                strcmp(w0, modprobe_words[i]) == 0)
                continue;
            f = add(m, "modprobe.bad-line", GP_SEV_FAIL, "modprobe.d line",
                    "modprobe ignores this line: \"%s\" is not a modprobe.d command (%s?)", w0,
                    modprobe_words[i]);
            evidence(m, f, s->src);
            if (replace_word(m, s->src, w0, modprobe_words[i], &line))
                fix_replace(m, f, s->src, line);
            return;
        }
    }
    f = add(m, "modprobe.bad-line", GP_SEV_FAIL, "modprobe.d line", "modprobe ignores this line: %s",
            s->why ? s->why : "not a modprobe.d command");
    evidence(m, f, s->src);
    fix_delete(m, f, s->src);
}

static void lint_blacklist(mod_lint *m, const gp_modprobe_stmt *s)
{
    const char *w = s->words[1];
    gp_finding *f;

    if (gp_modname_is_glob(w)) {
        _cleanup_strv_ char **names = NULL;
        _cleanup_free_ char *lines = NULL;
        size_t n = 0, len = 0;
        FILE *mf;

        if (gp_modindex_glob(m->env->index, w, &names, &n) < 0) {
            m->out->oom = true;
            return;
        }
        f = add(m, "modprobe.blacklist-pattern", GP_SEV_WARN, "blacklist",
                "blacklist takes one module name: the pattern \"%s\" blacklists nothing", w);
        evidence(m, f, s->src);
        mf = open_memstream(&lines, &len);
        if (!mf) {
            m->out->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++)
            fprintf(mf, "%sblacklist %s", i ? "\n" : "", names[i]);
        if (fclose(mf) != 0) {
            m->out->oom = true;
            return;
        }
        if (n > 0)
            gp_finding_set_fix(m->out, f, "replace line %u of %s with one line per module:\n%s\nthen run: " REFRESH,
                               s->src->line, m->display, lines);
        else
            gp_finding_set_fix(m->out, f, "replace line %u of %s with one \"blacklist MODULE\" line per module\n"
                               "then run: " REFRESH, s->src->line, m->display);
        return;
    }
    if (!gp_modname_valid(w)) {
        f = add(m, "modprobe.bad-line", GP_SEV_FAIL, "blacklist", "\"%s\" is not a module name", w);
        evidence(m, f, s->src);
        fix_delete(m, f, s->src);
        return;
    }
    if (check_name(m, s->src, w, false, fixed_stmt_line))
        return;
    /* The host's own driver for a device it keeps. */
    for (size_t i = 0; m->ctx->pci && i < m->ctx->pci->n; i++) {
        const gp_pci_dev *d = &m->ctx->pci->devs[i];

        if (d->driver && gp_modname_eq(d->driver, w) && !gp_pci_is_bridge(d)) {
            f = add(m, "modprobe.blacklist-host-driver", GP_SEV_INFO, "blacklist",
                    "%s is blacklisted but drives %s now: after a reboot only an explicit modprobe "
                    "or a dependency loads it", w, d->name);
            evidence(m, f, s->src);
            gp_finding_add_device(m->out, f, d->name);
            return;
        }
    }
}

static void lint_softdep(mod_lint *m, const gp_modprobe_stmt *s)
{
    gp_finding *f;

    if (s->softdep_no_mode || (s->cmd == GP_MODPROBE_SOFTDEP && s->n_pre + s->n_post == 0)) {
        _cleanup_free_ char *line = NULL;

        f = add(m, "modprobe.softdep-syntax", GP_SEV_WARN, "softdep",
                "softdep modules must follow \"pre:\" or \"post:\": modprobe drops the others");
        evidence(m, f, s->src);
        if (asprintf(&line, "softdep %s pre: %s", s->words[1], s->n_words > 2 ? s->words[2] : "vfio-pci") >= 0)
            fix_replace(m, f, s->src, line);
        else
            line = NULL;
    }
    if (check_name(m, s->src, s->words[1], false, fixed_stmt_line))
        return;
    for (size_t i = 2; i < s->n_words; i++)
        if (strcmp(s->words[i], "pre:") != 0 && strcmp(s->words[i], "post:") != 0 &&
            check_name(m, s->src, s->words[i], false, fixed_stmt_line))
            return;
}

/* ---- vfio-pci ids= ---- */

static bool id_matches(const gp_pci_id_match *id, const gp_pci_dev *d)
{
    return (id->vendor == GP_PCI_ANY_ID || id->vendor == d->vendor_id) &&
           (id->device == GP_PCI_ANY_ID || id->device == d->device_id) &&
           (id->subvendor == GP_PCI_ANY_ID || id->subvendor == d->subsys_vendor_id) &&
           (id->subdevice == GP_PCI_ANY_ID || id->subdevice == d->subsys_device_id) &&
           ((d->class_code ^ id->class_code) & id->class_mask) == 0;
}

static bool on_vfio(const gp_pci_dev *d)
{
    return d->driver && gp_modname_eq(d->driver, "vfio_pci");
}

typedef struct ids_list {
    char **v;          /* entries as they must read */
    size_t n;
    bool bad;          /* some entry the kernel skips or misreads */
    const char *first_bad;
} ids_list;

static int ids_push(ids_list *l, const char *s, size_t n)
{
    char **v = realloc(l->v, (l->n + 2) * sizeof(char *));

    if (!v)
        return -ENOMEM;
    l->v = v;
    v[l->n] = strndup(s, n);
    if (!v[l->n])
        return -ENOMEM;
    v[++l->n] = NULL;
    return 0;
}

/* The entry the user most likely meant: "10de-2684", "10de 2684" and
 * "10de2684" all mean 10de:2684. */
static int ids_repair(ids_list *l, const char *e, size_t n)
{
    char hex[2][5];
    size_t runs = 0, run = 0;
    char buf[16];

    for (size_t i = 0; i <= n; i++) {
        bool h = i < n && strchr("0123456789abcdefABCDEF", e[i]) && e[i];

        if (h) {
            if (runs < 2 && run < 4)
                hex[runs][run] = e[i];
            run++;
            continue;
        }
        if (run == 8 && runs == 0) {
            memcpy(hex[0], e + i - 8, 4);
            memcpy(hex[1], e + i - 4, 4);
            hex[0][4] = hex[1][4] = '\0';
            runs = 2;
        } else if (run == 4 && runs < 2) {
            hex[runs][4] = '\0';
            runs++;
        } else if (run > 0)
            return 0;
        run = 0;
    }
    if (runs != 2)
        return 0;
    snprintf(buf, sizeof(buf), "%s:%s", hex[0], hex[1]);
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], buf) == 0)
            return 0;
    return ids_push(l, buf, strlen(buf));
}

/* Reads the ids value and the stray words an unquoted space cut off
 * ("ids=10de:2684, 10de:22ba": the kernel takes "10de:22ba" for an unknown
 * parameter and ignores it). */
static int ids_collect(const char *value, char *const *stray, size_t n_stray, ids_list *l)
{
    int r;

    for (const char *p = value;;) {
        size_t n = strcspn(p, ",");
        _cleanup_free_ char *e = strndup(p, n);
        gp_pci_id_match id;

        if (!e)
            return -ENOMEM;
        if (n > 0) {
            if (gp_pci_id_parse(e, &id) == 0)
                r = ids_push(l, p, n);
            else {
                if (!l->bad)
                    l->first_bad = p;
                l->bad = true;
                /* "a;b": two entries the kernel reads as one */
                r = 0;
                for (const char *q = e; r >= 0 && *q;) {
                    size_t k = strcspn(q, "; \t");

                    if (k > 0) {
                        _cleanup_free_ char *sub = strndup(q, k);

                        if (!sub)
                            return -ENOMEM;
                        r = gp_pci_id_parse(sub, &id) == 0 ? ids_push(l, sub, k) : ids_repair(l, sub, k);
                    }
                    q += k + (q[k] ? 1 : 0);
                }
            }
            if (r < 0)
                return r;
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    for (size_t i = 0; i < n_stray; i++) {
        gp_pci_id_match id;

        if (gp_pci_id_parse(stray[i], &id) == 0) {
            l->bad = true;
            if (!l->first_bad)
                l->first_bad = stray[i];
            r = ids_push(l, stray[i], strlen(stray[i]));
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* "options vfio-pci ids=A,B other=1" with the ids list replaced. */
static char *options_with_ids(mod_lint *m, const gp_modprobe_stmt *s, char *const *ids, size_t n_ids)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);

    if (!f) {
        m->out->oom = true;
        return NULL;
    }
    fprintf(f, "options %s ids=", s->words[1]);
    for (size_t i = 0; i < n_ids; i++)
        fprintf(f, "%s%s", i ? "," : "", ids[i]);
    for (size_t i = 2; i < s->n_words; i++) {
        gp_pci_id_match id;
        const char *w = s->words[i];

        if (strncmp(w, "ids=", 4) == 0 || gp_pci_id_parse(w, &id) == 0)
            continue;
        fprintf(f, " %s", w);
    }
    if (fclose(f) != 0) {
        free(line);
        m->out->oom = true;
        return NULL;
    }
    return line;
}

typedef struct file_order {
    char **blacklisted;
    size_t n_blacklisted;
    char **before_vfio;
    size_t n_before_vfio;
} file_order;

static bool ordered_before_vfio(const mod_lint *m, const file_order *fo, const char *drv)
{
    return strv_has(fo->blacklisted, fo->n_blacklisted, drv) || strv_has(fo->before_vfio, fo->n_before_vfio, drv) ||
           strv_has(m->env->blacklisted, m->env->n_blacklisted, drv) ||
           strv_has(m->env->before_vfio, m->env->n_before_vfio, drv);
}

static void strv_append_unique(mod_lint *m, char ***v, size_t *n, const char *s)
{
    char **nv;

    if (strv_has(*v, *n, s))
        return;
    nv = realloc(*v, (*n + 2) * sizeof(char *));
    if (!nv) {
        m->out->oom = true;
        return;
    }
    *v = nv;
    nv[*n] = strdup(s);
    if (!nv[*n]) {
        m->out->oom = true;
        return;
    }
    nv[++*n] = NULL;
}

static void lint_ids_host(mod_lint *m, const gp_modprobe_stmt *s, const ids_list *ids, const file_order *fo)
{
    const gp_pci_list *pci = m->ctx->pci;
    _cleanup_free_ bool *matched = calloc(pci->n ? pci->n : 1, sizeof(bool));
    _cleanup_free_ bool *intended_slot = calloc(pci->n ? pci->n : 1, sizeof(bool));
    _cleanup_strv_ char **kept_ids = NULL;
    size_t n_kept_ids = 0;
    bool any_absent = false, capture = false;
    gp_finding *f;

    if (!matched || !intended_slot) {
        m->out->oom = true;
        return;
    }
    for (size_t k = 0; k < ids->n; k++) {
        gp_pci_id_match id;
        size_t hits = 0;

        if (gp_pci_id_parse(ids->v[k], &id) < 0)
            continue;
        for (size_t i = 0; i < pci->n; i++)
            if (id_matches(&id, &pci->devs[i])) {
                matched[i] = true;
                hits++;
            }
        if (hits == 0) {
            f = add(m, "modprobe.ids-absent", GP_SEV_WARN, "vfio-pci ids",
                    "no device in this host has the ID %s: the entry binds nothing", ids->v[k]);
            evidence(m, f, s->src);
            any_absent = true;
        } else
            strv_append_unique(m, &kept_ids, &n_kept_ids, ids->v[k]);
    }
    if (any_absent && !ids->bad) {
        _cleanup_free_ char *line = options_with_ids(m, s, kept_ids, n_kept_ids);

        /* the fix goes on the last absent-ID finding */
        if (line && m->out->n > 0 && strcmp(m->out->v[m->out->n - 1].id, "modprobe.ids-absent") == 0)
            fix_replace(m, &m->out->v[m->out->n - 1], s->src, line);
    }

    /* Slots whose functions the ids take. A slot whose display function the
     * host keeps (bound to another driver) while an identical card is on
     * vfio-pci is captured by mistake: ids= cannot tell identical cards apart. */
    size_t gpu_slots = 0, gpu_slots_vfio = 0;

    for (size_t i = 0; i < pci->n; i++)
        if (matched[i] && gp_pci_is_gpu(&pci->devs[i])) {
            gpu_slots++;
            if (on_vfio(&pci->devs[i]))
                gpu_slots_vfio++;
        }
    capture = gpu_slots >= 2 && gpu_slots_vfio < gpu_slots;
    for (size_t i = 0; i < pci->n; i++) {
        const gp_pci_dev *d = &pci->devs[i];

        if (!matched[i])
            continue;
        if (!capture || on_vfio(d) || (gpu_slots_vfio == 0 && d->boot_vga != 1))
            intended_slot[i] = true;
    }
    if (capture) {
        _cleanup_free_ char *fix = NULL, *kept = NULL;
        size_t fl = 0, kl = 0;
        FILE *ff = open_memstream(&fix, &fl), *kf = open_memstream(&kept, &kl);
        bool first = true;

        if (!ff || !kf) {
            if (ff)
                fclose(ff);
            if (kf)
                fclose(kf);
            m->out->oom = true;
            return;
        }
        for (size_t i = 0; i < pci->n; i++)
            if (matched[i] && !intended_slot[i]) {
                fprintf(kf, "%s%s (%s%s)", first ? "" : ", ", pci->devs[i].name,
                        pci->devs[i].driver ? pci->devs[i].driver : "no driver",
                        pci->devs[i].boot_vga == 1 ? ", boot VGA" : "");
                first = false;
            }
        fprintf(ff, "ids= matches identical cards alike; bind the one for the VM by address instead:\n"
                    "delete line %u of %s\napt install driverctl\n", s->src->line, m->display);
        for (size_t i = 0; i < pci->n; i++)
            if (matched[i] && intended_slot[i])
                fprintf(ff, "driverctl set-override %s vfio-pci\n", pci->devs[i].name);
        fprintf(ff, "then run: " REFRESH "\n(or drop the ids= line and let Proxmox VE bind the device to "
                    "vfio-pci when the VM starts)");
        if (fclose(ff) != 0 || fclose(kf) != 0) {
            m->out->oom = true;
            return;
        }
        f = add(m, "modprobe.ids-capture", GP_SEV_WARN, "vfio-pci ids",
                "these IDs also match devices the host keeps: %s would go to vfio-pci at the next boot",
                kept ? kept : "");
        evidence(m, f, s->src);
        for (size_t i = 0; i < pci->n; i++)
            if (matched[i] && !intended_slot[i])
                gp_finding_add_device(m->out, f, pci->devs[i].name);
        gp_finding_set_fix(m->out, f, "%s", fix);
    }

    /* Every function of an intended slot must go: vfio takes a group only
     * when all its endpoints are on vfio drivers. */
    _cleanup_strv_ char **want = NULL;
    size_t n_want = 0;
    bool incomplete = false, reported = false;

    for (size_t k = 0; k < ids->n; k++)
        strv_append_unique(m, &want, &n_want, ids->v[k]);
    for (size_t i = 0; i < pci->n; i++) {
        const gp_pci_dev *d = &pci->devs[i];
        char idbuf[16];

        if (matched[i] || gp_pci_is_bridge(d))
            continue;
        for (size_t j = 0; j < pci->n; j++)
            if (intended_slot[j] && gp_pci_addr_same_slot(&pci->devs[j].addr, &d->addr)) {
                snprintf(idbuf, sizeof(idbuf), "%04x:%04x", d->vendor_id, d->device_id);
                strv_append_unique(m, &want, &n_want, idbuf);
                if (!incomplete) {
                    f = add(m, "modprobe.ids-incomplete", GP_SEV_WARN, "vfio-pci ids",
                            "the ids leave out %s (%s) of the same card: its IOMMU group cannot go to vfio "
                            "while the host drives it", d->name, idbuf);
                    evidence(m, f, s->src);
                    gp_finding_add_device(m->out, f, d->name);
                    incomplete = true;
                }
                break;
            }
    }
    if (incomplete && !ids->bad) {
        _cleanup_free_ char *line = options_with_ids(m, s, want, n_want);

        for (size_t i = m->out->n; line && i-- > 0;)
            if (strcmp(m->out->v[i].id, "modprobe.ids-incomplete") == 0) {
                fix_replace(m, &m->out->v[i], s->src, line);
                break;
            }
    }

    /* Load order: the native driver must not bind first. */
    for (size_t i = 0; i < pci->n && !reported; i++) {
        _cleanup_strv_ char **missing = NULL;
        size_t n_missing = 0;

        if (!intended_slot[i] || !gp_pci_is_gpu(&pci->devs[i]))
            continue;
        for (size_t j = 0; j < pci->n; j++) {
            const char *drv[2];

            if (!intended_slot[j] || !gp_pci_addr_same_slot(&pci->devs[j].addr, &pci->devs[i].addr))
                continue;
            gp_pci_native_drivers(&pci->devs[j], drv);
            for (size_t k = 0; k < 2; k++) {
                if (!drv[k] || ordered_before_vfio(m, fo, drv[k]))
                    continue;
                if (m->env->index && gp_modindex_lookup(m->env->index, drv[k]) == GP_MOD_ABSENT)
                    continue;     /* not installed: cannot bind */
                strv_append_unique(m, &missing, &n_missing, drv[k]);
            }
        }
        if (n_missing == 0)
            continue;
        _cleanup_free_ char *lines = NULL, *names = NULL;
        size_t ll = 0, nl = 0;
        FILE *lf = open_memstream(&lines, &ll), *nf = open_memstream(&names, &nl);

        if (!lf || !nf) {
            if (lf)
                fclose(lf);
            if (nf)
                fclose(nf);
            m->out->oom = true;
            return;
        }
        for (size_t k = 0; k < n_missing; k++) {
            fprintf(lf, "%ssoftdep %s pre: vfio-pci", k ? "\n" : "", missing[k]);
            fprintf(nf, "%s%s", k ? ", " : "", missing[k]);
        }
        if (fclose(lf) != 0 || fclose(nf) != 0) {
            m->out->oom = true;
            return;
        }
        f = add(m, "modprobe.softdep-missing", GP_SEV_WARN, "driver load order",
                "nothing makes vfio-pci load before %s: the host driver may bind %s first at boot", names,
                pci->devs[i].name);
        evidence(m, f, s->src);
        gp_finding_add_device(m->out, f, pci->devs[i].name);
        gp_finding_set_fix(m->out, f, "add to %s:\n%s\nthen run: " REFRESH, m->display, lines);
        reported = true;
    }

    /* Not bound yet: takes effect after the initramfs update and a reboot. */
    if (!capture)
        for (size_t i = 0; i < pci->n; i++)
            if (matched[i] && !on_vfio(&pci->devs[i]) && gp_pci_is_gpu(&pci->devs[i])) {
                f = add(m, "modprobe.ids-pending", GP_SEV_INFO, "vfio-pci ids",
                        "%s is on %s now: these ids give it to vfio-pci after " REFRESH " and a reboot",
                        pci->devs[i].name, pci->devs[i].driver ? pci->devs[i].driver : "no driver");
                evidence(m, f, s->src);
                gp_finding_add_device(m->out, f, pci->devs[i].name);
            }

    if (!any_absent && !capture && !incomplete && !ids->bad) {
        _cleanup_free_ char *list = NULL;
        size_t ll = 0;
        FILE *lf = open_memstream(&list, &ll);
        bool first = true;

        if (!lf) {
            m->out->oom = true;
            return;
        }
        for (size_t i = 0; i < pci->n; i++)
            if (matched[i]) {
                fprintf(lf, "%s%s", first ? "" : ", ", pci->devs[i].name);
                first = false;
            }
        if (fclose(lf) != 0) {
            m->out->oom = true;
            return;
        }
        f = add(m, "modprobe.ids", GP_SEV_PASS, "vfio-pci ids",
                "ids= takes %s: every function of the card, and nothing else", list ? list : "");
        evidence(m, f, s->src);
    }
}

static void lint_vfio_options(mod_lint *m, const gp_modprobe_stmt *s, const file_order *fo)
{
    bool oom = false;
    _cleanup_free_ char *value = gp_modprobe_option(s, "ids", &oom);
    _cleanup_strv_ char **stray = NULL;
    size_t n_stray = 0;
    ids_list ids = { 0 };
    gp_finding *f;

    if (oom)
        m->out->oom = true;
    if (!value)
        return;
    for (size_t i = 2; i < s->n_words; i++)
        if (!strchr(s->words[i], '='))
            strv_append_unique(m, &stray, &n_stray, s->words[i]);
    if (ids_collect(value, stray, n_stray, &ids) < 0) {
        gp_strv_free(ids.v);
        m->out->oom = true;
        return;
    }
    if (ids.bad) {
        _cleanup_free_ char *line = options_with_ids(m, s, ids.v, ids.n);
        size_t bl = ids.first_bad ? strcspn(ids.first_bad, ", \t") : 0;

        f = add(m, "modprobe.ids-syntax", GP_SEV_FAIL, "vfio-pci ids",
                "malformed ids entry \"%.*s\": vfio-pci skips it or reads another ID (the list is "
                "vendor:device[,vendor:device...] in hex, commas only, no spaces)",
                (int)bl, ids.first_bad ? ids.first_bad : "");
        evidence(m, f, s->src);
        if (line && ids.n > 0)
            fix_replace(m, f, s->src, line);
        else
            fix_delete(m, f, s->src);
    }
    if (gp_modindex_lookup(m->env->index, "vfio_pci") == GP_MOD_BUILTIN) {
        _cleanup_free_ char *joined = NULL;
        size_t jl = 0;
        FILE *jf = open_memstream(&joined, &jl);

        if (jf) {
            for (size_t i = 0; i < ids.n; i++)
                fprintf(jf, "%s%s", i ? "," : "", ids.v[i]);
            if (fclose(jf) != 0)
                joined = NULL;
        }
        f = add(m, "modprobe.options-builtin", GP_SEV_WARN, "vfio-pci ids",
                "vfio-pci is built into this kernel: modprobe.d options never reach it");
        evidence(m, f, s->src);
        gp_finding_set_fix(m->out, f, "add to the kernel command line:\nvfio-pci.ids=%s", joined ? joined : "");
    }
    if (m->ctx->pci && ids.n > 0)
        lint_ids_host(m, s, &ids, fo);
    gp_strv_free(ids.v);
}

static void lint_options(mod_lint *m, const gp_modprobe_stmt *s, const file_order *fo)
{
    gp_finding *f;

    if (!gp_modname_valid(s->words[1])) {
        f = add(m, "modprobe.bad-line", GP_SEV_FAIL, "options", "\"%s\" is not a module name", s->words[1]);
        evidence(m, f, s->src);
        fix_delete(m, f, s->src);
        return;
    }
    if (check_name(m, s->src, s->words[1], false, fixed_stmt_line) &&
        gp_modindex_suggest(m->env->index, s->words[1]))
        return;
    if (strcmp(s->module, "vfio_pci") == 0)
        lint_vfio_options(m, s, fo);
    if (strcmp(s->module, "vfio_iommu_type1") == 0) {
        bool oom = false;
        _cleanup_free_ char *v = gp_modprobe_option(s, "allow_unsafe_interrupts", &oom);

        if (oom)
            m->out->oom = true;
        if (v && (strcmp(v, "1") == 0 || strcmp(v, "Y") == 0 || strcmp(v, "y") == 0)) {
            f = add(m, "modprobe.unsafe-interrupts", GP_SEV_WARN, "interrupt remapping",
                    "allow_unsafe_interrupts lets vfio assign devices without interrupt remapping: a device "
                    "in a guest can then inject arbitrary interrupts (MSIs) into the host");
            evidence(m, f, s->src);
            gp_finding_set_fix(m->out, f,
                               "needed only where the platform has no interrupt remapping: enable x2APIC / "
                               "interrupt remapping in the firmware, then delete line %u of %s\nthen run: " REFRESH,
                               s->src->line, m->display);
        }
    }
}

static void lint_modprobe(mod_lint *m, const char *buf, size_t len)
{
    _cleanup_modprobe_file_ gp_modprobe_file *mf = NULL;
    file_order fo = { 0 };
    int r;

    r = gp_modprobe_parse(buf, len, &mf);
    if (r < 0) {
        m->out->oom = true;
        return;
    }
    lint_text(m, &mf->text);
    /* Order statements of this file count wherever they are in it. */
    for (size_t i = 0; i < mf->n; i++) {
        const gp_modprobe_stmt *s = &mf->v[i];

        if (s->cmd == GP_MODPROBE_BLACKLIST && !gp_modname_is_glob(s->module))
            strv_append_unique(m, &fo.blacklisted, &fo.n_blacklisted, s->module);
        if (s->cmd == GP_MODPROBE_SOFTDEP && strv_has(s->pre, s->n_pre, "vfio_pci"))
            strv_append_unique(m, &fo.before_vfio, &fo.n_before_vfio, s->module);
    }
    for (size_t i = 0; i < mf->n; i++) {
        const gp_modprobe_stmt *s = &mf->v[i];

        if (s->src->binary || s->src->too_long)
            continue;
        if (s->cmd != GP_MODPROBE_BAD && s->n_words >= 2 && check_virqfd(m, s->src, s->words[1]))
            continue;
        switch (s->cmd) {
        case GP_MODPROBE_BAD:
            bad_modprobe_line(m, s);
            break;
        case GP_MODPROBE_BLACKLIST:
            lint_blacklist(m, s);
            break;
        case GP_MODPROBE_OPTIONS:
            lint_options(m, s, &fo);
            break;
        case GP_MODPROBE_SOFTDEP:
        case GP_MODPROBE_WEAKDEP:
            lint_softdep(m, s);
            break;
        case GP_MODPROBE_ALIAS:
            if (gp_modname_valid(s->words[2]) && strcmp(s->target, "off") != 0)
                check_name(m, s->src, s->words[2], false, fixed_stmt_line);
            break;
        case GP_MODPROBE_INSTALL:
        case GP_MODPROBE_REMOVE:
            if (gp_modname_valid(s->words[1]))
                check_name(m, s->src, s->words[1], false, fixed_stmt_line);
            break;
        default:
            break;
        }
    }
    if (m->bad_lines > MAX_BAD_LINES) {
        gp_finding *f = add(m, "modprobe.bad-line", GP_SEV_FAIL, "modprobe.d line",
                            "%u more lines that modprobe ignores", m->bad_lines - MAX_BAD_LINES);

        gp_finding_add_line(m->out, f, m->display, 0, NULL);
    }
    if (m->problems == 0) {
        gp_finding *f = add(m, "modprobe.syntax", GP_SEV_PASS, m->display,
                            "%zu statement%s, each one a valid modprobe.d command", mf->n, mf->n == 1 ? "" : "s");

        gp_finding_add_line(m->out, f, m->display, 0, NULL);
    }
    gp_strv_free(fo.blacklisted);
    gp_strv_free(fo.before_vfio);
}

void gp_modules_lint(const gp_lint_ctx *ctx, const gp_modules_env *env, const char *display, const char *layer,
                     gp_file_type t, const char *buf, size_t len, gp_findings *out)
{
    mod_lint m = { .ctx = ctx, .env = env, .display = display, .layer = layer, .type = t, .out = out };

    if (t == GP_FILE_MODPROBE)
        lint_modprobe(&m, buf, len);
    else
        lint_list(&m, buf, len);
}

/* ---- environment ---- */

void gp_modules_env_done(gp_modules_env *env)
{
    if (env->index)
        gp_modindex_free(env->index);
    gp_strv_free(env->blacklisted);
    gp_strv_free(env->before_vfio);
    *env = (gp_modules_env){ 0 };
}

static int env_push(char ***v, size_t *n, const char *s)
{
    return strv_has(*v, *n, s) ? 0 : gp_strv_append(v, n, s, strlen(s));
}

int gp_modules_env_init(const gp_lint_ctx *ctx, const char *skip_base, gp_modules_env *env)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r;

    *env = (gp_modules_env){ 0 };
    if (!ctx->h)
        return 0;
    r = gp_modindex_read(ctx->h, ctx->kver.release, &env->index);
    if (r == -ENOMEM)
        return r;
    if (gp_host_list_dir(ctx->h, "etc/modprobe.d", &names, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_modprobe_file_ gp_modprobe_file *mf = NULL;
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len = 0;

        if (!gp_endswith(names[i], ".conf") || (skip_base && strcmp(names[i], skip_base) == 0))
            continue;
        if (asprintf(&path, "etc/modprobe.d/%s", names[i]) < 0) {
            path = NULL;
            return -ENOMEM;
        }
        if (gp_host_read_file(ctx->h, path, 16u << 20, &buf, &len) < 0)
            continue;
        r = gp_modprobe_parse(buf, len, &mf);
        if (r < 0)
            return r;
        for (size_t j = 0; j < mf->n; j++) {
            const gp_modprobe_stmt *s = &mf->v[j];

            r = 0;
            if (s->cmd == GP_MODPROBE_BLACKLIST && !gp_modname_is_glob(s->module))
                r = env_push(&env->blacklisted, &env->n_blacklisted, s->module);
            else if (s->cmd == GP_MODPROBE_SOFTDEP && strv_has(s->pre, s->n_pre, "vfio_pci"))
                r = env_push(&env->before_vfio, &env->n_before_vfio, s->module);
            else if (s->cmd == GP_MODPROBE_OPTIONS && strcmp(s->module, "vfio_pci") == 0) {
                bool oom = false;
                _cleanup_free_ char *v = gp_modprobe_option(s, "ids", &oom);

                if (oom)
                    return -ENOMEM;
                if (v && *v)
                    env->ids_configured = true;
            }
            if (r < 0)
                return r;
        }
    }
    return 0;
}

void gp_lint_modules_file(const gp_lint_ctx *ctx, const char *display, gp_file_type t, const char *buf, size_t len,
                          gp_findings *out)
{
    gp_modules_env env;

    if (gp_modules_env_init(ctx, t == GP_FILE_MODPROBE ? basename_of(display) : NULL, &env) < 0) {
        gp_modules_env_done(&env);
        out->oom = true;
        return;
    }
    gp_modules_lint(ctx, &env, display, display, t, buf, len, out);
    gp_modules_env_done(&env);
}
