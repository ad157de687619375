/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layers 2-4: the IOMMU as firmware declares it, as the kernel runs it, and
 * interrupt remapping, without which VFIO refuses to assign a device. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"
#include "fileio.h"

/* ACPI table header (ACPI 6.5 §5.2.6) is 36 bytes; DMAR then has Host
 * Address Width (1 byte) and Flags, bit 0 INTR_REMAP (VT-d spec §8.1). */
#define ACPI_HEADER_LEN 36
#define DMAR_FLAGS_OFFSET 37
#define DMAR_INTR_REMAP 0x01

typedef struct kmsg_hit {
    unsigned line_no;
    char text[GP_EVIDENCE_TEXT_MAX + 1];
} kmsg_hit;

static int first_hit(const char *line, size_t len, unsigned line_no, void *userdata)
{
    kmsg_hit *hit = userdata;

    hit->line_no = line_no;
    if (len > GP_EVIDENCE_TEXT_MAX)
        len = GP_EVIDENCE_TEXT_MAX;
    memcpy(hit->text, line, len);
    hit->text[len] = '\0';
    return 1;
}

/* The first kernel log line containing needle; false when none (or no log). */
static bool kmsg_find(const gp_check_ctx *ctx, const char *needle, kmsg_hit *hit)
{
    *hit = (kmsg_hit){ 0 };
    return gp_kmsg_grep(ctx->kmsg, needle, first_hit, hit) > 0;
}

static void add_kmsg_evidence(const gp_check_ctx *ctx, gp_findings *out, gp_finding *f, const kmsg_hit *hit)
{
    gp_finding_add_line(out, f, ctx->kmsg_source, hit->line_no, hit->text);
}

/* The firmware table of the CPU vendor's IOMMU; for an unknown vendor either. */
static const char *firmware_table(const gp_check_ctx *ctx, bool *present)
{
    bool dmar = gp_host_exists(ctx->h, "sys/firmware/acpi/tables/DMAR");
    bool ivrs = gp_host_exists(ctx->h, "sys/firmware/acpi/tables/IVRS");

    if (ctx->cpu == GP_CPU_INTEL) {
        *present = dmar;
        return "DMAR";
    }
    if (ctx->cpu == GP_CPU_AMD) {
        *present = ivrs;
        return "IVRS";
    }
    *present = dmar || ivrs;
    return ivrs ? "IVRS" : "DMAR";
}

static bool check_firmware(const gp_check_ctx *ctx, gp_findings *out)
{
    bool present;
    const char *table = firmware_table(ctx, &present);
    bool amd = ctx->cpu == GP_CPU_AMD;
    gp_finding *f;

    if (!gp_host_exists(ctx->h, "sys/firmware/acpi/tables")) {
        f = gp_findings_add(out, GP_LAYER_FIRMWARE, "iommu.firmware-unknown", GP_SEV_WARN, "ACPI IOMMU table",
                            "/sys/firmware/acpi/tables is not readable: cannot tell whether the firmware "
                            "enables the IOMMU");
        gp_finding_set_fix(out, f, "run gpupass as root");
        return true;
    }
    if (present) {
        gp_findings_add(out, GP_LAYER_FIRMWARE, "iommu.firmware", GP_SEV_PASS, "ACPI IOMMU table",
                        "ACPI %s table present: %s is enabled in the firmware", table, amd ? "AMD-Vi" : "VT-d");
        return true;
    }
    /* No DMAR/IVRS: the firmware switched the IOMMU off (or the board has
     * none); no kernel parameter can bring it back. */
    f = gp_findings_add(out, GP_LAYER_FIRMWARE, "iommu.firmware-off", GP_SEV_FAIL, "ACPI IOMMU table",
                        ctx->cpu_hypervisor ? "no ACPI %s table: this VM has no virtual IOMMU (%s)"
                                            : "no ACPI %s table: the IOMMU (%s) is disabled in the firmware setup",
                        table, amd ? "AMD-Vi" : "VT-d");
    gp_finding_add_line(out, f, "/sys/firmware/acpi/tables", 0, NULL);
    if (ctx->cpu_hypervisor) {
        /* A guest sees an IOMMU only when its hypervisor emulates one. */
        gp_finding_set_fix(out, f, "this machine is a VM: give it a virtual IOMMU (Proxmox: qm set <vmid> "
                                   "--machine q35,viommu=%s; QEMU: -device %s)",
                           amd ? "virtio" : "intel", amd ? "virtio-iommu-pci" : "intel-iommu,intremap=on");
        return false;
    }
    gp_finding_set_fix(out, f, "%s",
                       amd ? "enable \"IOMMU\" (often under AMD CBS > NBIO) and \"SVM Mode\" in the firmware setup, then reboot"
                           : "enable \"VT-d\" (Intel Virtualization Technology for Directed I/O) in the firmware setup, then reboot");
    return false;
}

