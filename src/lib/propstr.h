/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Proxmox "property strings" (PVE::JSONSchema parse_property_string): a
 * comma-separated list of key=value pairs, where the schema's default key may
 * stand without "key=" ("0000:01:00,pcie=1" means host=0000:01:00). Values
 * carry no quoting; a list value uses ';' ("host=01:00.0;01:00.1").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct gp_prop {
    char *key;      /* default_key for a bare value */
    char *value;
    bool bare;      /* written without "key=" */
} gp_prop;

typedef struct gp_propstr {
    gp_prop *v;
    size_t n;
} gp_propstr;

/* -EINVAL for an empty key or a second bare value. */
int gp_propstr_parse(const char *s, const char *default_key, gp_propstr *ret);
/* The value of key, or NULL. Borrowed. */
const char *gp_propstr_get(const gp_propstr *p, const char *key);
/* Sets key to value: in place when the key is there (a bare default value
 * stays bare), else appended as key=value, so an edit keeps the order the
 * user wrote. */
int gp_propstr_set(gp_propstr *p, const char *key, const char *value);
/* Removes key; 1 removed, 0 absent. */
int gp_propstr_delete(gp_propstr *p, const char *key);
/* Joined with ',' and no spaces, as PVE writes it. NULL on ENOMEM. */
char *gp_propstr_format(const gp_propstr *p);
void gp_propstr_clear(gp_propstr *p);
