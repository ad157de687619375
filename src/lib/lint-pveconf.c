/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parts of the VM and container linters that do not depend on the
 * guest type: one guest's findings and evidence, malformed lines, and the
 * walk over this node's configs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "lint-pveconf.h"
#include "pveguest.h"

int gp_pvelint_open(gp_pvelint *g, const gp_pvelint_kind *k, const gp_check_ctx *ctx, const char *label,
                    unsigned id, const char *buf, size_t len, gp_findings *out, gp_finding **ret_bad)
{
    gp_error err = { 0 };
    char bad_id[32];
    int r;

    *g = (gp_pvelint){ .kind = k, .ctx = ctx, .label = label, .id = id, .out = out, .first = out->n };
    *ret_bad = NULL;
    if (id) {
        snprintf(g->id_s, sizeof(g->id_s), "%u", id);
        snprintf(g->layer, sizeof(g->layer), "%s %u", k->name, id);
    } else {
        snprintf(g->id_s, sizeof(g->id_s), "%s", k->id_name);
        snprintf(g->layer, sizeof(g->layer), "%.*s", k->label_max, label);
    }
    r = gp_pveconf_parse(buf, len, k->conf, label, &g->conf, &err);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        snprintf(bad_id, sizeof(bad_id), "%s.bad-file", k->prefix);
        *ret_bad = gp_pvelint_add(g, bad_id, GP_SEV_FAIL, "config syntax", "%s", gp_error_message(&err));
        gp_finding_add_line(out, *ret_bad, label, 0, NULL);
        return 1;
    }
    return 0;
}

gp_finding *gp_pvelint_add(gp_pvelint *g, const char *id, gp_severity sev, const char *subject, const char *fmt, ...)
{
    gp_finding *f;
    va_list ap;

    va_start(ap, fmt);
    f = gp_findings_addv(g->out, g->layer, id, sev, subject, fmt, ap);
    va_end(ap);
    return f;
}

void gp_pvelint_add_line(gp_pvelint *g, gp_finding *f, size_t idx)
{
    const gp_pveconf_line *l = &g->conf.lines[idx];

    gp_finding_add_text(g->out, f, g->label, (unsigned)idx + 1, l->text, l->len);
}

/*
 * What a malformed line most likely meant: leading blanks dropped, the key
 * lower-cased, "key value" or "key=value" turned into "key: value". Only
 * offered when the result is a key the schema knows, with a value.
 */
static bool bad_line_guess(const gp_pvelint_kind *k, const gp_pveconf_line *l, char *buf, size_t size)
{
    const char *t = l->text, *end = l->text + l->len;
    char key[96];
    size_t n = 0;

    while (t < end && isspace((unsigned char)*t))
        t++;
    /* Raw LXC keys have dots ("lxc.mount.entry"); a VM key with one is
     * unknown anyway, so one alphabet serves both. */
    while (t < end && (isalnum((unsigned char)*t) || *t == '_' || *t == '.' || *t == '-') && n + 1 < sizeof(key))
        key[n++] = (char)tolower((unsigned char)*t++);
    key[n] = '\0';
    if (n == 0 || !k->key_known(key))
        return false;
    if (t >= end || (*t != ':' && *t != '=' && !isspace((unsigned char)*t)))
        return false;
    /* "key : value" is the same setting with a stray blank. */
    while (t < end && isspace((unsigned char)*t))
        t++;
    if (t < end && (*t == ':' || *t == '='))
        t++;
    while (t < end && isspace((unsigned char)*t))
        t++;
    while (end > t && isspace((unsigned char)end[-1]))
        end--;
    if (t == end)
        return false;
    snprintf(buf, size, "%s: %.*s", key, (int)(end - t), t);
    return true;
}

