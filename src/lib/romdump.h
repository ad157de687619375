/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a device's option ROM through sysfs, the way `echo 1 > rom;
 * cat rom; echo 0 > rom` does, but with the switch put back on every path.
 *
 * The kernel's `rom` attribute (drivers/pci/pci-sysfs.c) refuses reads
 * with EINVAL until something is written to it; a write of exactly "0\n" at
 * offset 0 turns it off again, any other write turns it on. While it is on,
 * every read maps the ROM BAR and enables its decoding, so the switch must
 * not be left on. gpupass writes "1\n", reads, and writes "0\n" through one
 * file description with the terminating signals blocked, so a Ctrl-C or a
 * SIGTERM during the read takes effect after the switch is off.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "host.h"
#include "pci.h"

/* The largest ROM BAR gpupass reads (GPU ROM BARs are at most a few MiB). */
#define GP_ROM_DUMP_MAX (64u * 1024u * 1024u)

/*
 * Reads the option ROM of dev. The boot VGA device is refused (-EBUSY)
 * unless force: on x86 its `rom` attribute gives the legacy shadow copy at
 * 0xC0000, which firmware may have modified or left empty, not the card's
 * ROM. Returns 0 with the bytes (free()), or a negative errno with err
 * saying why: -ENOENT no `rom` attribute (no ROM BAR), -EROFS a snapshot
 * archive, -EBUSY the boot VGA, the kernel's error for the read (EIO: it
 * found no 0x55AA at the start of the BAR, or the card is powered down).
 * -ENOTRECOVERABLE: the switch could not be turned off again (err gives the
 * command that does it).
 */
int gp_rom_dump(const gp_host *h, const gp_pci_dev *dev, bool force, uint8_t **ret, size_t *ret_len,
                gp_error *err);
