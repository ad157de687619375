/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "pciaddr.h"

static void expect_addr(const char *in, const char *out, bool whole)
{
    gp_pci_addr a;
    bool w = !whole;
    char buf[GP_PCI_ADDR_MAX];

    assert_int_equal(gp_pci_addr_parse(in, &a, &w), 0);
    gp_pci_addr_format(&a, buf);
    assert_string_equal(buf, out);
    assert_int_equal(w, whole);
}

static void test_parse_forms(void **state)
{
    (void)state;
    expect_addr("01:00.0", "0000:01:00.0", false);
    expect_addr("0000:01:00.1", "0000:01:00.1", false);
    expect_addr("0A:1f.7", "0000:0a:1f.7", false);
    expect_addr("1:0.3", "0000:01:00.3", false);
    expect_addr("01:00", "0000:01:00.0", true);
    expect_addr("0000:c1:00", "0000:c1:00.0", true);
    expect_addr("10000:e1:00.0", "10000:e1:00.0", false);   /* Intel VMD domain */
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "0", "01", "01:00.8", "01:20.0", "100:00.0", "0000:01:00.0.1", "01:00.", "zz:00.0",
        "01:00.0 ", " 01:00.0", "0000:0000:01:00.0", "01-00.0", "123456789:01:00.0", ":01:00.0", "01::00",
    };
    gp_pci_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gp_pci_addr_parse(bad[i], &a, NULL), -EINVAL);
    assert_int_equal(gp_pci_addr_parse(NULL, &a, NULL), -EINVAL);
}

static void test_order_and_slots(void **state)
{
    gp_pci_addr a, b, c;

    (void)state;
    assert_int_equal(gp_pci_addr_parse("0000:01:00.0", &a, NULL), 0);
    assert_int_equal(gp_pci_addr_parse("0000:01:00.1", &b, NULL), 0);
    assert_int_equal(gp_pci_addr_parse("0001:00:00.0", &c, NULL), 0);
    assert_true(gp_pci_addr_cmp(&a, &b) < 0);
    assert_true(gp_pci_addr_cmp(&b, &c) < 0);
    assert_int_equal(gp_pci_addr_cmp(&a, &a), 0);
    assert_true(gp_pci_addr_same_slot(&a, &b));
    assert_false(gp_pci_addr_same_slot(&a, &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_order_and_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