void gp_pvelint_bad_lines(gp_pvelint *g)
{
    char id[32];

    snprintf(id, sizeof(id), "%s.bad-line", g->kind->prefix);
    for (size_t i = 0; i < g->conf.n_lines; i++) {
        const gp_pveconf_line *l = &g->conf.lines[i];
        const gp_pveconf_section *s = &g->conf.sections[l->section];
        char guess[600], where[200] = "";
        gp_finding *f;

        if (l->type != GP_PVECONF_LINE_BAD)
            continue;
        if (s->type != GP_PVECONF_SECTION_MAIN)
            snprintf(where, sizeof(where), " (in [%.150s])", s->name ? s->name : "?");
        /* parse_vm_config and parse_pct_config skip a line they cannot
         * parse ("unable to parse"), so the setting is not in force, and
         * PVE's next write of the file drops it. */
        f = gp_pvelint_add(g, id, GP_SEV_FAIL, "config syntax",
                           "line %zu%s is not a setting PVE can read: %s; PVE ignores it and drops it on its next "
                           "write", i + 1, where, l->why_bad ? l->why_bad : "malformed");
        gp_pvelint_add_line(g, f, i);
        if (bad_line_guess(g->kind, l, guess, sizeof(guess)))
            gp_finding_set_fix(g->out, f, "line %zu should read: %s", i + 1, guess);
        else
            gp_finding_set_fix(g->out, f, "delete line %zu of %s (or write it as \"key: value\" with a key PVE knows)",
                               i + 1, g->label);
    }
}

bool gp_pvelint_holds(const gp_pvelint *g)
{
    for (size_t i = g->first; i < g->out->n; i++)
        if (g->out->v[i].severity == GP_SEV_WARN || g->out->v[i].severity == GP_SEV_FAIL)
            return false;
    return true;
}

void gp_pvelint_shell_word(const char *s, char *buf, size_t size)
{
    size_t o = 0;

    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,:=/+@%-") == strlen(s)) {
        snprintf(buf, size, "%s", s);
        return;
    }
    if (size < 3) {
        if (size)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '\'';
    for (; *s && o + 6 < size; s++) {
        if (*s == '\'') {
            memcpy(buf + o, "'\\''", 4);
            o += 4;
        } else
            buf[o++] = *s;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

int gp_pvelint_plan_notes(gp_plan *plan, const gp_check_ctx *ctx, gp_pvelint_config_fn *lint, const char *cmd,
                          const char *rel, unsigned id, const char *conf, size_t len, gp_severity min,
                          const char *const *skip)
{
    _cleanup_findings_ gp_findings f = { 0 };
    char label[512];
    int r;

    snprintf(label, sizeof(label), "/%s", rel);
    r = lint(ctx, label, id, conf, len, &f);
    for (size_t i = 0; r >= 0 && i < f.n; i++) {
        bool skipped = false;

        for (const char *const *s = skip; s && *s && !skipped; s++)
            skipped = strcmp(f.v[i].id, *s) == 0;
        if (f.v[i].severity >= min && !skipped)
            r = gp_plan_add_note(plan, "still to fix by hand (gpupass %s %u): %s", cmd, id, f.v[i].title);
    }
    return r;
}

/* ---- the configs of this node ---- */

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return x < y ? -1 : x > y;
}

/* Reads rel and hands it to fn; a file that cannot be read is a finding. */
static int lint_file(const gp_check_ctx *ctx, const gp_pvelint_kind *k, const char *rel, unsigned id,
                     gp_pvelint_fn *fn, void *data, gp_findings *out)
{
    _cleanup_free_ char *buf = NULL, *label = NULL;
    size_t len = 0;
    int r;

    if (asprintf(&label, "/%s", rel) < 0) {
        label = NULL;
        return -ENOMEM;
    }
    r = gp_host_read_file(ctx->h, rel, GP_PVECONF_MAX + 1, &buf, &len);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        char layer[32], fid[32];
        gp_finding *f;

        snprintf(layer, sizeof(layer), "%s %u", k->name, id);
        snprintf(fid, sizeof(fid), "%s.unreadable", k->prefix);
        f = gp_findings_add(out, layer, fid, GP_SEV_FAIL, "config", "cannot read %s: %s%s", label, strerror(-r),
                            r == -EFBIG ? " (over the 1 MiB pmxcfs holds)" : "");
        gp_finding_add_line(out, f, label, 0, NULL);
        gp_finding_set_fix(out, f, "systemctl status pve-cluster   # /etc/pve is served by pmxcfs");
        return gp_findings_status(out);
    }
    return fn(ctx, data, label, id, buf, len, out);
}

/* The IDs of the "<id>.conf" files in dir, sorted, malloc'd in *ret; the
 * directory not being readable is a finding (*ret NULL then). */
