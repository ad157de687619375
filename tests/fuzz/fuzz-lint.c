/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for `gpupass lint`: any bytes as every file type the linters
 * know (GRUB defaults, /etc/kernel/cmdline, /proc/cmdline, module lists,
 * modprobe.d, initramfs modules, VM and CT configs, pci.cfg), judged once
 * without a host and once against a small fake Proxmox host built at start
 * (one GPU + audio function on vfio-pci in IOMMU group 1, node "pve1"), so
 * the guest linters run too; and the file type detection. Invariants:
 *   - gp_lint_buffer returns 0 (or -ENOMEM) and every finding it adds has
 *     an id, a layer, a title and a known severity;
 *   - detection returns a known type.
 * Plain builds replay tests/fuzz/seeds/lint.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gpu.h"
#include "hostcrit.h"
#include "lint.h"
#include "pci.h"

#define FUZZ_NAME "lint"
#define FUZZ_MUTATIONS 40
#define FUZZ_TOKENS "\n", "\"", "=", " ", "hostpci0: ", "0000:01:00", "01:00.0", "mapping=", ",pcie=1", "dev0: ", \
    "/dev/nvidia0", "lxc.cgroup2.devices.allow: c 195:* rwm", "options vfio-pci ids=", "10de:2684", \
    "GRUB_CMDLINE_LINUX_DEFAULT=\"", "intel_iommu=on", "\tmap node=pve1,path=0000:01:00,id=10de:2684", "vfio"
#include "fuzz-main.h"

static char root[PATH_MAX];
static gp_host *host;
static gp_pci_list *pci;
static gp_hostcrit *crit;
static gp_gpu_list *gpus;
static gp_check_ctx check;
static bool have_host;

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX], *slash;
    int fd;

    FUZZ_CHECK(snprintf(p, sizeof(p), "%s/%s", root, rel) < (int)sizeof(p));
    for (slash = strchr(p + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        (void)mkdir(p, 0755);
        *slash = '/';
    }
    if (!text) {
        (void)mkdir(p, 0755);
        return;
    }
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FUZZ_CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void ln(const char *target, const char *rel)
{
    char p[PATH_MAX];

    put(rel, NULL);
    FUZZ_CHECK(snprintf(p, sizeof(p), "%s/%s", root, rel) < (int)sizeof(p));
    (void)rmdir(p);
    FUZZ_CHECK(symlink(target, p) == 0);
}

static void dev(const char *addr, const char *device, const char *cls)
{
    char p[256], v[256];

    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/vendor", addr);
    put(p, "0x10de\n");
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/device", addr);
    snprintf(v, sizeof(v), "0x%s\n", device);
    put(p, v);
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/subsystem_vendor", addr);
    put(p, "0x1043\n");
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/subsystem_device", addr);
    put(p, "0x88e2\n");
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/class", addr);
    snprintf(v, sizeof(v), "0x%s\n", cls);
    put(p, v);
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/iommu_group", addr);
    ln("../../../../kernel/iommu_groups/1", p);
    snprintf(p, sizeof(p), "sys/kernel/iommu_groups/1/devices/%s", addr);
    snprintf(v, sizeof(v), "../../../../bus/pci/devices/%s", addr);
    ln(v, p);
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver", addr);
    ln("../../../bus/pci/drivers/vfio-pci", p);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (have_host) {
        gp_check_ctx_done(&check);
        gp_gpu_list_free(gpus);
        gp_hostcrit_free(crit);
        gp_pci_list_free(pci);
        gp_host_free(host);
    }
    if (root[0])
        (void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    gp_error err = { 0 };

    snprintf(root, sizeof(root), "%s/gpupass-fuzz-lint-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(root));
    atexit(teardown);
    put("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet intel_iommu=on\n");
    put("proc/sys/kernel/osrelease", "6.8.12-4-pve\n");
    put("proc/cpuinfo", "vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx\n\n");
    put("etc/hostname", "pve1.example.com\n");
    put("etc/pve/qemu-server", NULL);
    put("etc/pve/lxc", NULL);
    put("usr/share/kvm", NULL);
    put("dev/dri", NULL);
    dev("0000:01:00.0", "2684", "030000");
    dev("0000:01:00.1", "22ba", "040300");
    FUZZ_CHECK(gp_host_open(root, &host, &err) == 0);
    FUZZ_CHECK(gp_pci_scan(host, &pci, &err) == 0);
    FUZZ_CHECK(gp_hostcrit_find(host, pci, &crit) == 0);
    FUZZ_CHECK(gp_gpu_analyze(pci, crit, &gpus) == 0);
    FUZZ_CHECK(gp_check_ctx_init(&check, host, pci, gpus, crit) == 0);
    have_host = true;
}

static void check_findings(const gp_findings *out, size_t from)
{
    FUZZ_CHECK(!out->oom);
    for (size_t i = from; i < out->n; i++) {
        const gp_finding *f = &out->v[i];

        FUZZ_CHECK(f->id && f->id[0] && f->layer && f->title);
        FUZZ_CHECK((int)f->severity >= 0 && (int)f->severity <= (int)GP_SEV_FAIL);
        FUZZ_CHECK(!f->n_evidence || f->evidence);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        gp_file_type t;
        const char *display;
    } files[] = {
        { GP_FILE_GRUB_DEFAULT, "/etc/default/grub" },
        { GP_FILE_KERNEL_CMDLINE, "/etc/kernel/cmdline" },
        { GP_FILE_PROC_CMDLINE, "/proc/cmdline" },
        { GP_FILE_MODULES_LOAD, "/etc/modules" },
        { GP_FILE_MODPROBE, "/etc/modprobe.d/vfio.conf" },
        { GP_FILE_INITRAMFS_MODULES, "/etc/initramfs-tools/modules" },
        { GP_FILE_PVE_VM, "/etc/pve/qemu-server/100.conf" },
        { GP_FILE_PVE_MAPPING, "/etc/pve/mapping/pci.cfg" },
        { GP_FILE_PVE_CT, "/etc/pve/lxc/200.conf" },
    };
    char *s = fuzz_cstr(data, size);
    gp_findings out = { 0 };
    gp_lint_ctx bare = { .cpu = GP_CPU_AMD }, full;

    if (!s)
        return 0;
    if (!root[0])
        setup();
    full = (gp_lint_ctx){ .h = host, .kver = check.kver, .cpu = check.cpu, .pci = pci, .guest = &check };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        gp_file_type t = gp_file_type_detect(files[i].display, s, size);
        size_t from = out.n;
        int r;

        FUZZ_CHECK((int)t >= GP_FILE_UNKNOWN && (int)t <= GP_FILE_PVE_CT && gp_file_type_to_string(t));
        r = gp_lint_buffer(&bare, files[i].display, files[i].t, s, size, &out);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
        check_findings(&out, from);
        from = out.n;
        r = gp_lint_buffer(&full, files[i].display, files[i].t, s, size, &out);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
        check_findings(&out, from);
        gp_findings_clear(&out);
    }
    (void)gp_file_type_detect("fuzz.txt", s, size);
    free(s);
    return 0;
}