/* What keeps a firmware-enabled IOMMU off in the kernel, and the fix. */
static void kernel_off_fix(const gp_check_ctx *ctx, gp_findings *out, gp_finding *f)
{
    const char *remove[2] = { NULL, NULL }, *add[2] = { NULL, NULL };
    _cleanup_free_ char *fix = NULL;

    if (gp_cmdline_has(ctx->cmdline, "intel_iommu", "off"))
        remove[0] = "intel_iommu";
    else if (gp_cmdline_has(ctx->cmdline, "amd_iommu", "off"))
        remove[0] = "amd_iommu";
    else if (gp_cmdline_has(ctx->cmdline, "iommu", "off"))
        remove[0] = "iommu";
    /* Intel's driver is on by default only from 6.8 in Proxmox/Debian
     * builds (CONFIG_INTEL_IOMMU_DEFAULT_ON); before, intel_iommu=on. */
    if (ctx->cpu == GP_CPU_INTEL && !gp_kver_at_least(&ctx->kver, 6, 8) &&
        !gp_cmdline_has(ctx->cmdline, "intel_iommu", "on")) {
        add[0] = "intel_iommu=on";
        remove[0] = remove[0] ? remove[0] : "intel_iommu";
    }
    if (ctx->cmdline)
        gp_finding_add_line(out, f, "/proc/cmdline", 1, ctx->cmdline);
    if (!add[0] && !remove[0]) {
        gp_finding_set_fix(out, f, "read why the driver stayed off: dmesg | grep -e DMAR -e IOMMU -e AMD-Vi");
        return;
    }
    fix = gp_cmdline_fix(ctx->h, &ctx->boot, add[0] ? add : NULL, remove[0] ? remove : NULL);
    if (!fix) {
        out->oom = true;
        return;
    }
    gp_finding_set_fix(out, f, "%s", fix);
}

static void check_kernel(const gp_check_ctx *ctx, gp_findings *out, bool firmware)
{
    _cleanup_strv_ char **units = NULL;
    size_t n_units = 0;
    int groups = ctx->pci ? ctx->pci->iommu_groups : 0;
    kmsg_hit hit;
    gp_finding *f;

    (void)gp_host_list_dir(ctx->h, "sys/class/iommu", &units, &n_units);
    if (n_units > 0 && groups > 0) {
        gp_findings_add(out, GP_LAYER_IOMMU, "iommu.active", GP_SEV_PASS, "IOMMU in the kernel",
                        "%zu IOMMU unit%s (%s), %d IOMMU groups", n_units, n_units == 1 ? "" : "s", units[0], groups);
    } else if (!firmware) {
        f = gp_findings_add(out, GP_LAYER_IOMMU, "iommu.kernel-off", GP_SEV_FAIL, "IOMMU in the kernel",
                            "no IOMMU groups: the firmware IOMMU is off (see above), so VFIO has nothing to use");
        gp_finding_add_line(out, f, "/sys/kernel/iommu_groups", 0, NULL);
        gp_finding_set_fix(out, f, "enable the IOMMU in the firmware first (the fix above)");
        return;
    } else {
        f = gp_findings_add(out, GP_LAYER_IOMMU, "iommu.kernel-off", GP_SEV_FAIL, "IOMMU in the kernel",
                            "the firmware declares an IOMMU but the kernel runs without it: no IOMMU groups");
        gp_finding_add_line(out, f, "/sys/kernel/iommu_groups", 0, NULL);
        kernel_off_fix(ctx, out, f);
        return;
    }

    /* The default domain decides how the host's own devices do DMA;
     * devices given to VFIO always get a translated domain of their own. */
    if (kmsg_find(ctx, "iommu: Default domain type:", &hit)) {
        bool pt = strstr(hit.text, "Passthrough") != NULL;

        f = gp_findings_add(out, GP_LAYER_IOMMU, "iommu.default-domain", GP_SEV_INFO, "default DMA domain",
                            pt ? "passthrough: host devices bypass translation (iommu=pt); VFIO devices are "
                                 "still isolated"
                               : "translated: host devices go through the IOMMU too (safest; iommu=pt trades "
                                 "that for a little host I/O speed)");
        add_kmsg_evidence(ctx, out, f, &hit);
    }
}

