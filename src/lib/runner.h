/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a plan's commands are run: executed on the live host, listed for the
 * user to run inside a chroot (an offline --root), or recorded by tests.
 * The transaction engine only ever calls gp_runner_run().
 */
#pragma once

#include <spawn.h>
#include <stdbool.h>

typedef struct gp_runner gp_runner;

struct gp_runner {
    /* Returns the command's exit status (0 success), or a negative errno
     * when it could not be started. */
    int (*run)(const gp_runner *r, char *const argv[]);
    bool executes;       /* false: commands are only printed for the user */
    const char *root;    /* offline root, for the chroot hint; NULL live */
    void *userdata;
};

int gp_runner_run(const gp_runner *r, char *const argv[]);

/* Executes argv with posix_spawnp, stdout/stderr inherited, and waits. */
extern const gp_runner gp_runner_exec;
/* The runner for a host: live root "/" executes; any other root prints.
 * GPUPASS_TEST_RUNNER=record:FILE[,fail=NAME] (tests) appends each argv as
 * one line to FILE instead, and fails commands whose argv[0] is NAME. */
int gp_runner_for(const char *root, bool live, gp_runner *ret);

/*
 * posix_spawn() of argv[0] as execvp() finds it in PATH, searched before
 * the spawn, so that a missing program is -ENOENT (-EACCES: found, not
 * runnable) whatever the spawn is built on. 0 with *pid set, or a negative
 * errno. fa may be NULL.
 */
int gp_command_spawn(char *const argv[], const posix_spawn_file_actions_t *fa, pid_t *pid);

/*
 * Runs argv (found in PATH) with stdout and stderr into one buffer, at most
 * max bytes (the rest is read and dropped), and waits: for the commands
 * whose answer gpupass reads (nvidia-smi). Returns the exit status (>= 0,
 * 128 + signal) with *out NUL-terminated, or a negative errno when it could
 * not be started (-ENOENT: not installed).
 */
int gp_command_output(char *const argv[], size_t max, char **out, size_t *out_len);
