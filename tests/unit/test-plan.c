/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plans (plan.c) and their unified diff (plan-diff.c). The diff is checked
 * against GNU diff itself where /usr/bin/diff exists: a few hundred random
 * edits, each diff either identical to `diff -u` or, where diff picked
 * another alignment of the same quality, one that still turns the old text
 * into the new one when applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "plan.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *s, size_t len)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "we");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void mkdir_p(const char *dir, const char *rel)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0755);
            *p = '/';
        }
    (void)mkdir(path, 0755);
}

typedef struct buf {
    char *s;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const char *p, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    memcpy(b->s + b->n, p, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static void buf_puts(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* Runs GNU diff on two texts (through files in dir); the output, or NULL
 * when there is no diff to ask. */
static char *gnu_diff(const char *dir, const char *a, size_t a_len, const char *b, size_t b_len)
{
    char cmd[9000], chunk[4096];
    buf out = { 0 };
    size_t n;
    FILE *p;

    write_file(dir, "old", a, a_len);
    write_file(dir, "new", b, b_len);
    snprintf(cmd, sizeof(cmd), "LC_ALL=C /usr/bin/diff -u --label a/f --label b/f '%s/old' '%s/new'", dir, dir);
    p = popen(cmd, "re");
    assert_non_null(p);
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        buf_add(&out, chunk, n);
    assert_true(pclose(p) != -1);
    if (!out.s)
        out.s = strdup("");
    return out.s;
}

typedef struct tline {
    const char *p;
    size_t len;         /* without the newline */
    bool nl;
} tline;

static size_t split_lines(const char *s, size_t len, tline **ret)
{
    size_t n = 0, cap = 16;
    tline *v = malloc(cap * sizeof(*v));
    const char *p = s, *end = s + len;

    assert_non_null(v);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (n == cap) {
            v = realloc(v, (cap *= 2) * sizeof(*v));
            assert_non_null(v);
        }
        v[n++] = (tline){ .p = p, .len = nl ? (size_t)(nl - p) : (size_t)(end - p), .nl = nl != NULL };
        p = nl ? nl + 1 : end;
    }
    *ret = v;
    return n;
}

static bool tline_eq(const tline *x, const tline *y)
{
    return x->len == y->len && x->nl == y->nl && memcmp(x->p, y->p, x->len) == 0;
}

/*
 * Applies a unified diff to `a` as patch(1) would with no fuzz, checking
 * every context and removed line and every hunk header's counts; returns
 * false at the first thing that does not hold, else compares with `b`.
 */
static bool diff_applies(const char *diff, const char *a, size_t a_len, const char *b, size_t b_len)
{
    _cleanup_free_ tline *al = NULL, *dl = NULL;
    size_t na = split_lines(a, a_len, &al), nd = split_lines(diff, strlen(diff), &dl), ia = 0, k = 0;
    buf out = { 0 };
    bool ok = false;

    if (nd == 0)
        return a_len == b_len && memcmp(a, b, a_len) == 0;
    if (nd < 2 || strncmp(dl[0].p, "--- ", 4) != 0 || strncmp(dl[1].p, "+++ ", 4) != 0)
        return false;
    k = 2;
    while (k < nd) {
        unsigned long s0, c0 = 1, s1, c1 = 1, seen0 = 0, seen1 = 0;
        char hdr[128], *e;

        if (dl[k].len >= sizeof(hdr) || strncmp(dl[k].p, "@@ -", 4) != 0)
            goto out;
        memcpy(hdr, dl[k].p, dl[k].len);
        hdr[dl[k].len] = '\0';
        s0 = strtoul(hdr + 4, &e, 10);
        if (*e == ',')
            c0 = strtoul(e + 1, &e, 10);
        if (strncmp(e, " +", 2) != 0)
            goto out;
        s1 = strtoul(e + 2, &e, 10);
        if (*e == ',')
            c1 = strtoul(e + 1, &e, 10);
        if (strcmp(e, " @@") != 0)
            goto out;
        (void)s1;
        /* an empty range names the line before it */
        if (c0 == 0)
            s0++;
        if (s0 == 0 || s0 - 1 < ia)
            goto out;
        while (ia < s0 - 1 && ia < na) {
            buf_add(&out, al[ia].p, al[ia].len);
            if (al[ia].nl)
                buf_add(&out, "\n", 1);
            ia++;
        }
        k++;
        while (k < nd && dl[k].len > 0 && strchr(" -+", dl[k].p[0])) {
            tline body = { .p = dl[k].p + 1, .len = dl[k].len - 1, .nl = true };
            char mark = dl[k].p[0];

            if (k + 1 < nd && dl[k + 1].len > 0 && dl[k + 1].p[0] == '\\') {
                body.nl = false;
                k++;
            }
            k++;
            if (mark != '+') {
                if (ia >= na || !tline_eq(&al[ia], &body))
                    goto out;
                ia++;
                seen0++;
            }
            if (mark != '-') {
                buf_add(&out, body.p, body.len);
                if (body.nl)
                    buf_add(&out, "\n", 1);
                seen1++;
            }
        }
        if (seen0 != c0 || seen1 != c1)
            goto out;
    }
    while (ia < na) {
        buf_add(&out, al[ia].p, al[ia].len);
        if (al[ia].nl)
            buf_add(&out, "\n", 1);
        ia++;
    }
    ok = out.n == b_len && (b_len == 0 || memcmp(out.s, b, b_len) == 0);
out:
    free(out.s);
    return ok;
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    /* xorshift64*: the same cases on every run, whatever libc's rand() does */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/* ---- gp_text_diff: fixed cases -------------------------------------------- */

static void check_diff(const char *a, const char *b, const char *want)
{
    _cleanup_free_ char *d = gp_text_diff("a/f", a, strlen(a), "b/f", b, strlen(b));

    assert_non_null(d);
    assert_string_equal(d, want);
    assert_true(diff_applies(d, a, strlen(a), b, strlen(b)));
}

static void test_diff_basic(void **state)
{
    _cleanup_free_ char *d = NULL;

    /* equal: nothing, allocated */
    check_diff("", "", "");
    check_diff("x\ny\n", "x\ny\n", "");
    d = gp_text_diff("a", NULL, 0, "b", NULL, 0);
    assert_non_null(d);
    assert_string_equal(d, "");

    /* a changed line, with 3 lines of context each side */
    check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
               "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    /* a line added at the end */
    check_diff("GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n", "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_X=1\n",
               "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n GRUB_DEFAULT=0\n GRUB_TIMEOUT=5\n+GRUB_X=1\n");
    /* a new file; and everything deleted: "-0,0" / "+0,0" name the line before */
    check_diff("", "vfio\nvfio_pci\n", "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+vfio\n+vfio_pci\n");
    check_diff("one\n", "", "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-one\n");
    check_diff("", "one\n", "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+one\n");
    /* an insertion in the middle: the empty old range names the line before */
    check_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nnew\n5\n6\n7\n8\n",
               "--- a/f\n+++ b/f\n@@ -2,6 +2,7 @@\n 2\n 3\n 4\n+new\n 5\n 6\n 7\n");
    /* missing final newline, either side */
    check_diff("a\nb", "a\nb\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
    check_diff("a\nb\n", "a\nb", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n");
    check_diff("a\nb", "a\nc", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
                               "+c\n\\ No newline at end of file\n");
    check_diff("x\na\nb", "a\nb", "--- a/f\n+++ b/f\n@@ -1,3 +1,2 @@\n-x\n a\n b\n\\ No newline at end of file\n");
    check_diff("", "x", "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n");
    /* two changes 7 lines apart are two hunks; 6 apart, one */
    check_diff("a\n1\n2\n3\n4\n5\n6\n7\nb\n", "A\n1\n2\n3\n4\n5\n6\n7\nB\n",
               "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -6,4 +6,4 @@\n 5\n 6\n 7\n-b\n+B\n");
    check_diff("a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n",
               "--- a/f\n+++ b/f\n@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n");
    /* a block added after a blank line is shown after it, as written */
    check_diff("a\n\nb\n", "a\n\nnew\n\nb\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,5 @@\n a\n \n+new\n+\n b\n");

    /* binary bytes: diff's one-line report, never a cut-off string */
    {
        static const char bin[] = "a\0b\n";
        _cleanup_free_ char *bd = gp_text_diff("a/f", bin, sizeof(bin) - 1, "b/f", "a\n", 2);

        assert_non_null(bd);
        assert_string_equal(bd, "Binary files a/f and b/f differ\n");
        free(bd);
        bd = gp_text_diff("a/f", bin, sizeof(bin) - 1, "b/f", bin, sizeof(bin) - 1);
        assert_string_equal(bd, "");
    }
}

/* ---- gp_text_diff against GNU diff --------------------------------------- */

static const char *const vocab[] = {
    "", "}", "{", "a", "b", "c", "x = 1", "x = 2", "# comment", "options vfio-pci ids=10de:2684",
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"", "\tindented", "  ", "end",
};

static void random_text(buf *t, unsigned lines, unsigned vocab_n, bool unique)
{
    static unsigned serial;

    for (unsigned i = 0; i < lines; i++) {
        char line[64];

        if (unique && rnd(3) == 0)
            snprintf(line, sizeof(line), "line %u\n", serial++);
        else
            snprintf(line, sizeof(line), "%s\n", vocab[rnd(vocab_n)]);
        buf_puts(t, line);
    }
}

/* b: a with a few random line edits (change, insert, delete, at the ends too). */
static void random_edit(const buf *a, buf *b, unsigned vocab_n)
{
    _cleanup_free_ tline *l = NULL;
    size_t n = split_lines(a->s ? a->s : "", a->n, &l);
    unsigned edits = 1 + rnd(4), mode = rnd(10);

    if (mode == 0) {
        /* delete everything, or keep a tail only */
        if (rnd(2))
            buf_add(b, "", 0);
        else if (n > 0)
            for (size_t i = n / 2; i < n; i++) {
                buf_add(b, l[i].p, l[i].len);
                buf_add(b, "\n", l[i].nl);
            }
        return;
    }
    if (mode == 1) {
        /* insertion at start or end only */
        if (rnd(2))
            random_text(b, 1 + rnd(3), vocab_n, true);
        buf_add(b, a->s ? a->s : "", a->n);
        if (a->n && a->s[a->n - 1] != '\n')
            buf_add(b, "\n", 1);
        random_text(b, 1 + rnd(3), vocab_n, true);
        return;
    }
    if (mode == 2) {
        /* another text altogether, from the same lines */
        random_text(b, (unsigned)n + rnd(5), vocab_n, rnd(2));
        return;
    }
    for (size_t i = 0; i <= n; i++) {
        bool done = false;

        if (edits > 0 && rnd((unsigned)n + 1) < 2) {
            switch (rnd(3)) {
            case 0:                         /* insert */
                random_text(b, 1 + rnd(3), vocab_n, true);
                edits--;
                break;
            case 1:                         /* change */
                random_text(b, 1 + rnd(2), vocab_n, true);
                done = true;
                edits--;
                break;
            default:                        /* delete */
                done = true;
                edits--;
                break;
            }
        }
        if (!done && i < n) {
            buf_add(b, l[i].p, l[i].len);
            buf_add(b, "\n", 1);
        }
    }
}

static void strip_final_newline(buf *t)
{
    if (t->n > 0 && t->s[t->n - 1] == '\n')
        t->s[--t->n] = '\0';
}

static void test_diff_vs_gnu(void **state)
{
    char dir[4096];
    unsigned exact = 0, equivalent = 0, cases = 0;

    const char *seed = getenv("GP_TEST_SEED"), *nr = getenv("GP_TEST_ROUNDS");
    unsigned rounds = nr ? (unsigned)strtoul(nr, NULL, 10) : 600;

    if (access("/usr/bin/diff", X_OK) != 0)
        skip();
    /* GP_TEST_SEED / GP_TEST_ROUNDS: more and other cases, by hand */
    if (seed)
        rng_state = strtoull(seed, NULL, 0) | 1;
    assert_int_equal(gp_test_tmpdir(dir, sizeof(dir), "gp-plan-diff"), 0);

    for (unsigned round = 0; round < rounds; round++, cases++) {
        buf a = { 0 }, b = { 0 };
        unsigned vocab_n = 3 + rnd((unsigned)(sizeof(vocab) / sizeof(vocab[0])) - 3);
        unsigned lines = round % 6 != 5 ? rnd(30) : 100 + rnd(1500);
        _cleanup_free_ char *mine = NULL, *theirs = NULL;

        random_text(&a, round % 50 == 7 ? 0 : lines, vocab_n, round % 3 == 0);
        if (round % 40 == 3) {
            buf_add(&b, a.s ? a.s : "", a.n);                   /* identical */
        } else {
            random_edit(&a, &b, vocab_n);
            if (round % 6 == 5)
                for (unsigned e = 0; e < 5 + rnd(20); e++) {   /* scattered edits in a big file */
                    buf c = { 0 };

                    random_edit(&b, &c, vocab_n);
                    free(b.s);
                    b = c;
                }
        }
        if (rnd(8) == 0)
            strip_final_newline(&a);
        if (rnd(8) == 0)
            strip_final_newline(&b);

        mine = gp_text_diff("a/f", a.s ? a.s : "", a.n, "b/f", b.s ? b.s : "", b.n);
        assert_non_null(mine);
        theirs = gnu_diff(dir, a.s ? a.s : "", a.n, b.s ? b.s : "", b.n);
        if (strcmp(mine, theirs) == 0) {
            exact++;
        } else {
            if (!diff_applies(mine, a.s ? a.s : "", a.n, b.s ? b.s : "", b.n))
                fail_msg("case %u: not a diff of the inputs\n--- old:\n%s\n--- new:\n%s\n--- mine:\n%s\n--- diff:\n%s",
                         round, a.s ? a.s : "", b.s ? b.s : "", mine, theirs);
            /* as short as diff's: the same number of changed lines */
            {
                size_t nm = 0, nt = 0;

                for (const char *p = mine; (p = strchr(p, '\n')); p++)
                    nm += p[1] == '-' || p[1] == '+';
                for (const char *p = theirs; (p = strchr(p, '\n')); p++)
                    nt += p[1] == '-' || p[1] == '+';
                if (nm > nt)
                    fail_msg("case %u: %zu changed lines, diff has %zu\n--- mine:\n%s\n--- diff:\n%s", round, nm,
                             nt, mine, theirs);
            }
            equivalent++;
        }
        free(a.s);
        free(b.s);
    }
    print_message("# %u cases: %u identical to diff -u, %u equivalent\n", cases, exact, equivalent);
    /* The alignment is diff's own (all of them with diffutils 3.8); leave
     * a little room for another diff release's choices. */
    assert_true(exact >= cases - cases / 50);
    gp_test_rm_rf(dir);
}

/* ---- large inputs ----------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where GNU diff is there, the same output as it gives. */
static void check_vs_gnu(const char *a, size_t a_len, const char *b, size_t b_len, const char *mine)
{
    char dir[4096];
    char *theirs;

    if (access("/usr/bin/diff", X_OK) != 0)
        return;
    assert_int_equal(gp_test_tmpdir(dir, sizeof(dir), "gp-plan-large"), 0);
    theirs = gnu_diff(dir, a, a_len, b, b_len);
    assert_string_equal(mine, theirs);
    free(theirs);
    gp_test_rm_rf(dir);
}

static void test_diff_large(void **state)
{
    const size_t big = 1024 * 1024;
    _cleanup_free_ char *a = malloc(big + 2), *b = malloc(big + 2);
    char *d;
    buf x = { 0 }, y = { 0 };
    double t0;

    assert_non_null(a);
    assert_non_null(b);

    /* one line of a megabyte, changed in its middle */
    memset(a, 'x', big);
    memcpy(b, a, big);
    b[big / 2] = 'y';
    a[big] = b[big] = '\n';
    d = gp_text_diff("a/f", a, big + 1, "b/f", b, big + 1);
    assert_non_null(d);
    assert_true(strncmp(d, "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-xxx", 32) == 0);
    assert_true(diff_applies(d, a, big + 1, b, big + 1));
    check_vs_gnu(a, big + 1, b, big + 1, d);
    free(d);
    /* without its newline */
    d = gp_text_diff("a/f", a, big, "b/f", b, big + 1);
    assert_true(diff_applies(d, a, big, b, big + 1));
    free(d);

    /* 100 000 lines, a few changes */
    for (unsigned i = 0; i < 100000; i++) {
        char line[64];

        snprintf(line, sizeof(line), "line %u %s\n", i, i % 7 ? "" : "}");
        buf_puts(&x, line);
        if (i % 9973 == 5)
            buf_puts(&y, "changed\n");
        else if (i % 20011 != 9)
            buf_puts(&y, line);
    }
    t0 = now();
    d = gp_text_diff("a/f", x.s, x.n, "b/f", y.s, y.n);
    assert_non_null(d);
    assert_true(diff_applies(d, x.s, x.n, y.s, y.n));
    check_vs_gnu(x.s, x.n, y.s, y.n, d);
    print_message("# 100000 lines, few changes: %.3f s, %zu bytes of diff\n", now() - t0, strlen(d));
    free(d);

    /* 100 000 lines against 100 000 others: nothing matches */
    t0 = now();
    d = gp_text_diff("a/f", x.s, x.n, "b/f", a, big + 1);
    assert_true(diff_applies(d, x.s, x.n, a, big + 1));
    check_vs_gnu(x.s, x.n, a, big + 1, d);
    print_message("# 100000 lines replaced: %.3f s\n", now() - t0);
    free(d);
    free(x.s);
    free(y.s);

    /* the worst case for the search: 100 000 lines each from a 4-line
     * vocabulary, shuffled: every line matches thousands, none is left out
     * of the search, the edit distance is in the tens of thousands. The
     * search stops at its work bound and what is left shows as replaced:
     * a longer diff than GNU diff's, still a right one, in about a second. */
    x = (buf){ 0 };
    y = (buf){ 0 };
    for (unsigned i = 0; i < 100000; i++) {
        buf_puts(&x, vocab[2 + rnd(4)]);
        buf_puts(&x, "\n");
        buf_puts(&y, vocab[2 + rnd(4)]);
        buf_puts(&y, "\n");
    }
    t0 = now();
    d = gp_text_diff("a/f", x.s, x.n, "b/f", y.s, y.n);
    assert_non_null(d);
    print_message("# 100000 shuffled lines: %.3f s\n", now() - t0);
    assert_true(diff_applies(d, x.s, x.n, y.s, y.n));
    free(d);
    free(x.s);
    free(y.s);
}

/* ---- plans ------------------------------------------------------------------ */

typedef struct fixture {
    char root[4096];
    gp_host *host;
} fixture;

static int setup_host(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    gp_error err = { 0 };

    assert_non_null(fx);
    assert_int_equal(gp_test_tmpdir(fx->root, sizeof(fx->root), "gp-plan"), 0);
    mkdir_p(fx->root, "proc");
    mkdir_p(fx->root, "etc/default");
    mkdir_p(fx->root, "etc/modprobe.d/adir");
    write_file(fx->root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1\n", 35);
    write_file(fx->root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n", 50);
    write_file(fx->root, "etc/modules", "# modules\n", 10);
    assert_int_equal(gp_host_open(fx->root, &fx->host, &err), 0);
    *state = fx;
    return 0;
}

static int teardown_host(void **state)
{
    fixture *fx = *state;

    gp_host_free(fx->host);
    gp_test_rm_rf(fx->root);
    free(fx);
    return 0;
}

static void test_plan_files(void **state)
{
    fixture *fx = *state;
    static const char grub_new[] = "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n";
    gp_plan p = { 0 };
    gp_error err = { 0 };
    const char *c;
    size_t len;
    char *owned;

    assert_true(gp_plan_is_empty(&p));

    /* the same content: looked at, not changed */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modules", "# modules\n", 10, 0644, "", &err), 0);
    assert_int_equal(p.n_files, 1);
    assert_true(p.files[0].existed);
    assert_false(gp_plan_file_changes(&p.files[0]));
    assert_true(gp_plan_is_empty(&p));

    /* a change; its content is what later edits build on */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/default/grub", grub_new, strlen(grub_new), 0644,
                                      "turn the IOMMU on", &err), 1);
    assert_false(gp_plan_is_empty(&p));
    assert_int_equal(gp_plan_changed_files(&p), 1);
    assert_int_equal(gp_plan_content(&p, fx->host, "etc/default/grub", &c, &len, &owned), 0);
    assert_null(owned);
    assert_int_equal(len, strlen(grub_new));
    assert_memory_equal(c, grub_new, len);

    /* a second edit of the same file: one entry, both reasons */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/default/grub", grub_new, strlen(grub_new), 0644,
                                      "turn the IOMMU on", &err), 1);
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/default/grub", grub_new, strlen(grub_new), 0644,
                                      "keep quiet", &err), 1);
    assert_int_equal(p.n_files, 2);
    assert_string_equal(p.files[1].why, "turn the IOMMU on; keep quiet");

    /* a reason given only on a later call stands alone */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modules", "# modules\n", 10, 0644, "vfio", &err), 0);
    assert_string_equal(p.files[0].why, "vfio");

    /* a file not in the plan reads through the host; a missing one is -ENOENT */
    assert_int_equal(gp_plan_content(&p, fx->host, "proc/cmdline", &c, &len, &owned), 0);
    assert_non_null(owned);
    assert_ptr_equal(c, owned);
    assert_int_equal(len, 35);
    free(owned);
    assert_int_equal(gp_plan_content(&p, fx->host, "etc/modprobe.d/vfio.conf", &c, &len, &owned), -ENOENT);
    assert_null(owned);

    /* a new file, even an empty one, changes the host */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modprobe.d/vfio.conf", "", 0, 0600, "new", &err), 1);
    assert_false(p.files[2].existed);
    assert_null(p.files[2].old);
    assert_int_equal(p.files[2].mode, 0600);
    assert_int_equal(gp_plan_changed_files(&p), 2);

    /* going back to what the file has: out of the applied plan again */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/default/grub", p.files[1].old, p.files[1].old_len, 0644,
                                      NULL, &err), 0);
    assert_int_equal(gp_plan_changed_files(&p), 1);

    /* something that cannot be read whole is refused, naming it */
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modprobe.d/adir", "x", 1, 0644, "", &err), -EIO);
    assert_int_equal(err.code, -EIO);
    assert_non_null(strstr(err.msg, "/etc/modprobe.d/adir"));
    assert_int_equal(p.n_files, 3);

    gp_plan_clear(&p);
    assert_int_equal(p.n_files, 0);
    assert_null(p.files);
    assert_null(p.notes);
    assert_true(gp_plan_is_empty(&p));
}

