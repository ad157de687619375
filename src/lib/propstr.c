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
        *v = (gp_prop){ 0 };
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
            v->bare = true;
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

int gp_propstr_set(gp_propstr *p, const char *key, const char *value)
{
    char *nv = strdup(value);
    gp_prop *v;

    if (!nv)
        return -ENOMEM;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].key, key) == 0) {
            free(p->v[i].value);
            p->v[i].value = nv;
            return 0;
        }
    v = realloc(p->v, (p->n + 1) * sizeof(*v));
    if (!v) {
        free(nv);
        return -ENOMEM;
    }
    p->v = v;
    p->v[p->n] = (gp_prop){ .key = strdup(key), .value = nv };
    if (!p->v[p->n].key) {
        free(nv);
        return -ENOMEM;
    }
    p->n++;
    return 0;
}

int gp_propstr_delete(gp_propstr *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].key, key) == 0) {
            free(p->v[i].key);
            free(p->v[i].value);
            memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof(p->v[0]));
            p->n--;
            return 1;
        }
    return 0;
}

char *gp_propstr_format(const gp_propstr *p)
{
    size_t len = 1, off = 0;
    char *s;

    for (size_t i = 0; i < p->n; i++)
        len += strlen(p->v[i].key) + strlen(p->v[i].value) + 2;
    s = malloc(len);
    if (!s)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        off += (size_t)sprintf(s + off, "%s%s%s%s", i ? "," : "", p->v[i].bare ? "" : p->v[i].key,
                               p->v[i].bare ? "" : "=", p->v[i].value);
    }
    s[off] = '\0';
    return s;
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