static void check_interrupt_remapping(const gp_check_ctx *ctx, gp_findings *out, bool active)
{
    _cleanup_free_ char *unsafe = NULL;
    bool allow_unsafe, ir_on = false, ir_off = false;
    kmsg_hit hit = { 0 }, bad = { 0 }, refused = { 0 };
    gp_finding *f;

    if (!active) {
        gp_findings_add(out, GP_LAYER_IR, "iommu.ir-skipped", GP_SEV_INFO, "interrupt remapping",
                        "not checked: no IOMMU is active");
        return;
    }
    allow_unsafe = gp_host_read_attr(ctx->h, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                                     &unsafe) >= 0 && (unsafe[0] == 'Y' || unsafe[0] == '1');

    /* drivers/iommu/intel/irq_remapping.c, drivers/iommu/amd/init.c */
    ir_on = kmsg_find(ctx, "DMAR-IR: Enabled IRQ remapping", &hit) ||
            kmsg_find(ctx, "AMD-Vi: Interrupt remapping enabled", &hit);
    if (!ir_on)
        ir_off = kmsg_find(ctx, "Not enabling interrupt remapping", &bad) ||
                 kmsg_find(ctx, "IRQ remapping was disabled", &bad) ||
                 kmsg_find(ctx, "Failed to enable irq remapping", &bad);
    (void)kmsg_find(ctx, "No interrupt remapping support", &refused);

    if (!ctx->kmsg) {
        const char *how = "the kernel log is not readable to confirm it";
        _cleanup_free_ char *dmar = NULL;
        size_t len = 0;

        if (gp_host_read_file(ctx->h, "sys/firmware/acpi/tables/DMAR", 64 * 1024, &dmar, &len) >= 0 &&
            len > DMAR_FLAGS_OFFSET && !((unsigned char)dmar[DMAR_FLAGS_OFFSET] & DMAR_INTR_REMAP)) {
            f = gp_findings_add(out, GP_LAYER_IR, "iommu.no-interrupt-remapping", GP_SEV_FAIL, "interrupt remapping",
                                "the DMAR table does not declare interrupt remapping (INTR_REMAP flag clear)");
            gp_finding_add_line(out, f, "/sys/firmware/acpi/tables/DMAR", 0, NULL);
            gp_finding_set_fix(out, f, "enable x2APIC and interrupt remapping in the firmware setup if offered");
            return;
        }
        f = gp_findings_add(out, GP_LAYER_IR, "iommu.ir-unknown", GP_SEV_INFO, "interrupt remapping",
                            "not confirmed: %s (%s)", how, strerror(-ctx->kmsg_error));
        gp_finding_set_fix(out, f, "run gpupass as root to read the kernel log");
        return;
    }
    if (ir_on && !allow_unsafe) {
        f = gp_findings_add(out, GP_LAYER_IR, "iommu.interrupt-remapping", GP_SEV_PASS, "interrupt remapping",
                            "enabled");
        add_kmsg_evidence(ctx, out, f, &hit);
        return;
    }
    if (ir_on && allow_unsafe) {
        f = gp_findings_add(out, GP_LAYER_IR, "iommu.unsafe-interrupts", GP_SEV_WARN, "interrupt remapping",
                            "enabled, yet vfio_iommu_type1 allow_unsafe_interrupts is on: not needed here, and "
                            "it lets a guest's device inject interrupts into the host");
        add_kmsg_evidence(ctx, out, f, &hit);
        gp_finding_add_line(out, f, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", 1, unsafe);
        gp_finding_set_fix(out, f, "delete the line `options vfio_iommu_type1 allow_unsafe_interrupts=1` from "
                                   "/etc/modprobe.d, then: update-initramfs -u -k all && reboot");
        return;
    }
    if (allow_unsafe) {
        /* VFIO's own warning: without remapping, a device can write an MSI
         * that raises any interrupt on the host (MSI injection). */
        f = gp_findings_add(out, GP_LAYER_IR, "iommu.unsafe-interrupts", GP_SEV_WARN, "interrupt remapping",
                            "not available; passthrough works only because allow_unsafe_interrupts is on, which "
                            "lets a guest's device inject interrupts into the host");
        if (ir_off)
            add_kmsg_evidence(ctx, out, f, &bad);
        gp_finding_add_line(out, f, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", 1, unsafe);
        gp_finding_set_fix(out, f, "enable x2APIC / interrupt remapping in the firmware setup if offered; "
                                   "only trusted guests should get devices on this host");
        return;
    }
    f = gp_findings_add(out, GP_LAYER_IR, "iommu.no-interrupt-remapping", GP_SEV_FAIL, "interrupt remapping",
                        "not enabled: VFIO refuses to assign devices (\"No interrupt remapping support\"), and "
                        "the VM start fails with \"Operation not permitted\"");
    if (ir_off)
        add_kmsg_evidence(ctx, out, f, &bad);
    if (refused.line_no)
        add_kmsg_evidence(ctx, out, f, &refused);
    gp_finding_set_fix(out, f, "enable x2APIC and interrupt remapping in the firmware setup; if the platform has "
                               "none, the unsafe last resort is a file /etc/modprobe.d/vfio-unsafe.conf with:\n"
                               "options vfio_iommu_type1 allow_unsafe_interrupts=1\n"
                               "then: update-initramfs -u -k all && reboot");
}

void gp_check_iommu(const gp_check_ctx *ctx, gp_findings *out)
{
    bool firmware = check_firmware(ctx, out);
    size_t before = out->n;

    check_kernel(ctx, out, firmware);
    check_interrupt_remapping(ctx, out, out->n > before && strcmp(out->v[before].id, "iommu.active") == 0);
}
