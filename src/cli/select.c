/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The steps list, check and lint share: loading the host and its GPUs,
 * ADDRESS arguments, the findings options and output, and vm/lxc lint. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "pveguest.h"
#include "render.h"
#include "txn.h"

static int exit_for(gp_severity worst)
{
    switch (worst) {
    case GP_SEV_FAIL:
        return GP_EXIT_FAIL;
    case GP_SEV_WARN:
        return GP_EXIT_WARN;
    default:
        return GP_EXIT_OK;
    }
}

static int select_args(const char *cmd, gp_cli_gpus *g, int argc, char **argv)
{
    const gp_pci_list *pci = g->pci;

    if (argc <= 0) {
        memset(g->dev_sel, 1, pci->n * sizeof(*g->dev_sel));
        memset(g->gpu_sel, 1, g->gpus->n * sizeof(*g->gpu_sel));
        return 0;
    }
    g->named = true;
    for (int a = 0; a < argc; a++) {
        gp_pci_addr addr;
        bool whole, hit = false;

        if (gp_pci_addr_parse(argv[a], &addr, &whole) < 0)
            return gp_cli_usage_error(cmd, "'%s' is not a PCI address (use 01:00.0, 0000:01:00.0 or 01:00)", argv[a]);
        for (size_t i = 0; i < pci->n; i++) {
            const gp_pci_addr *da = &pci->devs[i].addr;

            if (whole ? gp_pci_addr_same_slot(da, &addr) : gp_pci_addr_cmp(da, &addr) == 0) {
                g->dev_sel[i] = true;
                hit = true;
                for (size_t k = 0; k < g->gpus->n; k++)
                    if (gp_idx_list_contains(&g->gpus->gpus[k].functions, (int)i))
                        g->gpu_sel[k] = true;
            }
        }
        if (!hit)
            return gp_cli_error("no PCI device %s on %s; `gpupass list --all` shows every device", argv[a],
                                gp_host_is_live(g->h) ? "this host" : gp_host_source(g->h));
    }
    return 0;
}

int gp_cli_gpus_load(const gp_cli *cli, const char *cmd, int argc, char **argv, gp_cli_gpus *ret)
{
    gp_cli_gpus g = { 0 };
    gp_error err = { 0 };
    int r;

    *ret = g;
    g.h = gp_cli_open_host(cli);
    if (!g.h)
        return GP_EXIT_ERROR;
    r = gp_pci_scan(g.h, &g.pci, &err);
    if (r < 0)
        r = gp_cli_error("%s", gp_error_message(&err));
    else if ((r = gp_hostcrit_find(g.h, g.pci, &g.crit)) < 0)
        r = gp_cli_error("finding host-critical devices: %s", strerror(-r));
    else if ((r = gp_gpu_analyze(g.pci, g.crit, &g.gpus)) < 0)
        r = gp_cli_error("analysing GPUs: %s", strerror(-r));
    else if (!(g.dev_sel = calloc(g.pci->n ? g.pci->n : 1, sizeof(*g.dev_sel))) ||
             !(g.gpu_sel = calloc(g.gpus->n ? g.gpus->n : 1, sizeof(*g.gpu_sel))))
        r = gp_cli_error("out of memory");
    else
        r = select_args(cmd, &g, argc, argv);
    if (r != 0) {
        gp_cli_gpus_done(&g);
        return r;
    }
    *ret = g;
    return 0;
}

void gp_cli_gpus_done(gp_cli_gpus *g)
{
    free(g->dev_sel);
    free(g->gpu_sel);
    if (g->gpus)
        gp_gpu_list_free(g->gpus);
    if (g->crit)
        gp_hostcrit_free(g->crit);
    if (g->pci)
        gp_pci_list_free(g->pci);
    if (g->h)
        gp_host_free(g->h);
    *g = (gp_cli_gpus){ 0 };
}

