/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "benchenv.h"
#include "check.h"
#include "fileio.h"
#include "pvect.h"
#include "shared/macro.h"

const char *gp_bench_place_to_string(gp_bench_place p)
{
    return p == GP_PLACE_VM ? "VM" : p == GP_PLACE_CONTAINER ? "container" : "bare metal";
}

const char *gp_bench_place_key(gp_bench_place p)
{
    return p == GP_PLACE_VM ? "vm" : p == GP_PLACE_CONTAINER ? "container" : "bare-metal";
}

static void read_into(const gp_host *h, const char *path, char *buf, size_t size)
{
    _cleanup_free_ char *v = NULL;

    buf[0] = '\0';
    if (gp_host_read_attr(h, path, &v) >= 0)
        snprintf(buf, size, "%s", v);
}

/* The hypervisor's CPUID signature (leaf 0x40000000, EBX ECX EDX), which
 * every x86 hypervisor sets and a guest cannot hide from itself. */
static void cpuid_hypervisor(char *buf, size_t size)
{
#if defined(__x86_64__) || defined(__i386__)
    static const struct {
        const char *sig, *name;
    } known[] = {
        { "KVMKVMKVM", "KVM" },
        { "Microsoft Hv", "Microsoft Hyper-V" },
        { "VMwareVMware", "VMware" },
        { "XenVMMXenVMM", "Xen" },
        { "TCGTCGTCGTCG", "QEMU (TCG)" },
        { "bhyve bhyve ", "bhyve" },
        { " lrpepyh  vr", "Parallels" },
        { "ACRNACRNACRN", "ACRN" },
    };
    unsigned a, b, c, d;
    char sig[13];

    buf[0] = '\0';
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 31)))        /* CPUID.1:ECX.hypervisor */
        return;
    __cpuid(0x40000000, a, b, c, d);
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(sig, known[i].sig) == 0) {
            snprintf(buf, size, "%s", known[i].name);
            return;
        }
    snprintf(buf, size, "unknown (\"%s\")", sig);
#else
    buf[0] = '\0';
#endif
}

/* What the DMI tables say of a virtual machine, for roots that are not the
 * live host (and for names CPUID does not carry: a cloud). */
static const char *dmi_hypervisor(const gp_bench_env *e)
{
    if (strcmp(e->sys_vendor, "QEMU") == 0)
        return "KVM";
    if (strcmp(e->sys_vendor, "Microsoft Corporation") == 0 && strcmp(e->product_name, "Virtual Machine") == 0)
        return "Microsoft Hyper-V";
    if (strncmp(e->sys_vendor, "VMware", 6) == 0)
        return "VMware";
    if (strcmp(e->sys_vendor, "Xen") == 0)
        return "Xen";
    if (strcmp(e->sys_vendor, "Amazon EC2") == 0)
        return "KVM (Amazon EC2)";
    if (strcmp(e->product_name, "Google Compute Engine") == 0)
        return "KVM (Google Compute Engine)";
    return NULL;
}

/* systemd's own answer first (run/systemd/container), then PID 1's
 * environment (LXC and systemd-nspawn set container=), then the files
 * Docker and Podman leave. */
static void container_of(const gp_host *h, char *buf, size_t size)
{
    _cleanup_free_ char *env = NULL;
    size_t len = 0;

    read_into(h, "run/systemd/container", buf, size);
    if (*buf)
        return;
    if (gp_host_read_file(h, "proc/1/environ", 64 * 1024, &env, &len) >= 0)
        for (size_t i = 0; i < len; i += strlen(env + i) + 1)
            if (strncmp(env + i, "container=", 10) == 0 && env[i + 10]) {
                snprintf(buf, size, "%s", env + i + 10);
                return;
            }
    if (gp_host_exists(h, ".dockerenv"))
        snprintf(buf, size, "docker");
    else if (gp_host_exists(h, "run/.containerenv"))
        snprintf(buf, size, "podman");
}

static void cpu_model(const gp_host *h, char *buf, size_t size)
{
    _cleanup_free_ char *text = NULL;
    const char *p;

    buf[0] = '\0';
    if (gp_host_read_file(h, "proc/cpuinfo", 4 * 1024 * 1024, &text, NULL) < 0)
        return;
    p = strstr(text, "model name");
    if (!p || !(p = strchr(p, ':')))
        return;
    p += 1 + strspn(p + 1, " \t");
    snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
}

/* The kernel module's version (gp_host_nvidia_version: both the proprietary
 * and the open module's line), or "". */
static void nvidia_driver(const gp_host *h, char *buf, size_t size)
{
    _cleanup_free_ char *v = NULL;

    buf[0] = '\0';
    if (gp_host_nvidia_version(h, &v) >= 0)
        snprintf(buf, size, "%s", v);
}

void gp_bench_env_read(const gp_host *h, gp_bench_env *e)
{
    const char *dmi;

    *e = (gp_bench_env){ .place = GP_PLACE_BARE_METAL };
    read_into(h, "sys/class/dmi/id/sys_vendor", e->sys_vendor, sizeof(e->sys_vendor));
    read_into(h, "sys/class/dmi/id/product_name", e->product_name, sizeof(e->product_name));
    read_into(h, "proc/sys/kernel/osrelease", e->kernel, sizeof(e->kernel));
    cpu_model(h, e->cpu, sizeof(e->cpu));
    nvidia_driver(h, e->nvidia_driver, sizeof(e->nvidia_driver));
    container_of(h, e->container, sizeof(e->container));
    if (gp_host_is_live(h))
        cpuid_hypervisor(e->hypervisor, sizeof(e->hypervisor));
    dmi = dmi_hypervisor(e);
    /* A cloud's name says more than its KVM signature. */
    if (dmi && (!e->hypervisor[0] || strcmp(e->hypervisor, "KVM") == 0))
        snprintf(e->hypervisor, sizeof(e->hypervisor), "%s", dmi);
    if (!e->hypervisor[0] && !gp_host_is_live(h)) {
        gp_cpu_vendor vendor;
        bool virt, hyp;

        /* cpuinfo's "hypervisor" flag is CPUID.1:ECX[31] as that kernel saw it. */
        gp_cpu_read(h, &vendor, &virt, &hyp);
        if (hyp)
            snprintf(e->hypervisor, sizeof(e->hypervisor), "unknown");
    }
    if (e->container[0])
        e->place = GP_PLACE_CONTAINER;
    else if (e->hypervisor[0])
        e->place = GP_PLACE_VM;
}
