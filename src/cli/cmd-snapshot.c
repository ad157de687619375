/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpupass snapshot: capture what gpupass reads, for a bug report or a test. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "snapshot.h"

static void help(void)
{
    printf("Usage: gpupass [--root DIR|FILE] snapshot -o FILE.tar.gz [--include-identifiers] [--force]\n"
           "\n"
           "Capture everything gpupass reads about this host (PCI devices and their sysfs\n"
           "attributes, IOMMU groups, drivers, block and network topology, kernel command\n"
           "line, modprobe and bootloader configuration, Proxmox VM/CT configs, the kernel\n"
           "log, GPU device nodes) into one archive that `gpupass --root FILE` reads back.\n"
           "Attach it to a bug report. Run as root for a complete capture; what could not\n"
           "be read is listed in gpupass/snapshot.json inside the archive.\n"
           "\n"
           "Left out by default: device serial numbers (PCI config space DSN, VPD), MAC\n"
           "and IP addresses, the host name, VM UUIDs. Never captured: passwords, keys,\n"
           "/etc/shadow, /etc/ssh, /etc/pve/priv, PCI BARs and ROMs.\n"
           "\n"
           "Options:\n"
           "  -o, --output FILE        write the archive to FILE (tar.gz); required\n"
           "      --include-identifiers  keep MAC/IP addresses, host name and UUIDs\n"
           "  -f, --force              replace FILE if it exists\n"
           "  -h, --help               this help\n"
           "\n"
           "Exit status: 0 written, 3 could not write it.\n");
}

int gp_cmd_snapshot(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_IDS = 0x100 };
    static const struct option options[] = {
        { "output", required_argument, NULL, 'o' },
        { "include-identifiers", no_argument, NULL, OPT_IDS },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    gp_snapshot_stats stats = { 0 };
    gp_snapshot_opts opts = { .stats = &stats };
    gp_error err = { 0 };
    _cleanup_host_ gp_host *h = NULL;
    const char *output = NULL;
    int c;

    optind = 0;   /* argv[0] is "snapshot"; reset for a second parse in one process */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:fh", options, NULL)) >= 0) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case OPT_IDS:
            opts.include_identifiers = true;
            break;
        case 'f':
            opts.overwrite = true;
            break;
        case 'h':
            help();
            return GP_EXIT_OK;
        case ':':
            return gp_cli_usage_error("snapshot", "option '%s' needs a value", argv[optind - 1]);
        default:
            return gp_cli_usage_error("snapshot", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (optind < argc)
        return gp_cli_usage_error("snapshot", "unexpected argument '%s'", argv[optind]);
    if (!output || !*output)
        return gp_cli_usage_error("snapshot", "no output file; give one with -o FILE.tar.gz");
    /* Checked again, race-free, when the file is renamed into place; this
     * early check only saves capturing a whole host for nothing. */
    if (!opts.overwrite && access(output, F_OK) == 0)
        return gp_cli_error("%s: already exists; pass --force to replace it, or choose another name", output);

    h = gp_cli_open_host(cli);
    if (!h)
        return GP_EXIT_ERROR;
    if (gp_snapshot_write(h, output, &opts, &err) < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    if (stats.skipped > 0)
        fprintf(stderr, "wrote %s: %zu files, %llu KiB (%zu not readable, listed in gpupass/snapshot.json%s)\n",
                output, stats.files, (unsigned long long)(stats.bytes + 1023) / 1024, stats.skipped,
                geteuid() == 0 ? "" : "; run as root to include them");
    else
        fprintf(stderr, "wrote %s: %zu files, %llu KiB\n", output, stats.files,
                (unsigned long long)(stats.bytes + 1023) / 1024);
    return GP_EXIT_OK;
}
