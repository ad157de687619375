/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verdicts on in-memory device lists: the rules, one case each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpu.h"

static gp_pci_dev dev(const char *addr, uint32_t class_code, int group)
{
    gp_pci_dev d = { 0 };

    assert_int_equal(gp_pci_addr_parse(addr, &d.addr, NULL), 0);
    gp_pci_addr_format(&d.addr, d.name);
    d.class_code = class_code;
    d.iommu_group = group;
    d.physfn = -1;
    d.parent = -1;
    return d;
}

static gp_gpu_list *analyze(gp_pci_dev *devs, size_t n, int groups)
{
    gp_pci_list l = { .devs = devs, .n = n, .iommu_groups = groups };
    gp_gpu_list *g = NULL;

    assert_int_equal(gp_gpu_analyze(&l, NULL, &g), 0);
    return g;
}

static void test_isolated_with_bridges(void **state)
{
    gp_pci_dev d[] = {
        dev("00:00.0", 0x060000, 1), dev("00:01.0", 0x060400, 1),
        dev("01:00.0", 0x030000, 1), dev("01:00.1", 0x040300, 1),
    };
    gp_gpu_list *g = analyze(d, 4, 3);

    (void)state;
    assert_int_equal(g->n, 1);
    assert_int_equal(g->gpus[0].dev, 2);
    assert_int_equal(g->gpus[0].verdict, GP_VERDICT_ISOLATED);
    assert_int_equal(g->gpus[0].functions.n, 2);
    assert_int_equal(g->gpus[0].members.n, 4);
    assert_int_equal(g->gpus[0].shared_with.n, 0);
    gp_gpu_list_free(g);
}

static void test_shared_with_endpoints(void **state)
{
    gp_pci_dev d[] = {
        dev("02:00.0", 0x060400, 14), dev("03:00.0", 0x010601, 14), dev("04:00.0", 0x020000, 14),
        dev("0a:00.0", 0x030000, 14), dev("0a:00.1", 0x040300, 14), dev("0b:00.0", 0x0c0330, 15),
    };
    gp_gpu_list *g = analyze(d, 6, 2);

    (void)state;
    assert_int_equal(g->gpus[0].verdict, GP_VERDICT_SHARED);
    assert_int_equal(g->gpus[0].shared_with.n, 2);
    assert_int_equal(g->gpus[0].shared_with.v[0], 1);
    assert_int_equal(g->gpus[0].shared_with.v[1], 2);
    gp_gpu_list_free(g);
}

static void test_3d_controller_and_no_iommu(void **state)
{
    gp_pci_dev d[] = { dev("01:00.0", 0x030200, -1), dev("02:00.0", 0x038000, -1) };
    gp_gpu_list *g = analyze(d, 2, 0);

    (void)state;
    assert_int_equal(g->n, 2);   /* 3D and display controllers are GPUs too (F14) */
    assert_int_equal(g->gpus[0].verdict, GP_VERDICT_NO_IOMMU);
    assert_int_equal(g->gpus[1].verdict, GP_VERDICT_NO_IOMMU);
    gp_gpu_list_free(g);
}

static void test_functions_in_two_groups(void **state)
{
    gp_pci_dev d[] = { dev("01:00.0", 0x030000, 5), dev("01:00.1", 0x040300, 6), dev("01:00.2", 0x0c0330, 6) };
    gp_gpu_list *g = analyze(d, 3, 7);

    (void)state;
    assert_int_equal(g->gpus[0].groups.n, 2);
    assert_int_equal(g->gpus[0].verdict, GP_VERDICT_ISOLATED);  /* the USB-C function is the card's own */
    assert_int_equal(g->gpus[0].functions.n, 3);
    gp_gpu_list_free(g);
}

static void test_vfs_stand_alone(void **state)
{
    gp_pci_dev d[] = { dev("41:00.0", 0x030200, 10), dev("41:00.4", 0x030200, 11), dev("41:00.5", 0x030200, 12) };
    gp_gpu_list *g;

    (void)state;
    for (int i = 1; i < 3; i++) {
        d[i].is_vf = true;
        d[i].physfn = 0;
    }
    g = analyze(d, 3, 13);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->gpus[0].functions.n, 1);   /* the PF does not own its VFs */
    assert_int_equal(g->gpus[1].functions.n, 1);
    assert_int_equal(g->gpus[1].verdict, GP_VERDICT_ISOLATED);
    gp_gpu_list_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isolated_with_bridges),
        cmocka_unit_test(test_shared_with_endpoints),
        cmocka_unit_test(test_3d_controller_and_no_iommu),
        cmocka_unit_test(test_functions_in_two_groups),
        cmocka_unit_test(test_vfs_stand_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
