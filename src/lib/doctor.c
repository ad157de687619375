/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "logsig.h"
#include "pciaddr.h"

/* Distinct (signature, device) pairs kept; more are counted, not stored:
 * memory stays bounded whatever the log holds. */
#define GROUPS_MAX 512
/* Evidence text kept per line. */
#define QUOTE_MAX 400

typedef struct quote {
    char text[QUOTE_MAX];
    double ts;
    unsigned long lineno;
} quote;

typedef struct group {
    size_t sig;
    char device[GP_PCI_ADDR_MAX];
    int group, bar;
    unsigned long count;
    quote first, last;
} group;

typedef struct doctor_priv {
    gp_matcher *m;
    const char **needles;      /* unique needles */
    size_t n_needles;
    size_t *sig_of;            /* signatures in needle order ... */
    size_t *sig_start;         /* ... sig_of[sig_start[k] .. sig_start[k+1]) use needle k */
    group *groups;
    size_t n_groups;
    unsigned long dropped;     /* matches past GROUPS_MAX groups */
} doctor_priv;

static void priv_free(doctor_priv *p)
{
    if (!p)
        return;
    gp_matcher_free(p->m);
    free(p->needles);
    free(p->sig_of);
    free(p->sig_start);
    free(p->groups);
    free(p);
}

int gp_doctor_init(gp_doctor *d, const gp_check_ctx *ctx, const char *source)
{
    doctor_priv *p = calloc(1, sizeof(*p));
    size_t n = 0;
    int r;

    *d = (gp_doctor){ .ctx = ctx, .source = source };
    if (!p)
        return -ENOMEM;
    p->needles = calloc(gp_n_logsigs + 1, sizeof(*p->needles));
    p->sig_of = calloc(gp_n_logsigs + 1, sizeof(*p->sig_of));
    p->sig_start = calloc(gp_n_logsigs + 2, sizeof(*p->sig_start));
    if (!p->needles || !p->sig_of || !p->sig_start) {
        priv_free(p);
        return -ENOMEM;
    }
    /* Signatures that share a needle share one matcher entry. */
    for (size_t k = 0; k < gp_n_logsigs; k++) {
        bool dup = false;

        for (size_t j = 0; j < p->n_needles && !dup; j++)
            dup = strcmp(p->needles[j], gp_logsigs[k].needle) == 0;
        if (!dup)
            p->needles[p->n_needles++] = gp_logsigs[k].needle;
    }
    for (size_t j = 0; j < p->n_needles; j++) {
        p->sig_start[j] = n;
        for (size_t k = 0; k < gp_n_logsigs; k++)
            if (strcmp(p->needles[j], gp_logsigs[k].needle) == 0)
                p->sig_of[n++] = k;
    }
    p->sig_start[p->n_needles] = n;
    r = p->n_needles ? gp_matcher_new(p->needles, p->n_needles, &p->m) : 0;
    if (r < 0) {
        priv_free(p);
        return r;
    }
    d->priv = p;
    return 0;
}

void gp_doctor_done(gp_doctor *d)
{
    priv_free(d->priv);
    d->priv = NULL;
}

static bool hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The first "dddd:bb:ss.f" in the line: the kernel's dev_printk form. */
static void find_device(const char *s, char *ret, size_t size)
{
    ret[0] = '\0';
    for (const char *p = s; (p = strchr(p, ':')); p++) {
        const char *a = p - 4;

        if (p - s < 4 || !hex(a[0]) || !hex(a[1]) || !hex(a[2]) || !hex(a[3]))
            continue;
        if (hex(p[1]) && hex(p[2]) && p[3] == ':' && hex(p[4]) && hex(p[5]) && p[6] == '.' && p[7] >= '0' &&
            p[7] <= '7' && (a == s || !hex(a[-1]))) {
            snprintf(ret, size, "%.12s", a);
            return;
        }
    }
}

/* The number after a word: "group 14", "BAR 3". */
static int number_after(const char *s, const char *word)
{
    const char *p = strstr(s, word);
    int v;

    if (!p || sscanf(p + strlen(word), "%d", &v) != 1 || v < 0)
        return -1;
    return v;
}

static void quote_set(quote *q, const gp_logline *l)
{
    snprintf(q->text, sizeof(q->text), "%.*s", (int)(l->len < QUOTE_MAX - 1 ? l->len : QUOTE_MAX - 1), l->text);
    q->ts = l->ts;
    q->lineno = l->lineno;
}

