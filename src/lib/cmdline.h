/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel command lines: the running one (/proc/cmdline), the configured ones
 * (/etc/default/grub and its grub.d snippets, /etc/kernel/cmdline), what the
 * kernel accepts, and the exact edit that adds or removes a parameter in the
 * file this host's boot loader reads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootcfg.h"
#include "finding.h"
#include "host.h"
#include "kernel.h"
#include "pci.h"

/* True when the command line has parameter name (compared as the kernel does:
 * '-' and '_' are the same in names) and, if value is not NULL, with that
 * value (the last occurrence wins, as in the kernel). */
bool gp_cmdline_has(const char *cmdline, const char *name, const char *value);

/*
 * The fix that puts the parameters `add` on the command line and takes the
 * parameters named in `remove` off it (either list may be NULL, each
 * NULL-terminated), for the boot loader in b: the file, the line as it must
 * read afterwards, and the command to run, e.g.
 *   edit /etc/default/grub line 9:
 *   GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"
 *   then run: update-grub && reboot
 * NULL on allocation failure.
 */
char *gp_cmdline_fix(const gp_host *h, const gp_bootcfg *b, const char *const *add, const char *const *remove);

/* ---- parameters ------------------------------------------------------- */

/* One parameter as the kernel's next_arg() (kernel/params.c) splits a line:
 * words end at whitespace outside double quotes; a leading quote and the
 * quotes around a value are dropped. */
typedef struct gp_cmdline_param {
    char *name;               /* before the first '=' ("vfio-pci.ids") */
    char *value;              /* after it, quotes dropped; NULL without '=' */
    char *raw;                /* the word as written */
    const char *file;         /* where it is written (borrowed), NULL if unknown */
    unsigned line;            /* 1-based line in file, 0 if unknown */
    const char *line_text;    /* that line (borrowed, not NUL-terminated) */
    size_t line_len;
    bool unbalanced;          /* a '"' that is never closed: the rest of the line is this word */
} gp_cmdline_param;

typedef struct gp_cmdline {
    gp_cmdline_param *v;
    size_t n, cap;
} gp_cmdline;

/* Appends the words of s[0..len) (NUL bytes count as blanks) to c. */
int gp_cmdline_split(gp_cmdline *c, const char *s, size_t len);
void gp_cmdline_done(gp_cmdline *c);
/* Names compare as kernel/params.c parameqn() does: '-' equals '_'. */
bool gp_cmdline_name_eq(const char *a, const char *b);
/* The last occurrence of name, or NULL. */
const gp_cmdline_param *gp_cmdline_get(const gp_cmdline *c, const char *name);
/* Same name (as above) and same value (both NULL, or equal strings). */
bool gp_cmdline_param_eq(const gp_cmdline_param *a, const gp_cmdline_param *b);

/* Whether the comma list value holds word ("intel_iommu=sm_on,on" has "on"). */
bool gp_cmdline_value_has_word(const char *value, const char *word);

/* Parameters that matter to passthrough: they are compared between the
 * configured file and /proc/cmdline and checked for typos. */
bool gp_cmdline_param_relevant(const char *name);
/* A name the table knows (passthrough or common boot parameters). */
bool gp_cmdline_param_known(const char *name);
/*
 * Checks value against what the kernel accepts for name. true when valid or
 * when there is no rule for name; false with the first bad word (or the whole
 * value) copied to bad.
 */
bool gp_cmdline_value_valid(const char *name, const char *value, char *bad, size_t bad_len);
/* The known passthrough parameter that `name` most likely misspells, or NULL. */
const char *gp_cmdline_typo(const char *name);

/* One vfio-pci.ids entry: vendor:device[:subvendor:subdevice[:class:class_mask]],
 * hex, as vfio_pci_fill_ids() reads it with sscanf("%x:%x:..."). */
typedef struct gp_vfio_id {
    uint32_t vendor, device, subvendor, subdevice, class_code, class_mask;
    int fields;
} gp_vfio_id;

/* 0, or -EINVAL when vfio-pci would log "invalid id string" and skip it. */
int gp_vfio_id_parse(const char *s, size_t len, gp_vfio_id *ret);
bool gp_vfio_id_match(const gp_vfio_id *id, const gp_pci_dev *d);

/* ---- /etc/default/grub ------------------------------------------------ */

/* A shell-fragment parser good enough for what grub-mkconfig sources:
 * KEY=value with '...', "...", unquoted words, backslash escapes and
 * newlines, $VAR / ${VAR} expansion (so a grub.d snippet can append to
 * $GRUB_CMDLINE_LINUX_DEFAULT), `...` and $(...) kept as written. */

typedef struct gp_grub_origin {
    uint32_t line;
    uint16_t file;
    uint8_t verbatim;          /* literal text only: a $ref or `cmd` to keep as is */
} gp_grub_origin;

typedef struct gp_grub_str {
    char *s;
    gp_grub_origin *o;         /* one per byte */
    size_t n, cap;
} gp_grub_str;

typedef struct gp_grub_assign {
    char *name;
    gp_grub_str value;         /* as the shell expands it */
    gp_grub_str literal;       /* unquoted, with $refs kept as written */
    unsigned file;
    unsigned line, line_end;   /* where the assignment starts and ends */
    char quote;                /* '"', '\'' or 0: how the value starts */
    bool exported;
} gp_grub_assign;

