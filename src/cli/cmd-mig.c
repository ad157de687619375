/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "gpunodes.h"
#include "mig.h"
#include "migstatus.h"
#include "pciaddr.h"
#include "txn.h"
#include "vfiobind.h"

#define NVSMI_OUT_MAX (1024u * 1024u)

static void mig_help(void)
{
    printf("Usage: gpupass mig plan --gpu GPU|MODEL PROFILE... [--json]\n"
           "       gpupass mig apply --gpu GPU PROFILE... [--force]\n"
           "       gpupass mig status [--json]\n"
           "\n"
           "plan: lay out MIG GPU instances on an NVIDIA GPU of this host (by PCI address)\n"
           "or on a model (\"A100 80GB\", \"h100-80gb\", \"10de:20b5\"): profiles by name\n"
           "(3g.40gb) or nvidia-smi ID (9), with counts (1g.10gb:4). A layout that fits is\n"
           "drawn on its slices with the nvidia-smi commands that make it and the MIG mode\n"
           "rules of its generation; one that does not fit is refused with the reason in\n"
           "numbers and the nearest layouts that do.\n"
           "\n"
           "apply: the plan as a transaction: a systemd unit that recreates the layout at\n"
           "every boot (instances never survive a reboot), then the nvidia-smi commands,\n"
           "stopping at the first that fails. Refused while processes use the GPU.\n"
           "`gpupass undo` removes the unit; instances stay until reboot.\n"
           "\n"
           "status: MIG mode and GPU instances as the driver reports them (nvidia-smi).\n"
           "\n"
           "Options:\n"
           "  --gpu GPU|MODEL  the GPU (PCI address) or, for plan, a model name\n"
           "  --force          apply even while processes hold the GPU\n"
           "  -j, --json       plan or status as JSON\n"
           "  -h, --help       this help\n"
           "\n"
           "Exit status: 0 fits (applied), 2 does not fit or refused, 3 could not run.\n");
}

/* The card --gpu names: a GPU of this host by address (g loaded, *dev set),
 * or a model by name. Prints and returns the exit status on failure. */
static int mig_card(const gp_cli *cli, const char *cmd, char *arg, bool need_host, gp_cli_gpus *g,
                    const gp_pci_dev **dev, const gp_mig_card **card)
{
    gp_error err = { 0 };
    gp_pci_addr addr;
    bool whole;
    int r, k;

    *dev = NULL;
    if (gp_pci_addr_parse(arg, &addr, &whole) == 0) {
        r = gp_cli_gpus_load(cli, cmd, 1, &arg, g);
        if (r != 0)
            return r;
        k = gp_cli_pick_gpu(g, arg);
        if (k < 0)
            return GP_EXIT_ERROR;
        *dev = &g->pci->devs[g->gpus->gpus[k].dev];
        r = gp_mig_card_by_pci((*dev)->vendor_id, (*dev)->device_id, card, &err);
    } else if (need_host) {
        return gp_cli_usage_error(cmd, "--gpu takes the PCI address of a GPU of this host here, not '%s' "
                                  "(`gpupass list` shows them)", arg);
    } else {
        r = gp_mig_card_by_name(arg, card, &err);
    }
    if (r == -ENOTSUP) {
        fprintf(stderr, "gpupass %s: refused: %s\n", cmd, gp_error_message(&err));
        return GP_EXIT_FAIL;
    }
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    return 0;
}

