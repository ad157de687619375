/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Module configuration: parsers, names, the module index, the linter's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strdist.h"
#include "check.h"
#include "lint.h"
#include "modcfg.h"

static void test_names(void **state)
{
    char buf[] = "vfio-pci";
    char pat[] = "snd-hda-[a-z]*";

    assert_string_equal(gp_modname_normalize(buf), "vfio_pci");
    assert_string_equal(gp_modname_normalize(pat), "snd_hda_[a-z]*");
    assert_true(gp_modname_eq("vfio-pci", "vfio_pci"));
    assert_true(gp_modname_eq("snd_hda-intel", "snd-hda_intel"));
    assert_false(gp_modname_eq("vfio", "vfio_pci"));
    assert_true(gp_modname_valid("vfio_iommu_type1"));
    assert_false(gp_modname_valid("vfio-pci.ids=10de:2684"));
    assert_false(gp_modname_valid(""));
    assert_false(gp_modname_valid("nvidia*"));
    assert_true(gp_modname_is_glob("nvidia*"));
    assert_false(gp_modname_is_glob("nvidia"));
}

static void test_distance(void **state)
{
    assert_int_equal(gp_name_distance("vfio_iommu_typel", "vfio_iommu_type1", 2), 1);
    assert_int_equal(gp_name_distance("vifo_pci", "vfio_pci", 2), 1);      /* a swap */
    assert_int_equal(gp_name_distance("vfio-pci", "vfio_pci", 2), 0);
    assert_int_equal(gp_name_distance("nouveau", "amdgpu", 2), 3);          /* cap + 1 */
    assert_int_equal(gp_name_distance("abc", "abcdefgh", 2), 3);

    /* suggestions without an index come from the compiled-in list */
    assert_string_equal(gp_modindex_suggest(NULL, "vfio_iommu_typel"), "vfio_iommu_type1");
    assert_string_equal(gp_modindex_suggest(NULL, "vifo_pci"), "vfio_pci");
    assert_string_equal(gp_modindex_suggest(NULL, "noveau"), "nouveau");
    assert_null(gp_modindex_suggest(NULL, "vfio_pci"));        /* exists */
    assert_null(gp_modindex_suggest(NULL, "nvidiafb"));        /* a real name, 2 from nvidia */
    assert_null(gp_modindex_suggest(NULL, "lp"));              /* too short to guess */
    assert_null(gp_modindex_suggest(NULL, "coretemp"));
}

static void test_split(void **state)
{
    static const char buf[] = "a\\\nb\r\nc\\\n\nd\0e\n\x01x\n";
    gp_cfgtext t;

    assert_int_equal(gp_cfgtext_split(buf, sizeof(buf) - 1, true, &t), 0);
    assert_int_equal(t.n, 4);
    assert_string_equal(t.lines[0].text, "ab");
    assert_int_equal(t.lines[0].line, 1);
    assert_int_equal(t.lines[0].last, 2);
    assert_true(t.lines[0].cr);
    assert_string_equal(t.lines[1].text, "c");
    assert_int_equal(t.lines[1].line, 3);
    assert_int_equal(t.lines[1].last, 4);
    assert_string_equal(t.lines[2].text, "de");         /* the NUL is left out... */
    assert_true(t.lines[2].binary);                     /* ...and flagged */
    assert_int_equal(t.lines[2].line, 5);
    assert_true(t.lines[3].binary);
    gp_cfgtext_done(&t);

    /* no continuation in module lists; a last line without newline */
    assert_int_equal(gp_cfgtext_split("x\\\ny", 4, false, &t), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.lines[0].text, "x\\");
    assert_string_equal(t.lines[1].text, "y");
    gp_cfgtext_done(&t);

    assert_int_equal(gp_cfgtext_split("", 0, true, &t), 0);
    assert_int_equal(t.n, 0);
    gp_cfgtext_done(&t);
}

