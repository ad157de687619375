/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "fileio.h"
#include "mig.h"
#include "render.h"
#include "text.h"
#include "shared/macro.h"

/* What the MIG table says of a physical NVIDIA GPU (VFs inherit their PF's
 * ID and say nothing of their own), or NULL when it does not know it. */
static const gp_mig_card *mig_card_of(const gp_pci_dev *d)
{
    const gp_mig_card *card = NULL;

    if (d->is_vf || d->vendor_id != 0x10de)
        return NULL;
    (void)gp_mig_card_by_pci(d->vendor_id, d->device_id, &card, NULL);
    return card;
}

#define C_RESET  "\033[0m"
#define C_BOLD   "\033[1m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RED    "\033[31m"

/* "16M", "32G": BAR and ReBAR sizes are powers of two, so one unit fits. */
static void fmt_size(uint64_t sz, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    int u = -1;

    while (sz >= 1024 && sz % 1024 == 0 && u < 5) {
        sz /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, len, "%" PRIu64, sz);
    else
        snprintf(buf, len, "%" PRIu64 "%c", sz, units[u]);
}

static void fmt_class(char *buf, size_t len, uint32_t class_code)
{
    snprintf(buf, len, "%06x", class_code);
}

static void fmt_id(char *buf, size_t len, uint16_t id)
{
    snprintf(buf, len, "%04x", id);
}

/* Copies a borrowed name, or the lspci-style fallback "Device 2684". */
static char *dup_device_name(gp_names *n, const gp_pci_dev *d)
{
    const char *s = gp_names_device(n, d->vendor_id, d->device_id);
    char *out = NULL;

    if (s)
        return strdup(s);
    return asprintf(&out, "Device %04x", d->device_id) < 0 ? NULL : out;
}

static char *dup_vendor_name(gp_names *n, const gp_pci_dev *d)
{
    const char *s = gp_names_vendor(n, d->vendor_id);
    char *out = NULL;

    if (s)
        return strdup(s);
    return asprintf(&out, "Vendor %04x", d->vendor_id) < 0 ? NULL : out;
}

static char *dup_class_name(gp_names *n, const gp_pci_dev *d)
{
    const char *s = gp_names_class(n, d->class_code);
    char *out = NULL;

    if (s)
        return strdup(s);
    return asprintf(&out, "Class %04x", d->class_code >> 8) < 0 ? NULL : out;
}

static const char *color(const gp_list_view *v, const char *c)
{
    return v->color ? c : "";
}

static const char *verdict_color(gp_verdict vd)
{
    return vd == GP_VERDICT_ISOLATED ? C_GREEN : vd == GP_VERDICT_SHARED ? C_YELLOW : C_RED;
}

/* ---------------------------------------------------------------- text --- */

static void text_dev_line(FILE *f, const gp_list_view *v, const char *label, int i, const char *note)
{
    const gp_pci_dev *d = &v->pci->devs[i];
    _cleanup_free_ char *cls = dup_class_name(v->names, d);

    fprintf(f, "  %-11s %s  %s [%04x:%04x]  %s%s%s\n", label, d->name, cls ? cls : "?", d->vendor_id, d->device_id,
            d->driver ? d->driver : "(no driver)", note ? "  " : "", note ? note : "");
}

/* "passing it through takes the Ethernet controller, 2 USB controllers and
 * the SATA controller away from the host": what the user loses, by kind. */
