/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The doctor's signature table: its shape, that each needle matches the
 * line the kernel (QEMU, qemu-server, ...) really prints, and that the fix
 * follows the host's facts (kernel version, boot loader, vendor-reset, CPU
 * vendor, the group's members) on small hand-built roots.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "check.h"
#include "logsig.h"
#include "testutil.h"

static char root[256];

static void put(const char *rel, const char *content)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0755);
            *p = '/';
        }
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void drop(const char *rel)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    (void)gp_test_rm_rf(path);
}

static int setup(void **state)
{
    if (gp_test_tmpdir(root, sizeof(root), "gpupass-logsig") < 0)
        return -1;
    put("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/mapper/pve-root ro quiet\n");
    put("proc/sys/kernel/osrelease", "6.8.12-4-pve\n");
    put("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx sse2\n");
    put("etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n");
    return 0;
}

static int teardown(void **state)
{
    return gp_test_rm_rf(root);
}

/* ---- the table ------------------------------------------------------------ */

static const gp_logsig *sig(const char *id)
{
    for (size_t i = 0; i < gp_n_logsigs; i++)
        if (strcmp(gp_logsigs[i].id, id) == 0)
            return &gp_logsigs[i];
    return NULL;
}

static void test_table(void **state)
{
    bool mode_seen[17] = { false };

    assert_true(gp_n_logsigs >= 16);
    for (size_t i = 0; i < gp_n_logsigs; i++) {
        const gp_logsig *s = &gp_logsigs[i];
        char *end;
        long n;

        assert_non_null(s->id);
        assert_true(strncmp(s->id, "doctor.", 7) == 0 && s->id[7]);
        for (size_t j = i + 1; j < gp_n_logsigs; j++)
            if (strcmp(s->id, gp_logsigs[j].id) == 0)
                fail_msg("duplicate id %s", s->id);
        assert_non_null(s->needle);
        assert_true(s->needle[0] != '\0');
        assert_true(!s->also || s->also[0]);
        assert_true(!s->unless || s->unless[0]);
        assert_true(s->severity < _GP_SEV_MAX);
        assert_true(s->explain && s->explain[0]);
        assert_non_null(s->fix);
        /* "F<n> what": the failure mode of failure-modes.md */
        assert_non_null(s->mode);
        assert_int_equal(s->mode[0], 'F');
        n = strtol(s->mode + 1, &end, 10);
        assert_true(n >= 1 && n <= 16 && *end == ' ' && end[1]);
        mode_seen[n] = true;
    }
    for (int n = 1; n <= 16; n++)
        if (!mode_seen[n])
            fail_msg("no signature for failure mode F%d", n);
}

/* A line as the source prints it (after the log prefix is taken off), and
 * the signature that must claim it. */
