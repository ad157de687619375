/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpupass: one multi-call tool; each command lives in cmd-<name>.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

typedef struct gp_command {
    const char *name;
    int (*run)(const gp_cli *cli, int argc, char **argv);
    const char *summary;
} gp_command;

static const gp_command commands[] = {
    { "list", gp_cmd_list, "GPUs, their functions, IOMMU groups and passthrough verdicts" },
    { "check", gp_cmd_check, "judge every layer from firmware to driver, with the fix for each problem" },
    { "doctor", gp_cmd_doctor, "read the kernel log: name each passthrough failure, with the fix for this host" },
    { "lint", gp_cmd_lint, "find mistakes in boot, module, VM, container and mapping config files" },
    { "setup", gp_cmd_setup, "write the boot configuration that gives a GPU to VMs, as a reviewed plan" },
    { "undo", gp_cmd_undo, "put back the files of the last setup, vm, lxc or map, byte for byte" },
    { "bind", gp_cmd_bind, "move a GPU to vfio-pci now, with rollback (no reboot)" },
    { "unbind", gp_cmd_unbind, "give a GPU back to the drivers it had before bind" },
    { "status", gp_cmd_status, "drivers, overrides and VFIO group holders of the GPUs" },
    { "vm", gp_cmd_vm, "give a GPU to a Proxmox VM (hostpci, q35, OVMF), or lint VM configs" },
    { "lxc", gp_cmd_lxc, "let a Proxmox container use a GPU: its real device nodes, or lint CT configs" },
    { "rom", gp_cmd_rom, "dump a GPU option ROM, list its images and judge it for OVMF" },
    { "mig", gp_cmd_mig, "plan MIG instances on an NVIDIA GPU or model, make them, or show them" },
    { "bench", gp_cmd_bench, "measure the GPU's copy bandwidth and an LLM endpoint's speed; compare runs" },
    { "sriov", gp_cmd_sriov, "show a GPU's SR-IOV virtual functions and vGPU types, or make N of them" },
    { "map", gp_cmd_map, "create the cluster PCI mapping for this node's GPU, or lint mappings" },
    { "snapshot", gp_cmd_snapshot, "capture what gpupass reads from this host into an archive" },
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gpupass [--root DIR|FILE] COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "Get a GPU into a Proxmox VE / KVM guest: read the host, judge it, explain.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Options:\n"
            "  --root DIR|FILE  read the host from DIR (a copy of a machine's /) or from a\n"
            "                   snapshot archive instead of this machine (also $GPUPASS_ROOT)\n"
            "  -h, --help       this help; `gpupass COMMAND --help` for a command\n"
            "  -V, --version    the version\n"
            "\n"
            "Exit status: 0 ok, 1 warnings, 2 failures or refused, 3 could not run.\n");
}

int gp_cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("gpupass: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return GP_EXIT_ERROR;
}

int gp_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "gpupass %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see `gpupass %s --help`\n", cmd);
    return GP_EXIT_ERROR;
}

const char *gp_cli_bad_option(int argc, char **argv)
{
    /* getopt stays on an argument while a cluster of short options in it is
     * unfinished ("-01:00.0" fails at its '0'): then that argument is the
     * bad one, not the one before it */
    if (optind > 0 && optind < argc && optopt > 0 && optopt < 256 && argv[optind][0] == '-' &&
        argv[optind][1] != '-' && strchr(argv[optind] + 1, optopt))
        return argv[optind];
    return optind > 0 ? argv[optind - 1] : "";
}

gp_host *gp_cli_open_host(const gp_cli *cli)
{
    gp_error err = { 0 };
    gp_host *h = NULL;

    if (gp_host_open(cli->root, &h, &err) < 0) {
        gp_cli_error("%s", gp_error_message(&err));
        return NULL;
    }
    return h;
}

/* --root is global but may stand anywhere before "--", so that both
 * `gpupass --root X list` and `gpupass list --root X` work. It is removed
 * from argv here; the commands never see it. */
static int take_root_option(int *argc, char **argv, const char **ret_root)
{
    int out = 1;

    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--root") == 0) {
            if (i + 1 >= *argc || !argv[i + 1][0])
                return gp_cli_error("--root needs a directory or a snapshot archive; see `gpupass --help`");
            *ret_root = argv[++i];
            continue;
        }
        if (strncmp(argv[i], "--root=", 7) == 0) {
            if (!argv[i][7])
                return gp_cli_error("--root= needs a directory or a snapshot archive; see `gpupass --help`");
            *ret_root = argv[i] + 7;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int main(int argc, char **argv)
{
    gp_cli cli = { 0 };
    const char *env = getenv("GPUPASS_ROOT");
    const char *nocolor = getenv("NO_COLOR");

    if (env && *env)
        cli.root = env;
    if (take_root_option(&argc, argv, &cli.root) != 0)
        return GP_EXIT_ERROR;
    /* no-color.org: any non-empty NO_COLOR disables color. */
    cli.color = isatty(STDOUT_FILENO) && !(nocolor && *nocolor);

    if (argc < 2)
        return gp_cli_error("no command given; `gpupass --help` lists the commands");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            char *sub[] = { argv[2], (char *)"--help", NULL };

            for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(commands[i].name, argv[2]) == 0)
                    return commands[i].run(&cli, 2, sub);
            return gp_cli_error("unknown command '%s'; `gpupass --help` lists the commands", argv[2]);
        }
        usage(stdout);
        return GP_EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("gpupass %s\n", GP_VERSION);
        return GP_EXIT_OK;
    }
    if (argv[1][0] == '-')
        return gp_cli_error("unknown option '%s'; options go after the command, see `gpupass --help`", argv[1]);

    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, argv[1]) == 0)
            return commands[i].run(&cli, argc - 1, argv + 1);
    return gp_cli_error("unknown command '%s'; `gpupass --help` lists the commands", argv[1]);
}
