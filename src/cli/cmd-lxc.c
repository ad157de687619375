/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lint-lxc.h"
#include "lxcplan.h"
#include "pvect.h"

static void lxc_help(void)
{
    printf("Usage: gpupass lxc CTID --gpu GPU [--apply] [--style dev|raw]\n"
           "                  [--render-gid N] [--video-gid N]\n"
           "       gpupass lxc --gpu GPU --print [--style dev|raw]\n"
           "       gpupass lxc lint [-q] [--json] [CTID...]\n"
           "\n"
           "Let Proxmox container CTID use GPU with the host's driver: the device nodes\n"
           "this GPU really has on this host (its own /dev/dri nodes, /dev/nvidiaN with\n"
           "nvidiactl and nvidia-uvm, /dev/kfd for ROCm), each checked to exist with the\n"
           "driver's major, written into /etc/pve/lxc/CTID.conf. A node that is missing\n"
           "is not written: gpupass says what creates it. Without --apply the change is\n"
           "shown as a diff, and nothing is written.\n"
           "\n"
           "Options:\n"
           "  --apply          write it under PVE's container lock; `gpupass undo` puts it back\n"
           "  --gpu GPU        the GPU, by PCI address (`gpupass list`)\n"
           "  --style dev      devN lines with the container's own render/video gids, read\n"
           "                   from its /etc/group (the default from Proxmox VE 8.2 on)\n"
           "  --style raw      lxc.cgroup2.devices.allow and lxc.mount.entry lines with the\n"
           "                   host's real majors (older PVE, plain LXC, Incus)\n"
           "  --render-gid N, --video-gid N   the container's gids, when its root cannot be read\n"
           "  --print          only print the lines, for any LXC host\n"
           "  -h, --help       this help\n"
           "\n"
           "lxc lint judges the GPU lines of every container config of this node (or those\n"
           "named): nodes that do not exist, majors that are not the host's, nvidia-uvm\n"
           "missing, lines under a [snapshot] header, another GPU's render node, gids\n"
           "that are not the container's, a container NVIDIA userland that is not the\n"
           "host module's version.\n"
           "\n"
           "Exit status: 0 planned or applied (lint: all holds), 1 lint warnings,\n"
           "2 refused or lint failures, 3 could not run.\n");
}

static int parse_gid(const char *cmd, const char *opt, const char *arg, long *ret)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);

    if (!arg[0] || *end || v > 65535 || arg[0] == '-')
        return gp_cli_usage_error(cmd, "%s takes a group ID (0 to 65535), not '%s'", opt, arg);
    *ret = (long)v;
    return 0;
}

int gp_cmd_lxc(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_APPLY = 0x100, OPT_GPU, OPT_STYLE, OPT_RENDER, OPT_VIDEO, OPT_PRINT };
    static const struct option opts[] = {
        { "apply", no_argument, NULL, OPT_APPLY },
        { "gpu", required_argument, NULL, OPT_GPU },
        { "style", required_argument, NULL, OPT_STYLE },
        { "render-gid", required_argument, NULL, OPT_RENDER },
        { "video-gid", required_argument, NULL, OPT_VIDEO },
        { "print", no_argument, NULL, OPT_PRINT },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_close_ int lockfd = -1;
    gp_lxc_opts o = { .gpu = -1, .render_gid = -1, .video_gid = -1 };
    gp_lxc_result res = { 0 };
    gp_plan plan = { 0 };
    gp_error err = { 0 };
    gp_check_ctx ctx;
    char *gpu_arg = NULL;
    bool apply = false, print = false;
    int c, r;

    if (argc >= 2 && strcmp(argv[1], "lint") == 0)
        return gp_cli_guest_lint(cli, "lxc lint", "CTID", argc - 1, argv + 1, lxc_help, gp_lxc_lint);

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
        case OPT_STYLE:
            if (strcmp(optarg, "dev") == 0)
                o.style = GP_LXC_STYLE_DEV;
            else if (strcmp(optarg, "raw") == 0)
                o.style = GP_LXC_STYLE_RAW;
            else
                return gp_cli_usage_error("lxc", "--style takes dev or raw, not '%s'", optarg);
            break;
        case OPT_RENDER:
            if ((r = parse_gid("lxc", "--render-gid", optarg, &o.render_gid)) != 0)
                return r;
            break;
        case OPT_VIDEO:
            if ((r = parse_gid("lxc", "--video-gid", optarg, &o.video_gid)) != 0)
                return r;
            break;
        case OPT_PRINT:
            print = true;
            break;
        case 'h':
            lxc_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("lxc", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (!gpu_arg)
        return gp_cli_usage_error("lxc", "name the GPU with --gpu ADDRESS (gpupass list shows them)");
    if (print) {
        if (argc - optind != 0 || apply)
            return gp_cli_usage_error("lxc", "--print shows the lines only: it takes no CTID and no --apply");
    } else {
        if (argc - optind != 1)
            return gp_cli_usage_error("lxc", "name one container by its CTID (or use --print)");
        if (!gp_ctid_parse(argv[optind], &o.ctid))
            return gp_cli_usage_error("lxc", "'%s' is not a CTID: Proxmox CTIDs are 100 to 999999999", argv[optind]);
    }

    r = gp_cli_load_gpu(cli, "lxc", gpu_arg, apply, "/etc/pve", &g, &o.gpu);
    if (r != 0)
        return r;
    /* PVE's own lock from the read to the write: pct set waits for us. */
    if (apply) {
        lockfd = gp_ct_lock(g.h, o.ctid, 10000, &err);
        if (lockfd < 0) {
            fprintf(stderr, "gpupass lxc: refused: %s\n", gp_error_message(&err));
            return GP_EXIT_FAIL;
        }
    }
    if (gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit) < 0)
        return gp_cli_error("out of memory");
    r = gp_lxc_plan(&ctx, &o, &plan, &res, &err);
    gp_check_ctx_done(&ctx);
    if (r < 0) {
        gp_plan_clear(&plan);
        gp_lxc_result_clear(&res);
        return gp_cli_plan_error("lxc", r, &err);
    }

    if (print) {
        for (char **l = res.lines; l && *l; l++)
            printf("%s\n", *l);
        r = GP_EXIT_OK;
    } else if (gp_plan_is_empty(&plan)) {
        printf("Nothing to do: CT %u already has the device nodes of %s.\n", o.ctid,
               g.pci->devs[g.gpus->gpus[o.gpu].dev].name);
        r = GP_EXIT_OK;
    } else {
        if (res.gids_from)
            printf("# container gids (%s)\n", res.gids_from);
        r = gp_cli_plan_show(g.h, &plan, apply);
        if (r == 0 && apply && res.refuse_apply) {
            fprintf(stderr, "gpupass lxc: refused: %s\n", res.refuse_apply);
            r = GP_EXIT_FAIL;
        } else if (r == 0 && apply) {
            gp_txn_result tr;
            gp_runner run;

            r = gp_cli_plan_apply(g.h, &plan, &run, &tr);
            if (r == 0)
                printf("Then `gpupass lxc lint %u` checks the lines against the host.\n", o.ctid);
        } else if (r == 0 && res.refuse_apply) {
            printf("Before that: %s.\n", res.refuse_apply);
        }
    }
    gp_plan_clear(&plan);
    gp_lxc_result_clear(&res);
    if (r == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        return gp_cli_error("writing the output failed");
    return r;
}
