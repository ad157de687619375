/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strdist.h"
#include "check.h"
#include "cmdline.h"
#include "lint.h"
#include "testutil.h"

static void split(gp_cmdline *c, const char *s)
{
    *c = (gp_cmdline){ 0 };
    assert_int_equal(gp_cmdline_split(c, s, strlen(s)), 0);
}

static void test_split_basic(void **state)
{
    gp_cmdline c;

    split(&c, "  BOOT_IMAGE=/boot/vmlinuz ro  quiet\tintel_iommu=on,sm_on\n");
    assert_int_equal(c.n, 4);
    assert_string_equal(c.v[0].name, "BOOT_IMAGE");
    assert_string_equal(c.v[0].value, "/boot/vmlinuz");
    assert_string_equal(c.v[1].name, "ro");
    assert_null(c.v[1].value);
    assert_string_equal(c.v[3].value, "on,sm_on");
    assert_string_equal(c.v[3].raw, "intel_iommu=on,sm_on");
    gp_cmdline_done(&c);

    split(&c, "");
    assert_int_equal(c.n, 0);
    gp_cmdline_done(&c);
    split(&c, "   \t\n ");
    assert_int_equal(c.n, 0);
    gp_cmdline_done(&c);
}

static void test_split_quotes(void **state)
{
    gp_cmdline c;

    /* next_arg(): quotes around a value, around the whole word, inside */
    split(&c, "acpi_osi=\"Windows 2015\" \"dyndbg=file x +p\" a=b\"c d\"e x=\"\" =v");
    assert_int_equal(c.n, 5);
    assert_string_equal(c.v[0].name, "acpi_osi");
    assert_string_equal(c.v[0].value, "Windows 2015");
    assert_false(c.v[0].unbalanced);
    assert_string_equal(c.v[1].name, "dyndbg");
    assert_string_equal(c.v[1].value, "file x +p");
    assert_string_equal(c.v[2].name, "a");
    assert_string_equal(c.v[2].value, "b\"c d\"e");
    assert_string_equal(c.v[3].value, "");
    /* '=' as the first byte does not start a value */
    assert_string_equal(c.v[4].name, "=v");
    assert_null(c.v[4].value);
    gp_cmdline_done(&c);

    /* an unclosed quote swallows the rest of the line */
    split(&c, "quiet video=\"efifb:off iommu=pt");
    assert_int_equal(c.n, 2);
    assert_true(c.v[1].unbalanced);
    assert_string_equal(c.v[1].value, "efifb:off iommu=pt");
    gp_cmdline_done(&c);

    split(&c, "\"");
    assert_int_equal(c.n, 1);
    assert_true(c.v[0].unbalanced);
    gp_cmdline_done(&c);
}