static const struct {
    const char *id, *line;
} samples[] = {
    { "doctor.iommu-not-present", "cannot prepare PCI pass-through, IOMMU not present" },
    { "doctor.no-iommu-group", "kvm: -device vfio-pci,host=0000:01:00.0: vfio 0000:01:00.0: no iommu_group found: "
                               "No such file or directory" },
    { "doctor.vfio-probe-einval", "vfio-pci: probe of 0000:01:00.0 failed with error -22" },
    { "doctor.iommu-disabled", "DMAR: IOMMU disabled" },
    { "doctor.amd-iommu-on", "AMD-Vi: Unknown option - 'on'" },
    { "doctor.kernel-cmdline-missing", "No /etc/kernel/cmdline found - falling back to /proc/cmdline" },
    { "doctor.unknown-params", "Unknown kernel command line parameters \"BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve "
                               "intel_iommmu=on\", will be passed to user space." },
    { "doctor.no-interrupt-remapping", "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the "
                                       "module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on "
                                       "this platform" },
    { "doctor.container-eperm", "vfio 0000:02:00.0: failed to setup container for group 2: Failed to set iommu "
                                "for container: Operation not permitted" },
    { "doctor.ir-not-enabled", "DMAR-IR: Not enabling interrupt remapping" },
    { "doctor.group-not-viable", "vfio 0000:0a:00.0: group 4 is not viable" },
    { "doctor.device-not-bound", "vfio 0000:01:00.0: error getting device from group 2: No such device" },
    { "doctor.virqfd-not-found", "systemd-modules-load[412]: Failed to find module 'vfio_virqfd'" },
    { "doctor.virqfd-modprobe", "modprobe: FATAL: Module vfio_virqfd not found in directory "
                                "/lib/modules/6.8.12-4-pve" },
    { "doctor.virqfd-mkinitcpio", "==> ERROR: module not found: 'vfio_virqfd'" },
    { "doctor.bar-reserve", "vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem 0xc0000000-0xcfffffff 64bit pref]" },
    { "doctor.bar-efifb", "pci 0000:42:00.0: BAR 3: assigned to efifb" },
    { "doctor.rom-signature", "vfio-pci 0000:01:00.0: Invalid PCI ROM header signature: expecting 0xaa55, got "
                              "0xffff" },
    { "doctor.rom-unreadable", "kvm: vfio-pci: Cannot read device rom at 0000:01:00.0" },
    { "doctor.d3cold", "vfio-pci 0000:01:00.0: Unable to change power state from D3cold to D0, device inaccessible" },
    { "doctor.not-ready", "vfio-pci 0000:01:00.0: not ready 65535ms after resume; giving up" },
    { "doctor.stuck-in-d3", "vfio: Unable to power on device, stuck in D3" },
    { "doctor.power-state-refused", "vfio-pci 0000:28:00.1: Refused to change power state from D0 to D3hot" },
    { "doctor.pve-reset-failed", "failed to reset PCI device '0000:01:00.0', but trying to continue as not all "
                                 "devices need a reset" },
    { "doctor.pve-reset-refused", "can't reset PCI device '0000:01:00.0'" },
    { "doctor.flr-pending", "vfio-pci 0000:01:00.0: timed out waiting for pending transaction; performing function "
                            "level reset anyway" },
    { "doctor.bar-restore", "vfio-pci 0000:01:00.0: vfio_bar_restore: reset recovery - restoring BARs" },
    { "doctor.reset-group", "vfio: Cannot reset device 0000:01:00.1, depends on group 14 which is not owned." },
    { "doctor.nvrm-init-failed", "NVRM: GPU 0000:01:00.0: RmInitAdapter failed! (0x24:0xffff:1211)" },
    { "doctor.invalidation-timeout", "DMAR: VT-d detected Invalidation Time-out Error: SID ffff" },
    { "doctor.amd-vi-page-fault", "vfio-pci 0000:0a:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000d "
                                  "address=0xfd200000 flags=0x0020]" },
    { "doctor.dmar-fault", "DMAR: DRHD: handling fault status reg 3" },
    { "doctor.dmar-fault-device", "DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x7f8e1000 "
                                  "[fault reason 0x06] PTE Read access is not set" },
    { "doctor.msr-ignored", "kvm [4211]: ignored rdmsr: 0x64e data 0x0" },
    { "doctor.msr-unhandled", "kvm [48211]: vcpu2, guest rIP: 0xfffff8034e2a6c2f Unhandled RDMSR(0x1c9)" },
    { "doctor.msr-unhandled-old", "kvm [1234]: vcpu0 unhandled rdmsr: 0x1c9" },
    { "doctor.bar0-zero", "NVRM: BAR0 is 0M @ 0x0 (PCI:0000:01:00.0)" },
    { "doctor.ecap-hidden", "vfio-pci 0000:01:00.0: vfio_ecap_init: hiding ecap 0x19@0x900" },
    { "doctor.unbind-in-use", "NVRM: Attempting to remove device 0000:31:00.0 with non-zero usage count!" },
    { "doctor.pve-bind-failed", "can't unbind/bind PCI group to VFIO '0000:31:00.0'" },
    { "doctor.rmrr", "DMAR: Device is ineligible for IOMMU domain attach due to platform RMRR requirement.  Contact "
                     "your platform vendor." },
    { "doctor.rmrr-identity", "vfio-pci 0000:81:00.0: Firmware has requested this device have a 1:1 IOMMU mapping, "
                              "rejecting configuring the device without a 1:1 mapping. Contact your platform "
                              "vendor." },
    { "doctor.class-3d", "pci 0000:17:00.0: [10de:26b9] type 00 class 0x030200 PCIe Endpoint" },
    { "doctor.nvml-mismatch", "Failed to initialize NVML: Driver/library version mismatch" },
    { "doctor.lxc-mount-node", "ERROR conf - ../src/lxc/conf.c:mount_entry:2459 - No such file or directory - "
                               "Failed to mount \"/dev/nvidia-uvm\" onto \"/usr/lib/x86_64-linux-gnu/lxc/rootfs/"
                               "dev/nvidia-uvm\"" },
    { "doctor.lxc-autodev", "ERROR conf - ../src/lxc/conf.c:lxc_setup:4441 - Failed to run autodev hooks" },
    { "doctor.lxc-va-display", "[AVHWDeviceContext @ 0x55d0c5a3f6c0] No VA display found for device "
                               "/dev/dri/renderD128." },
    { "doctor.lxc-docker-bpf", "bpf_prog_query(BPF_CGROUP_DEVICE) failed: operation not permitted: unknown" },
    { "doctor.mdev-multifunction", "cannot use mediated device with multifunction device" },
    { "doctor.sriov-mmio", "nvidia 0000:98:00.0: not enough MMIO resources for SR-IOV" },
    { "doctor.sriov-busy", "nvidia 0000:17:00.0: 4 VFs already enabled. Disable before enabling 8 VFs" },
    { "doctor.vgpu-mgr-error", "nvidia-vgpu-mgr[5120]: error: vmiop_log: (0x0): Guest BAR1 is of invalid length "
                               "(g: 0x10000000, h: 0x40000000)" },
};

