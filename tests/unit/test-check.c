/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The check layers' building blocks, and the layers on small hand-built roots. */
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

#include "bootcfg.h"
#include "check.h"
#include "kernel.h"
#include "lint.h"
#include "propstr.h"
#include "pveguest.h"
#include "quirks.h"
#include "testutil.h"

static char root[256];

static void put(const char *rel, const char *content);

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

static int setup(void **state)
{
    if (gp_test_tmpdir(root, sizeof(root), "gpupass-check") < 0)
        return -1;
    /* what makes a directory a host root (host.c) */
    put("proc/cmdline", "root=/dev/sda1\n");
    return 0;
}

static int teardown(void **state)
{
    return gp_test_rm_rf(root);
}

static gp_host *open_root(void)
{
    gp_host *h = NULL;
    gp_error err = { 0 };

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    return h;
}

static void test_kver(void **state)
{
    gp_kver v;

    assert_int_equal(gp_kver_parse("6.8.12-4-pve", &v), 0);
    assert_int_equal(v.major, 6);
    assert_int_equal(v.minor, 8);
    assert_int_equal(v.patch, 12);
    assert_true(gp_kver_at_least(&v, 6, 8));
    assert_true(gp_kver_at_least(&v, 5, 15));
    assert_false(gp_kver_at_least(&v, 6, 9));
    assert_int_equal(gp_kver_parse("5.15", &v), 0);
    assert_false(gp_kver_at_least(&v, 6, 2));
    assert_int_equal(gp_kver_parse("6", &v), -EINVAL);
    assert_int_equal(gp_kver_parse("pve", &v), -EINVAL);
    assert_int_equal(gp_kver_parse("", &v), -EINVAL);
    assert_int_equal(gp_kver_parse("99999.1", &v), -EINVAL);
    assert_false(gp_kver_known(&v));
    assert_false(gp_kver_at_least(&v, 1, 0));
}

static void test_kver_read_falls_back_to_proc_version(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_kver v;

    put("proc/version", "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP\n");
    h = open_root();
    assert_int_equal(gp_kver_read(h, &v), 0);
    assert_string_equal(v.release, "6.1.0-27-amd64");
    assert_int_equal(v.minor, 1);
}

static int count_line(const char *line, size_t len, unsigned no, void *userdata)
{
    unsigned *n = userdata;

    (*n) += no;
    return 0;
}

static void test_kmsg(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    _cleanup_free_ char *log = NULL;
    const char *source;
    size_t len;
    unsigned sum = 0;

    h = open_root();
    assert_int_equal(gp_kmsg_read(h, 1024, &log, &len, &source), -ENOENT);
    gp_host_free(h);
    put("var/log/dmesg", "[0] a DMAR-IR: x\n[1] b\n[2] DMAR-IR: y");
    h = open_root();
    assert_int_equal(gp_kmsg_read(h, 1024, &log, &len, &source), 0);
    assert_string_equal(source, "var/log/dmesg");
    assert_int_equal(gp_kmsg_grep(log, "DMAR-IR", count_line, &sum), 0);
    assert_int_equal(sum, 1 + 3);
    assert_int_equal(gp_kmsg_grep(NULL, "x", count_line, &sum), 0);
}

