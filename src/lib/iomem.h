/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What /proc/iomem says about a device's memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"

/*
 * A framebuffer the firmware set up (efifb/vesafb, or since 5.15 sysfb's
 * simple-framebuffer/simpledrm, shown as BOOTFB) inside one of the device's
 * memory BARs keeps vfio-pci from reserving that BAR ("BAR N: can't
 * reserve"). True with the BAR index and the resource name when one does.
 * iomem is the text of /proc/iomem (NULL: nothing matches); read without
 * root it shows zero addresses, and then nothing matches either.
 */
bool gp_iomem_framebuffer_in(const char *iomem, const gp_pci_dev *d, int *ret_bar, char *ret_name, size_t name_len);
