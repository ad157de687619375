/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI resource mappings (pvemap.c): byte-exact round trips, what PVE's
 * SectionConfig reader would see in each line, minimal edits, the map value
 * for a device and the start-time check against hand-built hardware. A few
 * thousand random and mutated files end the run: none may crash the parser
 * or come back changed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "pvemap.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

/* Written for these tests: three mappings, three nodes, the forms PVE writes. */
static const char file_a[] =
    "# GPUs for the render VMs\n"
    "gpu-pool\n"
    "\tmap node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=14\n"
    "\tmap node=pve2,path=0000:41:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=31\n"
    "\tdescription RTX class GPUs, the big ones\n"
    "\n"
    "nic_passthrough\n"
    "\tmap node=pve1,path=0000:05:00.0;0000:05:00.1,id=8086:1572,subsystem-id=8086:0002,iommugroup=20,"
    "description=dual port X710\n"
    "\tlive-migration-capable 0\n"
    "\n"
    "vgpu\n"
    "\tmap node=pve3,path=0000:c1:00.0,id=10de:27b8,subsystem-id=10de:16ca,iommugroup=7\n"
    "\tmdev 1\n";

/* Hand-edited: spaces for tabs, padding, an indented comment, a bare
 * boolean, and no newline at the end. */
static const char file_b[] =
    "gpu-pool   \n"
    "  map node=pve1,path=0000:01:00,id=10de:2684  \n"
    " \t map   node=pve2,path=0000:02:00,id=10de:2684\n"
    "    # indented comment\n"
    "\tdescription   many   spaces   inside\t \n"
    "\n"
    "\n"
    "other\n"
    "\tmdev";

/* Saved from an editor that writes CRLF. */
static const char file_c[] =
    "gpu-pool\r\n"
    "\tmap node=pve1,path=0000:01:00,id=10de:2684,iommugroup=14\r\n"
    "\r\n"
    "second\r\n"
    "\tmap node=pve1,path=0000:02:00,id=10de:2684\r\n";

/* Everything PVE would skip or warn about. */
static const char file_d[] =
    "\tmap node=pve1,path=0000:01:00,id=10de:2684\n"   /* 0: before any ID */
    "9lives\n"                                           /* 1: invalid ID */
    "\tmap node=pve1,path=0000:09:00,id=10de:2684\n"   /* 2: in the skipped section */
    "# a comment in it\n"                                /* 3 */
    "\n"                                                 /* 4 */
    "gpu\n"                                              /* 5 */
    "\tmap node=pve1,path=0000:01:00,id=10de:2684\n"   /* 6 */
    "\tdescription one\n"                                /* 7 */
    "\tdescription two\n"                                /* 8: duplicate */
    "\tmdev yes\n"                                       /* 9: 0 or 1 only */
    "\tmdev 1\n"                                         /* 10 */
    "\tmdev 0\n"                                         /* 11: duplicate */
    "\tcomment hello\n"                                  /* 12: unknown */
    "\tmap\n"                                            /* 13: no value */
    "   \n"                                              /* 14: whitespace only */
    "other\n"                                            /* 15: no empty line before */
    "\tmap node=pve2,path=0000:02:00,id=10de:2684\n"   /* 16: still gpu's */
    "\tmap node=pve3,path=0000:03:00\n"                 /* 17: no id: invalid entry */
    "\tmap node=pve3,path=0000:04:00,id=1:2,bogus=1\n" /* 18: unknown key */
    "\tmap node=pve3,node=x,path=0000:05:00,id=1:2\n"  /* 19: key twice */
    "\tmap bare,node=pve3,path=0000:06:00,id=1:2\n"    /* 20: a bare value */
    "0\n"                                                /* 21: ends the section */
    "\tmdev 1\n"                                         /* 22: outside */
    "two words\n"                                        /* 23 */
    "\n"                                                 /* 24 */
    "gpu\n"                                              /* 25: replaces the first gpu */
    "\tmap node=pve9,path=0000:0a:00,id=10de:2684\n";  /* 26 */

static void roundtrip(const char *s, size_t len)
{
    gp_pvemap m;
    gp_error err = { 0 };
    char *out;
    size_t out_len = 0;

    assert_int_equal(gp_pvemap_parse(s, len, "test", &m, &err), 0);
    out = gp_pvemap_format(&m, &out_len);
    assert_non_null(out);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, s, len);
    assert_int_equal(out[out_len], '\0');
    free(out);
    gp_pvemap_clear(&m);
}

static void parse(const char *s, gp_pvemap *m)
{
    assert_int_equal(gp_pvemap_parse(s, strlen(s), "test", m, NULL), 0);
}

static char *format(const gp_pvemap *m)
{
    char *out = gp_pvemap_format(m, NULL);

    assert_non_null(out);
    return out;
}

static void assert_bad(const gp_pvemap *m, size_t line, const char *why_part)
{
    assert_true(line < m->n_lines);
    if (m->lines[line].type != GP_PVEMAP_LINE_BAD || !m->lines[line].why_bad)
        fail_msg("line %zu (\"%s\") is not BAD", line, m->lines[line].text);
    if (!strstr(m->lines[line].why_bad, why_part))
        fail_msg("line %zu: \"%s\" does not say \"%s\"", line, m->lines[line].why_bad, why_part);
}

static const gp_pvemap_entry *find_entry(const gp_pvemap *m, const char *section, const char *node, const char *path)
{
    long s = gp_pvemap_find(m, section);

    if (s < 0)
        return NULL;
    for (size_t i = 0; i < m->sections[s].n_entries; i++) {
        const gp_pvemap_entry *e = &m->sections[s].entries[i];

        if (e->node && e->path && strcmp(e->node, node) == 0 && strcmp(e->path, path) == 0)
            return e;
    }
    return NULL;
}

/* Applies set_entry and compares the whole file with what it must become. */
static void set_and_expect(const char *before, const char *name, const char *value, const char *after)
{
    gp_pvemap m;
    char *out;

    parse(before, &m);
    assert_int_equal(gp_pvemap_set_entry(&m, name, value), 0);
    out = format(&m);
    assert_string_equal(out, after);
    free(out);
    /* and the structure knows it, without a second parse */
    {
        char node[32], path[64];

        assert_int_equal(sscanf(value, "node=%31[^,],path=%63[^,]", node, path), 2);
        assert_non_null(find_entry(&m, name, node, path));
    }
    gp_pvemap_clear(&m);
}

