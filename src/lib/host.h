/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host root: every file gpupass reads about a machine is read through one
 * gp_host, rooted at "/" on a live host or at a snapshot (a directory, or an
 * archive extracted to a private temporary directory). Paths are given
 * relative to the root ("sys/bus/pci/devices"). Symlinks are resolved inside
 * the root: a relative link that climbs above it is -EXDEV, never a read of
 * the live host; an absolute link target is taken relative to the root, as a
 * chroot would.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct gp_host gp_host;

/* root: NULL or "" means "/"; a directory; or a regular file, taken as a
 * snapshot archive (tar, optionally compressed). */
int gp_host_open(const char *root, gp_host **ret, gp_error *err);
void gp_host_free(gp_host *h);
static inline void gp_host_freep(gp_host **h) { if (*h) gp_host_free(*h); }
#define _cleanup_host_ _cleanup_(gp_host_freep)

/* Absolute path of the directory the host is read from. */
const char *gp_host_root(const gp_host *h);
/* What the user named (the directory or the archive). */
const char *gp_host_source(const gp_host *h);
/* True when the root was extracted from a snapshot archive: a read-only view. */
bool gp_host_is_archive(const gp_host *h);
/* True when the root is "/": the machine gpupass runs on. */
bool gp_host_is_live(const gp_host *h);
/* The root's directory fd, for *at() calls with paths from gp_host_resolve(). */
int gp_host_rootfd(const gp_host *h);

/* Canonical root-relative path of `path` with every symlink resolved inside
 * the root ("" is the root itself). */
int gp_host_resolve(const gp_host *h, const char *path, char **ret);
/* Opens a resolved path: a directory (O_DIRECTORY) or a file for reading. */
int gp_host_open_dir(const gp_host *h, const char *path);
int gp_host_open_file(const gp_host *h, const char *path);
/* Whole file, at most max bytes, NUL-terminated. */
int gp_host_read_file(const gp_host *h, const char *path, size_t max, char **ret, size_t *ret_len);
/* A one-value file (sysfs attribute, /proc/cmdline) with the newline stripped. */
int gp_host_read_attr(const gp_host *h, const char *path, char **ret);
/* The raw target of the symlink at path (its directory part is resolved). */
int gp_host_readlink(const gp_host *h, const char *path, char **ret);
/* Sorted names in a directory, without "." and "..". Free with gp_strv_free. */
int gp_host_list_dir(const gp_host *h, const char *path, char ***ret, size_t *ret_n);
bool gp_host_exists(const gp_host *h, const char *path);
/* A device node ("dev/kvm"): asked directly on a live host or a copy of one;
 * a snapshot lists them in gpupass/devnodes.txt, as archives cannot hold them. */
bool gp_host_devnode_exists(const gp_host *h, const char *path);
/* Opens an attribute for reading and writing on one file description (the
 * PCI `rom` switch is written and read through the same fd). */
int gp_host_open_attr_rw(const gp_host *h, const char *path);
/* Writes value to a sysfs attribute (one write(), as the kernel expects a
 * store). The error is the kernel's answer: -EBUSY, -ENODEV, ... */
int gp_host_write_attr(const gp_host *h, const char *path, const char *value);

void gp_strv_free(char **v);
/* Appends a copy of the first len bytes of s to the NULL-terminated vector
 * *v of *n entries (n may be NULL: counted). -ENOMEM leaves *v valid. */
int gp_strv_append(char ***v, size_t *n, const char *s, size_t len);
/* Appends a formatted string. */
int gp_strv_appendv(char ***v, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static inline void gp_strv_freep(char ***v) { gp_strv_free(*v); }
#define _cleanup_strv_ _cleanup_(gp_strv_freep)
