/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "txn.h"

static void undo_help(void)
{
    printf("Usage: gpupass undo [ID] [--force]\n"
           "       gpupass undo --list\n"
           "\n"
           "Put back, byte for byte and with their mode and owner, the files of the last\n"
           "(or the named) transaction of `gpupass setup|vm|lxc|map|sriov --apply` or\n"
           "`gpupass mig apply`, remove the files it created, and run its commands again\n"
           "(update-grub, update-initramfs, systemctl daemon-reload, ...) so that the\n"
           "boot configuration follows; a VM, container or mapping change has none.\n"
           "What a plan ran once (nvidia-smi making MIG instances, VFs made through\n"
           "sysfs) is not run backwards: it lasts until the next boot. A file changed\n"
           "by someone else since is not touched unless --force is given.\n"
           "\n"
           "Options:\n"
           "  --list      the journal: every transaction, its files and state\n"
           "  --force     restore even files changed since\n"
           "  -h, --help  this help\n"
           "\n"
           "Exit status: 0 undone, 2 refused or a command failed, 3 could not run.\n");
}

static int list(const gp_host *h)
{
    gp_txn_info *v = NULL;
    size_t n = 0;
    int r = gp_txn_list(h, &v, &n);

    if (r < 0)
        return gp_cli_error("reading the journal in /%s: %s", GP_JOURNAL_DIR, strerror(-r));
    if (n == 0)
        printf("No transactions in /%s.\n", GP_JOURNAL_DIR);
    for (size_t i = 0; i < n; i++) {
        char when[32];
        struct tm tm;

        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&v[i].when, &tm));
        printf("%s  %s  %s\n", v[i].id, when, v[i].undone ? "undone" : v[i].complete ? "applied" : "incomplete");
        for (char **f = v[i].files; f && *f; f++)
            printf("    /%s\n", *f);
        for (char **c = v[i].cmds; c && *c; c++)
            printf("    $ %s\n", *c);
    }
    gp_txn_info_free(v, n);
    return GP_EXIT_OK;
}

int gp_cmd_undo(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_LIST = 0x100, OPT_FORCE };
    static const struct option opts[] = {
        { "list", no_argument, NULL, OPT_LIST },
        { "force", no_argument, NULL, OPT_FORCE },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_host_ gp_host *h = NULL;
    gp_txn_result res = { 0 };
    gp_error err = { 0 };
    gp_runner run;
    bool do_list = false, force = false;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LIST:
            do_list = true;
            break;
        case OPT_FORCE:
            force = true;
            break;
        case 'h':
            undo_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("undo", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (argc - optind > 1)
        return gp_cli_usage_error("undo", "name at most one transaction (gpupass undo --list shows them)");
    h = gp_cli_open_host(cli);
    if (!h)
        return GP_EXIT_ERROR;
    if (do_list)
        return list(h);
    if (gp_host_is_archive(h))
        return gp_cli_error("--root %s is a snapshot archive: undo needs a directory", gp_host_source(h));
    if (gp_host_is_live(h) && geteuid() != 0) {
        fprintf(stderr, "gpupass undo: refused: it restores files in /etc and the boot configuration; run it as root\n");
        return GP_EXIT_FAIL;
    }
    if (gp_runner_for(gp_host_is_live(h) ? "/" : gp_host_root(h), gp_host_is_live(h), &run) < 0)
        return gp_cli_error("out of memory");
    r = gp_txn_undo(h, optind < argc ? argv[optind] : NULL, force, &run, &res, &err);
    if (r == -ECANCELED || r == -EBUSY) {
        fprintf(stderr, "gpupass undo: refused: %s\n", gp_error_message(&err));
        return GP_EXIT_FAIL;
    }
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    printf("Undid transaction %s: %zu file%s put back.\n", res.id, res.files_written,
           res.files_written == 1 ? "" : "s");
    if (res.failed_cmd >= 0) {
        fprintf(stderr, "gpupass undo: a refresh command failed (status %d); run it again by hand\n",
                res.failed_status);
        return GP_EXIT_FAIL;
    }
    /* A VM config or a mapping needs no refresh and no reboot. */
    if (res.cmds_run == 0)
        ;
    else if (!run.executes)
        printf("Run the refresh commands inside the host's system (`gpupass undo --list` shows them), then reboot.\n");
    else
        printf("Reboot to return to the previous configuration.\n");
    return GP_EXIT_OK;
}
