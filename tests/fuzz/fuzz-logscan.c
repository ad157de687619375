/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the kernel-log scanner: any bytes go through line
 * splitting, normalization and the matcher. Seeds: the doctor corpus
 * (tests/fuzz/seeds/logscan is a link to tests/doctor/), every input form
 * the scanner reads (dmesg, journal, ISO times, kmsg records, CRLF, ANSI).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logscan.h"

#define FUZZ_NAME "logscan"
#define FUZZ_TOKENS "\n", "\r\n", "\033[1m", "\033[0m", "[ 1.0] ", "6,1,2,-;", "kernel: ", "0000:01:00.0", \
    "vfio", "DMAR", "AMD-Vi"
#include "fuzz-main.h"

static const char *const needles[] = {
    "can't reserve", "is not viable", "BAR ", "DMAR", "AMD-Vi", "vfio", "\033[", "kernel: ", "0000:", "65535ms",
};

static int on_hit(void *userdata, size_t needle, const gp_logline *l)
{
    unsigned long *n = userdata;

    /* Touch what a hit hands over: the text must be NUL-terminated at len. */
    if (l->text[l->len] != '\0' || needle >= sizeof(needles) / sizeof(needles[0]))
        abort();
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gp_matcher *m;
    gp_logscan_stats st;
    unsigned long n = 0;
    char *copy;

    if (!m && gp_matcher_new(needles, sizeof(needles) / sizeof(needles[0]), &m) < 0)
        abort();
    if (gp_logscan_buffer((const char *)data, size, m, on_hit, &n, &st) < 0)
        abort();
    /* normalize alone, on the whole input as one line */
    copy = malloc(size + 1);
    if (copy) {
        size_t len = size;

        memcpy(copy, data, size);
        copy[size] = '\0';
        (void)gp_logline_normalize(copy, &len);
        if (len > size)
            abort();
        free(copy);
    }
    return 0;
}
