/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a benchmark runs: bare metal, a virtual machine (and which
 * hypervisor), or a container (and which runtime), with the kernel, the CPU
 * and the NVIDIA driver, so that runs in different places can be compared
 * (gpupass bench compare). Read through the host root; the CPUID hypervisor
 * leaf is asked only on the live host.
 */
#pragma once

#include <stdbool.h>

#include "host.h"

typedef enum gp_bench_place {
    GP_PLACE_BARE_METAL,
    GP_PLACE_VM,
    GP_PLACE_CONTAINER,
} gp_bench_place;

typedef struct gp_bench_env {
    gp_bench_place place;
    char hypervisor[32];      /* "KVM", "Microsoft Hyper-V", "VMware", "Xen", "Firecracker", "" unknown */
    char container[32];       /* "lxc", "docker", "podman", ... ("" none) */
    char sys_vendor[64];      /* DMI, "" when absent */
    char product_name[96];
    char kernel[96];          /* proc/sys/kernel/osrelease */
    char cpu[96];             /* first "model name" of proc/cpuinfo */
    char nvidia_driver[32];   /* from proc/driver/nvidia/version, "" none */
} gp_bench_env;

/* "bare metal", "VM", "container". */
const char *gp_bench_place_to_string(gp_bench_place p);
/* "bare-metal", "vm", "container" (JSON). */
const char *gp_bench_place_key(gp_bench_place p);

/* Never fails: what cannot be read stays empty. A container inside a VM
 * is a container (the nearer layer decides what a GPU sees). */
void gp_bench_env_read(const gp_host *h, gp_bench_env *ret);