static void test_long_line(void **state)
{
    size_t n = 1u << 20;
    char *buf = malloc(n + 8);
    gp_cfgtext t;

    assert_non_null(buf);
    memset(buf, 'a', n);
    memcpy(buf + n, "\nvfio\n", 6);
    assert_int_equal(gp_cfgtext_split(buf, n + 6, true, &t), 0);
    assert_int_equal(t.n, 2);
    assert_true(t.lines[0].too_long);
    assert_int_equal(t.lines[0].len, GP_MODCFG_LINE_MAX);
    assert_string_equal(t.lines[1].text, "vfio");
    assert_int_equal(t.lines[1].line, 2);
    gp_cfgtext_done(&t);
    free(buf);
}

static void test_modlist(void **state)
{
    static const char buf[] = "# comment\n; semi\n  vfio  \nvfio-pci ids=10de:2684\r\n\n\tvfio_iommu_type1\n";
    gp_modlist *l;

    assert_int_equal(gp_modlist_parse(buf, sizeof(buf) - 1, true, &l), 0);
    assert_int_equal(l->n, 3);
    assert_string_equal(l->v[0].name, "vfio");
    assert_int_equal(l->v[0].src->line, 3);
    assert_null(l->v[0].params);
    assert_string_equal(l->v[1].written, "vfio-pci");
    assert_string_equal(l->v[1].name, "vfio_pci");
    assert_string_equal(l->v[1].params, "ids=10de:2684");
    assert_true(l->v[1].src->cr);
    assert_string_equal(l->v[2].name, "vfio_iommu_type1");
    assert_int_equal(l->v[2].src->line, 6);
    gp_modlist_free(l);

    /* /etc/initramfs-tools/modules: ';' is not a comment there */
    assert_int_equal(gp_modlist_parse("; x\n", 4, false, &l), 0);
    assert_int_equal(l->n, 1);
    assert_string_equal(l->v[0].written, ";");
    gp_modlist_free(l);
}

static void test_modprobe(void **state)
{
    static const char buf[] =
        "# vfio\n"
        "options vfio-pci ids=10de:2684,10de:22ba \\\n"
        "    disable_vga=1\n"
        "softdep nouveau pre: vfio-pci post: snd-hda-intel\n"
        "softdep nvidia vfio-pci\n"
        "blacklist nouveau\n"
        "alias pci:v000010DEd* nvidia\n"
        "allow_unsafe_interrupts=1\n"
        "options vfio-pci\n"
        "include /etc/foo\n"
        "install nvidia /bin/false\n";
    gp_modprobe_file *f;
    char *v;
    bool oom;

    assert_int_equal(gp_modprobe_parse(buf, sizeof(buf) - 1, &f), 0);
    assert_int_equal(f->n, 9);
    assert_int_equal(f->v[0].cmd, GP_MODPROBE_OPTIONS);
    assert_string_equal(f->v[0].module, "vfio_pci");
    assert_int_equal(f->v[0].src->line, 2);
    assert_int_equal(f->v[0].src->last, 3);
    v = gp_modprobe_option(&f->v[0], "ids", &oom);
    assert_string_equal(v, "10de:2684,10de:22ba");
    free(v);
    v = gp_modprobe_option(&f->v[0], "disable-vga", &oom);   /* '-' == '_' */
    assert_string_equal(v, "1");
    free(v);
    assert_null(gp_modprobe_option(&f->v[0], "nointxmask", &oom));

    assert_int_equal(f->v[1].cmd, GP_MODPROBE_SOFTDEP);
    assert_int_equal(f->v[1].n_pre, 1);
    assert_string_equal(f->v[1].pre[0], "vfio_pci");
    assert_int_equal(f->v[1].n_post, 1);
    assert_string_equal(f->v[1].post[0], "snd_hda_intel");
    assert_false(f->v[1].softdep_no_mode);
    assert_true(f->v[2].softdep_no_mode);
    assert_int_equal(f->v[3].cmd, GP_MODPROBE_BLACKLIST);
    assert_string_equal(f->v[3].module, "nouveau");
    assert_int_equal(f->v[4].cmd, GP_MODPROBE_ALIAS);
    assert_string_equal(f->v[4].target, "nvidia");
    assert_int_equal(f->v[5].cmd, GP_MODPROBE_BAD);
    assert_int_equal(f->v[5].src->line, 8);
    assert_int_equal(f->v[6].cmd, GP_MODPROBE_BAD);      /* options without parameters */
    assert_int_equal(f->v[7].cmd, GP_MODPROBE_BAD);      /* include: no longer parsed */
    assert_int_equal(f->v[8].cmd, GP_MODPROBE_INSTALL);
    assert_string_equal(f->v[8].rest, "/bin/false");
    gp_modprobe_file_free(f);
}

