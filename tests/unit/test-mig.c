/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MIG planning on the compiled-in table (data/mig.tsv): lookups by PCI ID
 * and by forgiving names, profile IDs that differ between families, request
 * parsing and its errors, the exact placement search on every family
 * (feasible layouts with their starts, refusals with the reason and the
 * nearest layouts that fit, the classic A100 80GB -cgi 9,9,9), the
 * picture, the nvidia-smi commands and the boot unit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mig.h"

static const gp_mig_model *model(const char *key)
{
    const gp_mig_model *v;
    size_t n = gp_mig_models(&v);

    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return &v[i];
    fail_msg("no model %s", key);
    return NULL;
}

/* A placement as "name@start" joined by spaces, in start order. */
static void placement(const gp_mig_plan *p, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < p->n; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s@%u", i ? " " : "", p->v[i].profile->name,
                                p->v[i].start);
}

/* Parses spec on model key, plans it; returns the plan's result. */
static int plan(const char *key, const char *spec, gp_mig_plan *p, gp_error *err)
{
    gp_mig_request r;
    int k;

    *err = (gp_error){ 0 };
    assert_int_equal(gp_mig_request_parse(model(key), spec, &r, err), 0);
    k = gp_mig_plan_make(&r, p, err);
    gp_mig_request_clear(&r);
    return k;
}

/* spec on key fits, at exactly the placement want ("3g.40gb@0 3g.40gb@4"). */
static void fits(const char *key, const char *spec, const char *want)
{
    gp_mig_plan p;
    gp_error err;
    char got[256];

    assert_int_equal(plan(key, spec, &p, &err), 0);
    assert_null(p.reason);
    placement(&p, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("%s on %s: placed %s, expected %s", spec, key, got, want);
    /* no overlap, every start valid */
    for (size_t i = 0; i < p.n; i++) {
        assert_true(p.v[i].profile->starts >> p.v[i].start & 1u);
        assert_true(p.v[i].start + p.v[i].size <= p.model->axis);
        if (i > 0)
            assert_true(p.v[i - 1].start + p.v[i - 1].size <= p.v[i].start);
    }
    gp_mig_plan_clear(&p);
}

/* spec on key is refused with exactly reason; returns the plan (clear it). */
static void refused(const char *key, const char *spec, const char *reason, gp_mig_plan *p)
{
    gp_error err;

    assert_int_equal(plan(key, spec, p, &err), -ENOSPC);
    assert_non_null(p->reason);
    if (strcmp(p->reason, reason) != 0)
        fail_msg("%s on %s:\n  got      %s\n  expected %s", spec, key, p->reason, reason);
    assert_string_equal(gp_error_message(&err), reason);
    assert_int_equal(p->n, 0);
    /* every suggestion really fits */
    for (size_t i = 0; i < p->n_suggestions; i++) {
        gp_mig_plan q;

        assert_int_equal(gp_mig_plan_make(&p->suggestions[i].request, &q, NULL), 0);
        gp_mig_plan_clear(&q);
    }
}

static bool has_suggestion(const gp_mig_plan *p, const char *spec)
{
    for (size_t i = 0; i < p->n_suggestions; i++)
        if (strcmp(p->suggestions[i].spec, spec) == 0)
            return true;
    return false;
}

/* parse fails with -EINVAL and a message holding every fragment given */
static void bad_request(const char *key, const char *spec, ...)
{
    gp_mig_request r;
    gp_error err = { 0 };
    const char *frag;
    va_list ap;

    assert_int_equal(gp_mig_request_parse(model(key), spec, &r, &err), -EINVAL);
    assert_int_equal(r.n, 0);
    va_start(ap, spec);
    while ((frag = va_arg(ap, const char *)))
        if (!strstr(gp_error_message(&err), frag))
            fail_msg("'%s': message \"%s\" lacks \"%s\"", spec, gp_error_message(&err), frag);
    va_end(ap);
}

/* ---- the table -------------------------------------------------------------------- */

static void test_table(void **state)
{
    const gp_mig_model *m;
    const gp_mig_card *c;
    size_t nm = gp_mig_models(&m), nc = gp_mig_cards(&c);
    static const char *const keys[] = {
        "a100-40gb", "a100-80gb", "h100-80gb", "h100-94gb", "h100-96gb", "h200-141gb", "gh200-144gb",
        "b200-180gb", "gb200-186gb", "b300", "gb300", "a30", "rtx-pro-6000",
    };

    assert_int_equal(nm, ELEMENTSOF(keys));
    for (size_t i = 0; i < ELEMENTSOF(keys); i++)
        assert_string_equal(m[i].key, keys[i]);
    assert_true(nc > nm);
    /* every profile's max count is exactly what the search fits of it
     * alone: the table and the search agree */
    for (size_t i = 0; i < nm; i++) {
        assert_true(m[i].n_profiles > 0);
        for (size_t j = 0; j < m[i].n_profiles; j++) {
            const gp_mig_profile *p = &m[i].profiles[j];
            gp_mig_want w = { .profile = p, .count = p->max_count };
            gp_mig_request r = { .model = &m[i], .v = &w, .n = 1 };
            gp_mig_plan pl;

            assert_int_equal(gp_mig_plan_make(&r, &pl, NULL), 0);
            gp_mig_plan_clear(&pl);
            if (!p->media) {
                w.count++;
                assert_int_equal(gp_mig_plan_make(&r, &pl, NULL), -ENOSPC);
                gp_mig_plan_clear(&pl);
            }
        }
    }
    /* every card is found again by its PCI IDs and by each of its names */
    for (size_t i = 0; i < nc; i++) {
        for (size_t j = 0; j < c[i].n_pci_ids; j++) {
            const gp_mig_card *got;
            int k = gp_mig_card_by_pci((uint16_t)(c[i].pci_ids[j] >> 16), (uint16_t)c[i].pci_ids[j], &got, NULL);

            assert_int_equal(k, c[i].model ? 0 : -ENOTSUP);
            assert_ptr_equal(got, &c[i]);
        }
        for (const char *const *n = c[i].names; *n; n++) {
            const gp_mig_card *got;
            int k = gp_mig_card_by_name(*n, &got, NULL);

            if (k != (c[i].model ? 0 : -ENOTSUP))
                fail_msg("name '%s': %d", *n, k);
            if (c[i].model)
                assert_ptr_equal(got->model, c[i].model);
        }
    }
    assert_string_equal(gp_mig_gen_to_string(GP_MIG_GEN_AMPERE), "Ampere");
    assert_string_equal(gp_mig_gen_to_string(GP_MIG_GEN_BLACKWELL), "Blackwell");
}

/* ---- lookups ------------------------------------------------------------------------ */

static void test_lookup_pci(void **state)
{
    const gp_mig_card *c;
    gp_error err = { 0 };

    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x20b5, &c, NULL), 0);
    assert_string_equal(c->model->key, "a100-80gb");
    assert_string_equal(c->names[0], "A100 PCIe 80GB");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x20f1, &c, NULL), 0);
    assert_string_equal(c->model->key, "a100-40gb");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x20b7, &c, NULL), 0);
    assert_string_equal(c->model->key, "a30");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2321, &c, NULL), 0);
    assert_string_equal(c->model->key, "h100-94gb");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2342, &c, NULL), 0);
    assert_string_equal(c->model->key, "h100-96gb");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2901, &c, NULL), 0);
    assert_string_equal(c->model->key, "b200-180gb");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2bb1, &c, NULL), 0);
    assert_string_equal(c->model->key, "rtx-pro-6000");
    assert_true(c->display_mode);
    assert_string_equal(c->min_vbios, "98.02.55.00.00");
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2bb5, &c, NULL), 0);
    assert_false(c->display_mode);

    /* a card without MIG says what it has instead */
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x26b9, &c, &err), -ENOTSUP);
    assert_non_null(c);
    assert_null(c->model);
    assert_non_null(strstr(gp_error_message(&err), "L40S (10de:26b9): no MIG"));
    assert_non_null(strstr(gp_error_message(&err), "vGPU"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2684, &c, &err), -ENOTSUP);
    assert_non_null(strstr(gp_error_message(&err), "RTX 4090"));
    assert_non_null(strstr(gp_error_message(&err), "no MIG on GeForce"));
    /* another vendor */
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_pci(0x1002, 0x744c, &c, &err), -ENOTSUP);
    assert_null(c);
    assert_string_equal(gp_error_message(&err), "1002:744c is not an NVIDIA device: MIG is an NVIDIA feature");
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_pci(0x1002, 0x74a1, &c, &err), -ENOTSUP);
    assert_non_null(strstr(gp_error_message(&err), "GIM"));
    /* an NVIDIA device the table does not know */
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x1234, &c, &err), -ENOENT);
    assert_null(c);
    assert_non_null(strstr(gp_error_message(&err), "10de:1234 is not in gpupass's MIG table"));
    /* left out on purpose: 20b6 is an A100 in pci.ids but H100-96GB-named in mig-parted */
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x20b6, &c, NULL), -ENOENT);
}

