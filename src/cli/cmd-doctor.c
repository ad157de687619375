/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "doctor.h"
#include "logsig.h"
#include "runner.h"

static void doctor_help(void)
{
    printf("Usage: gpupass doctor [--log FILE] [-q] [--json]\n"
           "       gpupass doctor --signatures\n"
           "\n"
           "Read the kernel log, name each passthrough failure it shows (IOMMU off, no\n"
           "interrupt remapping, a group that is not viable, a BAR the boot framebuffer\n"
           "holds, a reset that fails, a bad ROM, RMRR, vfio_virqfd, ...) with the device,\n"
           "and give the fix that fits this host: its kernel, boot loader, CPU vendor,\n"
           "boot display and reset methods. A line repeated 10,000 times is one finding\n"
           "with its count. The check layers of the devices named follow.\n"
           "\n"
           "The log: FILE (a pasted dmesg, journalctl -k, a Proxmox task log; '-' reads\n"
           "standard input), else this machine's /dev/kmsg (as root; otherwise\n"
           "journalctl -k -b), or the log inside --root (a snapshot).\n"
           "\n"
           "Options:\n"
           "  --log FILE   read this log instead\n"
           "  --signatures list what doctor looks for: id, failure mode, text\n"
           "  -q, --quiet  leave out what passed\n"
           "  -j, --json   {\"findings\": [...], \"summary\": {...}} on stdout\n"
           "  -h, --help   this help\n"
           "\n"
           "Exit status: 0 no failure found, 1 warnings, 2 failures, 3 could not run.\n");
}

/* journalctl -k -b: the kernel log of this boot, for a user /dev/kmsg
 * refuses (dmesg_restrict); the journal lets the adm group read it. */
static int scan_journal(gp_doctor *d)
{
    static char a0[] = "journalctl", a1[] = "-k", a2[] = "-b", a3[] = "--no-pager", a4[] = "-o",
                a5[] = "short-monotonic";
    char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
    posix_spawn_file_actions_t fa;
    int pipefd[2], status = 0, r;
    pid_t pid;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    r = gp_command_spawn(argv, &fa, &pid);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (r < 0) {
        close(pipefd[0]);
        return r;
    }
    r = gp_doctor_scan_fd(d, pipefd[0], 0);
    close(pipefd[0]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return r < 0 ? r : -EIO;
    return r;
}

int gp_cmd_doctor(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_LOG = 0x100, OPT_SIGNATURES };
    static const struct option opts[] = {
        { "log", required_argument, NULL, OPT_LOG },
        { "signatures", no_argument, NULL, OPT_SIGNATURES },
        { "quiet", no_argument, NULL, 'q' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_findings_ gp_findings f = { 0 };
    const char *log = NULL, *source;
    bool quiet = false, json = false;
    gp_check_ctx ctx;
    gp_doctor d;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qjh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LOG:
            log = optarg;
            break;
        case OPT_SIGNATURES:
            /* What doctor looks for, a line each: id, failure mode, text. */
            for (size_t k = 0; k < gp_n_logsigs; k++)
                printf("%s\t%s\t%s\n", gp_logsigs[k].id, gp_logsigs[k].mode, gp_logsigs[k].needle);
            return GP_EXIT_OK;
        case 'q':
            quiet = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            doctor_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("doctor", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (optind < argc)
        return gp_cli_usage_error("doctor", "unexpected argument '%s' (a log file goes with --log)", argv[optind]);

    r = gp_cli_gpus_load(cli, "doctor", 0, NULL, &g);
    if (r != 0)
        return r;
    if (gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit) < 0)
        return gp_cli_error("out of memory");
    source = log ? (strcmp(log, "-") == 0 ? "standard input" : log) : ctx.kmsg ? ctx.kmsg_source : "journalctl -k -b";
    if (gp_doctor_init(&d, &ctx, source) < 0) {
        gp_check_ctx_done(&ctx);
        return gp_cli_error("out of memory");
    }
    if (log) {
        int fd = strcmp(log, "-") == 0 ? dup(STDIN_FILENO) : open(log, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        r = fd < 0 ? -errno : gp_doctor_scan_fd(&d, fd, 0);
        if (fd >= 0)
            close(fd);
        if (r < 0)
            r = gp_cli_error("cannot read the log %s: %s", log, strerror(-r));
    } else if (ctx.kmsg) {
        r = gp_doctor_scan_buffer(&d, ctx.kmsg, ctx.kmsg_len);
        if (r < 0)
            r = gp_cli_error("out of memory");
    } else if (gp_host_is_live(g.h)) {
        r = scan_journal(&d);
        if (r < 0)
            r = gp_cli_error("cannot read the kernel log: /dev/kmsg is for root (%s) and journalctl -k -b failed; "
                             "run `sudo gpupass doctor`, or save it with `dmesg > log.txt` and use --log log.txt",
                             strerror(-ctx.kmsg_error));
    } else {
        r = gp_cli_error("%s holds no kernel log (gpupass/kmsg.txt or var/log/dmesg); give one with --log FILE",
                         gp_host_source(g.h));
    }
    if (r == 0 && gp_doctor_findings(&d, &f) < 0)
        r = gp_cli_error("out of memory");
    gp_doctor_done(&d);
    gp_check_ctx_done(&ctx);
    if (r != 0)
        return r;
    return gp_cli_findings_output(cli, &f, quiet, json);
}