static void test_bootcfg(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_bootcfg b;

    h = open_root();
    assert_int_equal(gp_bootcfg_detect(h, &b), 0);
    assert_int_equal(b.loader, GP_BOOT_UNKNOWN);
    gp_host_free(h);

    put("etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
    h = open_root();
    assert_int_equal(gp_bootcfg_detect(h, &b), 0);
    assert_int_equal(b.loader, GP_BOOT_GRUB);
    assert_string_equal(b.refresh_cmd, "update-grub");
    gp_host_free(h);

    /* proxmox-boot-tool in legacy BIOS mode keeps GRUB */
    put("etc/kernel/proxmox-boot-uuids", "2A5C-1F3B\n");
    h = open_root();
    assert_int_equal(gp_bootcfg_detect(h, &b), 0);
    assert_int_equal(b.loader, GP_BOOT_GRUB);
    assert_true(b.proxmox_boot_tool);
    gp_host_free(h);

    put("sys/firmware/efi/fw_platform_size", "64\n");
    h = open_root();
    assert_int_equal(gp_bootcfg_detect(h, &b), 0);
    assert_int_equal(b.loader, GP_BOOT_SYSTEMD_BOOT);
    assert_string_equal(b.config_file, "/etc/kernel/cmdline");
    assert_string_equal(b.refresh_cmd, "proxmox-boot-tool refresh");
    gp_host_free(h);

    /* Secure Boot on: PVE supports it only with GRUB */
    put("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c2b8cf4b6", "\x06xxx\x01");
    {
        char p[512];
        int fd;

        snprintf(p, sizeof(p), "%s/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c2b8cf4b6",
                 root);
        fd = open(p, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "\x06\0\0\0\x01", 5), 5);
        close(fd);
    }
    h = open_root();
    assert_int_equal(gp_bootcfg_detect(h, &b), 0);
    assert_int_equal(b.loader, GP_BOOT_GRUB);
}

