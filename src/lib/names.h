/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Vendor, device and class names from pci.ids, through libpci. */
#pragma once

#include <stdint.h>

#include "host.h"

typedef struct gp_names gp_names;

/* Uses the root's usr/share/misc/pci.ids (or usr/share/hwdata/pci.ids) when
 * the root has one, else the system's. Never fails for a missing file: names
 * are then NULL and callers print IDs. */
gp_names *gp_names_new(const gp_host *h);
void gp_names_free(gp_names *n);
static inline void gp_names_freep(gp_names **n) { if (*n) gp_names_free(*n); }
#define _cleanup_names_ _cleanup_(gp_names_freep)

/* Borrowed strings, valid until the next call on the same gp_names; NULL when
 * pci.ids does not know the ID. */
const char *gp_names_vendor(gp_names *n, uint16_t vendor);
const char *gp_names_device(gp_names *n, uint16_t vendor, uint16_t device);
const char *gp_names_subsystem(gp_names *n, uint16_t vendor, uint16_t device, uint16_t sv, uint16_t sd);
const char *gp_names_class(gp_names *n, uint32_t class_code);
/* The pci.ids file in use (absolute path). */
const char *gp_names_file(const gp_names *n);