static unsigned long long rng_state = 0x2545f4914f6cdd1dull;

static unsigned rnd(unsigned n)
{
    /* xorshift64*: the same cases on every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/* ---- parse and format ----------------------------------------------------- */

static void test_roundtrip(void **state)
{
    static const char *const more[] = {
        "",
        "\n",
        "\n\n\n",
        "gpu",
        "gpu\n",
        "#only a comment",
        "\t\t\n  \n",
        "gpu\n\tmap node=a,path=0000:01:00,id=1:2\n\n\n\n",
        "a\r\n\r\n\r",
        "\r",
        "x\n\t\n\t map \t \n",
        "0\n0\n00\n",
        "gpu\n\tdescription caf\xc3\xa9 \xff\xfe bytes\n",
    };

    roundtrip(file_a, sizeof(file_a) - 1);
    roundtrip(file_b, sizeof(file_b) - 1);
    roundtrip(file_c, sizeof(file_c) - 1);
    roundtrip(file_d, sizeof(file_d) - 1);
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        roundtrip(more[i], strlen(more[i]));
}

static void test_parse_realistic(void **state)
{
    const gp_pvemap_section *s;
    const gp_pvemap_entry *e;
    gp_pvemap m;

    parse(file_a, &m);
    assert_true(m.final_newline);
    assert_int_equal(m.n_lines, 13);
    assert_int_equal(m.n_sections, 3);
    assert_int_equal(m.lines[0].type, GP_PVEMAP_LINE_COMMENT);
    assert_int_equal(m.lines[0].section, -1);
    assert_int_equal(m.lines[1].type, GP_PVEMAP_LINE_HEADER);
    assert_int_equal(m.lines[5].type, GP_PVEMAP_LINE_BLANK);
    assert_int_equal(m.lines[5].section, -1);
    for (size_t i = 0; i < m.n_lines; i++)
        assert_int_not_equal(m.lines[i].type, GP_PVEMAP_LINE_BAD);

    assert_int_equal(gp_pvemap_find(&m, "gpu-pool"), 0);
    assert_int_equal(gp_pvemap_find(&m, "nic_passthrough"), 1);
    assert_int_equal(gp_pvemap_find(&m, "vgpu"), 2);
    assert_int_equal(gp_pvemap_find(&m, "gpu"), -1);
    assert_int_equal(gp_pvemap_find(&m, "GPU-POOL"), -1);

    s = &m.sections[0];
    assert_string_equal(s->name, "gpu-pool");
    assert_int_equal(s->header, 1);
    assert_int_equal(s->end, 5);
    assert_false(s->mdev);
    assert_false(s->live_migration);
    assert_int_equal(s->n_entries, 2);
    e = &s->entries[0];
    assert_true(e->valid);
    assert_int_equal(e->line, 2);
    assert_string_equal(e->node, "pve1");
    assert_string_equal(e->path, "0000:01:00");
    assert_string_equal(e->id, "10de:2684");
    assert_string_equal(e->subsystem_id, "1043:88e2");
    assert_string_equal(e->iommugroup, "14");
    assert_null(e->description);
    assert_string_equal(s->entries[1].node, "pve2");
    for (size_t i = 1; i < 5; i++)
        assert_int_equal(m.lines[i].section, 0);

    s = &m.sections[1];
    assert_int_equal(s->header, 6);
    assert_int_equal(s->end, 9);
    assert_false(s->live_migration);
    assert_int_equal(s->n_entries, 1);
    assert_string_equal(s->entries[0].path, "0000:05:00.0;0000:05:00.1");
    assert_string_equal(s->entries[0].description, "dual port X710");

    s = &m.sections[2];
    assert_true(s->mdev);
    assert_int_equal(s->end, 13);
    assert_string_equal(s->entries[0].node, "pve3");
    gp_pvemap_clear(&m);

    /* odd spacing: values trimmed at the end only, inner spaces kept */
    parse(file_b, &m);
    assert_false(m.final_newline);
    assert_int_equal(m.n_sections, 2);
    s = &m.sections[0];
    assert_string_equal(s->name, "gpu-pool");
    assert_int_equal(s->n_entries, 2);
    assert_string_equal(s->entries[0].id, "10de:2684");
    assert_string_equal(s->entries[1].node, "pve2");
    assert_int_equal(m.lines[3].type, GP_PVEMAP_LINE_COMMENT);
    assert_int_equal(m.lines[3].section, 0);
    assert_int_equal(m.lines[4].type, GP_PVEMAP_LINE_PROP);
    assert_int_equal(s->end, 5);
    /* a bare boolean key means 1 (SectionConfig check_value) */
    assert_true(m.sections[1].mdev);
    assert_int_equal(m.sections[1].n_entries, 0);
    gp_pvemap_clear(&m);

    /* live-migration-capable 1; "mdev 0" */
    parse("x1\n\tmdev 0\n\tlive-migration-capable 1\n\tmap node=n,path=0000:01:00.0,id=1:2\n", &m);
    assert_false(m.sections[0].mdev);
    assert_true(m.sections[0].live_migration);
    assert_true(m.sections[0].entries[0].valid);
    gp_pvemap_clear(&m);

    parse("", &m);
    assert_int_equal(m.n_lines, 0);
    assert_int_equal(m.n_sections, 0);
    gp_pvemap_clear(&m);
}

static void test_parse_bad(void **state)
{
    const gp_pvemap_section *s;
    gp_pvemap m;

    parse(file_d, &m);
    assert_int_equal(m.n_lines, 27);
    assert_bad(&m, 0, "outside a section");
    assert_int_equal(m.lines[0].section, -1);
    assert_bad(&m, 1, "not a valid mapping ID");
    assert_bad(&m, 2, "belongs to a section PVE skips");
    assert_int_equal(m.lines[2].section, -1);
    assert_int_equal(m.lines[3].type, GP_PVEMAP_LINE_COMMENT);
    assert_int_equal(m.lines[3].section, -1);
    assert_int_equal(m.lines[4].type, GP_PVEMAP_LINE_BLANK);

    /* the first "gpu" is replaced by the one on line 25 */
    assert_int_equal(m.n_sections, 1);
    s = &m.sections[0];
    assert_string_equal(s->name, "gpu");
    assert_int_equal(s->header, 25);
    assert_int_equal(s->n_entries, 1);
    assert_string_equal(s->entries[0].node, "pve9");
    assert_int_equal(gp_pvemap_find(&m, "gpu"), 0);
    assert_bad(&m, 5, "same ID");
    assert_bad(&m, 6, "replaces");
    assert_bad(&m, 7, "replaces");
    for (size_t i = 5; i <= 20; i++)
        assert_int_equal(m.lines[i].section, -1);
    gp_pvemap_clear(&m);

    /* the same file without the second "gpu": the first one in detail */
    {
        char *cut = strdup(file_d);

        assert_non_null(cut);
        *strstr(cut, "\ngpu\n\tmap node=pve9") = '\0';
        parse(cut, &m);
        free(cut);
    }
    assert_int_equal(m.n_sections, 1);
    s = &m.sections[0];
    assert_int_equal(s->header, 5);
    assert_int_equal(s->end, 21);
    assert_int_equal(m.lines[5].type, GP_PVEMAP_LINE_HEADER);
    assert_int_equal(m.lines[6].type, GP_PVEMAP_LINE_PROP);
    assert_int_equal(m.lines[7].type, GP_PVEMAP_LINE_PROP);
    assert_bad(&m, 8, "duplicate attribute");
    assert_bad(&m, 9, "only 0 or 1");
    assert_int_equal(m.lines[10].type, GP_PVEMAP_LINE_PROP);
    assert_bad(&m, 11, "duplicate attribute");
    assert_true(s->mdev);
    assert_bad(&m, 12, "unknown property");
    assert_bad(&m, 13, "without a value");
    assert_bad(&m, 14, "only whitespace");
    assert_bad(&m, 15, "empty line before it");
    /* PVE reads on: the maps after "other" are gpu's */
    assert_int_equal(m.lines[16].section, 0);
    assert_int_equal(s->n_entries, 6);
    assert_true(s->entries[0].valid);
    assert_int_equal(s->entries[1].line, 16);
    assert_true(s->entries[1].valid);
    assert_false(s->entries[2].valid);           /* no id */
    assert_string_equal(s->entries[2].path, "0000:03:00");
    assert_null(s->entries[2].id);
    assert_false(s->entries[3].valid);           /* bogus=1 */
    assert_false(s->entries[4].valid);           /* node twice */
    assert_false(s->entries[5].valid);           /* bare value */
    assert_null(s->entries[5].node);
    for (size_t i = 16; i <= 20; i++)
        assert_int_equal(m.lines[i].type, GP_PVEMAP_LINE_PROP);
    assert_bad(&m, 21, "only 0");
    assert_int_equal(m.lines[21].section, -1);
    assert_bad(&m, 22, "outside a section");
    assert_bad(&m, 23, "neither a mapping ID nor a property");
    gp_pvemap_clear(&m);

    /* description limit: 4096 is fine, 4097 is not */
    {
        char buf[4200], text[4098];

        memset(text, 'x', 4096);
        text[4096] = '\0';
        snprintf(buf, sizeof(buf), "g1\n\tdescription %s\n\tmap node=a,path=0000:01:00,id=1:2\n", text);
        parse(buf, &m);
        assert_int_equal(m.lines[1].type, GP_PVEMAP_LINE_PROP);
        gp_pvemap_clear(&m);
        strcat(text, "x");
        snprintf(buf, sizeof(buf), "g1\n\tdescription %s\n", text);
        parse(buf, &m);
        assert_bad(&m, 1, "4096");
        gp_pvemap_clear(&m);
    }

    /* IDs: one letter then one or more of [a-zA-Z0-9_-], nothing else */
    parse("a\n\nab\n\nA-_9\n\n_x\n\nx.y\n\nx\xc3\xa9\n", &m);
    assert_bad(&m, 0, "not a valid mapping ID");
    assert_int_equal(m.lines[2].type, GP_PVEMAP_LINE_HEADER);
    assert_int_equal(m.lines[4].type, GP_PVEMAP_LINE_HEADER);
    assert_bad(&m, 6, "not a valid mapping ID");
    assert_bad(&m, 8, "not a valid mapping ID");
    assert_bad(&m, 10, "not a valid mapping ID");
    assert_int_equal(m.n_sections, 2);
    gp_pvemap_clear(&m);

    /* a header with trailing blanks is still a header (/^(\S+)\s*$/) */
    parse("gpu \t\n\tmap node=a,path=0000:01:00,id=1:2\n", &m);
    assert_int_equal(m.lines[0].type, GP_PVEMAP_LINE_HEADER);
    assert_string_equal(m.sections[0].name, "gpu");
    gp_pvemap_clear(&m);
}

static void test_parse_crlf(void **state)
{
    gp_pvemap m;

    /*
     * A CR is whitespace to PVE: the header and the map parse, but "\r" is
     * not an empty line, so the first section never ends and the second ID
     * is an ignored line inside it; its map lands in gpu-pool.
     */
    parse(file_c, &m);
    assert_int_equal(m.n_lines, 5);
    assert_int_equal(m.lines[0].len, 9);
    assert_memory_equal(m.lines[0].text, "gpu-pool\r", 9);
    assert_int_equal(m.lines[0].type, GP_PVEMAP_LINE_HEADER);
    assert_int_equal(m.n_sections, 1);
    assert_string_equal(m.sections[0].name, "gpu-pool");
    assert_int_equal(m.sections[0].n_entries, 2);
    assert_string_equal(m.sections[0].entries[0].iommugroup, "14");
    assert_string_equal(m.sections[0].entries[1].path, "0000:02:00");
    assert_bad(&m, 2, "only whitespace");
    assert_bad(&m, 3, "empty line before it");
    assert_int_equal(gp_pvemap_find(&m, "second"), -1);
    gp_pvemap_clear(&m);
}

static void test_limits(void **state)
{
    static const char nul[] = "gpu\n\tmap node=a\0,path=0000:01:00\n";
    size_t big = 1024 * 1024;
    char *buf = malloc(big + 2);
    gp_error err = { 0 };
    gp_pvemap m;

    assert_non_null(buf);
    /* exactly 1 MiB is what pmxcfs still takes */
    for (size_t i = 0; i < big; i++)
        buf[i] = i % 64 == 63 ? '\n' : '#';
    assert_int_equal(gp_pvemap_parse(buf, big, "big", &m, &err), 0);
    assert_int_equal(m.n_lines, big / 64);
    gp_pvemap_clear(&m);
    buf[big] = '\n';
    assert_int_equal(gp_pvemap_parse(buf, big + 1, "big", &m, &err), -EFBIG);
    assert_int_equal(err.code, -EFBIG);
    assert_non_null(strstr(err.msg, "big"));
    assert_int_equal(m.n_lines, 0);
    assert_null(m.lines);
    free(buf);

    err = (gp_error){ 0 };
    assert_int_equal(gp_pvemap_parse(nul, sizeof(nul) - 1, "pci.cfg", &m, &err), -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    assert_non_null(strstr(err.msg, "pci.cfg"));
    assert_int_equal(m.n_sections, 0);
    assert_int_equal(gp_pvemap_parse(nul, sizeof(nul) - 1, NULL, &m, NULL), -EINVAL);

    /* a NULL buffer of no bytes is an empty file */
    assert_int_equal(gp_pvemap_parse(NULL, 0, NULL, &m, NULL), 0);
    assert_int_equal(m.n_lines, 0);
    gp_pvemap_clear(&m);
}

/* ---- set_entry ------------------------------------------------------------ */

static void test_set_replace(void **state)
{
    gp_pvemap m;
    char *out;

    /* same node and path: that one line, nothing else */
    set_and_expect(file_a, "gpu-pool",
                   "node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=15",
                   "# GPUs for the render VMs\n"
                   "gpu-pool\n"
                   "\tmap node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=15\n"
                   "\tmap node=pve2,path=0000:41:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=31\n"
                   "\tdescription RTX class GPUs, the big ones\n"
                   "\n"
                   "nic_passthrough\n"
                   "\tmap node=pve1,path=0000:05:00.0;0000:05:00.1,id=8086:1572,subsystem-id=8086:0002,"
                   "iommugroup=20,description=dual port X710\n"
                   "\tlive-migration-capable 0\n"
                   "\n"
                   "vgpu\n"
                   "\tmap node=pve3,path=0000:c1:00.0,id=10de:27b8,subsystem-id=10de:16ca,iommugroup=7\n"
                   "\tmdev 1\n");

    /* the line's own indentation and trailing bytes stay, a CR too */
    set_and_expect(file_b, "gpu-pool", "node=pve2,path=0000:02:00,id=10de:2685",
                   "gpu-pool   \n"
                   "  map node=pve1,path=0000:01:00,id=10de:2684  \n"
                   " \t map   node=pve2,path=0000:02:00,id=10de:2685\n"
                   "    # indented comment\n"
                   "\tdescription   many   spaces   inside\t \n"
                   "\n"
                   "\n"
                   "other\n"
                   "\tmdev");
    set_and_expect(file_b, "gpu-pool", "node=pve1,path=0000:01:00,id=10de:2684,iommugroup=3",
                   "gpu-pool   \n"
                   "  map node=pve1,path=0000:01:00,id=10de:2684,iommugroup=3  \n"
                   " \t map   node=pve2,path=0000:02:00,id=10de:2684\n"
                   "    # indented comment\n"
                   "\tdescription   many   spaces   inside\t \n"
                   "\n"
                   "\n"
                   "other\n"
                   "\tmdev");
    set_and_expect(file_c, "gpu-pool", "node=pve1,path=0000:01:00,id=10de:2684,iommugroup=15",
                   "gpu-pool\r\n"
                   "\tmap node=pve1,path=0000:01:00,id=10de:2684,iommugroup=15\r\n"
                   "\r\n"
                   "second\r\n"
                   "\tmap node=pve1,path=0000:02:00,id=10de:2684\r\n");

    /* the entry is what the structure says afterwards, and again */
    parse(file_a, &m);
    assert_int_equal(gp_pvemap_set_entry(&m, "vgpu", "node=pve3,path=0000:c1:00.0,id=10de:27b8,iommugroup=8"), 0);
    assert_string_equal(find_entry(&m, "vgpu", "pve3", "0000:c1:00.0")->iommugroup, "8");
    assert_null(find_entry(&m, "vgpu", "pve3", "0000:c1:00.0")->subsystem_id);
    assert_int_equal(m.sections[2].n_entries, 1);
    assert_true(m.sections[2].mdev);
    assert_int_equal(gp_pvemap_set_entry(&m, "vgpu", "node=pve3,path=0000:c1:00.0,id=10de:27b8,iommugroup=9"), 0);
    assert_string_equal(find_entry(&m, "vgpu", "pve3", "0000:c1:00.0")->iommugroup, "9");
    out = format(&m);
    assert_non_null(strstr(out, "vgpu\n\tmap node=pve3,path=0000:c1:00.0,id=10de:27b8,iommugroup=9\n\tmdev 1\n"));
    free(out);
    gp_pvemap_clear(&m);
}

static void test_set_add(void **state)
{
    static const char two_sections[] =
        "gpu\n"
        "\tmap node=pve1,path=0000:01:00,id=10de:2684\n"
        "\tmap node=pve2,path=0000:01:00,id=10de:2684\n"
        "\tdescription keep me\n"
        "\n"
        "other\n"
        "\tmap node=pve1,path=0000:03:00,id=10de:2684\n";

    /* a second alternative for pve1: after the section's last map line */
    set_and_expect(two_sections, "gpu", "node=pve1,path=0000:02:00,id=10de:2684",
                   "gpu\n"
                   "\tmap node=pve1,path=0000:01:00,id=10de:2684\n"
                   "\tmap node=pve2,path=0000:01:00,id=10de:2684\n"
                   "\tmap node=pve1,path=0000:02:00,id=10de:2684\n"
                   "\tdescription keep me\n"
                   "\n"
                   "other\n"
                   "\tmap node=pve1,path=0000:03:00,id=10de:2684\n");
    /* a node the section does not have yet; the section is the last one */
    set_and_expect(two_sections, "other", "node=pve3,path=0000:81:00.0,id=1002:744c,iommugroup=2",
                   "gpu\n"
                   "\tmap node=pve1,path=0000:01:00,id=10de:2684\n"
                   "\tmap node=pve2,path=0000:01:00,id=10de:2684\n"
                   "\tdescription keep me\n"
                   "\n"
                   "other\n"
                   "\tmap node=pve1,path=0000:03:00,id=10de:2684\n"
                   "\tmap node=pve3,path=0000:81:00.0,id=1002:744c,iommugroup=2\n");
    /* the last map line is the file's last line, without a newline */
    set_and_expect("gpu\n\tmap node=a,path=0000:01:00,id=1:2", "gpu", "node=b,path=0000:01:00,id=1:2",
                   "gpu\n\tmap node=a,path=0000:01:00,id=1:2\n\tmap node=b,path=0000:01:00,id=1:2\n");
    /* a section without map: under its ID, where PVE writes map */
    set_and_expect("gpu\n\tdescription d\n\tmdev 1\n", "gpu", "node=a,path=0000:01:00,id=1:2",
                   "gpu\n\tmap node=a,path=0000:01:00,id=1:2\n\tdescription d\n\tmdev 1\n");
    /* an other node's entry with the same path is not "the same" */
    set_and_expect("gpu\n\tmap node=a,path=0000:01:00,id=1:2\n", "gpu", "node=b,path=0000:01:00,id=1:3",
                   "gpu\n\tmap node=a,path=0000:01:00,id=1:2\n\tmap node=b,path=0000:01:00,id=1:3\n");
}

static void test_set_new_section(void **state)
{
    gp_pvemap m;

    set_and_expect("", "gpu-pool", "node=pve1,path=0000:01:00,id=10de:2684",
                   "gpu-pool\n\tmap node=pve1,path=0000:01:00,id=10de:2684\n");
    set_and_expect("\n", "gpu-pool", "node=pve1,path=0000:01:00,id=10de:2684",
                   "\ngpu-pool\n\tmap node=pve1,path=0000:01:00,id=10de:2684\n");
    /* no final newline: the last line gets it, then the empty line */
    set_and_expect(file_b, "newmap", "node=pve1,path=0000:07:00.0,id=8086:1572",
                   "gpu-pool   \n"
                   "  map node=pve1,path=0000:01:00,id=10de:2684  \n"
                   " \t map   node=pve2,path=0000:02:00,id=10de:2684\n"
                   "    # indented comment\n"
                   "\tdescription   many   spaces   inside\t \n"
                   "\n"
                   "\n"
                   "other\n"
                   "\tmdev\n"
                   "\n"
                   "newmap\n"
                   "\tmap node=pve1,path=0000:07:00.0,id=8086:1572\n");
    /* an empty last line already ends the section: no second one */
    set_and_expect("gpu\n\tmap node=a,path=0000:01:00,id=1:2\n\n", "g2", "node=a,path=0000:02:00,id=1:2",
                   "gpu\n\tmap node=a,path=0000:01:00,id=1:2\n\ng2\n\tmap node=a,path=0000:02:00,id=1:2\n");
    /* a last line of blanks does not: an empty line follows it */
    set_and_expect("gpu\n\tmap node=a,path=0000:01:00,id=1:2\n  \n", "g2", "node=a,path=0000:02:00,id=1:2",
                   "gpu\n\tmap node=a,path=0000:01:00,id=1:2\n  \n\ng2\n\tmap node=a,path=0000:02:00,id=1:2\n");
    /* next to a skipped and a replaced section: the edit goes to what PVE reads */
    parse(file_d, &m);
    assert_int_equal(gp_pvemap_set_entry(&m, "lives9", "node=a,path=0000:01:00,id=1:2"), 0);
    assert_int_equal(m.n_sections, 2);
    assert_non_null(find_entry(&m, "lives9", "a", "0000:01:00"));
    assert_int_equal(gp_pvemap_set_entry(&m, "gpu", "node=pve1,path=0000:01:00,id=10de:2684"), 0);
    assert_non_null(find_entry(&m, "gpu", "pve1", "0000:01:00"));
    assert_non_null(find_entry(&m, "gpu", "pve9", "0000:0a:00"));
    assert_int_equal(m.sections[gp_pvemap_find(&m, "gpu")].n_entries, 2);
    /* the replaced first "gpu" kept its lines, still unread by PVE */
    assert_bad(&m, 6, "replaces");
    gp_pvemap_clear(&m);
}

static void test_set_invalid(void **state)
{
    static const char *const names[] = { "", "g", "1gpu", "-gpu", "gpu pool", "gpu\n", "gp\xc3\xa9", "gpu.x", "_a" };
    static const char *const values[] = {
        "", "node=pve1", "path=0000:01:00", "node=,path=0000:01:00", "node=a,path=",
        "0000:01:00,node=a,path=0000:01:00", "=x,node=a,path=0000:01:00",
        " node=a,path=0000:01:00", "node=a,path=0000:01:00 ", "node=a,path=0000:01:00\n",
        "node=a,path=0000:01:00,description=a\rb", "node=a,path=0000:01:00\tx",
    };
    gp_pvemap m;
    char *out;

    parse(file_a, &m);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(gp_pvemap_set_entry(&m, names[i], "node=a,path=0000:01:00,id=1:2"), -EINVAL);
    assert_int_equal(gp_pvemap_set_entry(&m, NULL, "node=a,path=0000:01:00"), -EINVAL);
    assert_int_equal(gp_pvemap_set_entry(&m, "gpu", NULL), -EINVAL);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        assert_int_equal(gp_pvemap_set_entry(&m, "gpu-pool", values[i]), -EINVAL);
    /* nothing changed */
    out = format(&m);
    assert_string_equal(out, file_a);
    free(out);
    assert_int_equal(m.sections[0].n_entries, 2);
    /* an ID of two characters is the shortest valid one */
    assert_int_equal(gp_pvemap_set_entry(&m, "g1", "node=a,path=0000:01:00"), 0);
    assert_int_equal(gp_pvemap_find(&m, "g1"), 3);
    gp_pvemap_clear(&m);
}

/* ---- hardware: value_for and entry_check ---------------------------------- */

static void dev_fill(gp_pci_dev *d, const char *name, uint16_t ven, uint16_t dev, uint16_t sven, uint16_t sdev,
                     int group)
{
    *d = (gp_pci_dev){ .vendor_id = ven, .device_id = dev, .subsys_vendor_id = sven, .subsys_device_id = sdev,
                       .iommu_group = group, .parent = -1, .physfn = -1, .numa_node = -1 };
    assert_int_equal(gp_pci_addr_parse(name, &d->addr, NULL), 0);
    snprintf(d->name, sizeof(d->name), "%s", name);
}

/* Sorted by address, as gp_pci_scan leaves them. */
static gp_pci_dev devs[6];
static gp_pci_list pci = { .devs = devs, .n = 6 };

static void build_pci(void)
{
    dev_fill(&devs[0], "0000:01:00.0", 0x10de, 0x2684, 0x1043, 0x88e2, 14);     /* GPU */
    dev_fill(&devs[1], "0000:01:00.1", 0x10de, 0x22ba, 0x1043, 0x88e2, 14);     /* its audio */
    dev_fill(&devs[2], "0000:05:00.0", 0x8086, 0x1572, 0x8086, 0x0002, 20);
    dev_fill(&devs[3], "0000:05:00.1", 0x8086, 0x1572, 0x8086, 0x0002, 21);
    dev_fill(&devs[4], "0000:06:00.0", 0x1b21, 0x1242, 0x0000, 0x0000, -1);     /* no IOMMU, no subsystem */
    dev_fill(&devs[5], "10000:e1:00.0", 0x1002, 0x744c, 0x1da2, 0xe471, 77);    /* VMD domain */
}

static void test_value_for(void **state)
{
    int gpu[] = { 0, 1 }, nic[] = { 2, 3 }, plain[] = { 4 }, vmd[] = { 5 }, bad[] = { 6 }, neg[] = { -1 };
    char *v = NULL;

    build_pci();
    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 2, true, "pve1", &v), 0);
    assert_string_equal(v, "node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=14");
    free(v);
    assert_int_equal(gp_pvemap_value_for(&pci, nic, 2, false, "pve-2", &v), 0);
    assert_string_equal(v, "node=pve-2,path=0000:05:00.0;0000:05:00.1,id=8086:1572,subsystem-id=8086:0002,"
                           "iommugroup=20");
    free(v);
    assert_int_equal(gp_pvemap_value_for(&pci, nic + 1, 1, false, "pve1", &v), 0);
    assert_string_equal(v, "node=pve1,path=0000:05:00.1,id=8086:1572,subsystem-id=8086:0002,iommugroup=21");
    free(v);
    /*
     * No IOMMU group: no iommugroup. Subsystem IDs of 0000:0000 are still
     * written: sysfs has subsystem_vendor/subsystem_device for every PCI
     * function, so PVE expects subsystem-id even then.
     */
    assert_int_equal(gp_pvemap_value_for(&pci, plain, 1, false, "pve1", &v), 0);
    assert_string_equal(v, "node=pve1,path=0000:06:00.0,id=1b21:1242,subsystem-id=0000:0000");
    free(v);
    assert_int_equal(gp_pvemap_value_for(&pci, vmd, 1, true, "pve1", &v), 0);
    assert_string_equal(v, "node=pve1,path=10000:e1:00,id=1002:744c,subsystem-id=1da2:e471,iommugroup=77");
    free(v);

    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 0, true, "pve1", &v), -EINVAL);
    assert_null(v);
    assert_int_equal(gp_pvemap_value_for(&pci, bad, 1, true, "pve1", &v), -EINVAL);
    assert_int_equal(gp_pvemap_value_for(&pci, neg, 1, true, "pve1", &v), -EINVAL);
    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 1, true, "", &v), -EINVAL);
    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 1, true, NULL, &v), -EINVAL);
    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 1, true, "pve,1", &v), -EINVAL);
    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 1, true, "-pve", &v), -EINVAL);
    assert_int_equal(gp_pvemap_value_for(&pci, gpu, 1, true, "pve 1", &v), -EINVAL);
    assert_null(v);
}

