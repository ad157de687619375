/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transaction engine, in host roots built for each test: exact bytes,
 * modes and owners, the journal, undo, refusals, and a failure injected at
 * every fault point (as ENOSPC and as a killed process).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fileio.h"
#include "host.h"
#include "plan.h"
#include "runner.h"
#include "testutil.h"
#include "txn.h"

#define GRUB_OLD "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
#define GRUB_NEW "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"\n"
#define KCMD_OLD "root=ZFS=rpool/ROOT/pve-1 boot=zfs"            /* no final newline */
#define KCMD_NEW "root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on\n"
#define VFIO_NEW "options vfio-pci ids=10de:1b80,10de:10f0\n"
#define DEEP_NEW "# made by the test\n"
#define MODULES "vfio\nvfio_iommu_type1\nvfio_pci\n"
#define ODD_UID 1234
#define ODD_GID 5678

typedef struct tfile {
    const char *path;
    const char *old;       /* NULL: absent before */
    mode_t old_mode;
    const char *new;
    mode_t new_mode;
} tfile;

static const tfile targets[] = {
    { "etc/default/grub", GRUB_OLD, 0644, GRUB_NEW, 0644 },
    { "etc/kernel/cmdline", KCMD_OLD, 0604, KCMD_NEW, 0604 },
    { "etc/modprobe.d/vfio.conf", NULL, 0, VFIO_NEW, 0644 },
    { "etc/gpupass-test/sub/deep.conf", NULL, 0, DEEP_NEW, 0600 },
};

static char root[200];

/* ---- helpers ---- */

static void pathof(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", root, rel);
}