static void name_is(const char *name, const char *key)
{
    const gp_mig_card *c;
    gp_error err = { 0 };
    int k = gp_mig_card_by_name(name, &c, &err);

    if (k != 0)
        fail_msg("'%s': %d %s", name, k, gp_error_message(&err));
    assert_string_equal(c->model->key, key);
}

static void test_lookup_name(void **state)
{
    const gp_mig_card *c;
    gp_error err = { 0 };

    name_is("A100 80GB", "a100-80gb");
    name_is("a100-80gb", "a100-80gb");
    name_is("A100-80G", "a100-80gb");
    name_is("a100 80 gb", "a100-80gb");
    name_is("NVIDIA A100-SXM4-80GB", "a100-80gb");
    name_is("NVIDIA A100 80GB PCIe", "a100-80gb");
    name_is("A100-PCIE-40GB", "a100-40gb");
    name_is("H100 SXM5 80GB", "h100-80gb");
    name_is("NVIDIA H100 80GB HBM3", "h100-80gb");
    name_is("h100 pcie", "h100-80gb");
    name_is("H100 NVL", "h100-94gb");
    name_is("h100_nvl", "h100-94gb");
    name_is("H800", "h100-80gb");          /* the exact name wins over "H800 NVL" */
    name_is("GH200 144G HBM3e", "gh200-144gb");
    name_is("H200", "h200-141gb");
    name_is("h200-141gb", "h200-141gb");
    name_is("B200", "b200-180gb");
    name_is("a30", "a30");
    name_is("Tesla A30", "a30");
    name_is("RTX PRO 6000", "rtx-pro-6000");
    name_is("NVIDIA RTX PRO 6000 Blackwell Server Edition", "rtx-pro-6000");
    name_is("10de:2330", "h100-80gb");

    /* several models */
    assert_int_equal(gp_mig_card_by_name("A100", &c, &err), -EINVAL);
    assert_null(c);
    assert_non_null(strstr(gp_error_message(&err), "fits several GPUs"));
    assert_string_equal(gp_error_message(&err),
                        "'A100' fits several GPUs with different MIG profiles; say which: A100 40GB, A100 80GB");
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("GH200", &c, &err), -EINVAL);
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("H100", &c, &err), -EINVAL);
    assert_non_null(strstr(gp_error_message(&err), "say which: H100 80GB, H100 94GB, H100 96GB"));

    /* unknown, with the nearest names */
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("A100 90GB", &c, &err), -ENOENT);
    assert_non_null(strstr(gp_error_message(&err), "no GPU in gpupass's MIG table is called 'A100 90GB'"));
    assert_non_null(strstr(gp_error_message(&err), "; nearest: A100 40GB, A100 80GB"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("RTX 4091", &c, &err), -ENOENT);
    assert_non_null(strstr(gp_error_message(&err), "; nearest: GeForce RTX 4090"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("Voodoo", &c, &err), -ENOENT);
    assert_non_null(strstr(gp_error_message(&err), "MIG GPUs gpupass knows: A100 40GB, A100 80GB"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("--", &c, &err), -EINVAL);
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("10de:zz", &c, &err), -ENOENT);

    /* no MIG */
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("L40S", &c, &err), -ENOTSUP);
    assert_non_null(c);
    assert_non_null(strstr(gp_error_message(&err), "SR-IOV"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("geforce rtx 4090", &c, &err), -ENOTSUP);
    assert_string_equal(c->names[0], "GeForce RTX 4090");
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_card_by_name("RTX PRO 5000", &c, &err), -ENOTSUP);
    assert_non_null(strstr(gp_error_message(&err), "no placement data"));
}

