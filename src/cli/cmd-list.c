/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpu.h"
#include "hostcrit.h"
#include "names.h"
#include "pci.h"
#include "render.h"

static void list_help(void)
{
    printf("Usage: gpupass list [--all] [--json] [ADDRESS...]\n"
           "\n"
           "Show the GPUs of this host (every display-class function: VGA, 3D and\n"
           "display controllers), each with the functions of its slot, its IOMMU group\n"
           "and every other member of that group, PCIe link, reset methods, BARs and\n"
           "SR-IOV, and a passthrough verdict:\n"
           "  isolated   the group holds only the card's functions and bridges\n"
           "  shared     other devices would have to go to the VM with it\n"
           "  no-iommu   the IOMMU is off: no passthrough is possible\n"
           "\n"
           "Options:\n"
           "  -a, --all    every PCI device, grouped by IOMMU group\n"
           "  -j, --json   one JSON object on stdout\n"
           "  -h, --help   this help\n"
           "\n"
           "ADDRESS filters by PCI address: 01:00.0, 0000:01:00.0, or 01:00 for a slot.\n");
}

int gp_cmd_list(const gp_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_host_ gp_host *h = NULL;
    _cleanup_pci_list_ gp_pci_list *pci = NULL;
    _cleanup_hostcrit_ gp_hostcrit *crit = NULL;
    _cleanup_gpu_list_ gp_gpu_list *gpus = NULL;
    _cleanup_names_ gp_names *names = NULL;
    _cleanup_free_ bool *dev_sel = NULL, *gpu_sel = NULL;
    gp_error err = { 0 };
    bool all = false, json = false;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+ajh", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            list_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("list", "unknown option '%s'", argv[optind - 1]);
        }
    }

    h = gp_cli_open_host(cli);
    if (!h)
        return GP_EXIT_ERROR;
    r = gp_pci_scan(h, &pci, &err);
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    r = gp_hostcrit_find(h, pci, &crit);
    if (r < 0)
        return gp_cli_error("finding host-critical devices: %s", strerror(-r));
    r = gp_gpu_analyze(pci, crit, &gpus);
    if (r < 0)
        return gp_cli_error("analysing GPUs: %s", strerror(-r));
    names = gp_names_new(h);
    if (!names)
        return gp_cli_error("out of memory");

    dev_sel = calloc(pci->n ? pci->n : 1, sizeof(*dev_sel));
    gpu_sel = calloc(gpus->n ? gpus->n : 1, sizeof(*gpu_sel));
    if (!dev_sel || !gpu_sel)
        return gp_cli_error("out of memory");
    if (optind >= argc) {
        memset(dev_sel, 1, pci->n * sizeof(*dev_sel));
        memset(gpu_sel, 1, gpus->n * sizeof(*gpu_sel));
    }
    for (int a = optind; a < argc; a++) {
        gp_pci_addr addr;
        bool whole, hit = false;

        if (gp_pci_addr_parse(argv[a], &addr, &whole) < 0)
            return gp_cli_usage_error("list", "'%s' is not a PCI address (use 01:00.0, 0000:01:00.0 or 01:00)", argv[a]);
        for (size_t i = 0; i < pci->n; i++) {
            const gp_pci_addr *da = &pci->devs[i].addr;

            if (whole ? gp_pci_addr_same_slot(da, &addr) : gp_pci_addr_cmp(da, &addr) == 0) {
                dev_sel[i] = true;
                hit = true;
                for (size_t g = 0; g < gpus->n; g++)
                    for (size_t f = 0; f < gpus->gpus[g].functions.n; f++)
                        if (gpus->gpus[g].functions.v[f] == (int)i)
                            gpu_sel[g] = true;
            }
        }
        if (!hit)
            return gp_cli_error("no PCI device %s on %s; `gpupass list --all` shows every device", argv[a],
                                gp_host_is_live(h) ? "this host" : gp_host_source(h));
    }

    gp_list_view v = {
        .pci = pci, .gpus = gpus, .crit = crit, .names = names,
        .dev_selected = dev_sel, .gpu_selected = gpu_sel,
        .all = all, .color = cli->color && !json,
    };
    if (json)
        r = gp_render_list_json(stdout, &v);
    else
        gp_render_list_text(stdout, &v), r = 0;
    if (r < 0 || fflush(stdout) != 0 || ferror(stdout))
        return gp_cli_error("writing the output failed");
    return GP_EXIT_OK;
}
