/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sriov.h"
#include "txn.h"

static void sriov_help(void)
{
    printf("Usage: gpupass sriov DEVICE [--vfs N [--apply] [--force]] [--json]\n"
           "\n"
           "Show the SR-IOV state of a physical function: how many virtual functions\n"
           "it offers and has, each VF with its driver and IOMMU group, and for NVIDIA\n"
           "vGPU the types each VF can take (mdev_supported_types, or nvidia/ on\n"
           "kernels >= 6.8) with their free instances.\n"
           "\n"
           "With --vfs N: the plan that makes N VFs come back at every boot (a udev rule\n"
           "acting when the PF's driver binds; for NVIDIA, sriov-manage, or Proxmox's\n"
           "pve-nvidia-sriov@ unit when it is installed), and what makes them now: the\n"
           "kernel's sriov_numvfs (0 first when another count is enabled), or NVIDIA's\n"
           "sriov-manage -e, which always enables every VF the card has.\n"
           "\n"
           "Options:\n"
           "  --vfs N     the number of virtual functions (0 turns them off now)\n"
           "  --apply     write the plan (gpupass undo puts it back), then make the VFs\n"
           "  --force     even when a VF that goes away is bound to vfio-pci, has a vGPU\n"
           "              type set, or is in a VM's config\n"
           "  -j, --json  the state as JSON\n"
           "  -h, --help  this help\n"
           "\n"
           "Exit status: 0 shown or done, 2 refused, 3 could not run.\n");
}

static const char *iface_name(gp_vgpu_iface i)
{
    return i == GP_VGPU_MDEV ? "mdev" : i == GP_VGPU_NVIDIA ? "nvidia" : NULL;
}

static void print_state(const gp_cli_gpus *g, const gp_sriov *s)
{
    const gp_pci_dev *pf = &g->pci->devs[s->pf];

    printf("%s [%04x:%04x] (%s): %d of %d virtual functions enabled; made with %s\n", pf->name, pf->vendor_id,
           pf->device_id, pf->driver ? pf->driver : "no driver", s->num, s->total,
           s->method == GP_SRIOV_NVIDIA_MANAGE ? "NVIDIA's sriov-manage" : "sriov_numvfs");
    if (s->autoprobe >= 0)
        printf("  drivers probe new VFs: %s\n", s->autoprobe ? "yes (sriov_drivers_autoprobe 1)" :
               "no (sriov_drivers_autoprobe 0)");
    for (size_t i = 0; i < s->n_vfs; i++) {
        const gp_sriov_vf *vf = &s->vfs[i];
        const gp_pci_dev *d = &g->pci->devs[vf->dev];
        char group[16] = "-";

        if (d->iommu_group >= 0)
            snprintf(group, sizeof(group), "%d", d->iommu_group);
        printf("  VF %-3zu %s  %-12s group %-5s", i, d->name, d->driver ? d->driver : "-", group);
        if (vf->iface != GP_VGPU_NONE) {
            printf(" vGPU (%s): ", iface_name(vf->iface));
            if (vf->current_type && strcmp(vf->current_type, "0") != 0)
                printf("type %s set; ", vf->current_type);
            printf("%zu type%s%s", vf->n_types, vf->n_types == 1 ? "" : "s",
                   vf->iface == GP_VGPU_NVIDIA ? " creatable now" : "");
        }
        printf("\n");
        for (size_t t = 0; t < vf->n_types; t++) {
            printf("         %-14s %s", vf->types[t].id, vf->types[t].name ? vf->types[t].name : "");
            if (vf->types[t].available >= 0)
                printf("  (%d available)", vf->types[t].available);
            printf("\n");
        }
    }
    if (s->n_vfs == 0 && s->num == 0)
        printf("  no VFs enabled: gpupass sriov %s --vfs N\n", pf->name);
}