typedef enum gp_grub_issue_kind {
    GP_GRUB_SYNTAX,            /* unclosed quote or substitution: update-grub stops */
    GP_GRUB_MULTILINE,         /* a newline inside a quoted GRUB_CMDLINE_* value */
    GP_GRUB_UNQUOTED,          /* GRUB_CMDLINE_*=a b: only "a" is assigned */
    GP_GRUB_BINARY,            /* NUL or control bytes: not a text file */
} gp_grub_issue_kind;

typedef struct gp_grub_issue {
    gp_grub_issue_kind kind;
    unsigned file, line;
    unsigned word_line;        /* syntax: where the word holding the open quote starts */
    char detail[160];
    int assign;                /* the assignment concerned, -1 if none */
} gp_grub_issue;

typedef struct gp_grub_file {
    char *display;
    char *buf;
    size_t len;
    size_t *lines;             /* offset of each line start */
    size_t n_lines;
} gp_grub_file;

typedef struct gp_grub {
    gp_grub_file *files;
    size_t n_files;
    gp_grub_assign *a;
    size_t n_a;
    gp_grub_issue *issues;
    size_t n_issues;
    size_t expanded;           /* bytes copied by $VAR expansion so far (bounded) */
} gp_grub;

/* Parses one file, in the order grub-mkconfig sources them (the main file,
 * then grub.d/ *.cfg sorted). Only allocation failure is an error; syntax
 * errors are issues. */
int gp_grub_parse(gp_grub *g, const char *display, const char *buf, size_t len);
/* Reads etc/default/grub and etc/default/grub.d/ *.cfg of the host; -ENOENT when neither exists. */
int gp_grub_load(const gp_host *h, gp_grub *g);
void gp_grub_done(gp_grub *g);
/* The last assignment of name, or NULL. */
const gp_grub_assign *gp_grub_get(const gp_grub *g, const char *name);
/* The default entry's command line: GRUB_CMDLINE_LINUX then
 * GRUB_CMDLINE_LINUX_DEFAULT (10_linux), each word with its file and line. */
int gp_grub_cmdline(const gp_grub *g, gp_cmdline *ret);
/* Line text of a file, for evidence. */
const char *gp_grub_line(const gp_grub *g, unsigned file, unsigned line, size_t *ret_len);

/* ---- fixes ------------------------------------------------------------- */

typedef struct gp_cmdline_edit {
    const char *const *add;       /* words to append (skipped when already there) */
    const char *const *remove;    /* names to drop, every occurrence */
    const char *replace_old;      /* one word, as written, replaced in place... */
    const char *replace_new;      /* ...by this ("" or NULL: dropped) */
    const char *const *drop;      /* words, as written, to drop */
} gp_cmdline_edit;

/* The fix for an edit in the host's boot configuration (gp_cmdline_fix's engine). */
char *gp_cmdline_fix_edit(const gp_host *h, const gp_bootcfg *b, const gp_cmdline_edit *e);
/* The edit in parsed GRUB files: each changed line, then update-grub. */
char *gp_grub_fix(const gp_grub *g, const gp_cmdline_edit *e);
/* The edit of /etc/kernel/cmdline (buf NULL: the file is missing, base is the
 * command line to start from), then proxmox-boot-tool refresh. */
char *gp_kernel_cmdline_fix(const char *display, const char *buf, size_t len, const char *base,
                            const gp_cmdline_edit *e);

/*
 * The same edit as new file contents in a plan: for GRUB the assignment
 * lines rewritten in place (quoting, comments and every other line kept;
 * a GRUB_CMDLINE_LINUX_DEFAULT line appended when there is none) and
 * `update-grub`; for systemd-boot the first line of /etc/kernel/cmdline and
 * `proxmox-boot-tool refresh`. Refuses (-EINVAL, err naming the file) a
 * GRUB file with a syntax error or binary bytes and an /etc/kernel/cmdline
 * without root=. Returns 1 when a file changes, 0 when none does.
 */
struct gp_plan;
int gp_cmdline_plan(const gp_host *h, const gp_bootcfg *b, const gp_cmdline_edit *e, struct gp_plan *plan,
                    gp_error *err);

/* The fix when no file is known (a copy of /proc/cmdline): what to change
 * in either boot loader's file. data is unused. */
char *gp_cmdline_generic_fix(const void *data, const gp_cmdline_edit *e);

/* ---- rules (lint-cmdline.c) ------------------------------------------- */

typedef struct gp_cmdline_judge {
    const char *layer;
    int cpu;                      /* gp_cpu_vendor */
    const gp_kver *kver;          /* NULL or unknown: no version rules */
    const gp_pci_list *pci;       /* NULL: no device rules */
    /* The fix for an edit of the source being judged. */
    char *(*fix)(const void *data, const gp_cmdline_edit *e);
    const void *fix_data;
} gp_cmdline_judge;

/* Findings for every parameter of c (duplicates of one rule per source are
 * folded). */
void gp_cmdline_judge_params(const gp_cmdline_judge *j, const gp_cmdline *c, gp_findings *out);
/* Findings for the GRUB parse issues. */
void gp_grub_judge_issues(const gp_cmdline_judge *j, const gp_grub *g, gp_findings *out);
/* Findings for /etc/kernel/cmdline as proxmox-boot-tool reads it (first
 * line, root=), then its parameters. proc_cmdline (may be NULL) supplies the
 * root= of the fix. */
void gp_kernel_cmdline_judge(const gp_cmdline_judge *j, const char *display, const char *buf, size_t len,
                             const char *proc_cmdline, gp_findings *out);