/* Problems for one map value in a section with the given mdev flag. */
static int check(const gp_host *h, const char *value, bool mdev, char ***problems)
{
    char file[1024];
    gp_pvemap m;
    int r;

    snprintf(file, sizeof(file), "gpu\n\tmap %s\n%s", value, mdev ? "\tmdev 1\n" : "");
    parse(file, &m);
    assert_int_equal(m.n_sections, 1);
    assert_int_equal(m.sections[0].n_entries, 1);
    *problems = NULL;
    r = gp_pvemap_entry_check(h, &pci, &m.sections[0], &m.sections[0].entries[0], problems);
    gp_pvemap_clear(&m);
    return r;
}

static void expect_problems(const gp_host *h, const char *value, bool mdev, int n, const char *first)
{
    char **p = NULL;
    int r = check(h, value, mdev, &p);

    if (r != n) {
        for (char **q = p; q && *q; q++)
            print_message("# %s\n", *q);
        fail_msg("%s: %d problems, expected %d", value, r, n);
    }
    if (first && (!p || !strstr(p[0], first)))
        fail_msg("%s: \"%s\" does not say \"%s\"", value, p ? p[0] : "(none)", first);
    for (int i = 0; i < n; i++)
        assert_null(strchr(p[i], '\n'));
    if (n == 0)
        assert_null(p);
    else
        assert_null(p[n]);
    gp_strv_free(p);
}

