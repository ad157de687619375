/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the option ROM parser and its verdicts: any bytes go
 * through gp_rom_parse and gp_rom_judge, and what the parse reports must
 * stay within the buffer. With clang it builds as a libFuzzer target
 * (-DGP_LIBFUZZER -fsanitize=fuzzer); otherwise main() below replays a few
 * synthetic ROMs and seeded mutations of them, and reports in TAP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
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

#ifndef GP_LIBFUZZER
/* A minimal image (PCI Firmware Spec 3.x header and PCIR; UEFI ROM header
 * for code type 3), as in tests/unit/test-rom.c. */
static size_t put_image(uint8_t *buf, size_t off, uint8_t code, unsigned blocks, bool last, uint16_t machine)
{
    uint8_t *h = buf + off, *p = h + 0x1C;
    size_t n = (size_t)blocks * 512;
    uint8_t sum = 0;

    memset(h, 0, n);
    h[0] = 0x55;
    h[1] = 0xAA;
    h[2] = (uint8_t)blocks;
    h[0x18] = 0x1C;
    if (code == GP_ROM_CODE_EFI) {
        h[0x04] = 0xF1;
        h[0x05] = 0x0E;
        h[0x08] = 0x0B;
        h[0x0A] = (uint8_t)machine;
        h[0x0B] = (uint8_t)(machine >> 8);
    }
    memcpy(p, "PCIR", 4);
    p[0x04] = 0xde;
    p[0x05] = 0x10;
    p[0x06] = 0x04;
    p[0x07] = 0x22;
    p[0x0F] = 0x03;
    p[0x10] = (uint8_t)blocks;
    p[0x14] = code;
    p[0x15] = last ? 0x80 : 0;
    for (size_t i = 0; i + 1 < n; i++)
        sum = (uint8_t)(sum + h[i]);
    h[n - 1] = (uint8_t)-sum;
    return off + n;
}

int main(void)
{
    enum { MAX = 64 * 1024 };
    uint8_t *seed = malloc(MAX), *mut = malloc(MAX * 2);
    unsigned rng = 20261126, seeds = 0, runs = 0;

    if (!seed || !mut)
        return 1;
    for (int s = 0; s < 5; s++) {
        size_t n = 0;

        memset(seed, 0xFF, MAX);
        switch (s) {
        case 0: /* legacy only */
            n = put_image(seed, 0, GP_ROM_CODE_X86, 4, true, 0);
            break;
        case 1: /* legacy + EFI x64, padded */
            n = put_image(seed, 0, GP_ROM_CODE_X86, 4, false, 0);
            n = put_image(seed, n, GP_ROM_CODE_EFI, 4, true, 0x8664) + 512;
            break;
        case 2: /* vendor header, then EFI AArch64 */
            memset(seed, 0x11, 512);
            n = put_image(seed, 512, GP_ROM_CODE_EFI, 2, true, 0xAA64);
            break;
        case 3: /* a chain without a last image */
            for (int i = 0; i < 18; i++)
                n = put_image(seed, n, GP_ROM_CODE_X86, 1, false, 0);
            break;
        default: /* cut in the second image */
            n = put_image(seed, 0, GP_ROM_CODE_X86, 2, false, 0);
            n = put_image(seed, n, GP_ROM_CODE_EFI, 8, true, 0x8664) - 2048;
            break;
        }
        seeds++;
        LLVMFuzzerTestOneInput(seed, n);
        for (int k = 0; k < 1000; k++) {
            size_t len = n;

            memcpy(mut, seed, n);
            for (int j = 0; j < 1 + (int)(rand_r(&rng) % 8); j++) {
                size_t at = len ? (size_t)rand_r(&rng) % len : 0;

                switch (rand_r(&rng) % 5) {
                case 0: /* flip a byte */
                    if (len)
                        mut[at] = (uint8_t)rand_r(&rng);
                    break;
                case 1: /* cut */
                    len = at;
                    break;
                case 2: /* a length, pointer or indicator byte set to an edge value */
                    if (len) {
                        static const uint8_t edge[] = { 0x00, 0x01, 0x7F, 0x80, 0xFF, 0x55, 0xAA };

                        mut[at] = edge[rand_r(&rng) % sizeof(edge)];
                    }
                    break;
                case 3: /* plant a signature */
                    if (len >= 4) {
                        static const char *const bits[] = { "\x55\xAA", "PCIR", "\xF1\x0E", "\x64\x86" };
                        const char *b = bits[rand_r(&rng) % 4];
                        size_t bl = b[0] == 'P' ? 4 : 2;

                        if (at + bl <= len)
                            memcpy(mut + at, b, bl);
                    }
                    break;
                default: /* duplicate a stretch */
                    if (len && len * 2 <= (size_t)MAX * 2) {
                        size_t l = (size_t)rand_r(&rng) % (len - at + 1);

                        memmove(mut + at + l, mut + at, len - at);
                        len += l;
                    }
                    break;
                }
            }
            LLVMFuzzerTestOneInput(mut, len);
            runs++;
        }
    }
    printf("ok 1 - %u seed ROMs, %u mutations parsed and judged without a crash\n1..1\n", seeds, runs);
    free(seed);
    free(mut);
    return 0;
}
#endif