static void test_propstr(void **state)
{
    gp_propstr p;

    assert_int_equal(gp_propstr_parse("0000:01:00,pcie=1,x-vga=1", "host", &p), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(gp_propstr_get(&p, "host"), "0000:01:00");
    assert_string_equal(gp_propstr_get(&p, "x-vga"), "1");
    assert_null(gp_propstr_get(&p, "rombar"));
    gp_propstr_clear(&p);
    assert_int_equal(gp_propstr_parse("host=01:00.0;01:00.1,,romfile=a.rom", "host", &p), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(gp_propstr_get(&p, "host"), "01:00.0;01:00.1");
    gp_propstr_clear(&p);
    assert_int_equal(gp_propstr_parse("a,b", "host", &p), -EINVAL);
    assert_int_equal(gp_propstr_parse("=1", "host", &p), -EINVAL);
    assert_int_equal(gp_propstr_parse("bare", NULL, &p), -EINVAL);
    assert_int_equal(gp_propstr_parse("", "host", &p), 0);
    assert_int_equal(p.n, 0);
}

static void test_pve_guests(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_pve_vms vms;

    put("etc/hostname", "pve1\n");
    put("etc/pve/qemu-server/100.conf",
        "name: a\nhostpci0: 01:00,pcie=1\nhostpci3: mapping=gpu,pcie=1\nonboot: 1\n"
        "[snap]\nhostpci1: 0000:02:00\n");
    put("etc/pve/qemu-server/0100.conf", "hostpci0: 05:00\n");
    put("etc/pve/qemu-server/notes.txt", "x\n");
    put("etc/pve/mapping/pci.cfg", "gpu\n\tmap node=pve2,path=0000:03:00,id=10de:2684\n"
                                   "\tmap node=pve1,path=0000:04:00.0;0000:04:00.1,id=10de:2684\n\nother\n"
                                   "\tmap node=pve1,path=0000:09:00,id=1:2\n");
    h = open_root();
    assert_int_equal(gp_pve_vms_read(h, &vms), 0);
    assert_int_equal(vms.n, 1);
    assert_int_equal(vms.v[0].vmid, 100);
    assert_true(vms.v[0].onboot);
    assert_false(vms.v[0].running);
    assert_string_equal(vms.v[0].name, "a");
    assert_int_equal(vms.v[0].n_hostpci, 2);
    assert_int_equal(vms.v[0].hostpci[0].line, 2);
    assert_true(gp_pve_hostpci_matches(&vms.v[0].hostpci[0], "0000:01:00.1"));
    assert_false(gp_pve_hostpci_matches(&vms.v[0].hostpci[0], "0000:02:00.0"));
    assert_false(gp_pve_hostpci_matches(&vms.v[0].hostpci[0], "0001:01:00.0"));
    assert_string_equal(vms.v[0].hostpci[1].mapping, "gpu");
    assert_true(gp_pve_hostpci_matches(&vms.v[0].hostpci[1], "0000:04:00.1"));
    assert_false(gp_pve_hostpci_matches(&vms.v[0].hostpci[1], "0000:03:00.0"));
    assert_false(gp_pve_hostpci_matches(&vms.v[0].hostpci[1], "0000:09:00.0"));
    gp_pve_vms_clear(&vms);
}

static void test_quirks(void **state)
{
    assert_string_equal(gp_quirk_amd_reset_family(0x1002, 0x731f), "Navi 10");
    assert_string_equal(gp_quirk_amd_reset_family(0x1002, 0x687f), "Vega 10");
    assert_null(gp_quirk_amd_reset_family(0x1002, 0x73bf));   /* Navi 21 */
    assert_null(gp_quirk_amd_reset_family(0x10de, 0x731f));
}

static void test_file_type(void **state)
{
    assert_int_equal(gp_file_type_detect("/etc/default/grub", "", 0), GP_FILE_GRUB_DEFAULT);
    assert_int_equal(gp_file_type_detect("etc/default/grub.d/x.cfg", "", 0), GP_FILE_GRUB_DEFAULT);
    assert_int_equal(gp_file_type_detect("/etc/kernel/cmdline", "", 0), GP_FILE_KERNEL_CMDLINE);
    assert_int_equal(gp_file_type_detect("/proc/cmdline", "", 0), GP_FILE_PROC_CMDLINE);
    assert_int_equal(gp_file_type_detect("/etc/modules", "", 0), GP_FILE_MODULES_LOAD);
    assert_int_equal(gp_file_type_detect("/etc/initramfs-tools/modules", "", 0), GP_FILE_INITRAMFS_MODULES);
    assert_int_equal(gp_file_type_detect("/etc/modules-load.d/vfio.conf", "", 0), GP_FILE_MODULES_LOAD);
    assert_int_equal(gp_file_type_detect("/etc/modprobe.d/vfio.conf", "", 0), GP_FILE_MODPROBE);
    /* by content */
    assert_int_equal(gp_file_type_detect("copy.txt", "# x\nGRUB_TIMEOUT=5\n", 17), GP_FILE_GRUB_DEFAULT);
    assert_int_equal(gp_file_type_detect("copy.txt", "options vfio-pci ids=1:2\n", 25), GP_FILE_MODPROBE);
    assert_int_equal(gp_file_type_detect("copy.txt", "root=/dev/sda1 intel_iommu=on\n", 30), GP_FILE_PROC_CMDLINE);
    assert_int_equal(gp_file_type_detect("notes.txt", "hello\n", 6), GP_FILE_UNKNOWN);
}

static gp_findings run_layer(void (*layer)(const gp_check_ctx *, gp_findings *), gp_pci_list *pci)
{
    _cleanup_host_ gp_host *h = open_root();
    gp_findings out = { 0 };
    gp_check_ctx ctx;

    assert_int_equal(gp_check_ctx_init(&ctx, h, pci, NULL, NULL), 0);
    layer(&ctx, &out);
    gp_check_ctx_done(&ctx);
    assert_int_equal(gp_findings_status(&out), 0);
    return out;
}

static void test_cpu_layer(void **state)
{
    gp_findings out;

    put("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 ht\n");
    out = run_layer(gp_check_cpu, NULL);
    assert_int_equal(gp_findings_find(&out, "cpu.virtualization")->severity, GP_SEV_FAIL);
    assert_int_equal(gp_findings_find(&out, "cpu.kvm")->severity, GP_SEV_FAIL);
    assert_non_null(strstr(gp_findings_find(&out, "cpu.kvm")->fix, "kvm_intel"));
    gp_findings_clear(&out);

    put("proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm sse2\n");
    put("gpupass/devnodes.txt", "dev/dri dir 0:0 0755 0 0\ndev/kvm char 10:232 0660 0 104\n");
    out = run_layer(gp_check_cpu, NULL);
    assert_int_equal(gp_findings_find(&out, "cpu.virtualization")->severity, GP_SEV_PASS);
    assert_int_equal(gp_findings_find(&out, "cpu.kvm")->severity, GP_SEV_PASS);
    gp_findings_clear(&out);

    /* "dev/kvmx" is not dev/kvm */
    put("gpupass/devnodes.txt", "dev/kvmx char 10:232 0660 0 104\n");
    out = run_layer(gp_check_cpu, NULL);
    assert_int_equal(gp_findings_find(&out, "cpu.kvm")->severity, GP_SEV_FAIL);
    gp_findings_clear(&out);
}

static void test_iommu_layer(void **state)
{
    gp_pci_list pci = { .iommu_groups = 0 };
    gp_findings out;
    char dmar[40] = "DMAR";

    put("proc/cpuinfo", "vendor_id\t: GenuineIntel\nflags\t\t: vmx\n");
    put("sys/firmware/acpi/tables/FACP", "x");
    put("proc/sys/kernel/osrelease", "6.1.0-27-amd64\n");
    put("proc/cmdline", "root=/dev/sda1 quiet\n");
    out = run_layer(gp_check_iommu, &pci);
    assert_int_equal(gp_findings_find(&out, "iommu.firmware-off")->severity, GP_SEV_FAIL);
    assert_int_equal(gp_findings_find(&out, "iommu.kernel-off")->severity, GP_SEV_FAIL);
    assert_non_null(gp_findings_find(&out, "iommu.ir-skipped"));
    gp_findings_clear(&out);

    /* Firmware on, kernel 6.1 without intel_iommu=on: the fix adds it. */
    dmar[37] = 0x01;
    {
        char p[512];
        FILE *f;

        snprintf(p, sizeof(p), "%s/sys/firmware/acpi/tables/DMAR", root);
        f = fopen(p, "w");
        assert_non_null(f);
        fwrite(dmar, 1, sizeof(dmar), f);
        fclose(f);
    }
    put("etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
    out = run_layer(gp_check_iommu, &pci);
    assert_int_equal(gp_findings_find(&out, "iommu.firmware")->severity, GP_SEV_PASS);
    assert_int_equal(gp_findings_find(&out, "iommu.kernel-off")->severity, GP_SEV_FAIL);
    assert_non_null(strstr(gp_findings_find(&out, "iommu.kernel-off")->fix, "intel_iommu=on"));
    assert_non_null(strstr(gp_findings_find(&out, "iommu.kernel-off")->fix, "update-grub"));
    gp_findings_clear(&out);

    /* Kernel on; the log says no interrupt remapping; VFIO refused. */
    pci.iommu_groups = 12;
    put("sys/class/iommu/dmar0/uevent", "");
    put("gpupass/kmsg.txt", "[0] DMAR: IOMMU enabled\n[1] DMAR-IR: Not enabling interrupt remapping: x\n"
                            "[2] iommu: Default domain type: Translated\n"
                            "[3] vfio_iommu_type1_attach_group: No interrupt remapping support.\n");
    out = run_layer(gp_check_iommu, &pci);
    assert_int_equal(gp_findings_find(&out, "iommu.active")->severity, GP_SEV_PASS);
    assert_int_equal(gp_findings_find(&out, "iommu.default-domain")->severity, GP_SEV_INFO);
    assert_int_equal(gp_findings_find(&out, "iommu.no-interrupt-remapping")->severity, GP_SEV_FAIL);
    assert_int_equal(gp_findings_find(&out, "iommu.no-interrupt-remapping")->evidence[0].line, 2);
    assert_int_equal(gp_findings_find(&out, "iommu.no-interrupt-remapping")->evidence[1].line, 4);
    gp_findings_clear(&out);

    /* Remapping on, but the unsafe parameter set anyway. */
    put("gpupass/kmsg.txt", "[1] DMAR-IR: Enabled IRQ remapping in x2apic mode\n");
    put("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
    out = run_layer(gp_check_iommu, &pci);
    assert_int_equal(gp_findings_find(&out, "iommu.unsafe-interrupts")->severity, GP_SEV_WARN);
    assert_null(gp_findings_find(&out, "iommu.interrupt-remapping"));
    gp_findings_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kver),
        cmocka_unit_test_setup_teardown(test_kver_read_falls_back_to_proc_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kmsg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootcfg, setup, teardown),
        cmocka_unit_test(test_propstr),
        cmocka_unit_test_setup_teardown(test_pve_guests, setup, teardown),
        cmocka_unit_test(test_quirks),
        cmocka_unit_test(test_file_type),
        cmocka_unit_test_setup_teardown(test_cpu_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iommu_layer, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
