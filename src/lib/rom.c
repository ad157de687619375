/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rom.h"

/* PCI Firmware Spec 3.x: an image's ROM header. */
#define ROM_SIG0 0x55
#define ROM_SIG1 0xAA
#define ROM_PCIR_PTR 0x18          /* 16-bit offset of the PCI Data Structure */
#define ROM_BLOCK 512              /* lengths count 512-byte units */
/* PCI Data Structure fields, from "PCIR". */
#define PCIR_VENDOR 0x04
#define PCIR_DEVICE 0x06
#define PCIR_CLASS 0x0D            /* 3 bytes, prog-if first */
#define PCIR_LENGTH 0x10           /* image length, 512-byte units */
#define PCIR_CODE_TYPE 0x14
#define PCIR_INDICATOR 0x15        /* bit 7: last image */
#define PCIR_MIN 24                /* the 3.0 structure's size: what we read must lie in it */
/* UEFI "PCI Option ROMs": the EFI image's ROM header. */
#define EFI_SIGNATURE_OFF 0x04
#define EFI_SIGNATURE 0x0EF1
#define EFI_SUBSYSTEM 0x08
#define EFI_MACHINE 0x0A
#define EFI_COMPRESSION 0x0C
#define EFI_MACHINE_X64 0x8664

/* The PCI Firmware Spec places no limit on images; real GPU ROMs hold two
 * or three. 16 bounds a chain a crafted file could make arbitrarily long. */
#define MAX_IMAGES 16
/* Vendor tools (nvflash, GPU-Z) prepend headers of a few hundred bytes to
 * a few KiB; searching further would mostly find stray bytes. */
#define HEADER_SEARCH (64 * 1024)

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* An image starts at off: 0x55AA, and a PCIR pointer to "PCIR" whose
 * fields lie within the buffer. Returns the PCIR offset, or 0. */
static size_t image_at(const uint8_t *buf, size_t len, size_t off)
{
    size_t pcir;

    if (off >= len || len - off < ROM_PCIR_PTR + 2)
        return 0;
    if (buf[off] != ROM_SIG0 || buf[off + 1] != ROM_SIG1)
        return 0;
    pcir = off + le16(buf + off + ROM_PCIR_PTR);
    if (pcir > len || len - pcir < PCIR_MIN || memcmp(buf + pcir, "PCIR", 4) != 0)
        return 0;
    return pcir;
}

static void parse_image(const uint8_t *buf, size_t len, size_t off, size_t pcir, gp_rom_image *im)
{
    const uint8_t *p = buf + pcir, *h = buf + off;

    *im = (gp_rom_image){
        .offset = off,
        .length = (size_t)le16(p + PCIR_LENGTH) * ROM_BLOCK,
        .vendor_id = le16(p + PCIR_VENDOR),
        .device_id = le16(p + PCIR_DEVICE),
        /* prog-if first: the 24-bit value reads as class << 16 | subclass << 8 | prog-if */
        .class_code = (uint32_t)p[PCIR_CLASS] | (uint32_t)p[PCIR_CLASS + 1] << 8 |
                      (uint32_t)p[PCIR_CLASS + 2] << 16,
        .code_type = p[PCIR_CODE_TYPE],
        .last = p[PCIR_INDICATOR] & 0x80,
        .checksum_ok = true,   /* only x86 images define one */
    };
    im->truncated = im->length > len - off;
    if (im->code_type == GP_ROM_CODE_X86) {
        /* The checksum covers the header's byte-2 length (the length the
         * BIOS copies into shadow RAM); a 0 there falls back to the PCIR's. */
        size_t n = h[2] ? (size_t)h[2] * ROM_BLOCK : im->length;
        uint8_t sum = 0;

        if (n > len - off)
            n = len - off;
        for (size_t i = 0; i < n; i++)
            sum = (uint8_t)(sum + h[i]);
        im->checksum_ok = sum == 0;
    } else if (im->code_type == GP_ROM_CODE_EFI && le16(h + EFI_SIGNATURE_OFF) == EFI_SIGNATURE) {
        /* image_at() guarantees 0x1A bytes of header, past these fields */
        im->efi_subsystem = le16(h + EFI_SUBSYSTEM);
        im->efi_machine = le16(h + EFI_MACHINE);
        im->efi_compressed = le16(h + EFI_COMPRESSION) == 1;
    }
}

