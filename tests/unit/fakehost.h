/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A hand-built host for the guest linter tests (test-lintguest.c,
 * test-lintlxc.c): files, links and PCI functions written under a scratch
 * root, and the host, its PCI devices, GPUs and check context read back
 * from it. Include after <cmocka.h>; the test's setup fills root with
 * gp_test_tmpdir and builds the host, teardown removes it.
 */
#pragma once

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "finding.h"
#include "gpu.h"
#include "hostcrit.h"
#include "pci.h"
#include "testutil.h"

static char root[256];

/* Every directory of rel (a path under root ending in '/' or not). */
static inline void mkdirs(const char *rel)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s/", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0755);
            *p = '/';
        }
}

/* The parent directories of rel, for a file or link about to be made. */
static inline void mkparents(const char *rel)
{
    char dir[512];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", rel);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(dir);
    }
}

static inline void put(const char *rel, const char *content)
{
    char path[1024];
    FILE *f;

    mkparents(rel);
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* A symlink at rel to target, replacing what was there. */
static inline void ln(const char *target, const char *rel)
{
    char path[1024];

    mkparents(rel);
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    (void)unlink(path);
    assert_int_equal(symlink(target, path), 0);
}

static inline void rm(const char *rel)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    gp_test_rm_rf(path);
}

static inline int teardown(void **state)
{
    return gp_test_rm_rf(root);
}

/* sys/bus/pci/devices/<addr>/<name> holding "0x<value>". */
static inline void pci_attr(const char *addr, const char *name, const char *value)
{
    char p[256], v[64];

    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/%s", addr, name);
    snprintf(v, sizeof(v), "0x%s\n", value);
    put(p, v);
}

/*
 * One PCI function: IDs, subsystem IDs ("1043:88e2", or NULL for none),
 * class, IOMMU group (both the device's link and the group's devices/
 * entry) and its driver link (NULL: no driver).
 */
static inline void pci_dev(const char *addr, const char *vendor, const char *device, const char *subsys,
                           const char *cls, int group, const char *driver)
{
    char p[256], v[64];

    pci_attr(addr, "vendor", vendor);
    pci_attr(addr, "device", device);
    if (subsys) {
        char half[5] = "";

        memcpy(half, subsys, 4);
        pci_attr(addr, "subsystem_vendor", half);
        memcpy(half, subsys + 5, 4);
        pci_attr(addr, "subsystem_device", half);
    }
    pci_attr(addr, "class", cls);
    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/iommu_group", addr);
    snprintf(v, sizeof(v), "../../../../kernel/iommu_groups/%d", group);
    ln(v, p);
    snprintf(p, sizeof(p), "sys/kernel/iommu_groups/%d/devices/%s", group, addr);
    snprintf(v, sizeof(v), "../../../../bus/pci/devices/%s", addr);
    ln(v, p);
    if (driver) {
        snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver", addr);
        snprintf(v, sizeof(v), "../../../bus/pci/drivers/%s", driver);
        ln(v, p);
    }
}

/* The host under root as the linters see it, and the findings of a test. */
typedef struct fixture {
    gp_host *h;
    gp_pci_list *pci;
    gp_hostcrit *crit;
    gp_gpu_list *gpus;
    gp_check_ctx ctx;
    gp_findings out;
} fixture;

static inline void fx_open(fixture *fx)
{
    gp_error err = { 0 };

    *fx = (fixture){ 0 };
    assert_int_equal(gp_host_open(root, &fx->h, &err), 0);
    assert_int_equal(gp_pci_scan(fx->h, &fx->pci, &err), 0);
    assert_int_equal(gp_hostcrit_find(fx->h, fx->pci, &fx->crit), 0);
    assert_int_equal(gp_gpu_analyze(fx->pci, fx->crit, &fx->gpus), 0);
    assert_int_equal(gp_check_ctx_init(&fx->ctx, fx->h, fx->pci, fx->gpus, fx->crit), 0);
}

static inline void fx_close(fixture *fx)
{
    gp_findings_clear(&fx->out);
    gp_check_ctx_done(&fx->ctx);
    gp_gpu_list_free(fx->gpus);
    gp_hostcrit_free(fx->crit);
    gp_pci_list_free(fx->pci);
    gp_host_free(fx->h);
}

static inline size_t count(const gp_findings *l, const char *id)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0)
            n++;
    return n;
}

/* Every finding with its fix, for a test that fails. */
static inline void dump(const gp_findings *l)
{
    for (size_t i = 0; i < l->n; i++)
        print_message("  have %s (%s): %s\n     fix: %s\n", l->v[i].id, gp_severity_to_string(l->v[i].severity),
                      l->v[i].title, l->v[i].fix ? l->v[i].fix : "-");
}

/* The finding with this id; fails the test when there is none. */
static inline const gp_finding *get(const gp_findings *l, const char *id)
{
    const gp_finding *f = gp_findings_find(l, id);

    if (!f) {
        dump(l);
        fail_msg("no finding %s", id);
    }
    return f;
}
