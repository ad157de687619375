/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pci.h"

static void put16(uint8_t *c, size_t off, uint16_t v) { c[off] = v & 0xff; c[off + 1] = v >> 8; }
static void put32(uint8_t *c, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        c[off + i] = (v >> (8 * i)) & 0xff;
}

/* An endpoint: PM at 0x60 -> PCIe at 0x68; extended: ReBAR at 0x100 ->
 * SR-IOV at 0x200 -> ACS at 0x300. */
static void build_endpoint(uint8_t *c, bool flr)
{
    memset(c, 0, 4096);
    put16(c, 0x00, 0x10de);
    put16(c, 0x06, 0x0010);          /* capability list */
    c[0x34] = 0x60;
    c[0x60] = 0x01; c[0x61] = 0x68;  /* PM */
    c[0x68] = 0x10; c[0x69] = 0x00;  /* PCIe, end of list */
    put16(c, 0x6a, 0x0002);          /* v2, endpoint */
    put32(c, 0x6c, flr ? 1u << 28 : 0);
    put32(c, 0x100, 0x0015 | 1u << 16 | 0x200u << 20);
    put32(c, 0x104, (1u << (4 + 15)) | (1u << (4 + 8)));  /* 32 GiB and 256 MiB */
    put32(c, 0x108, 1u << 5);                             /* one resizable BAR */
    put32(c, 0x200, 0x0010 | 1u << 16 | 0x300u << 20);
    put32(c, 0x300, 0x000d | 1u << 16);
}

static void test_endpoint_caps(void **state)
{
    uint8_t c[4096];
    gp_pci_dev d = { 0 };

    (void)state;
    build_endpoint(c, true);
    gp_pci_parse_config(&d, c, sizeof(c));
    assert_true(d.config_read);
    assert_int_equal(d.pcie_type, GP_PCIE_ENDPOINT);
    assert_true(d.flr);
    assert_true(d.rebar);
    assert_true(d.rebar_max_size == 32ull << 30);
    assert_true(d.sriov_cap);
    assert_true(d.acs);
}

static void test_no_flr_and_short_config(void **state)
{
    uint8_t c[4096];
    gp_pci_dev d = { 0 };

    (void)state;
    build_endpoint(c, false);
    /* 256 bytes is what an unprivileged reader gets: no extended caps */
    gp_pci_parse_config(&d, c, 256);
    assert_false(d.flr);
    assert_int_equal(d.pcie_type, GP_PCIE_ENDPOINT);
    assert_false(d.rebar);
    assert_false(d.sriov_cap);
    memset(&d, 0, sizeof(d));
    gp_pci_parse_config(&d, c, 16);
    assert_false(d.config_read);
    assert_int_equal(d.pcie_type, GP_PCIE_NONE);
}

static void test_hostile_lists_terminate(void **state)
{
    uint8_t c[4096];
    gp_pci_dev d = { 0 };

    (void)state;
    build_endpoint(c, true);
    c[0x69] = 0x60;                                   /* PCIe -> PM -> PCIe ... */
    put32(c, 0x300, 0x000d | 1u << 16 | 0x100u << 20); /* ACS -> ReBAR ... */
    put32(c, 0x108, 7u << 5);                          /* claims 7 BARs */
    gp_pci_parse_config(&d, c, sizeof(c));
    assert_true(d.flr);
    assert_true(d.acs);
    /* capability pointing past the end of what was read */
    memset(&d, 0, sizeof(d));
    c[0x34] = 0xfc;
    gp_pci_parse_config(&d, c, 0x100);
    assert_int_equal(d.pcie_type, GP_PCIE_NONE);
    /* all 0xff, as a device that fell off the bus reads */
    memset(c, 0xff, sizeof(c));
    memset(&d, 0, sizeof(d));
    gp_pci_parse_config(&d, c, sizeof(c));
    assert_true(d.config_read);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_caps),
        cmocka_unit_test(test_no_flr_and_short_config),
        cmocka_unit_test(test_hostile_lists_terminate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
