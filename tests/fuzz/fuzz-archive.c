/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for snapshot archive extraction (snaparchive.h: what
 * `gpupass --root FILE` does with a snapshot someone sent): any bytes are
 * written to a file and extracted into an empty private directory.
 * Invariants:
 *   - the result is 0 or a negative errno with a message;
 *   - nothing appears or changes beside the destination: the directory
 *     holding it keeps exactly the archive, a canary file (unchanged, one
 *     link) and the destination;
 *   - inside it only directories, regular files and symlinks exist, and
 *     every symlink is relative and, where it resolves, resolves inside.
 * Plain builds replay tests/fuzz/seeds/archive: small tar, tar.gz and
 * tar.xz archives, harmless and hostile (absolute names, "..", symlinks and
 * hard links out, device nodes, duplicates).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snaparchive.h"

#define FUZZ_NAME "archive"
#define FUZZ_MUTATIONS 60
#include "fuzz-main.h"

static char base[PATH_MAX], dest[PATH_MAX], archive[PATH_MAX], canary[PATH_MAX], dest_real[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        (void)chmod(path, 0700);
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Directories the archive made unreadable or unwritable must still go. */
static int fix_mode(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_D || type == FTW_DNR)
        (void)chmod(path, 0700);
    (void)st;
    return 0;
}

static void rm_tree(const char *path)
{
    (void)chmod(path, 0700);
    (void)nftw(path, fix_mode, 16, FTW_PHYS);
    FUZZ_CHECK(nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT);
}

static int check_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    FUZZ_CHECK(type == FTW_F || type == FTW_D || type == FTW_DP || type == FTW_SL || type == FTW_SLN ||
               type == FTW_DNR);
    if (type == FTW_F)
        FUZZ_CHECK(S_ISREG(st->st_mode));
    if (type == FTW_SL || type == FTW_SLN) {
        char target[PATH_MAX], real[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof(target) - 1);

        FUZZ_CHECK(n > 0);
        target[n] = '\0';
        FUZZ_CHECK(target[0] != '/');
        if (realpath(path, real)) {
            size_t dl = strlen(dest_real);

            FUZZ_CHECK(strncmp(real, dest_real, dl) == 0 && (real[dl] == '/' || real[dl] == '\0'));
        }
    }
    return 0;
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    int fd;

    snprintf(base, sizeof(base), "%s/gpupass-fuzz-archive-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(base));
    FUZZ_CHECK(snprintf(archive, sizeof(archive), "%s/snapshot.tar.gz", base) < (int)sizeof(archive));
    FUZZ_CHECK(snprintf(canary, sizeof(canary), "%s/canary", base) < (int)sizeof(canary));
    FUZZ_CHECK(snprintf(dest, sizeof(dest), "%s/root", base) < (int)sizeof(dest));
    fd = open(canary, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0 && write(fd, "canary\n", 7) == 7);
    close(fd);
}

static void teardown(void)
{
    if (base[0])
        rm_tree(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gp_error err = { 0 };
    struct stat st;
    char buf[16];
    DIR *d;
    struct dirent *e;
    size_t n_entries = 0;
    int fd, r;

    if (!base[0]) {
        setup();
        atexit(teardown);
    }
    fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
    close(fd);
    FUZZ_CHECK(mkdir(dest, 0700) == 0);
    FUZZ_CHECK(realpath(dest, dest_real));

    r = gp_archive_extract(archive, dest, &err);
    FUZZ_CHECK(r == 0 || (r < 0 && err.code == r && err.msg[0]));

    /* nothing beside the destination */
    d = opendir(base);
    FUZZ_CHECK(d);
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        FUZZ_CHECK(strcmp(e->d_name, "root") == 0 || strcmp(e->d_name, "canary") == 0 ||
                   strcmp(e->d_name, "snapshot.tar.gz") == 0);
        n_entries++;
    }
    closedir(d);
    FUZZ_CHECK(n_entries == 3);
    FUZZ_CHECK(lstat(canary, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_size == 7);
    fd = open(canary, O_RDONLY);
    FUZZ_CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 7 && memcmp(buf, "canary\n", 7) == 0);
    close(fd);
    FUZZ_CHECK(lstat(archive, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 && (size_t)st.st_size == size);
    FUZZ_CHECK(lstat(dest, &st) == 0 && S_ISDIR(st.st_mode));

    /* inside: directories, files and symlinks that stay inside */
    (void)chmod(dest, 0700);
    (void)nftw(dest, fix_mode, 16, FTW_PHYS);
    FUZZ_CHECK(nftw(dest, check_entry, 16, FTW_PHYS) == 0);
    rm_tree(dest);
    return 0;
}