static void test_plan_cmds(void **state)
{
    static const char *const grub[] = { "update-grub", NULL };
    static const char *const initrd[] = { "update-initramfs", "-u", "-k", "all", NULL };
    static const char *const initrd_short[] = { "update-initramfs", "-u", NULL };
    gp_plan p = { 0 };

    assert_int_equal(gp_plan_add_cmd(&p, "grub.cfg", grub), 0);
    assert_int_equal(gp_plan_add_cmd(&p, "initramfs", initrd), 0);
    assert_int_equal(gp_plan_add_cmd(&p, "again", grub), 0);
    assert_int_equal(gp_plan_add_cmd(&p, "again", initrd), 0);
    assert_int_equal(p.n_cmds, 2);
    /* a prefix of a planned command is another command */
    assert_int_equal(gp_plan_add_cmd(&p, NULL, initrd_short), 0);
    assert_int_equal(p.n_cmds, 3);
    assert_string_equal(p.cmds[0].argv[0], "update-grub");
    assert_null(p.cmds[0].argv[1]);
    assert_string_equal(p.cmds[0].why, "grub.cfg");
    assert_string_equal(p.cmds[1].argv[3], "all");
    assert_string_equal(p.cmds[2].why, "");
    /* commands alone make no plan */
    assert_true(gp_plan_is_empty(&p));

    assert_int_equal(gp_plan_add_note(&p, "reboot %s", "now"), 0);
    assert_string_equal(p.notes[0], "reboot now");
    assert_null(p.notes[1]);
    gp_plan_clear(&p);
    assert_int_equal(p.n_cmds, 0);
    assert_null(p.cmds);
}

