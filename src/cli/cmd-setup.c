/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "setup.h"
#include "txn.h"

static void setup_help(void)
{
    printf("Usage: gpupass setup GPU [--apply] [--method ids|per-device] [--iommu-pt|--no-iommu-pt]\n"
           "                         [--allow-shared-group] [--force]\n"
           "\n"
           "Write the configuration that gives GPU to VMs at every boot, for this host's\n"
           "boot loader, kernel and CPU: the kernel command line (only what this host\n"
           "needs), the vfio modules at boot and in the initramfs, and the binding of the\n"
           "GPU's functions to vfio-pci. Without --apply the plan is shown as a diff with\n"
           "the commands it needs, and nothing is written.\n"
           "\n"
           "Options:\n"
           "  --apply               make the changes: one transaction, journaled under\n"
           "                        /var/lib/gpupass; `gpupass undo` puts every byte back\n"
           "  --method ids          options vfio-pci ids=... (the default, unless another\n"
           "                        device has the same ID)\n"
           "  --method per-device   bind exactly these addresses (identical GPUs)\n"
           "  --iommu-pt            add iommu=pt;  --no-iommu-pt takes it off\n"
           "  --allow-shared-group  bind every device of a shared IOMMU group too\n"
           "  --force               even when the group holds what the host needs\n"
           "  -h, --help            this help\n"
           "\n"
           "With --root DIR, --apply edits the files inside DIR (a system disk mounted from\n"
           "a rescue system) and prints the commands to run inside a chroot instead.\n"
           "\n"
           "Exit status: 0 planned or applied, 2 refused or a command failed, 3 could not run.\n");
}

static void print_commands_for_chroot(const gp_plan *plan, const char *root)
{
    printf("\nThe files are written. Run these inside the host's system, e.g. `chroot %s`:\n", root);
    for (size_t i = 0; i < plan->n_cmds; i++) {
        printf("  ");
        for (char **a = plan->cmds[i].argv; *a; a++)
            printf("%s%s", *a, a[1] ? " " : "\n");
    }
}

int gp_cmd_setup(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_METHOD = 0x100, OPT_PT, OPT_NO_PT, OPT_SHARED, OPT_FORCE, OPT_APPLY };
    static const struct option opts[] = {
        { "apply", no_argument, NULL, OPT_APPLY },
        { "method", required_argument, NULL, OPT_METHOD },
        { "iommu-pt", no_argument, NULL, OPT_PT },
        { "no-iommu-pt", no_argument, NULL, OPT_NO_PT },
        { "allow-shared-group", no_argument, NULL, OPT_SHARED },
        { "force", no_argument, NULL, OPT_FORCE },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_setup_opts o = { .method = GP_BIND_AUTO };
    gp_plan plan = { 0 };
    gp_error err = { 0 };
    gp_check_ctx ctx;
    gp_bind_method method = GP_BIND_AUTO;
    bool apply = false;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_APPLY:
            apply = true;
            break;
        case OPT_METHOD:
            if (strcmp(optarg, "ids") == 0)
                o.method = GP_BIND_IDS;
            else if (strcmp(optarg, "per-device") == 0)
                o.method = GP_BIND_PER_DEVICE;
            else
                return gp_cli_usage_error("setup", "--method takes ids or per-device, not '%s'", optarg);
            break;
        case OPT_PT:
            o.iommu_pt = 1;
            break;
        case OPT_NO_PT:
            o.iommu_pt = -1;
            break;
        case OPT_SHARED:
            o.allow_shared_group = true;
            break;
        case OPT_FORCE:
            o.force = true;
            break;
        case 'h':
            setup_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("setup", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (argc - optind != 1)
        return gp_cli_usage_error("setup", "name one GPU by its PCI address (gpupass list shows them)");

    r = gp_cli_load_gpu(cli, "setup", argv[optind], apply, "/etc and the boot configuration", &g, &o.gpu);
    if (r != 0)
        return r;

    r = gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit);
    if (r < 0)
        return gp_cli_error("out of memory");
    r = gp_setup_plan(&ctx, &o, &plan, &method, &err);
    gp_check_ctx_done(&ctx);
    if (r < 0) {
        gp_plan_clear(&plan);
        return gp_cli_plan_error("setup", r, &err);
    }

    if (gp_plan_is_empty(&plan)) {
        printf("Nothing to do: %s is already set up on this host (binding: %s).\n",
               g.pci->devs[g.gpus->gpus[o.gpu].dev].name, gp_bind_method_to_string(method));
        gp_plan_clear(&plan);
        return GP_EXIT_OK;
    }
    r = gp_cli_plan_show(g.h, &plan, apply);
    if (r == 0 && apply) {
        gp_txn_result res;
        gp_runner run;

        r = gp_cli_plan_apply(g.h, &plan, &run, &res);
        if (r == 0) {
            if (res.failed_cmd >= 0) {
                fprintf(stderr, "gpupass setup: `%s` failed (status %d). Fix its cause and run the remaining "
                        "commands, or run `gpupass undo %s`\n", plan.cmds[res.failed_cmd].argv[0],
                        res.failed_status, res.id);
                r = GP_EXIT_FAIL;
            } else if (!run.executes) {
                print_commands_for_chroot(&plan, gp_host_source(g.h));
            }
            if (r == 0)
                printf("Reboot, then run `gpupass check` to see that every layer took.\n");
        }
    }
    gp_plan_clear(&plan);
    if (r == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        return gp_cli_error("writing the output failed");
    return r;
}