/* ---- profiles and requests ----------------------------------------------------------- */

static void test_profile_ids(void **state)
{
    const gp_mig_model *a100 = model("a100-80gb"), *a30 = model("a30"), *rtx = model("rtx-pro-6000"),
                       *b200 = model("b200-180gb"), *a40 = model("a100-40gb"), *h200 = model("h200-141gb");

    assert_string_equal(gp_mig_profile_by_id(a100, 9)->name, "3g.40gb");
    assert_string_equal(gp_mig_profile_by_id(a40, 9)->name, "3g.20gb");
    assert_string_equal(gp_mig_profile_by_id(h200, 9)->name, "3g.71gb");
    assert_null(gp_mig_profile_by_id(a30, 9));
    assert_null(gp_mig_profile_by_id(rtx, 9));
    /* 14 is 2g on the 7-slice parts, 1g on A30 and RTX PRO 6000 */
    assert_string_equal(gp_mig_profile_by_id(a100, 14)->name, "2g.20gb");
    assert_string_equal(gp_mig_profile_by_id(a30, 14)->name, "1g.6gb");
    assert_string_equal(gp_mig_profile_by_id(rtx, 14)->name, "1g.24gb");
    /* 5 is 4g there, 2g here */
    assert_string_equal(gp_mig_profile_by_id(a100, 5)->name, "4g.40gb");
    assert_string_equal(gp_mig_profile_by_id(a30, 5)->name, "2g.12gb");
    assert_string_equal(gp_mig_profile_by_id(rtx, 47)->name, "1g.24gb+gfx");
    assert_true(gp_mig_profile_by_id(rtx, 47)->gfx);
    /* unconfirmed IDs are not guessed */
    assert_null(gp_mig_profile_by_id(b200, 9));
    assert_int_equal(gp_mig_profile_by_name(b200, "3g.90gb")->id, -1);
    /* names */
    assert_ptr_equal(gp_mig_profile_by_name(a100, "MIG 3g.40gb"), gp_mig_profile_by_id(a100, 9));
    assert_ptr_equal(gp_mig_profile_by_name(a100, "1G.10GB+ME"), gp_mig_profile_by_id(a100, 20));
    assert_true(gp_mig_profile_by_id(a100, 20)->media);
    assert_null(gp_mig_profile_by_name(a100, "3g.20gb"));
}

