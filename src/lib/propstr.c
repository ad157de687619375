/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "propstr.h"
#include "shared/macro.h"

int gp_propstr_parse(const char *s, const char *default_key, gp_propstr *ret)
{
    gp_propstr p = { 0 };
    const char *item = s;
    bool bare_seen = false;

    *ret = p;
    while (item) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        const char *eq = memchr(item, '=', len);
        gp_prop *v;

        if (len == 0) {            /* "a=1,,b=2": PVE skips empty items */
            item = comma ? comma + 1 : NULL;
            continue;
        }
        v = realloc(p.v, (p.n + 1) * sizeof(*v));
        if (!v) {
            gp_propstr_clear(&p);
            return -ENOMEM;
        }
        p.v = v;
        v = &p.v[p.n];
        if (eq) {
            if (eq == item) {
                gp_propstr_clear(&p);
                return -EINVAL;
            }
            v->key = strndup(item, (size_t)(eq - item));
            v->value = strndup(eq + 1, len - (size_t)(eq - item) - 1);
        } else {
            if (!default_key || bare_seen) {
                gp_propstr_clear(&p);
                return -EINVAL;
            }
            bare_seen = true;
            v->key = strdup(default_key);
            v->value = strndup(item, len);
        }
        p.n++;
        if (!v->key || !v->value) {
            gp_propstr_clear(&p);
            return -ENOMEM;
        }
        item = comma ? comma + 1 : NULL;
    }
    *ret = p;
    return 0;
}

const char *gp_propstr_get(const gp_propstr *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].key, key) == 0)
            return p->v[i].value;
    return NULL;
}

void gp_propstr_clear(gp_propstr *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    *p = (gp_propstr){ 0 };
}