static void test_entry_check(void **state)
{
    build_pci();

    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=14", false, 0,
                    NULL);
    expect_problems(NULL, "node=pve1,path=0000:01:00.1,id=10de:22ba,subsystem-id=1043:88e2,iommugroup=14", false, 0,
                    NULL);
    /* 0x is stripped on both sides before the exact compare */
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=0x10de:0x2684,subsystem-id=1043:88e2,iommugroup=14",
                    false, 0, NULL);

    /* each mismatch names both values */
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10de:2704,subsystem-id=1043:88e2,iommugroup=14", false, 1,
                    "id: the map says 10de:2704, the hardware has 10de:2684");
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=15", false, 1,
                    "iommugroup: the map says 15, the hardware has 14");
    /* upper case is a mismatch: PVE compares strings, sysfs writes lower case */
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10DE:2684,subsystem-id=1043:88E2,iommugroup=14", false, 2,
                    "the map says 10DE:2684, the hardware has 10de:2684");
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10de:2684,iommugroup=14", false, 1,
                    "missing expected property 'subsystem-id'");
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10de:2684,iommugroup=14", false, 1, "1043:88e2");
    expect_problems(NULL, "node=pve1,path=0000:01:00,subsystem-id=1043:88e2,iommugroup=14", false, 1,
                    "missing expected property 'id'");
    expect_problems(NULL, "node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2", false, 1,
                    "missing expected property 'iommugroup'");
    expect_problems(NULL, "node=pve1,path=0000:06:00.0,id=1b21:1242,subsystem-id=0000:0000,iommugroup=3", false, 1,
                    "unexpected property 'iommugroup'");
    expect_problems(NULL, "node=pve1,path=0000:06:00.0,id=1b21:1242,subsystem-id=0000:0000", false, 0, NULL);
    expect_problems(NULL, "node=pve1,path=0000:06:00.0,id=1b21:1242", false, 1,
                    "missing expected property 'subsystem-id'");

    /* the device is gone; a slot means its function .0 */
    expect_problems(NULL, "node=pve1,path=0000:02:00,id=10de:2684", false, 1, "'0000:02:00.0' not found");
    expect_problems(NULL, "node=pve1,path=0000:01:00.2,id=10de:2684", false, 1, "'0000:01:00.2' not found");
    /* the path's form */
    expect_problems(NULL, "node=pve1,path=01:00.0,id=10de:2684", false, 1, "no PCI domain");
    expect_problems(NULL, "node=pve1,path=01:00,id=10de:2684", false, 1, "'0000:01:00'");
    expect_problems(NULL, "node=pve1,path=0000:01:00.A,id=10de:2684", false, 1, "lower-case hex");
    expect_problems(NULL, "node=pve1,path=0000:1:00.0,id=10de:2684", false, 1, "not a PCI address");
    expect_problems(NULL, "node=pve1,path=0000:01:00.0.1,id=10de:2684", false, 1, "not a PCI address");
    expect_problems(NULL, "node=pve1,path=00000:01:00.0,id=10de:2684", false, 1, "not found");
    expect_problems(NULL, "node=pve1,path=10000:e1:00,id=1002:744c,subsystem-id=1da2:e471,iommugroup=77", false, 0,
                    NULL);
    expect_problems(NULL, "node=pve1,id=10de:2684", false, 1, "no device");

    /* several paths: iommugroup is checked on the first only */
    expect_problems(NULL, "node=pve1,path=0000:05:00.0;0000:05:00.1,id=8086:1572,subsystem-id=8086:0002,"
                    "iommugroup=20", false, 0, NULL);
    expect_problems(NULL, "node=pve1,path=0000:05:00.1;0000:05:00.0,id=8086:1572,subsystem-id=8086:0002,"
                    "iommugroup=20", false, 1, "iommugroup: the map says 20, the hardware has 21");
    expect_problems(NULL, "node=pve1,path=0000:05:00.0;0000:01:00.0,id=8086:1572,subsystem-id=8086:0002,"
                    "iommugroup=20", false, 2, "id: the map says 8086:1572, the hardware has 10de:2684 "
                    "(0000:01:00.0)");
    expect_problems(NULL, "node=pve1,path=0000:05:00.0;;0000:05:00.1;,id=8086:1572,subsystem-id=8086:0002,"
                    "iommugroup=20", false, 1, "''");

    /* what value_for writes always passes the check */
    for (int i = 0; i < 6; i++) {
        int idx[] = { i };
        char *v = NULL, **p = NULL;

        assert_int_equal(gp_pvemap_value_for(&pci, idx, 1, i % 2 == 0, "pve1", &v), 0);
        assert_int_equal(check(NULL, v, false, &p), 0);
        free(v);
    }
}