static void test_parse(void **state)
{
    gp_mig_request r;
    gp_error err = { 0 };
    char *s;

    assert_int_equal(gp_mig_request_parse(model("a100-80gb"), "3g.40gb:2, 1g.10gb", &r, &err), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0].profile->name, "3g.40gb");
    assert_int_equal(r.v[0].count, 2);
    assert_int_equal(r.v[1].count, 1);
    s = gp_mig_request_spec(&r);
    assert_string_equal(s, "3g.40gb:2,1g.10gb");
    free(s);
    s = gp_mig_request_describe(&r);
    assert_string_equal(s, "2 × 3g.40gb + 1g.10gb");
    free(s);
    gp_mig_request_clear(&r);

    /* IDs, repeats add up, as nvidia-smi -cgi takes them */
    assert_int_equal(gp_mig_request_parse(model("a100-80gb"), "9,9,9", &r, &err), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].count, 3);
    gp_mig_request_clear(&r);
    assert_int_equal(gp_mig_request_parse(model("a100-80gb"), "9:2 19 MIG 1g.10gb 14:1", &r, &err), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.v[1].count, 2);
    gp_mig_request_clear(&r);
    /* the same ID means another profile on A30 */
    assert_int_equal(gp_mig_request_parse(model("a30"), "14:2,5", &r, &err), 0);
    s = gp_mig_request_spec(&r);
    assert_string_equal(s, "1g.6gb:2,2g.12gb");
    free(s);
    gp_mig_request_clear(&r);

    bad_request("a100-80gb", "3g.41gb", "unknown MIG profile '3g.41gb' in '3g.41gb' on A100 80GB", "nearest: 3g.40gb",
                NULL);
    bad_request("a100-80gb", "3g.20gb:2", "'3g.20gb' in '3g.20gb:2'", "(3g.20gb is a profile of the A100 40GB)",
                "here it is 3g.40gb", NULL);
    bad_request("a100-80gb", "1g.5gb+me", "here it is 1g.10gb+me", NULL);
    bad_request("a100-80gb", "banana", "its profiles: 1g.10gb, 1g.10gb+me, 1g.20gb", NULL);
    bad_request("a100-80gb", "3g.40gb:0", "count 0 in '3g.40gb:0'", NULL);
    bad_request("a100-80gb", "1g.10gb:1000", "count 1000 in '1g.10gb:1000' is not a layout",
                "A100 80GB holds at most 7 GPU instances", NULL);
    bad_request("a100-80gb", "1g.10gb:99999999999999999999", "is not a layout", NULL);
    bad_request("a100-80gb", "1g.10gb:60,1g.10gb:60", "120 × 1g.10gb is not a layout", NULL);
    bad_request("a100-80gb", "3g.40gb:x", "the count in '3g.40gb:x' is not a number", NULL);
    bad_request("a100-80gb", "3g.40gb:", "the count in '3g.40gb:' is not a number", NULL);
    bad_request("a100-80gb", ":2", "':2' names no profile", NULL);
    bad_request("a100-80gb", "", "empty MIG request", NULL);
    bad_request("a100-80gb", " , ", "empty item", NULL);
    bad_request("a100-80gb", "9,,9", "empty item in MIG request '9,,9'", NULL);
    bad_request("a100-80gb", "9,", "empty item", NULL);
    bad_request("a100-80gb", ",9", "empty item", NULL);
    bad_request("a100-80gb", "42", "the A100 80GB has no MIG profile ID 42 ('42')",
                "IDs: 19 = 1g.10gb, 20 = 1g.10gb+me, 15 = 1g.20gb, 14 = 2g.20gb, 9 = 3g.40gb, 5 = 4g.40gb, 0 = 7g.80gb",
                NULL);
    /* ID 9 on A30: nvidia-smi says "Invalid Argument"; we say why */
    bad_request("a30", "9,9", "the A30 has no MIG profile ID 9 ('9')", "IDs differ between GPU families",
                "9 is 3g.20gb on the A100 40GB", "14 = 1g.6gb", NULL);
    bad_request("rtx-pro-6000", "9", "RTX PRO 6000 Blackwell has no MIG profile ID 9", NULL);
    bad_request("b200-180gb", "9", "B200 180GB's MIG profile IDs are not confirmed", "3g.90gb", NULL);
    bad_request("a100-80gb", "12345678", "the A100 80GB has no MIG profile ID 12345678 ('12345678')", NULL);
}

/* ---- placements, per family -------------------------------------------------------------- */

static void test_a100_999(void **state)
{
    gp_mig_plan p;

    /* the classic: -cgi 9,9,9 on an A100 80GB */
    refused("a100-80gb", "9,9,9",
            "3 × 3g.40gb needs 9 of 7 compute slices and 12 of 8 memory slices; at most 2 fit, at start slices 0 and 4",
            &p);
    assert_int_equal(p.max_alone[0], 2);
    assert_true(p.n_suggestions >= 2);
    assert_string_equal(p.suggestions[0].spec, "3g.40gb:2");
    assert_string_equal(p.suggestions[0].text, "2 × 3g.40gb (1 fewer 3g.40gb)");
    /* NVIDIA's own alternative, 9,5 */
    assert_string_equal(p.suggestions[1].spec, "3g.40gb,4g.40gb");
    assert_string_equal(p.suggestions[1].text, "3g.40gb + 4g.40gb (2 fewer 3g.40gb, plus 4g.40gb)");
    assert_true(has_suggestion(&p, "3g.40gb,2g.20gb:2"));
    assert_true(p.n_suggestions <= GP_MIG_SUGGESTIONS_MAX);
    gp_mig_plan_clear(&p);

    /* the same on the other 7-slice parts, with their own names */
    refused("a100-40gb", "3g.20gb:3",
            "3 × 3g.20gb needs 9 of 7 compute slices and 12 of 8 memory slices; at most 2 fit, at start slices 0 and 4",
            &p);
    gp_mig_plan_clear(&p);
    refused("h200-141gb", "9,9,9",
            "3 × 3g.71gb needs 9 of 7 compute slices and 12 of 8 memory slices; at most 2 fit, at start slices 0 and 4",
            &p);
    gp_mig_plan_clear(&p);
}