int gp_rom_parse(const uint8_t *buf, size_t len, gp_rom *ret)
{
    size_t off, end, pcir, limit;
    bool zero = true, ff = true;

    *ret = (gp_rom){ .size = len };
    for (size_t i = 0; i < len && (zero || ff); i++) {
        zero = zero && buf[i] == 0x00;
        ff = ff && buf[i] == 0xFF;
    }
    ret->all_zero = len > 0 && zero;
    ret->all_ff = len > 0 && ff;
    if (len == 0 || zero || ff)
        return 0;

    pcir = image_at(buf, len, 0);
    limit = len < HEADER_SEARCH ? len : HEADER_SEARCH;
    for (off = 1; !pcir && off < limit; off++)
        if (buf[off] == ROM_SIG0 && (pcir = image_at(buf, len, off)))
            ret->header = off;
    if (!pcir)
        return 0;

    ret->images = calloc(MAX_IMAGES, sizeof(*ret->images));
    if (!ret->images)
        return -ENOMEM;
    off = ret->header;
    end = off;
    for (;;) {
        gp_rom_image *im;

        if (ret->n_images == MAX_IMAGES) {
            /* More images than any ROM holds and still no last-image
             * indicator: a chain that loops, or garbage read as one. */
            ret->chain_broken = true;
            break;
        }
        pcir = image_at(buf, len, off);
        if (!pcir) {
            ret->chain_broken = ret->n_images > 0;
            break;
        }
        im = &ret->images[ret->n_images++];
        parse_image(buf, len, off, pcir, im);
        end = im->truncated ? len : off + im->length;
        if (im->last)
            break;
        if (im->length == 0) {
            /* the next image would start where this one does */
            ret->chain_broken = true;
            break;
        }
        off += im->length;
        if (off >= len)
            break;
    }
    ret->used = end - ret->header;

    if (end < len) {
        bool tzero = true, tff = true;

        for (size_t i = end; i < len && (tzero || tff); i++) {
            tzero = tzero && buf[i] == 0x00;
            tff = tff && buf[i] == 0xFF;
        }
        if (!tzero && !tff)
            ret->trailing = len - end;
    }
    return 0;
}

void gp_rom_clear(gp_rom *r)
{
    if (!r)
        return;
    free(r->images);
    *r = (gp_rom){ 0 };
}

const char *gp_rom_code_type_to_string(uint8_t t, char *buf, size_t size)
{
    switch (t) {
    case GP_ROM_CODE_X86:
        return "x86 BIOS";
    case GP_ROM_CODE_OPENFW:
        return "Open Firmware";
    case GP_ROM_CODE_HPPA:
        return "HP PA-RISC";
    case GP_ROM_CODE_EFI:
        return "EFI";
    }
    snprintf(buf, size, "unknown (0x%02x)", t);
    return buf;
}

const char *gp_rom_efi_machine_to_string(uint16_t m, char *buf, size_t size)
{
    switch (m) {
    case 0x8664:
        return "x64";
    case 0xAA64:
        return "AArch64";
    case 0x0EBC:
        return "EBC";
    case 0x014C:
        return "IA32";
    }
    snprintf(buf, size, "0x%04x", m);
    return buf;
}

/* "image 1 at 0xe800: EFI x64 10de:2204, 65536 bytes" */
static void describe(const gp_rom_image *im, size_t i, char *buf, size_t size)
{
    char t[32], m[16];

    snprintf(buf, size, "image %zu at 0x%zx: %s%s%s %04x:%04x, %zu bytes%s", i, im->offset,
             gp_rom_code_type_to_string(im->code_type, t, sizeof(t)),
             im->code_type == GP_ROM_CODE_EFI ? " " : "",
             im->code_type == GP_ROM_CODE_EFI ? gp_rom_efi_machine_to_string(im->efi_machine, m, sizeof(m)) : "",
             im->vendor_id, im->device_id, im->length, im->last ? " (last)" : "");
}

static void add_image(gp_findings *out, gp_finding *f, const char *label, const gp_rom_image *im, size_t i)
{
    char text[160];

    describe(im, i, text, sizeof(text));
    gp_finding_add_line(out, f, label, 0, text);
}

