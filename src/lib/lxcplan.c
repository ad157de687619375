/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "gpunodes.h"
#include "lint-lxc.h"
#include "lint-pveconf.h"
#include "lxcplan.h"
#include "propstr.h"
#include "pveconf.h"
#include "pvect.h"
#include "pveguest.h"

/* pve-container: dev0 .. dev255. */
#define DEV_MAX 256

typedef struct lxc_edit {
    const gp_check_ctx *ctx;
    const gp_lxc_opts *o;
    gp_plan *plan;
    gp_lxc_result *res;
    gp_gpu_nodes nodes;
    gp_pveconf conf;
    bool have_conf;
    long render_gid, video_gid;
    gp_error *err;
} lxc_edit;

/* devN lines arrived in pve-container 5.0.7 (PVE 8.1); gpupass takes them
 * from 8.2 on, where they also work for unprivileged containers without
 * idmap changes. */
static gp_lxc_style auto_style(const gp_host *h)
{
    char v[64];
    unsigned major = 0, minor = 0;

    if (!gp_pve_package_version(h, "pve-manager", v, sizeof(v)) || sscanf(v, "%u.%u", &major, &minor) != 2)
        return GP_LXC_STYLE_RAW;
    return major > 8 || (major == 8 && minor >= 2) ? GP_LXC_STYLE_DEV : GP_LXC_STYLE_RAW;
}

static long node_gid(const lxc_edit *e, const gp_gpu_node *n)
{
    if (n->role == GP_NODE_CARD)
        return e->video_gid;
    if (n->role == GP_NODE_RENDER || n->role == GP_NODE_KFD)
        return e->render_gid;
    return -1;
}

/* "/dev/dri/renderD128,gid=993,mode=0660". NVIDIA nodes are 0666 on the
 * host (the driver's default, NVreg_DeviceFileMode); in the container they
 * must be too, or only its root could run CUDA. */
static int dev_value(const lxc_edit *e, const gp_gpu_node *n, char *buf, size_t size)
{
    long gid = node_gid(e, n);

    if (n->role == GP_NODE_NVIDIA)
        return snprintf(buf, size, "/%s,mode=%04o", n->node.path, n->node.mode ? n->node.mode : 0666) < (int)size
                   ? 0 : -ENAMETOOLONG;
    if (gid >= 0)
        return snprintf(buf, size, "/%s,gid=%ld,mode=0660", n->node.path, gid) < (int)size ? 0 : -ENAMETOOLONG;
    return snprintf(buf, size, "/%s,mode=0666", n->node.path) < (int)size ? 0 : -ENAMETOOLONG;
}

static int add_line(lxc_edit *e, const char *key, const char *value)
{
    _cleanup_free_ char *line = NULL;

    if (asprintf(&line, "%s: %s", key, value) < 0)
        return -ENOMEM;
    return gp_strv_append(&e->res->lines, NULL, line, strlen(line));
}

/* The devN that already passes path, or -1; *free_n gets the first unused N. */
static int dev_index(lxc_edit *e, const char *path, int *free_n)
{
    *free_n = -1;
    for (int i = 0; i < DEV_MAX; i++) {
        _cleanup_free_ char *v = NULL;
        gp_propstr p = { 0 };
        char key[16];
        const char *have;
        bool same;

        snprintf(key, sizeof(key), "dev%d", i);
        if (gp_pveconf_get(&e->conf, 0, key, &v) <= 0) {
            if (*free_n < 0)
                *free_n = i;
            continue;
        }
        if (gp_propstr_parse(v, "path", &p) < 0)
            continue;
        have = gp_propstr_get(&p, "path");
        same = have && strcmp(have, path) == 0;
        gp_propstr_clear(&p);
        if (same)
            return i;
    }
    return -1;
}