static bool matches(const gp_logsig *s, const char *line)
{
    return strstr(line, s->needle) && (!s->also || strstr(line, s->also)) && (!s->unless || !strstr(line, s->unless));
}

static void test_needles(void **state)
{
    /* lines of a good boot that no warning or failure may claim */
    static const char *const healthy[] = {
        "DMAR: IOMMU enabled",
        "DMAR-IR: Enabled IRQ remapping in x2apic mode",
        "AMD-Vi: Interrupt remapping enabled",
        "pci 0000:01:00.0: [10de:2684] type 00 class 0x030000 PCIe Legacy Endpoint",
        "vfio_pci: add [10de:2684[ffffffff:ffffffff]] class 0x000000/00000000",
        "vfio-pci 0000:01:00.0: vgaarb: deactivate vga console",
        "vfio-pci 0000:01:00.0: enabling device (0000 -> 0003)",
        "DMAR: RMRR base: 0x0000007c000000 end: 0x000000807fffff",
        "DMAR: DRHD base: 0x000000fed91000 flags: 0x1",
        "iommu: Default domain type: Passthrough (set via kernel command line)",
        "efifb: framebuffer at 0x4000000000, using 8100k, total 8100k",
        "i915 0000:00:02.0: Enabled 7 VFs",
        "Not enabling interrupt remapping due to skipped IO-APIC setup",
    };

    for (size_t i = 0; i < ELEMENTSOF(samples); i++) {
        const gp_logsig *s = sig(samples[i].id);

        if (!s)
            fail_msg("no signature %s", samples[i].id);
        if (!matches(s, samples[i].line))
            fail_msg("%s does not match its own line: %s", samples[i].id, samples[i].line);
    }
    /* every signature has a sample */
    for (size_t k = 0; k < gp_n_logsigs; k++) {
        bool found = false;

        for (size_t i = 0; i < ELEMENTSOF(samples) && !found; i++)
            found = strcmp(samples[i].id, gp_logsigs[k].id) == 0;
        if (!found)
            fail_msg("%s has no sample line in this test", gp_logsigs[k].id);
    }
    for (size_t i = 0; i < ELEMENTSOF(healthy); i++)
        for (size_t k = 0; k < gp_n_logsigs; k++)
            if (gp_logsigs[k].severity >= GP_SEV_WARN && matches(&gp_logsigs[k], healthy[i]))
                fail_msg("%s claims a healthy line: %s", gp_logsigs[k].id, healthy[i]);
}

