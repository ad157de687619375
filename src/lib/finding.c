/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"

const char *gp_severity_to_string(gp_severity s)
{
    static const char *const names[_GP_SEV_MAX] = { "pass", "info", "warn", "fail" };

    return (unsigned)s < _GP_SEV_MAX ? names[s] : "fail";
}

static void finding_free(gp_finding *f)
{
    free(f->id);
    free(f->layer);
    free(f->subject);
    free(f->title);
    for (size_t i = 0; i < f->n_evidence; i++) {
        free(f->evidence[i].file);
        free(f->evidence[i].text);
        free(f->evidence[i].device);
    }
    free(f->evidence);
    free(f->fix);
}

static char *dup_or_null(gp_findings *l, const char *s)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        l->oom = true;
    return d;
}

gp_finding *gp_findings_addv(gp_findings *l, const char *layer, const char *id, gp_severity sev,
                             const char *subject, const char *title_fmt, va_list ap)
{
    gp_finding f = { .severity = sev };

    if (l->oom)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        gp_finding *v = realloc(l->v, cap * sizeof(*v));

        if (!v) {
            l->oom = true;
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    if (vasprintf(&f.title, title_fmt, ap) < 0)
        f.title = NULL;
    f.id = dup_or_null(l, id);
    f.layer = dup_or_null(l, layer);
    f.subject = dup_or_null(l, subject);
    if (!f.title || !f.id || !f.layer || !f.subject) {
        l->oom = true;
        finding_free(&f);
        return NULL;
    }
    l->v[l->n] = f;
    return &l->v[l->n++];
}

gp_finding *gp_findings_add(gp_findings *l, const char *layer, const char *id, gp_severity sev,
                            const char *subject, const char *title_fmt, ...)
{
    gp_finding *f;
    va_list ap;

    va_start(ap, title_fmt);
    f = gp_findings_addv(l, layer, id, sev, subject, title_fmt, ap);
    va_end(ap);
    return f;
}

void gp_finding_set_fix(gp_findings *l, gp_finding *f, const char *fmt, ...)
{
    char *s;
    va_list ap;
    int r;

    if (!f)
        return;
    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) {
        l->oom = true;
        return;
    }
    free(f->fix);
    f->fix = s;
}

static gp_evidence *evidence_new(gp_findings *l, gp_finding *f)
{
    gp_evidence *v;

    if (!f)
        return NULL;
    v = realloc(f->evidence, (f->n_evidence + 1) * sizeof(*v));
    if (!v) {
        l->oom = true;
        return NULL;
    }
    f->evidence = v;
    v = &f->evidence[f->n_evidence++];
    *v = (gp_evidence){ 0 };
    return v;
}

/* Evidence text is for a human: a 1 MB line or binary bytes would drown the
 * report, so it is cut and control bytes become '?'. */
static char *evidence_text(gp_findings *l, const char *text, size_t len)
{
    size_t n = len > GP_EVIDENCE_TEXT_MAX ? GP_EVIDENCE_TEXT_MAX : len;
    char *s = malloc(n + 4);

    if (!s) {
        l->oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];

        s[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    if (n < len)
        memcpy(s + n, "...", 3), n += 3;
    s[n] = '\0';
    return s;
}

void gp_finding_add_text(gp_findings *l, gp_finding *f, const char *file, unsigned line, const char *text,
                         size_t text_len)
{
    gp_evidence *e = evidence_new(l, f);

    if (!e)
        return;
    e->file = dup_or_null(l, file);
    e->line = line;
    if (text)
        e->text = evidence_text(l, text, text_len);
}

void gp_finding_add_line(gp_findings *l, gp_finding *f, const char *file, unsigned line, const char *text)
{
    gp_finding_add_text(l, f, file, line, text, text ? strlen(text) : 0);
}

void gp_finding_add_device(gp_findings *l, gp_finding *f, const char *device)
{
    gp_evidence *e = evidence_new(l, f);

    if (e)
        e->device = dup_or_null(l, device);
}

int gp_findings_status(const gp_findings *l)
{
    return l->oom ? -ENOMEM : 0;
}

gp_severity gp_findings_worst(const gp_findings *l)
{
    gp_severity w = GP_SEV_PASS;

    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].severity > w)
            w = l->v[i].severity;
    return w;
}

void gp_findings_count(const gp_findings *l, size_t counts[_GP_SEV_MAX])
{
    memset(counts, 0, _GP_SEV_MAX * sizeof(counts[0]));
    for (size_t i = 0; i < l->n; i++)
        if ((unsigned)l->v[i].severity < _GP_SEV_MAX)
            counts[l->v[i].severity]++;
}

const gp_finding *gp_findings_find(const gp_findings *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0)
            return &l->v[i];
    return NULL;
}

void gp_findings_clear(gp_findings *l)
{
    for (size_t i = 0; i < l->n; i++)
        finding_free(&l->v[i]);
    free(l->v);
    *l = (gp_findings){ 0 };
}

void gp_finding_add_device_text(gp_findings *l, gp_finding *f, const char *device, const char *text)
{
    gp_evidence *e = evidence_new(l, f);

    if (!e)
        return;
    e->device = dup_or_null(l, device);
    if (text)
        e->text = evidence_text(l, text, strlen(text));
}
