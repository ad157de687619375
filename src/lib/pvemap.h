/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Proxmox cluster PCI resource mappings: /etc/pve/mapping/pci.cfg, kept
 * lossless (parse + format without a change gives the same bytes) and
 * checked against this node's hardware the way qemu-server checks a mapping
 * when a VM starts (pve-guest-common PVE/Mapping/PCI.pm assert_valid).
 *
 * The file is a SectionConfig without type prefix: a section starts with a
 * line holding only the mapping ID; its properties are lines that begin with
 * whitespace ("\tkey value"); "map" repeats, one line per node and device;
 * a line whose first non-blank character is '#' is ignored; an empty line
 * ends the section.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "host.h"
#include "pci.h"

#define GP_PVEMAP_PATH "etc/pve/mapping/pci.cfg"

typedef enum gp_pvemap_line_type {
    GP_PVEMAP_LINE_BLANK,
    GP_PVEMAP_LINE_COMMENT,
    GP_PVEMAP_LINE_HEADER,     /* a mapping ID */
    GP_PVEMAP_LINE_PROP,       /* "\tkey value" inside a section */
    GP_PVEMAP_LINE_BAD,        /* a property outside a section, an invalid ID, ... */
} gp_pvemap_line_type;

typedef struct gp_pvemap_line {
    char *text;                /* without "\n" */
    size_t len;
    gp_pvemap_line_type type;
    long section;              /* index into sections, -1 outside any */
    const char *why_bad;       /* GP_PVEMAP_LINE_BAD: static text */
} gp_pvemap_line;

/* One "map" property: the devices of one node that the mapping stands for. */
typedef struct gp_pvemap_entry {
    size_t line;               /* line index */
    char *node, *path, *id, *subsystem_id, *iommugroup, *description;  /* NULL when not given */
    bool valid;                /* property string parsed, node/path/id present */
} gp_pvemap_entry;

typedef struct gp_pvemap_section {
    char *name;
    size_t header;             /* line index of the ID line */
    size_t end;                /* one past its last line (the blank line that ends it is not in it) */
    bool mdev;                 /* "mdev 1" */
    bool live_migration;       /* "live-migration-capable 1" */
    gp_pvemap_entry *entries;
    size_t n_entries;
} gp_pvemap_section;

typedef struct gp_pvemap {
    gp_pvemap_line *lines;
    size_t n_lines;
    bool final_newline;
    gp_pvemap_section *sections;
    size_t n_sections;
} gp_pvemap;

/* -EFBIG past 1 MiB (pmxcfs's limit), -EINVAL for a NUL byte; label names
 * the file in err. Malformed lines are kept as GP_PVEMAP_LINE_BAD. */
int gp_pvemap_parse(const char *buf, size_t len, const char *label, gp_pvemap *ret, gp_error *err);
void gp_pvemap_clear(gp_pvemap *m);
/* Malloc'd, NUL-terminated; NULL on allocation failure. */
char *gp_pvemap_format(const gp_pvemap *m, size_t *ret_len);

/* Index of the section called name, or -1. */
long gp_pvemap_find(const gp_pvemap *m, const char *name);

/*
 * Gives mapping `name` the entry map_value ("node=..,path=..,id=..,...")
 * for its node: replaces the map line of the same node and the same path,
 * else adds a map line after the section's last one; creates the section
 * (at the end of the file, after a blank line) when there is none. Other
 * nodes' lines are never touched. -EINVAL for an invalid mapping ID (a
 * letter then one or more of [a-zA-Z0-9_-]) or a value without node= and
 * path=.
 */
int gp_pvemap_set_entry(gp_pvemap *m, const char *name, const char *map_value);

/*
 * The "map" value for a device group on this node, with the properties
 * qemu-server compares at start: node, path (the slot "0000:01:00" when
 * whole is true, else the functions joined by ';'), id and subsystem-id
 * from the first device (lower-case hex, no 0x), iommugroup of the first.
 * devs are indexes into pci.
 */
int gp_pvemap_value_for(const gp_pci_list *pci, const int *devs, size_t n_devs, bool whole, const char *node,
                        char **ret);

/*
 * Checks one entry against the hardware as assert_valid does: every path
 * part must exist (a slot "0000:01:00" means its function .0); id must equal
 * vendor:device; iommugroup the group of the first path; subsystem-id the
 * subsystem IDs; the section's mdev flag what the device can do
 * (mdev_supported_types, or nvidia/ on newer NVIDIA drivers). Each problem
 * is one line appended to *problems (NULL-terminated, free with
 * gp_strv_free), worded after PVE's messages with the value found, e.g.
 * "iommugroup: the map says 14, the hardware has 15". Returns the number of
 * problems or -ENOMEM.
 */
int gp_pvemap_entry_check(const gp_host *h, const gp_pci_list *pci, const gp_pvemap_section *s,
                          const gp_pvemap_entry *e, char ***problems);
