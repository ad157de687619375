/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the option ROM parser and its verdicts: any bytes go
 * through gp_rom_parse and gp_rom_judge, and what the parse reports must
 * stay within the buffer. Seeds (tests/fuzz/seeds/rom/): small images
 * built as the PCI Firmware Spec lays them out (legacy only, legacy + EFI
 * x64, a vendor header before an EFI AArch64 image, a chain without a last
 * image, a chain cut in its second image); the tokens are the signatures
 * and machine types the parser looks for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "rom.h"

#define FUZZ_NAME "rom"
#define FUZZ_TOKENS "\x55\xAA", "PCIR", "\xF1\x0E", "\x64\x86", "\x64\xAA", "\x80", "\x00\x00", "\xFF"
#define FUZZ_MUTATIONS 1000
#include "fuzz-main.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gp_pci_dev dev = { .vendor_id = 0x10de, .device_id = 0x2204 };
    gp_findings fs = { 0 };
    gp_rom rom;

    if (gp_rom_parse(data, size, &rom) < 0)
        abort();
    /* Every fact must point inside the bytes given. */
    if (rom.size != size || rom.n_images > 16 || rom.header > size || rom.used > size - rom.header ||
        rom.trailing > size || (rom.header && rom.header >= 64 * 1024))
        abort();
    for (size_t i = 0; i < rom.n_images; i++) {
        const gp_rom_image *im = &rom.images[i];

        if (im->offset >= size || (!im->truncated && im->length > size - im->offset) ||
            (i && im->offset <= rom.images[i - 1].offset))
            abort();
    }
    if (gp_rom_judge(&rom, "fuzz.rom", size & 1 ? &dev : NULL, &fs) < 0)
        abort();
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
    return 0;
}