static int write_dev(lxc_edit *e)
{
    for (size_t i = 0; i < e->nodes.n; i++) {
        const gp_gpu_node *n = &e->nodes.v[i];
        char value[192], key[32], path[140];
        int have, free_n, r;

        r = dev_value(e, n, value, sizeof(value));
        if (r < 0)
            return r;
        snprintf(path, sizeof(path), "/%s", n->node.path);
        have = e->have_conf ? dev_index(e, path, &free_n) : -1;
        if (have >= 0) {
            /* Passed already: its options are lint's business. */
            snprintf(key, sizeof(key), "dev%d", have);
        } else if (e->have_conf) {
            if (free_n < 0)
                return gp_error_set(e->err, -ECANCELED, "/%s: dev0 to dev255 are all taken", e->res->conf);
            snprintf(key, sizeof(key), "dev%d", free_n);
            r = gp_pveconf_set(&e->conf, key, value);
            if (r < 0)
                return r;
        } else {
            snprintf(key, sizeof(key), "dev%zu", i);
        }
        r = add_line(e, key, value);
        if (r < 0)
            return r;
    }
    return 0;
}

static int write_raw(lxc_edit *e)
{
    bool dri = false;
    int r;

    /* One rule per node, with the major the host really uses (nvidia-uvm
     * and nvidia-caps get theirs at module load), not "c 195:* rwm" for
     * every NVIDIA GPU of the host. */
    for (size_t i = 0; i < e->nodes.n; i++) {
        char value[64];

        snprintf(value, sizeof(value), "c %u:%u rwm", e->nodes.v[i].node.major, e->nodes.v[i].node.minor);
        r = add_line(e, "lxc.cgroup2.devices.allow", value);
        if (r == 0 && e->have_conf)
            r = gp_pveconf_add(&e->conf, "lxc.cgroup2.devices.allow", value);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < e->nodes.n; i++) {
        char value[320];

        /* The target is relative to the container's root (lxc.mount.entry
         * takes it so); create=file makes the mount point. */
        snprintf(value, sizeof(value), "/%s %s none bind,optional,create=file", e->nodes.v[i].node.path,
                 e->nodes.v[i].node.path);
        r = add_line(e, "lxc.mount.entry", value);
        if (r == 0 && e->have_conf)
            r = gp_pveconf_add(&e->conf, "lxc.mount.entry", value);
        if (r < 0)
            return r;
        dri |= e->nodes.v[i].role != GP_NODE_NVIDIA;
    }
    if (dri && e->have_conf) {
        _cleanup_free_ char *unpriv = NULL;

        if (gp_pveconf_get(&e->conf, 0, "unprivileged", &unpriv) < 0)
            return -ENOMEM;
        /* A bind mount keeps the host's owner: the host's render group is
         * not mapped into an unprivileged container, so the node shows as
         * nobody:nogroup there and its 0660 locks everyone out. */
        if (unpriv && strcmp(unpriv, "1") == 0 &&
            gp_plan_add_note(e->plan, "The container is unprivileged: a bind-mounted /dev/dri node keeps the host's "
                             "group, which shows as nogroup inside, and its users cannot open it. Use --style dev "
                             "(PVE creates the node with the container's render gid).") < 0)
            return -ENOMEM;
    }
    return 0;
}

static int read_gids(lxc_edit *e, const char *text)
{
    _cleanup_free_ char *rootfs = NULL, *how = NULL;
    gp_error why = { 0 };
    unsigned gid;
    int r;

    e->render_gid = e->o->render_gid;
    e->video_gid = e->o->video_gid;
    if (e->render_gid >= 0 && e->video_gid >= 0)
        return 0;
    r = gp_ct_rootfs(e->ctx->h, e->o->ctid, text, &rootfs, &how, &why);
    if (r < 0) {
        if (r == -ENOMEM)
            return r;
        return gp_plan_add_note(e->plan, "The container's /etc/group cannot be read (%s): its render and video "
                                "gids are unknown, so the DRI nodes get mode 0666. Name them with --render-gid and "
                                "--video-gid (pct exec %u -- getent group render video).", gp_error_message(&why),
                                e->o->ctid);
    }
    if (e->render_gid < 0 && gp_ct_group_gid(e->ctx->h, rootfs, "render", &gid) == 0)
        e->render_gid = gid;
    if (e->video_gid < 0 && gp_ct_group_gid(e->ctx->h, rootfs, "video", &gid) == 0)
        e->video_gid = gid;
    if (asprintf(&e->res->gids_from, "%s: render %ld, video %ld", how, e->render_gid, e->video_gid) < 0)
        return -ENOMEM;
    if (e->render_gid < 0)
        return gp_plan_add_note(e->plan, "The container has no render group (%s): install its GPU userland (it "
                                "creates the group), or name one with --render-gid.", how);
    return 0;
}

