/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streaming kernel-log reader: one pass over a log of any size in bounded
 * memory. Each line is normalized (CR, ANSI color codes, the dmesg
 * "[ 12.345678]" stamp, /dev/kmsg's "pri,seq,usec,flags;" record header,
 * syslog/journal "Mon DD HH:MM:SS host kernel: " and ISO-8601 prefixes are
 * taken off; the time is kept when there was one) and matched against
 * every literal needle at once (Aho-Corasick), so the cost does not grow
 * with the number of signatures.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Lines longer than this are cut (the rest skipped and counted). */
#define GP_LOGSCAN_LINE_MAX (64u * 1024u)

typedef struct gp_logline {
    const char *text;          /* normalized message, NUL-terminated */
    size_t len;
    double ts;                 /* seconds since boot, or -1 when the line has no stamp */
    unsigned long lineno;      /* 1-based line number in the input */
} gp_logline;

typedef struct gp_logscan_stats {
    unsigned long lines;
    unsigned long long bytes;
    unsigned long cut;         /* lines longer than GP_LOGSCAN_LINE_MAX */
    unsigned long binary;      /* lines with NUL or other control bytes, skipped */
} gp_logscan_stats;

typedef struct gp_matcher gp_matcher;

/* Builds the matcher for n needles (literal byte strings, matched case-
 * sensitively). -ENOMEM, -EINVAL for an empty needle. */
int gp_matcher_new(const char *const *needles, size_t n, gp_matcher **ret);
void gp_matcher_free(gp_matcher *m);

/* Called for each needle found in a line (each needle at most once per
 * line); return < 0 to stop the scan with that error. */
typedef int (*gp_logscan_hit_fn)(void *userdata, size_t needle, const gp_logline *line);

/*
 * Reads fd to its end (max_bytes 0: no limit; more than that stops the
 * scan and sets *truncated), normalizing and matching every line.
 */
int gp_logscan_fd(int fd, const gp_matcher *m, unsigned long long max_bytes, gp_logscan_hit_fn hit, void *userdata,
                  gp_logscan_stats *stats, bool *truncated);
/* The same over a buffer (a snapshot's kmsg, tests). */
int gp_logscan_buffer(const char *buf, size_t len, const gp_matcher *m, gp_logscan_hit_fn hit, void *userdata,
                      gp_logscan_stats *stats);

/* Normalizes one raw line in place (len in, new length out) and returns
 * its timestamp or -1; exposed for tests and the fuzz target. */
double gp_logline_normalize(char *line, size_t *len);
