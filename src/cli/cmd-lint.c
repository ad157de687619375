/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "cli.h"
#include "fileio.h"
#include "lint.h"

/* Configuration files are small; anything bigger is not one, and reading it
 * whole would only cost memory. */
#define LINT_FILE_MAX (16u * 1024 * 1024)

static void lint_help(void)
{
    printf("Usage: gpupass lint [-q] [--json] [--root DIR] FILE...\n"
           "\n"
           "Find the mistakes in boot and module configuration files: the ones you wrote,\n"
           "or copied from a guide. The type comes from the name and the content:\n"
           "  /etc/default/grub, /etc/default/grub.d/*.cfg   GRUB settings\n"
           "  /etc/kernel/cmdline                           systemd-boot (proxmox-boot-tool)\n"
           "  a copy of /proc/cmdline                       a running command line\n"
           "  /etc/modules, /etc/modules-load.d/*.conf      modules loaded at boot\n"
           "  /etc/modprobe.d/*.conf                        modprobe options, blacklists\n"
           "  /etc/initramfs-tools/modules                  modules in the initramfs\n"
           "  /etc/pve/qemu-server/<vmid>.conf              a Proxmox VM config\n"
           "  /etc/pve/lxc/<ctid>.conf                      a Proxmox container config\n"
           "  /etc/pve/mapping/pci.cfg                      Proxmox cluster PCI mappings\n"
           "Each finding names the file and line, and the fix.\n"
           "\n"
           "With --root (a host directory, a snapshot, or / for this machine) the host's\n"
           "kernel version, CPU and PCI devices sharpen the rules (vfio_virqfd is only\n"
           "wrong from 6.2 on; ids= that match no device present). A guest config or\n"
           "pci.cfg is always judged against a host: this machine, or the --root one.\n"
           "\n"
           "Options:\n"
           "  -q, --quiet  leave out what passed\n"
           "  -j, --json   {\"findings\": [...], \"summary\": {...}} on stdout\n"
           "  -h, --help   this help\n"
           "\n"
           "Exit status: 0 no problem, 1 warnings, 2 errors, 3 a file could not be read.\n");
}

/* A file named on the command line is the user's, not the host root's. */
static int read_user_file(const char *path, char **ret, size_t *ret_len, struct stat *st)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return gp_negerrno();
    if (fstat(fd, st) < 0)
        return gp_negerrno();
    if (S_ISDIR(st->st_mode))
        return -EISDIR;
    if (!S_ISREG(st->st_mode))
        return -EBADF;
    if ((uint64_t)st->st_size > LINT_FILE_MAX)
        return -EFBIG;
    return gp_fd_read_all(fd, LINT_FILE_MAX, ret, ret_len);
}

static const char *read_error_hint(int r)
{
    switch (r) {
    case -EISDIR:
        return "it is a directory; name the files in it";
    case -EBADF:
        return "not a regular file";
    case -EFBIG:
        return "larger than 16 MiB: not a configuration file";
    case -EACCES:
    case -EPERM:
        return "permission denied; run as root or copy it somewhere readable";
    case -ENOENT:
        return "no such file";
    default:
        return strerror(-r);
    }
}

int gp_cmd_lint(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_host_ gp_host *h = NULL;
    _cleanup_pci_list_ gp_pci_list *pci = NULL;
    _cleanup_findings_ gp_findings findings = { 0 };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_(gp_check_ctx_done) gp_check_ctx guest = { 0 };
    gp_lint_ctx ctx = { 0 };
    gp_file_type t;
    bool quiet = false, json = false, unreadable = false;
    int linted = 0, r;

    r = gp_cli_findings_options("lint", argc, argv, &quiet, &json, lint_help);
    if (r >= 0)
        return r;
    if (optind >= argc)
        return gp_cli_usage_error("lint", "no file given");

    /* Host facts only when asked for: a lint of a file copied from a guide
     * should not change with the machine it runs on. */
    if (cli->root) {
        gp_error err = { 0 };
        gp_cpu_vendor cpu;
        bool virt, hypervisor;

        h = gp_cli_open_host(cli);
        if (!h)
            return GP_EXIT_ERROR;
        if (gp_pci_scan(h, &pci, &err) < 0)
            return gp_cli_error("%s", gp_error_message(&err));
        ctx.h = h;
        ctx.pci = pci;
        (void)gp_kver_read(h, &ctx.kver);
        gp_cpu_read(h, &cpu, &virt, &hypervisor);
        ctx.cpu = cpu;
    }

    for (int a = optind; a < argc; a++) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct stat st;

        r = read_user_file(argv[a], &buf, &len, &st);
        if (r == -ENOMEM)
            return gp_cli_error("out of memory");
        if (r < 0) {
            gp_cli_error("cannot lint %s: %s", argv[a], read_error_hint(r));
            unreadable = true;
            continue;
        }
        t = gp_file_type_detect(argv[a], buf, len);
        /* A VM config or pci.cfg is about a host's devices and VMs: this
         * machine's, or the one --root names. */
        if ((t == GP_FILE_PVE_VM || t == GP_FILE_PVE_MAPPING || t == GP_FILE_PVE_CT) && !ctx.guest) {
            r = gp_cli_gpus_load(cli, "lint", 0, NULL, &g);
            if (r != 0)
                return r;
            if (gp_check_ctx_init(&guest, g.h, g.pci, g.gpus, g.crit) < 0)
                return gp_cli_error("out of memory");
            ctx.guest = &guest;
        }
        r = gp_lint_buffer(&ctx, argv[a], t, buf, len, &findings);
        if (r < 0)
            return gp_cli_error("out of memory");
        linted++;
    }
    if (linted == 0)
        return GP_EXIT_ERROR;

    r = gp_cli_findings_output(cli, &findings, quiet, json);
    return unreadable ? GP_EXIT_ERROR : r;
}
