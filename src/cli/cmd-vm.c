/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lint-guest.h"
#include "pveguest.h"
#include "vmplan.h"

static void vm_help(void)
{
    printf("Usage: gpupass vm VMID --gpu GPU [--apply] [--primary] [--hugepages any|2|1024]\n"
           "                 [--affinity] [--keep-bios] [--mapping NAME|--no-mapping]\n"
           "                 [--romfile FILE] [--force]\n"
           "       gpupass vm lint [-q] [--json] [VMID...]\n"
           "       gpupass vm --libvirt --gpu GPU [--guest-bus N]\n"
           "\n"
           "Give GPU to Proxmox VM VMID: add a hostpciN for it (the whole slot, or the\n"
           "cluster mapping that matches it) and the settings passthrough needs:\n"
           "machine q35 (a versioned type keeps its version), bios ovmf, cpu host,\n"
           "balloon 0, pcie=1. Only the VM's current config changes, never its\n"
           "snapshots or pending changes. Without --apply the change is shown as a diff\n"
           "with the equivalent `qm set` command, and nothing is written.\n"
           "\n"
           "Options:\n"
           "  --apply             write it: under PVE's own config lock, refused while the\n"
           "                      VM runs or has a lock: entry; `gpupass undo` puts it back\n"
           "  --gpu GPU           the GPU, by PCI address (`gpupass list`)\n"
           "  --primary           the GPU is the VM's display (x-vga=1, vga none)\n"
           "  --hugepages SIZE    back the memory with hugepages (any, 2 or 1024 MiB);\n"
           "                      turns numa on, as PVE requires\n"
           "  --affinity          pin the vCPUs to the cores of the GPU's NUMA node\n"
           "  --keep-bios         leave bios as it is (a SeaBIOS install stays bootable)\n"
           "  --mapping NAME      use this cluster mapping; --no-mapping: the raw address\n"
           "  --romfile FILE      copy this option ROM to /usr/share/kvm/ (the image chain,\n"
           "                      checked for this GPU as `rom info` does) and give it to\n"
           "                      the GPU as romfile=; a failed dump, another card's ROM or\n"
           "                      a legacy-only ROM under OVMF is refused\n"
           "  --force             even when the GPU's IOMMU group holds host devices, or\n"
           "                      the ROM is refused, or replaces a different ROM of the name\n"
           "  -h, --help          this help\n"
           "\n"
           "vm lint judges every VM config of this node (or those named) against the\n"
           "host: devices, IOMMU groups, machine type, hugepages, bridges, mappings.\n"
           "vm --libvirt prints <hostdev> elements for plain KVM/libvirt hosts.\n"
           "\n"
           "Exit status: 0 planned or applied (lint: all holds), 1 lint warnings,\n"
           "2 refused or lint failures, 3 could not run.\n");
}

static void print_notes(const gp_plan *plan)
{
    for (size_t i = 0; plan->notes && plan->notes[i]; i++)
        printf("note: %s\n", plan->notes[i]);
}

/* Single-quotes a word for the shell when it needs it. */
static void print_shell_word(const char *s)
{
    if (s[0] && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_,.:=/+-@%") == strlen(s)) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*p);
    }
    putchar('\'');
}

static int vm_libvirt(const gp_cli_gpus *g, int gpu, unsigned bus)
{
    _cleanup_free_ char *xml = gp_vm_libvirt_xml(g->pci, &g->gpus->gpus[gpu], bus);

    if (!xml)
        return gp_cli_error("out of memory");
    printf("<!-- %s for a libvirt domain (virsh edit DOMAIN, inside <devices>). Guest bus 0x%02x must be a\n"
           "     PCIe root port of the domain, e.g. <controller type='pci' model='pcie-root-port' index='%u'/>. -->\n",
           g->pci->devs[g->gpus->gpus[gpu].dev].name, bus, bus);
    fputs(xml, stdout);
    return GP_EXIT_OK;
}