static void test_ampere_7slice(void **state)
{
    gp_mig_plan p;

    fits("a100-80gb", "9,9", "3g.40gb@0 3g.40gb@4");
    fits("a100-80gb", "9,5", "4g.40gb@0 3g.40gb@4");
    fits("a100-80gb", "19,19,19,19,19,19,19",
         "1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 1g.10gb@4 1g.10gb@5 1g.10gb@6");
    fits("a100-80gb", "7g.80gb", "7g.80gb@0");
    fits("a100-80gb", "1g.20gb:4", "1g.20gb@0 1g.20gb@2 1g.20gb@4 1g.20gb@6");
    fits("a100-80gb", "2g.20gb:3,1g.10gb+me", "2g.20gb@0 2g.20gb@2 2g.20gb@4 1g.10gb+me@6");
    /* NVIDIA's "all-balanced": the 3g cannot go first at 0 (a 1g would
     * need slice 7), so the search backtracks to 3g at 4 */
    fits("a100-40gb", "3g.20gb,2g.10gb,1g.5gb:2", "2g.10gb@0 1g.5gb@2 1g.5gb@3 3g.20gb@4");
    fits("a100-40gb", "4g.20gb,2g.10gb,1g.5gb", "4g.20gb@0 2g.10gb@4 1g.5gb@6");

    /* 1g never starts at 7 */
    refused("a100-80gb", "1g.10gb:8", "8 × 1g.10gb needs 8 of 7 compute slices; at most 7 fit, at start slices 0 to 6",
            &p);
    assert_string_equal(p.suggestions[0].spec, "1g.10gb:7");
    gp_mig_plan_clear(&p);
    refused("a100-80gb", "4g.40gb:2", "2 × 4g.40gb needs 8 of 7 compute slices; at most 1 fits, at start slice 0", &p);
    gp_mig_plan_clear(&p);
    refused("a100-80gb", "1g.20gb:5",
            "5 × 1g.20gb needs 10 of 8 memory slices; at most 4 fit, at start slices 0, 2, 4 and 6", &p);
    gp_mig_plan_clear(&p);
    /* a profile NVIDIA allows once although more would fit */
    refused("a100-80gb", "1g.10gb+me:2",
            "2 × 1g.10gb+me: only one instance may have the media engines (+me), and 2 are asked for", &p);
    assert_string_equal(p.suggestions[0].spec, "1g.10gb+me");
    gp_mig_plan_clear(&p);
    /* two profiles that each fit alone */
    refused("a100-80gb", "7g.80gb,1g.10gb", "7g.80gb + 1g.10gb needs 8 of 7 compute slices and 9 of 8 memory slices",
            &p);
    assert_true(has_suggestion(&p, "1g.10gb"));
    assert_true(has_suggestion(&p, "7g.80gb"));
    assert_int_equal(p.max_alone[0], 1);
    assert_int_equal(p.max_alone[1], 7);
    gp_mig_plan_clear(&p);
    refused("a100-80gb", "3g.40gb:2,2g.20gb", "2 × 3g.40gb + 2g.20gb needs 8 of 7 compute slices and 10 of 8 memory slices",
            &p);
    assert_string_equal(p.suggestions[0].spec, "3g.40gb,2g.20gb");
    assert_string_equal(p.suggestions[0].text, "3g.40gb + 2g.20gb (1 fewer 3g.40gb)");
    assert_string_equal(p.suggestions[1].spec, "3g.40gb:2");
    assert_string_equal(p.suggestions[1].text, "2 × 3g.40gb (no 2g.20gb)");
    assert_true(has_suggestion(&p, "3g.40gb,2g.20gb:2"));
    gp_mig_plan_clear(&p);
}

static void test_hopper(void **state)
{
    gp_mig_plan p;

    fits("h100-80gb", "3g.40gb,4g.40gb", "4g.40gb@0 3g.40gb@4");
    fits("h100-94gb", "2g.24gb:3,1g.12gb", "2g.24gb@0 2g.24gb@2 2g.24gb@4 1g.12gb@6");
    fits("h100-96gb", "15:4", "1g.24gb@0 1g.24gb@2 1g.24gb@4 1g.24gb@6");
    fits("h200-141gb", "3g.71gb,1g.35gb:2", "3g.71gb@0 1g.35gb@4 1g.35gb@6");
    fits("gh200-144gb", "1g.18gb+me,1g.18gb:6", "1g.18gb@0 1g.18gb@1 1g.18gb@2 1g.18gb@3 1g.18gb@4 1g.18gb@5 1g.18gb+me@6");
    refused("h100-94gb", "7g.94gb:2", "2 × 7g.94gb needs 14 of 7 compute slices and 16 of 8 memory slices; at most 1 fits, at start slice 0", &p);
    gp_mig_plan_clear(&p);
    refused("h100-80gb", "2g.20gb:4", "4 × 2g.20gb needs 8 of 7 compute slices; at most 3 fit, at start slices 0, 2 and 4", &p);
    gp_mig_plan_clear(&p);
}