static void test_entry_check_mdev(void **state)
{
    static const char gpu[] = "node=pve1,path=0000:01:00,id=10de:2684,subsystem-id=1043:88e2,iommugroup=14";
    static const char nic[] = "node=pve1,path=0000:05:00.0,id=8086:1572,subsystem-id=8086:0002,iommugroup=20";
    static const char *const dirs[] = {
        "proc", "sys", "sys/devices", "sys/devices/pci0000:00", "sys/devices/pci0000:00/0000:01:00.0",
        "sys/devices/pci0000:00/0000:01:00.0/mdev_supported_types", "sys/devices/pci0000:00/0000:05:00.0",
        "sys/devices/pci0000:00/0000:05:00.1", "sys/devices/pci0000:00/0000:05:00.1/nvidia",
    };
    char root[256], path[512];
    gp_host *h = NULL;
    FILE *f;

    build_pci();
    assert_int_equal(gp_test_tmpdir(root, sizeof(root), "gp-pvemap"), 0);
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
        assert_int_equal(mkdir(path, 0755), 0);
    }
    snprintf(path, sizeof(path), "%s/proc/cmdline", root);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("root=/dev/sda1\n", f);
    fclose(f);
    assert_int_equal(gp_host_open(root, &h, NULL), 0);
    devs[0].path = (char *)"sys/devices/pci0000:00/0000:01:00.0";
    devs[2].path = (char *)"sys/devices/pci0000:00/0000:05:00.0";
    devs[3].path = (char *)"sys/devices/pci0000:00/0000:05:00.1";

    expect_problems(h, gpu, true, 0, NULL);
    expect_problems(h, gpu, false, 1, "mdev: the map says 0, the hardware has 1");
    expect_problems(h, nic, false, 0, NULL);
    expect_problems(h, nic, true, 1, "mdev: the map says 1, the hardware has 0");
    /* NVIDIA's vGPU driver on kernel 6.8+: nvidia/ instead */
    expect_problems(h, "node=pve1,path=0000:05:00.1,id=8086:1572,subsystem-id=8086:0002,iommugroup=21", true, 0,
                    NULL);
    /* no host, or no sysfs path: nothing to look at, nothing said */
    expect_problems(NULL, gpu, false, 0, NULL);
    devs[0].path = NULL;
    expect_problems(h, gpu, false, 0, NULL);

    for (size_t i = 0; i < 6; i++)
        devs[i].path = NULL;
    gp_host_free(h);
    assert_int_equal(gp_test_rm_rf(root), 0);
}

