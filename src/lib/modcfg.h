/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel module configuration as the boot reads it:
 *   - module lists: /etc/modules (modules(5): one module a line, parameters
 *     may follow the name, '#' comments), /etc/modules-load.d/ *.conf
 *     (modules-load.d(5): module name only, '#' and ';' comments) and
 *     /etc/initramfs-tools/modules (initramfs-tools(7), same as /etc/modules);
 *   - modprobe.d files (modprobe.d(5)): alias, blacklist, install, remove,
 *     options, softdep, weakdep; a '\' before the newline continues the line;
 *     anything else is a line modprobe ignores ("ignoring bad line");
 *   - the module index of a kernel: which modules exist, built in or loadable.
 *
 * Names are compared as kmod compares them: '-' and '_' are the same
 * (kmod's underscores()), so vfio-pci and vfio_pci are one module.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host.h"
#include "shared/macro.h"

/* Longest logical line kept; longer lines are cut here and flagged. */
#define GP_MODCFG_LINE_MAX 4096
/* The kernel's MODULE_NAME_LEN is 64 - sizeof(unsigned long): 56 on 64-bit. */
#define GP_MODNAME_MAX 56

/* '-' -> '_' in place, outside [...] as kmod does for patterns; returns name. */
char *gp_modname_normalize(char *name);
/* A normalised copy, NULL on allocation failure. */
char *gp_modname_dup(const char *name);
bool gp_modname_eq(const char *a, const char *b);
/* [A-Za-z0-9_-], 1..GP_MODNAME_MAX-1 characters. */
bool gp_modname_valid(const char *s);
/* Holds a glob character ('*', '?', '['). */
bool gp_modname_is_glob(const char *s);

/* One logical line of a configuration file. */
typedef struct gp_cfgline {
    unsigned line;        /* first physical line, 1-based */
    unsigned last;        /* last physical line (differs after '\' continuations) */
    char *text;           /* continuations joined, the '\r' of a CRLF ending dropped;
                           * a NUL byte is kept out (it ends nothing) */
    size_t len;
    bool cr;              /* ended in "\r\n" */
    bool binary;          /* held NUL or other control bytes */
    bool too_long;        /* longer than GP_MODCFG_LINE_MAX: text is cut */
} gp_cfgline;

typedef struct gp_cfgtext {
    gp_cfgline *lines;
    size_t n;
} gp_cfgtext;

/* Splits buf (len bytes; it may hold NUL bytes) into logical lines;
 * continuation: join lines that end in '\' (modprobe.d only). */
int gp_cfgtext_split(const char *buf, size_t len, bool continuation, gp_cfgtext *ret);
void gp_cfgtext_done(gp_cfgtext *t);

/* ---- module lists ---- */

typedef struct gp_modlist_entry {
    const gp_cfgline *src;
    char *written;        /* the first word as written */
    char *name;           /* normalised */
    char *params;         /* the rest of the line, NULL if none */
} gp_modlist_entry;

typedef struct gp_modlist {
    gp_cfgtext text;
    gp_modlist_entry *v;
    size_t n;
} gp_modlist;

/* semicolon: ';' also starts a comment (modules-load.d(5)). Lines with
 * binary data or cut because too long become no entry. */
int gp_modlist_parse(const char *buf, size_t len, bool semicolon, gp_modlist **ret);
void gp_modlist_free(gp_modlist *l);
static inline void gp_modlist_freep(gp_modlist **l) { if (*l) gp_modlist_free(*l); }
#define _cleanup_modlist_ _cleanup_(gp_modlist_freep)

/* ---- modprobe.d ---- */

typedef enum gp_modprobe_cmd {
    GP_MODPROBE_BAD,          /* not a statement: modprobe ignores the line */
    GP_MODPROBE_ALIAS,
    GP_MODPROBE_BLACKLIST,
    GP_MODPROBE_INSTALL,
    GP_MODPROBE_REMOVE,
    GP_MODPROBE_OPTIONS,
    GP_MODPROBE_SOFTDEP,
    GP_MODPROBE_WEAKDEP,
    _GP_MODPROBE_MAX,
} gp_modprobe_cmd;

const char *gp_modprobe_cmd_to_string(gp_modprobe_cmd c);   /* "options", ..., "bad" */

typedef struct gp_modprobe_stmt {
    gp_modprobe_cmd cmd;
    const gp_cfgline *src;
    char **words;         /* every word as written (space/tab separated) */
    size_t n_words;
    char *module;         /* normalised words[1] (alias: the alias name), NULL if absent */
    char *target;         /* alias: the normalised module it points to */
    const char *rest;     /* options/install/remove/softdep: text after the module (in src) */
    char **pre, **post;   /* softdep, weakdep (post): normalised module names */
    size_t n_pre, n_post;
    bool softdep_no_mode; /* softdep words before any "pre:"/"post:" (kmod drops them) */
    const char *why;      /* GP_MODPROBE_BAD: why modprobe ignores it (static) */
} gp_modprobe_stmt;

typedef struct gp_modprobe_file {
    gp_cfgtext text;
    gp_modprobe_stmt *v;
    size_t n;
} gp_modprobe_file;

/* Parses as kmod's kmod_config_parse does: '#' comments, "\t " separated
 * words, '\' continuation. Binary or cut lines become GP_MODPROBE_BAD. */
int gp_modprobe_parse(const char *buf, size_t len, gp_modprobe_file **ret);
void gp_modprobe_file_free(gp_modprobe_file *f);
static inline void gp_modprobe_file_freep(gp_modprobe_file **f) { if (*f) gp_modprobe_file_free(*f); }
#define _cleanup_modprobe_file_ _cleanup_(gp_modprobe_file_freep)

/* The value of param in an options statement ("ids" -> "10de:2684,10de:22ba",
 * quotes removed; the last occurrence wins, as in the kernel's parse_args).
 * NULL when absent or on allocation failure (*ret_oom set). */
char *gp_modprobe_option(const gp_modprobe_stmt *s, const char *param, bool *ret_oom);

/* vfio-pci ids= entries (drivers/vfio/pci/vfio_pci.c vfio_pci_fill_ids():
 * a comma-separated list of vendor:device[:subvendor[:subdevice[:class[:class_mask]]]],
 * hex, read by sscanf "%x:%x:..."). */
typedef struct gp_pci_id_match {
    unsigned vendor, device, subvendor, subdevice;   /* GP_PCI_ANY_ID when absent */
    unsigned class_code, class_mask;
    unsigned n_fields;
} gp_pci_id_match;
#define GP_PCI_ANY_ID 0xffffffffu

/* Parses one entry strictly; -EINVAL where the kernel would reject it or
 * silently read something else ("10de:26g4" reads as 10de:0026). */
int gp_pci_id_parse(const char *s, gp_pci_id_match *ret);

/* ---- the module index of a kernel ---- */

typedef enum gp_mod_state {
    GP_MOD_ABSENT,
    GP_MOD_LOADABLE,          /* in modules.dep */
    GP_MOD_BUILTIN,           /* in modules.builtin */
} gp_mod_state;

typedef struct gp_modindex gp_modindex;

/*
 * Reads lib/modules/<release>/modules.dep and modules.builtin through the
 * host root. libkmod would look names up only through the binary *.bin
 * indexes, which snapshots and test roots do not carry; the text files hold
 * the same names. -ENOENT when the kernel has no modules.dep.
 */
int gp_modindex_read(const gp_host *h, const char *release, gp_modindex **ret);
/* The same from the two files' contents (builtin may be NULL). */
int gp_modindex_parse(const char *dep, size_t dep_len, const char *builtin, size_t builtin_len, gp_modindex **ret);
void gp_modindex_free(gp_modindex *x);
static inline void gp_modindex_freep(gp_modindex **x) { if (*x) gp_modindex_free(*x); }
#define _cleanup_modindex_ _cleanup_(gp_modindex_freep)

size_t gp_modindex_size(const gp_modindex *x);
/* name in any spelling; x NULL: GP_MOD_ABSENT. */
gp_mod_state gp_modindex_lookup(const gp_modindex *x, const char *name);
/* Module name from an index path: "kernel/drivers/vfio/pci/vfio-pci.ko.zst" -> "vfio_pci". */
int gp_modname_from_path(const char *path, size_t len, char **ret);

/* Modules gpupass knows by name whatever the kernel: the vfio family, kvm,
 * the GPU and HDMI audio drivers, vendor-reset. NULL-terminated. */
extern const char *const gp_modules_known[];
bool gp_module_is_known(const char *name);

/*
 * The name a misspelt module most likely meant: the closest name in x (and
 * in gp_modules_known) within 1 edit for names of 4-5 characters and 2 for
 * longer ones; NULL when none, or when name itself exists. Borrowed.
 */
const char *gp_modindex_suggest(const gp_modindex *x, const char *name);

/* Names in x, else in gp_modules_known, that a shell glob matches
 * (normalised, sorted, NULL-terminated; free with gp_strv_free). */
int gp_modindex_glob(const gp_modindex *x, const char *pattern, char ***ret, size_t *ret_n);

/* Loaded now: listed in proc/modules, or sys/module/<name> exists (built-in
 * modules with parameters appear there too). */
bool gp_module_loaded(const gp_host *h, const char *name);

/* The in-tree and common drivers that claim a GPU or HD-audio function
 * when vfio-pci does not get it first (by vendor and class); out[1] may be
 * NULL, both are NULL for other devices. */
#include "pci.h"
void gp_pci_native_drivers(const gp_pci_dev *d, const char *out[2]);

/* ---- what `check` shares with `lint` (lint-modules.c) ---- */

#include "finding.h"
#include "lint.h"

/* Facts a module file is judged against beyond its own lines. */
typedef struct gp_modules_env {
    gp_modindex *index;          /* the running kernel's, NULL when unknown */
    char **blacklisted;          /* normalised names blacklisted by the host's modprobe.d */
    size_t n_blacklisted;
    char **before_vfio;          /* modules with "softdep <m> pre: vfio-pci" there */
    size_t n_before_vfio;
    bool ids_configured;         /* some host modprobe.d file sets vfio-pci ids= */
} gp_modules_env;

/* Reads the index (ctx->h and ctx->kver.release) and the host's
 * etc/modprobe.d/ *.conf, leaving out the file named skip_base (the one
 * being linted in its place). Without a host: an empty environment. */
int gp_modules_env_init(const gp_lint_ctx *ctx, const char *skip_base, gp_modules_env *env);
void gp_modules_env_done(gp_modules_env *env);

/* gp_lint_modules_file() with an environment and a layer heading of its own
 * (check groups every file under GP_LAYER_MODULES). */
void gp_modules_lint(const gp_lint_ctx *ctx, const gp_modules_env *env, const char *display, const char *layer,
                     gp_file_type t, const char *buf, size_t len, gp_findings *out);