static void test_blackwell_dc(void **state)
{
    gp_mig_plan p;

    fits("b200-180gb", "3g.90gb:2", "3g.90gb@0 3g.90gb@4");
    fits("gb200-186gb", "4g.93gb,1g.47gb:2", "4g.93gb@0 1g.47gb@4 1g.47gb@6");
    fits("b300", "7g.269gb", "7g.269gb@0");
    fits("gb300", "2g.70gb,1g.35gb:5", "2g.70gb@0 1g.35gb@2 1g.35gb@3 1g.35gb@4 1g.35gb@5 1g.35gb@6");
    refused("b200-180gb", "3g.90gb:3",
            "3 × 3g.90gb needs 9 of 7 compute slices and 12 of 8 memory slices; at most 2 fit, at start slices 0 and 4", &p);
    assert_string_equal(p.suggestions[1].spec, "3g.90gb,4g.90gb");
    gp_mig_plan_clear(&p);
}

static void test_a30(void **state)
{
    gp_mig_plan p;

    fits("a30", "2g.12gb,1g.6gb:2", "2g.12gb@0 1g.6gb@2 1g.6gb@3");
    fits("a30", "4g.24gb", "4g.24gb@0");
    fits("a30", "1g.6gb:4", "1g.6gb@0 1g.6gb@1 1g.6gb@2 1g.6gb@3");
    fits("a30", "2g.12gb+me,2g.12gb", "2g.12gb@0 2g.12gb+me@2");
    refused("a30", "2g.12gb:3",
            "3 × 2g.12gb needs 6 of 4 compute slices and 6 of 4 memory slices; at most 2 fit, at start slices 0 and 2", &p);
    gp_mig_plan_clear(&p);
    /* one media-engine instance per GPU, across profiles */
    refused("a30", "1g.6gb+me,2g.12gb+me",
            "1g.6gb+me + 2g.12gb+me: only one instance may have the media engines (+me), and 2 are asked for", &p);
    assert_true(has_suggestion(&p, "1g.6gb+me"));
    assert_true(has_suggestion(&p, "2g.12gb+me"));
    gp_mig_plan_clear(&p);
    refused("a30", "4g.24gb,1g.6gb", "4g.24gb + 1g.6gb needs 5 of 4 compute slices and 5 of 4 memory slices", &p);
    gp_mig_plan_clear(&p);
}

static void test_rtx_pro(void **state)
{
    gp_mig_plan p;

    fits("rtx-pro-6000", "2g.48gb,1g.24gb:2", "2g.48gb@0 1g.24gb@6 1g.24gb@9");
    fits("rtx-pro-6000", "32", "4g.96gb+gfx@0");
    fits("rtx-pro-6000", "47:4", "1g.24gb+gfx@0 1g.24gb+gfx@3 1g.24gb+gfx@6 1g.24gb+gfx@9");
    fits("rtx-pro-6000", "1g.24gb+me.all,1g.24gb-me:3", "1g.24gb+me.all@0 1g.24gb-me@3 1g.24gb-me@6 1g.24gb-me@9");
    refused("rtx-pro-6000", "2g.48gb:3",
            "3 × 2g.48gb needs 6 of 4 compute slices and 18 of 12 placement units; at most 2 fit, at placement starts 0 and 6",
            &p);
    gp_mig_plan_clear(&p);
    refused("rtx-pro-6000", "1g.24gb+me,2g.48gb+me.all",
            "1g.24gb+me + 2g.48gb+me.all: only one instance may have the media engines (+me), and 2 are asked for", &p);
    gp_mig_plan_clear(&p);
}

/* A made-up GPU where the budgets hold but the starts collide: the reason
 * then says so (no real MIG GPU needs this, the code path must still work). */
static void test_starts_collide(void **state)
{
    static const gp_mig_profile prof[] = {
        { .name = "2g.2gb", .id = 1, .compute = 2, .memory = 2, .size = 2, .starts = 0x2u, .max_count = 1 },
        { .name = "1g.1gb", .id = 2, .compute = 1, .memory = 1, .size = 1, .starts = 0x6u, .max_count = 2 },
    };
    static const gp_mig_model fake = {
        .key = "fake", .title = "Fake", .gen = GP_MIG_GEN_HOPPER, .compute = 4, .memory = 4, .axis = 4,
        .max_instances = 4, .profiles = prof, .n_profiles = 2,
    };
    gp_mig_want w[] = { { &prof[0], 1 }, { &prof[1], 1 } };
    gp_mig_request r = { .model = &fake, .v = w, .n = 2 };
    gp_mig_plan p;

    assert_int_equal(gp_mig_plan_make(&r, &p, NULL), -ENOSPC);
    assert_string_equal(p.reason, "2g.2gb + 1g.1gb: it fits the budgets (3 of 4 compute slices, 3 of 4 memory slices) "
                                  "but no placement holds it all: 2g.2gb starts only at 1, 1g.1gb starts only at 1 and 2");
    assert_int_equal(p.n_suggestions, 3);
    assert_string_equal(p.suggestions[0].spec, "1g.1gb");
    assert_string_equal(p.suggestions[1].spec, "2g.2gb");
    assert_string_equal(p.suggestions[2].spec, "1g.1gb:2");
    gp_mig_plan_clear(&p);
}

/* ---- picture, commands, unit ----------------------------------------------------------- */