static void mkd(const char *rel)
{
    char p[512];

    pathof(p, sizeof(p), rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void put(const char *rel, const char *content, mode_t mode)
{
    char p[512];
    int fd;

    pathof(p, sizeof(p), rel);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* The whole file, or NULL when it does not exist. */
static char *get(const char *rel)
{
    char p[512];
    char *s = NULL;
    size_t len;
    int fd;

    pathof(p, sizeof(p), rel);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    assert_int_equal(gp_fd_read_all(fd, 1 << 20, &s, &len), 0);
    close(fd);
    return s;
}

static bool exists(const char *rel)
{
    char p[512];
    struct stat st;

    pathof(p, sizeof(p), rel);
    return lstat(p, &st) == 0;
}

static mode_t mode_of(const char *rel)
{
    char p[512];
    struct stat st;

    pathof(p, sizeof(p), rel);
    assert_int_equal(lstat(p, &st), 0);
    return st.st_mode & 07777;
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;

    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Files named ".#..." anywhere under dir: a temporary file left behind. */
static size_t count_temps(const char *rel)
{
    char p[512];
    DIR *d;
    struct dirent *de;
    size_t n = 0;

    pathof(p, sizeof(p), rel);
    d = opendir(p);
    if (!d)
        return 0;
    while ((de = readdir(d)))
        n += strncmp(de->d_name, ".#", 2) == 0;
    closedir(d);
    return n;
}

static bool am_root(void)
{
    return geteuid() == 0;
}

static void root_make(void)
{
    assert_int_equal(gp_test_tmpdir(root, sizeof(root), "gp-test-txn"), 0);
    assert_int_equal(chmod(root, 0755), 0);
    mkd("proc");
    put("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1\n", 0444);
    mkd("etc");
    mkd("etc/default");
    mkd("etc/kernel");
    mkd("etc/modprobe.d");
    put("etc/default/grub", GRUB_OLD, 0644);
    put("etc/kernel/cmdline", KCMD_OLD, 0604);
    put("etc/modules", MODULES, 0644);
    if (am_root()) {
        char p[512];

        pathof(p, sizeof(p), "etc/kernel/cmdline");
        assert_int_equal(chown(p, ODD_UID, ODD_GID), 0);
        /* chown() clears nothing here (no set-ID bits), but check it anyway. */
        assert_int_equal(chmod(p, 0604), 0);
    }
}

static void root_drop(void)
{
    unsetenv("GPUPASS_TEST_RUNNER");
    unsetenv("GPUPASS_FAULT");
    unsetenv("GPUPASS_FAULT_LOG");
    gp_fault_reset();
    assert_int_equal(gp_test_rm_rf(root), 0);
}

static gp_host *host(void)
{
    gp_host *h = NULL;
    gp_error err = { 0 };

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    return h;
}

/* The plan of the fault tests: an edit, an edit of a file with an odd mode
 * and owner, a file created in an existing directory, one created two new
 * directories deep, one file looked at and left alone, three commands. */
static void plan_build(const gp_host *h, gp_plan *p)
{
    static const char *const grub[] = { "update-grub", NULL };
    static const char *const initramfs[] = { "update-initramfs", "-u", "-k", "all", NULL };
    static const char *const refresh[] = { "proxmox-boot-tool", "refresh", NULL };
    gp_error err = { 0 };

    *p = (gp_plan){ 0 };
    for (size_t i = 0; i < ELEMENTSOF(targets); i++)
        assert_true(gp_plan_set_file(p, h, targets[i].path, targets[i].new, strlen(targets[i].new),
                                     targets[i].old ? 0 : targets[i].new_mode, "test", &err) >= 0);
    assert_int_equal(gp_plan_set_file(p, h, "etc/modules", MODULES, strlen(MODULES), 0, "unchanged", &err), 0);
    assert_int_equal(gp_plan_add_cmd(p, "boot", grub), 0);
    assert_int_equal(gp_plan_add_cmd(p, "initramfs", initramfs), 0);
    assert_int_equal(gp_plan_add_cmd(p, "esp", refresh), 0);
}

/* 0: as before, 1: as planned, -1: anything else (torn, wrong mode). */
static int target_state(const tfile *t)
{
    char *s = get(t->path);
    int r = -1;

    if (!s)
        return t->old ? -1 : 0;
    if (t->old && strcmp(s, t->old) == 0 && mode_of(t->path) == t->old_mode)
        r = 0;
    else if (strcmp(s, t->new) == 0 && mode_of(t->path) == t->new_mode)
        r = 1;
    free(s);
    return r;
}

static void assert_owner_kept(void)
{
    char p[512];
    struct stat st;

    if (!am_root())
        return;
    pathof(p, sizeof(p), "etc/kernel/cmdline");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_uid, ODD_UID);
    assert_int_equal(st.st_gid, ODD_GID);
}

static void assert_no_temps(void)
{
    assert_int_equal(count_temps("etc/default"), 0);
    assert_int_equal(count_temps("etc/kernel"), 0);
    assert_int_equal(count_temps("etc/modprobe.d"), 0);
    assert_int_equal(count_temps("etc/gpupass-test/sub"), 0);
}

static void assert_all(int want)
{
    for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
        int st = target_state(&targets[i]);

        if (st != want)
            fail_msg("%s: state %d, expected %d", targets[i].path, st, want);
    }
    if (want == 0)
        assert_false(exists("etc/gpupass-test"));
    else
        assert_int_equal(mode_of("etc/gpupass-test/sub"), 0755);
    assert_owner_kept();
    assert_no_temps();
    /* The file the plan left alone is never rewritten. */
    {
        char *s = get("etc/modules");

        assert_string_equal(s, MODULES);
        free(s);
    }
}

static void recorder(gp_runner *run, const char *fail_name)
{
    char spec[600];

    snprintf(spec, sizeof(spec), "record:%s/record.log%s%s", root, fail_name ? ",fail=" : "", fail_name ? fail_name : "");
    setenv("GPUPASS_TEST_RUNNER", spec, 1);
    assert_int_equal(gp_runner_for(root, false, run), 0);
    assert_true(run->executes);
}

static size_t recorded(void)
{
    char p[512];

    pathof(p, sizeof(p), "record.log");
    return count_lines(p);
}

static char *journal_file(const char *id, const char *name)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "%s/%s/%s", GP_JOURNAL_DIR, id, name);
    return get(rel);
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

/* ---- apply ---- */

static void test_apply(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res;
    gp_error err = { 0 };
    char *s;
    char rel[256];
    struct stat st_modules_before, st_modules_after;

    root_make();
    h = host();
    plan_build(h, &p);
    assert_int_equal(gp_plan_changed_files(&p), 4);
    recorder(&run, NULL);
    pathof(rel, sizeof(rel), "etc/modules");
    assert_int_equal(stat(rel, &st_modules_before), 0);
    /* Left by a run killed mid-write: removed; a look-alike is not ours. */
    put("etc/default/.#grub.AbC123", "torn", 0600);
    put("etc/default/.#grub.keep", "not ours", 0600);

    if (gp_txn_apply(h, &p, &run, &res, &err) != 0)
        fail_msg("apply: %s", err.msg);
    assert_int_equal(res.files_written, 4);
    assert_int_equal(res.cmds_run, 3);
    assert_int_equal(res.failed_cmd, -1);
    assert_int_equal(strlen(res.id), strlen("20250101-120000-001"));
    assert_false(exists("etc/default/.#grub.AbC123"));
    assert_true(exists("etc/default/.#grub.keep"));
    pathof(rel, sizeof(rel), "etc/default/.#grub.keep");
    assert_int_equal(unlink(rel), 0);
    assert_all(1);
    pathof(rel, sizeof(rel), "etc/modules");
    assert_int_equal(stat(rel, &st_modules_after), 0);
    assert_int_equal(st_modules_before.st_ino, st_modules_after.st_ino);
    assert_int_equal(mode_of("var/lib/gpupass"), 0700);
    assert_int_equal(mode_of(GP_JOURNAL_DIR), 0700);
    assert_int_equal(recorded(), 3);

    s = journal_file(res.id, "manifest");
    assert_non_null(s);
    assert_true(has_line(s, "gpupass-journal 1"));
    if (am_root())
        assert_true(has_line(s, "file 0 etc/default/grub 1 0644 0 0"));
    assert_non_null(strstr(s, "file 1 etc/kernel/cmdline 1 0604"));
    assert_true(has_line(s, "dir etc/gpupass-test"));
    assert_true(has_line(s, "dir etc/gpupass-test/sub"));
    assert_non_null(strstr(s, "file 2 etc/modprobe.d/vfio.conf 0 0644"));
    assert_non_null(strstr(s, "file 3 etc/gpupass-test/sub/deep.conf 0 0600"));
    assert_true(has_line(s, "cmd update-initramfs -u -k all"));
    assert_true(has_line(s, "end"));
    assert_null(strstr(s, "etc/modules"));
    if (am_root())
        assert_true(has_line(s, "file 1 etc/kernel/cmdline 1 0604 1234 5678"));
    free(s);
    s = journal_file(res.id, "0.old");
    assert_string_equal(s, GRUB_OLD);
    free(s);
    s = journal_file(res.id, "1.old");
    assert_string_equal(s, KCMD_OLD);
    free(s);
    s = journal_file(res.id, "1.new");
    assert_string_equal(s, KCMD_NEW);
    free(s);
    assert_null(journal_file(res.id, "2.old"));
    s = journal_file(res.id, "state");
    assert_string_equal(s, "write 0\ndone 0\nwrite 1\ndone 1\nwrite 2\ndone 2\nwrite 3\ndone 3\n"
                           "cmd 0\nran 0 0\ncmd 1\nran 1 0\ncmd 2\nran 2 0\ncommit\n");
    free(s);
    snprintf(rel, sizeof(rel), "%s/%s/0.old", GP_JOURNAL_DIR, res.id);
    assert_int_equal(mode_of(rel), 0600);

    /* Built again on the changed host, the plan is empty, and applying it
     * does nothing at all. */
    gp_plan_clear(&p);
    gp_host_free(TAKE_PTR(h));
    h = host();
    plan_build(h, &p);
    assert_true(gp_plan_is_empty(&p));
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    assert_int_equal(res.files_written, 0);
    assert_int_equal(res.cmds_run, 0);
    assert_string_equal(res.id, "");
    assert_int_equal(recorded(), 3);
    {
        gp_txn_info *v;
        size_t n;

        assert_int_equal(gp_txn_list(h, &v, &n), 0);
        assert_int_equal(n, 1);
        assert_true(v[0].complete);
        assert_false(v[0].undone);
        assert_int_equal(v[0].n_files, 4);
        assert_string_equal(v[0].files[3], "etc/gpupass-test/sub/deep.conf");
        assert_null(v[0].files[4]);
        assert_string_equal(v[0].cmds[1], "update-initramfs -u -k all");
        assert_null(v[0].cmds[3]);
        assert_true(v[0].when > 1600000000);
        gp_txn_info_free(v, n);
    }
    gp_plan_clear(&p);
    root_drop();
}

static void test_undo(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res, ures;
    gp_error err = { 0 };
    char *s;

    root_make();
    h = host();
    plan_build(h, &p);
    recorder(&run, NULL);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    assert_all(1);

    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), 0);
    assert_string_equal(ures.id, res.id);
    assert_int_equal(ures.files_written, 4);
    assert_int_equal(ures.cmds_run, 3);
    assert_all(0);
    assert_true(exists("etc/modprobe.d"));
    assert_false(exists("etc/modprobe.d/vfio.conf"));
    assert_int_equal(recorded(), 6);
    s = journal_file(res.id, "state");
    assert_non_null(strstr(s, "commit\nundone\n"));
    free(s);

    /* Nothing left to undo; naming it again is refused. */
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "nothing to undo"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, res.id, false, &run, &ures, &err), -EALREADY);
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, "20990101-000000-001", false, &run, &ures, &err), -ENOENT);
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, "../../etc", false, &run, &ures, &err), -EINVAL);
    {
        gp_txn_info *v;
        size_t n;

        assert_int_equal(gp_txn_list(h, &v, &n), 0);
        assert_int_equal(n, 1);
        assert_true(v[0].undone);
        assert_true(v[0].complete);
        gp_txn_info_free(v, n);
    }
    gp_plan_clear(&p);
    root_drop();
}