static int on_hit(void *userdata, size_t needle, const gp_logline *l)
{
    doctor_priv *p = userdata;

    for (size_t i = p->sig_start[needle]; i < p->sig_start[needle + 1]; i++) {
        const gp_logsig *sig = &gp_logsigs[p->sig_of[i]];
        char dev[GP_PCI_ADDR_MAX];
        group *g = NULL;

        if ((sig->also && !strstr(l->text, sig->also)) || (sig->unless && strstr(l->text, sig->unless)))
            continue;
        find_device(l->text, dev, sizeof(dev));
        for (size_t k = 0; k < p->n_groups && !g; k++)
            if (p->groups[k].sig == p->sig_of[i] && strcmp(p->groups[k].device, dev) == 0)
                g = &p->groups[k];
        if (!g) {
            if (p->n_groups >= GROUPS_MAX) {
                p->dropped++;
                continue;
            }
            if (!p->groups) {
                p->groups = calloc(GROUPS_MAX, sizeof(*p->groups));
                if (!p->groups)
                    return -ENOMEM;
            }
            g = &p->groups[p->n_groups++];
            *g = (group){ .sig = p->sig_of[i], .group = -1, .bar = -1 };
            snprintf(g->device, sizeof(g->device), "%s", dev);
            quote_set(&g->first, l);
        }
        if (g->group < 0)
            g->group = number_after(l->text, "group ");
        if (g->bar < 0)
            g->bar = number_after(l->text, "BAR ");
        g->count++;
        quote_set(&g->last, l);
    }
    return 0;
}

static void stats_add(gp_doctor *d, const gp_logscan_stats *st)
{
    d->stats.lines += st->lines;
    d->stats.bytes += st->bytes;
    d->stats.cut += st->cut;
    d->stats.binary += st->binary;
}

int gp_doctor_scan_fd(gp_doctor *d, int fd, unsigned long long max_bytes)
{
    doctor_priv *p = d->priv;
    gp_logscan_stats st;
    bool cut = false;
    int r;

    if (!p->m)
        return 0;
    r = gp_logscan_fd(fd, p->m, max_bytes, on_hit, p, &st, &cut);
    stats_add(d, &st);
    d->truncated |= cut;
    return r;
}

int gp_doctor_scan_buffer(gp_doctor *d, const char *buf, size_t len)
{
    doctor_priv *p = d->priv;
    gp_logscan_stats st;
    int r;

    if (!p->m)
        return 0;
    r = gp_logscan_buffer(buf, len, p->m, on_hit, p, &st);
    stats_add(d, &st);
    return r;
}

static void add_quote(gp_findings *out, gp_finding *f, const char *source, const quote *q)
{
    char text[QUOTE_MAX + 32];

    if (q->ts >= 0)
        snprintf(text, sizeof(text), "[%12.6f] %s", q->ts, q->text);
    else
        snprintf(text, sizeof(text), "%s", q->text);
    gp_finding_add_line(out, f, source, (unsigned)q->lineno, text);
}

/* The GPUs the log names, for the check layers that explain them. */
static int related_checks(gp_doctor *d, gp_findings *out)
{
    const gp_check_ctx *ctx = d->ctx;
    doctor_priv *p = d->priv;
    _cleanup_free_ bool *sel = NULL;
    gp_check_ctx sub;
    bool any = false;

    if (!ctx->gpus || ctx->gpus->n == 0)
        return 0;
    sel = calloc(ctx->gpus->n, sizeof(*sel));
    if (!sel)
        return -ENOMEM;
    /* Notes (a framebuffer handed over, a hidden capability) explain no
     * failure: only warnings and failures bring in the GPU's checks. */
    for (size_t k = 0; k < p->n_groups; k++) {
        if (gp_logsigs[p->groups[k].sig].severity < GP_SEV_WARN)
            continue;
        for (size_t g = 0; g < ctx->gpus->n; g++) {
            const gp_gpu *gpu = &ctx->gpus->gpus[g];

            for (size_t m = 0; m < gpu->members.n; m++)
                if (strcmp(ctx->pci->devs[gpu->members.v[m]].name, p->groups[k].device) == 0 ||
                    (p->groups[k].group >= 0 && ctx->pci->devs[gpu->members.v[m]].iommu_group == p->groups[k].group)) {
                    sel[g] = true;
                    any = true;
                }
        }
    }
    if (!any)
        return 0;
    sub = *ctx;
    sub.gpu_selected = sel;
    gp_check_gpus(&sub, out);
    return gp_findings_status(out);
}

/* The card a function belongs to: a GPU's audio or USB function reports
 * its failures under the GPU's display function. */
static const char *card_of(const gp_check_ctx *ctx, const char *device)
{
    for (size_t g = 0; ctx->gpus && g < ctx->gpus->n; g++) {
        const gp_gpu *gpu = &ctx->gpus->gpus[g];

        for (size_t f = 0; f < gpu->functions.n; f++)
            if (strcmp(ctx->pci->devs[gpu->functions.v[f]].name, device) == 0)
                return ctx->pci->devs[gpu->dev].name;
    }
    return device;
}

/*
 * One finding per failure mode and card: the signatures of one mode that
 * fired for one card (a reset that times out, then D3cold, then the BARs
 * restored) are one story. The most severe signature gives the id, the
 * explanation and the fix; every signature's first line is evidence.
 */