/* ---- fixes on hand-built hosts ---------------------------------------------- */

typedef struct host_ctx {
    gp_host *h;
    gp_pci_list pci;
    gp_pci_dev devs[4];
    gp_gpu_list *gpus;
    gp_check_ctx ctx;
} host_ctx;

static void dev_init(gp_pci_dev *d, const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
                     int group, const char *driver)
{
    *d = (gp_pci_dev){ .parent = -1, .physfn = -1, .iommu_group = group, .numa_node = -1, .boot_vga = 0,
                       .sriov_total_vfs = -1, .sriov_num_vfs = -1, .vendor_id = vendor, .device_id = device,
                       .class_code = class_code, .driver = (char *)driver };
    assert_int_equal(gp_pci_addr_parse(name, &d->addr, NULL), 0);
    gp_pci_addr_format(&d->addr, d->name);
}

/* Opens the root as it is now; devs[0..n) become its PCI list. */
static void host_open(host_ctx *hc, size_t n)
{
    gp_error err = { 0 };

    assert_int_equal(gp_host_open(root, &hc->h, &err), 0);
    hc->pci = (gp_pci_list){ .devs = hc->devs, .n = n, .iommu_groups = n ? 8 : 0 };
    hc->gpus = NULL;
    assert_int_equal(gp_gpu_analyze(&hc->pci, NULL, &hc->gpus), 0);
    assert_int_equal(gp_check_ctx_init(&hc->ctx, hc->h, &hc->pci, hc->gpus, NULL), 0);
}

static void host_close(host_ctx *hc)
{
    gp_check_ctx_done(&hc->ctx);
    gp_gpu_list_free(hc->gpus);
    gp_host_free(hc->h);
    hc->h = NULL;
}

/* The fix of signature id for one line on the open host; never NULL. */
static char *fix_for(host_ctx *hc, const char *id, const char *line, const char *device, int group, int bar)
{
    const gp_logsig *s = sig(id);
    gp_logline l = { .text = line, .len = strlen(line), .ts = -1, .lineno = 1 };
    gp_loghit hit = { .first = &l, .count = 1, .device = device, .group = group, .bar = bar };
    char *fix = NULL;

    if (!s || !s->fix)
        fail_msg("no signature %s with a fix", id);
    assert_int_equal(s->fix(&hc->ctx, &hit, &fix), 0);
    assert_non_null(fix);
    return fix;
}

#define assert_has(s, needle)                                                                                      \
    do {                                                                                                           \
        if (!strstr((s), (needle)))                                                                                \
            fail_msg("expected \"%s\" in:\n%s", (needle), (s));                                                    \
    } while (0)
#define assert_lacks(s, needle)                                                                                    \
    do {                                                                                                           \
        if (strstr((s), (needle)))                                                                                 \
            fail_msg("did not expect \"%s\" in:\n%s", (needle), (s));                                              \
    } while (0)

static const char bar_line[] = "vfio-pci 0000:01:00.0: BAR 0: can't reserve [mem 0x4000000000-0x400fffffff 64bit pref]";

static void boot_gpu(host_ctx *hc)
{
    dev_init(&hc->devs[0], "0000:01:00.0", 0x10de, 0x2684, 0x030000, 1, "vfio-pci");
    hc->devs[0].boot_vga = 1;
    hc->devs[0].bars[0] = (gp_pci_bar){ .start = 0x4000000000ULL, .size = 0x10000000, .prefetchable = true,
                                        .mem64 = true };
}