/* A command marked once (it acts on hardware) runs at apply and is kept in
 * the journal as "once", but undo does not run it again; the others do. */
static void test_undo_once(void **state)
{
    static const char *const reload[] = { "systemctl", "daemon-reload", NULL };
    static const char *const create[] = { "nvidia-smi", "mig", "-i", "0", "-cgi", "9,9", "-C", NULL };
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p = { 0 };
    gp_runner run;
    gp_txn_result res, ures;
    gp_error err = { 0 };
    char *s, *log;

    root_make();
    h = host();
    assert_true(gp_plan_set_file(&p, h, "etc/systemd/system/x.service", "[Unit]\n", 7, 0644, "unit", &err) > 0);
    assert_int_equal(gp_plan_add_cmd(&p, "reload", reload), 0);
    assert_int_equal(gp_plan_add_cmd_once(&p, "make the instances", create), 0);
    s = gp_plan_diff(&p);
    assert_non_null(strstr(s, "nvidia-smi mig -i 0 -cgi 9,9 -C   # (apply only) make the instances\n"));
    free(s);
    recorder(&run, NULL);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    assert_int_equal(res.cmds_run, 2);
    s = journal_file(res.id, "manifest");
    assert_true(has_line(s, "cmd systemctl daemon-reload"));
    assert_true(has_line(s, "once nvidia-smi mig -i 0 -cgi 9,9 -C"));
    free(s);
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), 0);
    assert_int_equal(ures.cmds_run, 1);
    log = get("record.log");
    assert_non_null(log);
    assert_string_equal(log, "systemctl daemon-reload\nnvidia-smi mig -i 0 -cgi 9,9 -C\nsystemctl daemon-reload\n");
    free(log);
    gp_plan_clear(&p);
    root_drop();
}

