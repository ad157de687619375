/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Snapshot archives: what `gpupass snapshot` writes and `--root FILE` replays. */
#pragma once

#include "error.h"

/*
 * Extracts the archive at `path` into `destdir`, an empty private directory.
 * Hostile input is refused with -EINVAL and a message naming the entry:
 * absolute names, "..", links that would resolve outside destdir, device
 * nodes and fifos, single entries or totals over the size limits.
 */
int gp_archive_extract(const char *path, const char *destdir, gp_error *err);