static json_object *state_json(const gp_cli_gpus *g, const gp_sriov *s)
{
    const gp_pci_dev *pf = &g->pci->devs[s->pf];
    json_object *o = json_object_new_object(), *a = json_object_new_array();

    json_object_object_add(o, "address", json_object_new_string(pf->name));
    json_object_object_add(o, "driver", pf->driver ? json_object_new_string(pf->driver) : NULL);
    json_object_object_add(o, "total_vfs", json_object_new_int(s->total));
    json_object_object_add(o, "num_vfs", json_object_new_int(s->num));
    json_object_object_add(o, "method", json_object_new_string(s->method == GP_SRIOV_NVIDIA_MANAGE ? "sriov-manage"
                                                                                                 : "sriov_numvfs"));
    json_object_object_add(o, "drivers_autoprobe", s->autoprobe < 0 ? NULL : json_object_new_boolean(s->autoprobe));
    for (size_t i = 0; i < s->n_vfs; i++) {
        const gp_sriov_vf *vf = &s->vfs[i];
        const gp_pci_dev *d = &g->pci->devs[vf->dev];
        json_object *x = json_object_new_object(), *types = json_object_new_array();

        json_object_object_add(x, "address", json_object_new_string(d->name));
        json_object_object_add(x, "driver", d->driver ? json_object_new_string(d->driver) : NULL);
        json_object_object_add(x, "iommu_group", d->iommu_group < 0 ? NULL : json_object_new_int(d->iommu_group));
        json_object_object_add(x, "vgpu_interface", iface_name(vf->iface) ?
                               json_object_new_string(iface_name(vf->iface)) : NULL);
        json_object_object_add(x, "current_vgpu_type", vf->current_type ?
                               json_object_new_string(vf->current_type) : NULL);
        for (size_t t = 0; t < vf->n_types; t++) {
            json_object *y = json_object_new_object();

            json_object_object_add(y, "id", json_object_new_string(vf->types[t].id));
            json_object_object_add(y, "name", vf->types[t].name ? json_object_new_string(vf->types[t].name) : NULL);
            json_object_object_add(y, "available", vf->types[t].available < 0 ? NULL :
                                   json_object_new_int(vf->types[t].available));
            json_object_array_add(types, y);
        }
        json_object_object_add(x, "vgpu_types", types);
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "vfs", a);
    return o;
}

/* The selected function that has SR-IOV, else the first selected one. */
static int pick_pf(const gp_cli_gpus *g)
{
    int first = -1;

    for (size_t i = 0; i < g->pci->n; i++) {
        if (!g->dev_sel[i])
            continue;
        if (g->pci->devs[i].sriov_total_vfs > 0)
            return (int)i;
        if (first < 0)
            first = (int)i;
    }
    return first;
}

/* What the device offers instead, for the refusal. */
static const char *other_sharing(const gp_cli_gpus *g, int dev)
{
    for (size_t k = 0; k < g->gpus->n; k++)
        if (gp_idx_list_contains(&g->gpus->gpus[k].functions, dev))
            return "pass it whole to one VM (gpupass vm), share its device nodes with containers (gpupass lxc), "
                   "or, on a MIG-capable NVIDIA card, split it with MIG";
    return "it is no GPU either";
}

static int sriov_change(const gp_cli_gpus *g, const gp_sriov *s, int n, bool apply, bool force)
{
    const gp_pci_dev *pf = &g->pci->devs[s->pf];
    gp_plan plan = { 0 };
    gp_error err = { 0 };
    gp_check_ctx ctx;
    char why[256];
    int r, busy;

    if (n > s->total) {
        fprintf(stderr, "gpupass sriov: refused: %d virtual functions, but %s offers at most %d (sriov_totalvfs)\n",
                n, pf->name, s->total);
        return GP_EXIT_FAIL;
    }
    if (gp_check_ctx_init(&ctx, g->h, g->pci, g->gpus, g->crit) < 0)
        return gp_cli_error("out of memory");
    /* Changing the count removes every VF first (the kernel has no other
     * way), so a VF a guest uses would vanish under it. */
    busy = s->num != n && s->num > 0 ? gp_sriov_vf_in_use(&ctx, s, why, sizeof(why)) : -1;
    gp_check_ctx_done(&ctx);
    if (busy >= 0 && !force) {
        fprintf(stderr, "gpupass sriov: refused: changing %d VFs to %d removes them all first, and %s; stop that "
                "guest (or --force)\n", s->num, n, why);
        return GP_EXIT_FAIL;
    }
    r = gp_sriov_plan(g->h, g->pci, s, n, &plan, &err);
    if (r < 0) {
        gp_plan_clear(&plan);
        return gp_cli_plan_error("sriov", r, &err);
    }
    if (gp_plan_is_empty(&plan)) {
        for (size_t i = 0; plan.notes && plan.notes[i]; i++)
            printf("note: %s\n", plan.notes[i]);
        printf("Boot configuration: nothing to change.\n");
    } else {
        r = gp_cli_plan_show(g->h, &plan, apply);
        if (r != 0) {
            gp_plan_clear(&plan);
            return r;
        }
    }
    if (s->method == GP_SRIOV_NVIDIA_MANAGE)
        printf("\nNow: %s %s %s%s\n", GP_SRIOV_MANAGE, n ? "-e" : "-d", pf->name,
               n && n != s->total ? " (it enables every VF the card offers, not a count)" : "");
    else if (s->num == n)
        printf("\nNow: %d VFs are enabled already.\n", n);
    else
        printf("\nNow: %secho %d > /sys/bus/pci/devices/%s/sriov_numvfs\n", s->num ? "echo 0, then " : "", n,
               pf->name);
    if (!apply) {
        gp_plan_clear(&plan);
        printf("Nothing was changed. Run again with --apply.\n");
        return GP_EXIT_OK;
    }
    if (!gp_plan_is_empty(&plan)) {
        gp_txn_result res;
        gp_runner run;

        r = gp_cli_plan_apply(g->h, &plan, &run, &res);
        if (r != 0) {
            gp_plan_clear(&plan);
            return r;
        }
    }
    gp_plan_clear(&plan);
    {
        gp_runner run;

        if (gp_runner_for(gp_host_is_live(g->h) ? "/" : gp_host_root(g->h), gp_host_is_live(g->h), &run) < 0)
            return gp_cli_error("out of memory");
        /* An offline root (a mounted system disk): sriov-manage is for the
         * user to run on that host once it runs. */
        if (s->method == GP_SRIOV_NVIDIA_MANAGE && !run.executes) {
            printf("The root is not this host: run %s %s %s on it.\n", GP_SRIOV_MANAGE, n ? "-e" : "-d", pf->name);
            return GP_EXIT_OK;
        }
        r = gp_sriov_enable_now(g->h, g->pci, s, n, &run, &err);
    }
    if (r < 0)
        return gp_cli_error("%s; the boot configuration is written (gpupass undo takes it back)",
                            gp_error_message(&err));
    printf("%s now has %s; `gpupass sriov %s` lists them.\n", pf->name,
           s->method == GP_SRIOV_NVIDIA_MANAGE ? (n ? "its VFs" : "no VFs") : n ? "the VFs" : "no VFs", pf->name);
    return GP_EXIT_OK;
}

