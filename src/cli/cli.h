/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every subcommand gets from main.c, and the helpers they share. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "host.h"

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

/* Each command parses its own options from argv[0] = command name. */
int gp_cmd_list(const gp_cli *cli, int argc, char **argv);
int gp_cmd_snapshot(const gp_cli *cli, int argc, char **argv);
