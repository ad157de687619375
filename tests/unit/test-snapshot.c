/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gp_snapshot_write on a tiny fake host root: what must be in the archive,
 * what must never be (secrets, BAR/ROM files, MAC addresses, serials), and
 * that the output is written atomically.
 */
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
#include <unistd.h>
#include <cmocka.h>

#include "snaparchive.h"
#include "testutil.h"
#include "error.h"
#include "host.h"
#include "snapshot.h"

#define DEV "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
#define DSN_OFF 0x148
static const uint8_t serial[8] = { 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78 };

typedef struct fixture {
    char base[PATH_MAX];
    char root[PATH_MAX + 8];
    char out[PATH_MAX + 16];
    char ext[PATH_MAX + 8];
} fixture;

static void mkparents(const char *path)
{
    char p[PATH_MAX * 2];

    snprintf(p, sizeof(p), "%s", path);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            fail_msg("mkdir %s: %s", p, strerror(errno));
        *s = '/';
    }
}

static void put(const fixture *fx, const char *rel, const void *data, size_t len)
{
    char p[PATH_MAX * 2];
    int fd;

    snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
    mkparents(p);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void puts_(const fixture *fx, const char *rel, const char *text)
{
    put(fx, rel, text, strlen(text));
}

static void link_(const fixture *fx, const char *rel, const char *target)
{
    char p[PATH_MAX * 2];

    snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
    mkparents(p);
    assert_int_equal(symlink(target, p), 0);
}

static void le32(uint8_t *c, unsigned off, uint32_t v)
{
    c[off] = v & 0xff;
    c[off + 1] = (v >> 8) & 0xff;
    c[off + 2] = (v >> 16) & 0xff;
    c[off + 3] = (v >> 24) & 0xff;
}

/* A GPU behind a root port, bound to vfio-pci, in IOMMU group 12, with AER at
 * 0x100 and a Device Serial Number capability at 0x148. */
static void make_root(const fixture *fx)
{
    uint8_t cfg[4096] = { 0 };

    le32(cfg, 0x00, 0x268410de);
    cfg[0x06] = 0x10;                          /* capabilities list */
    cfg[0x34] = 0x60;
    cfg[0x60] = 0x03;                          /* VPD capability */
    cfg[0x61] = 0x00;
    le32(cfg, 0x64, 0x41424344);               /* VPD data register */
    le32(cfg, 0x100, 0x0001u | 1u << 16 | (uint32_t)DSN_OFF << 20);   /* AER -> DSN */
    le32(cfg, DSN_OFF, 0x0003u | 1u << 16);    /* DSN, last */
    memcpy(cfg + DSN_OFF + 4, serial, sizeof(serial));

    puts_(fx, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda3 intel_iommu=on\n");
    puts_(fx, "proc/sys/kernel/osrelease", "6.8.12-4-pve\n");
    puts_(fx, "proc/cpuinfo",
          "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\nflags\t\t: fpu vmx\nbogomips\t: 1\n\n"
          "processor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx secondflags\n\n");
    puts_(fx, "sys/devices/pci0000:00/uevent", "\n");
    puts_(fx, "sys/devices/pci0000:00/0000:00:01.0/vendor", "0x8086\n");
    puts_(fx, "sys/devices/pci0000:00/0000:00:01.0/class", "0x060400\n");
    puts_(fx, DEV "/vendor", "0x10de\n");
    puts_(fx, DEV "/class", "0x030000\n");
    put(fx, DEV "/config", cfg, sizeof(cfg));
    puts_(fx, DEV "/resource0", "BAR must never be read\n");
    puts_(fx, DEV "/rom", "ROM must never be read\n");
    puts_(fx, DEV "/reset", "");
    puts_(fx, DEV "/vpd", "serial number\n");
    link_(fx, DEV "/driver", "../../../../bus/pci/drivers/vfio-pci");
    link_(fx, DEV "/iommu_group", "../../../../kernel/iommu_groups/12");
    link_(fx, "sys/bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0");
    link_(fx, "sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    puts_(fx, "sys/bus/pci/drivers/vfio-pci/bind", "");
    puts_(fx, "sys/bus/pci/drivers/vfio-pci/unbind", "");
    link_(fx, "sys/bus/pci/drivers/vfio-pci/0000:01:00.0", "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    puts_(fx, "sys/kernel/iommu_groups/12/type", "DMA\n");
    link_(fx, "sys/kernel/iommu_groups/12/devices/0000:01:00.0",
          "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    puts_(fx, "sys/devices/pci0000:00/0000:00:1f.6/net/eno1/address", "3c:ec:ef:11:22:33\n");
    puts_(fx, "sys/devices/pci0000:00/0000:00:1f.6/net/eno1/operstate", "up\n");
    puts_(fx, "sys/devices/pci0000:00/0000:00:1f.6/net/eno1/type", "1\n");
    link_(fx, "sys/class/net/eno1", "../../devices/pci0000:00/0000:00:1f.6/net/eno1");
    puts_(fx, "etc/shadow", "root:$6$secret:19000:0:99999:7:::\n");
    puts_(fx, "etc/ssh/ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    puts_(fx, "etc/pve/priv/authkey.key", "-----BEGIN PRIVATE KEY-----\n");
    puts_(fx, "etc/pve/storage.cfg", "cifs: share\n\tpassword secret\n");
    puts_(fx, "etc/hostname", "pve-secret-name\n");
    puts_(fx, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:2684\n");
    puts_(fx, "etc/modprobe.d/README", "not a .conf file\n");
    puts_(fx, "etc/network/interfaces",
          "auto vmbr0\niface vmbr0 inet static\n\taddress 192.168.1.10/24\n\tgateway 192.168.1.1\n"
          "\tbridge-ports eno1\n");
    puts_(fx, "etc/pve/qemu-server/100.conf",
          "hostpci0: 0000:01:00.0,pcie=1\nnet0: virtio=BC:24:11:AA:BB:CC,bridge=vmbr0\n"
          "smbios1: uuid=0f3a2b6c-1d2e-4f50-8a9b-0c1d2e3f4a5b\n");
    puts_(fx, "gpupass/kmsg.txt", "[    1.000000] DMAR: IOMMU enabled\n");
}

#define IGPU "sys/devices/pci0000:00/0000:00:02.0"
#define NV_UUID "GPU-4f1c2d3e-5a6b-7c8d-9e0f-a1b2c3d4e5f6"

/* What `gpupass lxc` reads: an iGPU on i915 with its DRM minors (a
 * connector and a simpledrm card that is no PCI function beside them), and
 * the nvidia module's procfs. */
static void make_gpu_nodes(const fixture *fx)
{
    puts_(fx, IGPU "/vendor", "0x8086\n");
    puts_(fx, IGPU "/class", "0x030000\n");
    link_(fx, IGPU "/driver", "../../../bus/pci/drivers/i915");
    link_(fx, "sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0");
    puts_(fx, IGPU "/drm/card0/dev", "226:0\n");
    puts_(fx, IGPU "/drm/card0/uevent", "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\nDEVTYPE=drm_minor\n");
    link_(fx, IGPU "/drm/card0/device", "../../../0000:00:02.0");
    puts_(fx, IGPU "/drm/card0/card0-DP-1/status", "disconnected\n");
    puts_(fx, IGPU "/drm/renderD128/dev", "226:128\n");
    link_(fx, IGPU "/drm/renderD128/device", "../../../0000:00:02.0");
    link_(fx, "sys/class/drm/card0", "../../devices/pci0000:00/0000:00:02.0/drm/card0");
    link_(fx, "sys/class/drm/card0-DP-1", "../../devices/pci0000:00/0000:00:02.0/drm/card0/card0-DP-1");
    link_(fx, "sys/class/drm/renderD128", "../../devices/pci0000:00/0000:00:02.0/drm/renderD128");
    puts_(fx, "sys/devices/platform/simple-framebuffer.0/drm/card1/dev", "226:1\n");
    link_(fx, "sys/class/drm/card1", "../../devices/platform/simple-framebuffer.0/drm/card1");
    puts_(fx, "sys/class/drm/version", "drm 1.1.0 20060810\n");
    puts_(fx, "proc/driver/nvidia/version",
          "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n"
          "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n");
    puts_(fx, "proc/driver/nvidia/gpus/0000:01:00.0/information",
          "Model: \t\t NVIDIA GeForce RTX 4090\nIRQ:   \t\t 16\nGPU UUID: \t " NV_UUID "\n"
          "Bus Location: \t 0000:01:00.0\nDevice Minor: \t 0\n");
    puts_(fx, "proc/driver/nvidia/params", "ResmanDebugLevel: 4294967295\n");
    /* A container's root (its users and groups) stays out. */
    puts_(fx, "var/lib/lxc/200/rootfs/etc/group", "render:x:106:\n");
    puts_(fx, "etc/pve/lxc/200.conf", "hostname: jellyfin\nunprivileged: 1\n");
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    assert_int_equal(gp_test_tmpdir(fx->base, sizeof(fx->base), "gp-test-snapshot"), 0);
    snprintf(fx->root, sizeof(fx->root), "%s/root", fx->base);
    snprintf(fx->out, sizeof(fx->out), "%s/out/snap.tar.gz", fx->base);
    snprintf(fx->ext, sizeof(fx->ext), "%s/ext", fx->base);
    assert_int_equal(mkdir(fx->root, 0755), 0);
    assert_int_equal(mkdir(fx->ext, 0700), 0);
    mkparents(fx->out);
    make_root(fx);
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

static int snapshot(fixture *fx, const gp_snapshot_opts *opts, gp_error *err)
{
    gp_host *h = NULL;
    int r;

    assert_int_equal(gp_host_open(fx->root, &h, err), 0);
    r = gp_snapshot_write(h, fx->out, opts, err);
    gp_host_free(h);
    return r;
}

static void snapshot_and_extract(fixture *fx, bool ids)
{
    gp_snapshot_stats stats = { 0 };
    gp_snapshot_opts opts = { .include_identifiers = ids, .stats = &stats };
    gp_error err = { 0 };

    if (snapshot(fx, &opts, &err) < 0)
        fail_msg("gp_snapshot_write: %s", gp_error_message(&err));
    assert_true(stats.files > 10);
    assert_true(stats.bytes > 0);
    if (gp_archive_extract(fx->out, fx->ext, &err) < 0)
        fail_msg("gp_archive_extract: %s", gp_error_message(&err));
}

static bool has(const fixture *fx, const char *rel)
{
    char p[PATH_MAX * 2];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", fx->ext, rel);
    return lstat(p, &st) == 0;
}

static char *slurp(const fixture *fx, const char *rel, size_t *len)
{
    char p[PATH_MAX * 2];
    static char buf[8192];
    ssize_t n;
    int fd;

    snprintf(p, sizeof(p), "%s/%s", fx->ext, rel);
    fd = open(p, O_RDONLY);
    if (fd < 0)
        fail_msg("%s missing from the snapshot", rel);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

static void test_contents(void **state)
{
    fixture *fx = *state;
    char p[PATH_MAX * 2], target[PATH_MAX];
    ssize_t n;
    size_t len;
    uint8_t *cfg;

    snapshot_and_extract(fx, false);

    /* What gpupass reads. */
    assert_string_equal(slurp(fx, DEV "/vendor", NULL), "0x10de\n");
    assert_string_equal(slurp(fx, "sys/bus/pci/devices/0000:01:00.0/class", NULL), "0x030000\n");
    assert_string_equal(slurp(fx, "sys/devices/pci0000:00/0000:00:01.0/class", NULL), "0x060400\n");
    assert_string_equal(slurp(fx, "sys/kernel/iommu_groups/12/type", NULL), "DMA\n");
    assert_true(has(fx, "sys/bus/pci/drivers/vfio-pci/bind"));
    assert_true(has(fx, "sys/bus/pci/drivers/vfio-pci/0000:01:00.0"));
    assert_true(has(fx, "sys/kernel/iommu_groups/12/devices/0000:01:00.0"));
    snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0", fx->ext);
    n = readlink(p, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    snprintf(p, sizeof(p), "%s/" DEV "/driver", fx->ext);
    n = readlink(p, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "../../../../bus/pci/drivers/vfio-pci");
    assert_string_equal(slurp(fx, "proc/cmdline", NULL), "BOOT_IMAGE=/vmlinuz root=/dev/sda3 intel_iommu=on\n");
    assert_string_equal(slurp(fx, "etc/modprobe.d/vfio.conf", NULL), "options vfio-pci ids=10de:2684\n");
    assert_string_equal(slurp(fx, "sys/class/net/eno1/operstate", NULL), "up\n");
    assert_string_equal(slurp(fx, "gpupass/kmsg.txt", NULL), "[    1.000000] DMAR: IOMMU enabled\n");
    assert_non_null(strstr(slurp(fx, "gpupass/snapshot.json", NULL), "\"kernel_release\": \"6.8.12-4-pve\""));
    assert_non_null(strstr(slurp(fx, "etc/pve/qemu-server/100.conf", NULL), "hostpci0: 0000:01:00.0,pcie=1"));

    /* Config space kept, serial numbers zeroed, the rest untouched. */
    cfg = (uint8_t *)slurp(fx, DEV "/config", &len);
    assert_int_equal(len, 4096);
    assert_int_equal(cfg[0], 0xde);
    assert_int_equal(cfg[1], 0x10);
    assert_int_equal(cfg[DSN_OFF], 0x03);
    for (int i = 0; i < 8; i++)
        assert_int_equal(cfg[DSN_OFF + 4 + i], 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(cfg[0x64 + i], 0);
    assert_int_equal(cfg[0x100], 0x01);

    /* Never: secrets, BARs, ROM, reset, VPD, unlisted etc files, MACs. */
    assert_false(has(fx, "etc/shadow"));
    assert_false(has(fx, "etc/ssh"));
    assert_false(has(fx, "etc/pve/priv"));
    assert_false(has(fx, "etc/pve/storage.cfg"));
    assert_false(has(fx, "etc/modprobe.d/README"));
    assert_false(has(fx, DEV "/resource0"));
    /* The ROM's presence is recorded, never its content. */
    {
        size_t romlen = 1;

        assert_true(has(fx, DEV "/rom"));
        (void)slurp(fx, DEV "/rom", &romlen);
        assert_int_equal(romlen, 0);
    }
    assert_false(has(fx, DEV "/reset"));
    assert_false(has(fx, DEV "/vpd"));
    assert_false(has(fx, "sys/class/net/eno1/address"));
    assert_false(has(fx, "sys/devices/pci0000:00/0000:00:1f.6/net/eno1/address"));

    /* Identifiers redacted, structure kept. */
    assert_string_equal(slurp(fx, "etc/hostname", NULL), "redacted\n");
    assert_non_null(strstr(slurp(fx, "etc/network/interfaces", NULL), "\taddress redacted\n\tgateway redacted\n"));
    assert_null(strstr(slurp(fx, "etc/network/interfaces", NULL), "192.168"));
    assert_non_null(strstr(slurp(fx, "etc/pve/qemu-server/100.conf", NULL), "virtio=00:00:00:00:00:00,bridge=vmbr0"));
    assert_non_null(strstr(slurp(fx, "etc/pve/qemu-server/100.conf", NULL),
                           "uuid=00000000-0000-0000-0000-000000000000"));

    /* cpuinfo: the first processor's identity; later ones only counted. */
    assert_non_null(strstr(slurp(fx, "proc/cpuinfo", NULL), "model name\t: Test CPU\nflags\t\t: fpu vmx\n"));
    assert_null(strstr(slurp(fx, "proc/cpuinfo", NULL), "secondflags"));
    assert_null(strstr(slurp(fx, "proc/cpuinfo", NULL), "bogomips"));
    assert_non_null(strstr(slurp(fx, "proc/cpuinfo", NULL), "processor\t: 1\n"));
}

static void test_gpu_nodes(void **state)
{
    fixture *fx = *state;
    char p[PATH_MAX * 2], target[PATH_MAX];
    ssize_t n;

    make_gpu_nodes(fx);
    snapshot_and_extract(fx, false);

    /* DRM minors of the PCI GPU: class link, dev, device link. */
    snprintf(p, sizeof(p), "%s/sys/class/drm/renderD128", fx->ext);
    n = readlink(p, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "../../devices/pci0000:00/0000:00:02.0/drm/renderD128");
    assert_string_equal(slurp(fx, "sys/class/drm/renderD128/dev", NULL), "226:128\n");
    assert_string_equal(slurp(fx, "sys/class/drm/card0/dev", NULL), "226:0\n");
    snprintf(p, sizeof(p), "%s/" IGPU "/drm/card0/device", fx->ext);
    n = readlink(p, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "../../../0000:00:02.0");
    assert_true(has(fx, IGPU "/drm/renderD128/device"));
    /* Not connectors, not a DRM device that is no PCI function. */
    assert_false(has(fx, "sys/class/drm/card0-DP-1"));
    assert_false(has(fx, IGPU "/drm/card0/card0-DP-1"));
    assert_false(has(fx, "sys/class/drm/card1"));
    assert_false(has(fx, "sys/devices/platform"));

    /* The nvidia module: version, Device Minor; the GPU UUID zeroed. */
    assert_non_null(strstr(slurp(fx, "proc/driver/nvidia/version", NULL), "Kernel Module  550.127.05  "));
    assert_non_null(strstr(slurp(fx, "proc/driver/nvidia/gpus/0000:01:00.0/information", NULL),
                           "Device Minor: \t 0\n"));
    assert_non_null(strstr(slurp(fx, "proc/driver/nvidia/gpus/0000:01:00.0/information", NULL),
                           "GPU UUID: \t GPU-00000000-0000-0000-0000-000000000000\n"));
    assert_false(has(fx, "proc/driver/nvidia/params"));

    /* Container configs yes, a container's root never. */
    assert_true(has(fx, "etc/pve/lxc/200.conf"));
    assert_false(has(fx, "var/lib/lxc"));
}

static void test_identifiers(void **state)
{
    fixture *fx = *state;

    make_gpu_nodes(fx);
    snapshot_and_extract(fx, true);
    assert_non_null(strstr(slurp(fx, "proc/driver/nvidia/gpus/0000:01:00.0/information", NULL), NV_UUID));
    assert_string_equal(slurp(fx, "sys/class/net/eno1/address", NULL), "3c:ec:ef:11:22:33\n");
    assert_string_equal(slurp(fx, "etc/hostname", NULL), "pve-secret-name\n");
    assert_non_null(strstr(slurp(fx, "etc/network/interfaces", NULL), "address 192.168.1.10/24"));
    /* Serial numbers stay out even so. */
    assert_false(has(fx, "etc/shadow"));
    assert_int_equal((uint8_t)slurp(fx, DEV "/config", NULL)[DSN_OFF + 4], 0);
}

/* The snapshot reads back as a host root through gp_host_open. */
static void test_replay(void **state)
{
    fixture *fx = *state;
    gp_error err = { 0 };
    gp_host *h = NULL;
    char *v = NULL, *rel = NULL;

    assert_int_equal(snapshot(fx, NULL, &err), 0);
    assert_int_equal(gp_host_open(fx->out, &h, &err), 0);
    assert_int_equal(gp_host_read_attr(h, "sys/bus/pci/devices/0000:01:00.0/iommu_group/type", &v), 0);
    assert_string_equal(v, "DMA");
    assert_int_equal(gp_host_resolve(h, "sys/bus/pci/devices/0000:01:00.0/driver", &rel), 0);
    assert_string_equal(rel, "sys/bus/pci/drivers/vfio-pci");
    free(v);
    free(rel);
    gp_host_free(h);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_atomic(void **state)
{
    fixture *fx = *state;
    gp_snapshot_opts force = { .overwrite = true };
    gp_error err = { 0 };
    char outdir[PATH_MAX + 8], missing[PATH_MAX + 32];
    struct stat st;
    int fd;

    snprintf(outdir, sizeof(outdir), "%s/out", fx->base);
    /* An existing file is not replaced without overwrite, and is untouched. */
    fd = open(fx->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    assert_int_equal(snapshot(fx, NULL, &err), -EEXIST);
    assert_non_null(strstr(err.msg, "--force"));
    assert_int_equal(stat(fx->out, &st), 0);
    assert_int_equal(st.st_size, 4);
    assert_int_equal(count_entries(outdir), 1);

    err = (gp_error) { 0 };
    assert_int_equal(snapshot(fx, &force, &err), 0);
    assert_int_equal(stat(fx->out, &st), 0);
    assert_true(st.st_size > 4);
    assert_int_equal(count_entries(outdir), 1);   /* no temp file left */

    /* A missing directory is an error that names it. */
    err = (gp_error) { 0 };
    snprintf(missing, sizeof(missing), "%s/nope/snap.tar.gz", fx->base);
    {
        gp_host *h = NULL;

        assert_int_equal(gp_host_open(fx->root, &h, &err), 0);
        assert_int_equal(gp_snapshot_write(h, missing, NULL, &err), -ENOENT);
        gp_host_free(h);
    }
    assert_non_null(strstr(err.msg, "nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpu_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
