/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "kernel.h"
#include "shared/macro.h"

int gp_kver_parse(const char *release, gp_kver *ret)
{
    unsigned v[3] = { 0, 0, 0 };
    const char *p = release;

    *ret = (gp_kver){ 0 };
    for (int i = 0; i < 3; i++) {
        char *end;
        unsigned long n;

        if (*p < '0' || *p > '9')
            break;
        n = strtoul(p, &end, 10);
        if (n > 1000)
            return -EINVAL;
        v[i] = (unsigned)n;
        p = end;
        if (i < 2 && *p != '.') {
            if (i == 0)
                return -EINVAL;
            break;
        }
        if (i < 2)
            p++;
    }
    if (v[0] == 0)
        return -EINVAL;
    ret->major = v[0];
    ret->minor = v[1];
    ret->patch = v[2];
    snprintf(ret->release, sizeof(ret->release), "%s", release);
    return 0;
}

int gp_kver_read(const gp_host *h, gp_kver *ret)
{
    _cleanup_free_ char *rel = NULL, *version = NULL;
    char word[128];

    if (gp_host_read_attr(h, "proc/sys/kernel/osrelease", &rel) >= 0 && gp_kver_parse(rel, ret) == 0)
        return 0;
    /* "Linux version 6.8.12-4-pve (build@proxmox) ..." */
    if (gp_host_read_attr(h, "proc/version", &version) >= 0 &&
        sscanf(version, "Linux version %127s", word) == 1 && gp_kver_parse(word, ret) == 0)
        return 0;
    *ret = (gp_kver){ 0 };
    return -ENOENT;
}

bool gp_kver_known(const gp_kver *v)
{
    return v->major > 0;
}

bool gp_kver_at_least(const gp_kver *v, unsigned major, unsigned minor)
{
    if (!gp_kver_known(v))
        return false;
    return v->major > major || (v->major == major && v->minor >= minor);
}

/*
 * /dev/kmsg gives one record per read(): "prio,seq,usec,flags[,...];text\n"
 * then optional " KEY=value" lines. O_NONBLOCK makes the read at the end of
 * the buffer EAGAIN instead of waiting for new messages; EPIPE means records
 * were overwritten while we read, and the next read goes on.
 */
static int kmsg_read_live(const gp_host *h, size_t max, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = gp_host_open_file(h, "dev/kmsg");
    char *out = NULL;
    size_t outlen = 0;
    unsigned records = 0;
    char rec[8192 + 1];
    FILE *f;
    int r = 0;

    if (fd < 0)
        return fd;
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
        return gp_negerrno();
    f = open_memstream(&out, &outlen);
    if (!f)
        return -ENOMEM;
    for (;;) {
        ssize_t n = read(fd, rec, sizeof(rec) - 1);
        unsigned long long usec = 0;
        char *semi, *nl;

        if (n < 0) {
            if (errno == EINTR || errno == EPIPE)
                continue;
            if (errno != EAGAIN)
                r = -errno;
            break;
        }
        if (n == 0)
            break;
        rec[n] = '\0';
        semi = strchr(rec, ';');
        if (!semi)
            continue;
        *semi = '\0';
        nl = strchr(semi + 1, '\n');
        if (nl)
            *nl = '\0';
        (void)sscanf(rec, "%*u,%*u,%llu", &usec);
        fprintf(f, "[%5llu.%06llu] %s\n", usec / 1000000, usec % 1000000, semi + 1);
        records++;
        if (ftell(f) > (long)max)
            break;
    }
    if (fclose(f) != 0) {
        free(out);
        return -ENOMEM;
    }
    if (records == 0 && r < 0) {
        free(out);
        return r;
    }
    *ret = out;
    *ret_len = outlen;
    return (int)(records > 0);
}

int gp_kmsg_read(const gp_host *h, size_t max, char **ret, size_t *ret_len, const char **ret_source)
{
    int r;

    *ret = NULL;
    *ret_len = 0;
    if (gp_host_is_live(h)) {
        *ret_source = "/dev/kmsg";
        r = kmsg_read_live(h, max, ret, ret_len);
        return r < 0 ? r : 0;
    }
    /* A snapshot or fixture: the log `gpupass snapshot` recorded, else a
     * boot log the distribution kept. */
    *ret_source = "gpupass/kmsg.txt";
    r = gp_host_read_file(h, "gpupass/kmsg.txt", max, ret, ret_len);
    if (r != -ENOENT)
        return r < 0 ? r : 0;
    *ret_source = "var/log/dmesg";
    r = gp_host_read_file(h, "var/log/dmesg", max, ret, ret_len);
    return r < 0 ? r : 0;
}

int gp_kmsg_grep(const char *log, const char *needle,
                 int (*fn)(const char *line, size_t len, unsigned line_no, void *userdata), void *userdata)
{
    unsigned no = 0;

    if (!log)
        return 0;
    for (const char *p = log; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        no++;
        if (memmem(p, len, needle, strlen(needle))) {
            int r = fn(p, len, no, userdata);

            if (r != 0)
                return r;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}