static int list_ids(const gp_check_ctx *ctx, const gp_pvelint_kind *k, char **dir, unsigned **ret, size_t *ret_n,
                    gp_findings *out)
{
    _cleanup_strv_ char **files = NULL;
    _cleanup_free_ unsigned *all = NULL;
    size_t n_files = 0, n_all = 0;
    int r;

    *ret = NULL;
    *ret_n = 0;
    r = gp_host_list_dir(ctx->h, *dir, &files, &n_files);
    if ((r == -ENOENT || r == -ENOTDIR) && k->node_dir) {
        _cleanup_free_ char *node = gp_pve_node_name(ctx->h);

        if (node) {
            free(*dir);
            if (asprintf(dir, "etc/pve/nodes/%s/%s", node, k->node_dir) < 0) {
                *dir = NULL;
                return -ENOMEM;
            }
            r = gp_host_list_dir(ctx->h, *dir, &files, &n_files);
        }
    }
    if (r == -ENOMEM)
        return r;
    if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
        char fid[32];
        gp_finding *f;

        snprintf(fid, sizeof(fid), "%s.unreadable", k->prefix);
        f = gp_findings_add(out, GP_LAYER_PVE, fid, GP_SEV_FAIL, k->subject,
                            "cannot read /%s: %s (is pve-cluster running?)", *dir, strerror(-r));
        gp_finding_set_fix(out, f, "systemctl status pve-cluster   # /etc/pve is served by pmxcfs");
        return gp_findings_status(out);
    }
    all = calloc(n_files ? n_files : 1, sizeof(*all));
    if (!all)
        return -ENOMEM;
    /* Only "<id>.conf" is a guest config (parse_vm_config,
     * parse_pct_config); CTIDs share the VMID space. */
    for (char **f = files; f && *f; f++) {
        _cleanup_free_ char *id = NULL;

        if (!gp_endswith(*f, ".conf"))
            continue;
        id = strndup(*f, strlen(*f) - 5);
        if (!id)
            return -ENOMEM;
        if (gp_pve_vmid_parse(id, &all[n_all]))
            n_all++;
    }
    qsort(all, n_all, sizeof(*all), cmp_unsigned);
    *ret = TAKE_PTR(all);
    *ret_n = n_all;
    return 0;
}

static int lint_dir(const gp_check_ctx *ctx, const gp_pvelint_kind *k, gp_pvelint_fn *fn, void *data,
                    gp_findings *out)
{
    _cleanup_free_ unsigned *all = NULL;
    _cleanup_free_ char *dir = strdup(k->dir);
    size_t n_all = 0;
    int r;

    if (!dir)
        return -ENOMEM;
    r = list_ids(ctx, k, &dir, &all, &n_all, out);
    if (r < 0 || !all)
        return r;
    if (n_all == 0) {
        char fid[32];

        snprintf(fid, sizeof(fid), "%s.none", k->prefix);
        gp_findings_add(out, GP_LAYER_PVE, fid, GP_SEV_INFO, k->subject, "this node has no %s in /%s", k->plural,
                        k->dir);
    }
    for (size_t i = 0; i < n_all; i++) {
        char rel[300];

        snprintf(rel, sizeof(rel), "%s/%u.conf", dir, all[i]);
        if ((r = lint_file(ctx, k, rel, all[i], fn, data, out)) < 0)
            return r;
    }
    return 0;
}

int gp_pvelint_configs(const gp_check_ctx *ctx, const gp_pvelint_kind *k, const unsigned *ids, size_t n,
                       gp_pvelint_fn *fn, void *data, gp_findings *out)
{
    int r;

    if (!ids || n == 0) {
        r = lint_dir(ctx, k, fn, data, out);
        return r < 0 ? r : gp_findings_status(out);
    }
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *path = NULL;
        gp_error err = { 0 };

        r = k->locate(ctx->h, ids[i], &path, &err);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            char layer[32], fid[32];
            gp_finding *f;

            snprintf(layer, sizeof(layer), "%s %u", k->name, ids[i]);
            snprintf(fid, sizeof(fid), "%s.not-found", k->prefix);
            f = gp_findings_add(out, layer, fid, GP_SEV_FAIL, "config", "%s", gp_error_message(&err));
            gp_finding_set_fix(out, f, "%s", k->list_fix);
            continue;
        }
        if ((r = lint_file(ctx, k, path, ids[i], fn, data, out)) < 0)
            return r;
    }
    return gp_findings_status(out);
}
