/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transaction engine: the one way gpupass changes files on a host.
 *
 * apply: a journal entry under <root>/var/lib/gpupass/journal/<id>/ is
 * written (the manifest, a backup of every original with its mode and
 * owner, the new content) before any target is touched; then each changed
 * file is replaced atomically (temporary file in the same directory, O_EXCL,
 * fsync, rename, fsync of the directory), each step logged; a failure while
 * replacing files puts back the ones already replaced; then the commands
 * run, stopping at the first failure. Files whose content would not change
 * are never touched. A target that is a symlink leading outside etc/ is
 * refused.
 *
 * undo: restores the files of a transaction byte for byte with their mode
 * and owner (a file the transaction created is removed), refusing when a
 * file was changed since (unless forced), then re-runs the transaction's
 * commands so the boot loader and initramfs see the restored files.
 *
 * Every step passes a fault point (gp_fault_point) so tests can kill the
 * process or inject an I/O error at each one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "host.h"
#include "plan.h"
#include "runner.h"

#define GP_JOURNAL_DIR "var/lib/gpupass/journal"

typedef struct gp_txn_result {
    char id[64];             /* journal entry name */
    size_t files_written;
    size_t cmds_run;         /* commands that ran and succeeded */
    int failed_cmd;          /* index of the command that failed, -1 none */
    int failed_status;       /* its exit status or negative errno */
} gp_txn_result;

/* The host must be a directory root (not an extracted archive) and writable.
 * Apply and undo return 0 once the files are written (restored), also when
 * a command then failed: ret->failed_cmd says which. Refusals: -ESTALE (a
 * target changed since the plan), -EXDEV (a symlink out of etc/), -EROFS
 * (archive or read-only root), -EBUSY (another gpupass holds the journal);
 * undo: -ECANCELED (a file changed since, without force), -EALREADY,
 * -ENOENT (nothing to undo). An entry cut off before its manifest was
 * written changed nothing: undo marks it undone and returns 0 with no file. */
int gp_txn_apply(const gp_host *h, const gp_plan *p, const gp_runner *run, gp_txn_result *ret, gp_error *err);

/* id NULL: the newest transaction not undone yet. */
int gp_txn_undo(const gp_host *h, const char *id, bool force, const gp_runner *run, gp_txn_result *ret,
                gp_error *err);

typedef struct gp_txn_info {
    char id[64];
    time_t when;
    size_t n_files;
    char **files;            /* root-relative paths, NULL-terminated */
    char **cmds;             /* each command as one line, NULL-terminated */
    bool complete;           /* every file written and every command run */
    bool undone;
} gp_txn_info;

/* Oldest first. */
int gp_txn_list(const gp_host *h, gp_txn_info **ret, size_t *ret_n);
void gp_txn_info_free(gp_txn_info *v, size_t n);

/*
 * Test seam: GPUPASS_FAULT=N:kill makes the Nth fault point of the process
 * end it at once (_exit(99)), GPUPASS_FAULT=N:enospc makes it fail with
 * -ENOSPC. GPUPASS_FAULT_LOG=FILE appends each point's name. Returns 0, or
 * the injected error.
 */
int gp_fault_point(const char *name);
/* Test seam: forget the count and read GPUPASS_FAULT again (a test that
 * loops over N calls this before each run). */
void gp_fault_reset(void);