static void text_shared_cost(FILE *f, const gp_list_view *v, const gp_gpu *g)
{
    size_t n = g->shared_with.n, kinds = 0;
    _cleanup_free_ char **names = calloc(n, sizeof(char *));
    _cleanup_free_ size_t *count = calloc(n, sizeof(size_t));

    if (!names || !count) {
        fprintf(f, " also holds %zu other devices\n", n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *cls = dup_class_name(v->names, &v->pci->devs[g->shared_with.v[i]]);
        size_t k;

        if (!cls)
            continue;
        for (k = 0; k < kinds && strcmp(names[k], cls) != 0; k++)
            ;
        if (k == kinds)
            names[kinds++] = cls;
        else
            free(cls);
        count[k]++;
    }
    char *text = NULL;
    size_t textlen = 0;
    FILE *m = open_memstream(&text, &textlen);

    if (!m)
        return;
    fprintf(f, " also holds %zu other device%s;\n", n, n == 1 ? "" : "s");
    fprintf(m, "passing it through takes ");
    for (size_t k = 0; k < kinds; k++) {
        fprintf(m, "%s", k == 0 ? "" : k + 1 == kinds ? " and " : ", ");
        if (count[k] > 1)
            fprintf(m, "%zu %s%s", count[k], names[k], gp_endswith(names[k], "s") ? "" : "s");
        else
            fprintf(m, "the %s", names[k]);
        free(names[k]);
    }
    fprintf(m, " away from the host");
    fclose(m);
    gp_text_wrapped(f, text, 14, 79);
    free(text);
}

static void text_gpu(FILE *f, const gp_list_view *v, const gp_gpu *g)
{
    const gp_pci_dev *d = &v->pci->devs[g->dev];
    _cleanup_free_ char *vendor = dup_vendor_name(v->names, d), *name = dup_device_name(v->names, d);
    char grp[32] = "";

    fprintf(f, "%s%s  %s %s [%04x:%04x]%s\n", color(v, C_BOLD), d->name, vendor ? vendor : "?", name ? name : "?",
            d->vendor_id, d->device_id, color(v, C_RESET));

    /* Verdict first: it is the answer the user came for. */
    fprintf(f, "  %-11s %s%s%s", "verdict", color(v, verdict_color(g->verdict)), gp_verdict_to_string(g->verdict),
            color(v, C_RESET));
    if (g->verdict == GP_VERDICT_NO_IOMMU) {
        fprintf(f, ": no IOMMU groups; enable VT-d / AMD-Vi (IOMMU) in the firmware and on the kernel command line\n");
    } else {
        fprintf(f, ": IOMMU group%s", g->groups.n > 1 ? "s" : "");
        for (size_t i = 0; i < g->groups.n; i++)
            fprintf(f, "%s%d", i ? ", " : " ", g->groups.v[i]);
        if (g->verdict == GP_VERDICT_ISOLATED)
            fprintf(f, " holds only this card%s\n", g->members.n > g->functions.n ? " and bridges" : "");
        else
            text_shared_cost(f, v, g);
    }
    for (size_t i = 0; i < g->host_critical.n; i++) {
        const gp_pci_dev *m = &v->pci->devs[g->host_critical.v[i]];
        _cleanup_free_ char *cls = dup_class_name(v->names, m);

        fprintf(f, "  %-11s %s%s %s %s%s\n", i == 0 ? "host needs" : "", color(v, C_RED), cls ? cls : "?", m->name,
                gp_hostcrit_reason(v->crit, g->host_critical.v[i]), color(v, C_RESET));
    }

    fprintf(f, "  %-11s %s\n", "driver", d->driver ? d->driver : "(none)");
    for (size_t i = 0; i < g->functions.n; i++)
        text_dev_line(f, v, i == 0 ? "functions" : "", g->functions.v[i], NULL);
    for (size_t i = 0, shown = 0; i < g->members.n; i++) {
        int m = g->members.v[i];
        const char *note;

        if (gp_idx_list_contains(&g->functions, m))
            continue;
        note = gp_idx_list_contains(&g->shared_with, m) ? (gp_hostcrit_reason(v->crit, m) ? "SHARED, host needs it" : "SHARED")
                                           : "bridge, stays with the host";
        snprintf(grp, sizeof(grp), "group %d", v->pci->devs[m].iommu_group);
        text_dev_line(f, v, shown++ == 0 ? grp : "", m, note);
    }

    {
        const char *s = gp_names_subsystem(v->names, d->vendor_id, d->device_id, d->subsys_vendor_id, d->subsys_device_id);

        fprintf(f, "  %-11s %s%s[%04x:%04x]\n", "subsystem", s ? s : "", s ? " " : "", d->subsys_vendor_id,
                d->subsys_device_id);
    }
    if (d->cur_link_speed && d->cur_link_width > 0)
        fprintf(f, "  %-11s %s x%d (max %s x%d)%s\n", "link", d->cur_link_speed, d->cur_link_width,
                d->max_link_speed ? d->max_link_speed : "?", d->max_link_width,
                d->max_link_width && d->cur_link_width < d->max_link_width ? "  narrower than the slot allows" : "");
    if (d->numa_node >= 0)
        fprintf(f, "  %-11s %d\n", "numa node", d->numa_node);
    fprintf(f, "  %-11s %s%s\n", "reset", d->reset_method ? d->reset_method : "(none offered by the kernel)",
            d->flr ? " (FLR advertised)" : " (no FLR)");
    fprintf(f, "  %-11s %s\n", "boot vga", d->boot_vga == 1 ? "yes (the firmware console is on this card)" : "no");
    {
        char sz[32];
        bool any = false;

        fprintf(f, "  %-11s", "memory");
        for (int b = 0; b < GP_PCI_BARS; b++) {
            if (!d->bars[b].size)
                continue;
            fmt_size(d->bars[b].size, sz, sizeof(sz));
            fprintf(f, "%s BAR%d %s%s%s", any ? "," : "", b, sz, d->bars[b].io ? " I/O" : "",
                    d->bars[b].prefetchable ? " prefetchable" : "");
            any = true;
        }
        if (!any)
            fprintf(f, " (no BARs)");
        if (d->rebar) {
            fmt_size(d->rebar_max_size, sz, sizeof(sz));
            fprintf(f, "; Resizable BAR up to %s", sz);
        }
        fputc('\n', f);
    }
    if (d->sriov_total_vfs >= 0)
        fprintf(f, "  %-11s %d of %d virtual functions enabled\n", "sr-iov", d->sriov_num_vfs, d->sriov_total_vfs);
    if (d->is_vf)
        fprintf(f, "  %-11s virtual function of %s\n", "sr-iov", d->physfn >= 0 ? v->pci->devs[d->physfn].name : "?");
    {
        const gp_mig_card *card = mig_card_of(d);

        if (card && card->model)
            fprintf(f, "  %-11s yes: %s, %u compute slices (gpupass mig plan --gpu %s PROFILE...)\n", "mig",
                    card->model->title, card->model->compute, d->name);
        else if (card && card->sharing)
            fprintf(f, "  %-11s %s\n", "mig", card->sharing);
    }
    fputc('\n', f);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

static void text_all(FILE *f, const gp_list_view *v)
{
    const gp_pci_list *l = v->pci;
    _cleanup_free_ int *groups = calloc(l->n ? l->n : 1, sizeof(int));
    size_t ng = 0;
    bool ungrouped = false;

    if (!groups)
        return;
    for (size_t i = 0; i < l->n; i++) {
        bool seen = false;

        if (!v->dev_selected[i])
            continue;
        if (l->devs[i].iommu_group < 0) {
            ungrouped = true;
            continue;
        }
        for (size_t j = 0; j < ng && !seen; j++)
            seen = groups[j] == l->devs[i].iommu_group;
        if (!seen)
            groups[ng++] = l->devs[i].iommu_group;
    }
    qsort(groups, ng, sizeof(int), cmp_int);
    for (size_t j = 0; j <= ng; j++) {
        int grp = j < ng ? groups[j] : -1;

        if (j == ng && !ungrouped)
            break;
        if (grp >= 0)
            fprintf(f, "%sIOMMU group %d%s\n", color(v, C_BOLD), grp, color(v, C_RESET));
        else
            fprintf(f, "%sNo IOMMU group%s\n", color(v, C_BOLD), color(v, C_RESET));
        for (size_t i = 0; i < l->n; i++) {
            const gp_pci_dev *d = &l->devs[i];
            _cleanup_free_ char *cls = NULL, *vendor = NULL, *name = NULL;
            const char *why;

            if (!v->dev_selected[i] || d->iommu_group != grp)
                continue;
            cls = dup_class_name(v->names, d);
            vendor = dup_vendor_name(v->names, d);
            name = dup_device_name(v->names, d);
            why = gp_hostcrit_reason(v->crit, (int)i);
            fprintf(f, "  %s %s [%04x]: %s %s [%04x:%04x] %s%s%s%s%s\n", d->name, cls ? cls : "?", d->class_code >> 8,
                    vendor ? vendor : "?", name ? name : "?", d->vendor_id, d->device_id,
                    d->driver ? d->driver : "(no driver)", why ? "  " : "", why ? color(v, C_RED) : "",
                    why ? why : "", why ? color(v, C_RESET) : "");
        }
    }
}

void gp_render_list_text(FILE *f, const gp_list_view *v)
{
    size_t shown = 0;

    if (v->pci->iommu_groups > 0)
        fprintf(f, "IOMMU: enabled, %d groups\n\n", v->pci->iommu_groups);
    else
        fprintf(f, "IOMMU: %sno IOMMU groups%s: the IOMMU is off in the firmware or on the kernel command line;"
                   " no device can be passed through\n\n",
                color(v, C_RED), color(v, C_RESET));

    if (v->all) {
        if (v->pci->n == 0)
            fprintf(f, "No PCI devices (this machine has no PCI bus in sysfs, e.g. a container).\n");
        text_all(f, v);
        return;
    }
    for (size_t i = 0; i < v->gpus->n; i++)
        if (v->gpu_selected[i]) {
            text_gpu(f, v, &v->gpus->gpus[i]);
            shown++;
        }
    if (shown == 0)
        fprintf(f, "No GPU found: no PCI function of class 03 (VGA, 3D or display controller)%s.\n"
                   "`gpupass list --all` shows every PCI device.\n",
                v->gpus->n ? " matches the given addresses" : " on this host");
}

/* ---------------------------------------------------------------- json --- */

static json_object *jstr_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *jidx_addrs(const gp_list_view *v, const gp_idx_list *l)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; i < l->n; i++)
        json_object_array_add(a, json_object_new_string(v->pci->devs[l->v[i]].name));
    return a;
}

