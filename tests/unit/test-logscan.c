/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel-log scanner (logscan.c): the Aho-Corasick matcher against a
 * naive search on random text, line normalization (dmesg, kmsg, syslog,
 * ISO, CR, ANSI), lines past the limit, binary lines, and the streaming
 * reader giving exactly what the buffer scan gives, in bounded memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "logscan.h"

typedef struct hits {
    unsigned long n;
    unsigned long per[64];
    unsigned long lines[64];  /* line number of the last hit per needle */
    char last_text[256];
    double last_ts;
} hits;

static int count_hit(void *userdata, size_t needle, const gp_logline *l)
{
    hits *h = userdata;

    h->n++;
    if (needle < 64) {
        h->per[needle]++;
        h->lines[needle] = l->lineno;
    }
    snprintf(h->last_text, sizeof(h->last_text), "%s", l->text);
    h->last_ts = l->ts;
    return 0;
}

static void test_normalize(void **state)
{
    static const struct {
        const char *in, *out;
        double ts;
    } cases[] = {
        { "[   12.345678] vfio-pci 0000:01:00.0: BAR 3: can't reserve", "vfio-pci 0000:01:00.0: BAR 3: can't reserve",
          12.345678 },
        { "6,1234,5678901,-;DMAR: IOMMU enabled", "DMAR: IOMMU enabled", 5.678901 },
        { "4,99,1000000,-,caller=T1;AMD-Vi: Interrupt remapping enabled", "AMD-Vi: Interrupt remapping enabled", 1.0 },
        { "Nov 25 10:00:01 pve kernel: vfio-pci 0000:01:00.0: enabling device", "vfio-pci 0000:01:00.0: enabling device",
          -1 },
        { "Nov  5 10:00:01 pve kernel: [    1.500000] pci 0000:00:02.0: BAR 0", "pci 0000:00:02.0: BAR 0", 1.5 },
        { "2025-11-25T10:00:01+0100 pve kernel: DMAR: DRHD: handling fault status reg 3",
          "DMAR: DRHD: handling fault status reg 3", -1 },
        { "\033[1;31m[    2.000000] group 14 is not viable\033[0m\r", "group 14 is not viable", 2.0 },
        { "Nov 25 10:00:01 pve pvedaemon[1234]: start failed: QEMU exited with code 1",
          "Nov 25 10:00:01 pve pvedaemon[1234]: start failed: QEMU exited with code 1", -1 },
        { "[not a stamp] text", "[not a stamp] text", -1 },
        { "", "", -1 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[512];
        size_t len = strlen(cases[i].in);
        double ts;

        memcpy(buf, cases[i].in, len + 1);
        ts = gp_logline_normalize(buf, &len);
        if (strcmp(buf, cases[i].out) != 0 || len != strlen(cases[i].out) ||
            (cases[i].ts < 0 ? ts >= 0 : (ts < cases[i].ts - 1e-6 || ts > cases[i].ts + 1e-6)))
            fail_msg("case %zu: \"%s\" -> \"%s\" (ts %f), expected \"%s\" (ts %f)", i, cases[i].in, buf, ts,
                     cases[i].out, cases[i].ts);
    }
}

/* The matcher finds exactly the needles a naive search finds, once per
 * line, on random text over a small alphabet (many overlaps). */
static void test_matcher_vs_naive(void **state)
{
    const char *alphabet = "abc ";
    unsigned seed = 12345;
    (void)state;

    for (int round = 0; round < 300; round++) {
        char needles_buf[12][8];
        const char *needles[12];
        size_t n = 1 + (size_t)(rand_r(&seed) % 12);
        gp_matcher *m = NULL;
        char text[400];
        size_t len = (size_t)(rand_r(&seed) % 300);
        hits h = { 0 };
        gp_logscan_stats st;

        for (size_t i = 0; i < n; i++) {
            size_t l = 1 + (size_t)(rand_r(&seed) % 5);

            for (size_t k = 0; k < l; k++)
                needles_buf[i][k] = alphabet[rand_r(&seed) % 3];
            needles_buf[i][l] = '\0';
            needles[i] = needles_buf[i];
        }
        for (size_t k = 0; k < len; k++)
            text[k] = rand_r(&seed) % 20 == 0 ? '\n' : alphabet[rand_r(&seed) % 4];
        assert_int_equal(gp_matcher_new(needles, n, &m), 0);
        assert_int_equal(gp_logscan_buffer(text, len, m, count_hit, &h, &st), 0);
        /* naive: per line, per needle, present or not (first of equal needles) */
        for (size_t i = 0; i < n; i++) {
            unsigned long want = 0;
            bool first_of_equal = true;

            for (size_t j = 0; j < i; j++)
                if (strcmp(needles[j], needles[i]) == 0)
                    first_of_equal = false;
            for (size_t off = 0; off <= len && first_of_equal;) {
                const char *nl = memchr(text + off, '\n', len - off);
                size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;
                char line[400];

                memcpy(line, text + off, ll);
                line[ll] = '\0';
                if (ll > 0 || nl)
                    want += strstr(line, needles[i]) != NULL;
                if (!nl)
                    break;
                off += ll + 1;
            }
            if (first_of_equal && h.per[i] != want)
                fail_msg("round %d needle %zu '%s': %lu hits, naive %lu", round, i, needles[i], h.per[i], want);
        }
        gp_matcher_free(m);
    }
}

static void test_long_and_binary_lines(void **state)
{
    const char *needles[] = { "can't reserve", "TAIL" };
    size_t big = GP_LOGSCAN_LINE_MAX * 3;
    char *buf = malloc(big + 200);
    gp_matcher *m = NULL;
    hits h = { 0 };
    gp_logscan_stats st;
    size_t len = 0;
    (void)state;

    assert_non_null(buf);
    assert_int_equal(gp_matcher_new(needles, 2, &m), 0);
    len += (size_t)sprintf(buf + len, "[1.0] can't reserve\n");
    memset(buf + len, 'x', big);
    len += big;
    len += (size_t)sprintf(buf + len, "TAIL\nbin\001ary can't reserve\n[2.0] can't reserve");
    assert_int_equal(gp_logscan_buffer(buf, len, m, count_hit, &h, &st), 0);
    assert_int_equal(st.lines, 4);
    assert_int_equal(st.cut, 1);
    assert_int_equal(st.binary, 1);
    assert_int_equal(h.per[0], 2);     /* the binary line does not count */
    assert_int_equal(h.per[1], 0);     /* TAIL sits past the cut */
    assert_true(h.last_ts > 1.99 && h.last_ts < 2.01);

    /* The same through a pipe, streamed: identical counts. */
    {
        int fds[2];
        hits h2 = { 0 };
        gp_logscan_stats st2;
        bool truncated = true;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            size_t off = 0;

            close(fds[0]);
            while (off < len) {
                ssize_t w = write(fds[1], buf + off, len - off < 7777 ? len - off : 7777);

                if (w <= 0)
                    _exit(1);
                off += (size_t)w;
            }
            _exit(0);
        }
        close(fds[1]);
        assert_int_equal(gp_logscan_fd(fds[0], m, 0, count_hit, &h2, &st2, &truncated), 0);
        close(fds[0]);
        assert_false(truncated);
        assert_int_equal(st2.lines, st.lines);
        assert_int_equal(st2.cut, st.cut);
        assert_int_equal(st2.binary, st.binary);
        assert_int_equal(h2.per[0], h.per[0]);
        assert_int_equal(h2.per[1], h.per[1]);
    }
    gp_matcher_free(m);
    free(buf);
}

static void test_limits(void **state)
{
    const char *empty[] = { "" };
    const char *needles[] = { "x" };
    gp_matcher *m = NULL;
    gp_logscan_stats st;
    hits h = { 0 };
    bool truncated = false;
    int fds[2];
    (void)state;

    assert_int_equal(gp_matcher_new(empty, 1, &m), -EINVAL);
    assert_int_equal(gp_matcher_new(needles, 1, &m), 0);
    assert_int_equal(gp_logscan_buffer("", 0, m, count_hit, &h, &st), 0);
    assert_int_equal(st.lines, 0);
    /* max_bytes stops the scan and says so */
    assert_int_equal(pipe(fds), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(write(fds[1], "x line\n", 7), 7);
    close(fds[1]);
    assert_int_equal(gp_logscan_fd(fds[0], m, 7, count_hit, &h, &st, &truncated), 0);
    close(fds[0]);
    assert_true(truncated);
    gp_matcher_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_matcher_vs_naive),
        cmocka_unit_test(test_long_and_binary_lines),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