static void test_undo_conflict(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res, ures;
    gp_error err = { 0 };

    root_make();
    h = host();
    plan_build(h, &p);
    recorder(&run, NULL);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    put("etc/modprobe.d/vfio.conf", "options vfio-pci ids=1234:5678\n", 0644);

    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), -ECANCELED);
    assert_non_null(strstr(err.msg, "etc/modprobe.d/vfio.conf"));
    assert_non_null(strstr(err.msg, "nothing was undone"));
    /* Nothing changed: every other file still holds what was written. */
    assert_int_equal(target_state(&targets[0]), 1);
    assert_int_equal(target_state(&targets[1]), 1);
    assert_int_equal(target_state(&targets[3]), 1);
    assert_int_equal(recorded(), 3);

    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, res.id, true, &run, &ures, &err), 0);
    assert_all(0);
    gp_plan_clear(&p);
    root_drop();
}

static void test_symlinks(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p = { 0 };
    gp_runner run;
    gp_txn_result res;
    gp_error err = { 0 };
    char lnk[512];
    char *s;

    root_make();
    mkd("boot");
    put("boot/grub-default", GRUB_OLD, 0644);
    pathof(lnk, sizeof(lnk), "etc/default/grub");
    assert_int_equal(unlink(lnk), 0);
    assert_int_equal(symlink("../../boot/grub-default", lnk), 0);
    recorder(&run, NULL);

    h = host();
    assert_int_equal(gp_plan_set_file(&p, h, "etc/default/grub", GRUB_NEW, strlen(GRUB_NEW), 0, "t", &err), 1);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), -EXDEV);
    assert_non_null(strstr(err.msg, "/etc/default/grub"));
    assert_non_null(strstr(err.msg, "/boot/grub-default"));
    s = get("boot/grub-default");
    assert_string_equal(s, GRUB_OLD);
    free(s);
    assert_false(exists("var"));      /* refused before the journal was begun */
    gp_plan_clear(&p);

    /* A link inside /etc is followed: the file it names is edited, the link stays. */
    assert_int_equal(unlink(lnk), 0);
    put("etc/default/grub.real", GRUB_OLD, 0640);
    assert_int_equal(symlink("/etc/default/grub.real", lnk), 0);
    err = (gp_error){ 0 };
    assert_int_equal(gp_plan_set_file(&p, h, "etc/default/grub", GRUB_NEW, strlen(GRUB_NEW), 0, "t", &err), 1);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    s = get("etc/default/grub.real");
    assert_string_equal(s, GRUB_NEW);
    free(s);
    assert_int_equal(mode_of("etc/default/grub.real"), 0640);
    {
        struct stat st;

        assert_int_equal(lstat(lnk, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
    }
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &res, &err), 0);
    s = get("etc/default/grub.real");
    assert_string_equal(s, GRUB_OLD);
    free(s);
    gp_plan_clear(&p);

    /* A dangling link where a file is to be created is refused too. */
    pathof(lnk, sizeof(lnk), "etc/modprobe.d/vfio.conf");
    assert_int_equal(symlink("/nowhere/vfio.conf", lnk), 0);
    err = (gp_error){ 0 };
    assert_int_equal(gp_plan_set_file(&p, h, "etc/modprobe.d/vfio.conf", VFIO_NEW, strlen(VFIO_NEW), 0644, "t", &err), 1);
    assert_true(gp_txn_apply(h, &p, &run, &res, &err) < 0);
    assert_non_null(strstr(err.msg, "vfio.conf"));
    assert_false(exists("nowhere"));
    gp_plan_clear(&p);
    root_drop();
}

static void test_stale(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res;
    gp_error err = { 0 };

    root_make();
    h = host();
    recorder(&run, NULL);

    /* An edited file changed after the plan was built. */
    plan_build(h, &p);
    put("etc/kernel/cmdline", "root=/dev/sda1\n", 0604);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), -ESTALE);
    assert_non_null(strstr(err.msg, "/etc/kernel/cmdline changed since the plan was made; run setup again"));
    assert_int_equal(target_state(&targets[0]), 0);
    assert_false(exists("etc/modprobe.d/vfio.conf"));
    assert_false(exists("var"));
    assert_int_equal(recorded(), 0);
    gp_plan_clear(&p);

    /* A file the plan creates appeared meanwhile. */
    put("etc/kernel/cmdline", KCMD_OLD, 0604);
    plan_build(h, &p);
    put("etc/modprobe.d/vfio.conf", "# mine\n", 0644);
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), -ESTALE);
    assert_non_null(strstr(err.msg, "/etc/modprobe.d/vfio.conf changed since the plan was made"));
    assert_int_equal(target_state(&targets[0]), 0);
    gp_plan_clear(&p);
    root_drop();
}