int gp_rom_judge(const gp_rom *rom, const char *label, const gp_pci_dev *dev, gp_findings *out)
{
    char layer[256], kinds[256] = "";
    const gp_rom_image *x64 = NULL;
    gp_finding *f;

    if (!label)
        label = "ROM";
    snprintf(layer, sizeof(layer), "ROM %s", label);

    if (rom->n_images == 0) {
        f = gp_findings_add(out, layer, "rom.empty", GP_SEV_FAIL, "ROM image",
                            rom->size == 0 ? "the ROM is empty (0 bytes)"
                            : rom->all_zero ? "the ROM is all 0x00 (%zu bytes)"
                            : rom->all_ff ? "the ROM is all 0xFF (%zu bytes)"
                                          : "no 0x55AA image with a PCI Data Structure in %zu bytes",
                            rom->size);
        gp_finding_add_line(out, f, label, 0, NULL);
        gp_finding_set_fix(out, f, "a failed dump: the card's ROM was not readable; dump it with the card not "
                                   "in use, or from a second host");
        return gp_findings_status(out);
    }

    for (size_t i = 0; i < rom->n_images; i++) {
        const gp_rom_image *im = &rom->images[i];

        if (im->truncated) {
            f = gp_findings_add(out, layer, "rom.truncated", GP_SEV_FAIL, "ROM image",
                                "image %zu needs %zu bytes from 0x%zx, the file ends after %zu", i, im->length,
                                im->offset, rom->size - im->offset);
            add_image(out, f, label, im, i);
            gp_finding_set_fix(out, f, "dump the whole ROM again; a cut dump does not initialize the card");
        }
        if (!im->truncated && !im->checksum_ok) {
            /* PCI Firmware Spec: an x86 image's bytes sum to 0 mod 256 */
            f = gp_findings_add(out, layer, "rom.checksum", GP_SEV_WARN, "ROM checksum",
                                "image %zu (x86) does not sum to 0 mod 256: a corrupted or edited dump", i);
            add_image(out, f, label, im, i);
            gp_finding_set_fix(out, f, "dump the ROM again; an edited ROM needs its checksum byte fixed");
        }
        if (!x64 && im->code_type == GP_ROM_CODE_EFI && im->efi_machine == EFI_MACHINE_X64)
            x64 = im;
    }

    if (dev && (rom->images[0].vendor_id != dev->vendor_id || rom->images[0].device_id != dev->device_id)) {
        f = gp_findings_add(out, layer, "rom.ids-mismatch", GP_SEV_FAIL, "ROM IDs",
                            "the ROM is for %04x:%04x, the GPU is %04x:%04x", rom->images[0].vendor_id,
                            rom->images[0].device_id, dev->vendor_id, dev->device_id);
        add_image(out, f, label, &rom->images[0], 0);
        gp_finding_add_device(out, f, dev->name);
        gp_finding_set_fix(out, f, "use a ROM dumped from this card, or one for the same vendor:device");
    }

    if (x64) {
        f = gp_findings_add(out, layer, "rom.ovmf-ok", GP_SEV_PASS, "UEFI (OVMF)",
                            "an x64 EFI image (GOP) is present%s", x64->efi_compressed ? ", compressed" : "");
        add_image(out, f, label, x64, (size_t)(x64 - rom->images));
    } else {
        for (size_t i = 0; i < rom->n_images; i++) {
            char t[32], m[16], *p = kinds + strlen(kinds);
            const gp_rom_image *im = &rom->images[i];

            snprintf(p, sizeof(kinds) - (size_t)(p - kinds), "%s%s%s%s", i ? ", " : "",
                     gp_rom_code_type_to_string(im->code_type, t, sizeof(t)),
                     im->code_type == GP_ROM_CODE_EFI ? " " : "",
                     im->code_type == GP_ROM_CODE_EFI ? gp_rom_efi_machine_to_string(im->efi_machine, m, sizeof(m))
                                                      : "");
        }
        /* OVMF runs only x64 (and EBC, which GPU vendors do not ship) option ROM drivers */
        f = gp_findings_add(out, layer, "rom.legacy-only", GP_SEV_WARN, "UEFI (OVMF)",
                            "no x64 EFI image: %s", kinds);
        gp_finding_add_line(out, f, label, 0, NULL);
        gp_finding_set_fix(out, f, "OVMF cannot initialize the card from this ROM: use bios: seabios, or get a "
                                   "UEFI ROM (GOP)");
    }

    if (rom->header > 0) {
        char text[64];

        f = gp_findings_add(out, layer, "rom.vendor-header", GP_SEV_WARN, "ROM layout",
                            "%zu bytes before the first 0x55AA image (a vendor tool's header): the guest "
                            "firmware looks for 0x55AA at offset 0",
                            rom->header);
        snprintf(text, sizeof(text), "first image at 0x%zx", rom->header);
        gp_finding_add_line(out, f, label, 0, text);
        gp_finding_set_fix(out, f, "gpupass rom info %s --strip -o clean.rom", label);
    }

    if (rom->chain_broken) {
        const gp_rom_image *im = &rom->images[rom->n_images - 1];

        f = gp_findings_add(out, layer, "rom.chain", GP_SEV_WARN, "ROM layout",
                            "the image chain breaks after image %zu: %s", rom->n_images - 1,
                            im->length == 0                ? "a zero image length without a last-image indicator"
                            : rom->n_images >= MAX_IMAGES ? "more than 16 images without a last-image indicator"
                                                          : "no 0x55AA image with a PCIR where the next should be");
        add_image(out, f, label, im, rom->n_images - 1);
    }

    if (rom->trailing > 0) {
        f = gp_findings_add(out, layer, "rom.trailing", GP_SEV_INFO, "ROM layout",
                            "%zu bytes after the last image that are not 0x00/0xFF padding", rom->trailing);
        gp_finding_add_line(out, f, label, 0, NULL);
    }
    return gp_findings_status(out);
}
