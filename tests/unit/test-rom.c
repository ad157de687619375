/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The option ROM parser and its verdicts, on ROMs built in memory: legacy
 * only, legacy + EFI x64, EFI for another machine, a vendor header, cut,
 * wrong IDs, failed dumps (empty, all 0x00, all 0xFF), a looping chain, and
 * a 64 MB file of 0xFF that must not make the header search slow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "rom.h"

#define BLOCK 512

/* One image at buf + off, blocks * 512 bytes long (PCI Firmware Spec 3.x
 * header and PCIR; for EFI the UEFI ROM header). x86 images get a correct
 * checksum in their last byte. Returns the offset after the image. */
static size_t put_image(uint8_t *buf, size_t off, uint8_t code, uint16_t vendor, uint16_t device,
                        unsigned blocks, bool last, uint16_t machine)
{
    uint8_t *h = buf + off, *p = h + 0x1C;
    size_t n = (size_t)blocks * BLOCK;

    memset(h, 0, n ? n : 0x40);       /* a 0-length image still gets a clean header and PCIR */
    h[0] = 0x55;
    h[1] = 0xAA;
    h[2] = (uint8_t)blocks;
    h[0x18] = 0x1C;                   /* PCIR right after the header */
    if (code == GP_ROM_CODE_EFI) {
        h[0x04] = 0xF1;               /* EFI signature 0x0EF1 */
        h[0x05] = 0x0E;
        h[0x08] = 0x0B;               /* boot service driver */
        h[0x0A] = (uint8_t)machine;
        h[0x0B] = (uint8_t)(machine >> 8);
        h[0x0C] = 1;                  /* compressed */
        h[0x16] = 0x40;
    }
    memcpy(p, "PCIR", 4);
    p[0x04] = (uint8_t)vendor;
    p[0x05] = (uint8_t)(vendor >> 8);
    p[0x06] = (uint8_t)device;
    p[0x07] = (uint8_t)(device >> 8);
    p[0x0A] = 0x18;
    p[0x0D] = 0x00;                   /* prog-if */
    p[0x0E] = 0x00;                   /* subclass: VGA */
    p[0x0F] = 0x03;                   /* class: display */
    p[0x10] = (uint8_t)blocks;
    p[0x11] = (uint8_t)(blocks >> 8);
    p[0x14] = code;
    p[0x15] = last ? 0x80 : 0x00;
    if (code == GP_ROM_CODE_X86 && n) {
        uint8_t sum = 0;

        h[0x60] = 0xCB;               /* some code, so the sum is not trivially 0 */
        for (size_t i = 0; i < n - 1; i++)
            sum = (uint8_t)(sum + h[i]);
        h[n - 1] = (uint8_t)-sum;
    }
    return off + n;
}

static gp_pci_dev gpu(uint16_t vendor, uint16_t device)
{
    gp_pci_dev d = { .vendor_id = vendor, .device_id = device, .class_code = 0x030000 };

    snprintf(d.name, sizeof(d.name), "0000:01:00.0");
    return d;
}

/* Parses and judges; the findings land in *fs, the parse in *rom. */
static void run(const uint8_t *buf, size_t len, const gp_pci_dev *dev, gp_rom *rom, gp_findings *fs)
{
    *fs = (gp_findings){ 0 };
    assert_int_equal(gp_rom_parse(buf, len, rom), 0);
    assert_int_equal(gp_rom_judge(rom, "card.rom", dev, fs), 0);
}

static gp_severity sev_of(const gp_findings *fs, const char *id)
{
    const gp_finding *f = gp_findings_find(fs, id);

    assert_non_null(f);
    return f->severity;
}