int gp_cli_findings_options(const char *cmd, int argc, char **argv, bool *quiet, bool *json, void (*help)(void))
{
    static const struct option opts[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qjh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            *quiet = true;
            break;
        case 'j':
            *json = true;
            break;
        case 'h':
            help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error(cmd, "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    return -1;
}

int gp_cli_findings_output(const gp_cli *cli, const gp_findings *f, bool quiet, bool json)
{
    return gp_cli_findings_output_extra(cli, f, quiet, json, NULL, NULL);
}

int gp_cli_findings_output_extra(const gp_cli *cli, const gp_findings *f, bool quiet, bool json,
                                 const char *extra_name, struct json_object *extra)
{
    gp_findings_view v = { .findings = f, .quiet = quiet, .color = cli->color && !json, .extra_name = extra_name,
                           .extra = extra };
    int r = 0;

    if (json)
        r = gp_render_findings_json(stdout, &v);
    else
        gp_render_findings_text(stdout, &v);
    if (r < 0 || fflush(stdout) != 0 || ferror(stdout))
        return gp_cli_error("writing the output failed");
    return exit_for(gp_findings_worst(f));
}

int gp_cli_guest_lint(const gp_cli *cli, const char *cmd, const char *id_name, int argc, char **argv,
                      void (*help)(void),
                      int (*lint)(const struct gp_check_ctx *ctx, const unsigned *ids, size_t n, gp_findings *out))
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_findings_ gp_findings f = { 0 };
    _cleanup_free_ unsigned *ids = NULL;
    gp_check_ctx ctx;
    bool quiet = false, json = false;
    size_t n = 0;
    int r;

    r = gp_cli_findings_options(cmd, argc, argv, &quiet, &json, help);
    if (r >= 0)
        return r;
    ids = calloc((size_t)argc + 1, sizeof(*ids));
    if (!ids)
        return gp_cli_error("out of memory");
    for (int i = optind; i < argc; i++)
        if (!gp_pve_vmid_parse(argv[i], &ids[n++]))
            return gp_cli_usage_error(cmd, "'%s' is not a %s (100 to 999999999)", argv[i], id_name);
    r = gp_cli_gpus_load(cli, cmd, 0, NULL, &g);
    if (r != 0)
        return r;
    if (gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit) < 0)
        return gp_cli_error("out of memory");
    r = lint(&ctx, ids, n, &f);
    gp_check_ctx_done(&ctx);
    if (r < 0)
        return gp_cli_error("out of memory");
    return gp_cli_findings_output(cli, &f, quiet, json);
}

/* The GPU the address names: the one whose display function it is, else
 * the one with that function. */
int gp_cli_pick_gpu(const gp_cli_gpus *g, const char *arg)
{
    int found = -1;

    for (size_t i = 0; i < g->gpus->n; i++) {
        if (!g->gpu_sel[i])
            continue;
        if (g->dev_sel[g->gpus->gpus[i].dev])
            return (int)i;
        if (found < 0)
            found = (int)i;
    }
    if (found < 0)
        gp_cli_error("%s is not a GPU (no display-class function); `gpupass list` shows the GPUs", arg);
    return found;
}

int gp_cli_apply_allowed(const gp_host *h, const char *cmd, const char *what)
{
    if (gp_host_is_archive(h))
        return gp_cli_error("--root %s is a snapshot archive: --apply needs a directory (a mounted system disk)",
                            gp_host_source(h));
    if (gp_host_is_live(h) && geteuid() != 0) {
        fprintf(stderr, "gpupass %s: refused: --apply changes %s; run it as root\n", cmd, what);
        return GP_EXIT_FAIL;
    }
    return 0;
}

int gp_cli_plan_error(const char *cmd, int r, const gp_error *err)
{
    if (r == -ECANCELED || r == -EREMOTE) {
        fprintf(stderr, "gpupass %s: refused: %s\n", cmd, gp_error_message(err));
        return GP_EXIT_FAIL;
    }
    return gp_cli_error("%s", gp_error_message(err));
}

int gp_cli_plan_show(const gp_host *h, const gp_plan *plan, bool apply)
{
    _cleanup_free_ char *diff = gp_plan_diff(plan);

    if (!diff)
        return gp_cli_error("out of memory");
    fputs(diff, stdout);
    if (!apply)
        printf("\nNothing was written. Run again with --apply to make these changes%s.\n",
               gp_host_is_live(h) ? " (as root)" : "");
    return 0;
}

int gp_cli_plan_apply(const gp_host *h, const gp_plan *plan, gp_runner *run, gp_txn_result *res)
{
    gp_error err = { 0 };

    *res = (gp_txn_result){ .failed_cmd = -1 };
    if (gp_runner_for(gp_host_is_live(h) ? "/" : gp_host_root(h), gp_host_is_live(h), run) < 0)
        return gp_cli_error("out of memory");
    if (gp_txn_apply(h, plan, run, res, &err) < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    printf("\nApplied as transaction %s: %zu file%s written; `gpupass undo %s` puts %s back.\n", res->id,
           res->files_written, res->files_written == 1 ? "" : "s", res->id, res->files_written == 1 ? "it" : "them");
    return 0;
}

int gp_cli_load_gpu(const gp_cli *cli, const char *cmd, char *arg, bool apply, const char *what, gp_cli_gpus *g,
                    int *gpu)
{
    int r = gp_cli_gpus_load(cli, cmd, 1, &arg, g);

    if (r != 0)
        return r;
    *gpu = gp_cli_pick_gpu(g, arg);
    if (*gpu < 0)
        return GP_EXIT_ERROR;
    return apply ? gp_cli_apply_allowed(g->h, cmd, what) : 0;
}

int gp_cli_json_print(struct json_object *o)
{
    int r = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE));

    json_object_put(o);
    if (r < 0 || fflush(stdout) != 0)
        return gp_cli_error("writing the output failed");
    return GP_EXIT_OK;
}
