/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lint-guest.h"
#include "pveguest.h"
#include "pvemap.h"
#include "vmplan.h"

/* cfs_lock_file's name for mapping/pci.cfg: "file-" and the path with '/'
 * and '.' turned into '_' (pve-cluster Cluster.pm). */
#define MAP_LOCK "file-mapping_pci_cfg"

static void map_help(void)
{
    printf("Usage: gpupass map NAME --gpu GPU [--apply]\n"
           "       gpupass map lint [-q] [--json]\n"
           "\n"
           "Create or update the cluster-wide PCI resource mapping NAME in\n"
           "/etc/pve/mapping/pci.cfg with this node's entry for GPU: node, path, id,\n"
           "subsystem-id and iommugroup, the properties Proxmox compares with the\n"
           "hardware when a VM using the mapping starts. Other nodes' entries stay as\n"
           "they are. Run it on every node that has such a GPU; then one VM config with\n"
           "hostpciN: mapping=NAME can start (and be migrated) on any of them.\n"
           "\n"
           "map lint checks every entry for this node against the hardware, as Proxmox\n"
           "will at VM start.\n"
           "\n"
           "Options:\n"
           "  --apply      write it, under the cluster lock PVE uses for this file;\n"
           "               `gpupass undo` puts it back\n"
           "  --gpu GPU    the GPU, by PCI address (`gpupass list`)\n"
           "  -h, --help   this help\n"
           "\n"
           "Exit status: 0 planned or applied (lint: all holds), 1 lint warnings,\n"
           "2 refused or lint failures, 3 could not run.\n");
}

static int map_lint(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_findings_ gp_findings f = { 0 };
    gp_check_ctx ctx;
    bool quiet = false, json = false;
    int r;

    r = gp_cli_findings_options("map lint", argc, argv, &quiet, &json, map_help);
    if (r >= 0)
        return r;
    if (optind < argc)
        return gp_cli_usage_error("map lint", "unexpected argument '%s'", argv[optind]);
    r = gp_cli_gpus_load(cli, "map lint", 0, NULL, &g);
    if (r != 0)
        return r;
    if (gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit) < 0)
        return gp_cli_error("out of memory");
    r = gp_map_lint(&ctx, &f);
    gp_check_ctx_done(&ctx);
    if (r < 0)
        return gp_cli_error("out of memory");
    return gp_cli_findings_output(cli, &f, quiet, json);
}

int gp_cmd_map(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_APPLY = 0x100, OPT_GPU };
    static const struct option opts[] = {
        { "apply", no_argument, NULL, OPT_APPLY },
        { "gpu", required_argument, NULL, OPT_GPU },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_plan plan = { 0 };
    gp_error err = { 0 };
    gp_check_ctx ctx;
    char *gpu_arg = NULL;
    const char *name;
    bool apply = false, locked = false;
    int c, r, gpu;

    if (argc >= 2 && strcmp(argv[1], "lint") == 0)
        return map_lint(cli, argc - 1, argv + 1);

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
        case 'h':
            map_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("map", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (argc - optind != 1)
        return gp_cli_usage_error("map", "name the mapping (e.g. gpupass map rtx4090 --gpu 01:00.0)");
    name = argv[optind];
    if (!gpu_arg)
        return gp_cli_usage_error("map", "name the GPU with --gpu ADDRESS (gpupass list shows them)");

    r = gp_cli_load_gpu(cli, "map", gpu_arg, apply, "/etc/pve", &g, &gpu);
    if (r != 0)
        return r;
    /* The file is shared by the whole cluster: PVE's mapping API takes this
     * cluster-wide lock around read and write, and so do we. */
    if (apply) {
        r = gp_pve_cluster_lock(g.h, MAP_LOCK, 10000, &err);
        if (r < 0) {
            fprintf(stderr, "gpupass map: refused: %s\n", gp_error_message(&err));
            return GP_EXIT_FAIL;
        }
        locked = true;
    }
    if (gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit) < 0) {
        r = gp_cli_error("out of memory");
        goto out;
    }
    r = gp_map_plan(&ctx, name, gpu, &plan, &err);
    gp_check_ctx_done(&ctx);
    if (r < 0) {
        r = gp_cli_plan_error("map", r, &err);
        goto out;
    }
    if (gp_plan_is_empty(&plan)) {
        printf("Nothing to do: mapping %s already has this node's entry for %s.\n", name,
               g.pci->devs[g.gpus->gpus[gpu].dev].name);
        r = GP_EXIT_OK;
        goto out;
    }
    r = gp_cli_plan_show(g.h, &plan, apply);
    if (r == 0 && apply) {
        gp_txn_result tr;
        gp_runner run;

        r = gp_cli_plan_apply(g.h, &plan, &run, &tr);
        if (r == 0)
            printf("Use it in a VM with: gpupass vm VMID --gpu %s --mapping %s (or qm set VMID --hostpci0 "
                   "mapping=%s,pcie=1)\n", gpu_arg, name, name);
    }
out:
    if (locked)
        gp_pve_cluster_unlock(g.h, MAP_LOCK);
    gp_plan_clear(&plan);
    if (r == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        return gp_cli_error("writing the output failed");
    return r;
}