static void test_modprobe_garbage(void **state)
{
    static const char buf[] = "blacklist nouveau\r\n\x7f\x45LF\x02\x01\x01\0\0\0\nopt\0ions x y=1\n";
    gp_modprobe_file *f;

    assert_int_equal(gp_modprobe_parse(buf, sizeof(buf) - 1, &f), 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->v[0].cmd, GP_MODPROBE_BLACKLIST);
    assert_string_equal(f->v[0].module, "nouveau");       /* CR dropped with the newline */
    assert_int_equal(f->v[1].cmd, GP_MODPROBE_BAD);
    assert_true(f->v[1].src->binary);
    assert_int_equal(f->v[2].cmd, GP_MODPROBE_BAD);
    gp_modprobe_file_free(f);
}

static void test_pci_ids(void **state)
{
    gp_pci_id_match m;

    assert_int_equal(gp_pci_id_parse("10de:2684", &m), 0);
    assert_int_equal(m.vendor, 0x10de);
    assert_int_equal(m.device, 0x2684);
    assert_int_equal(m.subvendor, GP_PCI_ANY_ID);
    assert_int_equal(gp_pci_id_parse("0x10DE:0x2684:1043:88e2", &m), 0);
    assert_int_equal(m.subdevice, 0x88e2);
    assert_int_equal(gp_pci_id_parse("10de:ffffffff:ffffffff:ffffffff:030000:ff0000", &m), -EINVAL);
    assert_int_equal(gp_pci_id_parse("10de:ffff:ffff:ffff:030000:ff0000", &m), 0);
    assert_int_equal(m.class_code, 0x030000);
    assert_int_equal(gp_pci_id_parse("10de2684", &m), -EINVAL);
    assert_int_equal(gp_pci_id_parse("10de:26g4", &m), -EINVAL);
    assert_int_equal(gp_pci_id_parse("10de:2684;10de:22ba", &m), -EINVAL);
    assert_int_equal(gp_pci_id_parse("10de:", &m), -EINVAL);
    assert_int_equal(gp_pci_id_parse("", &m), -EINVAL);
}

static void test_index(void **state)
{
    static const char dep[] =
        "kernel/drivers/vfio/vfio.ko:\n"
        "kernel/drivers/vfio/pci/vfio-pci.ko.zst: kernel/drivers/vfio/pci/vfio-pci-core.ko.zst\n"
        "kernel/drivers/vfio/vfio_iommu_type1.ko.xz: kernel/drivers/vfio/vfio.ko\n"
        "updates/dkms/nvidia-drm.ko.gz:\n"
        "garbage line\n"
        ".ko:\n";
    static const char builtin[] = "kernel/drivers/iommu/iommufd/iommufd.ko\n";
    gp_modindex *x;
    char **v;
    size_t n;
    char *name;

    assert_int_equal(gp_modname_from_path("a/b/snd-hda-intel.ko.zst", 24, &name), 0);
    assert_string_equal(name, "snd_hda_intel");
    free(name);
    assert_int_equal(gp_modname_from_path("a/kodak.txt", 11, &name), -EINVAL);

    assert_int_equal(gp_modindex_parse(dep, sizeof(dep) - 1, builtin, sizeof(builtin) - 1, &x), 0);
    assert_int_equal(gp_modindex_size(x), 5);
    assert_int_equal(gp_modindex_lookup(x, "vfio-pci"), GP_MOD_LOADABLE);
    assert_int_equal(gp_modindex_lookup(x, "vfio_iommu_type1"), GP_MOD_LOADABLE);
    assert_int_equal(gp_modindex_lookup(x, "nvidia_drm"), GP_MOD_LOADABLE);
    assert_int_equal(gp_modindex_lookup(x, "iommufd"), GP_MOD_BUILTIN);
    assert_int_equal(gp_modindex_lookup(x, "vfio_pci_core"), GP_MOD_ABSENT);   /* only a dependency */
    assert_int_equal(gp_modindex_lookup(x, "nouveau"), GP_MOD_ABSENT);
    assert_int_equal(gp_modindex_lookup(NULL, "vfio"), GP_MOD_ABSENT);
    assert_string_equal(gp_modindex_suggest(x, "vfio_iommu_typel"), "vfio_iommu_type1");

    assert_int_equal(gp_modindex_glob(x, "nvidia*", &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "nvidia_drm");
    gp_strv_free(v);
    gp_modindex_free(x);

    /* without an index a glob means the known names */
    assert_int_equal(gp_modindex_glob(NULL, "nvidia*", &v, &n), 0);
    assert_true(n >= 4);
    assert_string_equal(v[0], "nvidia");
    gp_strv_free(v);
}

static const gp_finding *find_sev(const gp_findings *l, const char *id, gp_severity sev)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0 && l->v[i].severity == sev)
            return &l->v[i];
    return NULL;
}