/* The fields every device shares, in the "devices" array and for group members. */
static json_object *json_device(const gp_list_view *v, int i)
{
    const gp_pci_dev *d = &v->pci->devs[i];
    json_object *o = json_object_new_object();
    char buf[16];
    const char *why = gp_hostcrit_reason(v->crit, i);

    json_object_object_add(o, "address", json_object_new_string(d->name));
    fmt_class(buf, sizeof(buf), d->class_code);
    json_object_object_add(o, "class", json_object_new_string(buf));
    {
        _cleanup_free_ char *cls = dup_class_name(v->names, d);
        json_object_object_add(o, "class_name", jstr_or_null(cls));
    }
    fmt_id(buf, sizeof(buf), d->vendor_id);
    json_object_object_add(o, "vendor_id", json_object_new_string(buf));
    fmt_id(buf, sizeof(buf), d->device_id);
    json_object_object_add(o, "device_id", json_object_new_string(buf));
    fmt_id(buf, sizeof(buf), d->subsys_vendor_id);
    json_object_object_add(o, "subsystem_vendor_id", json_object_new_string(buf));
    fmt_id(buf, sizeof(buf), d->subsys_device_id);
    json_object_object_add(o, "subsystem_device_id", json_object_new_string(buf));
    {
        _cleanup_free_ char *vendor = dup_vendor_name(v->names, d), *name = dup_device_name(v->names, d);
        json_object_object_add(o, "vendor", jstr_or_null(vendor));
        json_object_object_add(o, "name", jstr_or_null(name));
    }
    json_object_object_add(o, "driver", jstr_or_null(d->driver));
    json_object_object_add(o, "iommu_group", d->iommu_group >= 0 ? json_object_new_int(d->iommu_group) : NULL);
    json_object_object_add(o, "host_critical", jstr_or_null(why));
    return o;
}