static int nodes_ok(lxc_edit *e)
{
    _cleanup_free_ char *all = NULL;
    size_t len = 0;
    FILE *f;

    if (!e->nodes.problems)
        return 0;
    f = open_memstream(&all, &len);
    if (!f)
        return -ENOMEM;
    for (char **p = e->nodes.problems; *p; p++)
        fprintf(f, "%s%s", p == e->nodes.problems ? "" : "; ", *p);
    if (fclose(f) != 0)
        return -ENOMEM;
    return gp_error_set(e->err, -ECANCELED, "%s: %s", e->ctx->pci->devs[e->ctx->gpus->gpus[e->o->gpu].dev].name,
                        all);
}

static int conf_read(lxc_edit *e, char **text, size_t *len)
{
    const gp_check_ctx *ctx = e->ctx;
    _cleanup_free_ char *lock = NULL;
    char label[512];
    int r;

    r = gp_ct_locate(ctx->h, e->o->ctid, &e->res->conf, e->err);
    if (r < 0)
        return r;
    r = gp_host_read_file(ctx->h, e->res->conf, GP_PVECONF_MAX + 1, text, len);
    if (r < 0)
        return gp_error_set(e->err, r, "/%s: %s", e->res->conf,
                            r == -EFBIG ? "larger than the 1 MiB PVE allows" : strerror(-r));
    snprintf(label, sizeof(label), "/%s", e->res->conf);
    r = gp_pveconf_parse(*text, *len, GP_PVECONF_LXC, label, &e->conf, e->err);
    if (r < 0)
        return r == -ENOMEM ? r : -ECANCELED;
    e->have_conf = true;
    for (size_t i = 0; i < e->conf.n_lines; i++)
        if (e->conf.lines[i].section == 0 && e->conf.lines[i].type == GP_PVECONF_LINE_BAD)
            return gp_error_set(e->err, -ECANCELED, "%s:%zu: %s (\"%.60s\"); PVE cannot read it either: fix the line, "
                                "then run gpupass again", label, i + 1, e->conf.lines[i].why_bad,
                                e->conf.lines[i].text);
    if (gp_pveconf_get(&e->conf, 0, "lock", &lock) < 0)
        return -ENOMEM;
    /* pve-container's lock: key: a backup, migration or snapshot runs. */
    if (lock && asprintf(&e->res->refuse_apply, "CT %u is locked (%s): wait for that task to end (or `pct unlock "
                         "%u` if it died)", e->o->ctid, lock, e->o->ctid) < 0)
        return -ENOMEM;
    return 0;
}

/* DRI lines already in the config that are not this GPU's nodes: with
 * several GPUs, card and render numbers follow probe order, and a guide's
 * renderD128 is often another card's. */
static int other_gpu_lines(lxc_edit *e)
{
    for (size_t i = 0; i < e->conf.n_lines; i++) {
        const gp_pveconf_line *l = &e->conf.lines[i];
        const char *v = l->text + l->value_off, *p;
        char key[64], path[128];
        size_t n;
        bool ours = false;

        if (l->section != 0 || l->type != GP_PVECONF_LINE_KEY || !(p = strstr(v, "/dev/dri/")) ||
            (size_t)(p - l->text) >= l->value_off + l->value_len)
            continue;
        n = strcspn(p + 1, ", \t");
        snprintf(path, sizeof(path), "%.*s", (int)(n < 120 ? n : 120), p + 1);
        if (strncmp(path, "dev/dri/card", 12) != 0 && strncmp(path, "dev/dri/renderD", 15) != 0)
            continue;
        for (size_t k = 0; k < e->nodes.n && !ours; k++)
            ours = strcmp(e->nodes.v[k].node.path, path) == 0;
        if (!ours && gp_plan_add_note(e->plan, "line %zu (%s) passes /%s, which is not a node of %s: another GPU's. "
                                      "Remove it unless the container should have that GPU too.", i + 1,
                                      gp_pveconf_line_key(l, key, sizeof(key)), path,
                                      e->ctx->pci->devs[e->ctx->gpus->gpus[e->o->gpu].dev].name) < 0)
            return -ENOMEM;
    }
    return 0;
}