/* The finding, which must exist (never NULL: the test fails first). */
static const gp_finding *need(const gp_findings *l, const char *id, gp_severity sev)
{
    static gp_evidence none_ev = { .file = (char *)"", .text = (char *)"" };
    static const gp_finding none = { .id = (char *)"", .fix = (char *)"", .evidence = &none_ev, .n_evidence = 1 };
    const gp_finding *f = find_sev(l, id, sev);

    if (!f) {
        print_error("no %s finding of severity %s\n", id, gp_severity_to_string(sev));
        fail();
        return &none;
    }
    if (!f->fix || f->n_evidence == 0) {
        print_error("%s has no fix or no evidence\n", id);
        fail();
        return &none;
    }
    return f;
}

static void lint(const char *buf, gp_file_type t, const char *kver, gp_findings *out)
{
    gp_lint_ctx ctx = { 0 };

    if (kver)
        assert_int_equal(gp_kver_parse(kver, &ctx.kver), 0);
    gp_lint_modules_file(&ctx, "/etc/x", t, buf, strlen(buf), out);
    assert_int_equal(gp_findings_status(out), 0);
}

static void test_lint_rules(void **state)
{
    _cleanup_findings_ gp_findings a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 }, e = { 0 }, g = { 0 };
    const gp_finding *f;

    lint("vfio\nvfio_iommu_typel\n", GP_FILE_MODULES_LOAD, NULL, &a);
    f = need(&a, "modules.unknown", GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 2);
    assert_non_null(strstr(f->fix, "vfio_iommu_type1"));

    lint("vfio_virqfd\n", GP_FILE_MODULES_LOAD, "6.8.12-4-pve", &b);
    f = need(&b, "modules.obsolete", GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 1);
    lint("vfio_virqfd\n", GP_FILE_MODULES_LOAD, "5.15.158-2-pve", &c);
    assert_null(gp_findings_find(&c, "modules.obsolete"));

    lint("allow_unsafe_interrupts=1\nblacklist nvidia*\noptions vfio_iommu_type1 allow_unsafe_interrupts=1\n",
         GP_FILE_MODPROBE, NULL, &d);
    f = need(&d, "modprobe.bad-line", GP_SEV_FAIL);
    assert_non_null(strstr(f->fix, "options vfio_iommu_type1 allow_unsafe_interrupts=1"));
    f = need(&d, "modprobe.blacklist-pattern", GP_SEV_WARN);
    assert_non_null(strstr(f->fix, "blacklist nvidia_uvm"));
    assert_non_null(find_sev(&d, "modprobe.unsafe-interrupts", GP_SEV_WARN));

    lint("options vfio-pci ids=10de:2684,10de22ba disable_vga=1\n", GP_FILE_MODPROBE, NULL, &e);
    f = need(&e, "modprobe.ids-syntax", GP_SEV_FAIL);
    assert_non_null(strstr(f->fix, "options vfio-pci ids=10de:2684,10de:22ba disable_vga=1"));

    lint("\x7f" "ELF\x02\x01\x01\0\0\0\n\x01\x02\x03\n", GP_FILE_MODPROBE, NULL, &g);
    assert_non_null(find_sev(&g, "modules.binary", GP_SEV_FAIL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_modlist),
        cmocka_unit_test(test_modprobe),
        cmocka_unit_test(test_modprobe_garbage),
        cmocka_unit_test(test_pci_ids),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_lint_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
