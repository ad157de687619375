/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migstatus.h"
#include "shared/macro.h"

/* Splits a CSV line of nvidia-smi (", " between fields, no quoting) into
 * at most n trimmed fields; returns how many. */
static size_t csv_fields(char *line, char **f, size_t n)
{
    size_t k = 0;

    for (char *p = line; p && k < n; k++) {
        char *comma = strchr(p, ',');

        if (comma)
            *comma = '\0';
        while (isspace((unsigned char)*p))
            p++;
        f[k] = p;
        for (char *e = p + strlen(p); e > p && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        p = comma ? comma + 1 : NULL;
    }
    return k;
}

static int mode_of(const char *s)
{
    if (strcasecmp(s, "Enabled") == 0)
        return 1;
    if (strcasecmp(s, "Disabled") == 0)
        return 0;
    return -1;       /* "[N/A]": the GPU has no MIG */
}

static bool parse_uint(const char *s, unsigned *ret)
{
    char *end;
    unsigned long v;

    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > 1000000)
        return false;
    *ret = (unsigned)v;
    return true;
}

int gp_mig_parse_gpus(const char *text, gp_mig_gpu_state **ret, size_t *ret_n)
{
    _cleanup_free_ char *copy = strdup(text ? text : "");
    gp_mig_gpu_state *v = NULL;
    size_t n = 0;
    char *save = NULL;

    if (!copy)
        return -ENOMEM;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[6];
        gp_mig_gpu_state s = { 0 };
        gp_mig_gpu_state *nv;

        if (csv_fields(line, f, 6) != 5 || !parse_uint(f[0], &s.index) || strlen(f[1]) >= sizeof(s.bus_id) ||
            !strchr(f[1], ':'))
            continue;
        snprintf(s.bus_id, sizeof(s.bus_id), "%s", f[1]);
        snprintf(s.name, sizeof(s.name), "%s", f[2]);
        s.mode_current = mode_of(f[3]);
        s.mode_pending = mode_of(f[4]);
        nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            free(v);
            return -ENOMEM;
        }
        v = nv;
        v[n++] = s;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int gp_mig_parse_gis(const char *text, gp_mig_gi_state **ret, size_t *ret_n)
{
    _cleanup_free_ char *copy = strdup(text ? text : "");
    gp_mig_gi_state *v = NULL;
    size_t n = 0;
    char *save = NULL;

    if (!copy)
        return -ENOMEM;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *w[8], *tok, *s2 = NULL;
        size_t k = 0;
        gp_mig_gi_state g = { 0 };
        unsigned id;
        char *colon;
        gp_mig_gi_state *nv;

        /* "|   0  MIG 3g.40gb   9   2   4:4   |": words between the bars */
        if (line[0] != '|')
            continue;
        for (tok = strtok_r(line, " \t|", &s2); tok && k < 8; tok = strtok_r(NULL, " \t|", &s2))
            w[k++] = tok;
        if (k != 6 || strcmp(w[1], "MIG") != 0 || !parse_uint(w[0], &g.gpu) || strlen(w[2]) >= sizeof(g.profile))
            continue;
        if (!parse_uint(w[3], &id) || !parse_uint(w[4], &g.instance_id))
            continue;
        colon = strchr(w[5], ':');
        if (!colon)
            continue;
        *colon = '\0';
        if (!parse_uint(w[5], &g.start) || !parse_uint(colon + 1, &g.size) || g.size == 0)
            continue;
        g.profile_id = (int)id;
        snprintf(g.profile, sizeof(g.profile), "%s", w[2]);
        nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            free(v);
            return -ENOMEM;
        }
        v = nv;
        v[n++] = g;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

bool gp_mig_bus_id_is(const char *bus_id, const char *pci_name)
{
    const char *a = strchr(bus_id, ':'), *b = strchr(pci_name, ':');
    unsigned long da, db;
    char *end;

    if (!a || !b)
        return false;
    da = strtoul(bus_id, &end, 16);
    if (end != a)
        return false;
    db = strtoul(pci_name, &end, 16);
    if (end != b)
        return false;
    return da == db && strcasecmp(a, b) == 0;
}

int gp_mig_plan_from_state(const gp_mig_model *m, const gp_mig_gi_state *gis, size_t n, unsigned gpu,
                           gp_mig_plan *ret, gp_error *err)
{
    *ret = (gp_mig_plan){ .model = m };
    for (size_t i = 0; i < n; i++) {
        const gp_mig_profile *p;
        gp_mig_instance *v;

        if (gis[i].gpu != gpu)
            continue;
        p = gp_mig_profile_by_id(m, gis[i].profile_id);
        if (!p || strcasecmp(p->name, gis[i].profile) != 0)
            p = gp_mig_profile_by_name(m, gis[i].profile);
        if (!p) {
            gp_mig_plan_clear(ret);
            return gp_error_set(err, -ENOENT, "GPU %u has a %s instance (profile %d), which gpupass's table for "
                                "the %s does not have", gpu, gis[i].profile, gis[i].profile_id, m->title);
        }
        if (gis[i].start + gis[i].size > m->axis) {
            gp_mig_plan_clear(ret);
            return gp_error_set(err, -ENOENT, "GPU %u: %s at %u:%u lies outside the %s's %u placements", gpu,
                                gis[i].profile, gis[i].start, gis[i].size, m->title, m->axis);
        }
        v = realloc(ret->v, (ret->n + 1) * sizeof(*v));
        if (!v) {
            gp_mig_plan_clear(ret);
            return -ENOMEM;
        }
        ret->v = v;
        v[ret->n++] = (gp_mig_instance){ .profile = p, .start = gis[i].start, .size = gis[i].size };
        ret->compute_used += p->compute;
        ret->memory_used += p->memory;
        ret->axis_used += gis[i].size;
    }
    return 0;
}