static int mode_finding(gp_doctor *d, gp_findings *out, size_t first_k, bool *done)
{
    doctor_priv *p = d->priv;
    const group *lead = &p->groups[first_k];
    const char *card = lead->device[0] ? card_of(d->ctx, lead->device) : "";
    unsigned long count = 0;
    const quote *last = &lead->last;
    const group *top = lead;
    _cleanup_free_ char *fix = NULL;
    char times[96] = "";
    gp_finding *f;

    for (size_t k = first_k; k < p->n_groups; k++) {
        const group *g = &p->groups[k];

        if (done[k] || strcmp(gp_logsigs[g->sig].mode, gp_logsigs[lead->sig].mode) != 0 ||
            strcmp(g->device[0] ? card_of(d->ctx, g->device) : "", card) != 0)
            continue;
        count += g->count;
        if (gp_logsigs[g->sig].severity > gp_logsigs[top->sig].severity)
            top = g;
        if (g->last.lineno > last->lineno)
            last = &g->last;
    }
    {
        const gp_logsig *sig = &gp_logsigs[top->sig];
        gp_logline first = { .text = top->first.text, .len = strlen(top->first.text), .ts = top->first.ts,
                             .lineno = top->first.lineno };
        gp_loghit hit = { .first = &first, .count = count, .device = top->device[0] ? top->device : NULL,
                          .group = top->group, .bar = top->bar };

        if (count > 1 && lead->first.ts >= 0 && last->ts >= 0)
            snprintf(times, sizeof(times), ", from %.3f s to %.3f s after boot", lead->first.ts, last->ts);
        f = gp_findings_add(out, "Kernel log", sig->id, sig->severity, sig->mode, "%s%s%s (%lu line%s%s)",
                            card, card[0] ? ": " : "", sig->explain, count, count == 1 ? "" : "s", times);
        if (sig->fix && sig->fix(d->ctx, &hit, &fix) < 0)
            return -ENOMEM;
    }
    for (size_t k = first_k; k < p->n_groups; k++) {
        const group *g = &p->groups[k];

        if (done[k] || strcmp(gp_logsigs[g->sig].mode, gp_logsigs[lead->sig].mode) != 0 ||
            strcmp(g->device[0] ? card_of(d->ctx, g->device) : "", card) != 0)
            continue;
        done[k] = true;
        add_quote(out, f, d->source, &g->first);
        if (g->device[0])
            gp_finding_add_device(out, f, g->device);
        /* The last line is shown once, unless it is a first line already. */
        if (g->first.lineno == last->lineno)
            last = NULL;
    }
    if (count > 1 && last)
        add_quote(out, f, d->source, last);
    if (fix)
        gp_finding_set_fix(out, f, "%s", fix);
    return 0;
}

int gp_doctor_findings(gp_doctor *d, gp_findings *out)
{
    doctor_priv *p = d->priv;
    _cleanup_free_ bool *done = calloc(p->n_groups + 1, sizeof(*done));
    gp_finding *f;

    if (!done)
        return -ENOMEM;
    for (size_t k = 0; k < p->n_groups; k++)
        if (!done[k] && mode_finding(d, out, k, done) < 0)
            return -ENOMEM;
    if (p->dropped) {
        gp_findings_add(out, "Kernel log", "doctor.too-many", GP_SEV_INFO, "kernel log",
                        "%lu more matching lines for other devices were counted but not grouped (more than %d "
                        "failures and devices)", p->dropped, GROUPS_MAX);
    }
    if (d->stats.cut || d->stats.binary || d->truncated) {
        f = gp_findings_add(out, "Kernel log", "doctor.skipped", GP_SEV_INFO, "kernel log",
                            "skipped: %lu line%s longer than %u bytes (cut), %lu line%s of binary data%s",
                            d->stats.cut, d->stats.cut == 1 ? "" : "s", GP_LOGSCAN_LINE_MAX, d->stats.binary,
                            d->stats.binary == 1 ? "" : "s", d->truncated ? "; the input was read only up to the "
                            "size limit" : "");
        gp_finding_add_line(out, f, d->source, 0, NULL);
    }
    if (p->n_groups == 0) {
        _cleanup_free_ char *modes = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&modes, &len);
        bool first = true;

        if (!m)
            return -ENOMEM;
        for (size_t k = 0; k < gp_n_logsigs; k++) {
            bool seen = false;

            for (size_t j = 0; j < k && !seen; j++)
                seen = strcmp(gp_logsigs[j].mode, gp_logsigs[k].mode) == 0;
            if (!seen)
                fprintf(m, "%s%s", first ? "" : "; ", gp_logsigs[k].mode);
            first &= seen;
        }
        if (fclose(m) != 0)
            return -ENOMEM;
        gp_findings_add(out, "Kernel log", "doctor.no-failure", GP_SEV_PASS, "kernel log",
                        "no known passthrough failure in %lu lines of %s; looked for: %s", d->stats.lines,
                        d->source, modes ? modes : "");
        return gp_findings_status(out);
    }
    return related_checks(d, out);
}