static void test_cmd_failure(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res, ures;
    gp_error err = { 0 };
    char *s;

    root_make();
    h = host();
    plan_build(h, &p);
    recorder(&run, "update-initramfs");
    /* The transaction stands (its files are written); the failure is in res. */
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    assert_int_equal(err.code, 0);
    assert_int_equal(res.failed_cmd, 1);
    assert_int_equal(res.failed_status, 1);
    assert_int_equal(res.cmds_run, 1);
    assert_int_equal(res.files_written, 4);
    assert_int_equal(recorded(), 2);          /* stopped at the failure */
    assert_all(1);                            /* the files stay: the caller says how to resume */
    s = journal_file(res.id, "state");
    assert_non_null(strstr(s, "cmd 1\nran 1 1\n"));
    assert_null(strstr(s, "commit"));
    free(s);
    {
        gp_txn_info *v;
        size_t n;

        assert_int_equal(gp_txn_list(h, &v, &n), 0);
        assert_int_equal(n, 1);
        assert_false(v[0].complete);
        gp_txn_info_free(v, n);
    }

    /* Undo restores the files and re-runs the commands, stopping at the same one. */
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), 0);
    assert_int_equal(ures.failed_cmd, 1);
    assert_int_equal(ures.failed_status, 1);
    assert_int_equal(ures.cmds_run, 1);
    assert_int_equal(ures.files_written, 4);
    assert_all(0);
    assert_int_equal(recorded(), 4);
    gp_plan_clear(&p);
    root_drop();
}

static void test_print_runner(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res;
    gp_error err = { 0 };
    char *s;

    root_make();
    h = host();
    plan_build(h, &p);
    unsetenv("GPUPASS_TEST_RUNNER");
    assert_int_equal(gp_runner_for(root, false, &run), 0);
    assert_false(run.executes);
    assert_string_equal(run.root, root);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    assert_int_equal(res.cmds_run, 0);
    assert_all(1);
    s = journal_file(res.id, "state");
    assert_non_null(strstr(s, "ran 0 skipped\nran 1 skipped\nran 2 skipped\ncommit\n"));
    free(s);
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &res, &err), 0);
    assert_int_equal(res.cmds_run, 0);
    assert_all(0);
    gp_plan_clear(&p);
    root_drop();
}

static void test_runners(void **state)
{
    gp_runner run;
    char *s;
    char *const a[] = { (char *)"update-grub", NULL };
    char *const b[] = { (char *)"update-initramfs", (char *)"-u", (char *)"-k", (char *)"all", NULL };
    char *const t[] = { (char *)"true", NULL };
    char *const f[] = { (char *)"false", NULL };
    char *const k[] = { (char *)"sh", (char *)"-c", (char *)"kill -TERM $$", NULL };
    char *const x[] = { (char *)"gpupass-no-such-program", NULL };

    root_make();
    recorder(&run, "update-initramfs");
    assert_int_equal(gp_runner_run(&run, a), 0);
    assert_int_equal(gp_runner_run(&run, b), 1);
    s = get("record.log");
    assert_string_equal(s, "update-grub\nupdate-initramfs -u -k all\n");
    free(s);
    setenv("GPUPASS_TEST_RUNNER", "bogus", 1);
    assert_int_equal(gp_runner_for(root, false, &run), -EINVAL);
    unsetenv("GPUPASS_TEST_RUNNER");

    assert_int_equal(gp_runner_for("/", true, &run), 0);
    assert_true(run.executes);
    assert_null(run.root);
    assert_int_equal(gp_runner_run(&run, t), 0);
    assert_int_equal(gp_runner_run(&run, f), 1);
    assert_int_equal(gp_runner_run(&run, k), 128 + 15);
    {
        /* a PATH of readable directories: where PATH holds one the user
         * cannot search (root's PATH under runuser, as in a package build),
         * the search ends in EACCES, as execvp's does */
        _cleanup_free_ char *path = strdup(getenv("PATH") ? getenv("PATH") : "");

        _cleanup_free_ char *dirs = NULL, *noexec = NULL, *sub = NULL;
        char *const n[] = { (char *)"gp-noexec", NULL };
        char *const d[] = { (char *)"gp-dir", NULL };
        pid_t pid;

        setenv("PATH", "/usr/bin:/bin", 1);
        assert_int_equal(gp_runner_run(&run, x), -ENOENT);
        /* found, not executable (a plain file, or a directory): EACCES,
         * as execvp() says; a later entry of PATH that has it wins */
        assert_true(asprintf(&noexec, "%s/gp-noexec", root) > 0);
        assert_true(asprintf(&sub, "%s/gp-dir", root) > 0);
        assert_int_equal(close(open(noexec, O_WRONLY | O_CREAT, 0644)), 0);
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_true(asprintf(&dirs, "%s:/usr/bin:/bin", root) > 0);
        setenv("PATH", dirs, 1);
        assert_int_equal(gp_runner_run(&run, n), -EACCES);
        assert_int_equal(gp_runner_run(&run, d), -EACCES);
        assert_int_equal(gp_runner_run(&run, t), 0);
        assert_int_equal(gp_command_spawn(n, NULL, &pid), -EACCES);
        assert_int_equal(unlink(noexec), 0);
        assert_int_equal(rmdir(sub), 0);
        setenv("PATH", path, 1);
    }
    assert_int_equal(gp_runner_run(&gp_runner_exec, t), 0);

    assert_int_equal(gp_runner_for(root, false, &run), 0);
    assert_false(run.executes);
    assert_int_equal(gp_runner_run(&run, t), -EOPNOTSUPP);
    root_drop();
}

