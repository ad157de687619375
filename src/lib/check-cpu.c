/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: can this CPU run KVM guests at all. */
#include <string.h>

#include "check.h"
#include "fileio.h"

void gp_check_cpu(const gp_check_ctx *ctx, gp_findings *out)
{
    bool intel = ctx->cpu == GP_CPU_INTEL;
    const char *tech = ctx->cpu == GP_CPU_AMD ? "AMD-V (svm)" : intel ? "Intel VT-x (vmx)" : "VT-x/AMD-V";
    const char *kvm_mod = ctx->cpu == GP_CPU_AMD ? "kvm_amd" : "kvm_intel";
    gp_finding *f;

    if (ctx->cpu_virt) {
        gp_findings_add(out, GP_LAYER_CPU, "cpu.virtualization", GP_SEV_PASS, "hardware virtualization",
                        "the CPU offers %s", tech);
    } else if (ctx->cpu_hypervisor) {
        f = gp_findings_add(out, GP_LAYER_CPU, "cpu.virtualization", GP_SEV_FAIL, "hardware virtualization",
                            "this machine is itself a VM (the CPU has the hypervisor flag) and its virtual CPU "
                            "offers no vmx or svm: nested virtualization is off on the outer host");
        gp_finding_add_line(out, f, "/proc/cpuinfo", 0, NULL);
        gp_finding_set_fix(out, f, "on the outer Proxmox host: qm set <vmid> --cpu host (and nested=1 for "
                                   "kvm_intel/kvm_amd); GPU passthrough into a nested guest also needs a vIOMMU");
    } else {
        /* The kernel clears the vmx/svm flag when firmware locked the
         * feature off (arch/x86/kernel/cpu/feat_ctl.c). */
        f = gp_findings_add(out, GP_LAYER_CPU, "cpu.virtualization", GP_SEV_FAIL, "hardware virtualization",
                            "no vmx or svm flag in /proc/cpuinfo: %s is disabled in the firmware setup", tech);
        gp_finding_add_line(out, f, "/proc/cpuinfo", 0, NULL);
        gp_finding_set_fix(out, f, "enable %s in the firmware (BIOS/UEFI) setup, then reboot",
                           ctx->cpu == GP_CPU_AMD ? "SVM Mode" : intel ? "Intel Virtualization Technology (VT-x)"
                                                                        : "CPU virtualization (VT-x or SVM)");
    }

    if (gp_host_devnode_exists(ctx->h, "dev/kvm")) {
        gp_findings_add(out, GP_LAYER_CPU, "cpu.kvm", GP_SEV_PASS, "/dev/kvm", "/dev/kvm exists: KVM is loaded");
    } else {
        f = gp_findings_add(out, GP_LAYER_CPU, "cpu.kvm", GP_SEV_FAIL, "/dev/kvm",
                            "no /dev/kvm: the KVM module is not loaded%s",
                            ctx->cpu_virt ? "" : " (it cannot load without hardware virtualization)");
        gp_finding_add_line(out, f, "/dev/kvm", 0, NULL);
        gp_finding_set_fix(out, f, "modprobe %s   # its error in the kernel log says why it did not load", kvm_mod);
    }
}
