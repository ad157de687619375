/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bind, unbind, status: vfio-pci at run time. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vfiobind.h"

static void bind_help(void)
{
    printf("Usage: gpupass bind GPU [--group] [--force] [--dry-run] [--reset-method METHOD]\n"
           "       gpupass unbind GPU\n"
           "       gpupass status [GPU]\n"
           "\n"
           "bind moves every function of GPU to vfio-pci now, without a reboot, the way\n"
           "Proxmox does at VM start: driver_override, unbind, drivers_probe; then it asks\n"
           "VFIO whether the IOMMU group is usable. If one device fails, the ones already\n"
           "moved go back. The driver each had is saved in /run/gpupass/bind/ so that\n"
           "unbind gives each one back to exactly that driver. status shows, per function,\n"
           "the driver, driver_override, the saved driver and who holds /dev/vfio/<group>.\n"
           "\n"
           "Options:\n"
           "  --group     bind every device of a shared IOMMU group too (bridges stay)\n"
           "  --force     even the boot display or a device the host needs\n"
           "  --dry-run   say what would move; change nothing\n"
           "  --reset-method METHOD   write it to reset_method first (device_specific for\n"
           "              vendor-reset cards)\n"
           "  -h, --help  this help\n"
           "\n"
           "bind refuses (exit 2) while a process holds the GPU's device nodes, naming it.\n"
           "Exit status: 0 done, 2 refused or failed (rolled back), 3 could not run.\n");
}

static int one_gpu(const gp_cli_gpus *g, const char *arg)
{
    for (size_t i = 0; i < g->gpus->n; i++)
        if (g->gpu_sel[i] && g->dev_sel[g->gpus->gpus[i].dev])
            return (int)i;
    for (size_t i = 0; i < g->gpus->n; i++)
        if (g->gpu_sel[i])
            return (int)i;
    gp_cli_error("%s is not a GPU (no display-class function); `gpupass list` shows the GPUs", arg);
    return -1;
}

