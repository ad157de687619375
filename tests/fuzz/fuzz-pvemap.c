/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the cluster PCI mapping file /etc/pve/mapping/pci.cfg
 * (pvemap.h). Invariants:
 *   - what parsed formats back byte for byte;
 *   - lines and sections agree: each line's section exists, a section's
 *     header is a HEADER line inside [header, end), its entries' lines are
 *     PROP lines of that section; find() finds each section by name;
 *   - set_entry (for a mapping named in the input and a new one) refuses
 *     with -EINVAL or leaves a file that still formats losslessly and
 *     holds the entry for that node and path; the other sections keep
 *     their entries.
 * Plain builds replay tests/fuzz/seeds/pvemap.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pvemap.h"

#define FUZZ_NAME "pvemap"
#define FUZZ_TOKENS "\n", "\r\n", "\tmap ", "\tmap node=", ",path=", ",id=", "\tmdev 1", "\tdescription ", "#", \
    "\n\n", " ", "=", ",", ";", "iommugroup=", "subsystem-id="
#include "fuzz-main.h"

static void check_shape(const gp_pvemap *m)
{
    for (size_t i = 0; i < m->n_lines; i++) {
        const gp_pvemap_line *l = &m->lines[i];

        FUZZ_CHECK(l->text && strlen(l->text) == l->len && !memchr(l->text, '\n', l->len));
        FUZZ_CHECK(l->section >= -1 && l->section < (long)m->n_sections);
        if (l->type == GP_PVEMAP_LINE_BAD)
            FUZZ_CHECK(l->why_bad);
    }
    for (size_t s = 0; s < m->n_sections; s++) {
        const gp_pvemap_section *sec = &m->sections[s];
        long found = gp_pvemap_find(m, sec->name);

        FUZZ_CHECK(sec->name);
        FUZZ_CHECK(sec->header < sec->end && sec->end <= m->n_lines);
        FUZZ_CHECK(m->lines[sec->header].type == GP_PVEMAP_LINE_HEADER);
        FUZZ_CHECK(m->lines[sec->header].section == (long)s);
        FUZZ_CHECK(found >= 0 && found <= (long)s && strcmp(m->sections[found].name, sec->name) == 0);
        for (size_t e = 0; e < sec->n_entries; e++) {
            const gp_pvemap_entry *en = &sec->entries[e];

            FUZZ_CHECK(en->line > sec->header && en->line < sec->end);
            FUZZ_CHECK(m->lines[en->line].section == (long)s);
            FUZZ_CHECK(!en->valid || (en->node && en->path && en->id));
            if (e)
                FUZZ_CHECK(en->line > sec->entries[e - 1].line);
        }
    }
}

static void check_lossless(const gp_pvemap *m, const char *buf, size_t size)
{
    size_t len;
    char *text = gp_pvemap_format(m, &len);

    FUZZ_CHECK(text && strlen(text) == len);
    if (buf)
        FUZZ_CHECK(len == size && memcmp(text, buf, size) == 0);
    else {
        gp_pvemap again = { 0 };
        char *text2;
        size_t len2;

        FUZZ_CHECK(gp_pvemap_parse(text, len, "fuzz.cfg", &again, NULL) == 0);
        check_shape(&again);
        text2 = gp_pvemap_format(&again, &len2);
        FUZZ_CHECK(text2 && len2 == len && memcmp(text2, text, len) == 0);
        free(text2);
        gp_pvemap_clear(&again);
    }
    free(text);
}

static size_t entries_of_others(const gp_pvemap *m, const char *name)
{
    size_t n = 0;

    for (size_t s = 0; s < m->n_sections; s++)
        if (strcmp(m->sections[s].name, name) != 0)
            n += m->sections[s].n_entries;
    return n;
}

static void check_set(gp_pvemap *m, const char *name, const char *node, const char *path, const char *rest)
{
    char value[512];
    size_t others = entries_of_others(m, name);
    long s;
    bool hit = false;
    int r;

    snprintf(value, sizeof(value), "node=%s,path=%s%s", node, path, rest);
    r = gp_pvemap_set_entry(m, name, value);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    check_shape(m);
    check_lossless(m, NULL, 0);
    if (r < 0)
        return;
    FUZZ_CHECK(entries_of_others(m, name) == others);
    s = gp_pvemap_find(m, name);
    FUZZ_CHECK(s >= 0);
    for (size_t e = 0; e < m->sections[s].n_entries; e++) {
        const gp_pvemap_entry *en = &m->sections[s].entries[e];

        if (en->node && en->path && strcmp(en->node, node) == 0 && strcmp(en->path, path) == 0)
            hit = true;
    }
    FUZZ_CHECK(hit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gp_pvemap m = { 0 };
    gp_error err = { 0 };
    char *s = fuzz_cstr(data, size), name[128] = "";
    int r;

    if (!s)
        return 0;
    r = gp_pvemap_parse(s, size, "fuzz.cfg", &m, &err);
    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL || r == -EFBIG);
        FUZZ_CHECK(err.code == r);
        free(s);
        return 0;
    }
    check_shape(&m);
    check_lossless(&m, s, size);
    if (m.n_sections > 0)
        snprintf(name, sizeof(name), "%s", m.sections[m.n_sections - 1].name);
    if (name[0]) {
        /* the node and path of its first entry, when it has one: replaced in place */
        const gp_pvemap_section *sec = &m.sections[m.n_sections - 1];

        if (sec->n_entries && sec->entries[0].node && sec->entries[0].path && !strpbrk(sec->entries[0].node, ",\r") &&
            !strpbrk(sec->entries[0].path, ",\r")) {
            char node[128], path[128];

            snprintf(node, sizeof(node), "%s", sec->entries[0].node);
            snprintf(path, sizeof(path), "%s", sec->entries[0].path);
            check_set(&m, name, node, path, ",id=10de:2684,iommugroup=2");
        }
        check_set(&m, name, "fuzznode", "0000:01:00", ",id=10de:2684");
    }
    check_set(&m, "fuzz-gpu_1", "pve1", "0000:01:00.0;0000:01:00.1", ",id=10de:2684,subsystem-id=1043:88e2");
    gp_pvemap_clear(&m);
    free(s);
    return 0;
}