/* Every argument after the options, as one request text. */
static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    char *s;

    for (int i = optind; i < argc; i++)
        len += strlen(argv[i]) + 1;
    s = calloc(1, len);
    for (int i = optind; s && i < argc; i++) {
        if (i > optind)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static void print_refusal(const char *cmd, const gp_mig_plan *plan, const char *gpu_arg)
{
    fprintf(stderr, "gpupass %s: refused: %s\n", cmd, plan->reason);
    if (plan->n_suggestions == 0)
        return;
    printf("Layouts that fit:\n");
    for (size_t i = 0; i < plan->n_suggestions; i++)
        printf("  gpupass mig plan --gpu '%s' %s   # %s\n", gpu_arg, plan->suggestions[i].spec,
               plan->suggestions[i].text);
}

static json_object *plan_json(const gp_mig_plan *plan, const gp_mig_request *req, const gp_mig_commands *cmds,
                              const char *unit)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    _cleanup_free_ char *spec = gp_mig_request_spec(req);

    json_object_object_add(o, "model", json_object_new_string(plan->model->key));
    json_object_object_add(o, "generation", json_object_new_string(gp_mig_gen_to_string(plan->model->gen)));
    json_object_object_add(o, "request", spec ? json_object_new_string(spec) : NULL);
    json_object_object_add(o, "fits", json_object_new_boolean(plan->reason == NULL));
    for (size_t i = 0; i < plan->n; i++) {
        json_object *x = json_object_new_object();

        json_object_object_add(x, "profile", json_object_new_string(plan->v[i].profile->name));
        json_object_object_add(x, "profile_id", plan->v[i].profile->id < 0 ? NULL :
                               json_object_new_int(plan->v[i].profile->id));
        json_object_object_add(x, "start", json_object_new_int((int)plan->v[i].start));
        json_object_object_add(x, "size", json_object_new_int((int)plan->v[i].size));
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "instances", a);
    json_object_object_add(o, "reason", plan->reason ? json_object_new_string(plan->reason) : NULL);
    a = json_object_new_array();
    for (size_t i = 0; i < plan->n_suggestions; i++)
        json_object_array_add(a, json_object_new_string(plan->suggestions[i].spec));
    json_object_object_add(o, "suggestions", a);
    a = json_object_new_array();
    for (size_t i = 0; cmds && i < cmds->n; i++)
        json_object_array_add(a, json_object_new_string(cmds->v[i].line));
    json_object_object_add(o, "commands", a);
    a = json_object_new_array();
    for (size_t i = 0; cmds && i < cmds->n_notes; i++)
        json_object_array_add(a, json_object_new_string(cmds->notes[i]));
    json_object_object_add(o, "notes", a);
    json_object_object_add(o, "boot_unit", unit ? json_object_new_string(unit) : NULL);
    return o;
}

typedef struct mig_args {
    char *gpu;
    bool force, json;
} mig_args;