/*
 * What lines already in the config still get wrong (another GPU's node, a
 * gid that is not the container's) is lxc lint's word on the planned
 * config. Lint guesses which GPU a config means; the plan knows it, and
 * says so itself (other_gpu_lines), as it says what raw lines cost in an
 * unprivileged container (write_raw): those findings are left out.
 */
static const char *const lint_knows_less[] = { "lxc.render-other-gpu", "lxc.raw-unprivileged", NULL };

int gp_lxc_plan(const gp_check_ctx *ctx, const gp_lxc_opts *o, gp_plan *plan, gp_lxc_result *res, gp_error *err)
{
    lxc_edit e = { .ctx = ctx, .o = o, .plan = plan, .res = res, .err = err, .render_gid = o->render_gid,
                   .video_gid = o->video_gid };
    _cleanup_free_ char *text = NULL, *out = NULL, *why = NULL;
    const gp_pci_dev *d;
    size_t len = 0, out_len = 0;
    int r;

    *res = (gp_lxc_result){ 0 };
    if (o->gpu < 0 || (size_t)o->gpu >= ctx->gpus->n)
        return gp_error_set(err, -EINVAL, "no such GPU");
    d = &ctx->pci->devs[ctx->gpus->gpus[o->gpu].dev];
    r = gp_gpu_nodes_find(ctx->h, ctx->pci, &ctx->gpus->gpus[o->gpu], &e.nodes, err);
    if (r < 0)
        return r == -ENOMEM ? r : -ECANCELED;
    res->style = o->style != GP_LXC_STYLE_AUTO ? o->style : auto_style(ctx->h);
    r = nodes_ok(&e);
    if (r == 0 && o->ctid)
        r = conf_read(&e, &text, &len);
    if (r == 0 && o->ctid && res->style == GP_LXC_STYLE_DEV)
        r = read_gids(&e, text);
    if (r == 0)
        r = res->style == GP_LXC_STYLE_DEV ? write_dev(&e) : write_raw(&e);
    if (r == 0 && e.have_conf)
        r = other_gpu_lines(&e);
    if (r == 0 && o->ctid && gp_ct_running(ctx->h, o->ctid))
        r = gp_plan_add_note(plan, "CT %u runs: the new lines take effect when it restarts (pct reboot %u).", o->ctid,
                             o->ctid);
    if (r == 0 && e.have_conf) {
        out = gp_pveconf_format(&e.conf, &out_len);
        if (!out || asprintf(&why, "give %s to CT %u", d->name, o->ctid) < 0)
            r = -ENOMEM;
        else if (gp_pvelint_plan_notes(plan, ctx, gp_lxc_lint_config, "lxc lint", res->conf, o->ctid, out, out_len,
                                       GP_SEV_WARN, lint_knows_less) < 0)
            r = -ENOMEM;
        else if (gp_plan_set_file(plan, ctx->h, res->conf, out, out_len, 0640, why, err) < 0)
            r = -EIO;
    }
    gp_gpu_nodes_clear(&e.nodes);
    gp_pveconf_clear(&e.conf);
    if (r == -ENOMEM)
        gp_error_set(err, r, "out of memory");
    return r < 0 ? r : 0;
}

void gp_lxc_result_clear(gp_lxc_result *r)
{
    free(r->conf);
    gp_strv_free(r->lines);
    free(r->gids_from);
    free(r->refuse_apply);
    *r = (gp_lxc_result){ 0 };
}
