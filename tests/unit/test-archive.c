/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gp_archive_extract against hostile archives built here with libarchive's
 * write API: each must be refused with -EINVAL and leave nothing outside the
 * destination directory; a good one must come out whole.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "snaparchive.h"
#include "testutil.h"
#include "error.h"

typedef struct tentry {
    const char *name;
    mode_t type;            /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO, AE_IFCHR */
    mode_t perm;
    const char *data;       /* file contents */
    const char *target;     /* symlink target */
    const char *hardlink;   /* hard link target (type AE_IFREG) */
    int64_t size;           /* declared size when > 0 and data is NULL */
} tentry;

typedef struct fixture {
    char base[PATH_MAX];    /* mkdtemp: holds dest/ and the archive, nothing else */
    char dest[PATH_MAX + 8];
    char archive[PATH_MAX + 16];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    assert_int_equal(gp_test_tmpdir(fx->base, sizeof(fx->base), "gp-test-archive"), 0);
    snprintf(fx->dest, sizeof(fx->dest), "%s/dest", fx->base);
    snprintf(fx->archive, sizeof(fx->archive), "%s/a.tar", fx->base);
    assert_int_equal(mkdir(fx->dest, 0700), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    gp_test_rm_rf(fx->base);
    free(fx);
    return 0;
}

/* filter: 'n' none, 'g' gzip, 'x' xz, 'z' zstd */
static void write_archive(const char *path, char filter, const tentry *entries, size_t n)
{
    struct archive *a = archive_write_new();

    assert_non_null(a);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    switch (filter) {
    case 'g': assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK); break;
    case 'x': assert_int_equal(archive_write_add_filter_xz(a), ARCHIVE_OK); break;
    case 'z': assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK); break;
    default: break;
    }
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        const tentry *t = &entries[i];
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, t->name);
        archive_entry_set_filetype(e, t->type);
        archive_entry_set_perm(e, t->perm ? t->perm : (t->type == AE_IFDIR ? 0755 : 0644));
        if (t->type == AE_IFLNK)
            archive_entry_set_symlink(e, t->target);
        if (t->hardlink)
            archive_entry_set_hardlink(e, t->hardlink);
        if (t->type == AE_IFCHR)
            archive_entry_set_rdev(e, makedev(1, 3));
        if (t->type == AE_IFREG && !t->hardlink)
            archive_entry_set_size(e, t->data ? (int64_t)strlen(t->data) : t->size);
        else
            archive_entry_set_size(e, 0);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        /* With no data, libarchive pads the declared size with zeros. */
        if (t->data && *t->data)
            assert_int_equal(archive_write_data(a, t->data, strlen(t->data)), (la_ssize_t)strlen(t->data));
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* The base directory must hold exactly dest/ and the archive. */
static void assert_nothing_outside(const fixture *fx)
{
    struct dirent *de;
    DIR *d = opendir(fx->base);
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (strcmp(de->d_name, "dest") != 0 && strcmp(de->d_name, "a.tar") != 0)
            fail_msg("extraction wrote %s/%s", fx->base, de->d_name);
        n++;
    }
    closedir(d);
    assert_true(n <= 2);
}

static int extract(fixture *fx, gp_error *err)
{
    return gp_archive_extract(fx->archive, fx->dest, err);
}

