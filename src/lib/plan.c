/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan.h"
#include "shared/macro.h"

/* Configuration files are small; a bigger one is not what we think it is. */
#define PLAN_FILE_MAX (16u * 1024 * 1024)

static char *memdup0(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static gp_plan_file *plan_find(gp_plan *p, const char *path)
{
    for (size_t i = 0; i < p->n_files; i++)
        if (strcmp(p->files[i].path, path) == 0)
            return &p->files[i];
    return NULL;
}

/* Whether "a; b; c" already holds why as one of its parts. */
static bool why_has(const char *list, const char *why)
{
    size_t n = strlen(why);

    for (const char *p = list; *p;) {
        const char *end = strstr(p, "; ");
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == n && memcmp(p, why, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 2;
    }
    return false;
}

bool gp_plan_file_changes(const gp_plan_file *f)
{
    return !f->existed || f->old_len != f->new_len || memcmp(f->old, f->new, f->new_len) != 0;
}

int gp_plan_set_file(gp_plan *p, const gp_host *h, const char *path, const char *content, size_t len, mode_t mode,
                     const char *why, gp_error *err)
{
    gp_plan_file *f = plan_find(p, path);
    char *nc;

    if (!f) {
        gp_plan_file nf = { .mode = mode };
        int r = gp_host_read_file(h, path, PLAN_FILE_MAX, &nf.old, &nf.old_len);

        if (r == -ENOMEM)
            return r;
        if (r == -ENOENT)
            nf.existed = false;
        else if (r < 0)
            return gp_error_set(err, -EIO, "/%s: cannot read it (%s); gpupass changes only files it can read whole",
                                path, strerror(-r));
        else
            nf.existed = true;
        nf.path = strdup(path);
        nf.why = strdup(why ? why : "");
        f = realloc(p->files, (p->n_files + 1) * sizeof(*f));
        if (!nf.path || !nf.why || !f) {
            free(nf.path);
            free(nf.why);
            free(nf.old);
            if (f)
                p->files = f;
            return -ENOMEM;
        }
        p->files = f;
        f = &p->files[p->n_files++];
        *f = nf;
    } else if (why && *why && !why_has(f->why, why)) {
        char *w = NULL;

        if (asprintf(&w, *f->why ? "%s; %s" : "%s%s", f->why, why) < 0)
            return -ENOMEM;
        free(f->why);
        f->why = w;
    }
    nc = memdup0(content, len);
    if (!nc)
        return -ENOMEM;
    free(f->new);
    f->new = nc;
    f->new_len = len;
    return gp_plan_file_changes(f) ? 1 : 0;
}

int gp_plan_content(gp_plan *p, const gp_host *h, const char *path, const char **ret, size_t *ret_len,
                    char **ret_owned)
{
    gp_plan_file *f = plan_find(p, path);
    int r;

    *ret_owned = NULL;
    if (f) {
        *ret = f->new;
        *ret_len = f->new_len;
        return 0;
    }
    r = gp_host_read_file(h, path, PLAN_FILE_MAX, ret_owned, ret_len);
    if (r < 0)
        return r;
    *ret = *ret_owned;
    return 0;
}

static int plan_add_cmd(gp_plan *p, const char *why, const char *const *argv, bool once)
{
    gp_plan_cmd c = { .once = once };
    size_t n = 0;
    gp_plan_cmd *v;

    while (argv[n])
        n++;
    for (size_t i = 0; i < p->n_cmds; i++) {
        size_t k = 0;

        while (p->cmds[i].argv[k] && argv[k] && strcmp(p->cmds[i].argv[k], argv[k]) == 0)
            k++;
        if (!p->cmds[i].argv[k] && !argv[k] && p->cmds[i].once == once)
            return 0;
    }
    c.argv = calloc(n + 1, sizeof(*c.argv));
    c.why = strdup(why ? why : "");
    if (!c.argv || !c.why)
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (!(c.argv[i] = strdup(argv[i])))
            goto oom;
    v = realloc(p->cmds, (p->n_cmds + 1) * sizeof(*v));
    if (!v)
        goto oom;
    p->cmds = v;
    p->cmds[p->n_cmds++] = c;
    return 0;
oom:
    gp_strv_free(c.argv);
    free(c.why);
    return -ENOMEM;
}

int gp_plan_add_cmd(gp_plan *p, const char *why, const char *const *argv)
{
    return plan_add_cmd(p, why, argv, false);
}

int gp_plan_add_cmd_once(gp_plan *p, const char *why, const char *const *argv)
{
    return plan_add_cmd(p, why, argv, true);
}

int gp_plan_add_note(gp_plan *p, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = gp_strv_appendv(&p->notes, fmt, ap);
    va_end(ap);
    return r;
}

size_t gp_plan_changed_files(const gp_plan *p)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n_files; i++)
        n += gp_plan_file_changes(&p->files[i]);
    return n;
}

bool gp_plan_is_empty(const gp_plan *p)
{
    return gp_plan_changed_files(p) == 0;
}

void gp_plan_clear(gp_plan *p)
{
    for (size_t i = 0; i < p->n_files; i++) {
        free(p->files[i].path);
        free(p->files[i].old);
        free(p->files[i].new);
        free(p->files[i].why);
    }
    free(p->files);
    for (size_t i = 0; i < p->n_cmds; i++) {
        gp_strv_free(p->cmds[i].argv);
        free(p->cmds[i].why);
    }
    free(p->cmds);
    gp_strv_free(p->notes);
    *p = (gp_plan){ 0 };
}
