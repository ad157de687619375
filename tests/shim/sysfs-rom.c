/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test shim (LD_PRELOAD): makes a regular file named "rom" in a fixture
 * root behave like the kernel's PCI `rom` attribute, so `gpupass rom dump`
 * runs its real sequence against a fixture. Semantics of
 * drivers/pci/pci-sysfs.c: reads fail with EINVAL until enabled; a write of
 * count 2 at offset 0 starting with '0' disables, any other write enables;
 * a write never changes the content. The switch's state is kept next to the
 * file, in "rom.enabled" ("0"/"1"), so a test sees it after the process ends
 * (also when a signal ended it).
 *
 * Active only when GPUPASS_SHIM_ROM=1. GPUPASS_SHIM_ROM_EIO=1 makes every
 * enabled read fail with EIO (the kernel found no 0x55AA); a read sleeps
 * GPUPASS_SHIM_ROM_DELAY_MS first, so a test can signal the process while
 * it reads.
 */
/* Both names are defined below: without the redirect of pread to pread64
 * that _FILE_OFFSET_BITS=64 makes. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static int rom_state_path(int fd, char *buf, size_t size)
{
    char link[64], target[4096];
    const char *e = getenv("GPUPASS_SHIM_ROM");
    ssize_t n;

    if (!e || strcmp(e, "1") != 0)
        return -1;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    n = (ssize_t)strlen(target);
    if (n < 4 || strcmp(target + n - 4, "/rom") != 0)
        return -1;
    if ((size_t)snprintf(buf, size, "%s.enabled", target) >= size)
        return -1;
    return 0;
}

static int rom_enabled(const char *state)
{
    char c = '0';
    int fd = open(state, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;           /* the kernel starts with the switch off */
    if (read(fd, &c, 1) != 1)
        c = '0';
    close(fd);
    return c == '1';
}

static ssize_t shim_pwrite(int fd, const void *buf, size_t count, off_t off, const char *name)
{
    char state[4200];
    const char *b = buf;

    if (rom_state_path(fd, state, sizeof(state)) == 0) {
        int sfd = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        char v = (off == 0 && count == 2 && b[0] == '0') ? '0' : '1';

        if (sfd < 0 || write(sfd, &v, 1) != 1) {
            if (sfd >= 0)
                close(sfd);
            errno = EIO;
            return -1;
        }
        close(sfd);
        return (ssize_t)count;
    }
    return ((pwrite_fn)dlsym(RTLD_NEXT, name))(fd, buf, count, off);
}

static ssize_t shim_pread(int fd, void *buf, size_t count, off_t off, const char *name)
{
    char state[4200];

    if (rom_state_path(fd, state, sizeof(state)) == 0) {
        const char *d = getenv("GPUPASS_SHIM_ROM_DELAY_MS"), *eio = getenv("GPUPASS_SHIM_ROM_EIO");

        if (!rom_enabled(state)) {
            errno = EINVAL;
            return -1;
        }
        if (d && *d) {
            long ms = atol(d);
            struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        }
        if (eio && strcmp(eio, "1") == 0) {
            errno = EIO;
            return -1;
        }
    }
    return ((pread_fn)dlsym(RTLD_NEXT, name))(fd, buf, count, off);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    return shim_pwrite(fd, buf, count, off, "pwrite");
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off)
{
    return shim_pwrite(fd, buf, count, off, "pwrite64");
}

ssize_t pread(int fd, void *buf, size_t count, off_t off)
{
    return shim_pread(fd, buf, count, off, "pread");
}

ssize_t pread64(int fd, void *buf, size_t count, off_t off)
{
    return shim_pread(fd, buf, count, off, "pread64");
}