/* ---- gp_file_replace_at ---- */

static void test_replace(void **state)
{
    _cleanup_close_ int rootfd = -1;
    char p[512];
    char *s;
    size_t points;
    unsigned n;
    pid_t pid;
    int status;

    root_make();
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(rootfd >= 0);
    assert_int_equal(gp_file_replace_at(rootfd, "etc/default/grub", "x\n", 2, 0640, geteuid(), getegid()), 0);
    s = get("etc/default/grub");
    assert_string_equal(s, "x\n");
    free(s);
    assert_int_equal(mode_of("etc/default/grub"), 0640);
    assert_int_equal(gp_file_replace_at(rootfd, "etc/default/empty", "", 0, 04755, geteuid(), getegid()), 0);
    assert_int_equal(mode_of("etc/default/empty"), 04755);
    assert_int_equal(gp_file_replace_at(rootfd, "etc/missing/x", "x", 1, 0644, geteuid(), getegid()), -ENOENT);

    /* A read-only directory: refused before anything is created. Root
     * ignores permissions, so a child that is nobody tries it. */
    mkd("ro");
    put("ro/file", "old\n", 0644);
    pathof(p, sizeof(p), "ro");
    assert_int_equal(chmod(p, 0555), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int r;

        if (am_root() && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(200);
        r = gp_file_replace_at(rootfd, "ro/file", "new\n", 4, 0644, geteuid(), getegid());
        _exit(r < 0 ? -r : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 200)
        print_message("# could not become nobody: read-only directory check skipped\n");
    else
        assert_int_equal(WEXITSTATUS(status), EACCES);
    assert_int_equal(count_temps("ro"), 0);
    s = get("ro/file");
    assert_string_equal(s, "old\n");
    free(s);
    assert_int_equal(chmod(p, 0755), 0);

    /* An error at each step before the rename leaves the file as it was and
     * no temporary file; one at the directory fsync comes after the rename. */
    pathof(p, sizeof(p), "fault.log");
    setenv("GPUPASS_FAULT_LOG", p, 1);
    for (n = 1;; n++) {
        char spec[32];
        int r;

        put("etc/default/grub", GRUB_OLD, 0644);
        unlink(p);
        snprintf(spec, sizeof(spec), "%u:enospc", n);
        setenv("GPUPASS_FAULT", spec, 1);
        gp_fault_reset();
        r = gp_file_replace_at(rootfd, "etc/default/grub", GRUB_NEW, strlen(GRUB_NEW), 0600, geteuid(), getegid());
        points = count_lines(p);
        assert_int_equal(count_temps("etc/default"), 0);
        s = get("etc/default/grub");
        if (points < n) {
            assert_int_equal(r, 0);
            assert_string_equal(s, GRUB_NEW);
            free(s);
            break;
        }
        assert_int_equal(r, -ENOSPC);
        {
            char *names = get("fault.log");

            /* Only the last step, the directory fsync, comes after the rename. */
            if (gp_endswith(names, "replace-dirsync\n")) {
                assert_string_equal(s, GRUB_NEW);
            } else {
                assert_string_equal(s, GRUB_OLD);
                assert_int_equal(mode_of("etc/default/grub"), 0644);
            }
            free(names);
        }
        free(s);
    }
    print_message("# gp_file_replace_at: %u fault points tried\n", n - 1);
    assert_int_equal(n - 1, 6);
    unsetenv("GPUPASS_FAULT");
    gp_fault_reset();
    root_drop();
}

static void test_archive_refused(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_txn_result res;
    gp_error err = { 0 };
    char cmd[1200], tarball[600];

    root_make();
    snprintf(tarball, sizeof(tarball), "%s.tar", root);
    snprintf(cmd, sizeof(cmd), "tar -C '%s' -cf '%s' proc etc 2>/dev/null", root, tarball);
    if (system(cmd) != 0) {
        root_drop();
        skip();
    }
    assert_int_equal(gp_host_open(tarball, &h, &err), 0);
    plan_build(h, &p);
    assert_int_equal(gp_txn_apply(h, &p, NULL, &res, &err), -EROFS);
    assert_non_null(strstr(err.msg, "archive"));
    assert_non_null(strstr(err.msg, tarball));
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, NULL, false, NULL, &res, &err), -EROFS);
    gp_plan_clear(&p);
    unlink(tarball);
    root_drop();
}