/* ---- random input --------------------------------------------------------- */

typedef struct tline {
    const char *p;
    size_t len;
} tline;

static size_t split(const char *s, tline *v, size_t max)
{
    size_t n = 0;
    const char *end = s + strlen(s);

    while (s < end && n < max) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));

        v[n++] = (tline){ s, nl ? (size_t)(nl - s) : (size_t)(end - s) };
        s = nl ? nl + 1 : end;
    }
    return n;
}

/* set_entry's promise: old and new differ in one replaced line, or in up
 * to three added ones (an empty line, the ID and the map). */
static void assert_minimal_edit(const char *old, const char *new)
{
    static tline a[4096], b[4096];
    size_t na = split(old, a, 4096), nb = split(new, b, 4096), pre = 0, suf = 0;

    while (pre < na && pre < nb && a[pre].len == b[pre].len && memcmp(a[pre].p, b[pre].p, a[pre].len) == 0)
        pre++;
    while (suf < na - pre && suf < nb - pre && a[na - 1 - suf].len == b[nb - 1 - suf].len &&
           memcmp(a[na - 1 - suf].p, b[nb - 1 - suf].p, a[na - 1 - suf].len) == 0)
        suf++;
    assert_true(na - pre - suf <= 1);
    assert_true(nb - pre - suf <= 3);
    if (na - pre - suf == 1)
        assert_int_equal(nb - pre - suf, 1);
}

