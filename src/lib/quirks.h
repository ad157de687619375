/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Built-in knowledge about particular devices, as tables. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The AMD GPUs with the "reset bug": they do not come back cleanly after a
 * VM stops unless the out-of-tree vendor-reset module resets them. NULL when
 * the device is not one of them, else its family ("Navi 10"). */
const char *gp_quirk_amd_reset_family(uint16_t vendor, uint16_t device);