static void assert_refused(void **state, const tentry *entries, size_t n, const char *needle)
{
    fixture *fx = *state;
    gp_error err = { 0 };

    write_archive(fx->archive, 'g', entries, n);
    assert_int_equal(extract(fx, &err), -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    /* The message names the archive, and the entry when there is one. */
    assert_non_null(strstr(err.msg, fx->archive));
    if (needle && !strstr(err.msg, needle))
        fail_msg("message \"%s\" does not name \"%s\"", err.msg, needle);
    assert_nothing_outside(fx);
}

static void test_absolute_name(void **state)
{
    fixture *fx = *state;
    char name[PATH_MAX + 8], probe[PATH_MAX + 8];
    const tentry e[] = { { .name = name, .type = AE_IFREG, .data = "x" } };

    snprintf(name, sizeof(name), "%s/abs", fx->base);
    assert_refused(state, e, 1, "absolute");
    snprintf(probe, sizeof(probe), "%s/abs", fx->base);
    assert_int_equal(access(probe, F_OK), -1);
}

static void test_dotdot(void **state)
{
    const tentry e[] = { { .name = "../x", .type = AE_IFREG, .data = "x" } };

    assert_refused(state, e, 1, "../x");
}

static void test_dotdot_inner(void **state)
{
    const tentry e[] = {
        { .name = "a", .type = AE_IFDIR },
        { .name = "a/../../x", .type = AE_IFREG, .data = "x" },
    };

    assert_refused(state, e, 2, "a/../../x");
}

static void test_symlink_absolute(void **state)
{
    const tentry e[] = { { .name = "etc", .type = AE_IFLNK, .target = "/etc" } };

    assert_refused(state, e, 1, "absolute target");
}

static void test_symlink_up(void **state)
{
    const tentry e[] = {
        { .name = "sys/bus", .type = AE_IFDIR },
        { .name = "sys/bus/up", .type = AE_IFLNK, .target = "../../.." },
    };

    assert_refused(state, e, 2, "sys/bus/up");
}

/* "a" -> "." makes "a/.." the parent of the root: lexically "a/../x" is
 * inside, resolved it is outside. */
static void test_symlink_dot_then_dotdot(void **state)
{
    const tentry e[] = {
        { .name = "a", .type = AE_IFLNK, .target = "." },
        { .name = "b", .type = AE_IFLNK, .target = "a/../x" },
    };

    assert_refused(state, e, 2, "\"b\"");
}

static void test_symlink_dot_then_entry(void **state)
{
    const tentry e[] = {
        { .name = "a", .type = AE_IFLNK, .target = "." },
        { .name = "a/../../x", .type = AE_IFREG, .data = "x" },
    };

    assert_refused(state, e, 2, "a/../../x");
}

/* The link is checked before "d" exists; "d" -> "." would make it escape. */
static void test_symlink_order(void **state)
{
    const tentry e[] = {
        { .name = "l", .type = AE_IFLNK, .target = "d/../../x" },
        { .name = "d", .type = AE_IFLNK, .target = "." },
    };

    assert_refused(state, e, 2, "\"l\"");
}

static void test_symlink_order2(void **state)
{
    const tentry e[] = {
        { .name = "l", .type = AE_IFLNK, .target = "d/../x" },
        { .name = "d", .type = AE_IFLNK, .target = "." },
    };

    assert_refused(state, e, 2, "\"l\"");
}

/* A file through a symlink to a directory inside is still refused: nothing
 * is ever created by following a link. */
static void test_write_through_symlink(void **state)
{
    const tentry e[] = {
        { .name = "sub", .type = AE_IFDIR },
        { .name = "s", .type = AE_IFLNK, .target = "sub" },
        { .name = "s/f", .type = AE_IFREG, .data = "x" },
    };

    assert_refused(state, e, 3, "s/f");
}

static void test_hardlink_out(void **state)
{
    const tentry e[] = { { .name = "h", .type = AE_IFREG, .hardlink = "../a.tar" } };

    assert_refused(state, e, 1, "\"h\" is a hard link to a path outside");
}

static void test_hardlink_absolute(void **state)
{
    const tentry e[] = { { .name = "h", .type = AE_IFREG, .hardlink = "/etc/passwd" } };

    assert_refused(state, e, 1, "\"h\" is a hard link to a path outside");
}

static void test_hardlink_via_symlink(void **state)
{
    const tentry e[] = {
        { .name = "s", .type = AE_IFLNK, .target = "." },
        { .name = "h", .type = AE_IFREG, .hardlink = "s/a.tar" },
    };

    assert_refused(state, e, 2, "\"h\"");
}

static void test_fifo(void **state)
{
    const tentry e[] = { { .name = "p", .type = AE_IFIFO } };

    assert_refused(state, e, 1, "fifo");
}

static void test_device(void **state)
{
    const tentry e[] = { { .name = "dev/null", .type = AE_IFCHR } };

    assert_refused(state, e, 1, "device node");
}

static void test_oversize(void **state)
{
    const tentry e[] = { { .name = "big", .type = AE_IFREG, .size = 64LL * 1024 * 1024 + 1 } };

    assert_refused(state, e, 1, "64 MiB");
}

static void test_duplicate(void **state)
{
    const tentry e[] = {
        { .name = "f", .type = AE_IFREG, .data = "one" },
        { .name = "f", .type = AE_IFREG, .data = "two" },
    };

    assert_refused(state, e, 2, "twice");
}

static void test_garbage(void **state)
{
    fixture *fx = *state;
    gp_error err = { 0 };
    FILE *f = fopen(fx->archive, "w");

    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919 + 13) & 0xff, f);
    fclose(f);
    assert_int_equal(extract(fx, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a gpupass snapshot"));
    assert_non_null(strstr(err.msg, "gpupass snapshot -o"));
    assert_nothing_outside(fx);
}

static void test_truncated(void **state)
{
    fixture *fx = *state;
    gp_error err = { 0 };
    const tentry e[] = { { .name = "f", .type = AE_IFREG, .size = 100000 } };

    write_archive(fx->archive, 'n', e, 1);
    assert_int_equal(truncate(fx->archive, 5000), 0);
    assert_int_equal(extract(fx, &err), -EINVAL);
    assert_nothing_outside(fx);
}

static void test_empty_file(void **state)
{
    fixture *fx = *state;
    gp_error err = { 0 };
    int fd = open(fx->archive, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(extract(fx, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_missing_file(void **state)
{
    fixture *fx = *state;
    gp_error err = { 0 };

    assert_int_equal(extract(fx, &err), -ENOENT);
    assert_non_null(strstr(err.msg, fx->archive));
}

static char *slurp(const fixture *fx, const char *rel)
{
    char p[PATH_MAX * 2];
    static char buf[4096];
    ssize_t n;
    int fd;

    snprintf(p, sizeof(p), "%s/%s", fx->dest, rel);
    fd = open(p, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

static mode_t mode_of(const fixture *fx, const char *rel)
{
    char p[PATH_MAX * 2];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", fx->dest, rel);
    assert_int_equal(lstat(p, &st), 0);
    return st.st_mode;
}

static void good(void **state, char filter)
{
    fixture *fx = *state;
    gp_error err = { 0 };
    char p[PATH_MAX * 2], link[PATH_MAX];
    ssize_t n;
    const tentry e[] = {
        { .name = "./", .type = AE_IFDIR },
        { .name = "./sys/bus/pci/devices/", .type = AE_IFDIR },
        { .name = "sys/bus/pci/devices/0000:01:00.0", .type = AE_IFLNK,
          .target = "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0" },
        { .name = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor", .type = AE_IFREG, .data = "0x10de\n" },
        { .name = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/iommu_group", .type = AE_IFLNK,
          .target = "../../../../kernel/iommu_groups/12" },
        { .name = "sys/kernel/iommu_groups/12/type", .type = AE_IFREG, .data = "DMA\n" },
        { .name = "sys/bus/pci/drivers/vfio-pci/bind", .type = AE_IFREG, .perm = 0200, .data = "" },
        { .name = "bin/tool", .type = AE_IFREG, .perm = 04777, .data = "#!/bin/sh\n" },
        { .name = "etc/modprobe.d/vfio.conf", .type = AE_IFREG, .perm = 0666, .data = "options vfio-pci ids=10de:2684\n" },
        { .name = "etc/modprobe.d/copy.conf", .type = AE_IFREG, .hardlink = "etc/modprobe.d/vfio.conf" },
        { .name = "etc/dot", .type = AE_IFLNK, .target = "./modprobe.d/../modprobe.d" },
        { .name = "empty", .type = AE_IFREG, .data = "" },
    };

    write_archive(fx->archive, filter, e, sizeof(e) / sizeof(e[0]));
    assert_int_equal(extract(fx, &err), 0);
    assert_int_equal(err.code, 0);
    assert_nothing_outside(fx);

    snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0", fx->dest);
    n = readlink(p, link, sizeof(link) - 1);
    assert_true(n > 0);
    link[n] = '\0';
    assert_string_equal(link, "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/iommu_group/type", fx->dest);
    {
        FILE *f = fopen(p, "r");
        char line[16] = "";

        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        fclose(f);
        assert_string_equal(line, "DMA\n");
    }
    assert_string_equal(slurp(fx, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor"), "0x10de\n");
    assert_string_equal(slurp(fx, "etc/modprobe.d/copy.conf"), "options vfio-pci ids=10de:2684\n");
    assert_string_equal(slurp(fx, "empty"), "");
    /* Modes kept, masked: no setuid, no group/other write; owner can read. */
    assert_int_equal(mode_of(fx, "bin/tool") & 07777, 0755);
    assert_int_equal(mode_of(fx, "etc/modprobe.d/vfio.conf") & 07777, 0644);
    assert_int_equal(mode_of(fx, "sys/bus/pci/drivers/vfio-pci/bind") & 07777, 0600);
    assert_true(S_ISLNK(mode_of(fx, "etc/dot")));
    assert_true(S_ISDIR(mode_of(fx, "sys/kernel/iommu_groups/12")));
}

static void test_good_none(void **state) { good(state, 'n'); }
static void test_good_gzip(void **state) { good(state, 'g'); }
static void test_good_xz(void **state) { good(state, 'x'); }
static void test_good_zstd(void **state) { good(state, 'z'); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_absolute_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotdot_inner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_absolute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_dot_then_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_dot_then_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_order2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_through_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlink_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlink_absolute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlink_via_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_xz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_zstd, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