static void fuzz_one(const char *buf, size_t len)
{
    static const char *const names[] = { "gpu-pool", "vgpu", "nic_passthrough", "gpu", "other", "newone" };
    gp_pvemap m;
    char *out, *after, value[128];
    const char *name;
    size_t out_len = 0;
    int r;

    r = gp_pvemap_parse(buf, len, "fuzz", &m, NULL);
    if (memchr(buf, '\0', len)) {
        assert_int_equal(r, -EINVAL);
        return;
    }
    assert_int_equal(r, 0);
    out = gp_pvemap_format(&m, &out_len);
    assert_non_null(out);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, buf, len);

    /* the structure holds together */
    for (size_t i = 0; i < m.n_lines; i++) {
        assert_true(m.lines[i].section >= -1 && m.lines[i].section < (long)m.n_sections);
        assert_true((m.lines[i].type == GP_PVEMAP_LINE_BAD) == (m.lines[i].why_bad != NULL));
        assert_int_equal(strlen(m.lines[i].text), m.lines[i].len);
    }
    for (size_t i = 0; i < m.n_sections; i++) {
        const gp_pvemap_section *s = &m.sections[i];

        assert_int_equal(m.lines[s->header].type, GP_PVEMAP_LINE_HEADER);
        assert_true(s->end > s->header && s->end <= m.n_lines);
        assert_int_equal(gp_pvemap_find(&m, s->name), (long)i);
        for (size_t k = 0; k < s->n_entries; k++) {
            assert_int_equal(m.lines[s->entries[k].line].type, GP_PVEMAP_LINE_PROP);
            assert_int_equal(m.lines[s->entries[k].line].section, (long)i);
        }
        /* checking never fails on what a file holds */
        for (size_t k = 0; k < s->n_entries; k++) {
            char **p = NULL;

            assert_true(gp_pvemap_entry_check(NULL, &pci, s, &s->entries[k], &p) >= 0);
            gp_strv_free(p);
        }
    }

    /* an edit: exactly the entry asked for, and the least change */
    name = names[rnd(6)];
    snprintf(value, sizeof(value), "node=pve%u,path=0000:%02x:00%s,id=10de:2684", rnd(4), rnd(3) * 0x40 + 1,
             rnd(2) ? ".0" : "");
    r = gp_pvemap_set_entry(&m, name, value);
    assert_int_equal(r, 0);
    after = format(&m);
    assert_minimal_edit(out, after);
    {
        char node[16], path[32];
        const gp_pvemap_entry *e;

        sscanf(value, "node=%15[^,],path=%31[^,]", node, path);
        e = find_entry(&m, name, node, path);
        assert_non_null(e);
        assert_non_null(strstr(m.lines[e->line].text, value));
        assert_true(e->valid);
    }
    free(after);
    free(out);
    gp_pvemap_clear(&m);
}

