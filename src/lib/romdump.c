/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "romdump.h"
#include "txn.h"

/* pci_write_rom(): off == 0, count == 2 and buf[0] == '0' turns reads off;
 * anything else turns them on. So "0" without the newline would enable. */
static const char ROM_ON[2] = { '1', '\n' };
static const char ROM_OFF[2] = { '0', '\n' };

static int rom_switch(int fd, const char *v, const char *point)
{
    ssize_t n;
    int r = gp_fault_point(point);

    if (r < 0)
        return r;
    do
        n = pwrite(fd, v, 2, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gp_negerrno();
    return n == 2 ? 0 : -EIO;
}

/* Reads from offset 0 to the end the kernel reports: pci_read_rom() stops
 * at the size of the image chain (pci_get_rom_size()), not at the BAR's. */
static int rom_read_all(int fd, uint8_t **ret, size_t *ret_len)
{
    _cleanup_free_ uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int r = gp_fault_point("rom.read");

    if (r < 0)
        return r;
    for (;;) {
        ssize_t n;

        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 64 * 1024;
            uint8_t *nb;

            if (cap >= GP_ROM_DUMP_MAX)
                return -EFBIG;
            if (ncap > GP_ROM_DUMP_MAX)
                ncap = GP_ROM_DUMP_MAX;
            nb = realloc(buf, ncap);
            if (!nb)
                return -ENOMEM;
            buf = nb;
            cap = ncap;
        }
        n = pread(fd, buf + len, cap - len, (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gp_negerrno();
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *ret = TAKE_PTR(buf);
    *ret_len = len;
    return 0;
}

int gp_rom_dump(const gp_host *h, const gp_pci_dev *dev, bool force, uint8_t **ret, size_t *ret_len,
                gp_error *err)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_close_ int fd = -EBADF;
    char shown[96];
    sigset_t block, old;
    int r, r_off;

    if (asprintf(&path, "%s/rom", dev->path) < 0)
        return -ENOMEM;
    /* Messages name the file as the admin knows it. */
    snprintf(shown, sizeof(shown), "/sys/bus/pci/devices/%s/rom", dev->name);
    if (gp_host_is_archive(h))
        return gp_error_set(err, -EROFS, "%s is a snapshot archive: a ROM can only be read on the host itself "
                            "(run gpupass rom dump there)", gp_host_source(h));
    if (!gp_host_exists(h, path))
        return gp_error_set(err, -ENOENT, "%s has no option ROM: the kernel lists no %s (no ROM BAR); a GPU "
                            "that needs a ROM for passthrough needs one from a file", dev->name, shown);
    /* arch/x86/pci/fixup.c gives the boot VGA device a fixed ROM resource
     * at 0xC0000 ("Video device with shadowed ROM" in the kernel log): the
     * image the system firmware copied there and ran, which POST may have
     * changed, and which on a UEFI boot without CSM may be missing. */
    if (dev->boot_vga == 1 && !force)
        return gp_error_set(err, -EBUSY, "%s is the boot VGA device: its rom file gives the shadow copy the "
                            "firmware left at 0xC0000, not the card's ROM. Dump it while another GPU is primary "
                            "(firmware setting) or with the card in a second slot, or pass --force to take the "
                            "shadow copy anyway", dev->name);
    fd = gp_host_open_attr_rw(h, path);
    if (fd < 0)
        return gp_error_set(err, fd, "cannot open %s for reading and writing: %s%s", shown, strerror(-fd),
                            fd == -EACCES || fd == -EPERM ? " (run as root)" : "");

    /* Synchronous faults stay deliverable; everything a user or an init
     * system sends waits until the switch is off. SIGKILL cannot wait. */
    sigfillset(&block);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    sigdelset(&block, SIGTRAP);
    sigdelset(&block, SIGABRT);
    sigdelset(&block, SIGSYS);
    if (sigprocmask(SIG_BLOCK, &block, &old) < 0)
        return gp_error_set(err, gp_negerrno(), "cannot block signals around the ROM read: %s", strerror(errno));

    r = rom_switch(fd, ROM_ON, "rom.enable");
    if (r >= 0)
        r = rom_read_all(fd, ret, ret_len);
    /* Also after a failed enable: the write may have reached the kernel. */
    r_off = rom_switch(fd, ROM_OFF, "rom.disable");
    sigprocmask(SIG_SETMASK, &old, NULL);

    if (r_off < 0) {
        if (r >= 0) {
            free(*ret);
            *ret = NULL;
        }
        return gp_error_set(err, -ENOTRECOVERABLE, "%s: reading the ROM was left switched on (%s); switch it off "
                            "with: echo 0 > %s", shown, strerror(-r_off), shown);
    }
    if (r == -EFBIG)
        return gp_error_set(err, r, "%s: more than %u MiB, not an option ROM", shown, GP_ROM_DUMP_MAX >> 20);
    if (r == -EIO)
        return gp_error_set(err, r, "%s: the kernel could not read the ROM (I/O error): the BAR does not start "
                            "with 0x55AA (see \"Invalid PCI ROM header signature\" in dmesg), or the card is "
                            "powered down or held by its driver; bind it to vfio-pci (gpupass bind %s) and "
                            "retry", shown, dev->name);
    if (r < 0)
        return gp_error_set(err, r, "%s: reading the ROM failed: %s", shown, strerror(-r));
    return 0;
}