/* ---- odd journals ---- */

static void test_interrupted_journals(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p;
    gp_runner run;
    gp_txn_result res, ures;
    gp_error err = { 0 };
    char rel[256], path[512];
    char *s;
    int fd;

    root_make();
    h = host();
    plan_build(h, &p);
    recorder(&run, NULL);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);

    /* The state log torn in the middle of a line: undo still works and
     * starts its line on a new one. */
    snprintf(rel, sizeof(rel), "%s/%s/state", GP_JOURNAL_DIR, res.id);
    pathof(path, sizeof(path), rel);
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "und", 3), 3);
    close(fd);
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), 0);
    assert_all(0);
    s = get(rel);
    assert_non_null(strstr(s, "commit\nund\nundone\n"));
    free(s);

    /* An entry cut off before its manifest was written changed nothing. */
    snprintf(rel, sizeof(rel), "%s/29990101-000000-001", GP_JOURNAL_DIR);
    mkd(rel);
    snprintf(rel, sizeof(rel), "%s/29990101-000000-001/0.old", GP_JOURNAL_DIR);
    put(rel, GRUB_OLD, 0600);
    {
        gp_txn_info *v;
        size_t n;

        assert_int_equal(gp_txn_list(h, &v, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[1].id, "29990101-000000-001");
        assert_int_equal(v[1].n_files, 0);
        assert_null(v[1].files[0]);
        assert_false(v[1].complete);
        assert_false(v[1].undone);
        gp_txn_info_free(v, n);
    }
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), 0);
    assert_string_equal(ures.id, "29990101-000000-001");
    assert_int_equal(ures.files_written, 0);
    assert_int_equal(ures.cmds_run, 0);
    assert_all(0);
    s = journal_file("29990101-000000-001", "state");
    assert_string_equal(s, "undone\n");
    free(s);

    /* A damaged manifest is reported, nothing is touched. */
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    snprintf(rel, sizeof(rel), "%s/%s/manifest", GP_JOURNAL_DIR, res.id);
    put(rel, "gpupass-journal 1\nfile 0 etc/default/grub 1 0644 0 0\n", 0600);
    err = (gp_error){ 0 };
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "manifest is damaged"));
    assert_all(1);
    gp_plan_clear(&p);
    root_drop();
}

static void test_escaped_words(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_plan p = { 0 };
    gp_runner run;
    gp_txn_result res;
    gp_error err = { 0 };
    static const char *const cmd[] = { "echo", "two words", "", "back\\slash \"q\"", NULL };
    char *s;

    root_make();
    h = host();
    recorder(&run, NULL);
    assert_int_equal(gp_plan_set_file(&p, h, "etc/modprobe.d/with space.conf", "x\n", 2, 0644, "t", &err), 1);
    assert_int_equal(gp_plan_add_cmd(&p, "t", cmd), 0);
    assert_int_equal(gp_txn_apply(h, &p, &run, &res, &err), 0);
    s = get("etc/modprobe.d/with space.conf");
    assert_string_equal(s, "x\n");
    free(s);
    s = journal_file(res.id, "manifest");
    assert_true(has_line(s, "file 0 etc/modprobe.d/with\\x20space.conf 0 0644 0 0") || !am_root());
    assert_true(has_line(s, "cmd echo two\\x20words \"\" back\\x5cslash\\x20\\x22q\\x22"));
    free(s);
    {
        gp_txn_info *v;
        size_t n;

        assert_int_equal(gp_txn_list(h, &v, &n), 0);
        assert_string_equal(v[0].files[0], "etc/modprobe.d/with space.conf");
        assert_string_equal(v[0].cmds[0], "echo 'two words' '' 'back\\slash \"q\"'");
        gp_txn_info_free(v, n);
    }
    assert_int_equal(gp_txn_undo(h, NULL, false, &run, &res, &err), 0);
    assert_false(exists("etc/modprobe.d/with space.conf"));
    s = get("record.log");
    assert_string_equal(s, "echo two words  back\\slash \"q\"\necho two words  back\\slash \"q\"\n");
    free(s);
    gp_plan_clear(&p);
    root_drop();
}

/* ---- a failure at every fault point ---- */

/* After the host reached `want` (0 original, 1 applied): undo converges
 * to the original; from the original a fresh apply and its undo work. */
static void converge(gp_runner *run, int want)
{
    _cleanup_host_ gp_host *h = host();
    gp_txn_result res;
    gp_error err = { 0 };
    gp_plan p;

    if (want == 1) {
        assert_int_equal(gp_txn_undo(h, NULL, false, run, &res, &err), 0);
        assert_all(0);
        return;
    }
    plan_build(h, &p);
    assert_int_equal(gp_txn_apply(h, &p, run, &res, &err), 0);
    assert_all(1);
    assert_int_equal(gp_txn_undo(h, NULL, false, run, &res, &err), 0);
    assert_all(0);
    gp_plan_clear(&p);
}

