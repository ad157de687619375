/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Snapshot archives: what `gpupass snapshot` writes and `--root FILE` replays. */
#pragma once

/*
 * This header shares its name with libarchive's <archive.h>, and src/lib is on
 * the include path, so `#include <archive.h>` lands here: pass it on to the
 * system header. Files that need libarchive include <archive.h> with angle
 * brackets before anything else from src/lib.
 */
#if defined(__has_include_next)
#  if __has_include_next(<archive.h>)
#    include_next <archive.h>
#  endif
#endif

#include "error.h"

/*
 * Extracts the archive at `path` into `destdir`, an empty private directory.
 * Hostile input is refused with -EINVAL and a message naming the entry:
 * absolute names, "..", links that would resolve outside destdir, device
 * nodes and fifos, single entries or totals over the size limits.
 */
int gp_archive_extract(const char *path, const char *destdir, gp_error *err);