static int parse(const char *cmd, int argc, char **argv, gp_bind_opts *o, int want_args)
{
    enum { OPT_GROUP = 0x100, OPT_FORCE, OPT_DRY, OPT_RESET };
    static const struct option opts[] = {
        { "reset-method", required_argument, NULL, OPT_RESET },
        { "group", no_argument, NULL, OPT_GROUP },
        { "force", no_argument, NULL, OPT_FORCE },
        { "dry-run", no_argument, NULL, OPT_DRY },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_GROUP:
            o->group = true;
            break;
        case OPT_FORCE:
            o->force = true;
            break;
        case OPT_DRY:
            o->dry_run = true;
            break;
        case OPT_RESET:
            if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyz_ ") != strlen(optarg))
                return gp_cli_usage_error(cmd, "--reset-method takes method names (flr, bus, device_specific, ...), "
                                          "not '%s'", optarg);
            o->reset_method = optarg;
            break;
        case 'h':
            bind_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error(cmd, "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (want_args >= 0 && argc - optind != want_args)
        return gp_cli_usage_error(cmd, "name one GPU by its PCI address (gpupass list shows them)");
    return -1;
}

static int needs_root(const char *cmd, const gp_host *h)
{
    if (gp_host_is_archive(h))
        return gp_cli_error("--root %s is a snapshot archive: %s changes a running host", gp_host_source(h), cmd);
    if (gp_host_is_live(h) && geteuid() != 0) {
        fprintf(stderr, "gpupass %s: refused: it writes to /sys; run it as root\n", cmd);
        return GP_EXIT_FAIL;
    }
    return 0;
}

int gp_cmd_bind(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_bind_opts o = { 0 };
    gp_bind_set set = { 0 };
    gp_error err = { 0 };
    gp_runner run;
    int r, gi, group;

    r = parse("bind", argc, argv, &o, 1);
    if (r >= 0)
        return r;
    r = gp_cli_gpus_load(cli, "bind", argc - optind, argv + optind, &g);
    if (r != 0)
        return r;
    gi = one_gpu(&g, argv[optind]);
    if (gi < 0)
        return GP_EXIT_ERROR;
    if (!o.dry_run && (r = needs_root("bind", g.h)) != 0)
        return r;
    r = gp_bind_prepare(g.h, g.pci, &g.gpus->gpus[gi], g.crit, &o, &set, &err);
    if (r == -ECANCELED) {
        fprintf(stderr, "gpupass bind: refused: %s\n", gp_error_message(&err));
        return GP_EXIT_FAIL;
    }
    if (r < 0)
        return gp_cli_error("out of memory");
    for (size_t i = 0; i < set.devs.n; i++) {
        const gp_pci_dev *d = &g.pci->devs[set.devs.v[i]];

        if (d->driver && strcmp(d->driver, "vfio-pci") == 0)
            printf("%s: already on vfio-pci\n", d->name);
        else
            printf("%s %s: %s -> vfio-pci\n", o.dry_run ? "would move" : "moving", d->name,
                   d->driver ? d->driver : "no driver");
    }
    if (o.dry_run) {
        gp_bind_set_clear(&set);
        return GP_EXIT_OK;
    }
    /* modprobe vfio-pci runs only on the live host */
    if (gp_runner_for(gp_host_is_live(g.h) ? "/" : gp_host_root(g.h), gp_host_is_live(g.h), &run) < 0) {
        gp_bind_set_clear(&set);
        return gp_cli_error("out of memory");
    }
    r = gp_bind_apply(g.h, g.pci, &set, &o, &run, &group, &err);
    gp_bind_set_clear(&set);
    if (r < 0) {
        fprintf(stderr, "gpupass bind: %s\n", gp_error_message(&err));
        return GP_EXIT_FAIL;
    }
    if (group >= 0)
        printf("IOMMU group %d is viable: /dev/vfio/%d is ready for a VM.\n", group, group);
    return GP_EXIT_OK;
}

int gp_cmd_unbind(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_bind_opts o = { 0 };
    gp_error err = { 0 };
    int r, gi;

    r = parse("unbind", argc, argv, &o, 1);
    if (r >= 0)
        return r;
    r = gp_cli_gpus_load(cli, "unbind", argc - optind, argv + optind, &g);
    if (r != 0)
        return r;
    gi = one_gpu(&g, argv[optind]);
    if (gi < 0)
        return GP_EXIT_ERROR;
    if ((r = needs_root("unbind", g.h)) != 0)
        return r;
    r = gp_unbind(g.h, g.pci, &g.gpus->gpus[gi], &err);
    if (r < 0) {
        fprintf(stderr, "gpupass unbind: %s\n", gp_error_message(&err));
        return GP_EXIT_FAIL;
    }
    printf("%s is back on its host drivers.\n", g.pci->devs[g.gpus->gpus[gi].dev].name);
    return GP_EXIT_OK;
}

int gp_cmd_status(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_bind_opts o = { 0 };
    int r;

    r = parse("status", argc, argv, &o, -1);
    if (r >= 0)
        return r;
    r = gp_cli_gpus_load(cli, "status", argc - optind, argv + optind, &g);
    if (r != 0)
        return r;
    for (size_t i = 0; i < g.gpus->n; i++) {
        const gp_gpu *gpu = &g.gpus->gpus[i];

        if (!g.gpu_sel[i])
            continue;
        printf("%s\n", g.pci->devs[gpu->dev].name);
        for (size_t f = 0; f < gpu->functions.n; f++) {
            const gp_pci_dev *d = &g.pci->devs[gpu->functions.v[f]];
            _cleanup_free_ char *saved = gp_bind_saved_driver(g.h, d->name), *ovr = NULL;
            char path[128];

            snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", d->name);
            (void)gp_host_read_attr(g.h, path, &ovr);
            printf("  %s  driver %s, driver_override %s%s%s%s\n", d->name, d->driver ? d->driver : "none",
                   ovr && *ovr && strcmp(ovr, "(null)") != 0 ? ovr : "none", saved ? ", saved driver " : "",
                   saved ? (*saved ? saved : "none") : "", saved ? " (gpupass unbind restores it)" : "");
        }
        for (size_t k = 0; k < gpu->groups.n; k++) {
            char node[64];
            gp_holder *hv = NULL;
            size_t hn = 0;
            const char *nodes[2] = { node, NULL };

            snprintf(node, sizeof(node), "/dev/vfio/%d", gpu->groups.v[k]);
            if (!gp_host_devnode_exists(g.h, node + 1)) {
                printf("  group %d: no %s (not every device of the group is on vfio-pci)\n", gpu->groups.v[k], node);
                continue;
            }
            if (gp_holders_of(g.h, nodes, &hv, &hn) < 0)
                return gp_cli_error("out of memory");
            printf("  group %d: %s, %s", gpu->groups.v[k], node, hn ? "held by" : "free");
            for (size_t j = 0; j < hn; j++) {
                printf("%s %s (pid %d", j ? "," : "", hv[j].comm, hv[j].pid);
                if (hv[j].vmid)
                    printf(", VM %u", hv[j].vmid);
                printf(")");
            }
            printf("\n");
            free(hv);
        }
    }
    return fflush(stdout) == 0 ? GP_EXIT_OK : gp_cli_error("writing the output failed");
}
