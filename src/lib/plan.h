/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A plan: every change gpupass would make to a host, built before anything
 * is written. File edits (root-relative path, content before, content
 * after) and the commands that make them take effect (update-grub,
 * update-initramfs, ...). A command belongs to the files that need it and is
 * in the plan only when one of those files really changes, so a plan built
 * on a host that already has the configuration is empty.
 *
 * The plan is shown as a unified diff (plan-diff.c) and carried out by the
 * transaction engine (txn.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "host.h"

typedef struct gp_plan_file {
    char *path;          /* root-relative: "etc/default/grub" */
    bool existed;        /* false: the plan creates it */
    char *old;           /* content before (NULL when !existed) */
    size_t old_len;
    char *new;           /* content after */
    size_t new_len;
    mode_t mode;         /* permission bits for a file the plan creates (existing files keep theirs) */
    char *why;           /* one line: what the edit is for */
} gp_plan_file;

typedef struct gp_plan_cmd {
    char **argv;         /* NULL-terminated */
    char *why;
    /* Run at apply only. The others (update-grub, update-initramfs, daemon-
     * reload) rebuild state from the files, so undo runs them again on the
     * restored files; a command that acts on hardware (nvidia-smi mig -cgi)
     * must not be repeated by undo. */
    bool once;
} gp_plan_cmd;

typedef struct gp_plan {
    gp_plan_file *files;
    size_t n_files;
    gp_plan_cmd *cmds;
    size_t n_cmds;
    char **notes;        /* what the user should know (NULL-terminated or NULL) */
} gp_plan;

/*
 * Sets the content path must have after the plan. The content before is
 * read through the host the first time the path is named; naming it again
 * replaces the planned content (edits build on each other: read it back with
 * gp_plan_content()). Returns 1 when the planned content differs from what
 * the file has now, 0 when it does not (the file then stays out of the
 * applied plan), or a negative errno (a file that exists but cannot be read
 * is -EIO with err naming it).
 */
int gp_plan_set_file(gp_plan *p, const gp_host *h, const char *path, const char *content, size_t len, mode_t mode,
                     const char *why, gp_error *err);
/* The content path will have: planned, else current (read through h);
 * -ENOENT when it neither exists nor is planned. Borrowed (valid until the
 * next change of the plan) unless the file is read: then *ret_owned is set
 * and the caller frees *ret. */
int gp_plan_content(gp_plan *p, const gp_host *h, const char *path, const char **ret, size_t *ret_len,
                    char **ret_owned);
/* Adds a command (argv NULL-terminated, copied) once, in order, unless an
 * identical one is already planned. */
int gp_plan_add_cmd(gp_plan *p, const char *why, const char *const *argv);
/* The same for a command undo must not run again (gp_plan_cmd.once). */
int gp_plan_add_cmd_once(gp_plan *p, const char *why, const char *const *argv);
int gp_plan_add_note(gp_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Files whose content changes; the others were only looked at. */
size_t gp_plan_changed_files(const gp_plan *p);
bool gp_plan_file_changes(const gp_plan_file *f);
/* Nothing to write (commands alone make no plan: they belong to files). */
bool gp_plan_is_empty(const gp_plan *p);

void gp_plan_clear(gp_plan *p);

/*
 * The plan as text: for each changed file, "--- a/PATH" / "+++ b/PATH" and
 * unified-diff hunks with 3 lines of context (a created file diffs against
 * /dev/null; a file without a final newline says so, as diff does), then the
 * commands. NULL on allocation failure.
 */
char *gp_plan_diff(const gp_plan *p);
/* One file's unified diff between two texts (plan-diff.c). */
char *gp_text_diff(const char *label_a, const char *a, size_t a_len, const char *label_b, const char *b,
                   size_t b_len);
