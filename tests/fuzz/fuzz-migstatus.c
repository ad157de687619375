/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the nvidia-smi output parsers (migstatus.h): any bytes
 * as the --query-gpu CSV and as the `nvidia-smi mig -lgi` table, then the
 * instances found as a plan of every model. Invariants:
 *   - every string field is NUL-terminated inside its array; modes are
 *     -1, 0 or 1;
 *   - a bus ID the parser returned matches itself in the kernel's form
 *     when it has one;
 *   - gp_mig_plan_from_state gives 0, -ENOENT (with a message) or -ENOMEM;
 *     on 0 the plan holds the GPU's instances, each with a profile of the
 *     model.
 * Plain builds replay tests/fuzz/seeds/migstatus.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migstatus.h"

#define FUZZ_NAME "migstatus"
#define FUZZ_TOKENS ", ", "|", "\n", "MIG ", "Enabled", "Disabled", "[N/A]", "00000000:", "0000:", ":", \
    "+-----+\n", "|====|\n", "3g.40gb", " 9 ", "4:4"
#include "fuzz-main.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    gp_mig_gpu_state *gpus = NULL;
    gp_mig_gi_state *gis = NULL;
    size_t n_gpus = 0, n_gis = 0;
    const gp_mig_model *models;
    size_t n_models = gp_mig_models(&models);
    int k;

    if (!s)
        return 0;
    k = gp_mig_parse_gpus(s, &gpus, &n_gpus);
    FUZZ_CHECK(k >= 0 || k == -ENOMEM);
    for (size_t i = 0; k >= 0 && i < n_gpus; i++) {
        const gp_mig_gpu_state *g = &gpus[i];

        FUZZ_CHECK(memchr(g->bus_id, '\0', sizeof(g->bus_id)) && memchr(g->name, '\0', sizeof(g->name)));
        FUZZ_CHECK(g->mode_current >= -1 && g->mode_current <= 1);
        FUZZ_CHECK(g->mode_pending >= -1 && g->mode_pending <= 1);
        (void)gp_mig_bus_id_is(g->bus_id, "0000:17:00.0");
        if (strlen(g->bus_id) == 16 && g->bus_id[8] == ':') {
            char kernel[32];

            snprintf(kernel, sizeof(kernel), "%s", g->bus_id + 4);
            (void)gp_mig_bus_id_is(g->bus_id, kernel);
        }
    }
    k = gp_mig_parse_gis(s, &gis, &n_gis);
    FUZZ_CHECK(k >= 0 || k == -ENOMEM);
    for (size_t i = 0; k >= 0 && i < n_gis; i++)
        FUZZ_CHECK(memchr(gis[i].profile, '\0', sizeof(gis[i].profile)));
    if (k >= 0 && n_gis) {
        for (size_t m = 0; m < n_models; m++) {
            gp_mig_plan p = { 0 };
            gp_error err = { 0 };
            unsigned gpu = gis[0].gpu;
            size_t want = 0;
            int r;

            for (size_t i = 0; i < n_gis; i++)
                want += gis[i].gpu == gpu;
            r = gp_mig_plan_from_state(&models[m], gis, n_gis, gpu, &p, &err);
            FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENOMEM);
            if (r == -ENOENT)
                FUZZ_CHECK(err.code == r && err.msg[0]);
            if (r == 0) {
                char *pic = NULL;

                FUZZ_CHECK(p.n == want && p.model == &models[m]);
                for (size_t i = 0; i < p.n; i++)
                    FUZZ_CHECK(p.v[i].profile >= models[m].profiles &&
                               p.v[i].profile < models[m].profiles + models[m].n_profiles);
                /* a picture of whatever the driver says: any placement, even overlapping */
                r = gp_mig_plan_picture(&p, &pic);
                FUZZ_CHECK(r == 0 || r == -EINVAL);
                free(pic);
            }
            gp_mig_plan_clear(&p);
        }
    }
    free(gpus);
    free(gis);
    free(s);
    return 0;
}
