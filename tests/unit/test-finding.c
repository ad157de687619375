/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The finding list: severities, evidence, summary, lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "finding.h"

static void test_add_and_summary(void **state)
{
    gp_findings l = { 0 };
    size_t c[_GP_SEV_MAX];
    gp_finding *f;

    assert_int_equal(gp_findings_worst(&l), GP_SEV_PASS);
    f = gp_findings_add(&l, "CPU", "cpu.kvm", GP_SEV_PASS, "/dev/kvm", "present");
    assert_non_null(f);
    f = gp_findings_add(&l, "IOMMU", "iommu.firmware-off", GP_SEV_FAIL, "table", "no %s table", "DMAR");
    assert_string_equal(f->title, "no DMAR table");
    gp_finding_set_fix(&l, f, "enable %s", "VT-d");
    gp_finding_set_fix(&l, f, "enable %s then reboot", "VT-d");
    assert_string_equal(f->fix, "enable VT-d then reboot");
    gp_findings_add(&l, "IOMMU", "iommu.default-domain", GP_SEV_INFO, "domain", "translated");
    gp_findings_add(&l, "IR", "iommu.unsafe-interrupts", GP_SEV_WARN, "ir", "unsafe");
    gp_findings_count(&l, c);
    assert_int_equal(c[GP_SEV_PASS], 1);
    assert_int_equal(c[GP_SEV_INFO], 1);
    assert_int_equal(c[GP_SEV_WARN], 1);
    assert_int_equal(c[GP_SEV_FAIL], 1);
    assert_int_equal(gp_findings_worst(&l), GP_SEV_FAIL);
    assert_string_equal(gp_findings_find(&l, "iommu.default-domain")->layer, "IOMMU");
    assert_null(gp_findings_find(&l, "nope"));
    assert_int_equal(gp_findings_status(&l), 0);
    gp_findings_clear(&l);
    assert_int_equal(l.n, 0);
}

static void test_growth(void **state)
{
    gp_findings l = { 0 };

    for (int i = 0; i < 1000; i++)
        assert_non_null(gp_findings_add(&l, "L", "x.y", GP_SEV_INFO, "s", "n %d", i));
    assert_int_equal(l.n, 1000);
    assert_string_equal(l.v[999].title, "n 999");
    gp_findings_clear(&l);
}

static void test_evidence_text_is_cut_and_cleaned(void **state)
{
    gp_findings l = { 0 };
    gp_finding *f = gp_findings_add(&l, "L", "a.b", GP_SEV_WARN, "s", "t");
    char *big = malloc(1024 * 1024 + 1);

    memset(big, 'x', 1024 * 1024);
    big[1024 * 1024] = '\0';
    big[3] = '\033';
    gp_finding_add_line(&l, f, "/etc/default/grub", 7, big);
    gp_finding_add_text(&l, f, "/etc/modules", 2, "vfio\0garbage", 12);
    gp_finding_add_device(&l, f, "0000:01:00.0");
    gp_finding_add_device_text(&l, f, "0000:00:17.0", "holds the root filesystem");
    gp_finding_add_line(&l, f, "/etc/x", 0, NULL);
    assert_int_equal(f->n_evidence, 5);
    assert_int_equal(strlen(f->evidence[0].text), GP_EVIDENCE_TEXT_MAX + 3);
    assert_int_equal(f->evidence[0].text[3], '?');
    assert_int_equal(f->evidence[0].line, 7);
    assert_string_equal(f->evidence[1].text, "vfio?garbage");
    assert_string_equal(f->evidence[2].device, "0000:01:00.0");
    assert_null(f->evidence[2].file);
    assert_string_equal(f->evidence[3].text, "holds the root filesystem");
    assert_null(f->evidence[4].text);
    free(big);
    gp_findings_clear(&l);
}

static void test_null_finding_is_ignored(void **state)
{
    gp_findings l = { 0 };

    /* After an allocation failure the adders return NULL; the setters take it. */
    gp_finding_set_fix(&l, NULL, "x");
    gp_finding_add_line(&l, NULL, "f", 1, "t");
    gp_finding_add_device(&l, NULL, "d");
    assert_int_equal(l.n, 0);
    l.oom = true;
    assert_null(gp_findings_add(&l, "L", "a", GP_SEV_PASS, "s", "t"));
    assert_int_equal(gp_findings_status(&l), -ENOMEM);
    gp_findings_clear(&l);
}

static void test_severity_names(void **state)
{
    assert_string_equal(gp_severity_to_string(GP_SEV_PASS), "pass");
    assert_string_equal(gp_severity_to_string(GP_SEV_INFO), "info");
    assert_string_equal(gp_severity_to_string(GP_SEV_WARN), "warn");
    assert_string_equal(gp_severity_to_string(GP_SEV_FAIL), "fail");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_summary),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_evidence_text_is_cut_and_cleaned),
        cmocka_unit_test(test_null_finding_is_ignored),
        cmocka_unit_test(test_severity_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