static void test_fuzz(void **state)
{
    static const char *const atoms[] = {
        "\n", "\n", "\r\n", "\r", "\t", " ", "#", "0", "\n\n", "gpu-pool", "vgpu", "gpu", "9x", "\tmap ",
        "node=pve1", "node=pve2", ",path=0000:01:00", ",path=0000:41:00", ",id=10de:2684", ",", "=", ";",
        "\tmdev 1", "\tmdev yes", "\tdescription x y", "\tlive-migration-capable", "\xff", "\xc3\xa9", "\0",
    };
    const char *rounds_env = getenv("GP_TEST_ROUNDS");
    unsigned rounds = rounds_env ? (unsigned)strtoul(rounds_env, NULL, 10) : 3000;
    char buf[2048];

    build_pci();
    for (unsigned round = 0; round < rounds; round++) {
        size_t len = 0;

        if (round % 3 == 0) {
            /* random bytes, every value */
            len = rnd(200);
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)rnd(256);
        } else if (round % 3 == 1) {
            /* pieces of the format */
            unsigned n = rnd(40);

            for (unsigned i = 0; i < n; i++) {
                const char *a = atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))];
                size_t al = *a ? strlen(a) : 1;

                if (len + al >= sizeof(buf))
                    break;
                memcpy(buf + len, a, al);
                len += al;
            }
        } else {
            /* a valid file, mutated a little */
            const char *src = (const char *[]){ file_a, file_b, file_c, file_d }[rnd(4)];
            unsigned edits = 1 + rnd(6);

            len = strlen(src);
            memcpy(buf, src, len);
            for (unsigned e = 0; e < edits; e++) {
                size_t at = len ? rnd((unsigned)len) : 0;

                switch (rnd(4)) {
                case 0:                         /* replace a byte */
                    if (len)
                        buf[at] = rnd(3) ? "\n\r\t #0a9-_:,;="[rnd(14)] : (char)rnd(256);
                    break;
                case 1:                         /* delete a run */
                    if (len) {
                        size_t cut = 1 + rnd(8);

                        if (cut > len - at)
                            cut = len - at;
                        memmove(buf + at, buf + at + cut, len - at - cut);
                        len -= cut;
                    }
                    break;
                case 2:                         /* insert a byte */
                    if (len + 1 < sizeof(buf)) {
                        memmove(buf + at + 1, buf + at, len - at);
                        buf[at] = "\n\r\t #0x"[rnd(7)];
                        len++;
                    }
                    break;
                default:                        /* cut the end */
                    len = at;
                    break;
                }
            }
        }
        fuzz_one(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_parse_realistic),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_crlf),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_set_replace),
        cmocka_unit_test(test_set_add),
        cmocka_unit_test(test_set_new_section),
        cmocka_unit_test(test_set_invalid),
        cmocka_unit_test(test_value_for),
        cmocka_unit_test(test_entry_check),
        cmocka_unit_test(test_entry_check_mdev),
        cmocka_unit_test(test_fuzz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