static json_object *json_gpu(const gp_list_view *v, const gp_gpu *g)
{
    const gp_pci_dev *d = &v->pci->devs[g->dev];
    json_object *o = json_device(v, g->dev);
    json_object *a;

    /* For a GPU "host_critical" is the list of group members the host
     * needs; the per-device reason stays in "devices". */
    json_object_object_del(o, "host_critical");
    json_object_object_add(o, "functions", jidx_addrs(v, &g->functions));
    json_object_object_add(o, "verdict", json_object_new_string(gp_verdict_to_string(g->verdict)));
    json_object_object_add(o, "shared_with", jidx_addrs(v, &g->shared_with));
    json_object_object_add(o, "host_critical", jidx_addrs(v, &g->host_critical));
    if (g->groups.n > 1) {
        a = json_object_new_array();
        for (size_t i = 0; i < g->groups.n; i++)
            json_object_array_add(a, json_object_new_int(g->groups.v[i]));
        json_object_object_add(o, "iommu_groups", a);
    }
    a = json_object_new_array();
    for (size_t i = 0; i < g->members.n; i++) {
        int m = g->members.v[i];
        json_object *mo = json_device(v, m);

        json_object_object_add(mo, "role", json_object_new_string(gp_idx_list_contains(&g->functions, m) ? "function"
                                                                  : gp_idx_list_contains(&g->shared_with, m) ? "shared"
                                                                                                : "bridge"));
        json_object_array_add(a, mo);
    }
    json_object_object_add(o, "group_members", a);

    {
        json_object *link = json_object_new_object();

        json_object_object_add(link, "current_speed", jstr_or_null(d->cur_link_speed));
        json_object_object_add(link, "current_width", d->cur_link_width ? json_object_new_int(d->cur_link_width) : NULL);
        json_object_object_add(link, "max_speed", jstr_or_null(d->max_link_speed));
        json_object_object_add(link, "max_width", d->max_link_width ? json_object_new_int(d->max_link_width) : NULL);
        json_object_object_add(o, "link", link);
    }
    json_object_object_add(o, "numa_node", d->numa_node >= 0 ? json_object_new_int(d->numa_node) : NULL);
    a = json_object_new_array();
    if (d->reset_method) {
        _cleanup_free_ char *copy = strdup(d->reset_method);
        char *save = NULL;

        for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save))
            json_object_array_add(a, json_object_new_string(t));
    }
    json_object_object_add(o, "reset_methods", a);
    json_object_object_add(o, "flr", json_object_new_boolean(d->flr));
    json_object_object_add(o, "boot_vga", d->boot_vga >= 0 ? json_object_new_boolean(d->boot_vga == 1) : NULL);
    a = json_object_new_array();
    for (int b = 0; b < GP_PCI_BARS; b++) {
        json_object *bo;

        if (!d->bars[b].size)
            continue;
        bo = json_object_new_object();
        json_object_object_add(bo, "index", json_object_new_int(b));
        json_object_object_add(bo, "size", json_object_new_int64((int64_t)d->bars[b].size));
        json_object_object_add(bo, "type", json_object_new_string(d->bars[b].io ? "io" : "memory"));
        json_object_object_add(bo, "prefetchable", json_object_new_boolean(d->bars[b].prefetchable));
        json_object_object_add(bo, "64bit", json_object_new_boolean(d->bars[b].mem64));
        json_object_array_add(a, bo);
    }
    json_object_object_add(o, "bars", a);
    json_object_object_add(o, "resizable_bar", json_object_new_boolean(d->rebar));
    json_object_object_add(o, "resizable_bar_max", d->rebar ? json_object_new_int64((int64_t)d->rebar_max_size) : NULL);
    if (d->sriov_total_vfs >= 0) {
        json_object *s = json_object_new_object();

        json_object_object_add(s, "total_vfs", json_object_new_int(d->sriov_total_vfs));
        json_object_object_add(s, "num_vfs", json_object_new_int(d->sriov_num_vfs));
        json_object_object_add(o, "sriov", s);
    } else {
        json_object_object_add(o, "sriov", NULL);
    }
    json_object_object_add(o, "physfn", d->is_vf && d->physfn >= 0 ? json_object_new_string(v->pci->devs[d->physfn].name) : NULL);
    {
        const gp_mig_card *card = mig_card_of(d);
        json_object *m = NULL;

        if (card) {
            m = json_object_new_object();
            json_object_object_add(m, "supported", json_object_new_boolean(card->model != NULL));
            json_object_object_add(m, "model", card->model ? json_object_new_string(card->model->key) : NULL);
            json_object_object_add(m, "compute_slices", card->model ? json_object_new_int((int)card->model->compute)
                                                                    : NULL);
            json_object_object_add(m, "instead", !card->model && card->sharing ?
                                   json_object_new_string(card->sharing) : NULL);
        }
        json_object_object_add(o, "mig", m);
    }
    return o;
}