static void test_bootfb_follows_kernel(void **state)
{
    host_ctx hc;
    char *k68, *k510;

    put("proc/iomem", "4000000000-ffffffffff : PCI Bus 0000:00\n"
                      "  4000000000-400fffffff : 0000:01:00.0\n"
                      "    4000000000-40007e8fff : BOOTFB\n"
                      "      4000000000-40007e8fff : efifb\n");
    put("sys/firmware/efi/fw_platform_size", "64\n");
    boot_gpu(&hc);
    host_open(&hc, 1);
    k68 = fix_for(&hc, "doctor.bar-reserve", bar_line, "0000:01:00.0", -1, 0);
    host_close(&hc);

    /* 5.15 moved the framebuffer to sysfb: before it, video=efifb:off */
    put("proc/sys/kernel/osrelease", "5.10.0-28-amd64\n");
    boot_gpu(&hc);
    host_open(&hc, 1);
    k510 = fix_for(&hc, "doctor.bar-reserve", bar_line, "0000:01:00.0", -1, 0);
    host_close(&hc);

    assert_has(k68, "BOOTFB sits in BAR 0 of 0000:01:00.0");
    assert_has(k68, "initcall_blacklist=sysfb_init");
    assert_lacks(k68, "video=efifb:off");
    assert_has(k510, "video=efifb:off");
    assert_lacks(k510, "initcall_blacklist");
    assert_string_not_equal(k68, k510);
    /* GRUB boots this root */
    assert_has(k68, "/etc/default/grub");
    assert_has(k68, "update-grub");
    free(k68);
    free(k510);

    /* legacy BIOS boot before 5.15: vesafb, not efifb */
    drop("sys/firmware/efi");
    boot_gpu(&hc);
    host_open(&hc, 1);
    k510 = fix_for(&hc, "doctor.bar-reserve", bar_line, "0000:01:00.0", -1, 0);
    host_close(&hc);
    assert_has(k510, "video=vesafb:off");
    assert_lacks(k510, "video=efifb:off");
    free(k510);
}

static void test_bootfb_follows_boot_loader(void **state)
{
    host_ctx hc;
    char *grub, *sdboot;

    boot_gpu(&hc);
    host_open(&hc, 1);
    grub = fix_for(&hc, "doctor.bar-reserve", bar_line, "0000:01:00.0", -1, 0);
    host_close(&hc);

    /* ZFS on UEFI: proxmox-boot-tool with systemd-boot */
    put("sys/firmware/efi/fw_platform_size", "64\n");
    put("etc/kernel/proxmox-boot-uuids", "2A5C-1F3B\n");
    put("etc/kernel/cmdline", "root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n");
    boot_gpu(&hc);
    host_open(&hc, 1);
    sdboot = fix_for(&hc, "doctor.bar-reserve", bar_line, "0000:01:00.0", -1, 0);
    host_close(&hc);

    assert_has(grub, "edit /etc/default/grub");
    assert_has(grub, "update-grub");
    assert_lacks(grub, "/etc/kernel/cmdline");
    assert_has(sdboot, "edit /etc/kernel/cmdline");
    assert_has(sdboot, "root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet initcall_blacklist=sysfb_init");
    assert_has(sdboot, "proxmox-boot-tool refresh");
    assert_lacks(sdboot, "update-grub");
    free(grub);
    free(sdboot);
}

static void test_bootfb_already_set(void **state)
{
    host_ctx hc;
    char *fix;

    /* the parameter is on the command line and the BAR is still held */
    put("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 quiet initcall_blacklist=sysfb_init\n");
    boot_gpu(&hc);
    hc.devs[0].driver = (char *)"nouveau";
    host_open(&hc, 1);
    fix = fix_for(&hc, "doctor.bar-reserve", bar_line, "0000:01:00.0", -1, 0);
    host_close(&hc);
    assert_has(fix, "already on the running command line");
    assert_has(fix, "nouveau");
    assert_lacks(fix, "edit /etc/default/grub");
    free(fix);
}

