/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host root must never let a path escape it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "host.h"
#include "testutil.h"

static char tmp[256];

static void mk(const char *rel, const char *content)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void mkd(const char *rel)
{
    char p[512];

    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
    char p[512];

    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
    (void)state;
    if (gp_test_tmpdir(tmp, sizeof(tmp), "gp-test-host") < 0)
        return -1;
    mkd("sys");
    mkd("sys/devices");
    mkd("sys/devices/pci0000:00");
    mkd("sys/devices/pci0000:00/0000:00:01.0");
    mk("sys/devices/pci0000:00/0000:00:01.0/vendor", "0x8086\n");
    mkd("sys/bus");
    mkd("sys/bus/pci");
    mkd("sys/bus/pci/devices");
    ln("../../../devices/pci0000:00/0000:00:01.0", "sys/bus/pci/devices/0000:00:01.0");
    ln("../../../../..", "sys/bus/pci/devices/escape");
    ln("../../../../../etc/passwd", "sys/bus/pci/devices/escape-file");
    ln("/sys/devices", "sys/abs");
    ln(".", "sys/dot");
    ln("loop2", "sys/loop1");
    ln("loop1", "sys/loop2");
    mkd("proc");
    mk("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on\n");
    mkd("notahost");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return gp_test_rm_rf(tmp) == 0 ? 0 : -1;
}

static void test_resolve_inside(void **state)
{
    gp_host *h = NULL;
    char *p = NULL;

    (void)state;
    assert_int_equal(gp_host_open(tmp, &h, NULL), 0);
    assert_false(gp_host_is_live(h));
    assert_int_equal(gp_host_resolve(h, "sys/bus/pci/devices/0000:00:01.0/vendor", &p), 0);
    assert_string_equal(p, "sys/devices/pci0000:00/0000:00:01.0/vendor");
    free(p);
    /* an absolute target is taken inside the root, as in a chroot */
    assert_int_equal(gp_host_resolve(h, "/sys/abs/pci0000:00", &p), 0);
    assert_string_equal(p, "sys/devices/pci0000:00");
    free(p);
    assert_int_equal(gp_host_resolve(h, "sys/./bus/../devices//", &p), 0);
    assert_string_equal(p, "sys/devices");
    free(p);
    gp_host_free(h);
}

static void test_resolve_escapes(void **state)
{
    gp_host *h = NULL;
    char *p = NULL, *s = NULL;

    (void)state;
    assert_int_equal(gp_host_open(tmp, &h, NULL), 0);
    assert_int_equal(gp_host_resolve(h, "sys/bus/pci/devices/escape", &p), -EXDEV);
    assert_int_equal(gp_host_resolve(h, "sys/bus/pci/devices/escape-file", &p), -EXDEV);
    assert_int_equal(gp_host_resolve(h, "../etc/passwd", &p), -EXDEV);
    assert_int_equal(gp_host_resolve(h, "sys/../../etc", &p), -EXDEV);
    /* a link to "." followed by ".." must not climb over the root */
    assert_int_equal(gp_host_resolve(h, "sys/dot/../..", &p), -EXDEV);
    assert_int_equal(gp_host_read_attr(h, "sys/bus/pci/devices/escape-file", &s), -EXDEV);
    assert_int_equal(gp_host_resolve(h, "sys/loop1/x", &p), -ELOOP);
    assert_null(p);
    assert_null(s);
    gp_host_free(h);
}

static void test_reads(void **state)
{
    gp_host *h = NULL;
    char *s = NULL;
    char **v = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(gp_host_open(tmp, &h, NULL), 0);
    assert_int_equal(gp_host_read_attr(h, "sys/bus/pci/devices/0000:00:01.0/vendor", &s), 0);
    assert_string_equal(s, "0x8086");
    free(s);
    assert_int_equal(gp_host_read_attr(h, "proc/missing", &s), -ENOENT);
    assert_int_equal(gp_host_list_dir(h, "sys/bus/pci/devices", &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "0000:00:01.0");
    assert_string_equal(v[1], "escape");
    gp_strv_free(v);
    assert_true(gp_host_exists(h, "sys/bus/pci/devices/escape"));
    assert_false(gp_host_exists(h, "sys/bus/pci/devices/none"));
    assert_int_equal(gp_host_readlink(h, "sys/abs", &s), 0);
    assert_string_equal(s, "/sys/devices");
    free(s);
    gp_host_free(h);
}

/* A file exactly as large as the limit fits; one byte more does not. */
static void test_read_limits(void **state)
{
    gp_host *h = NULL;
    char *s = NULL, big[4098];
    size_t len = 0;

    (void)state;
    memset(big, 'x', sizeof(big));
    big[4096] = '\0';
    mk("proc/exact", big);
    big[4096] = 'x';
    big[4097] = '\0';
    mk("proc/over", big);
    assert_int_equal(gp_host_open(tmp, &h, NULL), 0);
    assert_int_equal(gp_host_read_file(h, "proc/exact", 4096, &s, &len), 0);
    assert_int_equal(len, 4096);
    free(s);
    s = NULL;
    assert_int_equal(gp_host_read_file(h, "proc/over", 4096, &s, &len), -EFBIG);
    assert_null(s);
    gp_host_free(h);
}

static void test_open_errors(void **state)
{
    gp_host *h = NULL;
    gp_error err = { 0 };
    char p[512];

    (void)state;
    snprintf(p, sizeof(p), "%s/notahost", tmp);
    assert_int_equal(gp_host_open(p, &h, &err), -ENOTDIR);
    assert_non_null(strstr(err.msg, "not a host root"));
    assert_non_null(strstr(err.msg, p));
    assert_null(h);
    memset(&err, 0, sizeof(err));
    snprintf(p, sizeof(p), "%s/missing", tmp);
    assert_int_equal(gp_host_open(p, &h, &err), -ENOENT);
    assert_non_null(strstr(err.msg, p));
    memset(&err, 0, sizeof(err));
    snprintf(p, sizeof(p), "%s/proc/cmdline", tmp);
    /* a regular file is taken for an archive, and this one is not */
    assert_true(gp_host_open(p, &h, &err) < 0);
    assert_non_null(strstr(err.msg, "cmdline"));
    assert_null(h);
}

static void test_live_root(void **state)
{
    gp_host *h = NULL;
    char *p = NULL;

    (void)state;
    assert_int_equal(gp_host_open(NULL, &h, NULL), 0);
    assert_true(gp_host_is_live(h));
    assert_string_equal(gp_host_root(h), "/");
    /* the live root's parent is itself, as in the kernel */
    assert_int_equal(gp_host_resolve(h, "../..", &p), 0);
    assert_string_equal(p, "");
    free(p);
    gp_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_inside),
        cmocka_unit_test(test_resolve_escapes),
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_read_limits),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_live_root),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