int gp_cmd_sriov(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_VFS = 0x100, OPT_APPLY, OPT_FORCE };
    static const struct option opts[] = {
        { "vfs", required_argument, NULL, OPT_VFS },
        { "apply", no_argument, NULL, OPT_APPLY },
        { "force", no_argument, NULL, OPT_FORCE },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_sriov s = { .pf = -1 };
    gp_error err = { 0 };
    bool apply = false, force = false, json = false;
    long vfs = -1;
    int c, r, pf;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_VFS: {
            char *end;

            errno = 0;
            vfs = strtol(optarg, &end, 10);
            if (errno || *end || !optarg[0] || vfs < 0 || vfs > 65535)
                return gp_cli_usage_error("sriov", "--vfs takes a count 0 to 65535, not '%s'", optarg);
            break;
        }
        case OPT_APPLY:
            apply = true;
            break;
        case OPT_FORCE:
            force = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            sriov_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("sriov", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (argc - optind != 1)
        return gp_cli_usage_error("sriov", "name one device by its PCI address (gpupass list shows the GPUs)");
    if ((apply || force) && vfs < 0)
        return gp_cli_usage_error("sriov", "--apply and --force go with --vfs N");
    if (json && vfs >= 0)
        return gp_cli_usage_error("sriov", "--json shows the state; it does not go with --vfs");
    r = gp_cli_gpus_load(cli, "sriov", 1, &argv[optind], &g);
    if (r != 0)
        return r;
    if (apply && (r = gp_cli_apply_allowed(g.h, "sriov", "/etc/udev/rules.d and the PCI device")) != 0)
        return r;
    pf = pick_pf(&g);
    r = gp_sriov_read(g.h, g.pci, pf, &s, &err);
    if (r == -EOPNOTSUPP) {
        fprintf(stderr, "gpupass sriov: refused: %s; to share it instead: %s\n", gp_error_message(&err),
                other_sharing(&g, pf));
        return GP_EXIT_FAIL;
    }
    if (r < 0)
        return gp_cli_error("%s: %s", argv[optind], r == -ENOMEM ? "out of memory" : gp_error_message(&err));
    if (vfs >= 0) {
        r = sriov_change(&g, &s, (int)vfs, apply, force);
    } else if (json) {
        r = gp_cli_json_print(state_json(&g, &s));
    } else {
        print_state(&g, &s);
        r = GP_EXIT_OK;
    }
    gp_sriov_clear(&s);
    if (r == GP_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
        return gp_cli_error("writing the output failed");
    return r;
}
