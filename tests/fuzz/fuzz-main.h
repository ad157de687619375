/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the fuzz targets of tests/fuzz/ share. Each target defines
 * LLVMFuzzerTestOneInput() and, before including this file, FUZZ_NAME (its
 * seed directory tests/fuzz/seeds/FUZZ_NAME) and optionally FUZZ_TOKENS
 * (pieces the replay's mutator plants) and FUZZ_MUTATIONS (per seed).
 *
 * With clang and -DGP_LIBFUZZER -fsanitize=fuzzer the target is a libFuzzer
 * target and this file adds only FUZZ_CHECK. Otherwise it adds a main()
 * that replays every seed file and a fixed, seeded series of mutations of
 * each (deterministic: the same run every time), and reports in TAP, so
 * that `make test` runs each target in its plain and sanitizer builds.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: abort() with what failed, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);   \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* A NUL-terminated copy of the input; NULL only when memory ran out. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#ifndef GP_LIBFUZZER
#include <dirent.h>
#include <time.h>

#ifndef FUZZ_MUTATIONS
#define FUZZ_MUTATIONS 300
#endif
#ifndef FUZZ_SEED_MAX
#define FUZZ_SEED_MAX (256 * 1024)
#endif

#ifdef FUZZ_TOKENS
static const char *const fuzz_tokens[] = { FUZZ_TOKENS };
#else
static const char *const fuzz_tokens[] = { "\n", "\r\n", "\\\n", "\"", "'", ",", "=", ":", " ", "\t", "#", "[", "]" };
#endif

static size_t fuzz_read_file(const char *path, uint8_t *buf, size_t max)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return 0;
    n = fread(buf, 1, max, f);
    fclose(f);
    return n;
}

/* One mutation step on mut (len bytes, room for cap); returns the new length. */
static size_t fuzz_mutate_once(uint8_t *mut, size_t len, size_t cap, unsigned *rng)
{
    static const uint8_t edge[] = { 0x00, '\n', '\r', '\\', '"', '\'', ',', '=', ':', '#', ';', ' ', 0x7f, 0xff, '%' };
    size_t at = len ? (size_t)rand_r(rng) % (len + 1) : 0;

    switch (rand_r(rng) % 7) {
    case 0: /* a random byte */
        if (at < len)
            mut[at] = (uint8_t)rand_r(rng);
        break;
    case 1: /* an edge byte */
        if (at < len)
            mut[at] = edge[(size_t)rand_r(rng) % sizeof(edge)];
        break;
    case 2: /* cut */
        if (rand_r(rng) % 4 == 0)
            len = at;
        break;
    case 3: { /* drop a stretch */
        size_t l = (size_t)rand_r(rng) % 32;

        if (at + l > len)
            l = len - at;
        memmove(mut + at, mut + at + l, len - at - l);
        len -= l;
        break;
    }
    case 4: /* duplicate a short stretch */
    case 5: { /* plant a token */
        const uint8_t *p;
        size_t l;

        if (len && rand_r(rng) % 2 == 0) {
            size_t from = (size_t)rand_r(rng) % len;

            l = 1 + (size_t)rand_r(rng) % 64;
            if (from + l > len)
                l = len - from;
            p = mut + from;
        } else {
            const char *t = fuzz_tokens[(size_t)rand_r(rng) % (sizeof(fuzz_tokens) / sizeof(fuzz_tokens[0]))];

            p = (const uint8_t *)t;
            l = strlen(t);
        }
        if (len + l <= cap) {
            uint8_t tmp[64];

            if (l > sizeof(tmp))
                l = sizeof(tmp);
            memcpy(tmp, p, l);
            memmove(mut + at + l, mut + at, len - at);
            memcpy(mut + at, tmp, l);
            len += l;
        }
        break;
    }
    default: /* swap two bytes */
        if (len > 1) {
            size_t b = (size_t)rand_r(rng) % len;
            uint8_t t;

            if (at >= len)
                at = len - 1;
            t = mut[at];
            mut[at] = mut[b];
            mut[b] = t;
        }
        break;
    }
    return len;
}

/* FUZZ_SAVE=path: each input is written there before it runs, so the one
 * that broke an invariant is left behind for a look (and a seed). */
static void fuzz_run(const uint8_t *data, size_t size)
{
    static const char *save;
    static int checked;

    if (!checked) {
        save = getenv("FUZZ_SAVE");
        checked = 1;
    }
    if (save && *save) {
        FILE *f = fopen(save, "wb");

        if (f) {
            if (size)
                fwrite(data, 1, size, f);
            fclose(f);
        }
    }
    LLVMFuzzerTestOneInput(data, size);
}

static int fuzz_name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int fuzz_no_dots(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(void)
{
    const char *dir = GP_TEST_SRCDIR "/tests/fuzz/seeds/" FUZZ_NAME;
    size_t cap = (size_t)FUZZ_SEED_MAX * 2;
    uint8_t *seed = malloc(FUZZ_SEED_MAX), *mut = malloc(cap);
    unsigned rng = 20261127, seeds = 0, runs = 0;
    struct dirent **names = NULL;
    int n = scandir(dir, &names, fuzz_no_dots, fuzz_name_cmp);
    clock_t start = clock();

    if (!seed || !mut)
        return 1;
    /* An empty input first: every parser must take it. */
    fuzz_run(seed, 0);
    for (int i = 0; i < n; i++) {
        char path[4096];
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        len = fuzz_read_file(path, seed, FUZZ_SEED_MAX);
        free(names[i]);
        seeds++;
        fuzz_run(seed, len);
        for (int k = 0; k < FUZZ_MUTATIONS; k++) {
            size_t l = len;

            /* a time cap for slow machines and sanitizer builds; the series is the same up to it */
            if ((double)(clock() - start) / CLOCKS_PER_SEC > 2.0)
                break;
            memcpy(mut, seed, len);
            for (int j = 0; j < 1 + rand_r(&rng) % 6; j++)
                l = fuzz_mutate_once(mut, l, cap, &rng);
            fuzz_run(mut, l);
            runs++;
        }
    }
    free(names);
    if (seeds == 0)
        printf("not ok 1 - fuzz-%s: no seed files in %s\n1..1\n", FUZZ_NAME, dir);
    else
        printf("ok 1 - fuzz-%s: %u seeds, %u mutations without a crash or a broken invariant\n1..1\n", FUZZ_NAME,
               seeds, runs);
    free(seed);
    free(mut);
    return seeds == 0;
}
#endif
