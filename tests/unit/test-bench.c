/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCIe link arithmetic, the median, and where a benchmark runs (benchenv)
 * on hand-built roots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "benchenv.h"
#include "benchgpu.h"
#include "fakehost.h"
#include "host.h"
#include "pcielink.h"

static int setup(void **state)
{
    return gp_test_tmpdir(root, sizeof(root), "bench");
}

static bool near(double a, double b)
{
    return a > b - 0.001 && a < b + 0.001;
}

static void test_gen(void **state)
{
    /* kernels >= 5.7 and older ones, both */
    assert_int_equal(gp_pcie_gen("2.5 GT/s PCIe"), 1);
    assert_int_equal(gp_pcie_gen("5.0 GT/s PCIe"), 2);
    assert_int_equal(gp_pcie_gen("8.0 GT/s PCIe"), 3);
    assert_int_equal(gp_pcie_gen("16.0 GT/s PCIe"), 4);
    assert_int_equal(gp_pcie_gen("32.0 GT/s PCIe"), 5);
    assert_int_equal(gp_pcie_gen("64.0 GT/s PCIe"), 6);
    assert_int_equal(gp_pcie_gen("2.5 GT/s"), 1);
    assert_int_equal(gp_pcie_gen("5 GT/s"), 2);
    assert_int_equal(gp_pcie_gen("16 GT/s"), 4);
    assert_int_equal(gp_pcie_gen("Unknown"), 0);
    assert_int_equal(gp_pcie_gen("12.0 GT/s PCIe"), 0);
    assert_int_equal(gp_pcie_gen(""), 0);
    assert_int_equal(gp_pcie_gen(NULL), 0);
}

static void test_rates(void **state)
{
    /* gpu-facts.md §5.1: x16 after encoding 4.0, 8.0, 15.75, 31.5, 63.0 GB/s */
    assert_true(near(gp_pcie_link_gbps("2.5 GT/s PCIe", 16), 4.0));
    assert_true(near(gp_pcie_link_gbps("5.0 GT/s PCIe", 16), 8.0));
    assert_true(near(gp_pcie_link_gbps("8.0 GT/s PCIe", 16), 15.754));
    assert_true(near(gp_pcie_link_gbps("16.0 GT/s PCIe", 16), 31.508));
    assert_true(near(gp_pcie_link_gbps("32.0 GT/s PCIe", 16), 63.015));
    assert_true(near(gp_pcie_link_gbps("64.0 GT/s PCIe", 16), 121.0));
    assert_true(near(gp_pcie_link_gbps("16.0 GT/s PCIe", 8), 15.754));
    assert_true(near(gp_pcie_link_gbps("16.0 GT/s PCIe", 0), 0));
    assert_true(near(gp_pcie_link_gbps("nonsense", 16), 0));
}

static void test_median(void **state)
{
    double a[] = { 3, 1, 2 }, b[] = { 4, 1, 3, 2 }, c[] = { 7 };

    assert_true(near(gp_median(a, 3), 2));
    assert_true(near(gp_median(b, 4), 2.5));
    assert_true(near(gp_median(c, 1), 7));
    assert_true(near(gp_median(NULL, 0), 0));
}

static void env_of(gp_bench_env *e)
{
    _cleanup_host_ gp_host *h = NULL;

    assert_int_equal(gp_host_open(root, &h, NULL), 0);
    gp_bench_env_read(h, e);
}

static void test_env(void **state)
{
    gp_bench_env e;
    FILE *f;
    char p[512];

    put("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1\n");   /* what makes it a host root */
    put("proc/sys/kernel/osrelease", "6.8.12-4-pve\n");
    put("proc/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\nflags\t\t: fpu vmx\n");
    put("proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n");
    env_of(&e);
    assert_int_equal(e.place, GP_PLACE_BARE_METAL);
    assert_string_equal(e.kernel, "6.8.12-4-pve");
    assert_string_equal(e.cpu, "AMD EPYC 7763 64-Core Processor");
    assert_string_equal(e.nvidia_driver, "550.127.05");
    assert_string_equal(gp_bench_place_key(e.place), "bare-metal");
    /* the open kernel module words its line otherwise (read on an H200 host, driver 580) */
    put("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release "
                                      "Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n");
    env_of(&e);
    assert_string_equal(e.nvidia_driver, "580.159.04");
    put("proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n");

    /* a guest: the kernel saw CPUID's hypervisor bit, DMI names no vendor */
    put("proc/cpuinfo", "model name\t: QEMU Virtual CPU\nflags\t\t: fpu hypervisor\n");
    env_of(&e);
    assert_int_equal(e.place, GP_PLACE_VM);
    assert_string_equal(e.hypervisor, "unknown");
    put("sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n");
    put("sys/class/dmi/id/product_name", "Virtual Machine\n");
    env_of(&e);
    assert_string_equal(e.hypervisor, "Microsoft Hyper-V");
    put("sys/class/dmi/id/sys_vendor", "QEMU\n");
    put("sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n");
    env_of(&e);
    assert_string_equal(e.hypervisor, "KVM");
    assert_string_equal(gp_bench_place_to_string(e.place), "VM");

    /* a container inside it: PID 1's environment, NUL-separated */
    mkdirs("proc/1");
    snprintf(p, sizeof(p), "%s/proc/1/environ", root);
    f = fopen(p, "w");
    assert_non_null(f);
    fwrite("PATH=/bin\0container=lxc\0TERM=linux\0", 1, 35, f);
    fclose(f);
    env_of(&e);
    assert_int_equal(e.place, GP_PLACE_CONTAINER);
    assert_string_equal(e.container, "lxc");
    /* systemd's own answer wins */
    put("run/systemd/container", "systemd-nspawn\n");
    env_of(&e);
    assert_string_equal(e.container, "systemd-nspawn");
    rm("run/systemd/container");
    rm("proc/1/environ");
    put(".dockerenv", "");
    env_of(&e);
    assert_string_equal(e.container, "docker");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_median),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
