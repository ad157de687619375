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
    _cleanup_names_ gp_names *names = NULL;
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    bool all = false, json = false;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ajh", opts, NULL)) != -1) {
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
            return gp_cli_usage_error("list", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }

    r = gp_cli_gpus_load(cli, "list", argc - optind, argv + optind, &g);
    if (r != 0)
        return r;
    names = gp_names_new(g.h);
    if (!names)
        return gp_cli_error("out of memory");

    gp_list_view v = {
        .pci = g.pci, .gpus = g.gpus, .crit = g.crit, .names = names,
        .dev_selected = g.dev_sel, .gpu_selected = g.gpu_sel,
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