int gp_cmd_vm(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_APPLY = 0x100, OPT_GPU, OPT_PRIMARY, OPT_HUGE, OPT_AFFINITY, OPT_KEEP_BIOS, OPT_MAPPING,
           OPT_NO_MAPPING, OPT_FORCE, OPT_LIBVIRT, OPT_BUS, OPT_ROMFILE };
    static const struct option opts[] = {
        { "apply", no_argument, NULL, OPT_APPLY },
        { "gpu", required_argument, NULL, OPT_GPU },
        { "primary", no_argument, NULL, OPT_PRIMARY },
        { "hugepages", required_argument, NULL, OPT_HUGE },
        { "affinity", no_argument, NULL, OPT_AFFINITY },
        { "keep-bios", no_argument, NULL, OPT_KEEP_BIOS },
        { "mapping", required_argument, NULL, OPT_MAPPING },
        { "no-mapping", no_argument, NULL, OPT_NO_MAPPING },
        { "force", no_argument, NULL, OPT_FORCE },
        { "libvirt", no_argument, NULL, OPT_LIBVIRT },
        { "guest-bus", required_argument, NULL, OPT_BUS },
        { "romfile", required_argument, NULL, OPT_ROMFILE },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_close_ int lockfd = -1;
    gp_vm_opts o = { .gpu = -1 };
    gp_vm_result res = { 0 };
    gp_plan plan = { 0 };
    gp_error err = { 0 };
    gp_check_ctx ctx;
    _cleanup_free_ uint8_t *rom = NULL;
    char *gpu_arg = NULL;
    bool apply = false, libvirt = false;
    unsigned long bus = 0x10;
    int c, r;

    if (argc >= 2 && strcmp(argv[1], "lint") == 0)
        return gp_cli_guest_lint(cli, "vm lint", "VMID", argc - 1, argv + 1, vm_help, gp_vm_lint);

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_APPLY:
            apply = true;
            break;
        case OPT_GPU:
            gpu_arg = optarg;
            break;
        case OPT_PRIMARY:
            o.primary = true;
            break;
        case OPT_HUGE:
            o.hugepages = optarg;
            if (strcmp(optarg, "any") != 0 && strcmp(optarg, "2") != 0 && strcmp(optarg, "1024") != 0)
                return gp_cli_usage_error("vm", "--hugepages takes any, 2 or 1024 (MiB per page), not '%s'", optarg);
            break;
        case OPT_AFFINITY:
            o.affinity = true;
            break;
        case OPT_KEEP_BIOS:
            o.keep_bios = true;
            break;
        case OPT_MAPPING:
            o.mapping = optarg;
            break;
        case OPT_NO_MAPPING:
            o.no_mapping = true;
            break;
        case OPT_FORCE:
            o.force = true;
            break;
        case OPT_LIBVIRT:
            libvirt = true;
            break;
        case OPT_ROMFILE:
            o.rom_source = optarg;
            break;
        case OPT_BUS: {
            char *end;

            bus = strtoul(optarg, &end, 0);
            if (*end || !optarg[0] || bus == 0 || bus > 0xff)
                return gp_cli_usage_error("vm", "--guest-bus takes a bus number 1 to 255, not '%s'", optarg);
            break;
        }
        case 'h':
            vm_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("vm", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (!gpu_arg)
        return gp_cli_usage_error("vm", "name the GPU with --gpu ADDRESS (gpupass list shows them)");
    if (o.mapping && o.no_mapping)
        return gp_cli_usage_error("vm", "--mapping and --no-mapping exclude each other");
    if (libvirt) {
        if (argc - optind != 0 || apply)
            return gp_cli_usage_error("vm", "--libvirt prints XML for a libvirt domain: it takes no VMID and no --apply");
    } else {
        if (argc - optind != 1)
            return gp_cli_usage_error("vm", "name one VM by its VMID");
        if (!gp_pve_vmid_parse(argv[optind], &o.vmid))
            return gp_cli_usage_error("vm", "'%s' is not a VMID: Proxmox VMIDs are 100 to 999999999", argv[optind]);
    }

    if (o.rom_source) {
        const char *slash = strrchr(o.rom_source, '/');

        if (libvirt)
            return gp_cli_usage_error("vm", "--romfile is for a Proxmox VM; libvirt takes <rom file='...'/>");
        r = gp_cli_read_rom(o.rom_source, &rom, &o.rom_len);
        if (r != 0)
            return r;
        o.rom = rom;
        o.rom_name = slash ? slash + 1 : o.rom_source;
    }
    r = gp_cli_load_gpu(cli, "vm", gpu_arg, apply, o.rom_source ? "/etc/pve and /usr/share/kvm" : "/etc/pve", &g,
                        &o.gpu);
    if (r != 0)
        return r;
    if (libvirt)
        return vm_libvirt(&g, o.gpu, (unsigned)bus);
    /* PVE's own lock, held from the read to the write: a qm set or a GUI
     * edit of this VM waits for us, and we for it, so no update is lost. */
    if (apply) {
        lockfd = gp_pve_vm_lock(g.h, o.vmid, 10000, &err);
        if (lockfd < 0)
            return lockfd == -ETIMEDOUT ? (fprintf(stderr, "gpupass vm: refused: %s\n", gp_error_message(&err)),
                                           GP_EXIT_FAIL)
                                        : gp_cli_error("%s", gp_error_message(&err));
    }

    if (gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit) < 0)
        return gp_cli_error("out of memory");
    r = gp_vm_plan(&ctx, &o, &plan, &res, &err);
    gp_check_ctx_done(&ctx);
    if (r < 0) {
        gp_plan_clear(&plan);
        gp_vm_result_clear(&res);
        return gp_cli_plan_error("vm", r, &err);
    }

    if (gp_plan_is_empty(&plan)) {
        printf("Nothing to do: VM %u already has %s (hostpci%d%s%s) with the settings passthrough needs.\n", o.vmid,
               g.pci->devs[g.gpus->gpus[o.gpu].dev].name, res.hostpci, res.mapping ? ", mapping=" : "",
               res.mapping ? res.mapping : "");
        print_notes(&plan);
        r = GP_EXIT_OK;
    } else {
        r = gp_cli_plan_show(g.h, &plan, apply);
        if (r != 0)
            goto out;
        printf("\nThe same with PVE's own tool:\n");
        if (o.rom_name)
            printf("  gpupass rom info %s --strip -o /usr/share/kvm/%s\n", o.rom_source, o.rom_name);
        printf("  qm set %u", o.vmid);
        for (char **a = res.qm_args; a && *a; a++) {
            putchar(' ');
            print_shell_word(*a);
        }
        putchar('\n');
        if (apply && res.refuse_apply) {
            fprintf(stderr, "gpupass vm: refused: %s\n", res.refuse_apply);
            r = GP_EXIT_FAIL;
        } else if (apply) {
            gp_txn_result tr;
            gp_runner run;

            r = gp_cli_plan_apply(g.h, &plan, &run, &tr);
            if (r == 0)
                printf("Start the VM; `gpupass vm lint %u` judges its config against the host.\n", o.vmid);
        } else if (res.refuse_apply) {
            printf("Before that: %s.\n", res.refuse_apply);
        }
    }
out:
    gp_plan_clear(&plan);
    gp_vm_result_clear(&res);
    if (r == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        return gp_cli_error("writing the output failed");
    return r;
}