static char *picture_of(const char *key, const char *spec)
{
    gp_mig_plan p;
    gp_error err;
    char *pic;

    assert_int_equal(plan(key, spec, &p, &err), 0);
    assert_int_equal(gp_mig_plan_picture(&p, &pic), 0);
    gp_mig_plan_clear(&p);
    /* 80 columns (the × and the text are ASCII here) */
    for (const char *l = pic; *l;) {
        const char *e = strchr(l, '\n');

        assert_non_null(e);
        assert_true(e - l <= 80);
        l = e + 1;
    }
    return pic;
}

static void test_picture(void **state)
{
    char *pic;

    pic = picture_of("a100-80gb", "3g.40gb:2");
    assert_string_equal(pic,
        "memory slice       0      1      2      3      4      5      6      7\n"
        "3g.40gb        @0  [3g.40gb===================]\n"
        "3g.40gb        @4                              [3g.40gb===================]\n"
        "used: 6 of 7 compute slices, 8 of 8 memory slices\n");
    free(pic);
    pic = picture_of("a100-80gb", "1g.10gb:7");
    assert_non_null(strstr(pic, "1g.10gb        @6                                            [1g===]\n"));
    assert_non_null(strstr(pic, "free                                                                .\n"));
    assert_non_null(strstr(pic, "used: 7 of 7 compute slices, 7 of 8 memory slices\n"));
    free(pic);
    pic = picture_of("rtx-pro-6000", "2g.48gb,1g.24gb+me.all,1g.24gb");
    assert_non_null(strstr(pic, "placement unit     0   1   2   3   4   5   6   7   8   9   10  11\n"));
    assert_non_null(strstr(pic, "1g.24gb+me.all @9                                      [1g========]\n"));
    assert_non_null(strstr(pic, "used: 4 of 4 compute slices, 12 of 12 placement units\n"));
    free(pic);
    pic = picture_of("a30", "2g.12gb,1g.6gb+me");
    assert_non_null(strstr(pic, "1g.6gb+me      @2                              [1g.6gb+me===]\n"));
    assert_non_null(strstr(pic, "free                                                         .\n"));
    free(pic);
}

static const char *line_of(const gp_mig_commands *c, size_t i)
{
    assert_true(i < c->n);
    return c->v[i].line;
}

static bool note_has(const gp_mig_commands *c, const char *frag)
{
    for (size_t i = 0; i < c->n_notes; i++)
        if (strstr(c->notes[i], frag))
            return true;
    return false;
}

static void commands_of(const char *key, const char *spec, const gp_mig_card *card, const char *gpu,
                        gp_mig_commands *c)
{
    gp_mig_plan p;
    gp_error err;

    assert_int_equal(plan(key, spec, &p, &err), 0);
    assert_int_equal(gp_mig_plan_commands(&p, card, gpu, c, &err), 0);
    gp_mig_plan_clear(&p);
}