static void test_legacy_only(void **state)
{
    uint8_t buf[8 * BLOCK];
    gp_pci_dev d = gpu(0x10de, 0x1b80);
    gp_findings fs;
    gp_rom rom;
    size_t end;

    memset(buf, 0xFF, sizeof(buf));
    end = put_image(buf, 0, GP_ROM_CODE_X86, 0x10de, 0x1b80, 4, true, 0);
    run(buf, sizeof(buf), &d, &rom, &fs);
    assert_int_equal(rom.n_images, 1);
    assert_int_equal(rom.header, 0);
    assert_int_equal(rom.images[0].offset, 0);
    assert_int_equal(rom.images[0].length, end);
    assert_int_equal(rom.images[0].vendor_id, 0x10de);
    assert_int_equal(rom.images[0].device_id, 0x1b80);
    assert_int_equal(rom.images[0].class_code, 0x030000);
    assert_int_equal(rom.images[0].code_type, GP_ROM_CODE_X86);
    assert_true(rom.images[0].last);
    assert_false(rom.images[0].truncated);
    assert_true(rom.images[0].checksum_ok);
    assert_int_equal(rom.used, end);
    assert_int_equal(rom.trailing, 0);    /* 0xFF padding */
    assert_false(rom.chain_broken);
    assert_int_equal(sev_of(&fs, "rom.legacy-only"), GP_SEV_WARN);
    assert_non_null(strstr(gp_findings_find(&fs, "rom.legacy-only")->fix, "seabios"));
    assert_string_equal(gp_findings_find(&fs, "rom.legacy-only")->layer, "ROM card.rom");
    assert_null(gp_findings_find(&fs, "rom.ovmf-ok"));
    assert_null(gp_findings_find(&fs, "rom.checksum"));
    assert_null(gp_findings_find(&fs, "rom.ids-mismatch"));
    assert_null(gp_findings_find(&fs, "rom.trailing"));
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* one changed byte breaks the checksum */
    buf[0x100] ^= 0x5A;
    run(buf, sizeof(buf), NULL, &rom, &fs);
    assert_false(rom.images[0].checksum_ok);
    assert_int_equal(sev_of(&fs, "rom.checksum"), GP_SEV_WARN);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_legacy_and_efi(void **state)
{
    uint8_t buf[16 * BLOCK];
    gp_pci_dev d = gpu(0x1002, 0x73bf);
    gp_findings fs;
    gp_rom rom;
    size_t off;

    memset(buf, 0x00, sizeof(buf));
    off = put_image(buf, 0, GP_ROM_CODE_X86, 0x1002, 0x73bf, 4, false, 0);
    off = put_image(buf, off, GP_ROM_CODE_EFI, 0x1002, 0x73bf, 6, true, 0x8664);
    run(buf, sizeof(buf), &d, &rom, &fs);
    assert_int_equal(rom.n_images, 2);
    assert_false(rom.images[0].last);
    assert_int_equal(rom.images[1].offset, 4 * BLOCK);
    assert_int_equal(rom.images[1].length, 6 * BLOCK);
    assert_int_equal(rom.images[1].code_type, GP_ROM_CODE_EFI);
    assert_int_equal(rom.images[1].efi_machine, 0x8664);
    assert_int_equal(rom.images[1].efi_subsystem, 0x0B);
    assert_true(rom.images[1].efi_compressed);
    assert_true(rom.images[1].checksum_ok);
    assert_true(rom.images[1].last);
    assert_int_equal(rom.used, off);
    assert_int_equal(rom.trailing, 0);
    assert_int_equal(sev_of(&fs, "rom.ovmf-ok"), GP_SEV_PASS);
    assert_null(gp_findings_find(&fs, "rom.legacy-only"));
    assert_null(gp_findings_find(&fs, "rom.ids-mismatch"));
    assert_null(gp_findings_find(&fs, "rom.chain"));
    assert_int_equal(gp_findings_worst(&fs), GP_SEV_PASS);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* something after the chain that is not padding */
    memcpy(buf + off + 7, "NVGI", 4);
    run(buf, sizeof(buf), &d, &rom, &fs);
    assert_int_equal(rom.trailing, sizeof(buf) - off);
    assert_int_equal(sev_of(&fs, "rom.trailing"), GP_SEV_INFO);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_efi_other_machine(void **state)
{
    uint8_t buf[4 * BLOCK];
    gp_findings fs;
    gp_rom rom;

    put_image(buf, 0, GP_ROM_CODE_EFI, 0x10de, 0x2204, 4, true, 0xAA64);
    run(buf, sizeof(buf), NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 1);
    assert_int_equal(rom.images[0].efi_machine, 0xAA64);
    assert_true(rom.images[0].checksum_ok);
    /* OVMF on x86 cannot run an AArch64 driver */
    assert_int_equal(sev_of(&fs, "rom.legacy-only"), GP_SEV_WARN);
    assert_non_null(strstr(gp_findings_find(&fs, "rom.legacy-only")->title, "AArch64"));
    assert_null(gp_findings_find(&fs, "rom.ovmf-ok"));
    assert_null(gp_findings_find(&fs, "rom.checksum"));
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_vendor_header(void **state)
{
    uint8_t buf[BLOCK + 8 * BLOCK];
    gp_findings fs;
    gp_rom rom;
    size_t off;

    for (size_t i = 0; i < BLOCK; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    buf[100] = 0x55;                  /* a 0x55AA without a PCIR is no image */
    buf[101] = 0xAA;
    off = put_image(buf, BLOCK, GP_ROM_CODE_X86, 0x10de, 0x2204, 2, false, 0);
    off = put_image(buf, off, GP_ROM_CODE_EFI, 0x10de, 0x2204, 6, true, 0x8664);
    run(buf, off, NULL, &rom, &fs);
    assert_int_equal(rom.header, BLOCK);
    assert_int_equal(rom.n_images, 2);
    assert_int_equal(rom.images[0].offset, BLOCK);
    assert_int_equal(rom.used, off - BLOCK);
    assert_int_equal(sev_of(&fs, "rom.vendor-header"), GP_SEV_WARN);
    assert_string_equal(gp_findings_find(&fs, "rom.vendor-header")->fix,
                        "gpupass rom info card.rom --strip -o clean.rom");
    assert_int_equal(sev_of(&fs, "rom.ovmf-ok"), GP_SEV_PASS);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_truncated(void **state)
{
    uint8_t buf[8 * BLOCK];
    gp_findings fs;
    gp_rom rom;
    size_t off;

    off = put_image(buf, 0, GP_ROM_CODE_X86, 0x10de, 0x2204, 2, false, 0);
    put_image(buf, off, GP_ROM_CODE_EFI, 0x10de, 0x2204, 6, true, 0x8664);
    run(buf, off + 3 * BLOCK, NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 2);
    assert_false(rom.images[0].truncated);
    assert_true(rom.images[1].truncated);
    assert_int_equal(rom.used, off + 3 * BLOCK);
    assert_int_equal(sev_of(&fs, "rom.truncated"), GP_SEV_FAIL);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* an x86 image cut short: truncated, not also a checksum warning */
    run(buf, BLOCK, NULL, &rom, &fs);
    assert_true(rom.images[0].truncated);
    assert_int_equal(sev_of(&fs, "rom.truncated"), GP_SEV_FAIL);
    assert_null(gp_findings_find(&fs, "rom.checksum"));
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_ids_mismatch(void **state)
{
    uint8_t buf[4 * BLOCK];
    gp_pci_dev other = gpu(0x10de, 0x2204), same_vendor = gpu(0x1002, 0x73df);
    const gp_finding *f;
    gp_findings fs;
    gp_rom rom;

    put_image(buf, 0, GP_ROM_CODE_EFI, 0x1002, 0x73bf, 4, true, 0x8664);
    run(buf, sizeof(buf), &other, &rom, &fs);
    f = gp_findings_find(&fs, "rom.ids-mismatch");
    assert_non_null(f);
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_non_null(strstr(f->title, "1002:73bf"));
    assert_non_null(strstr(f->title, "10de:2204"));
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    run(buf, sizeof(buf), &same_vendor, &rom, &fs);
    assert_int_equal(sev_of(&fs, "rom.ids-mismatch"), GP_SEV_FAIL);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_failed_dumps(void **state)
{
    static const uint8_t fills[] = { 0x00, 0xFF };
    uint8_t buf[64 * 1024 + 100];
    gp_findings fs;
    gp_rom rom;

    for (size_t i = 0; i < sizeof(fills); i++) {
        memset(buf, fills[i], sizeof(buf));
        run(buf, sizeof(buf), NULL, &rom, &fs);
        assert_int_equal(rom.n_images, 0);
        assert_true(fills[i] ? rom.all_ff : rom.all_zero);
        assert_int_equal(sev_of(&fs, "rom.empty"), GP_SEV_FAIL);
        assert_non_null(strstr(gp_findings_find(&fs, "rom.empty")->fix, "a failed dump"));
        assert_int_equal(fs.n, 1);
        gp_findings_clear(&fs);
        gp_rom_clear(&rom);
    }

    /* 0 bytes */
    run(buf, 0, NULL, &rom, &fs);
    assert_int_equal(rom.size, 0);
    assert_int_equal(rom.n_images, 0);
    assert_false(rom.all_zero);
    assert_false(rom.all_ff);
    assert_int_equal(sev_of(&fs, "rom.empty"), GP_SEV_FAIL);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* bytes, but no image in them (the header search stops at 64 KiB) */
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 13 + 3) == 0x55 ? 0x56 : (uint8_t)(i * 13 + 3);
    put_image(buf, 64 * 1024 + 1 - 100, GP_ROM_CODE_X86, 1, 2, 0, true, 0);
    put_image(buf, 64 * 1024 + 1, GP_ROM_CODE_X86, 1, 2, 0, true, 0);
    run(buf, sizeof(buf), NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 1);        /* the first lies within 64 KiB */
    assert_int_equal(rom.header, 64 * 1024 + 1 - 100);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
    memset(buf + 64 * 1024 - 100, 0, 100);
    run(buf, sizeof(buf), NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 0);
    assert_false(rom.all_zero);
    assert_int_equal(sev_of(&fs, "rom.empty"), GP_SEV_FAIL);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_chain(void **state)
{
    uint8_t buf[24 * BLOCK];
    gp_findings fs;
    gp_rom rom;
    size_t off = 0;

    /* 20 images, none the last: the parser stops at 16 */
    for (int i = 0; i < 20; i++)
        off = put_image(buf, off, GP_ROM_CODE_X86, 0x10de, 0x2204, 1, false, 0);
    run(buf, off, NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 16);
    assert_true(rom.chain_broken);
    assert_int_equal(sev_of(&fs, "rom.chain"), GP_SEV_WARN);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* a zero length without the last-image indicator would loop in place */
    memset(buf, 0xFF, sizeof(buf));
    off = put_image(buf, 0, GP_ROM_CODE_X86, 0x10de, 0x2204, 2, false, 0);
    put_image(buf, off, GP_ROM_CODE_EFI, 0x10de, 0x2204, 2, false, 0x8664);
    buf[off + 0x1C + 0x10] = 0;
    run(buf, sizeof(buf), NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 2);
    assert_int_equal(rom.images[1].length, 0);
    assert_true(rom.chain_broken);
    assert_non_null(gp_findings_find(&fs, "rom.chain"));
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* the second image lost its PCIR */
    put_image(buf, off, GP_ROM_CODE_EFI, 0x10de, 0x2204, 2, true, 0x8664);
    buf[off + 0x1C] = 'X';
    run(buf, sizeof(buf), NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 1);
    assert_true(rom.chain_broken);
    assert_non_null(gp_findings_find(&fs, "rom.chain"));
    assert_int_equal(sev_of(&fs, "rom.legacy-only"), GP_SEV_WARN);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* a PCIR pointer past the end, and one whose structure would run past it */
    put_image(buf, 0, GP_ROM_CODE_X86, 0x10de, 0x2204, 1, true, 0);
    buf[0x18] = 0xF0;
    buf[0x19] = 0xFF;
    run(buf, BLOCK, NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 0);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
    buf[0x18] = (uint8_t)(BLOCK - 20);
    buf[0x19] = (uint8_t)((BLOCK - 20) >> 8);
    memcpy(buf + BLOCK - 20, "PCIR", 4);
    run(buf, BLOCK, NULL, &rom, &fs);
    assert_int_equal(rom.n_images, 0);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
}

static void test_huge_ff(void **state)
{
    size_t len = 64 * 1024 * 1024;
    uint8_t *buf = malloc(len);
    struct timespec a, b;
    gp_findings fs;
    gp_rom rom;
    double s;

    assert_non_null(buf);
    memset(buf, 0xFF, len);
    clock_gettime(CLOCK_MONOTONIC, &a);
    run(buf, len, NULL, &rom, &fs);
    clock_gettime(CLOCK_MONOTONIC, &b);
    s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_true(rom.all_ff);
    assert_int_equal(rom.n_images, 0);
    assert_non_null(gp_findings_find(&fs, "rom.empty"));
    assert_true(s < 1.0);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);

    /* one byte off 0xFF at the very end: no image, and still fast */
    buf[len - 1] = 0x55;
    clock_gettime(CLOCK_MONOTONIC, &a);
    run(buf, len, NULL, &rom, &fs);
    clock_gettime(CLOCK_MONOTONIC, &b);
    s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_false(rom.all_ff);
    assert_int_equal(rom.n_images, 0);
    assert_true(s < 1.0);
    gp_findings_clear(&fs);
    gp_rom_clear(&rom);
    free(buf);
}

static void test_strings(void **state)
{
    char buf[32];

    assert_string_equal(gp_rom_code_type_to_string(0, buf, sizeof(buf)), "x86 BIOS");
    assert_string_equal(gp_rom_code_type_to_string(1, buf, sizeof(buf)), "Open Firmware");
    assert_string_equal(gp_rom_code_type_to_string(2, buf, sizeof(buf)), "HP PA-RISC");
    assert_string_equal(gp_rom_code_type_to_string(3, buf, sizeof(buf)), "EFI");
    assert_string_equal(gp_rom_code_type_to_string(0x70, buf, sizeof(buf)), "unknown (0x70)");
    assert_string_equal(gp_rom_efi_machine_to_string(0x8664, buf, sizeof(buf)), "x64");
    assert_string_equal(gp_rom_efi_machine_to_string(0xAA64, buf, sizeof(buf)), "AArch64");
    assert_string_equal(gp_rom_efi_machine_to_string(0x0EBC, buf, sizeof(buf)), "EBC");
    assert_string_equal(gp_rom_efi_machine_to_string(0x014C, buf, sizeof(buf)), "IA32");
    assert_string_equal(gp_rom_efi_machine_to_string(0x5032, buf, sizeof(buf)), "0x5032");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_only),
        cmocka_unit_test(test_legacy_and_efi),
        cmocka_unit_test(test_efi_other_machine),
        cmocka_unit_test(test_vendor_header),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_ids_mismatch),
        cmocka_unit_test(test_failed_dumps),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_huge_ff),
        cmocka_unit_test(test_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