/* Streams one element: the whole document is never held in memory at once,
 * which keeps a 600-function host well under the 8 MB budget. */
static int put_element(FILE *f, json_object *o, bool first)
{
    int r = fprintf(f, "%s\n    %s", first ? "" : ",",
                    json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));

    json_object_put(o);
    return r < 0 ? -1 : 0;
}

int gp_render_list_json(FILE *f, const gp_list_view *v)
{
    json_object *iommu = json_object_new_object();
    bool first = true;
    int r = 0;

    if (!iommu)
        return -1;
    json_object_object_add(iommu, "enabled", json_object_new_boolean(v->pci->iommu_groups > 0));
    json_object_object_add(iommu, "groups", json_object_new_int(v->pci->iommu_groups));
    fprintf(f, "{\n  \"iommu\": %s,\n  \"gpus\": [",
            json_object_to_json_string_ext(iommu, JSON_C_TO_STRING_SPACED));
    json_object_put(iommu);
    for (size_t i = 0; i < v->gpus->n && r == 0; i++)
        if (v->gpu_selected[i]) {
            r = put_element(f, json_gpu(v, &v->gpus->gpus[i]), first);
            first = false;
        }
    fprintf(f, "%s],\n  \"devices\": [", first ? "" : "\n  ");
    first = true;
    for (size_t i = 0; i < v->pci->n && r == 0; i++)
        if (v->dev_selected[i]) {
            r = put_element(f, json_device(v, (int)i), first);
            first = false;
        }
    if (fprintf(f, "%s]\n}\n", first ? "" : "\n  ") < 0)
        r = -1;
    return r;
}