static void test_commands(void **state)
{
    gp_mig_commands c;
    gp_mig_plan p;
    gp_error err = { 0 };
    const gp_mig_card *card;

    /* Ampere: the 3g goes before the 4g, as NVIDIA's -cgi 9,5 */
    commands_of("a100-80gb", "4g.40gb,3g.40gb", NULL, "0", &c);
    assert_int_equal(c.n, 6);
    assert_string_equal(line_of(&c, 0), "nvidia-smi -i 0 -mig 1");
    assert_string_equal(line_of(&c, 1),
                        "nvidia-smi -i 0 --query-gpu=pci.bus_id,mig.mode.current,mig.mode.pending --format=csv");
    assert_string_equal(line_of(&c, 2), "nvidia-smi mig -i 0 -dci");
    assert_string_equal(line_of(&c, 3), "nvidia-smi mig -i 0 -dgi");
    assert_string_equal(line_of(&c, 4), "nvidia-smi mig -i 0 -cgi 9,5 -C");
    assert_string_equal(line_of(&c, 5), "nvidia-smi mig -i 0 -lgi");
    assert_string_equal(c.v[4].argv[5], "9,5");
    assert_null(c.v[4].argv[7]);
    assert_non_null(strstr(c.v[0].why, "resets the GPU"));
    assert_true(note_has(&c, "InfoROM"));
    assert_true(note_has(&c, "450.80.02"));
    assert_true(note_has(&c, "does not roll back"));
    gp_mig_commands_clear(&c);

    /* all-balanced: 3g first, then the 2g, then the 1g (NVIDIA: 9,19,14,19 works, 19,19,14,9 does not) */
    commands_of("a100-40gb", "1g.5gb:2,2g.10gb,3g.20gb", NULL, "0000:41:00.0", &c);
    assert_string_equal(line_of(&c, 4), "nvidia-smi mig -i 0000:41:00.0 -cgi 9,14,19,19 -C");
    gp_mig_commands_clear(&c);
    commands_of("a100-40gb", "1g.10gb", NULL, "0", &c);
    assert_true(note_has(&c, "1g.10gb on the A100 40GB needs driver R525 or later"));
    gp_mig_commands_clear(&c);

    /* Hopper: no reset, mode not persistent */
    commands_of("h100-80gb", "9,9", NULL, "1", &c);
    assert_string_equal(line_of(&c, 4), "nvidia-smi mig -i 1 -cgi 9,9 -C");
    assert_non_null(strstr(c.v[0].why, "no reset"));
    assert_true(note_has(&c, "lasts only while the nvidia driver is loaded"));
    assert_false(note_has(&c, "InfoROM"));
    gp_mig_commands_clear(&c);

    /* unconfirmed IDs: profiles by name */
    commands_of("b200-180gb", "3g.90gb,4g.90gb", NULL, "0", &c);
    assert_string_equal(line_of(&c, 4), "nvidia-smi mig -i 0 -cgi 3g.90gb,4g.90gb -C");
    assert_true(note_has(&c, "not confirmed"));
    assert_true(note_has(&c, "570.133.20"));
    assert_true(note_has(&c, "-lgipp"));
    gp_mig_commands_clear(&c);

    /* A30 IDs */
    commands_of("a30", "2g.12gb:2", NULL, "0", &c);
    assert_string_equal(line_of(&c, 4), "nvidia-smi mig -i 0 -cgi 5,5 -C");
    gp_mig_commands_clear(&c);

    /* RTX PRO 6000 Workstation: display mode and vBIOS */
    assert_int_equal(gp_mig_card_by_pci(0x10de, 0x2bb1, &card, NULL), 0);
    commands_of("rtx-pro-6000", "2g.48gb,1g.24gb:2", card, "0", &c);
    assert_string_equal(line_of(&c, 4), "nvidia-smi mig -i 0 -cgi 5,14,14 -C");
    assert_true(note_has(&c, "DisplayModeSelector"));
    assert_true(note_has(&c, "98.02.55.00.00"));
    assert_true(note_has(&c, "only the +gfx profiles"));
    gp_mig_commands_clear(&c);
    commands_of("rtx-pro-6000", "35:2", card, "0", &c);
    assert_false(note_has(&c, "only the +gfx profiles"));
    gp_mig_commands_clear(&c);

    /* refused: a bad GPU name, an infeasible plan */
    assert_int_equal(plan("a100-80gb", "9", &p, &err), 0);
    assert_int_equal(gp_mig_plan_commands(&p, NULL, "0; reboot", &c, &err), -EINVAL);
    assert_non_null(strstr(gp_error_message(&err), "GPU '0; reboot'"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_plan_commands(&p, NULL, "", &c, &err), -EINVAL);
    gp_mig_plan_clear(&p);
    assert_int_equal(plan("a100-80gb", "9,9,9", &p, &err), -ENOSPC);
    err = (gp_error){ 0 };
    assert_int_equal(gp_mig_plan_commands(&p, NULL, "0", &c, &err), -EINVAL);
    assert_int_equal(c.n, 0);
    gp_mig_plan_clear(&p);
}

static void test_unit(void **state)
{
    gp_mig_plan p;
    gp_error err = { 0 };
    char *u;

    assert_int_equal(plan("h100-80gb", "9,9", &p, &err), 0);
    assert_int_equal(gp_mig_plan_unit(&p, "0000:41:00.0", &u, &err), 0);
    assert_non_null(strstr(u, "Description=gpupass MIG layout on GPU 0000:41:00.0: 2 × 3g.40gb\n"));
    assert_non_null(strstr(u, "Type=oneshot\nRemainAfterExit=yes\n"));
    assert_non_null(strstr(u, "Before=pve-guests.service\n"));
    /* Hopper: the mode is lost at reboot, so the unit enables it */
    assert_non_null(strstr(u, "ExecStart=/usr/bin/nvidia-smi -i 0000:41:00.0 -mig 1\n"
                              "ExecStart=-/usr/bin/nvidia-smi mig -i 0000:41:00.0 -dci\n"
                              "ExecStart=-/usr/bin/nvidia-smi mig -i 0000:41:00.0 -dgi\n"
                              "ExecStart=/usr/bin/nvidia-smi mig -i 0000:41:00.0 -cgi 9,9 -C\n"));
    assert_non_null(strstr(u, "[Install]\nWantedBy=multi-user.target\n"));
    free(u);
    gp_mig_plan_clear(&p);

    /* Ampere keeps the mode; enabling resets the GPU, so the unit does not */
    assert_int_equal(plan("a100-80gb", "4g.40gb,1g.10gb:3", &p, &err), 0);
    assert_int_equal(gp_mig_plan_unit(&p, "0", &u, &err), 0);
    assert_null(strstr(u, "ExecStart=/usr/bin/nvidia-smi -i 0 -mig 1"));
    assert_non_null(strstr(u, "InfoROM"));
    assert_non_null(strstr(u, "ExecStart=/usr/bin/nvidia-smi mig -i 0 -cgi 5,19,19,19 -C\n"));
    assert_non_null(strstr(u, "4g.40gb + 3 × 1g.10gb"));
    free(u);
    assert_int_equal(gp_mig_plan_unit(&p, "%n", &u, &err), -EINVAL);
    assert_null(u);
    gp_mig_plan_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_lookup_pci),
        cmocka_unit_test(test_lookup_name),
        cmocka_unit_test(test_profile_ids),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_a100_999),
        cmocka_unit_test(test_ampere_7slice),
        cmocka_unit_test(test_hopper),
        cmocka_unit_test(test_blackwell_dc),
        cmocka_unit_test(test_a30),
        cmocka_unit_test(test_rtx_pro),
        cmocka_unit_test(test_starts_collide),
        cmocka_unit_test(test_picture),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_unit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