static void test_fault_enospc(void **state)
{
    unsigned n;

    for (n = 1;; n++) {
        _cleanup_host_ gp_host *h = NULL;
        char logpath[512], spec[32];
        gp_plan p;
        gp_runner run;
        gp_txn_result res, ures;
        gp_error err = { 0 };
        size_t points;
        int r;

        root_make();
        h = host();
        plan_build(h, &p);
        recorder(&run, NULL);
        pathof(logpath, sizeof(logpath), "fault.log");
        setenv("GPUPASS_FAULT_LOG", logpath, 1);
        snprintf(spec, sizeof(spec), "%u:enospc", n);
        setenv("GPUPASS_FAULT", spec, 1);
        gp_fault_reset();
        r = gp_txn_apply(h, &p, &run, &res, &err);
        unsetenv("GPUPASS_FAULT");
        unsetenv("GPUPASS_FAULT_LOG");
        gp_fault_reset();
        points = count_lines(logpath);
        gp_plan_clear(&p);

        if (points < n) {
            /* The fault never fired: the apply ran to its end. */
            assert_int_equal(r, 0);
            assert_int_equal(res.failed_cmd, -1);
            assert_all(1);
            converge(&run, 1);
            root_drop();
            break;
        }
        if (r == 0) {
            /* The fault hit a command: it reads as one that could not be started. */
            assert_int_equal(res.failed_cmd >= 0, 1);
            assert_int_equal(res.failed_status, -ENOSPC);
        } else if (r != -ENOSPC) {
            fail_msg("point %u: apply returned %d (%s)", n, r, err.msg);
        } else {
            assert_true(err.msg[0] != '\0');
        }
        if (recorded() == 0 && res.failed_cmd < 0) {
            /* No command was started: every file was put back. */
            if (!strstr(err.msg, "unchanged") && !strstr(err.msg, "nothing was changed"))
                fail_msg("point %u: %s", n, err.msg);
            assert_all(0);
            err = (gp_error){ 0 };
            assert_int_equal(gp_txn_undo(h, NULL, false, &run, &ures, &err), -ENOENT);
            converge(&run, 0);
        } else {
            /* A command was started: the files stay with it, undo takes them back. */
            assert_all(1);
            converge(&run, 1);
        }
        root_drop();
    }
    print_message("# enospc: %u fault points tried\n", n - 1);
    assert_true(n > 60);
}

static void test_fault_kill(void **state)
{
    unsigned n, mixed = 0;

    for (n = 1;; n++) {
        _cleanup_host_ gp_host *h = NULL;
        char logpath[512], spec[32];
        gp_plan p;
        gp_runner run;
        gp_txn_result res;
        gp_error err = { 0 };
        size_t points, newer = 0;
        pid_t pid;
        int status, r;

        root_make();
        h = host();
        plan_build(h, &p);
        recorder(&run, NULL);
        pathof(logpath, sizeof(logpath), "fault.log");
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            setenv("GPUPASS_FAULT_LOG", logpath, 1);
            snprintf(spec, sizeof(spec), "%u:kill", n);
            setenv("GPUPASS_FAULT", spec, 1);
            gp_fault_reset();
            r = gp_txn_apply(h, &p, &run, &res, &err);
            _exit(r == 0 && res.failed_cmd < 0 ? 0 : 1);
        }
        gp_plan_clear(&p);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        points = count_lines(logpath);
        if (WEXITSTATUS(status) == 0) {
            assert_true(points < n);
            assert_all(1);
            converge(&run, 1);
            root_drop();
            break;
        }
        assert_int_equal(WEXITSTATUS(status), 99);
        assert_int_equal(points, n);

        /* Killed: each target is whole, the old or the new. */
        for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
            int st = target_state(&targets[i]);

            if (st < 0)
                fail_msg("point %u: %s is torn", n, targets[i].path);
            newer += (size_t)st;
        }
        mixed += newer > 0 && newer < ELEMENTSOF(targets);

        /* Undo converges to the original, whatever the point. */
        r = gp_txn_undo(h, NULL, false, &run, &res, &err);
        if (r != 0 && r != -ENOENT)
            fail_msg("point %u: undo returned %d (%s)", n, r, err.msg);
        assert_all(0);
        converge(&run, 0);
        root_drop();
    }
    print_message("# kill: %u fault points tried, %u left the host half-written before undo\n", n - 1, mixed);
    assert_true(n > 60);
    assert_true(mixed >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_undo),
        cmocka_unit_test(test_undo_conflict),
        cmocka_unit_test(test_symlinks),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_cmd_failure),
        cmocka_unit_test(test_print_runner),
        cmocka_unit_test(test_runners),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_archive_refused),
        cmocka_unit_test(test_interrupted_journals),
        cmocka_unit_test(test_escaped_words),
        cmocka_unit_test(test_fault_enospc),
        cmocka_unit_test(test_fault_kill),
        cmocka_unit_test(test_undo_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
