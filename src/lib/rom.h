/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI option ROMs (PCI Firmware Spec 3.x, "PCI Expansion ROM"; UEFI spec
 * "PCI Option ROMs"): the chain of images a GPU's ROM holds, each with its
 * 0x55AA header, PCI Data Structure ("PCIR"), code type and, for EFI
 * images, subsystem, machine type and compression. The parser takes
 * untrusted bytes: every offset and length is bounded. Facts only; the
 * verdicts are findings built on them (gp_rom_judge).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "finding.h"
#include "host.h"
#include "pci.h"

/* Code types of the PCI Data Structure. */
enum {
    GP_ROM_CODE_X86 = 0x00,      /* PC-AT compatible (legacy BIOS, VGA BIOS) */
    GP_ROM_CODE_OPENFW = 0x01,   /* IEEE 1275 Open Firmware */
    GP_ROM_CODE_HPPA = 0x02,     /* HP PA-RISC */
    GP_ROM_CODE_EFI = 0x03,      /* UEFI (GOP driver for a GPU) */
};

typedef struct gp_rom_image {
    size_t offset;               /* where the 0x55AA header is, in the file */
    size_t length;               /* image length (PCIR length * 512) */
    uint16_t vendor_id, device_id;
    uint32_t class_code;         /* 24 bits */
    uint8_t code_type;
    bool last;                   /* the PCIR last-image indicator */
    bool truncated;              /* the image runs past the end of the file */
    /* x86 images: the byte sum of the image must be 0 (PCI Firmware Spec). */
    bool checksum_ok;
    /* EFI images (code type 3). */
    uint16_t efi_subsystem;      /* 10 boot service driver, 11 runtime driver, ... */
    uint16_t efi_machine;        /* 0x8664 x64, 0xAA64 AArch64, 0x0EBC EBC, 0x014C IA32 */
    bool efi_compressed;
} gp_rom_image;

typedef struct gp_rom {
    size_t size;                 /* bytes given */
    size_t header;               /* bytes before the first 0x55AA (a vendor header), 0 when none */
    gp_rom_image *images;
    size_t n_images;
    size_t used;                 /* bytes the chain covers, from header on */
    size_t trailing;             /* bytes after the last image that are not all 0x00 or all 0xFF padding */
    bool all_zero, all_ff;       /* the whole buffer is 0x00 / 0xFF: a failed dump */
    bool chain_broken;           /* an image after the first lacks its 0x55AA or PCIR, or loops */
} gp_rom;

/*
 * Parses len bytes. Never fails on malformed input (that is described in
 * the result); -ENOMEM only. A vendor header is recognized when the first
 * 0x55AA with a valid PCIR pointer to "PCIR" lies within the first 64 KiB.
 */
int gp_rom_parse(const uint8_t *buf, size_t len, gp_rom *ret);
void gp_rom_clear(gp_rom *r);

/* "x86 BIOS", "Open Firmware", "HP PA-RISC", "EFI", "unknown (0x..)". */
const char *gp_rom_code_type_to_string(uint8_t t, char *buf, size_t size);
/* "x64", "AArch64", "EBC", "IA32", or "0x...." */
const char *gp_rom_efi_machine_to_string(uint16_t m, char *buf, size_t size);

/*
 * Verdict findings for a ROM (label: the file or device shown in evidence;
 * dev: the GPU it is meant for, NULL when unknown): rom.ovmf-ok (an x64 EFI
 * image), rom.legacy-only, rom.ids-mismatch, rom.truncated, rom.empty
 * (all zeros / all 0xFF / no image), rom.vendor-header (with the --strip
 * fix), rom.checksum, rom.trailing. Returns 0 or -ENOMEM.
 */
int gp_rom_judge(const gp_rom *rom, const char *label, const gp_pci_dev *dev, gp_findings *out);
