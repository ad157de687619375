/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container linter: a CT config read the way pve-container reads it
 * (parse_pct_config: only the main section is the config in force), its
 * GPU lines (devN, lxc.mount.entry, lxc.cgroup2.devices.allow) judged
 * against the device nodes this host has (stat'ed, never assumed) and the
 * container's own /etc/group and NVIDIA userland, each with the file line
 * as evidence and the exact line or command that fixes it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gpunodes.h"
#include "lint-lxc.h"
#include "lint-pveconf.h"
#include "propstr.h"
#include "pveconf.h"
#include "pvect.h"
#include "pveguest.h"
#include "strdist.h"

#define NODE_PATH_MAX 128

/* pve-container's schema (LXC/Config.pm $confdesc) outside the numbered
 * families, for guessing what a malformed line meant. */
static const char *const ct_keys[] = {
    "arch", "cmode", "console", "cores", "cpulimit", "cpuunits", "debug", "description", "entrypoint", "env",
    "features", "hookscript", "hostname", "lock", "memory", "nameserver", "onboot", "ostype", "parent",
    "protection", "rootfs", "searchdomain", "snaptime", "startup", "swap", "tags", "template", "timezone", "tty",
    "unprivileged",
};
static const char *const ct_families[] = { "dev", "mp", "net", "unused" };

/* ---- facts about this host, read once per run ---- */

typedef struct gpu_nodes_of {
    int rc;                    /* gp_gpu_nodes_find: 0, -EBUSY (vfio-pci), -ENODEV (no driver), ... */
    gp_gpu_nodes nodes;
} gpu_nodes_of;

typedef struct chardev {
    unsigned major;
    char name[64];
} chardev;

typedef struct lxc_env {
    gpu_nodes_of *g;           /* one per ctx->gpus entry */
    size_t n_g;
    int cgroup2_only;          /* 1: unified hierarchy only, 0: v1 devices controller, -1: unknown */
    chardev *chr;              /* proc/devices "Character devices:" */
    size_t n_chr;
    bool have_chr;
} lxc_env;

static void env_done(lxc_env *e)
{
    for (size_t i = 0; i < e->n_g; i++)
        gp_gpu_nodes_clear(&e->g[i].nodes);
    free(e->g);
    free(e->chr);
    *e = (lxc_env){ 0 };
}

static int read_chardevs(const gp_host *h, lxc_env *e)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    bool in = false;

    if (gp_host_read_file(h, "proc/devices", 256 * 1024, &buf, &len) < 0)
        return 0;
    e->have_chr = true;
    for (char *p = buf; p && *p;) {
        char *nl = strchr(p, '\n'), name[64];
        unsigned major;

        if (nl)
            *nl = '\0';
        if (gp_startswith(p, "Character devices:"))
            in = true;
        else if (gp_startswith(p, "Block devices:"))
            in = false;
        else if (in && sscanf(p, " %u %63s", &major, name) == 2) {
            chardev *c = realloc(e->chr, (e->n_chr + 1) * sizeof(*c));

            if (!c)
                return -ENOMEM;
            e->chr = c;
            c[e->n_chr].major = major;
            snprintf(c[e->n_chr].name, sizeof(c[e->n_chr].name), "%s", name);
            e->n_chr++;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int env_init(const gp_check_ctx *ctx, lxc_env *e)
{
    *e = (lxc_env){ .cgroup2_only = -1 };
    if (ctx->gpus && ctx->pci && ctx->gpus->n) {
        e->g = calloc(ctx->gpus->n, sizeof(*e->g));
        if (!e->g)
            return -ENOMEM;
        e->n_g = ctx->gpus->n;
        for (size_t i = 0; i < e->n_g; i++) {
            gp_error err = { 0 };

            e->g[i].rc = gp_gpu_nodes_find(ctx->h, ctx->pci, &ctx->gpus->gpus[i], &e->g[i].nodes, &err);
            if (e->g[i].rc == -ENOMEM) {
                env_done(e);
                return -ENOMEM;
            }
        }
    }
    /* PVE 7 and later boot with the unified hierarchy only: there the
     * cgroup v1 keys (lxc.cgroup.*) set nothing. */
    if (gp_host_exists(ctx->h, "sys/fs/cgroup/devices"))
        e->cgroup2_only = 0;
    else if (gp_host_exists(ctx->h, "sys/fs/cgroup/cgroup.controllers"))
        e->cgroup2_only = 1;
    if (read_chardevs(ctx->h, e) < 0) {
        env_done(e);
        return -ENOMEM;
    }
    return 0;
}

static const char *chardev_name(const lxc_env *e, unsigned major)
{
    for (size_t i = 0; i < e->n_chr; i++)
        if (e->chr[i].major == major)
            return e->chr[i].name;
    return NULL;
}

/* ---- the state of one container's lint ---- */

typedef enum entry_kind {
    ENT_DEV,                   /* devN: PVE makes the node and its allow line */
    ENT_MOUNT,                 /* lxc.mount.entry: a bind mount, allow lines by hand */
} entry_kind;

typedef struct ct_entry {
    entry_kind kind;
    size_t line;               /* line index in the config */
    unsigned dev_index;        /* N of devN */
    char *value;
    gp_propstr props;          /* devN */
    char src[NODE_PATH_MAX];   /* root-relative source under dev/, "" otherwise */
    gp_devnode st;             /* the source on the host, a link followed */
    int st_rc;                 /* gp_devnode_stat's answer */
} ct_entry;

typedef struct ct_node {
    char path[NODE_PATH_MAX];  /* "dev/dri/renderD128" */
    size_t entry;              /* the entry that passes it */
    bool from_dir;             /* inside a directory that entry binds */
    gp_devnode st;
    int owner;                 /* the GPU whose own node it is (card, render, nvidiaN), or -1 */
} ct_node;

typedef struct ct_allow {
    size_t line;
    char type;                 /* 'a', 'b', 'c' */
    long major, minor;         /* -1: '*' */
    char access[8];
    bool v1;                   /* lxc.cgroup.devices.allow */
    bool effective;            /* false: a v1 line on a cgroup v2 host */
} ct_allow;

typedef struct idmap {
    unsigned ct, host, count;
} idmap;

typedef struct ct_lint {
    gp_pvelint base;           /* config, label, layer "CT <ctid>", findings */
    const lxc_env *env;
    char *text;                /* the config, NUL-terminated */
    bool unprivileged;
    ct_entry *ent;
    size_t n_ent;
    ct_node *nodes;
    size_t n_nodes;
    ct_allow *allow;
    size_t n_allow;
    idmap *gmap;               /* lxc.idmap "g" lines */
    size_t n_gmap;
    bool rootfs_tried;
    int rootfs_rc;
    char *rootfs, *rootfs_how;
    gp_error rootfs_err;
} ct_lint;

/* A host fact as evidence: "/dev/nvidia-uvm: character device 508:0". */
static void add_host_fact(ct_lint *v, gp_finding *f, const char *file, const char *fmt, ...) _printf_(4, 5);
static void add_host_fact(ct_lint *v, gp_finding *f, const char *file, const char *fmt, ...)
{
    char text[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    gp_finding_add_line(v->base.out, f, file, 0, text);
}

/* "devN" with N 0..255 as PVE prints it. */
static bool dev_key(const gp_pveconf_line *l, unsigned *ret)
{
    char key[16];
    unsigned long n;
    char *end;

    if (l->type != GP_PVECONF_LINE_KEY || l->key_len < 4 || l->key_len > 6 || memcmp(l->text, "dev", 3) != 0)
        return false;
    memcpy(key, l->text + 3, l->key_len - 3);
    key[l->key_len - 3] = '\0';
    if (!isdigit((unsigned char)key[0]) || (key[0] == '0' && key[1]))
        return false;
    n = strtoul(key, &end, 10);
    if (*end || n > 255)
        return false;
    *ret = (unsigned)n;
    return true;
}

static bool is_nvidia_dev(const char *path)
{
    const char *d = path + strlen("dev/nvidia");

    return gp_startswith(path, "dev/nvidia") && *d && strspn(d, "0123456789") == strlen(d);
}

/* The per-GPU nodes: each belongs to exactly one GPU. nvidiactl,
 * nvidia-uvm and kfd serve every GPU of their driver. */
static bool per_gpu_path(const char *path)
{
    return is_nvidia_dev(path) || gp_startswith(path, "dev/dri/card") || gp_startswith(path, "dev/dri/renderD");
}

static bool dri_path(const char *path)
{
    return gp_startswith(path, "dev/dri/card") || gp_startswith(path, "dev/dri/renderD");
}

static bool gpu_path(const char *path)
{
    return gp_startswith(path, "dev/nvidia") || gp_startswith(path, "dev/dri/") || strcmp(path, "dev/dri") == 0 ||
           strcmp(path, "dev/kfd") == 0;
}

static const char *vendor_word(uint16_t vendor)
{
    switch (vendor) {
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    default: return "GPU";
    }
}

static const gp_pci_dev *gpu_dev(const ct_lint *v, size_t g)
{
    return &v->base.ctx->pci->devs[v->base.ctx->gpus->gpus[g].dev];
}

/* "0000:01:00.0 (NVIDIA)" */
static void gpu_label(const ct_lint *v, size_t g, char *buf, size_t size)
{
    const gp_pci_dev *d = gpu_dev(v, g);

    snprintf(buf, size, "%s (%s %04x:%04x)", d->name, vendor_word(d->vendor_id), d->vendor_id, d->device_id);
}

/* lstat, and for a link (/dev/dri/by-path/...) the node it names: a bind
 * mount and PVE's devN stat both follow it. */
static int node_stat(const gp_host *h, const char *path, gp_devnode *st)
{
    int r = gp_devnode_stat(h, path, st);

    if (r < 0)
        return r;
    if (st->type == GP_DEVNODE_OTHER) {
        _cleanup_free_ char *target = NULL;
        gp_devnode t;

        if (gp_host_resolve(h, path, &target) == 0 && strcmp(target, path) != 0 &&
            gp_devnode_stat(h, target, &t) == 0 && t.type != GP_DEVNODE_ABSENT)
            *st = t;
    }
    return 0;
}

/* The GPU (index) whose own node path is, or -1. */
static int node_owner(const ct_lint *v, const char *path)
{
    int owner = -1;

    if (!per_gpu_path(path))
        return -1;
    for (size_t g = 0; g < v->env->n_g; g++) {
        const gpu_nodes_of *o = &v->env->g[g];

        if (o->rc < 0)
            continue;
        for (size_t i = 0; i < o->nodes.n; i++)
            if (strcmp(o->nodes.v[i].node.path, path) == 0) {
                if (owner >= 0 && owner != (int)g)
                    return -1;
                owner = (int)g;
            }
    }
    return owner;
}

static int add_node(ct_lint *v, const char *path, size_t entry, bool from_dir, const gp_devnode *st)
{
    ct_node *n;

    for (size_t i = 0; i < v->n_nodes; i++)
        if (strcmp(v->nodes[i].path, path) == 0)
            return 0;   /* passed twice: the first line counts */
    n = realloc(v->nodes, (v->n_nodes + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    v->nodes = n;
    n = &v->nodes[v->n_nodes++];
    *n = (ct_node){ .entry = entry, .from_dir = from_dir, .st = *st, .owner = node_owner(v, path) };
    snprintf(n->path, sizeof(n->path), "%s", path);
    return 0;
}

static const ct_node *find_node(const ct_lint *v, const char *path)
{
    for (size_t i = 0; i < v->n_nodes; i++)
        if (strcmp(v->nodes[i].path, path) == 0)
            return &v->nodes[i];
    return NULL;
}

/* "/dev//dri/" -> "dev/dri"; "" when the path is not under /dev. */
static void dev_rel(const char *path, char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = '\0';
    if (!gp_startswith(path, "/dev/"))
        return;
    for (const char *p = path + 1; *p && o + 1 < size; p++) {
        if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
            continue;
        buf[o++] = *p;
    }
    buf[o] = '\0';
    if (strcmp(buf, "dev") == 0)
        buf[0] = '\0';
}

/* ---- reading the config ---- */

static int add_entry(ct_lint *v, entry_kind kind, size_t line, unsigned dev_index, char *value)
{
    ct_entry *e = realloc(v->ent, (v->n_ent + 1) * sizeof(*e));

    if (!e) {
        free(value);
        return -ENOMEM;
    }
    v->ent = e;
    e = &v->ent[v->n_ent++];
    *e = (ct_entry){ .kind = kind, .line = line, .dev_index = dev_index, .value = value };
    return 0;
}

/* "c 226:* rwm", "a": lxc's devices.allow syntax. */
static bool parse_allow(const char *s, ct_allow *a)
{
    char type, maj[16], min[16], acc[8] = "rwm";
    int n;

    s += strspn(s, " \t");
    if (strcmp(s, "a") == 0 || gp_startswith(s, "a ")) {
        a->type = 'a';
        a->major = a->minor = -1;
        snprintf(a->access, sizeof(a->access), "rwm");
        return true;
    }
    n = sscanf(s, "%c %15[0-9*]:%15[0-9*] %7s", &type, maj, min, acc);
    if (n < 3 || (type != 'c' && type != 'b'))
        return false;
    a->type = type;
    a->major = strcmp(maj, "*") == 0 ? -1 : strtol(maj, NULL, 10);
    a->minor = strcmp(min, "*") == 0 ? -1 : strtol(min, NULL, 10);
    snprintf(a->access, sizeof(a->access), "%s", acc);
    return true;
}

static bool allow_covers(const ct_allow *a, const gp_devnode *st)
{
    if (!a->effective || !strchr(a->access, 'r') || !strchr(a->access, 'w'))
        return false;
    if (a->type == 'a')
        return true;
    if (a->type != 'c' || st->type != GP_DEVNODE_CHAR)
        return false;
    return (a->major < 0 || (unsigned long)a->major == st->major) &&
           (a->minor < 0 || (unsigned long)a->minor == st->minor);
}

static int read_config(ct_lint *v)
{
    const gp_pveconf *c = &v->base.conf;
    int r;

    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *l = &c->lines[i];
        unsigned idx;

        if (l->section != 0 || l->type != GP_PVECONF_LINE_KEY)
            continue;
        if (gp_pveconf_line_is_key(l, "unprivileged")) {
            _cleanup_free_ char *val = gp_pveconf_line_value(l);

            if (!val)
                return -ENOMEM;
            v->unprivileged = gp_pveconf_bool(val);
        } else if (dev_key(l, &idx)) {
            char *val = gp_pveconf_line_value(l);

            if (!val || add_entry(v, ENT_DEV, i, idx, val) < 0)
                return -ENOMEM;
        } else if (gp_pveconf_line_is_key(l, "lxc.mount.entry")) {
            char *val = gp_pveconf_line_value(l);

            if (!val || add_entry(v, ENT_MOUNT, i, 0, val) < 0)
                return -ENOMEM;
        } else if (gp_pveconf_line_is_key(l, "lxc.cgroup2.devices.allow") ||
                   gp_pveconf_line_is_key(l, "lxc.cgroup.devices.allow")) {
            _cleanup_free_ char *val = gp_pveconf_line_value(l);
            ct_allow a = { .line = i, .v1 = gp_pveconf_line_is_key(l, "lxc.cgroup.devices.allow") };
            ct_allow *na;

            if (!val)
                return -ENOMEM;
            if (!parse_allow(val, &a))
                continue;
            a.effective = !(a.v1 && v->env->cgroup2_only == 1);
            na = realloc(v->allow, (v->n_allow + 1) * sizeof(*na));
            if (!na)
                return -ENOMEM;
            v->allow = na;
            v->allow[v->n_allow++] = a;
        } else if (gp_pveconf_line_is_key(l, "lxc.idmap")) {
            _cleanup_free_ char *val = gp_pveconf_line_value(l);
            idmap m;
            char t;

            if (!val)
                return -ENOMEM;
            /* Any lxc.idmap line makes the container run with a user
             * namespace (LXC.pm $custom_idmap). */
            v->unprivileged = true;
            if (sscanf(val, " %c %u %u %u", &t, &m.ct, &m.host, &m.count) == 4 && t == 'g') {
                idmap *nm = realloc(v->gmap, (v->n_gmap + 1) * sizeof(*nm));

                if (!nm)
                    return -ENOMEM;
                v->gmap = nm;
                v->gmap[v->n_gmap++] = m;
            }
        }
    }
    /* The sources, as the host has them. */
    for (size_t i = 0; i < v->n_ent; i++) {
        ct_entry *e = &v->ent[i];

        if (e->kind == ENT_DEV) {
            const char *path;

            r = gp_propstr_parse(e->value, "path", &e->props);
            if (r == -ENOMEM)
                return r;
            path = r == 0 ? gp_propstr_get(&e->props, "path") : NULL;
            if (path)
                dev_rel(path, e->src, sizeof(e->src));
        } else {
            char src[256];

            if (sscanf(e->value, "%255s", src) == 1)
                dev_rel(src, e->src, sizeof(e->src));
        }
        if (!e->src[0])
            continue;
        e->st_rc = node_stat(v->base.ctx->h, e->src, &e->st);
        if (e->st_rc < 0)
            continue;
        if ((r = add_node(v, e->src, i, false, &e->st)) < 0)
            return r;
        /* A bind of a directory (/dev/dri) passes the nodes in it: the
         * ones the host's GPUs have there. */
        if (e->kind == ENT_MOUNT && e->st.type == GP_DEVNODE_DIR) {
            size_t plen = strlen(e->src);

            for (size_t g = 0; g < v->env->n_g; g++)
                for (size_t k = 0; v->env->g[g].rc == 0 && k < v->env->g[g].nodes.n; k++) {
                    const gp_devnode *st = &v->env->g[g].nodes.v[k].node;

                    if (strncmp(st->path, e->src, plen) == 0 && st->path[plen] == '/' &&
                        st->type != GP_DEVNODE_ABSENT && (r = add_node(v, st->path, i, true, st)) < 0)
                        return r;
                }
        }
    }
    return 0;
}

static void entries_clear(ct_lint *v)
{
    for (size_t i = 0; i < v->n_ent; i++) {
        free(v->ent[i].value);
        gp_propstr_clear(&v->ent[i].props);
    }
    free(v->ent);
    free(v->nodes);
    free(v->allow);
    free(v->gmap);
    free(v->rootfs);
    free(v->rootfs_how);
    free(v->text);
}

/* ---- fixes ---- */

/* The devN value with one property set, the rest as written. */
static char *dev_value_with(const ct_entry *e, const char *key, const char *value)
{
    gp_propstr p = { 0 };
    char *s = NULL;

    if (gp_propstr_parse(e->value, "path", &p) < 0)
        return NULL;
    if (gp_propstr_set(&p, key, value) >= 0)
        s = gp_propstr_format(&p);
    gp_propstr_clear(&p);
    return s;
}

static void set_dev_fix(ct_lint *v, gp_finding *f, const ct_entry *e, const char *new_value, const char *note)
{
    char word[1024];

    if (!new_value) {
        v->base.out->oom = true;
        return;
    }
    gp_pvelint_shell_word(new_value, word, sizeof(word));
    gp_finding_set_fix(v->base.out, f, "pct set %s --dev%u %s%s%s\n# the line then reads: dev%u: %s", v->base.id_s,
                       e->dev_index, word, note ? "   # " : "", note ? note : "", e->dev_index, new_value);
}

/* The mount entry with its source (and a target that mirrors it) replaced. */
static char *mount_value_with(const ct_entry *e, const char *new_src)
{
    char src[256], target[256];
    int used = 0;
    const char *rest;
    char *s = NULL;

    if (sscanf(e->value, "%255s %255s%n", src, target, &used) != 2)
        return NULL;
    rest = e->value + used;
    if (strcmp(target, src + 1) == 0)
        snprintf(target, sizeof(target), "%s", new_src + 1);
    if (asprintf(&s, "%s %s%s", new_src, target, rest) < 0)
        return NULL;
    return s;
}

/* First free devN index in the main section, or -1. */
static int free_dev_index(const ct_lint *v, int after)
{
    for (int n = after + 1; n <= 255; n++) {
        char key[16];

        snprintf(key, sizeof(key), "dev%d", n);
        if (gp_pveconf_find(&v->base.conf, 0, key) < 0)
            return n;
    }
    return -1;
}

/* The first header's line number (1-based), or 0 without sections. */
static size_t first_header_line(const ct_lint *v)
{
    return v->base.conf.n_sections > 1 ? v->base.conf.sections[1].header + 1 : 0;
}

static void where_to_add(const ct_lint *v, char *buf, size_t size)
{
    size_t h = first_header_line(v);

    if (h)
        snprintf(buf, size, "add to %s above line %zu (the first [section]; raw lxc.* lines only count in the main "
                            "section):", v->base.label, h);
    else
        snprintf(buf, size, "add to %s:", v->base.label);
}

/* ---- config syntax ---- */

static bool key_known(const char *key)
{
    size_t alpha = strcspn(key, "0123456789");

    if (gp_startswith(key, "lxc.") && key[4])
        return true;
    for (size_t i = 0; i < ELEMENTSOF(ct_keys); i++)
        if (strcmp(key, ct_keys[i]) == 0)
            return true;
    if (!key[alpha] || strspn(key + alpha, "0123456789") != strlen(key + alpha))
        return false;
    for (size_t i = 0; i < ELEMENTSOF(ct_families); i++)
        if (strlen(ct_families[i]) == alpha && strncmp(key, ct_families[i], alpha) == 0)
            return true;
    return false;
}

/* How pve-container names and reads CT configs, for lint-pveconf.c. */
static const gp_pvelint_kind ct_kind = {
    .prefix = "lxc",
    .name = "CT",
    .id_name = "CTID",
    .label_max = 95,
    .conf = GP_PVECONF_LXC,
    .dir = "etc/pve/lxc",
    .node_dir = "lxc",
    .subject = "CT configs",
    .plural = "container configs",
    .list_fix = "pct list   # the containers of this node",
    .locate = gp_ct_locate,
    .key_known = key_known,
};

/* Raw lxc.* lines below a [section] header are that snapshot's (or the
 * pending change's) data: only the main section's lines reach the
 * generated /var/lib/lxc/<ctid>/config (LXC.pm update_lxc_config). A line
 * appended at the end of a file with snapshots lands there. */
static void check_raw_after_section(ct_lint *v)
{
    const gp_pveconf *c = &v->base.conf;

    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *l = &c->lines[i];
        const gp_pveconf_section *s = &c->sections[l->section];
        bool in_main = false;
        gp_finding *f;

        if (l->section == 0 || l->type != GP_PVECONF_LINE_KEY || l->key_len <= 4 || strncmp(l->text, "lxc.", 4) != 0)
            continue;
        /* A snapshot keeps a copy of the lxc.* lines in force when it was
         * taken: the same line in the main section is no mistake. */
        for (size_t j = 0; j < c->n_lines && !in_main; j++) {
            const gp_pveconf_line *m = &c->lines[j];

            in_main = m->section == 0 && m->type == GP_PVECONF_LINE_KEY && m->key_len == l->key_len &&
                      memcmp(m->text, l->text, l->key_len) == 0 && m->value_len == l->value_len &&
                      memcmp(m->text + m->value_off, l->text + l->value_off, l->value_len) == 0;
        }
        if (in_main)
            continue;
        f = gp_pvelint_add(&v->base, "lxc.raw-after-section", GP_SEV_WARN, "config sections",
                           "line %zu is under [%.100s]: PVE keeps it as %s data and the container never gets it; only "
                           "lxc.* lines above the first [section] are in force", i + 1, s->name ? s->name : "?",
                           s->type == GP_PVECONF_SECTION_PENDING ? "pending-change" : "snapshot");
        gp_pvelint_add_line(&v->base, f, i);
        gp_pvelint_add_line(&v->base, f, c->sections[1].header);
        gp_finding_set_fix(v->base.out, f, "move line %zu of %s above line %zu (%.*s)%s", i + 1, v->base.label,
                           c->sections[1].header + 1, (int)c->lines[c->sections[1].header].len,
                           c->lines[c->sections[1].header].text,
                           s->type == GP_PVECONF_SECTION_SNAPSHOT ? "; if it is the snapshot's own copy of a line you "
                                                                    "have since removed, leave it" : "");
    }
}

/* ---- device nodes ---- */

/* The nearest existing GPU node to a missing path (a typo, a renumbered
 * card), within 2 edits. */
static const char *suggest_node(const ct_lint *v, const char *path)
{
    const char *best = NULL;
    unsigned best_d = 3;

    for (size_t g = 0; g < v->env->n_g; g++)
        for (size_t k = 0; v->env->g[g].rc == 0 && k < v->env->g[g].nodes.n; k++) {
            const gp_devnode *st = &v->env->g[g].nodes.v[k].node;
            unsigned d;

            if (st->type != GP_DEVNODE_CHAR)
                continue;
            d = gp_name_distance(path, st->path, 2);
            if (d < best_d) {
                best_d = d;
                best = st->path;
            }
        }
    return best;
}

/* What creates a missing node on the host. */
static const char *node_maker(const char *path)
{
    if (gp_startswith(path, "dev/nvidia-uvm"))
        return "nvidia-modprobe -u -c=0   # on the host: loads nvidia-uvm and creates /dev/nvidia-uvm and "
               "/dev/nvidia-uvm-tools (the nvidia-persistenced service does it at boot)";
    if (gp_startswith(path, "dev/nvidia-modeset"))
        return "nvidia-modprobe -m   # on the host: loads nvidia-modeset and creates /dev/nvidia-modeset";
    if (gp_startswith(path, "dev/nvidia-caps"))
        return "nvidia-modprobe -f /proc/driver/nvidia/capabilities/mig/config   # on the host: creates the "
               "/dev/nvidia-caps nodes (only MIG needs them)";
    if (gp_startswith(path, "dev/nvidia"))
        return "nvidia-smi   # on the host: loads the NVIDIA driver and creates /dev/nvidiactl and /dev/nvidiaN "
               "(enable nvidia-persistenced so they exist at boot)";
    if (gp_startswith(path, "dev/dri") || strcmp(path, "dev/kfd") == 0)
        return "ls -l /dev/dri /dev/kfd   # on the host: the nodes its GPU drivers made; `gpupass lxc CTID --gpu "
               "GPU` writes the lines from them";
    return NULL;
}

/* A GPU that lost its host driver: on vfio-pci now (gp_gpu_nodes_find
 * said -EBUSY), else one with no driver at all (-ENODEV); of the vendor
 * whose node this is (any vendor for DRI nodes). */
static int vfio_gpu_for(const ct_lint *v, const char *path)
{
    static const int order[] = { -EBUSY, -ENODEV };

    for (size_t o = 0; o < ELEMENTSOF(order); o++)
        for (size_t g = 0; g < v->env->n_g; g++) {
            if (v->env->g[g].rc != order[o])
                continue;
            if (gp_startswith(path, "dev/nvidia") && gpu_dev(v, g)->vendor_id != 0x10de)
                continue;
            return (int)g;
        }
    return -1;
}

/* A GPU the host drives with a node of the same role, for the fix. */
static int driven_gpu_for(const ct_lint *v, const char *path)
{
    for (size_t g = 0; g < v->env->n_g; g++) {
        if (v->env->g[g].rc != 0)
            continue;
        if (gp_startswith(path, "dev/nvidia") && gpu_dev(v, g)->vendor_id != 0x10de)
            continue;
        return (int)g;
    }
    return -1;
}

static void entry_key(const ct_lint *v, const ct_entry *e, char *buf, size_t size)
{
    if (e->kind == ENT_DEV)
        snprintf(buf, size, "dev%u", e->dev_index);
    else
        snprintf(buf, size, "%.*s", (int)v->base.conf.lines[e->line].key_len, v->base.conf.lines[e->line].text);
}

static void report_on_vfio(ct_lint *v, const ct_entry *e, int g)
{
    const gp_pci_dev *d = gpu_dev(v, (size_t)g);
    bool vfio = v->env->g[g].rc == -EBUSY;
    char label[96], users[256] = "", addr[96] = "GPU";
    size_t o = 0;
    int driven = driven_gpu_for(v, e->src);
    gp_finding *f;

    gpu_label(v, (size_t)g, label, sizeof(label));
    for (size_t i = 0; i < v->base.ctx->vms.n && o + 24 < sizeof(users); i++) {
        const gp_pve_vm *vm = &v->base.ctx->vms.v[i];

        for (size_t k = 0; k < vm->n_hostpci; k++)
            if (gp_pve_hostpci_matches(&vm->hostpci[k], d->name)) {
                o += (size_t)snprintf(users + o, sizeof(users) - o, "%sVM %u%s", o ? ", " : " (", vm->vmid,
                                      vm->running ? ", running" : "");
                break;
            }
    }
    if (o && o + 10 < sizeof(users))
        snprintf(users + o, sizeof(users) - o, " takes it)");
    /* Bound to vfio-pci, a GPU has no host driver: its DRM nodes are gone
     * (its NVIDIA node may linger), and only a VM can use it. */
    if (vfio)
        f = gp_pvelint_add(&v->base, "lxc.gpu-on-vfio", GP_SEV_FAIL, "device nodes",
                           "/%s belongs to no GPU the host drives now: %s is bound to vfio-pci for VMs%s; a container "
                           "cannot use a GPU while vfio-pci holds it", e->src, label, users);
    else
        f = gp_pvelint_add(&v->base, "lxc.gpu-on-vfio", GP_SEV_FAIL, "device nodes",
                           "/%s belongs to no GPU the host drives now: %s has no host driver, and a container uses "
                           "the host's", e->src, label);
    gp_pvelint_add_line(&v->base, f, e->line);
    gp_finding_add_device_text(v->base.out, f, d->name, vfio ? "bound to vfio-pci" : "no driver");
    if (driven >= 0)
        snprintf(addr, sizeof(addr), "%s", gpu_dev(v, (size_t)driven)->name);
    if (vfio)
        gp_finding_set_fix(v->base.out, f,
                           "gpupass lxc %s --gpu %s   # %s\n# or give %s back to its host driver (stop the "
                           "VMs that use it, undo its vfio-pci binding) and run gpupass lxc %s --gpu %s", v->base.id_s,
                           addr, driven >= 0 ? "a GPU the host drives" : "the lines for a GPU the host drives", d->name,
                           v->base.id_s, d->name);
    else
        gp_finding_set_fix(v->base.out, f,
                           "gpupass lxc %s --gpu %s   # %s\n# or load the driver of %s (lspci -k -s %s "
                           "names the candidates) and run gpupass lxc %s --gpu %s", v->base.id_s, addr,
                           driven >= 0 ? "a GPU the host drives" : "the lines for a GPU the host drives", d->name,
                           d->name, v->base.id_s, d->name);
}

static void check_nodes(ct_lint *v)
{
    for (size_t i = 0; i < v->n_ent; i++) {
        const ct_entry *e = &v->ent[i];
        char key[64];
        bool bad_type;
        gp_finding *f;

        if (!e->src[0] || e->st_rc < 0)
            continue;
        entry_key(v, e, key, sizeof(key));
        if (per_gpu_path(e->src) && node_owner(v, e->src) < 0 && vfio_gpu_for(v, e->src) >= 0 &&
            (e->st.type == GP_DEVNODE_ABSENT || e->st.type == GP_DEVNODE_CHAR)) {
            report_on_vfio(v, e, vfio_gpu_for(v, e->src));
            continue;
        }
        if (e->st.type == GP_DEVNODE_ABSENT) {
            const char *sugg = suggest_node(v, e->src), *maker = node_maker(e->src);
            char did[200] = "";

            if (sugg)
                snprintf(did, sizeof(did), " (did you mean /%s?)", sugg);
            /* PVE stats each devN path when the container starts; lxc
             * fails a bind mount of a missing source, or skips it when the
             * entry says "optional" and the container runs without it. */
            f = gp_pvelint_add(&v->base, "lxc.node-missing", GP_SEV_FAIL, "device nodes",
                               "/%s does not exist on this host%s; %s", e->src, did,
                               e->kind == ENT_DEV ? "the container does not start"
                               : strstr(e->value, "optional") ? "lxc skips the optional mount and the container has no "
                                                                "such device"
                                                              : "lxc fails the mount and the container does not start");
            gp_pvelint_add_line(&v->base, f, e->line);
            if (sugg && e->kind == ENT_DEV) {
                char path[NODE_PATH_MAX + 2];
                _cleanup_free_ char *nv = NULL;

                snprintf(path, sizeof(path), "/%s", sugg);
                nv = dev_value_with(e, "path", path);
                set_dev_fix(v, f, e, nv, NULL);
            } else if (sugg) {
                char path[NODE_PATH_MAX + 2];
                _cleanup_free_ char *nv = NULL;

                snprintf(path, sizeof(path), "/%s", sugg);
                nv = mount_value_with(e, path);
                if (nv)
                    gp_finding_set_fix(v->base.out, f, "line %zu should read: %s: %s", e->line + 1, key, nv);
                else
                    v->base.out->oom = true;
            } else if (maker && e->kind == ENT_DEV)
                gp_finding_set_fix(v->base.out, f,
                                   "%s\n# or, if the container does not need it: pct set %s --delete dev%u", maker,
                                   v->base.id_s, e->dev_index);
            else if (maker)
                gp_finding_set_fix(v->base.out, f, "%s\n# or, if the container does not need it: delete line %zu of %s",
                                   maker, e->line + 1, v->base.label);
            else
                gp_finding_set_fix(v->base.out, f, "delete line %zu of %s, or create /%s on the host first",
                                   e->line + 1, v->base.label, e->src);
            continue;
        }
        /* devN may name a block device too; a bind mount may name a
         * directory. A GPU path must be a character device. */
        bad_type = e->st.type == GP_DEVNODE_OTHER || (e->kind == ENT_DEV && e->st.type == GP_DEVNODE_DIR) ||
                   (gpu_path(e->src) && e->st.type == GP_DEVNODE_BLOCK) ||
                   (gpu_path(e->src) && e->st.type == GP_DEVNODE_DIR && e->kind == ENT_MOUNT &&
                    (per_gpu_path(e->src) || strcmp(e->src, "dev/kfd") == 0 || gp_startswith(e->src, "dev/nvidia-u") ||
                     strcmp(e->src, "dev/nvidiactl") == 0));
        if (bad_type) {
            const char *what = e->st.type == GP_DEVNODE_DIR     ? "a directory"
                               : e->st.type == GP_DEVNODE_BLOCK ? "a block device"
                                                                : "a regular file or a link";
            const char *maker = node_maker(e->src);
            int driven = driven_gpu_for(v, e->src);

            f = gp_pvelint_add(&v->base, "lxc.node-not-char", GP_SEV_FAIL, "device nodes",
                               "/%s on this host is %s, not a character device%s", e->src, what,
                               e->st.type == GP_DEVNODE_OTHER ? " (left behind by a bind mount or a copy made while "
                                                                "the driver was not loaded?)"
                               : e->kind == ENT_DEV && e->st.type == GP_DEVNODE_DIR ? ": devN takes one device node"
                                                                                    : "");
            gp_pvelint_add_line(&v->base, f, e->line);
            add_host_fact(v, f, "/dev", "/%s: %s", e->src, what);
            if (e->kind == ENT_DEV && e->st.type == GP_DEVNODE_DIR)
                gp_finding_set_fix(v->base.out, f,
                                   "gpupass lxc %s --gpu %s --style dev   # one devN line per node in /%s",
                                   v->base.id_s, driven >= 0 ? gpu_dev(v, (size_t)driven)->name : "GPU", e->src);
            else
                gp_finding_set_fix(v->base.out, f,
                                   "%s /%s   # on the host: it stands where the device node belongs%s%s",
                                   e->st.type == GP_DEVNODE_DIR ? "rmdir" : "rm", e->src, maker ? "\n" : "",
                                   maker ? maker : "");
        }
    }
}

/* ---- cgroup device rules ---- */

static bool gpu_driver_name(const char *name)
{
    return gp_startswith(name, "nvidia") || strcmp(name, "drm") == 0 || strcmp(name, "kfd") == 0 ||
           strcmp(name, "amdkfd") == 0;
}

static void allow_text(const ct_allow *a, char *buf, size_t size)
{
    char maj[16], min[16];

    if (a->type == 'a') {
        snprintf(buf, size, "a");
        return;
    }
    snprintf(maj, sizeof(maj), a->major < 0 ? "*" : "%ld", a->major);
    snprintf(min, sizeof(min), a->minor < 0 ? "*" : "%ld", a->minor);
    snprintf(buf, size, "%c %s:%s %s", a->type, maj, min, a->access);
}

/*
 * lxc's device cgroup (an eBPF program on cgroup v2) denies every node no
 * allow line names: a bind-mounted node shows in the container but open()
 * fails with EPERM. devN lines need none (PVE writes their allow line).
 * Majors of nvidia-uvm and nvidia-caps are handed out at module load, so a
 * line copied from a guide or another host names a major nobody has.
 */
static void check_allow(ct_lint *v)
{
    _cleanup_free_ bool *used = calloc(v->n_allow ? v->n_allow : 1, sizeof(bool));
    _cleanup_free_ size_t *unc = calloc(v->n_nodes ? v->n_nodes : 1, sizeof(size_t));
    size_t n_unc = 0, next_dangling = 0;

    if (!used || !unc) {
        v->base.out->oom = true;
        return;
    }
    /* The mounted GPU nodes no line allows, one per major. */
    for (size_t i = 0; i < v->n_nodes; i++) {
        const ct_node *n = &v->nodes[i];
        bool covered = false, seen = false;

        if (v->ent[n->entry].kind != ENT_MOUNT || n->st.type != GP_DEVNODE_CHAR || !gpu_path(n->path))
            continue;
        for (size_t a = 0; a < v->n_allow && !covered; a++)
            covered = allow_covers(&v->allow[a], &n->st);
        for (size_t k = 0; k < n_unc && !seen; k++)
            seen = v->nodes[unc[k]].st.major == n->st.major;
        if (!covered && !seen)
            unc[n_unc++] = i;
    }
    for (size_t k = 0; k < n_unc; k++) {
        const ct_node *n = &v->nodes[unc[k]];
        long dangling = -1, v1_cover = -1;
        char have[64], fixed[64];
        gp_finding *f;

        /* The next allow line for a major this container passes no node
         * of, and that no other driver owns now: a stale major. */
        for (size_t a = next_dangling; a < v->n_allow && dangling < 0; a++) {
            const ct_allow *al = &v->allow[a];
            const char *drv;
            bool matches = false;

            if (used[a] || al->type != 'c' || al->major < 0)
                continue;
            for (size_t j = 0; j < v->n_nodes && !matches; j++)
                matches = v->nodes[j].st.type == GP_DEVNODE_CHAR && v->nodes[j].st.major == (unsigned long)al->major;
            drv = chardev_name(v->env, (unsigned)al->major);
            if (!matches && (!drv || gpu_driver_name(drv)))
                dangling = (long)a;
        }
        for (size_t a = 0; a < v->n_allow && v1_cover < 0; a++) {
            ct_allow t = v->allow[a];

            t.effective = true;
            if (!v->allow[a].effective && allow_covers(&t, &n->st))
                v1_cover = (long)a;
        }
        if (dangling >= 0) {
            const ct_allow *al = &v->allow[dangling];
            const char *drv = chardev_name(v->env, (unsigned)al->major);
            bool keep_v1 = al->v1 && v->env->cgroup2_only != 1;

            used[dangling] = true;
            next_dangling = (size_t)dangling + 1;
            allow_text(al, have, sizeof(have));
            snprintf(fixed, sizeof(fixed), "c %u:* %s", n->st.major, al->access);
            f = gp_pvelint_add(&v->base, "lxc.major-mismatch", GP_SEV_FAIL, "device access",
                               "%s allows nothing this container mounts; /%s is %u:%u on this host, and no line "
                               "allows major %u: opening it in the container fails with \"Operation not "
                               "permitted\"%s%s%s", have, n->path, n->st.major, n->st.minor, n->st.major,
                               drv ? " (" : "",
                               drv ? drv : " (no driver has that major now: nvidia-uvm's major is given out when the "
                                           "module loads and differs between hosts and driver versions)",
                               drv ? " has that major now)" : "");
            gp_pvelint_add_line(&v->base, f, al->line);
            gp_pvelint_add_line(&v->base, f, v->ent[n->entry].line);
            add_host_fact(v, f, "/proc/devices", "/%s: character device %u:%u", n->path, n->st.major, n->st.minor);
            gp_finding_set_fix(v->base.out, f, "line %zu should read: %s: %s", al->line + 1,
                               keep_v1 ? "lxc.cgroup.devices.allow" : "lxc.cgroup2.devices.allow", fixed);
            continue;
        }
        if (v1_cover >= 0) {
            const ct_allow *al = &v->allow[v1_cover];

            allow_text(al, have, sizeof(have));
            f = gp_pvelint_add(&v->base, "lxc.allow-missing", GP_SEV_FAIL, "device access",
                               "/%s (%u:%u) is allowed only by a cgroup v1 line (lxc.cgroup.devices.allow), which "
                               "sets nothing on this host's cgroup v2: opening it in the container fails with "
                               "\"Operation not permitted\"", n->path, n->st.major, n->st.minor);
            gp_pvelint_add_line(&v->base, f, al->line);
            gp_pvelint_add_line(&v->base, f, v->ent[n->entry].line);
            gp_finding_set_fix(v->base.out, f, "line %zu should read: lxc.cgroup2.devices.allow: %s", al->line + 1,
                               have);
            continue;
        }
        {
            char where[300];

            where_to_add(v, where, sizeof(where));
            f = gp_pvelint_add(&v->base, "lxc.allow-missing", GP_SEV_FAIL, "device access",
                               "/%s (%u:%u) is mounted into the container but no lxc.cgroup2.devices.allow line "
                               "allows major %u: opening it fails with \"Operation not permitted\"", n->path,
                               n->st.major, n->st.minor, n->st.major);
            gp_pvelint_add_line(&v->base, f, v->ent[n->entry].line);
            add_host_fact(v, f, "/proc/devices", "/%s: character device %u:%u", n->path, n->st.major, n->st.minor);
            gp_finding_set_fix(v->base.out, f, "%s\nlxc.cgroup2.devices.allow: c %u:* rwm", where, n->st.major);
        }
    }
}

/* ---- NVIDIA ---- */

static bool passes_nvidia(const ct_lint *v)
{
    for (size_t i = 0; i < v->n_nodes; i++)
        if (is_nvidia_dev(v->nodes[i].path) || strcmp(v->nodes[i].path, "dev/nvidiactl") == 0)
            return true;
    return false;
}

/* CUDA opens /dev/nvidia-uvm for its unified memory; without it
 * cuInit fails with CUDA_ERROR_UNKNOWN (999), "no CUDA-capable device is
 * detected" in the runtime, though nvidia-smi (which needs only
 * nvidiactl and nvidiaN) works. */
static void check_uvm(ct_lint *v)
{
    const ct_node *uvm = find_node(v, "dev/nvidia-uvm");
    bool dev_style = false;
    gp_devnode host_uvm = { 0 }, host_tools = { 0 };
    size_t evidence = 0;
    gp_finding *f;

    if (!passes_nvidia(v))
        return;
    /* A misspelt /dev/nvidia-uvm line is node-missing's, with its fix. */
    for (size_t i = 0; i < v->n_ent; i++) {
        const char *sugg = v->ent[i].st_rc == 0 && v->ent[i].st.type == GP_DEVNODE_ABSENT && v->ent[i].src[0]
                               ? suggest_node(v, v->ent[i].src) : NULL;

        if (sugg && strcmp(sugg, "dev/nvidia-uvm") == 0)
            return;
    }
    for (size_t i = 0; i < v->n_nodes; i++)
        if (is_nvidia_dev(v->nodes[i].path) || strcmp(v->nodes[i].path, "dev/nvidiactl") == 0) {
            dev_style = v->ent[v->nodes[i].entry].kind == ENT_DEV;
            evidence = v->ent[v->nodes[i].entry].line;
            break;
        }
    (void)node_stat(v->base.ctx->h, "dev/nvidia-uvm", &host_uvm);
    (void)node_stat(v->base.ctx->h, "dev/nvidia-uvm-tools", &host_tools);
    if (!uvm) {
        char fix[1200], where[300];
        size_t o = 0;
        int major = host_uvm.type == GP_DEVNODE_CHAR ? (int)host_uvm.major
                                                     : gp_chardev_major(v->base.ctx->h, "nvidia-uvm");

        f = gp_pvelint_add(&v->base, "lxc.uvm-missing", GP_SEV_FAIL, "NVIDIA nodes",
                           "the container gets the NVIDIA device nodes but not /dev/nvidia-uvm: nvidia-smi works, "
                           "CUDA fails with \"no CUDA-capable device is detected\" (error 999)");
        gp_pvelint_add_line(&v->base, f, evidence);
        if (host_uvm.type != GP_DEVNODE_CHAR)
            o += (size_t)snprintf(fix + o, sizeof(fix) - o, "nvidia-modprobe -u -c=0   # on the host first: "
                                  "/dev/nvidia-uvm does not exist yet\n");
        if (dev_style) {
            int k = free_dev_index(v, -1);

            snprintf(fix + o, sizeof(fix) - o, "pct set %s --dev%d /dev/nvidia-uvm", v->base.id_s, k < 0 ? 0 : k);
        } else {
            bool covered = false;

            for (size_t a = 0; a < v->n_allow && !covered && host_uvm.type == GP_DEVNODE_CHAR; a++)
                covered = allow_covers(&v->allow[a], &host_uvm);
            where_to_add(v, where, sizeof(where));
            o += (size_t)snprintf(fix + o, sizeof(fix) - o, "%s\nlxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm "
                                  "none bind,optional,create=file", where);
            if (!covered && major >= 0 && o < sizeof(fix))
                snprintf(fix + o, sizeof(fix) - o, "\nlxc.cgroup2.devices.allow: c %d:* rwm", major);
        }
        gp_finding_set_fix(v->base.out, f, "%s", fix);
        return;
    }
    if (host_tools.type == GP_DEVNODE_CHAR && !find_node(v, "dev/nvidia-uvm-tools")) {
        f = gp_pvelint_add(&v->base, "lxc.uvm-missing", GP_SEV_INFO, "NVIDIA nodes",
                           "/dev/nvidia-uvm-tools is not passed: CUDA runs without it, profilers and cuda-gdb need it");
        gp_pvelint_add_line(&v->base, f, v->ent[uvm->entry].line);
        if (v->ent[uvm->entry].kind == ENT_DEV) {
            int k = free_dev_index(v, -1);

            gp_finding_set_fix(v->base.out, f, "pct set %s --dev%d /dev/nvidia-uvm-tools   # only if you profile or "
                                               "debug CUDA in the container", v->base.id_s, k < 0 ? 0 : k);
        } else {
            char where[300];

            where_to_add(v, where, sizeof(where));
            gp_finding_set_fix(v->base.out, f,
                               "%s   # only if you profile or debug CUDA there\nlxc.mount.entry: "
                               "/dev/nvidia-uvm-tools dev/nvidia-uvm-tools none bind,optional,create=file", where);
        }
    }
}

/* ---- which GPU the DRI nodes are ---- */

static int node_role(const char *path)
{
    if (gp_startswith(path, "dev/dri/card"))
        return GP_NODE_CARD;
    if (gp_startswith(path, "dev/dri/renderD"))
        return GP_NODE_RENDER;
    if (strcmp(path, "dev/kfd") == 0)
        return GP_NODE_KFD;
    if (gp_startswith(path, "dev/nvidia"))
        return GP_NODE_NVIDIA;
    return -1;
}

/* The node of GPU g with role (card/render) that exists, or NULL. */
static const char *gpu_node_of_role(const ct_lint *v, size_t g, int role)
{
    const gpu_nodes_of *o = &v->env->g[g];

    for (size_t k = 0; o->rc == 0 && k < o->nodes.n; k++)
        if (node_role(o->nodes.v[k].node.path) == role && o->nodes.v[k].node.type == GP_DEVNODE_CHAR)
            return o->nodes.v[k].node.path;
    return NULL;
}

/*
 * DRI numbering follows probe order, not the slot: on a host with an iGPU
 * and a discrete card, renderD128 is often the iGPU. A config copied from
 * a guide then gives the container the NVIDIA nodes of one GPU and the
 * render node of another.
 */
static void check_render_gpu(ct_lint *v)
{
    int primary = -1, primary_pass = -1;
    size_t dri_gpus = 0, flagged = 0;
    const ct_node *first_dri = NULL;
    bool one_gpu = true;

    for (int pass = 0; pass < 3 && primary < 0; pass++)
        for (size_t i = 0; i < v->n_nodes && primary < 0; i++) {
            const ct_node *n = &v->nodes[i];

            if (n->from_dir || n->owner < 0)
                continue;
            if ((pass == 0 && is_nvidia_dev(n->path)) || (pass == 1 && node_role(n->path) == GP_NODE_RENDER) ||
                (pass == 2 && node_role(n->path) == GP_NODE_CARD)) {
                primary = n->owner;
                primary_pass = pass;
            }
        }
    if (primary < 0)
        return;
    for (size_t i = 0; i < v->n_nodes; i++) {
        const ct_node *n = &v->nodes[i];
        const ct_entry *e = &v->ent[n->entry];
        int role = node_role(n->path);
        bool primary_has_role = false;
        const char *right;
        char other[96], mine[96], key[64];
        gp_finding *f;

        if (n->from_dir || n->owner < 0 || !dri_path(n->path))
            continue;
        if (!first_dri)
            first_dri = n;
        if (n->owner != first_dri->owner)
            one_gpu = false;
        if (n->owner == primary)
            continue;
        for (size_t j = 0; j < v->n_nodes && !primary_has_role; j++)
            primary_has_role = !v->nodes[j].from_dir && v->nodes[j].owner == primary &&
                               node_role(v->nodes[j].path) == role;
        if (primary_has_role)
            continue;   /* both GPUs' nodes of this kind: meant so */
        right = gpu_node_of_role(v, (size_t)primary, role);
        gpu_label(v, (size_t)n->owner, other, sizeof(other));
        gpu_label(v, (size_t)primary, mine, sizeof(mine));
        entry_key(v, e, key, sizeof(key));
        f = gp_pvelint_add(&v->base, "lxc.render-other-gpu", GP_SEV_WARN, "GPU nodes",
                           "/%s is the %s node of %s, not of %s, the GPU the rest of this config passes%s%s; DRI "
                           "numbers follow probe order, not the slot", n->path,
                           role == GP_NODE_CARD ? "card" : "render", other, mine, right ? ": its node is /" : "",
                           right ? right : "");
        gp_pvelint_add_line(&v->base, f, e->line);
        gp_finding_add_device_text(v->base.out, f, gpu_dev(v, (size_t)n->owner)->name, n->path);
        flagged++;
        if (right && e->kind == ENT_DEV && strcmp(e->src, n->path) == 0) {
            char path[NODE_PATH_MAX + 2];
            _cleanup_free_ char *nv = NULL;

            snprintf(path, sizeof(path), "/%s", right);
            nv = dev_value_with(e, "path", path);
            set_dev_fix(v, f, e, nv, "if you meant both GPUs, keep it");
        } else if (right && e->kind == ENT_MOUNT && strcmp(e->src, n->path) == 0) {
            char path[NODE_PATH_MAX + 2];
            _cleanup_free_ char *nv = NULL;

            snprintf(path, sizeof(path), "/%s", right);
            nv = mount_value_with(e, path);
            if (nv)
                gp_finding_set_fix(v->base.out, f, "line %zu should read: %s: %s   # if you meant both GPUs, keep it",
                                   e->line + 1, key, nv);
            else
                v->base.out->oom = true;
        } else
            gp_finding_set_fix(v->base.out, f, "gpupass lxc %s --gpu %s   # the nodes of one GPU; keep line %zu if the "
                                               "container should have both", v->base.id_s,
                               gpu_dev(v, (size_t)primary)->name, e->line + 1);
    }
    /* An NVIDIA node says which GPU is meant; DRI nodes alone do not. */
    if (flagged || !first_dri || !one_gpu || primary_pass == 0)
        return;
    for (size_t g = 0; g < v->env->n_g; g++)
        if (gpu_node_of_role(v, g, GP_NODE_RENDER) || gpu_node_of_role(v, g, GP_NODE_CARD))
            dri_gpus++;
    if (dri_gpus >= 2) {
        char which[96];
        gp_finding *f;

        gpu_label(v, (size_t)first_dri->owner, which, sizeof(which));
        f = gp_pvelint_add(&v->base, "lxc.render-other-gpu", GP_SEV_INFO, "GPU nodes",
                           "/%s is a node of %s; this host has %zu GPUs with DRI nodes, numbered in probe order: "
                           "check it is the one you mean", first_dri->path, which, dri_gpus);
        gp_pvelint_add_line(&v->base, f, v->ent[first_dri->entry].line);
        gp_finding_add_device_text(v->base.out, f, gpu_dev(v, (size_t)first_dri->owner)->name, first_dri->path);
        gp_finding_set_fix(v->base.out, f, "ls -l /dev/dri/by-path   # on the host: which PCI address each card and "
                                           "renderD node is");
    }
}

/* ---- unprivileged containers ---- */

static bool gid_mapped(const ct_lint *v, unsigned host_gid)
{
    for (size_t i = 0; i < v->n_gmap; i++)
        if (host_gid >= v->gmap[i].host && host_gid - v->gmap[i].host < v->gmap[i].count)
            return true;
    return false;
}

/*
 * In a user namespace a host gid without a mapping shows as nogroup
 * (65534), and a host uid as nobody: a 0660 root:render node bind-mounted
 * from the host is nobody's to open. devN nodes are made by PVE with the
 * container's ids instead.
 */
static void check_raw_unprivileged(ct_lint *v)
{
    if (!v->unprivileged)
        return;
    for (size_t i = 0; i < v->n_ent; i++) {
        const ct_entry *e = &v->ent[i];
        const ct_node *n = NULL;
        char gpu[64] = "GPU";
        gp_finding *f;

        if (e->kind != ENT_MOUNT || !e->src[0] ||
            !(gp_startswith(e->src, "dev/dri") || strcmp(e->src, "dev/kfd") == 0))
            continue;
        /* The node itself, or the first render/card node of the directory. */
        for (size_t k = 0; k < v->n_nodes && !n; k++)
            if (v->nodes[k].entry == i && v->nodes[k].st.type == GP_DEVNODE_CHAR)
                n = &v->nodes[k];
        if (!n)
            continue;
        if ((n->st.mode & 006) == 006 || gid_mapped(v, n->st.gid))
            continue;   /* everyone may open it, or its group is mapped */
        for (size_t k = 0; k < v->n_nodes; k++)
            if (v->nodes[k].entry == i && v->nodes[k].owner >= 0) {
                snprintf(gpu, sizeof(gpu), "%s", gpu_dev(v, (size_t)v->nodes[k].owner)->name);
                break;
            }
        f = gp_pvelint_add(&v->base, "lxc.raw-unprivileged", GP_SEV_WARN, "unprivileged container",
                           "the container is unprivileged and line %zu bind-mounts /%s from the host: /%s (host gid "
                           "%u, mode %04o) shows as nobody:nogroup inside, and the container's users cannot open it",
                           e->line + 1, e->src, n->path, n->st.gid, n->st.mode & 07777);
        gp_pvelint_add_line(&v->base, f, e->line);
        gp_finding_set_fix(v->base.out, f, "gpupass lxc %s --gpu %s --style dev   # devN lines: PVE creates the nodes "
                                           "with the container's own gid", v->base.id_s, gpu);
    }
}

/* ---- the container's side: groups and NVIDIA libraries ---- */

static int load_rootfs(ct_lint *v)
{
    if (v->rootfs_tried)
        return v->rootfs_rc;
    v->rootfs_tried = true;
    if (v->base.id == 0)
        v->rootfs_rc = gp_error_set(&v->rootfs_err, -ENOENT, "the CTID is unknown");
    else
        v->rootfs_rc = gp_ct_rootfs(v->base.ctx->h, v->base.id, v->text, &v->rootfs, &v->rootfs_how, &v->rootfs_err);
    if (v->rootfs_rc == -ENOMEM)
        v->base.out->oom = true;
    return v->rootfs_rc;
}

/*
 * devN's gid is a container gid: VA-API opens renderD* as a member of the
 * container's render group, Xorg/DRM masters card* through video, ROCm
 * /dev/kfd through render (udev's 50-udev-default.rules). The numbers
 * differ between distributions (Debian render 104 or 105, Ubuntu 109, ...).
 */
static void check_gids(ct_lint *v)
{
    bool unchecked_reported = false;

    for (size_t i = 0; i < v->n_ent; i++) {
        const ct_entry *e = &v->ent[i];
        const char *group, *gid_s, *mode_s;
        unsigned want, have = 0;
        unsigned long mode = 0660;
        _cleanup_free_ char *etc = NULL;
        gp_finding *f;
        int r;

        if (e->kind != ENT_DEV || !e->src[0] || e->st.type != GP_DEVNODE_CHAR)
            continue;
        if (gp_startswith(e->src, "dev/dri/renderD") || strcmp(e->src, "dev/kfd") == 0)
            group = "render";
        else if (gp_startswith(e->src, "dev/dri/card"))
            group = "video";
        else
            continue;
        mode_s = gp_propstr_get(&e->props, "mode");
        if (mode_s)
            mode = strtoul(mode_s, NULL, 8);
        if ((mode & 006) == 006)
            continue;   /* anyone may open it: the group does not matter */
        if (load_rootfs(v) < 0) {
            if (v->rootfs_rc == -ENOMEM || unchecked_reported || v->base.id == 0)
                continue;
            unchecked_reported = true;
            f = gp_pvelint_add(&v->base, "lxc.gid-mismatch", GP_SEV_INFO, "container groups",
                               "the gid= of the DRI devN lines was not checked: the container's /etc/group cannot be "
                               "read (%s)", gp_error_message(&v->rootfs_err));
            gp_pvelint_add_line(&v->base, f, e->line);
            gp_finding_set_fix(v->base.out, f, "pct exec %s -- getent group %s   # the gid to put in gid=",
                               v->base.id_s, group);
            continue;
        }
        if (asprintf(&etc, "/%s/etc/group", v->rootfs) < 0) {
            v->base.out->oom = true;
            return;
        }
        r = gp_ct_group_gid(v->base.ctx->h, v->rootfs, group, &want);
        if (r == -ENOMEM) {
            v->base.out->oom = true;
            return;
        }
        if (r < 0) {
            f = gp_pvelint_add(&v->base, "lxc.gid-mismatch", GP_SEV_INFO, "container groups",
                               "the container has no '%s' group (%s, %s), so /%s's gid= cannot be checked", group, etc,
                               v->rootfs_how, e->src);
            gp_pvelint_add_line(&v->base, f, e->line);
            gp_finding_set_fix(v->base.out, f, "pct exec %s -- groupadd -r %s   # then give dev%u gid= that group's id",
                               v->base.id_s, group, e->dev_index);
            continue;
        }
        gid_s = gp_propstr_get(&e->props, "gid");
        if (gid_s)
            have = (unsigned)strtoul(gid_s, NULL, 10);
        if (gid_s && have == want)
            continue;
        {
            char want_s[16];
            _cleanup_free_ char *nv = NULL;

            f = gp_pvelint_add(&v->base, "lxc.gid-mismatch", GP_SEV_WARN, "container groups",
                               "dev%u makes /%s with gid %u%s, but the container's %s group is %u: its users cannot "
                               "open the node (%s)", e->dev_index, e->src, have, gid_s ? "" : " (no gid=: root)", group,
                               want,
                               strcmp(e->src, "dev/kfd") == 0 ? "ROCm finds no GPU"
                               : strcmp(group, "render") == 0 ? "VA-API: \"No VA display found\""
                                                              : "\"Permission denied\" on the card node");
            gp_pvelint_add_line(&v->base, f, e->line);
            add_host_fact(v, f, etc, "%s:x:%u (read from %s)", group, want, v->rootfs_how);
            snprintf(want_s, sizeof(want_s), "%u", want);
            nv = dev_value_with(e, "gid", want_s);
            set_dev_fix(v, f, e, nv, NULL);
        }
    }
}

/* nvidia-smi and CUDA refuse a userland of another version than the
 * kernel module: "Failed to initialize NVML: Driver/library version
 * mismatch". A container shares the host's module. */
static void check_nvidia_version(ct_lint *v)
{
    _cleanup_free_ char *host = NULL, *ct = NULL;
    bool any = false;
    size_t line = 0;
    gp_finding *f;
    int r;

    for (size_t i = 0; i < v->n_nodes && !any; i++)
        if (gp_startswith(v->nodes[i].path, "dev/nvidia") && v->nodes[i].st.type == GP_DEVNODE_CHAR) {
            any = true;
            line = v->ent[v->nodes[i].entry].line;
        }
    if (!any || v->base.id == 0)
        return;
    r = gp_host_nvidia_version(v->base.ctx->h, &host);
    if (r == -ENOMEM)
        v->base.out->oom = true;
    if (r < 0)
        return;
    if (load_rootfs(v) < 0) {
        if (v->rootfs_rc == -ENOMEM)
            return;
        f = gp_pvelint_add(&v->base, "lxc.nvidia-version", GP_SEV_INFO, "NVIDIA userland",
                           "the container's NVIDIA libraries were not compared with the host's module %s: %s", host,
                           gp_error_message(&v->rootfs_err));
        gp_pvelint_add_line(&v->base, f, line);
        gp_finding_set_fix(v->base.out, f,
                           "pct exec %s -- nvidia-smi   # says \"Driver/library version mismatch\" when "
                           "they differ", v->base.id_s);
        return;
    }
    r = gp_ct_nvidia_userland(v->base.ctx->h, v->rootfs, &ct);
    if (r == -ENOMEM) {
        v->base.out->oom = true;
        return;
    }
    if (r < 0) {
        f = gp_pvelint_add(&v->base, "lxc.nvidia-version", GP_SEV_INFO, "NVIDIA userland",
                           "the container gets NVIDIA nodes but has no NVIDIA userland (no libnvidia-ml.so.* in %s): "
                           "CUDA and nvidia-smi need the host module's version, %s", v->rootfs_how, host);
        gp_pvelint_add_line(&v->base, f, line);
        add_host_fact(v, f, "/proc/driver/nvidia/version", "kernel module %s", host);
        gp_finding_set_fix(v->base.out, f,
                           "pct push %s NVIDIA-Linux-x86_64-%s.run /root/nvidia.run && pct exec %s -- sh "
                           "/root/nvidia.run --no-kernel-module   # the host's version, without its module",
                           v->base.id_s, host, v->base.id_s);
        return;
    }
    if (strcmp(host, ct) == 0)
        return;
    f = gp_pvelint_add(&v->base, "lxc.nvidia-version", GP_SEV_FAIL, "NVIDIA userland",
                       "the container's NVIDIA userland is %s, the host's kernel module %s: nvidia-smi fails with "
                       "\"Failed to initialize NVML: Driver/library version mismatch\"", ct, host);
    gp_pvelint_add_line(&v->base, f, line);
    add_host_fact(v, f, "/proc/driver/nvidia/version", "kernel module %s", host);
    add_host_fact(v, f, v->rootfs, "libnvidia-ml.so.%s (%s)", ct, v->rootfs_how);
    gp_finding_set_fix(v->base.out, f,
                       "pct push %s NVIDIA-Linux-x86_64-%s.run /root/nvidia.run && pct exec %s -- sh "
                       "/root/nvidia.run --no-kernel-module   # the same version as the host's module; "
                       "remove the container's %s packages first", v->base.id_s, host, v->base.id_s, ct);
}

/* ---- one container ---- */

static int lint_ct(const gp_check_ctx *ctx, const lxc_env *env, const char *label, unsigned ctid, const char *buf,
                   size_t len, gp_findings *out)
{
    ct_lint v = { .env = env };
    gp_finding *bad;
    int r;

    r = gp_pvelint_open(&v.base, &ct_kind, ctx, label, ctid, buf, len, out, &bad);
    if (r != 0) {
        if (r > 0)
            gp_finding_set_fix(out, bad, "restore %s from a backup (`pct config %s` shows what PVE reads)", label,
                               v.base.id_s);
        return r < 0 ? r : gp_findings_status(out);
    }
    v.text = strndup(buf, len);
    if (!v.text) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = read_config(&v)) < 0)
        goto out;
    gp_pvelint_bad_lines(&v.base);
    check_raw_after_section(&v);
    check_nodes(&v);
    check_allow(&v);
    check_uvm(&v);
    check_render_gpu(&v);
    check_raw_unprivileged(&v);
    check_gids(&v);
    check_nvidia_version(&v);
    if (gp_pvelint_holds(&v.base)) {
        if (v.n_nodes)
            gp_pvelint_add(&v.base, "lxc.ok", GP_SEV_PASS, "GPU lines",
                           "CT %s: its device lines match this host's nodes", v.base.id_s);
        else
            gp_pvelint_add(&v.base, "lxc.ok", GP_SEV_PASS, "GPU lines", "CT %s: config holds (no device nodes passed)",
                           v.base.id_s);
    }
    r = 0;
out:
    entries_clear(&v);
    gp_pveconf_clear(&v.base.conf);
    return r < 0 ? r : gp_findings_status(out);
}

int gp_lxc_lint_config(const gp_check_ctx *ctx, const char *label, unsigned ctid, const char *buf, size_t len,
                       gp_findings *out)
{
    lxc_env env;
    int r = env_init(ctx, &env);

    if (r >= 0)
        r = lint_ct(ctx, &env, label, ctid, buf, len, out);
    env_done(&env);
    return r;
}

static int lint_one(const gp_check_ctx *ctx, void *env, const char *label, unsigned ctid, const char *buf, size_t len,
                    gp_findings *out)
{
    return lint_ct(ctx, env, label, ctid, buf, len, out);
}

int gp_lxc_lint(const gp_check_ctx *ctx, const unsigned *ctids, size_t n, gp_findings *out)
{
    lxc_env env;
    int r = env_init(ctx, &env);

    if (r >= 0)
        r = gp_pvelint_configs(ctx, &ct_kind, ctids, n, lint_one, &env, out);
    env_done(&env);
    return r;
}
