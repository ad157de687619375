/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the kernel-log scanner: any bytes go through line
 * splitting, normalization and the matcher. With clang it builds as a
 * libFuzzer target (-DGP_LIBFUZZER -fsanitize=fuzzer); otherwise main()
 * below replays the seed logs of tests/doctor/ and a few thousand seeded
 * mutations of them, and reports in TAP, so `make test` runs it too.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logscan.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
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

#ifndef GP_LIBFUZZER
static size_t read_seed(const char *path, char *buf, size_t max)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return 0;
    n = fread(buf, 1, max, f);
    fclose(f);
    return n;
}

int main(void)
{
    enum { MAX = 256 * 1024 };
    const char *dir = GP_TEST_SRCDIR "/tests/doctor";
    char *seed = malloc(MAX), *mut = malloc(MAX * 2);
    unsigned rng = 20261125, seeds = 0, runs = 0;
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!seed || !mut)
        return 1;
    /* Built-in seeds, so the target runs even without the corpus. */
    {
        static const char builtin[] = "[ 1.0] x\r\n6,1,2,-;y\n\033[1mz";

        LLVMFuzzerTestOneInput((const uint8_t *)builtin, sizeof(builtin) - 1);
    }
    while (d && (e = readdir(d))) {
        char path[4096];
        size_t n;

        if (!strstr(e->d_name, ".log"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        n = read_seed(path, seed, MAX);
        seeds++;
        LLVMFuzzerTestOneInput((const uint8_t *)seed, n);
        for (int k = 0; k < 200; k++) {
            size_t len = n;

            memcpy(mut, seed, n);
            for (int j = 0; j < 1 + (int)(rand_r(&rng) % 8); j++) {
                size_t at = len ? (size_t)rand_r(&rng) % len : 0;

                switch (rand_r(&rng) % 4) {
                case 0: /* flip a byte */
                    if (len)
                        mut[at] = (char)rand_r(&rng);
                    break;
                case 1: /* cut */
                    len = at;
                    break;
                case 2: /* insert a prefix-looking piece */
                    if (len + 16 < (size_t)MAX * 2) {
                        static const char *const bits[] = { "[", "] ", "6,", ";", "\033[", " kernel: ", "\n",
                                                            "\r", "\0", ":" };
                        const char *b = bits[rand_r(&rng) % 10];
                        size_t bl = strlen(b) ? strlen(b) : 1;

                        memmove(mut + at + bl, mut + at, len - at);
                        memcpy(mut + at, b, bl);
                        len += bl;
                    }
                    break;
                default: /* duplicate a stretch */
                    if (len && len * 2 < (size_t)MAX * 2) {
                        size_t l = (size_t)rand_r(&rng) % (len - at + 1);

                        memmove(mut + at + l, mut + at, len - at);
                        len += l;
                    }
                    break;
                }
            }
            LLVMFuzzerTestOneInput((const uint8_t *)mut, len);
            runs++;
        }
    }
    if (d)
        closedir(d);
    printf("ok 1 - %u seed logs, %u mutations scanned without a crash\n1..1\n", seeds, runs);
    free(seed);
    free(mut);
    return 0;
}
#endif