static void test_split_nul_and_huge(void **state)
{
    static const char s[] = "a=1\0b=2\0\0c";
    gp_cmdline c = { 0 };
    size_t n = 1u << 20;
    char *big = malloc(n);

    assert_int_equal(gp_cmdline_split(&c, s, sizeof(s) - 1), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.v[2].name, "c");
    gp_cmdline_done(&c);

    /* 1 MB: one word, then many words */
    assert_non_null(big);
    memset(big, 'x', n);
    assert_int_equal(gp_cmdline_split(&c, big, n), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(strlen(c.v[0].raw), n);
    gp_cmdline_done(&c);
    for (size_t i = 1; i < n; i += 2)
        big[i] = ' ';
    assert_int_equal(gp_cmdline_split(&c, big, n), 0);
    assert_int_equal(c.n, n / 2);
    gp_cmdline_done(&c);
    free(big);
}

static void test_names(void **state)
{
    assert_true(gp_cmdline_name_eq("vfio_pci.ids", "vfio-pci.ids"));
    assert_false(gp_cmdline_name_eq("vfio_pci.ids", "vfio_pci.id"));
    assert_true(gp_cmdline_has("quiet vfio_pci.ids=10de:2684", "vfio-pci.ids", NULL));
    assert_true(gp_cmdline_has("iommu=soft iommu=pt", "iommu", "pt"));
    assert_false(gp_cmdline_has("iommu=pt iommu=soft", "iommu", "pt"));
    assert_false(gp_cmdline_has("amd_iommu=on", "iommu", NULL));
    assert_false(gp_cmdline_has(NULL, "iommu", NULL));
    assert_true(gp_cmdline_param_relevant("vfio_pci.ids"));
    assert_false(gp_cmdline_param_relevant("quiet"));
}

static void test_validators(void **state)
{
    char bad[64];

    assert_false(gp_cmdline_value_valid("amd_iommu", "on", bad, sizeof(bad)));
    assert_string_equal(bad, "on");
    assert_true(gp_cmdline_value_valid("amd_iommu", "force_isolation,pgtbl_v2", bad, sizeof(bad)));
    assert_true(gp_cmdline_value_valid("intel_iommu", "on,sm_on,,igfx_off", bad, sizeof(bad)));
    assert_false(gp_cmdline_value_valid("intel_iommu", "on,pt", bad, sizeof(bad)));
    assert_string_equal(bad, "pt");
    assert_false(gp_cmdline_value_valid("intel_iommu", "", bad, sizeof(bad)));
    assert_true(gp_cmdline_value_valid("iommu", "pt", bad, sizeof(bad)));
    assert_false(gp_cmdline_value_valid("iommu", "tp", bad, sizeof(bad)));
    assert_true(gp_cmdline_value_valid("iommu.strict", "0", bad, sizeof(bad)));
    assert_false(gp_cmdline_value_valid("iommu.passthrough", "maybe", bad, sizeof(bad)));
    assert_true(gp_cmdline_value_valid("pcie_acs_override", "downstream,multifunction,id:10de:2684", bad,
                                       sizeof(bad)));
    assert_false(gp_cmdline_value_valid("pcie_acs_override", "downstreams", bad, sizeof(bad)));
    assert_true(gp_cmdline_value_valid("vfio-pci.ids", "10de:2684,10de:22ba,", bad, sizeof(bad)));
    assert_false(gp_cmdline_value_valid("vfio_pci.ids", "10de:2684,10de", bad, sizeof(bad)));
    assert_string_equal(bad, "10de");
    assert_false(gp_cmdline_value_valid("modprobe.blacklist", "nouveau,nvidia*", bad, sizeof(bad)));
    assert_string_equal(bad, "nvidia*");
    assert_true(gp_cmdline_value_valid("rd.driver.pre", "vfio-pci,vfio_iommu_type1", bad, sizeof(bad)));
    assert_true(gp_cmdline_value_valid("unknown_thing", "whatever", bad, sizeof(bad)));
}

static void test_vfio_ids(void **state)
{
    gp_vfio_id id;
    gp_pci_dev d = { .vendor_id = 0x10de, .device_id = 0x2504, .subsys_vendor_id = 0x1462,
                     .subsys_device_id = 0x397d, .class_code = 0x030000 };

    assert_int_equal(gp_vfio_id_parse("10de:2504", 9, &id), 0);
    assert_int_equal(id.fields, 2);
    assert_true(gp_vfio_id_match(&id, &d));
    assert_int_equal(gp_vfio_id_parse("0x10DE:0x2504:1462:397d", 23, &id), 0);
    assert_true(gp_vfio_id_match(&id, &d));
    assert_int_equal(gp_vfio_id_parse("10de:2504:1462:0001", 19, &id), 0);
    assert_false(gp_vfio_id_match(&id, &d));
    assert_int_equal(gp_vfio_id_parse("10de:2504:ffffffff:ffffffff:030000:ff0000", 41, &id), 0);
    assert_true(gp_vfio_id_match(&id, &d));
    assert_int_equal(gp_vfio_id_parse("10de-2504", 9, &id), -EINVAL);
    assert_int_equal(gp_vfio_id_parse("10de", 4, &id), -EINVAL);
    assert_int_equal(gp_vfio_id_parse("", 0, &id), -EINVAL);
    assert_int_equal(gp_vfio_id_parse("110de:2504", 10, &id), -ERANGE);
}

static void test_typos(void **state)
{
    assert_string_equal(gp_cmdline_typo("vfio-pci,ids"), "vfio-pci.ids");
    assert_string_equal(gp_cmdline_typo("vfio-pci.id"), "vfio-pci.ids");
    assert_string_equal(gp_cmdline_typo("vfio.ids"), "vfio-pci.ids");
    assert_string_equal(gp_cmdline_typo("intel_iomu"), "intel_iommu");
    assert_string_equal(gp_cmdline_typo("pci_acs_override"), "pcie_acs_override");
    assert_null(gp_cmdline_typo("vfio_pci.ids"));
    assert_null(gp_cmdline_typo("quiet"));
    assert_null(gp_cmdline_typo("zfs.zfs_arc_max"));
    assert_null(gp_cmdline_typo("ro"));
    assert_int_equal(gp_name_distance("pt", "tp", 2), 1);
    assert_int_equal(gp_name_distance("abc", "abcdef", 2), 3);
}

static void grub_parse(gp_grub *g, const char *display, const char *s)
{
    assert_int_equal(gp_grub_parse(g, display, s, strlen(s)), 0);
}

static void test_grub_quotes(void **state)
{
    gp_grub g = { 0 };
    gp_cmdline c = { 0 };

    grub_parse(&g, "/etc/default/grub",
               "# comment \"with quote\n"
               "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
               "GRUB_CMDLINE_LINUX='root=ZFS=rpool/ROOT/pve-1 boot=zfs'\n"
               "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet \\\n"
               "intel_iommu=on\" # trailing comment\n"
               "GRUB_X=plain\\ word\n"
               "export GRUB_Y=\"a\"'b'c\n");
    assert_int_equal(g.n_issues, 0);
    assert_string_equal(gp_grub_get(&g, "GRUB_CMDLINE_LINUX")->value.s, "root=ZFS=rpool/ROOT/pve-1 boot=zfs");
    assert_string_equal(gp_grub_get(&g, "GRUB_CMDLINE_LINUX_DEFAULT")->value.s, "quiet intel_iommu=on");
    assert_int_equal(gp_grub_get(&g, "GRUB_CMDLINE_LINUX_DEFAULT")->line, 4);
    assert_int_equal(gp_grub_get(&g, "GRUB_CMDLINE_LINUX_DEFAULT")->line_end, 5);
    assert_string_equal(gp_grub_get(&g, "GRUB_X")->value.s, "plain word");
    assert_string_equal(gp_grub_get(&g, "GRUB_Y")->value.s, "abc");
    assert_true(gp_grub_get(&g, "GRUB_Y")->exported);

    assert_int_equal(gp_grub_cmdline(&g, &c), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.v[0].raw, "root=ZFS=rpool/ROOT/pve-1");
    assert_int_equal(c.v[0].line, 3);
    assert_string_equal(c.v[3].raw, "intel_iommu=on");
    /* the word keeps the line it is written on */
    assert_int_equal(c.v[3].line, 5);
    assert_string_equal(c.v[3].file, "/etc/default/grub");
    gp_cmdline_done(&c);
    gp_grub_done(&g);
}

static void test_grub_snippet(void **state)
{
    gp_grub g = { 0 };
    gp_cmdline c = { 0 };
    static const char *const add[] = { "iommu=pt", NULL };
    static const char *const rm[] = { "amd_iommu", NULL };
    gp_cmdline_edit e = { .add = add, .remove = rm };
    char *fix;

    grub_parse(&g, "/etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on\"\nGRUB_CMDLINE_LINUX=\"\"\n");
    grub_parse(&g, "/etc/default/grub.d/vfio.cfg",
               "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} vfio-pci.ids=10de:2684\"\n");
    assert_int_equal(gp_grub_cmdline(&g, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.v[1].file, "/etc/default/grub");
    assert_int_equal(c.v[1].line, 1);
    assert_string_equal(c.v[2].file, "/etc/default/grub.d/vfio.cfg");
    gp_cmdline_done(&c);

    /* removing touches the line that wrote the word; adding goes to the last assignment */
    fix = gp_grub_fix(&g, &e);
    assert_non_null(fix);
    assert_string_equal(fix, "edit /etc/default/grub line 1:\n"
                             "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
                             "edit /etc/default/grub.d/vfio.cfg line 1:\n"
                             "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} vfio-pci.ids=10de:2684 "
                             "iommu=pt\"\n"
                             "then run: update-grub && reboot");
    free(fix);
    gp_grub_done(&g);
}

static void test_grub_fix_forms(void **state)
{
    gp_grub g = { 0 };
    static const char *const add[] = { "intel_iommu=on", NULL };
    static const char *const dup[] = { "quiet", NULL };
    gp_cmdline_edit e = { .add = add };
    gp_cmdline_edit none = { .add = dup };
    char *fix;

    /* no GRUB_CMDLINE_LINUX_DEFAULT: the line to append */
    grub_parse(&g, "/etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX='quiet'\n");
    fix = gp_grub_fix(&g, &e);
    assert_string_equal(fix, "add to /etc/default/grub:\nGRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on\"\n"
                             "then run: update-grub && reboot");
    free(fix);
    /* already there: nothing to edit */
    fix = gp_grub_fix(&g, &none);
    assert_non_null(strstr(fix, "no change"));
    free(fix);
    gp_grub_done(&g);

    /* single quotes stay single quotes */
    grub_parse(&g, "/etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT='quiet'\n");
    fix = gp_grub_fix(&g, &e);
    assert_string_equal(fix, "edit /etc/default/grub line 1:\nGRUB_CMDLINE_LINUX_DEFAULT='quiet intel_iommu=on'\n"
                             "then run: update-grub && reboot");
    free(fix);
    gp_grub_done(&g);
}

static void test_grub_broken(void **state)
{
    gp_grub g = { 0 };
    static const char garbage[] = "GRUB_A=\"x\0y\"\n\x01\xff`unclosed\n";

    grub_parse(&g, "f", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\nGRUB_CMDLINE_LINUX=\"\"\n");
    assert_int_equal(g.n_issues, 1);
    assert_int_equal(g.issues[0].kind, GP_GRUB_SYNTAX);
    assert_int_equal(g.issues[0].line, 3);
    assert_int_equal(g.issues[0].word_line, 2);
    gp_grub_done(&g);

    grub_parse(&g, "f", "GRUB_CMDLINE_LINUX_DEFAULT='quiet\n  iommu=pt'\n");
    assert_int_equal(g.n_issues, 1);
    assert_int_equal(g.issues[0].kind, GP_GRUB_MULTILINE);
    gp_grub_done(&g);

    grub_parse(&g, "f", "GRUB_CMDLINE_LINUX_DEFAULT=quiet intel_iommu=on iommu=pt\n");
    assert_int_equal(g.n_issues, 1);
    assert_int_equal(g.issues[0].kind, GP_GRUB_UNQUOTED);
    assert_string_equal(gp_grub_get(&g, "GRUB_CMDLINE_LINUX_DEFAULT")->value.s, "quiet");
    gp_grub_done(&g);

    assert_int_equal(gp_grub_parse(&g, "f", garbage, sizeof(garbage) - 1), 0);
    assert_true(g.n_issues >= 2);
    assert_int_equal(g.issues[0].kind, GP_GRUB_BINARY);
    gp_grub_done(&g);

    grub_parse(&g, "f", "A=\"${B\nC=$(echo\n");
    assert_int_equal(g.n_issues, 1);
    gp_grub_done(&g);

    /* expansion that doubles each time stays bounded */
    {
        char buf[4096] = "A=x\n";

        for (int i = 0; i < 40; i++)
            strcat(buf, "A=\"$A $A\"\n");
        grub_parse(&g, "f", buf);
        assert_true(gp_grub_get(&g, "A")->value.n <= (256u << 10));
        gp_grub_done(&g);
    }
}

static void test_kernel_cmdline_fix(void **state)
{
    static const char *const add[] = { "iommu=pt", NULL };
    static const char *const rm[] = { "amd_iommu", NULL };
    gp_cmdline_edit e = { .add = add, .remove = rm };
    const char *file = "root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet amd_iommu=on\nignored\n";
    char *fix = gp_kernel_cmdline_fix("/etc/kernel/cmdline", file, strlen(file), NULL, &e);

    assert_string_equal(fix, "edit /etc/kernel/cmdline line 1:\nroot=ZFS=rpool/ROOT/pve-1 boot=zfs quiet iommu=pt\n"
                             "then run: proxmox-boot-tool refresh && reboot");
    free(fix);
    fix = gp_kernel_cmdline_fix("/etc/kernel/cmdline", NULL, 0,
                                "initrd=\\EFI\\proxmox\\initrd.img root=ZFS=rpool/ROOT/pve-1 boot=zfs", &e);
    assert_string_equal(fix, "create /etc/kernel/cmdline with this one line:\n"
                             "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt\n"
                             "then run: proxmox-boot-tool refresh && reboot");
    free(fix);
}

static int write_file(const char *root, const char *rel, const char *text)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_fix_on_host(void **state)
{
    char tmp[4096];
    gp_host *h = NULL;
    gp_bootcfg b;
    static const char *const add[] = { "intel_iommu=on", NULL };
    char *fix;

    assert_int_equal(gp_test_tmpdir(tmp, sizeof(tmp), "test-cmdline"), 0);
    assert_int_equal(write_file(tmp, "etc/default/grub",
                                "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n"), 0);
    assert_int_equal(write_file(tmp, "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet\n"), 0);
    assert_int_equal(gp_host_open(tmp, &h, NULL), 0);
    assert_int_equal(gp_bootcfg_detect(h, &b), 0);
    assert_int_equal(b.loader, GP_BOOT_GRUB);
    fix = gp_cmdline_fix(h, &b, add, NULL);
    assert_string_equal(fix, "edit /etc/default/grub line 2:\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n"
                             "then run: update-grub && reboot");
    free(fix);

    b.loader = GP_BOOT_SYSTEMD_BOOT;
    assert_int_equal(write_file(tmp, "etc/kernel/cmdline", "root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n"), 0);
    fix = gp_cmdline_fix(h, &b, add, NULL);
    assert_string_equal(fix, "edit /etc/kernel/cmdline line 1:\nroot=ZFS=rpool/ROOT/pve-1 boot=zfs quiet "
                             "intel_iommu=on\nthen run: proxmox-boot-tool refresh && reboot");
    free(fix);
    gp_host_free(h);
    gp_test_rm_rf(tmp);
}

static void test_lint_rules(void **state)
{
    gp_lint_ctx ctx = { .cpu = GP_CPU_INTEL };
    gp_findings out = { 0 };
    const char *grub = "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on amd_iommu=on vfio_pci.ids=10de:2684 "
                       "pcie_acs_override=downstream video=efifb:off\"\n";
    const gp_finding *f;

    assert_int_equal(gp_kver_parse("6.8.12-4-pve", &ctx.kver), 0);
    gp_lint_cmdline_file(&ctx, "grub", GP_FILE_GRUB_DEFAULT, grub, strlen(grub), &out);
    assert_int_equal(gp_findings_status(&out), 0);
    assert_non_null(gp_findings_find(&out, "cmdline.redundant"));
    assert_non_null(gp_findings_find(&out, "cmdline.wrong-vendor"));
    assert_non_null(gp_findings_find(&out, "cmdline.acs-override"));
    f = gp_findings_find(&out, "cmdline.obsolete");
    assert_non_null(f);
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_non_null(strstr(f->fix, "initcall_blacklist=sysfb_init"));
    /* vfio_pci.ids is the same parameter as vfio-pci.ids: no typo */
    assert_null(gp_findings_find(&out, "cmdline.typo"));
    for (size_t i = 0; i < out.n; i++)
        if (out.v[i].severity > GP_SEV_PASS) {
            assert_true(out.v[i].n_evidence > 0);
            assert_int_equal(out.v[i].evidence[0].line, 1);
            assert_non_null(out.v[i].fix);
        }
    gp_findings_clear(&out);

    /* an AMD host: amd_iommu=on is an invalid value */
    ctx.cpu = GP_CPU_AMD;
    gp_lint_cmdline_file(&ctx, "cmdline", GP_FILE_PROC_CMDLINE, "amd_iommu=on\n", 13, &out);
    f = gp_findings_find(&out, "cmdline.invalid-value");
    assert_non_null(f);
    assert_int_equal(f->severity, GP_SEV_WARN);
    gp_findings_clear(&out);

    /* /etc/kernel/cmdline without root= */
    gp_lint_cmdline_file(&ctx, "/etc/kernel/cmdline", GP_FILE_KERNEL_CMDLINE, "", 0, &out);
    assert_non_null(gp_findings_find(&out, "cmdline.no-root"));
    gp_findings_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_basic),
        cmocka_unit_test(test_split_quotes),
        cmocka_unit_test(test_split_nul_and_huge),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validators),
        cmocka_unit_test(test_vfio_ids),
        cmocka_unit_test(test_typos),
        cmocka_unit_test(test_grub_quotes),
        cmocka_unit_test(test_grub_snippet),
        cmocka_unit_test(test_grub_fix_forms),
        cmocka_unit_test(test_grub_broken),
        cmocka_unit_test(test_kernel_cmdline_fix),
        cmocka_unit_test(test_fix_on_host),
        cmocka_unit_test(test_lint_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
