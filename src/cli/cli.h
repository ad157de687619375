/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every subcommand gets from main.c, and the helpers they share. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "finding.h"
#include "gpu.h"
#include "host.h"
#include "hostcrit.h"
#include "pci.h"
#include "plan.h"
#include "runner.h"
#include "txn.h"

/* Exit status, the same for every command. */
enum {
    GP_EXIT_OK = 0,      /* everything holds */
    GP_EXIT_WARN = 1,    /* warnings */
    GP_EXIT_FAIL = 2,    /* failures, or a change refused */
    GP_EXIT_ERROR = 3,   /* could not run: usage, input, I/O */
};

typedef struct gp_cli {
    const char *root;    /* --root, else $GPUPASS_ROOT, else NULL (= "/") */
    bool color;          /* stdout is a terminal and NO_COLOR is unset */
} gp_cli;

/* Opens the host named by --root; on failure prints the error and returns NULL. */
gp_host *gp_cli_open_host(const gp_cli *cli);

/* "gpupass: <message>" on stderr; returns GP_EXIT_ERROR. */
int gp_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error for a command: message plus a hint to --help. */
int gp_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The argument getopt_long just failed on (for "unknown option"). */
const char *gp_cli_bad_option(int argc, char **argv);

/* What list and check start from: the host, its PCI devices, the GPUs with
 * their verdicts, and which of them the ADDRESS arguments select (all when
 * there are none). */
typedef struct gp_cli_gpus {
    gp_host *h;
    gp_pci_list *pci;
    gp_hostcrit *crit;
    gp_gpu_list *gpus;
    bool *dev_sel;      /* per PCI index */
    bool *gpu_sel;      /* per GPU index */
    bool named;         /* ADDRESS arguments were given */
} gp_cli_gpus;

/* Prints the error and returns GP_EXIT_ERROR, or 0. */
int gp_cli_gpus_load(const gp_cli *cli, const char *cmd, int argc, char **argv, gp_cli_gpus *ret);
void gp_cli_gpus_done(gp_cli_gpus *g);
/* The GPU index that the one ADDRESS argument names (its display function
 * or any of its functions); prints the error and returns -1 when it is no
 * GPU. */
int gp_cli_pick_gpu(const gp_cli_gpus *g, const char *arg);
#define _cleanup_cli_gpus_ _cleanup_(gp_cli_gpus_done)

/* -q/--quiet, -j/--json, -h/--help for the commands that print findings:
 * returns -1 to go on, or the exit status (help shown, usage error). */
int gp_cli_findings_options(const char *cmd, int argc, char **argv, bool *quiet, bool *json, void (*help)(void));
/* Prints the findings as text or JSON; returns the exit status they call for. */
int gp_cli_findings_output(const gp_cli *cli, const gp_findings *f, bool quiet, bool json);
/* The same, with one more JSON member before "findings" (ignored in text). */
struct json_object;
int gp_cli_findings_output_extra(const gp_cli *cli, const gp_findings *f, bool quiet, bool json,
                                 const char *extra_name, struct json_object *extra);

struct gp_check_ctx;
/* `vm lint` and `lxc lint` (cmd, help): -q, --json and guest IDs (id_name
 * "VMID" or "CTID": VMs and containers share one ID space), the host
 * loaded, lint run over the IDs named (every guest when none is) and its
 * findings printed. Returns the exit status. */
int gp_cli_guest_lint(const gp_cli *cli, const char *cmd, const char *id_name, int argc, char **argv,
                      void (*help)(void),
                      int (*lint)(const struct gp_check_ctx *ctx, const unsigned *ids, size_t n, gp_findings *out));

/* --apply here: refuses a snapshot archive (exit 3) and, on this machine,
 * a user other than root (exit 2); what names what --apply changes.
 * Prints why; returns 0 or the exit status. */
int gp_cli_apply_allowed(const gp_host *h, const char *cmd, const char *what);
/* The host and the GPU that ADDRESS arg names, for a command that plans;
 * with apply, also gp_cli_apply_allowed(). 0 or the exit status (printed). */
int gp_cli_load_gpu(const gp_cli *cli, const char *cmd, char *arg, bool apply, const char *what, gp_cli_gpus *g,
                    int *gpu);
/* A plan builder's error: a refusal (-ECANCELED, -EREMOTE: another node's
 * guest) is exit 2 with "refused:", anything else exit 3. Prints it. */
int gp_cli_plan_error(const char *cmd, int r, const gp_error *err);
/* The plan as a diff; without apply, the line that says nothing was
 * written. Returns 0 or the exit status. */
int gp_cli_plan_show(const gp_host *h, const gp_plan *plan, bool apply);
/* The plan as one transaction, with the line naming it for undo; run and
 * res say what ran. Returns 0 or the exit status (the error printed). */
int gp_cli_plan_apply(const gp_host *h, const gp_plan *plan, gp_runner *run, gp_txn_result *res);

/* Prints a JSON document (pretty) and drops it; 0 or GP_EXIT_ERROR. */
int gp_cli_json_print(struct json_object *o);

/* The bench result document (render-bench.c): format version, label
 * (default: where it runs), time, and the environment; commands add "gpu",
 * "copy", "llm". */
#define GP_BENCH_FORMAT 1
struct json_object *gp_cli_bench_doc(const gp_host *h, const char *label);
/* To stdout (out NULL) or atomically to out; 0 or the printed exit status. */
int gp_cli_bench_write(struct json_object *doc, const char *out);
/* `gpupass bench llm` (cmd-bench-llm.c). */
int gp_bench_llm_main(const gp_cli *cli, int argc, char **argv);
/* `gpupass bench compare` (cmd-bench-compare.c). */
int gp_bench_compare_main(const gp_cli *cli, int argc, char **argv);

/* Each command parses its own options from argv[0] = command name. */
int gp_cmd_list(const gp_cli *cli, int argc, char **argv);
int gp_cmd_snapshot(const gp_cli *cli, int argc, char **argv);
int gp_cmd_check(const gp_cli *cli, int argc, char **argv);
int gp_cmd_lint(const gp_cli *cli, int argc, char **argv);
int gp_cmd_setup(const gp_cli *cli, int argc, char **argv);
int gp_cmd_undo(const gp_cli *cli, int argc, char **argv);
int gp_cmd_bind(const gp_cli *cli, int argc, char **argv);
int gp_cmd_unbind(const gp_cli *cli, int argc, char **argv);
int gp_cmd_status(const gp_cli *cli, int argc, char **argv);
int gp_cmd_vm(const gp_cli *cli, int argc, char **argv);
int gp_cmd_map(const gp_cli *cli, int argc, char **argv);
int gp_cmd_lxc(const gp_cli *cli, int argc, char **argv);
int gp_cmd_doctor(const gp_cli *cli, int argc, char **argv);
int gp_cmd_rom(const gp_cli *cli, int argc, char **argv);
int gp_cmd_sriov(const gp_cli *cli, int argc, char **argv);
int gp_cmd_mig(const gp_cli *cli, int argc, char **argv);
int gp_cmd_bench(const gp_cli *cli, int argc, char **argv);
/* A ROM file (regular, at most 64 MiB) read whole; prints the error and
 * returns GP_EXIT_ERROR, or 0. */
int gp_cli_read_rom(const char *path, uint8_t **buf, size_t *len);
