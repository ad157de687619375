/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `gpupass snapshot`: everything gpupass reads about a host, and nothing else,
 * in one tar.gz that `--root FILE` replays. Serial numbers, MAC addresses,
 * host names and network addresses are left out unless asked for.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "host.h"

typedef struct gp_snapshot_stats {
    size_t files;        /* entries other than directories */
    size_t skipped;      /* files that could not be captured (listed in gpupass/snapshot.json) */
    uint64_t bytes;      /* size of the archive written */
} gp_snapshot_stats;

typedef struct gp_snapshot_opts {
    bool include_identifiers;  /* keep MAC/IP addresses, host name, UUIDs */
    bool overwrite;            /* replace an existing output file */
    gp_snapshot_stats *stats;  /* optional: filled on success */
} gp_snapshot_opts;

/*
 * Captures `h` into the archive `output` (tar + gzip), written atomically: a
 * temporary file next to it, fsync, rename, directory fsync. On failure no
 * file is left behind, and an existing output is untouched. opts may be NULL.
 */
int gp_snapshot_write(const gp_host *h, const char *output, const gp_snapshot_opts *opts, gp_error *err);