static const char reset_line[] = "vfio-pci 0000:01:00.0: not ready 65535ms after bus reset; giving up";

static void navi10(host_ctx *hc, const char *reset_method)
{
    dev_init(&hc->devs[0], "0000:01:00.0", 0x1002, 0x731f, 0x030000, 1, "vfio-pci");
    hc->devs[0].reset_method = (char *)reset_method;
}

static void test_reset_follows_vendor_reset(void **state)
{
    host_ctx hc;
    char *absent, *loaded, *selected, *old;

    put("proc/modules", "vfio_pci 16384 0 - Live 0x0000000000000000\n");
    navi10(&hc, "bus");
    host_open(&hc, 1);
    absent = fix_for(&hc, "doctor.not-ready", reset_line, "0000:01:00.0", -1, -1);
    host_close(&hc);

    put("proc/modules", "vendor_reset 114688 0 - Live 0x0000000000000000 (OE)\n");
    navi10(&hc, "bus");
    host_open(&hc, 1);
    loaded = fix_for(&hc, "doctor.not-ready", reset_line, "0000:01:00.0", -1, -1);
    host_close(&hc);

    navi10(&hc, "device_specific bus");
    host_open(&hc, 1);
    selected = fix_for(&hc, "doctor.not-ready", reset_line, "0000:01:00.0", -1, -1);
    host_close(&hc);

    /* before 5.15 there is no reset_method to select vendor-reset in */
    put("proc/modules", "vfio_pci 16384 0 - Live 0x0000000000000000\n");
    put("proc/sys/kernel/osrelease", "5.10.0-28-amd64\n");
    navi10(&hc, NULL);
    host_open(&hc, 1);
    old = fix_for(&hc, "doctor.not-ready", reset_line, "0000:01:00.0", -1, -1);
    host_close(&hc);

    assert_has(absent, "Navi 10");
    assert_has(absent, "dkms install ./vendor-reset");
    assert_has(absent, "ATTR{device}==\"0x731f\", ATTR{reset_method}=\"device_specific\"");
    assert_has(loaded, "vendor-reset is loaded, but reset_method is \"bus\"");
    assert_has(loaded, "echo device_specific > /sys/bus/pci/devices/0000:01:00.0/reset_method");
    assert_lacks(loaded, "dkms install");
    assert_has(selected, "loaded and selected");
    assert_lacks(selected, "dkms install");
    assert_lacks(selected, "echo device_specific");
    assert_has(old, "dkms install ./vendor-reset");
    assert_lacks(old, "reset_method");
    /* D3cold / not ready: keep the card powered */
    assert_has(absent, "d3cold_allowed");
    free(absent);
    free(loaded);
    free(selected);
    free(old);
}

static void test_reset_without_quirk(void **state)
{
    host_ctx hc;
    char *fix;

    dev_init(&hc.devs[0], "0000:01:00.0", 0x10de, 0x2684, 0x030000, 1, "vfio-pci");
    hc.devs[0].reset_method = (char *)"flr bus";
    host_open(&hc, 1);
    fix = fix_for(&hc, "doctor.flr-pending",
                  "vfio-pci 0000:01:00.0: timed out waiting for pending transaction; performing function level reset "
                  "anyway", "0000:01:00.0", -1, -1);
    host_close(&hc);
    assert_has(fix, "reset_method: flr bus");
    assert_has(fix, "DMA in flight");
    assert_lacks(fix, "vendor-reset");
    free(fix);
}

