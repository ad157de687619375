/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lossless Proxmox guest configs: /etc/pve/qemu-server/<vmid>.conf and
 * /etc/pve/lxc/<ctid>.conf.
 *
 * The file is kept as its lines, byte for byte; parsing classifies each line
 * (blank, "#" description, "[section]" header, "key: value", or malformed)
 * and records which section it belongs to. Formatting joins the lines again,
 * so a config parsed and formatted without a change is identical to the
 * input. Edits touch the current (main) section only: snapshots hold what a
 * VM was, [PENDING] what PVE itself queued (qemu-server parse_vm_config /
 * write_vm_config; pve-container parse_pct_config).
 *
 * Values are not validated here (that is lint's job, with line numbers); a
 * line PVE would refuse is kept and marked GP_PVECONF_LINE_BAD.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* pmxcfs refuses files over 1 MiB (EFBIG, pmxcfs memdb.h). */
#define GP_PVECONF_MAX (1024u * 1024u)

typedef enum gp_pveconf_kind {
    GP_PVECONF_QEMU,
    GP_PVECONF_LXC,
} gp_pveconf_kind;

typedef enum gp_pveconf_line_type {
    GP_PVECONF_LINE_BLANK,     /* empty or whitespace only */
    GP_PVECONF_LINE_COMMENT,   /* "#...": one line of the section's description */
    GP_PVECONF_LINE_HEADER,    /* "[name]" */
    GP_PVECONF_LINE_KEY,       /* "key: value" (LXC raw keys also "lxc.x = value") */
    GP_PVECONF_LINE_BAD,       /* anything PVE's parser would refuse or skip */
} gp_pveconf_line_type;

typedef enum gp_pveconf_section_type {
    GP_PVECONF_SECTION_MAIN,      /* the config in force */
    GP_PVECONF_SECTION_PENDING,   /* [PENDING] (VM) or [pve:pending] (CT) */
    GP_PVECONF_SECTION_SPECIAL,   /* [special:cloudinit], [special:fleecing] */
    GP_PVECONF_SECTION_SNAPSHOT,  /* [name] */
    GP_PVECONF_SECTION_UNKNOWN,   /* any other [...]: PVE skips it with a warning */
} gp_pveconf_section_type;

typedef struct gp_pveconf_line {
    char *text;                /* the line without its "\n" */
    size_t len;
    gp_pveconf_line_type type;
    unsigned section;          /* index into sections */
    /* GP_PVECONF_LINE_KEY: key is text[0..key_len), value is
     * text[value_off..value_off+value_len) (whitespace around it excluded). */
    size_t key_len, value_off, value_len;
    const char *why_bad;       /* GP_PVECONF_LINE_BAD: what is wrong (static text) */
} gp_pveconf_line;

typedef struct gp_pveconf_section {
    gp_pveconf_section_type type;
    char *name;                /* NULL for the main section; else the text inside [] */
    size_t header;             /* line index of the header (main: none, 0) */
} gp_pveconf_section;

typedef struct gp_pveconf {
    gp_pveconf_kind kind;
    gp_pveconf_line *lines;
    size_t n_lines;
    bool final_newline;        /* the last line ended with "\n" */
    gp_pveconf_section *sections;
    size_t n_sections;         /* >= 1: sections[0] is the main section */
} gp_pveconf;

/*
 * Parses buf (len bytes). -EFBIG over GP_PVECONF_MAX, -EINVAL for a NUL
 * byte (not a text file); label names the file in err. Malformed lines are
 * not an error: they are kept as GP_PVECONF_LINE_BAD.
 */
int gp_pveconf_parse(const char *buf, size_t len, gp_pveconf_kind kind, const char *label, gp_pveconf *ret,
                     gp_error *err);
void gp_pveconf_clear(gp_pveconf *c);

/* The config as text: the lines joined, the final newline as parsed (an
 * edit adds it).
 * Malloc'd, NUL-terminated; NULL on allocation failure. */
char *gp_pveconf_format(const gp_pveconf *c, size_t *ret_len);

/* The line index of key in the given section, or -1. With duplicates, the
 * last one (PVE's parser lets a later line win). */
long gp_pveconf_find(const gp_pveconf *c, unsigned section, const char *key);
/* The value of key in the section as a malloc'd string in *ret (NULL when
 * absent); returns 1 found, 0 absent, -ENOMEM. */
int gp_pveconf_get(const gp_pveconf *c, unsigned section, const char *key, char **ret);
/* The key of a KEY line, copied into buf (truncated to size). */
const char *gp_pveconf_line_key(const gp_pveconf_line *l, char *buf, size_t size);
/* True for a KEY line of exactly this key (case as written). */
bool gp_pveconf_line_is_key(const gp_pveconf_line *l, const char *key);
/* The value of a KEY line, malloc'd; NULL on allocation failure. */
char *gp_pveconf_line_value(const gp_pveconf_line *l);
/* A value as PVE's schema reads a boolean: 1, on, yes or true in any case;
 * NULL (the key is absent) is false. */
bool gp_pveconf_bool(const char *v);

/*
 * Sets key to value in the main section: rewrites the value of an existing
 * line (the key's spelling and everything else on other lines kept), or
 * inserts a new "key: value" line where PVE's writer would put it (keys
 * sorted; before the first header; after the last key line when the main
 * section is not sorted). -EINVAL for an empty value, one with a line
 * break, or whitespace at either end. Any edit leaves the file ending in "\n", as PVE's writer does.
 */
int gp_pveconf_set(gp_pveconf *c, const char *key, const char *value);
/* Adds one more "key: value" line to the main section, for the keys that
 * repeat (raw lxc.* keys): after the last key line, unless a line with the
 * same key and value is there already (then 0, else 1). */
int gp_pveconf_add(gp_pveconf *c, const char *key, const char *value);
/* Removes key's lines from the main section; 1 removed, 0 absent. */
int gp_pveconf_delete(gp_pveconf *c, const char *key);

/* Keys that appear twice in one section: the first duplicate's line index
 * (the second occurrence), or -1. */
long gp_pveconf_find_duplicate(const gp_pveconf *c, unsigned section);

/*
 * The description encoding of "#" lines (pve-common ParseUtils encode_text /
 * decode_text): bytes 0x20-0x7e pass except '%' and ':'; every other byte is
 * %XX with upper-case hex. decode turns %XX back (a '%' not followed by two
 * hex digits is kept as is). Malloc'd; NULL on allocation failure.
 */
char *gp_pveconf_text_encode(const char *s);
char *gp_pveconf_text_decode(const char *s);