static int mig_options(const char *cmd, int argc, char **argv, mig_args *a)
{
    enum { OPT_GPU = 0x100, OPT_FORCE };
    static const struct option opts[] = {
        { "gpu", required_argument, NULL, OPT_GPU },
        { "force", no_argument, NULL, OPT_FORCE },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_GPU:
            a->gpu = optarg;
            break;
        case OPT_FORCE:
            a->force = true;
            break;
        case 'j':
            a->json = true;
            break;
        case 'h':
            mig_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error(cmd, "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    return -1;
}

/* Request and plan for --gpu and the profile arguments; prints what fails. */
static int mig_make(const char *cmd, const gp_mig_card *card, int argc, char **argv, const char *gpu_arg,
                    gp_mig_request *req, gp_mig_plan *plan, bool json)
{
    _cleanup_free_ char *spec = NULL;
    gp_error err = { 0 };
    int r;

    if (!card->model)
        return gp_cli_error("%s: %s", card->names[0], card->sharing ? card->sharing : "no MIG data");
    if (argc - optind < 1)
        return gp_cli_usage_error(cmd, "name the profiles: 3g.40gb:2, 1g.10gb ... (the %s has: gpupass mig plan "
                                  "--gpu '%s' ?)", card->model->title, gpu_arg);
    spec = join_args(argc, argv);
    if (!spec)
        return gp_cli_error("out of memory");
    r = gp_mig_request_parse(card->model, spec, req, &err);
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    r = gp_mig_plan_make(req, plan, &err);
    if (r == -ENOSPC) {
        if (json)
            return gp_cli_json_print(plan_json(plan, req, NULL, NULL)) ? GP_EXIT_ERROR : GP_EXIT_FAIL;
        print_refusal(cmd, plan, gpu_arg);
        return GP_EXIT_FAIL;
    }
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    return 0;
}

static int mig_plan(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_mig_request_ gp_mig_request req = { 0 };
    _cleanup_mig_plan_ gp_mig_plan plan = { 0 };
    _cleanup_mig_commands_ gp_mig_commands cmds = { 0 };
    _cleanup_free_ char *picture = NULL, *unit = NULL, *spec = NULL, *what = NULL;
    const gp_mig_card *card = NULL;
    const gp_pci_dev *dev = NULL;
    const gp_mig_mode_rules *rules;
    gp_error err = { 0 };
    mig_args a = { 0 };
    const char *smi_id;
    int r;

    r = mig_options("mig plan", argc, argv, &a);
    if (r >= 0)
        return r;
    if (!a.gpu)
        return gp_cli_usage_error("mig plan", "name the GPU or model with --gpu (an address, or \"A100 80GB\")");
    if (a.force)
        return gp_cli_usage_error("mig plan", "--force belongs to mig apply");
    r = mig_card(cli, "mig plan", a.gpu, false, &g, &dev, &card);
    if (r != 0)
        return r;
    r = mig_make("mig plan", card, argc, argv, a.gpu, &req, &plan, a.json);
    if (r != 0)
        return r;
    assert(plan.model); /* mig_make returns 0 only after gp_mig_plan_make() filled the plan */
    /* nvidia-smi -i takes the PCI bus ID; a model has no card yet. */
    smi_id = dev ? dev->name : "0";
    if (gp_mig_plan_commands(&plan, card, smi_id, &cmds, &err) < 0 || gp_mig_plan_unit(&plan, smi_id, &unit, &err) < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    if (a.json)
        return gp_cli_json_print(plan_json(&plan, &req, &cmds, unit));
    if (gp_mig_plan_picture(&plan, &picture) < 0 || !(spec = gp_mig_request_spec(&req)) ||
        !(what = gp_mig_request_describe(&req)))
        return gp_cli_error("out of memory");
    rules = gp_mig_gen_rules(plan.model->gen);
    printf("%s (%s%s%s): %s fits.\n\n%s\n", plan.model->title, gp_mig_gen_to_string(plan.model->gen),
           dev ? ", " : "", dev ? dev->name : "", what, picture);
    printf("Commands%s:\n", dev ? "" : " (-i 0: put the GPU's index or PCI bus ID)");
    for (size_t i = 0; i < cmds.n; i++)
        printf("  %s\n      # %s\n", cmds.v[i].line, cmds.v[i].why);
    printf("\nMIG mode: %s\n", rules->text);
    for (size_t i = 0; i < cmds.n_notes; i++)
        if (strcmp(cmds.notes[i], rules->text) != 0)
            printf("note: %s\n", cmds.notes[i]);
    if (dev && dev->driver && strcmp(dev->driver, "nvidia") != 0)
        printf("\n%s is bound to %s now: MIG needs the nvidia driver on the host (gpupass unbind %s).\n",
               dev->name, dev->driver, dev->name);
    else if (dev)
        printf("\n`gpupass mig apply --gpu %s %s` makes it now and installs a unit that recreates it at every "
               "boot.\n", dev->name, spec);
    else
        printf("\nOn the host: gpupass mig apply --gpu <PCI address> %s\n", spec);
    return GP_EXIT_OK;
}

/* The processes that hold this GPU's /dev/nvidiaN (CUDA programs,
 * nvidia-persistenced, a DCGM agent): a MIG mode change or -dgi fails
 * with "In use by another client" while they do. */
static int gpu_holders(const gp_cli_gpus *g, const gp_pci_dev *dev, gp_holder **hv, size_t *hn)
{
    gp_gpu_nodes nodes = { 0 };
    gp_error err = { 0 };
    const char *paths[2] = { NULL, NULL };
    char abs[160];
    int r;

    *hv = NULL;
    *hn = 0;
    for (size_t k = 0; k < g->gpus->n; k++) {
        if (&g->pci->devs[g->gpus->gpus[k].dev] != dev)
            continue;
        if (gp_gpu_nodes_find(g->h, g->pci, &g->gpus->gpus[k], &nodes, &err) < 0)
            return 0;       /* no host driver: nothing can hold it */
        for (size_t i = 0; i < nodes.n && !paths[0]; i++) {
            const char *p = nodes.v[i].node.path;

            if (gp_startswith(p, "dev/nvidia") && strspn(p + 10, "0123456789") == strlen(p + 10) && p[10]) {
                snprintf(abs, sizeof(abs), "/%s", p);
                paths[0] = abs;
            }
        }
        r = paths[0] ? gp_holders_of(g->h, paths, hv, hn) : 0;
        gp_gpu_nodes_clear(&nodes);
        return r;
    }
    return 0;
}

/* On the live host: does the GPU have GPU instances now? -1 unknown. */
static int live_has_instances(const gp_pci_dev *dev)
{
    char *q[] = { (char *)"nvidia-smi", (char *)GP_MIG_QUERY_GPUS, (char *)"--format=csv,noheader", NULL };
    char *l[] = { (char *)"nvidia-smi", (char *)"mig", (char *)"-lgi", NULL };
    _cleanup_free_ char *qout = NULL, *lout = NULL;
    _cleanup_free_ gp_mig_gpu_state *gpus = NULL;
    _cleanup_free_ gp_mig_gi_state *gis = NULL;
    size_t ng = 0, ni = 0;

    if (gp_command_output(q, NVSMI_OUT_MAX, &qout, NULL) != 0 || gp_mig_parse_gpus(qout, &gpus, &ng) < 0)
        return -1;
    (void)gp_command_output(l, NVSMI_OUT_MAX, &lout, NULL);
    if (!lout || gp_mig_parse_gis(lout, &gis, &ni) < 0)
        return -1;
    for (size_t i = 0; i < ng; i++) {
        if (!gp_mig_bus_id_is(gpus[i].bus_id, dev->name))
            continue;
        for (size_t k = 0; k < ni; k++)
            if (gis[k].gpu == gpus[i].index)
                return 1;
        return 0;
    }
    return -1;
}

static int mig_apply(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_mig_request_ gp_mig_request req = { 0 };
    _cleanup_mig_plan_ gp_mig_plan plan = { 0 };
    _cleanup_mig_commands_ gp_mig_commands cmds = { 0 };
    _cleanup_free_ char *unit = NULL, *unit_path = NULL, *wants_path = NULL, *wants = NULL, *why = NULL;
    _cleanup_free_ gp_holder *hv = NULL;
    const gp_mig_card *card = NULL;
    const gp_pci_dev *dev = NULL;
    static const char *const reload[] = { "systemctl", "daemon-reload", NULL };
    gp_plan p = { 0 };
    gp_error err = { 0 };
    mig_args a = { 0 };
    size_t hn = 0;
    int r, existing = -1;

    r = mig_options("mig apply", argc, argv, &a);
    if (r >= 0)
        return r;
    if (!a.gpu)
        return gp_cli_usage_error("mig apply", "name the GPU with --gpu ADDRESS (gpupass list shows them)");
    if (a.json)
        return gp_cli_usage_error("mig apply", "--json belongs to mig plan and mig status");
    r = mig_card(cli, "mig apply", a.gpu, true, &g, &dev, &card);
    if (r != 0)
        return r;
    assert(dev); /* with need_host, mig_card returns 0 only with a GPU of this host */
    r = gp_cli_apply_allowed(g.h, "mig apply", "/etc/systemd/system and the GPU's MIG layout");
    if (r != 0)
        return r;
    /* MIG is set up through the nvidia driver; vfio-pci cannot pass an
     * instance to a VM (that takes NVIDIA vGPU on the host). */
    if (!dev->driver || strcmp(dev->driver, "nvidia") != 0) {
        fprintf(stderr, "gpupass mig apply: refused: %s is %s%s, and MIG is made through the nvidia driver on the "
                "host%s\n", dev->name, dev->driver ? "bound to " : "without a driver", dev->driver ? dev->driver : "",
                dev->driver && strcmp(dev->driver, "vfio-pci") == 0 ? ": `gpupass unbind` gives it back to nvidia "
                "first (a VM then gets MIG instances only through NVIDIA vGPU)" : ": load it first");
        return GP_EXIT_FAIL;
    }
    r = mig_make("mig apply", card, argc, argv, a.gpu, &req, &plan, false);
    if (r != 0)
        return r;
    if (gpu_holders(&g, dev, &hv, &hn) < 0)
        return gp_cli_error("reading /proc: out of memory");
    if (hn > 0 && !a.force) {
        fprintf(stderr, "gpupass mig apply: refused: %zu process%s use%s %s, and MIG changes fail with \"In use by "
                "another client\" while they do:\n", hn, hn == 1 ? "" : "es", hn == 1 ? "s" : "", dev->name);
        for (size_t i = 0; i < hn; i++)
            fprintf(stderr, "  pid %d (%s) holds %s\n", hv[i].pid, hv[i].comm, hv[i].node);
        fprintf(stderr, "Stop them (systemctl stop nvidia-persistenced, the CUDA jobs), or --force.\n");
        return GP_EXIT_FAIL;
    }
    if (gp_mig_plan_commands(&plan, card, dev->name, &cmds, &err) < 0 ||
        gp_mig_plan_unit(&plan, dev->name, &unit, &err) < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    if (asprintf(&unit_path, "etc/systemd/system/gpupass-mig-%s.service", dev->name) < 0 ||
        asprintf(&wants_path, "etc/systemd/system/multi-user.target.d/gpupass-mig-%s.conf", dev->name) < 0 ||
        asprintf(&wants, "# gpupass mig: start the MIG layout of %s at boot (a drop-in instead of\n"
                 "# `systemctl enable`, so the transaction holds files only).\n[Unit]\n"
                 "Wants=gpupass-mig-%s.service\n", dev->name, dev->name) < 0 ||
        asprintf(&why, "the MIG layout of %s at every boot", dev->name) < 0)
        return gp_cli_error("out of memory");
    if (gp_plan_set_file(&p, g.h, unit_path, unit, strlen(unit), 0644, why, &err) < 0 ||
        gp_plan_set_file(&p, g.h, wants_path, wants, strlen(wants), 0644, "start that unit at boot", &err) < 0) {
        gp_plan_clear(&p);
        return gp_cli_error("%s", gp_error_message(&err));
    }
    /* The unit's files change: systemd must read them (again at undo). */
    r = gp_plan_add_cmd(&p, "systemd reads the unit", reload);
    /* What makes the layout now: once, never again at undo. -dci/-dgi
     * fail when there is nothing to remove, so on the live host they are
     * left out when the driver reports no instances. */
    if (gp_host_is_live(g.h))
        existing = live_has_instances(dev);
    for (size_t i = 0; r >= 0 && i < cmds.n; i++) {
        const char *last = cmds.v[i].argv[4];

        if (existing == 0 && last && (strcmp(last, "-dci") == 0 || strcmp(last, "-dgi") == 0))
            continue;
        r = gp_plan_add_cmd_once(&p, cmds.v[i].why, (const char *const *)cmds.v[i].argv);
    }
    if (r >= 0 && existing < 0)
        r = gp_plan_add_note(&p, "-dci and -dgi report an error when the GPU has no instances; the apply then "
                             "stops there: run the remaining commands by hand.");
    if (r < 0) {
        gp_plan_clear(&p);
        return gp_cli_error("out of memory");
    }
    if (gp_plan_is_empty(&p)) {
        printf("Nothing to do: %s's boot unit already makes this layout; `systemctl restart gpupass-mig-%s` "
               "makes it now.\n", dev->name, dev->name);
        gp_plan_clear(&p);
        return GP_EXIT_OK;
    }
    r = gp_cli_plan_show(g.h, &p, true);
    if (r == 0) {
        gp_txn_result res;
        gp_runner run;

        r = gp_cli_plan_apply(g.h, &p, &run, &res);
        if (r == 0 && res.failed_cmd >= 0) {
            fprintf(stderr, "gpupass mig apply: stopped: `%s` failed (status %d); the commands after it did not "
                    "run. nvidia-smi does not roll back: see `nvidia-smi mig -i %s -lgi`, remove what was made "
                    "with -dci and -dgi, fix the cause and apply again (or `gpupass undo %s`)\n",
                    p.cmds[res.failed_cmd].argv[0], res.failed_status, dev->name, res.id);
            r = GP_EXIT_FAIL;
        } else if (r == 0 && !run.executes) {
            printf("The root is not this host: run the commands above on it.\n");
        }
    }
    gp_plan_clear(&p);
    return r;
}

static int mig_status(const gp_cli *cli, int argc, char **argv)
{
    char *q[] = { (char *)"nvidia-smi", (char *)GP_MIG_QUERY_GPUS, (char *)"--format=csv,noheader", NULL };
    char *l[] = { (char *)"nvidia-smi", (char *)"mig", (char *)"-lgi", NULL };
    _cleanup_free_ char *qout = NULL, *lout = NULL;
    _cleanup_free_ gp_mig_gpu_state *gpus = NULL;
    _cleanup_free_ gp_mig_gi_state *gis = NULL;
    json_object *jo = NULL, *ja = NULL;
    mig_args a = { 0 };
    size_t ng = 0, ni = 0;
    int r;

    r = mig_options("mig status", argc, argv, &a);
    if (r >= 0)
        return r;
    if (a.gpu || a.force || argc - optind != 0)
        return gp_cli_usage_error("mig status", "it takes only --json");
    if (cli->root && *cli->root && strcmp(cli->root, "/") != 0)
        return gp_cli_error("mig status asks the NVIDIA driver (nvidia-smi): run it on the host itself, without "
                            "--root");
    r = gp_command_output(q, NVSMI_OUT_MAX, &qout, NULL);
    if (r == -ENOENT)
        return gp_cli_error("nvidia-smi not found: the NVIDIA driver is not installed on this host");
    if (r < 0)
        return gp_cli_error("cannot run nvidia-smi: %s", strerror(-r));
    if (r != 0)
        return gp_cli_error("nvidia-smi %s failed (status %d): %s", GP_MIG_QUERY_GPUS, r, gp_strip(qout));
    /* -lgi fails ("No MIG-enabled devices found") when no GPU is in MIG
     * mode: no instances, not an error. */
    (void)gp_command_output(l, NVSMI_OUT_MAX, &lout, NULL);
    if (gp_mig_parse_gpus(qout, &gpus, &ng) < 0 || gp_mig_parse_gis(lout ? lout : "", &gis, &ni) < 0)
        return gp_cli_error("out of memory");
    if (ng == 0)
        return gp_cli_error("nvidia-smi listed no GPU: %s", gp_strip(qout));
    if (a.json) {
        jo = json_object_new_object();
        ja = json_object_new_array();
    }
    for (size_t i = 0; i < ng; i++) {
        const gp_mig_gpu_state *s = &gpus[i];
        const gp_mig_card *card = NULL;
        _cleanup_mig_plan_ gp_mig_plan plan = { 0 };
        _cleanup_free_ char *picture = NULL;
        gp_error err = { 0 };
        bool have_plan = false;

        if (gp_mig_card_by_name(s->name, &card, NULL) == 0 && card->model &&
            gp_mig_plan_from_state(card->model, gis, ni, s->index, &plan, &err) == 0)
            have_plan = true;
        if (a.json) {
            json_object *x = json_object_new_object(), *xi = json_object_new_array();

            json_object_object_add(x, "index", json_object_new_int((int)s->index));
            json_object_object_add(x, "bus_id", json_object_new_string(s->bus_id));
            json_object_object_add(x, "name", json_object_new_string(s->name));
            json_object_object_add(x, "model", have_plan ? json_object_new_string(card->model->key) : NULL);
            json_object_object_add(x, "mig_current", s->mode_current < 0 ? NULL :
                                   json_object_new_boolean(s->mode_current));
            json_object_object_add(x, "mig_pending", s->mode_pending < 0 ? NULL :
                                   json_object_new_boolean(s->mode_pending));
            for (size_t k = 0; k < ni; k++) {
                json_object *y;

                if (gis[k].gpu != s->index)
                    continue;
                y = json_object_new_object();
                json_object_object_add(y, "profile", json_object_new_string(gis[k].profile));
                json_object_object_add(y, "profile_id", json_object_new_int(gis[k].profile_id));
                json_object_object_add(y, "instance_id", json_object_new_int((int)gis[k].instance_id));
                json_object_object_add(y, "start", json_object_new_int((int)gis[k].start));
                json_object_object_add(y, "size", json_object_new_int((int)gis[k].size));
                json_object_array_add(xi, y);
            }
            json_object_object_add(x, "instances", xi);
            json_object_array_add(ja, x);
            continue;
        }
        printf("GPU %u  %s  %s: MIG %s", s->index, s->bus_id, s->name,
               s->mode_current < 0 ? "not supported" : s->mode_current ? "enabled" : "disabled");
        if (s->mode_pending >= 0 && s->mode_current >= 0 && s->mode_pending != s->mode_current)
            printf(" (%s pending: reset the GPU with nvidia-smi -i %u -r, or reboot)",
                   s->mode_pending ? "enable" : "disable", s->index);
        printf("\n");
        if (s->mode_current != 1)
            continue;
        if (have_plan && plan.n > 0 && gp_mig_plan_picture(&plan, &picture) == 0) {
            printf("%s", picture);
        } else {
            size_t shown = 0;

            for (size_t k = 0; k < ni; k++)
                if (gis[k].gpu == s->index && ++shown)
                    printf("  GPU instance %u: %s (profile %d) at %u:%u\n", gis[k].instance_id, gis[k].profile,
                           gis[k].profile_id, gis[k].start, gis[k].size);
            if (!shown)
                printf("  no GPU instances: gpupass mig plan --gpu %s PROFILE...\n", s->bus_id);
            else if (err.code)
                printf("  (%s)\n", gp_error_message(&err));
        }
    }
    if (a.json) {
        json_object_object_add(jo, "gpus", ja);
        return gp_cli_json_print(jo);
    }
    return fflush(stdout) != 0 ? gp_cli_error("writing the output failed") : GP_EXIT_OK;
}

int gp_cmd_mig(const gp_cli *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "plan") == 0)
        return mig_plan(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "apply") == 0)
        return mig_apply(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "status") == 0)
        return mig_status(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        mig_help();
        return GP_EXIT_OK;
    }
    return gp_cli_usage_error("mig", "say what to do: plan, apply or status");
}