static void test_ir_follows_cpu_vendor(void **state)
{
    static const char line[] = "vfio_iommu_type1_attach_group: No interrupt remapping support.";
    host_ctx hc;
    char *intel, *amd, *unsafe;

    host_open(&hc, 0);
    intel = fix_for(&hc, "doctor.no-interrupt-remapping", line, NULL, -1, -1);
    host_close(&hc);

    put("proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm sse2\n");
    host_open(&hc, 0);
    amd = fix_for(&hc, "doctor.no-interrupt-remapping", line, NULL, -1, -1);
    host_close(&hc);

    put("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
    put("etc/modprobe.d/unsafe.conf", "options vfio_iommu_type1 allow_unsafe_interrupts=1\n");
    host_open(&hc, 0);
    unsafe = fix_for(&hc, "doctor.no-interrupt-remapping", line, NULL, -1, -1);
    host_close(&hc);

    assert_has(intel, "Intel:");
    assert_has(intel, "X2APIC");
    assert_lacks(intel, "AMD:");
    assert_has(amd, "AMD:");
    assert_lacks(amd, "Intel:");
    /* the unsafe parameter is the last resort, offered while it is off */
    assert_has(intel, "options vfio_iommu_type1 allow_unsafe_interrupts=1");
    assert_has(unsafe, "already on now (/etc/modprobe.d/unsafe.conf line 1)");
    assert_lacks(unsafe, "echo 'options vfio_iommu_type1");
    free(intel);
    free(amd);
    free(unsafe);
}

static void test_virqfd_follows_kernel(void **state)
{
    static const char line[] = "systemd-modules-load[412]: Failed to find module 'vfio_virqfd'";
    host_ctx hc;
    char *k68, *k515;

    put("etc/modules", "# /etc/modules\nvfio\nvfio_virqfd\nvfio_pci\n");
    put("etc/initramfs-tools/modules", "# list of modules\nvfio_virqfd\n");
    host_open(&hc, 0);
    k68 = fix_for(&hc, "doctor.virqfd-not-found", line, NULL, -1, -1);
    host_close(&hc);

    put("proc/sys/kernel/osrelease", "5.15.158-2-pve\n");
    host_open(&hc, 0);
    k515 = fix_for(&hc, "doctor.virqfd-not-found", line, NULL, -1, -1);
    host_close(&hc);

    assert_has(k68, "part of vfio (this kernel: 6.8.12-4-pve)");
    assert_has(k68, "delete /etc/modules line 3");
    assert_has(k68, "delete /etc/initramfs-tools/modules line 2");
    assert_has(k68, "update-initramfs -u -k all");
    assert_has(k515, "still a module of its own");
    assert_string_not_equal(k68, k515);
    free(k68);
    free(k515);
}

static void test_group_names_members(void **state)
{
    static const char line[] = "vfio 0000:01:00.0: group 1 is not viable";
    host_ctx hc;
    char *shared, *alone;

    dev_init(&hc.devs[0], "0000:01:00.0", 0x1002, 0x73bf, 0x030000, 1, "amdgpu");
    dev_init(&hc.devs[1], "0000:01:00.1", 0x1002, 0xab28, 0x040300, 1, "snd_hda_intel");
    dev_init(&hc.devs[2], "0000:02:00.0", 0x1022, 0x7901, 0x010601, 1, "ahci");
    host_open(&hc, 3);
    shared = fix_for(&hc, "doctor.group-not-viable", line, "0000:01:00.0", 1, -1);
    host_close(&hc);

    dev_init(&hc.devs[0], "0000:01:00.0", 0x1002, 0x73bf, 0x030000, 1, "vfio-pci");
    dev_init(&hc.devs[1], "0000:01:00.1", 0x1002, 0xab28, 0x040300, 1, "snd_hda_intel");
    host_open(&hc, 2);
    alone = fix_for(&hc, "doctor.group-not-viable", line, "0000:01:00.0", 1, -1);
    host_close(&hc);

    assert_has(shared, "0000:02:00.0 [1022:7901] on ahci");
    assert_has(shared, "gpupass check 0000:01:00.0");
    assert_has(shared, "pcie_acs_override=downstream,multifunction");
    assert_has(alone, "only the card's own functions");
    assert_has(alone, "0000:01:00");
    assert_lacks(alone, "pcie_acs_override");
    free(shared);
    free(alone);
}

static void test_host_driver_twin(void **state)
{
    static const char line[] = "vfio 0000:02:00.0: error getting device from group 4: No such device";
    host_ctx hc;
    char *fix;

    /* two identical cards: ids= would take the host's one too */
    dev_init(&hc.devs[0], "0000:01:00.0", 0x10de, 0x2504, 0x030000, 2, "nvidia");
    dev_init(&hc.devs[1], "0000:02:00.0", 0x10de, 0x2504, 0x030000, 4, "nouveau");
    host_open(&hc, 2);
    fix = fix_for(&hc, "doctor.device-not-bound", line, "0000:02:00.0", 4, -1);
    host_close(&hc);
    assert_has(fix, "0000:02:00.0 [10de:2504] is on nouveau");
    assert_has(fix, "driverctl set-override 0000:02:00.0 vfio-pci");
    assert_lacks(fix, "options vfio-pci ids=");
    free(fix);

    dev_init(&hc.devs[0], "0000:02:00.0", 0x10de, 0x2504, 0x030000, 4, "nouveau");
    host_open(&hc, 1);
    fix = fix_for(&hc, "doctor.device-not-bound", line, "0000:02:00.0", 4, -1);
    host_close(&hc);
    assert_has(fix, "options vfio-pci ids=10de:2504");
    assert_has(fix, "softdep nouveau pre: vfio-pci");
    free(fix);
}

/* The host's module version in the NVML fix, from either wording of its
 * line (the open module's was read on an H200 host with driver 580). */
static void test_nvml_names_host_module(void **state)
{
    static const char line[] = "Failed to initialize NVML: Driver/library version mismatch";
    host_ctx hc;
    char *closed, *open_;

    dev_init(&hc.devs[0], "0000:01:00.0", 0x10de, 0x2335, 0x030200, 1, "nvidia");
    put("proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n");
    host_open(&hc, 1);
    closed = fix_for(&hc, "doctor.nvml-mismatch", line, NULL, -1, -1);
    host_close(&hc);
    put("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release "
                                      "Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n");
    host_open(&hc, 1);
    open_ = fix_for(&hc, "doctor.nvml-mismatch", line, NULL, -1, -1);
    host_close(&hc);
    assert_has(closed, "NVIDIA-Linux-x86_64-550.127.05.run");
    assert_has(open_, "the host's NVIDIA kernel module is 580.159.04");
    assert_has(open_, "NVIDIA-Linux-x86_64-580.159.04.run");
    free(closed);
    free(open_);
}

/* Every fix with nothing known about the host, and with the line alone:
 * no crash, no error, under the sanitizers. */
static void test_fixes_without_facts(void **state)
{
    gp_check_ctx empty = { 0 };
    host_ctx hc;

    boot_gpu(&hc);
    host_open(&hc, 1);
    for (size_t i = 0; i < ELEMENTSOF(samples); i++) {
        const gp_logsig *s = sig(samples[i].id);
        gp_logline l = { .text = samples[i].line, .len = strlen(samples[i].line), .ts = -1, .lineno = 1 };
        gp_loghit bare = { .first = &l, .count = 1, .group = -1, .bar = -1 };
        gp_loghit odd = { .first = NULL, .count = 3, .device = "0000:ff:1f.7", .group = 99, .bar = 9 };
        char *fix = NULL;

        if (!s || !s->fix)
            fail_msg("no signature %s with a fix", samples[i].id);
        assert_int_equal(s->fix(&empty, &bare, &fix), 0);
        free(fix);
        fix = NULL;
        assert_int_equal(s->fix(&hc.ctx, &bare, &fix), 0);
        free(fix);
        fix = NULL;
        assert_int_equal(s->fix(&hc.ctx, &odd, &fix), 0);
        free(fix);
    }
    host_close(&hc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_needles),
        cmocka_unit_test_setup_teardown(test_bootfb_follows_kernel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootfb_follows_boot_loader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootfb_already_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_follows_vendor_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_without_quirk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ir_follows_cpu_vendor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virqfd_follows_kernel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_names_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_driver_twin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_names_host_module, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixes_without_facts, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
