/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the MIG request parser (mig.h gp_mig_request_parse, on
 * every model of the table) and the planner behind it, plus the card
 * lookup by name. Invariants:
 *   - a request that parses has profiles of its model, counts 1..99, no
 *     profile twice; its spec parses back to the same request and the same
 *     spec; describe works;
 *   - a refusal is -EINVAL with a message;
 *   - a plan (for small requests) either places every instance inside the
 *     axis at a start the profile allows, without overlaps and within the
 *     compute budget, and draws a picture; or refuses with -ENOSPC, a
 *     reason, and suggestions that do fit;
 *   - card lookup by name: 0/-ENOTSUP/-EINVAL/-ENOENT, a card on 0.
 * Plain builds replay tests/fuzz/seeds/mig.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mig.h"

#define FUZZ_NAME "mig"
#define FUZZ_TOKENS ",", ":", " ", "1g.10gb", "3g.40gb", "7g.80gb", "2g.20gb", "+me", "+gfx", "9", "19", "14", \
    "MIG ", ":99", ":100", ":0", "1g.24gb", "4g.40gb"
#include "fuzz-main.h"

static bool same_request(const gp_mig_request *a, const gp_mig_request *b)
{
    if (a->model != b->model || a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].profile != b->v[i].profile || a->v[i].count != b->v[i].count)
            return false;
    return true;
}

static void check_plan(const gp_mig_request *r)
{
    gp_mig_plan p = { 0 };
    gp_error err = { 0 };
    unsigned total = 0, compute = 0;
    int k;

    for (size_t i = 0; i < r->n; i++)
        total += r->v[i].count;
    if (total > 12)
        return;
    k = gp_mig_plan_make(r, &p, &err);
    FUZZ_CHECK(k == 0 || k == -ENOSPC);
    if (k == 0) {
        char *pic = NULL;

        FUZZ_CHECK(p.n == total);
        for (size_t i = 0; i < p.n; i++) {
            const gp_mig_instance *in = &p.v[i];

            FUZZ_CHECK(in->profile && in->size == in->profile->size);
            FUZZ_CHECK(in->start + in->size <= r->model->axis);
            FUZZ_CHECK(in->start < 32 && (in->profile->starts >> in->start) & 1u);
            if (i)
                FUZZ_CHECK(p.v[i - 1].start + p.v[i - 1].size <= in->start);
            compute += in->profile->compute;
        }
        FUZZ_CHECK(compute <= r->model->compute && compute == p.compute_used);
        FUZZ_CHECK(gp_mig_plan_picture(&p, &pic) == 0 && pic);
        free(pic);
    } else {
        FUZZ_CHECK(p.reason && p.reason[0] && err.code == -ENOSPC);
        FUZZ_CHECK(p.n_suggestions <= GP_MIG_SUGGESTIONS_MAX);
        for (size_t i = 0; i < p.n_suggestions; i++) {
            gp_mig_plan q = { 0 };

            FUZZ_CHECK(p.suggestions[i].spec && p.suggestions[i].text);
            FUZZ_CHECK(gp_mig_plan_make(&p.suggestions[i].request, &q, NULL) == 0);
            gp_mig_plan_clear(&q);
        }
    }
    gp_mig_plan_clear(&p);
}

static void one(const gp_mig_model *m, const char *spec)
{
    gp_mig_request r = { 0 }, again = { 0 };
    gp_error err = { 0 };
    char *s, *s2, *d;
    int k = gp_mig_request_parse(m, spec, &r, &err);

    if (k < 0) {
        FUZZ_CHECK(k == -EINVAL && err.code == k && err.msg[0]);
        gp_mig_request_clear(&r);
        return;
    }
    FUZZ_CHECK(r.model == m);
    for (size_t i = 0; i < r.n; i++) {
        FUZZ_CHECK(r.v[i].profile >= m->profiles && r.v[i].profile < m->profiles + m->n_profiles);
        FUZZ_CHECK(r.v[i].count >= 1 && r.v[i].count <= GP_MIG_COUNT_MAX);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(r.v[j].profile != r.v[i].profile);
    }
    s = gp_mig_request_spec(&r);
    FUZZ_CHECK(s);
    FUZZ_CHECK(gp_mig_request_parse(m, s, &again, NULL) == 0 && same_request(&r, &again));
    s2 = gp_mig_request_spec(&again);
    FUZZ_CHECK(s2 && strcmp(s, s2) == 0);
    d = gp_mig_request_describe(&r);
    FUZZ_CHECK(d);
    check_plan(&r);
    free(d);
    free(s2);
    free(s);
    gp_mig_request_clear(&again);
    gp_mig_request_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const gp_mig_model *models;
    const gp_mig_card *card = NULL;
    gp_error err = { 0 };
    size_t n = gp_mig_models(&models);
    char *s = fuzz_cstr(data, size);
    int k;

    if (!s || size > 4096) {
        free(s);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        one(&models[i], s);
    k = gp_mig_card_by_name(s, &card, &err);
    FUZZ_CHECK(k == 0 || k == -ENOTSUP || k == -EINVAL || k == -ENOENT);
    if (k == 0)
        FUZZ_CHECK(card && card->model);
    if (k < 0)
        FUZZ_CHECK(err.code == k);
    free(s);
    return 0;
}
