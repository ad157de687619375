/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output of check and lint: virt-host-validate's "Checking X ... PASS" lines,
 * grouped by layer, with what was found, where, and the fix under each
 * finding that did not pass. */
#include <json-c/json.h>
#include <string.h>

#include "render.h"
#include "text.h"

#define WIDTH 80
#define STATUS_COLUMN 60

static const char *sev_label(gp_severity s)
{
    static const char *const labels[] = { "PASS", "INFO", "WARN", "FAIL" };

    return (unsigned)s < ELEMENTSOF(labels) ? labels[s] : "FAIL";
}

static const char *sev_color(gp_severity s)
{
    static const char *const colors[] = { "\033[32m", "\033[36m", "\033[33m", "\033[31m" };

    return (unsigned)s < ELEMENTSOF(colors) ? colors[s] : "";
}

static void text_evidence(FILE *f, const gp_evidence *e)
{
    char buf[GP_EVIDENCE_TEXT_MAX + 600];

    if (e->device && e->text)
        snprintf(buf, sizeof(buf), "device %s: %s", e->device, e->text);
    else if (e->device)
        snprintf(buf, sizeof(buf), "device %s", e->device);
    else if (e->file && e->line && e->text)
        snprintf(buf, sizeof(buf), "%s:%u: %s", e->file, e->line, e->text);
    else if (e->file && e->text)
        snprintf(buf, sizeof(buf), "%s: %s", e->file, e->text);
    else if (e->file && e->line)
        snprintf(buf, sizeof(buf), "%s:%u", e->file, e->line);
    else if (e->file)
        snprintf(buf, sizeof(buf), "%s", e->file);
    else if (e->text)
        snprintf(buf, sizeof(buf), "%s", e->text);
    else
        return;
    fprintf(f, "      at %s\n", buf);
}

static void text_fix(FILE *f, const char *fix)
{
    const char *p = fix;
    bool first = true;

    /* Fix lines are printed verbatim: they are meant to be pasted. */
    while (*p) {
        size_t len = strcspn(p, "\n");

        fprintf(f, "      %s%.*s\n", first ? "fix: " : "     ", (int)len, p);
        first = false;
        p += len;
        if (*p == '\n')
            p++;
    }
}

void gp_render_findings_text(FILE *f, const gp_findings_view *v)
{
    const gp_findings *l = v->findings;
    const char *layer = NULL;
    size_t counts[_GP_SEV_MAX];

    for (size_t i = 0; i < l->n; i++) {
        const gp_finding *x = &l->v[i];
        int used;

        if (v->quiet && x->severity == GP_SEV_PASS)
            continue;
        if (!layer || strcmp(layer, x->layer) != 0) {
            fprintf(f, "%s%s\n", layer ? "\n" : "", x->layer);
            layer = x->layer;
        }
        used = fprintf(f, "  Checking %s ", x->subject);
        for (; used < STATUS_COLUMN; used++)
            fputc('.', f);
        fprintf(f, " %s%s%s\n", v->color ? sev_color(x->severity) : "", sev_label(x->severity),
                v->color ? "\033[0m" : "");
        gp_text_wrapped(f, x->title, 6, WIDTH);
        if (x->severity == GP_SEV_PASS)
            continue;
        for (size_t e = 0; e < x->n_evidence; e++)
            text_evidence(f, &x->evidence[e]);
        if (x->fix)
            text_fix(f, x->fix);
    }
    gp_findings_count(l, counts);
    fprintf(f, "%s%zu passed, %zu info, %zu warnings, %zu failed\n", l->n ? "\n" : "", counts[GP_SEV_PASS],
            counts[GP_SEV_INFO], counts[GP_SEV_WARN], counts[GP_SEV_FAIL]);
}

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *json_finding(const gp_finding *x)
{
    json_object *o = json_object_new_object(), *ev = json_object_new_array();

    json_object_object_add(o, "id", json_object_new_string(x->id));
    json_object_object_add(o, "layer", json_object_new_string(x->layer));
    json_object_object_add(o, "severity", json_object_new_string(gp_severity_to_string(x->severity)));
    json_object_object_add(o, "subject", json_object_new_string(x->subject));
    json_object_object_add(o, "title", json_object_new_string(x->title));
    for (size_t e = 0; e < x->n_evidence; e++) {
        const gp_evidence *y = &x->evidence[e];
        json_object *eo = json_object_new_object();

        if (y->file)
            json_object_object_add(eo, "file", json_object_new_string(y->file));
        if (y->file)
            json_object_object_add(eo, "line", y->line ? json_object_new_int((int)y->line) : NULL);
        if (y->text)
            json_object_object_add(eo, "text", json_object_new_string(y->text));
        if (y->device)
            json_object_object_add(eo, "device", json_object_new_string(y->device));
        json_object_array_add(ev, eo);
    }
    json_object_object_add(o, "evidence", ev);
    json_object_object_add(o, "fix", jstr(x->fix));
    return o;
}

int gp_render_findings_json(FILE *f, const gp_findings_view *v)
{
    const gp_findings *l = v->findings;
    json_object *summary = json_object_new_object();
    size_t counts[_GP_SEV_MAX];
    bool first = true;
    int r = 0;

    if (!summary)
        return -1;
    fputs("{\n", f);
    if (v->extra_name && v->extra)
        fprintf(f, "  \"%s\": %s,\n", v->extra_name,
                json_object_to_json_string_ext(v->extra, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    fputs("  \"findings\": [", f);
    for (size_t i = 0; i < l->n && r >= 0; i++) {
        json_object *o;

        if (v->quiet && l->v[i].severity == GP_SEV_PASS)
            continue;
        o = json_finding(&l->v[i]);
        r = fprintf(f, "%s\n    %s", first ? "" : ",",
                    json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        first = false;
    }
    gp_findings_count(l, counts);
    for (int s = GP_SEV_PASS; s < _GP_SEV_MAX; s++)
        json_object_object_add(summary, gp_severity_to_string((gp_severity)s), json_object_new_int64((int64_t)counts[s]));
    if (r >= 0)
        r = fprintf(f, "%s],\n  \"summary\": %s\n}\n", first ? "" : "\n  ",
                    json_object_to_json_string_ext(summary, JSON_C_TO_STRING_SPACED));
    json_object_put(summary);
    return r < 0 ? -1 : 0;
}
