/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "runner.h"
#include "shared/macro.h"

int gp_runner_run(const gp_runner *r, char *const argv[])
{
    if (!r || !r->run || !argv || !argv[0])
        return -EINVAL;
    return r->run(r, argv);
}

/* The file PATH names for a program, as execvp() finds it: the first
 * executable regular file; -ENOENT when there is none, -EACCES when one was
 * found but may not be run (or a directory of PATH may not be searched).
 * Searched here rather than left to posix_spawnp(): glibc reports an exec
 * failure in the child through memory it shares with the parent (CLONE_VM),
 * and where that is not shared (valgrind) the child only exits 127, which a
 * program can also mean. */
static int program_find(const char *name, char **ret)
{
    const char *path = getenv("PATH");
    int r = -ENOENT;

    if (strchr(name, '/')) {
        *ret = strdup(name);
        return *ret ? 0 : -ENOMEM;
    }
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        _cleanup_free_ char *file = NULL;
        struct stat st;

        /* an empty entry is the current directory, as in execvp() */
        if (asprintf(&file, "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "", name) < 0)
            return -ENOMEM;
        if (stat(file, &st) == 0) {
            if (S_ISREG(st.st_mode) && access(file, X_OK) == 0) {
                *ret = TAKE_PTR(file);
                return 0;
            }
            r = -EACCES;
        } else if (errno == EACCES) {
            r = -EACCES;
        }
        if (!*end)
            return r;
        p = end;
    }
}

int gp_command_spawn(char *const argv[], const posix_spawn_file_actions_t *fa, pid_t *pid)
{
    _cleanup_free_ char *file = NULL;
    int r = program_find(argv[0], &file);

    if (r < 0)
        return r;
    r = posix_spawn(pid, file, fa, NULL, argv, environ);
    if (r == 0)
        return 0;
    r = -r;   /* tested negated, so that the analyzer sees a negative result */
    return r < 0 ? r : -EIO;
}

static int run_exec(const gp_runner *r, char *const argv[])
{
    pid_t pid;
    int status, e;

    e = gp_command_spawn(argv, NULL, &pid);
    if (e < 0)
        return e;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return gp_negerrno();
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);   /* as the shell reports it */
    return -EIO;
}

const gp_runner gp_runner_exec = { .run = run_exec, .executes = true };

int gp_command_output(char *const argv[], size_t max, char **out, size_t *out_len)
{
    posix_spawn_file_actions_t fa;
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    int fds[2], status, e;
    pid_t pid;

    if (!argv || !argv[0])
        return -EINVAL;
    buf = malloc(max + 1);
    if (!buf)
        return -ENOMEM;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return gp_negerrno();
    e = posix_spawn_file_actions_init(&fa);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    if (e == 0)
        e = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (e == 0) {
        e = gp_command_spawn(argv, &fa, &pid);
    } else {
        e = -e;   /* tested negated, so that the analyzer sees a negative result */
        if (e >= 0)
            e = -EIO;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e < 0) {
        close(fds[0]);
        return e;
    }
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (len < max) {
            size_t k = (size_t)n < max - len ? (size_t)n : max - len;

            memcpy(buf + len, chunk, k);
            len += k;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return gp_negerrno();
    buf[len] = '\0';
    *out = TAKE_PTR(buf);
    if (out_len)
        *out_len = len;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -EIO;
}

/* Offline roots: commands are for the user to run in a chroot; the engine
 * never calls this (executes is false), and a caller that does is told so. */
static int run_print(const gp_runner *r, char *const argv[])
{
    return -EOPNOTSUPP;
}

/* GPUPASS_TEST_RUNNER=record:FILE[,fail=NAME], copied when the runner is
 * made: tests change the environment between runs. */
typedef struct record_spec {
    char file[PATH_MAX];
    char fail[NAME_MAX + 1];
} record_spec;

static record_spec record;

static int run_record(const gp_runner *r, char *const argv[])
{
    const record_spec *spec = r->userdata;
    _cleanup_free_ char *line = NULL;
    _cleanup_close_ int fd = -1;
    size_t len = 0, off = 0;

    assert(argv[0]); /* gp_runner_run() refuses an empty command */
    for (size_t i = 0; argv[i]; i++)
        len += strlen(argv[i]) + 1;
    line = malloc(len + 1);
    if (!line)
        return -ENOMEM;
    for (size_t i = 0; argv[i]; i++) {
        size_t n = strlen(argv[i]);

        memcpy(line + off, argv[i], n);
        off += n;
        line[off++] = argv[i + 1] ? ' ' : '\n';
    }
    fd = open(spec->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return gp_negerrno();
    if (write(fd, line, off) != (ssize_t)off)
        return -EIO;
    return spec->fail[0] && strcmp(argv[0], spec->fail) == 0 ? 1 : 0;
}

static int record_parse(const char *spec)
{
    const char *file, *comma;
    size_t flen;

    if (!gp_startswith(spec, "record:"))
        return -EINVAL;
    file = spec + strlen("record:");
    comma = strstr(file, ",fail=");
    flen = comma ? (size_t)(comma - file) : strlen(file);
    if (flen == 0 || flen >= sizeof(record.file))
        return -EINVAL;
    memcpy(record.file, file, flen);
    record.file[flen] = '\0';
    record.fail[0] = '\0';
    if (comma) {
        const char *name = comma + strlen(",fail=");

        if (strlen(name) >= sizeof(record.fail))
            return -EINVAL;
        strcpy(record.fail, name);
    }
    return 0;
}

int gp_runner_for(const char *root, bool live, gp_runner *ret)
{
    const char *test = getenv("GPUPASS_TEST_RUNNER");

    if (test && *test) {
        int r = record_parse(test);

        if (r < 0)
            return r;
        *ret = (gp_runner){ .run = run_record, .executes = true, .root = live ? NULL : root,
                            .userdata = &record };
        return 0;
    }
    if (live) {
        *ret = gp_runner_exec;
        return 0;
    }
    *ret = (gp_runner){ .run = run_print, .executes = false, .root = root };
    return 0;
}