static void test_plan_diff(void **state)
{
    fixture *fx = *state;
    static const char grub_new[] = "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n";
    static const char *const grub[] = { "update-grub", NULL };
    static const char *const odd[] = { "sh", "-c", "echo 'hi there'", NULL };
    gp_plan p = { 0 };
    gp_error err = { 0 };
    _cleanup_free_ char *d = NULL;

    /* nothing to change: nothing to show, commands and notes or not */
    d = gp_plan_diff(&p);
    assert_non_null(d);
    assert_string_equal(d, "");
    free(d);
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modules", "# modules\n", 10, 0644, "", &err), 0);
    assert_int_equal(gp_plan_add_cmd(&p, "grub.cfg", grub), 0);
    assert_int_equal(gp_plan_add_note(&p, "nothing"), 0);
    d = gp_plan_diff(&p);
    assert_string_equal(d, "");
    free(d);
    gp_plan_clear(&p);

    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modules", "# modules\n", 10, 0644, "", &err), 0);
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/default/grub", grub_new, strlen(grub_new), 0644,
                                      "turn the IOMMU on", &err), 1);
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modules-load.d/vfio.conf", "vfio\nvfio_pci\n", 14, 0644,
                                      "load vfio early", &err), 1);
    assert_int_equal(gp_plan_set_file(&p, fx->host, "etc/modprobe.d/empty.conf", "", 0, 0644, "", &err), 1);
    assert_int_equal(gp_plan_add_cmd(&p, "regenerate grub.cfg", grub), 0);
    assert_int_equal(gp_plan_add_cmd(&p, "", odd), 0);
    assert_int_equal(gp_plan_add_note(&p, "reboot to take effect"), 0);
    assert_int_equal(gp_plan_add_note(&p, "two\nlines"), 0);
    d = gp_plan_diff(&p);
    assert_non_null(d);
    assert_string_equal(d,
                        "# /etc/default/grub: turn the IOMMU on\n"
                        "--- a/etc/default/grub\n"
                        "+++ b/etc/default/grub\n"
                        "@@ -1,2 +1,2 @@\n"
                        " GRUB_DEFAULT=0\n"
                        "-GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
                        "+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n"
                        "# /etc/modules-load.d/vfio.conf: load vfio early\n"
                        "--- /dev/null\n"
                        "+++ b/etc/modules-load.d/vfio.conf\n"
                        "@@ -0,0 +1,2 @@\n"
                        "+vfio\n"
                        "+vfio_pci\n"
                        "# /etc/modprobe.d/empty.conf\n"
                        "# (created empty)\n"
                        "\n"
                        "# then run:\n"
                        "update-grub   # regenerate grub.cfg\n"
                        "sh -c 'echo '\\''hi there'\\'''\n"
                        "# note: reboot to take effect\n"
                        "# note: two\n"
                        "#       lines\n");
    gp_plan_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_basic),
        cmocka_unit_test(test_diff_vs_gnu),
        cmocka_unit_test(test_diff_large),
        cmocka_unit_test_setup_teardown(test_plan_files, setup_host, teardown_host),
        cmocka_unit_test(test_plan_cmds),
        cmocka_unit_test_setup_teardown(test_plan_diff, setup_host, teardown_host),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
