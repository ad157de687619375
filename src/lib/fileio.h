/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Reads an open file to its end, at most max bytes (more is -EFBIG: a sysfs
 * attribute or /proc file of that size means the input is not what we think).
 * The buffer is NUL-terminated; ret_len excludes the NUL.
 */
int gp_fd_read_all(int fd, size_t max, char **ret, size_t *ret_len);

/* Reads the attribute `name` under dirfd, never following a symlink, with the
 * trailing newline removed. */
int gp_attr_read_at(int dirfd, const char *name, char **ret);
/* Same, parsed as an integer in the given base (0: auto, as the kernel's 0x…). */
int gp_attr_read_long_at(int dirfd, const char *name, int base, long *ret);
/* The raw target of the symlink `name` under dirfd. */
int gp_readlink_at(int dirfd, const char *name, char **ret);
/* The last path component of the symlink target, as the kernel's driver and
 * iommu_group links are read: only the name matters, never the target. */
int gp_readlink_base_at(int dirfd, const char *name, char **ret);

/* Strips trailing whitespace in place; returns s. */
char *gp_strip(char *s);
bool gp_startswith(const char *s, const char *prefix);
bool gp_endswith(const char *s, const char *suffix);

#include <sys/types.h>

/*
 * Replaces the file `name` under dirfd (name may have a directory part) the
 * way systemd writes a file atomically: a temporary ".#NAME.XXXXXX" in the
 * same directory (rename() is atomic only within one file system), created
 * O_EXCL, written whole, given uid/gid and then mode, fsynced, renamed over
 * name, and the directory fsynced so the rename itself survives a crash.
 * Every step passes gp_fault_point(). A failure before the rename removes
 * the temporary file and leaves name untouched; a failure of the final
 * directory fsync comes after the rename (the new content is in place, not
 * yet durable). This is the one helper gpupass writes a file with.
 */
int gp_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid);
