/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes a snapshot: the files gpupass reads, copied from a gp_host into a
 * tar.gz with the same root-relative names, so that `--root FILE` sees the
 * same machine. Capture is by allow-list: a file is in the archive because a
 * rule below names it, never because it happened to sit next to one.
 */
#include <archive.h>          /* libarchive; first, see archive.h */
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "bootcfg.h"
#include "host.h"
#include "kernel.h"
#include "shared/macro.h"
#include "snapshot.h"

/* sysfs and procfs files are a few KiB; a 4 MiB one is not what we expect. */
#define SNAP_FILE_MAX (4u * 1024 * 1024)
/* An ACPI table header (signature, length, revision, checksum, OEM ids) is
 * 36 bytes; gpupass only needs to know the table exists. */
#define ACPI_HEADER_LEN 36

typedef struct snap snap;
typedef int (*snap_filter)(snap *s, char **buf, size_t *len);

struct snap {
    const gp_host *h;
    bool ids;
    const char *output;
    struct archive *a;
    json_object *emitted;    /* set: every path already in the archive */
    json_object *captured;   /* set: device directories already captured */
    json_object *skipped;    /* [{path, reason}] for snapshot.json */
    json_object *notes;      /* {topic: text} for snapshot.json */
    size_t files;
    gp_error *err;
};

static void gp_archive_writep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

static void gp_json_putp(json_object **o)
{
    if (*o)
        json_object_put(*o);
}

static bool set_has(json_object *set, const char *key)
{
    return json_object_object_get_ex(set, key, NULL);
}

static int set_add(json_object *set, const char *key)
{
    return json_object_object_add(set, key, NULL) < 0 ? -ENOMEM : 0;
}

static char *path_join(const char *a, const char *b)
{
    char *p;

    if (!*a)
        return strdup(b);
    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

/* ---- what could not be captured ------------------------------------------ */

static int snap_skip(snap *s, const char *path, int code)
{
    json_object *o = json_object_new_object();
    const char *why;

    if (!o)
        return -ENOMEM;
    switch (code) {
    case -EACCES:
    case -EPERM:
        why = "permission denied (run gpupass snapshot as root to include it)";
        break;
    case -EFBIG:
        why = "larger than 4 MiB";
        break;
    case -EXDEV:
        why = "symlink points outside the host root";
        break;
    default:
        why = strerror(-code);
        break;
    }
    json_object_object_add(o, "path", json_object_new_string(path));
    json_object_object_add(o, "reason", json_object_new_string(why));
    return json_object_array_add(s->skipped, o) < 0 ? -ENOMEM : 0;
}

static void snap_note(snap *s, const char *topic, const char *fmt, ...)
{
    _cleanup_free_ char *text = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (r >= 0)
        json_object_object_add(s->notes, topic, json_object_new_string(text));
}

/* ---- archive entries ------------------------------------------------------ */

static int snap_write_entry(snap *s, const char *path, mode_t type, mode_t perm, const char *target,
                            const void *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    int r = 0;

    if (!e)
        return -ENOMEM;
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm & 0777);
    /* Reproducible: no owners, no times; a host's clock says nothing useful. */
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, 0, 0);
    if (type == AE_IFLNK)
        archive_entry_set_symlink(e, target);
    archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
    if (archive_write_header(s->a, e) != ARCHIVE_OK)
        r = -EIO;
    else if (type == AE_IFREG && len > 0 && archive_write_data(s->a, data, len) != (la_ssize_t)len)
        r = -EIO;
    archive_entry_free(e);
    if (r < 0)
        return gp_error_set(s->err, r, "%s: cannot write the snapshot: %s; check free space and permissions",
                            s->output, archive_error_string(s->a));
    return 0;
}

static int snap_dir(snap *s, const char *path);

/* Archives list parents before children so that extraction never has to
 * invent a directory (and modes stay what they were). */
static int snap_parents(snap *s, const char *path)
{
    _cleanup_free_ char *p = strdup(path);
    char *slash;

    if (!p)
        return -ENOMEM;
    slash = strrchr(p, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    return snap_dir(s, p);
}

static int snap_dir(snap *s, const char *path)
{
    int r;

    if (!*path || set_has(s->emitted, path))
        return 0;
    r = snap_parents(s, path);
    if (r < 0)
        return r;
    r = snap_write_entry(s, path, AE_IFDIR, 0755, NULL, NULL, 0);
    if (r < 0)
        return r;
    return set_add(s->emitted, path);
}

static int snap_emit(snap *s, const char *path, mode_t type, mode_t perm, const char *target,
                     const void *data, size_t len)
{
    int r;

    if (set_has(s->emitted, path))
        return 0;
    r = snap_parents(s, path);
    if (r < 0)
        return r;
    r = snap_write_entry(s, path, type, perm, target, data, len);
    if (r < 0)
        return r;
    s->files++;
    return set_add(s->emitted, path);
}

static int snap_text(snap *s, const char *path, mode_t perm, const char *text)
{
    return snap_emit(s, path, AE_IFREG, perm, NULL, text, strlen(text));
}

/* ---- reading ------------------------------------------------------------- */

/* Reads a regular file under dirfd, never following a symlink and never
 * opening anything else: a fifo or device node would block or act. */
static int read_regular_at(int dirfd, const char *name, size_t max, char **buf, size_t *len, mode_t *mode)
{
    _cleanup_close_ int fd = -1;
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return gp_negerrno();
    if (!S_ISREG(st.st_mode))
        return -ENOENT;
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return gp_negerrno();
    *mode = st.st_mode & 0777;
    return gp_fd_read_all(fd, max, buf, len);
}

/* One regular file under dirfd, stored as `path` after the filter. */
static int snap_regular(snap *s, int dirfd, const char *name, const char *path, snap_filter filter)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    mode_t mode = 0644;
    int r;

    if (set_has(s->emitted, path))
        return 0;
    r = read_regular_at(dirfd, name, SNAP_FILE_MAX, &buf, &len, &mode);
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, path, r);
    if (filter) {
        r = filter(s, &buf, &len);
        if (r < 0)
            return r;
    }
    return snap_emit(s, path, AE_IFREG, mode, NULL, buf, len);
}

static int snap_file_at(snap *s, int dirfd, const char *dirpath, const char *name, snap_filter filter)
{
    _cleanup_free_ char *path = path_join(dirpath, name);

    if (!path)
        return -ENOMEM;
    return snap_regular(s, dirfd, name, path, filter);
}

static int snap_link_at(snap *s, int dirfd, const char *dirpath, const char *name)
{
    _cleanup_free_ char *path = path_join(dirpath, name), *target = NULL;
    int r;

    if (!path)
        return -ENOMEM;
    r = gp_readlink_at(dirfd, name, &target);
    if (r == -ENOENT || r == -EINVAL)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, path, r);
    return snap_emit(s, path, AE_IFLNK, 0777, target, NULL, 0);
}

/* A root-relative path, symlinks resolved inside the root, stored under the
 * name asked for (etc/os-release is often a link into usr/lib). */
static int snap_file(snap *s, const char *path, snap_filter filter)
{
    _cleanup_free_ char *rel = NULL, *dir = NULL;
    _cleanup_close_ int dfd = -1;
    const char *base;
    char *slash;
    int r;

    r = gp_host_resolve(s->h, path, &rel);
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, path, r);
    slash = strrchr(rel, '/');
    if (slash) {
        *slash = '\0';
        dir = rel;
        rel = NULL;
        base = slash + 1;
    } else {
        dir = strdup("");
        base = rel;
        if (!dir)
            return -ENOMEM;
    }
    /* The resolved directory has no symlink left in it. */
    dfd = openat(gp_host_rootfd(s->h), *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT ? 0 : snap_skip(s, path, gp_negerrno());
    return snap_regular(s, dfd, base, path, filter);
}

/* Every regular file in `dir` whose name ends in suffix ("" for all). */
static int snap_dir_files(snap *s, const char *dir, const char *suffix, snap_filter filter)
{
    _cleanup_strv_ char **names = NULL;
    int r = gp_host_list_dir(s->h, dir, &names, NULL);

    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, dir, r);
    for (char **n = names; *n; n++) {
        _cleanup_free_ char *p = NULL;

        if (!gp_endswith(*n, suffix))
            continue;
        p = path_join(dir, *n);
        if (!p)
            return -ENOMEM;
        r = snap_file(s, p, filter);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The symlinks in `dir` (all, or those whose name starts with prefix). */
static int snap_dir_links(snap *s, const char *dir, const char *prefix)
{
    _cleanup_strv_ char **names = NULL;
    _cleanup_close_ int dfd = -1;
    int r = gp_host_list_dir(s->h, dir, &names, NULL);

    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, dir, r);
    dfd = gp_host_open_dir(s->h, dir);
    if (dfd < 0)
        return dfd == -ENOMEM ? dfd : snap_skip(s, dir, dfd);
    for (char **n = names; *n; n++) {
        if (prefix && !gp_startswith(*n, prefix))
            continue;
        r = snap_link_at(s, dfd, dir, *n);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- redaction ----------------------------------------------------------- */

/* Zeroes the hex digits of every MAC address (six colon-separated octets)
 * and every UUID (8-4-4-4-12), keeping the syntax so parsers still work. */
static void redact_ids(char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        bool start = i == 0 || !(isxdigit((unsigned char)b[i - 1]) || b[i - 1] == ':' || b[i - 1] == '-');
        size_t j;

        if (!start || !isxdigit((unsigned char)b[i]))
            continue;
        /* MAC: hh:hh:hh:hh:hh:hh */
        if (i + 17 <= len) {
            for (j = 0; j < 17; j++)
                if ((j % 3 == 2) ? b[i + j] != ':' : !isxdigit((unsigned char)b[i + j]))
                    break;
            if (j == 17 && (i + 17 == len || !(isxdigit((unsigned char)b[i + 17]) || b[i + 17] == ':'))) {
                for (j = 0; j < 17; j++)
                    if (j % 3 != 2)
                        b[i + j] = '0';
                i += 16;
                continue;
            }
        }
        /* UUID: 8-4-4-4-12 */
        if (i + 36 <= len) {
            for (j = 0; j < 36; j++) {
                bool dash = j == 8 || j == 13 || j == 18 || j == 23;

                if (dash ? b[i + j] != '-' : !isxdigit((unsigned char)b[i + j]))
                    break;
            }
            if (j == 36 && (i + 36 == len || !(isxdigit((unsigned char)b[i + 36]) || b[i + 36] == '-'))) {
                for (j = 0; j < 36; j++)
                    if (b[i + j] != '-')
                        b[i + j] = '0';
                i += 35;
            }
        }
    }
}

static int filter_ids(snap *s, char **buf, size_t *len)
{
    if (!s->ids)
        redact_ids(*buf, *len);
    return 0;
}

/* /etc/network/interfaces: keep every stanza and option, blank the values of
 * the ones that identify the machine on a network. */
static int filter_interfaces(snap *s, char **buf, size_t *len)
{
    static const char *const keys[] = { "address", "gateway", "hwaddress" };
    char *out = NULL;
    size_t outlen = 0;
    FILE *f;
    char *line = *buf;

    if (s->ids)
        return 0;
    f = open_memstream(&out, &outlen);
    if (!f)
        return -ENOMEM;
    while (line < *buf + *len) {
        char *nl = memchr(line, '\n', (size_t)(*buf + *len - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(*buf + *len - line);
        const char *p = line;
        bool done = false;

        while (p < line + n && (*p == ' ' || *p == '\t'))
            p++;
        for (size_t k = 0; k < ELEMENTSOF(keys) && !done; k++) {
            size_t kl = strlen(keys[k]);

            if ((size_t)(line + n - p) > kl && strncmp(p, keys[k], kl) == 0 && (p[kl] == ' ' || p[kl] == '\t')) {
                fwrite(line, 1, (size_t)(p - line) + kl, f);
                fputs(" redacted", f);
                done = true;
            }
        }
        if (!done)
            fwrite(line, 1, n, f);
        if (nl)
            fputc('\n', f);
        line += n + (nl ? 1 : 0);
    }
    if (fclose(f) != 0) {
        free(out);
        return -ENOMEM;
    }
    redact_ids(out, outlen);
    free(*buf);
    *buf = out;
    *len = outlen;
    return 0;
}

static int filter_hostname(snap *s, char **buf, size_t *len)
{
    char *r;

    if (s->ids)
        return 0;
    r = strdup("redacted\n");
    if (!r)
        return -ENOMEM;
    free(*buf);
    *buf = r;
    *len = strlen(r);
    return 0;
}

/* proc/driver/nvidia/gpus/<bdf>/information: the "GPU UUID" line names the
 * one card ("GPU-" then 8-4-4-4-12 hex digits, which redact_ids does not
 * take: the digits follow a '-'). The other lines stay. */
static int filter_nvidia_gpu(snap *s, char **buf, size_t *len)
{
    char *b = *buf;
    size_t n = *len;

    if (s->ids)
        return 0;
    for (size_t i = 0; i + 4 + 36 <= n; i++) {
        size_t j;

        if (memcmp(b + i, "GPU-", 4) != 0)
            continue;
        for (j = 0; j < 36; j++) {
            bool dash = j == 8 || j == 13 || j == 18 || j == 23;
            char c = b[i + 4 + j];

            if (dash ? c != '-' : !isxdigit((unsigned char)c))
                break;
        }
        if (j < 36)
            continue;
        for (j = 0; j < 36; j++)
            if (b[i + 4 + j] != '-')
                b[i + 4 + j] = '0';
        i += 4 + 35;
    }
    return 0;
}

/*
 * PCI config space: zero what identifies the one physical card.
 * - Device Serial Number, PCIe extended capability 0x0003: the extended
 *   list starts at 0x100; each header is ID 15:0, version 19:16, next offset
 *   31:20 (dword aligned, 0 ends the list); the 64-bit serial follows it.
 * - VPD, standard capability 0x03: its data register at +4 holds the last
 *   dword read from the VPD, possibly part of a serial number.
 */
static int filter_config(snap *s, char **buf, size_t *len)
{
    uint8_t *c = (uint8_t *)*buf;
    size_t n = *len;

    if (n >= 0x40 && (c[0x06] & 0x10)) {   /* status: capabilities list */
        unsigned off = c[0x34] & 0xfc;

        for (int guard = 0; off >= 0x40 && off + 8 <= n && off < 0x100 && guard < 48; guard++) {
            if (c[off] == 0x03)
                memset(c + off + 4, 0, 4);
            off = c[off + 1] & 0xfc;
        }
    }
    if (n >= 0x104) {
        unsigned off = 0x100;

        /* 4096-byte space holds at most (4096 - 256) / 4 headers. */
        for (int guard = 0; off >= 0x100 && off + 4 <= n && guard < 960; guard++) {
            uint32_t hdr = (uint32_t)c[off] | (uint32_t)c[off + 1] << 8 | (uint32_t)c[off + 2] << 16 |
                           (uint32_t)c[off + 3] << 24;

            if (hdr == 0 || hdr == 0xffffffffu)
                break;
            if ((hdr & 0xffff) == 0x0003)
                memset(c + off + 4, 0, off + 12 <= n ? 8 : n - off - 4);
            off = (hdr >> 20) & 0xffc;
        }
    }
    return 0;
}

static bool cpuinfo_key(const char *line, size_t n, const char *key)
{
    size_t kl = strlen(key);
    const char *p = line + kl;

    if (n < kl || strncmp(line, key, kl) != 0)
        return false;
    while (p < line + n && (*p == ' ' || *p == '\t'))
        p++;
    return p < line + n && *p == ':';
}

/* /proc/cpuinfo: the first processor's identity and flags (vmx/svm, the
 * IOMMU-relevant features), and one `processor` line per CPU for the count;
 * not serial numbers or per-core noise. */
static int filter_cpuinfo(snap *s, char **buf, size_t *len)
{
    static const char *const keep[] = {
        "processor", "vendor_id", "cpu family", "model", "model name", "stepping", "microcode",
        "physical id", "siblings", "cpu cores", "flags", "vmx flags", "address sizes",
        "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "CPU revision", "Features",
        "isa", "uarch", "cpu", "machine",
    };
    char *out = NULL;
    size_t outlen = 0;
    unsigned block = 0;
    bool seen_processor = false;
    char *line = *buf;
    FILE *f = open_memstream(&out, &outlen);

    if (!f)
        return -ENOMEM;
    while (line < *buf + *len) {
        char *nl = memchr(line, '\n', (size_t)(*buf + *len - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(*buf + *len - line);

        if (cpuinfo_key(line, n, "processor")) {
            if (seen_processor) {
                if (block == 0)
                    fputc('\n', f);
                block++;
            }
            seen_processor = true;
        }
        if (block == 0) {
            for (size_t k = 0; k < ELEMENTSOF(keep); k++)
                if (cpuinfo_key(line, n, keep[k])) {
                    fwrite(line, 1, n, f);
                    fputc('\n', f);
                    break;
                }
        } else if (cpuinfo_key(line, n, "processor")) {
            fwrite(line, 1, n, f);
            fputs("\n\n", f);
        }
        line += n + (nl ? 1 : 0);
    }
    if (block == 0)
        fputc('\n', f);
    if (fclose(f) != 0) {
        free(out);
        return -ENOMEM;
    }
    free(*buf);
    *buf = out;
    *len = outlen;
    return 0;
}

/* ---- sysfs: PCI ------------------------------------------------------------ */

/* The first visit of a device, disk or interface directory: records it,
 * opens it and stores the directory entry. Returns 1 with *ret_dfd open,
 * 0 when already captured or skipped as unreadable, or a negative errno. */
static int snap_enter_dir(snap *s, const char *dir, int *ret_dfd)
{
    _cleanup_close_ int dfd = -1;
    int r;

    *ret_dfd = -1;
    if (set_has(s->captured, dir))
        return 0;
    r = set_add(s->captured, dir);
    if (r < 0)
        return r;
    dfd = gp_host_open_dir(s->h, dir);
    if (dfd < 0)
        return dfd == -ENOMEM ? dfd : snap_skip(s, dir, dfd);
    r = snap_dir(s, dir);
    if (r < 0)
        return r;
    *ret_dfd = TAKE_FD(dfd);
    return 1;
}

/* The attributes gpupass reads. Never resource0..5, resource*_wc, rom,
 * reset, remove or rescan: reading a BAR or the ROM can hang the machine or
 * change the device's state. */
static const char *const pci_attrs[] = {
    "vendor", "device", "subsystem_vendor", "subsystem_device", "class", "revision", "config", "irq",
    "numa_node", "local_cpulist", "enable", "modalias", "uevent", "resource", "current_link_speed",
    "current_link_width", "max_link_speed", "max_link_width", "reset_method", "boot_vga",
    "d3cold_allowed", "power_state", "sriov_totalvfs", "sriov_numvfs", "sriov_offset", "sriov_stride",
    "sriov_vf_device", "sriov_drivers_autoprobe", "driver_override", "msi_bus", "broken_parity_status",
    "label", "index", "acpi_index",
};

static int snap_pci_dir(snap *s, const char *dir)
{
    _cleanup_strv_ char **names = NULL;
    _cleanup_close_ int dfd = -1;
    int r;

    r = snap_enter_dir(s, dir, &dfd);
    if (r <= 0)
        return r;
    for (size_t i = 0; i < ELEMENTSOF(pci_attrs); i++) {
        r = snap_file_at(s, dfd, dir, pci_attrs[i], strcmp(pci_attrs[i], "config") == 0 ? filter_config : NULL);
        if (r < 0)
            return r;
    }
    /* "rom" exists when the device has a ROM BAR. Reading it means
     * enabling the ROM first (a write), so only its presence is recorded. */
    if (faccessat(dfd, "rom", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        _cleanup_free_ char *rom = path_join(dir, "rom");

        if (!rom)
            return -ENOMEM;
        r = snap_emit(s, rom, AE_IFREG, 0600, NULL, "", 0);
        if (r < 0)
            return r;
    }
    r = gp_host_list_dir(s->h, dir, &names, NULL);
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, dir, r);
    for (char **n = names; *n; n++) {
        if (strcmp(*n, "driver") != 0 && strcmp(*n, "iommu_group") != 0 && strcmp(*n, "subsystem") != 0 &&
            strcmp(*n, "physfn") != 0 && strcmp(*n, "iommu") != 0 && !gp_startswith(*n, "virtfn"))
            continue;
        r = snap_link_at(s, dfd, dir, *n);
        if (r < 0)
            return r;
    }
    return 0;
}

/* A device under sys/devices: the device and every directory above it (host
 * bridges and PCIe ports are devices with their own attributes). */
static int snap_device_path(snap *s, const char *rel, int (*capture)(snap *, const char *))
{
    static const char prefix[] = "sys/devices/";
    _cleanup_free_ char *p = strdup(rel);
    int r;

    if (!p)
        return -ENOMEM;
    if (capture == snap_pci_dir && gp_startswith(p, prefix)) {
        for (char *q = strchr(p + sizeof(prefix) - 1, '/'); q; q = strchr(q + 1, '/')) {
            *q = '\0';
            r = snap_pci_dir(s, p);
            *q = '/';
            if (r < 0)
                return r;
        }
    }
    return capture(s, rel);
}

/* An entry of a class/bus directory: store the link as it is, then capture
 * what it resolves to. A fixture may hold a plain directory instead. */
static int snap_class_entry(snap *s, const char *dir, const char *name, int (*capture)(snap *, const char *))
{
    _cleanup_free_ char *path = path_join(dir, name), *target = NULL, *rel = NULL;
    int r;

    if (!path)
        return -ENOMEM;
    r = gp_host_readlink(s->h, path, &target);
    if (r >= 0) {
        r = snap_emit(s, path, AE_IFLNK, 0777, target, NULL, 0);
        if (r < 0)
            return r;
    } else if (r != -EINVAL)
        return r == -ENOMEM ? r : snap_skip(s, path, r);
    r = gp_host_resolve(s->h, path, &rel);
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, path, r);
    return snap_device_path(s, rel, capture);
}

static int snap_pci(snap *s)
{
    _cleanup_strv_ char **devs = NULL, **drivers = NULL;
    int r;

    r = gp_host_list_dir(s->h, "sys/bus/pci/devices", &devs, NULL);
    if (r < 0 && r != -ENOENT)
        return r == -ENOMEM ? r : snap_skip(s, "sys/bus/pci/devices", r);
    r = snap_dir(s, "sys/bus/pci/devices");
    for (char **n = devs; r >= 0 && n && *n; n++)
        r = snap_class_entry(s, "sys/bus/pci/devices", *n, snap_pci_dir);
    if (r < 0)
        return r;

    /* Drivers: which devices each one holds, and that bind/unbind exist
     * (write-only files; their presence says the driver is registered). */
    r = gp_host_list_dir(s->h, "sys/bus/pci/drivers", &drivers, NULL);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, "sys/bus/pci/drivers", r);
    for (char **d = drivers; *d; d++) {
        _cleanup_free_ char *dir = path_join("sys/bus/pci/drivers", *d);
        _cleanup_strv_ char **names = NULL;
        _cleanup_close_ int dfd = -1;

        if (!dir)
            return -ENOMEM;
        dfd = gp_host_open_dir(s->h, dir);
        if (dfd < 0) {
            r = snap_skip(s, dir, dfd);
            if (r < 0)
                return r;
            continue;
        }
        r = snap_dir(s, dir);
        if (r >= 0)
            r = gp_host_list_dir(s->h, dir, &names, NULL);
        if (r < 0)
            return r == -ENOMEM || r == -EIO ? r : snap_skip(s, dir, r);
        for (char **n = names; *n; n++) {
            struct stat st;

            if (fstatat(dfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISLNK(st.st_mode) && (strchr(*n, ':') || strcmp(*n, "module") == 0)) {
                r = snap_link_at(s, dfd, dir, *n);
            } else if (S_ISREG(st.st_mode) && (strcmp(*n, "bind") == 0 || strcmp(*n, "unbind") == 0 ||
                                               strcmp(*n, "new_id") == 0 || strcmp(*n, "remove_id") == 0)) {
                _cleanup_free_ char *p = path_join(dir, *n);

                r = p ? snap_emit(s, p, AE_IFREG, st.st_mode & 0777, NULL, NULL, 0) : -ENOMEM;
            }
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* ---- sysfs: IOMMU, ACPI, modules ------------------------------------------ */

static int snap_iommu(snap *s)
{
    _cleanup_strv_ char **groups = NULL;
    int r;

    r = gp_host_list_dir(s->h, "sys/kernel/iommu_groups", &groups, NULL);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, "sys/kernel/iommu_groups", r);
    /* The directory exists even with no groups: IOMMU support is built in
     * but not enabled. Its presence is evidence. */
    r = snap_dir(s, "sys/kernel/iommu_groups");
    for (char **g = groups; r >= 0 && *g; g++) {
        _cleanup_free_ char *dir = path_join("sys/kernel/iommu_groups", *g), *devs = NULL;
        _cleanup_close_ int dfd = -1;

        if (!dir)
            return -ENOMEM;
        dfd = gp_host_open_dir(s->h, dir);
        if (dfd < 0) {
            r = snap_skip(s, dir, dfd);
            continue;
        }
        r = snap_dir(s, dir);
        if (r >= 0)
            r = snap_file_at(s, dfd, dir, "type", NULL);
        if (r >= 0)
            r = snap_file_at(s, dfd, dir, "reserved_regions", NULL);
        devs = path_join(dir, "devices");
        if (!devs)
            return -ENOMEM;
        if (r >= 0)
            r = snap_dir(s, devs);
        if (r >= 0)
            r = snap_dir_links(s, devs, NULL);
    }
    if (r < 0)
        return r;
    r = snap_dir_links(s, "sys/class/iommu", NULL);
    if (r < 0)
        return r;
    /* The directory itself: its presence with no DMAR/IVRS in it is what
     * says the firmware has the IOMMU off. */
    if (gp_host_exists(s->h, "sys/firmware/acpi/tables")) {
        r = snap_dir(s, "sys/firmware/acpi/tables");
        if (r < 0)
            return r;
    }
    for (const char *const *t = (const char *const[]) { "DMAR", "IVRS", NULL }; *t; t++) {
        _cleanup_free_ char *path = path_join("sys/firmware/acpi/tables", *t), *rel = NULL;
        _cleanup_close_ int fd = -1;
        char hdr[ACPI_HEADER_LEN];
        size_t got = 0;
        struct stat st;

        if (!path)
            return -ENOMEM;
        r = gp_host_resolve(s->h, path, &rel);
        if (r == -ENOENT || r == -ENOTDIR)
            continue;
        if (r < 0) {
            r = snap_skip(s, path, r);
            if (r < 0)
                return r;
            continue;
        }
        if (fstatat(gp_host_rootfd(s->h), rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        fd = openat(gp_host_rootfd(s->h), rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            r = snap_skip(s, path, gp_negerrno());
            if (r < 0)
                return r;
            continue;
        }
        while (got < sizeof(hdr)) {
            ssize_t n = read(fd, hdr + got, sizeof(hdr) - got);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        r = snap_emit(s, path, AE_IFREG, st.st_mode & 0777, NULL, hdr, got);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool module_wanted(const char *name)
{
    return strcmp(name, "vfio") == 0 || strcmp(name, "vfio_pci") == 0 || strcmp(name, "vfio_pci_core") == 0 ||
           strcmp(name, "vfio_iommu_type1") == 0 || gp_startswith(name, "kvm");
}

static int snap_modules(snap *s)
{
    _cleanup_strv_ char **mods = NULL;
    int r = gp_host_list_dir(s->h, "sys/module", &mods, NULL);

    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, "sys/module", r);
    for (char **m = mods; *m; m++) {
        _cleanup_free_ char *dir = NULL, *params = NULL;
        _cleanup_strv_ char **names = NULL;
        _cleanup_close_ int dfd = -1;

        if (!module_wanted(*m))
            continue;
        dir = path_join("sys/module", *m);
        params = dir ? path_join(dir, "parameters") : NULL;
        if (!params)
            return -ENOMEM;
        /* The module directory alone says the module is loaded or built in. */
        r = snap_dir(s, dir);
        if (r < 0)
            return r;
        dfd = gp_host_open_dir(s->h, params);
        if (dfd < 0)
            continue;
        r = snap_dir(s, params);
        if (r >= 0)
            r = gp_host_list_dir(s->h, params, &names, NULL);
        if (r < 0)
            return r == -ENOMEM || r == -EIO ? r : snap_skip(s, params, r);
        for (char **n = names; *n; n++) {
            r = snap_file_at(s, dfd, params, *n, NULL);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* ---- sysfs: block and net (what the host cannot lose) ---------------------- */

static int snap_block_dir(snap *s, const char *dir)
{
    static const char *const attrs[] = { "dev", "partition", "size", "ro", "removable" };
    _cleanup_free_ char *dm = NULL, *slaves = NULL, *holders = NULL;
    _cleanup_close_ int dfd = -1, dmfd = -1;
    int r;

    r = snap_enter_dir(s, dir, &dfd);
    if (r <= 0)
        return r;
    for (size_t i = 0; r >= 0 && i < ELEMENTSOF(attrs); i++)
        r = snap_file_at(s, dfd, dir, attrs[i], NULL);
    if (r >= 0)
        r = snap_link_at(s, dfd, dir, "device");
    if (r < 0)
        return r;
    /* dm/name says which LVM volume or LUKS mapping this is; dm/uuid is
     * left out: it carries the volume group's UUID. */
    dm = path_join(dir, "dm");
    slaves = path_join(dir, "slaves");
    holders = path_join(dir, "holders");
    if (!dm || !slaves || !holders)
        return -ENOMEM;
    dmfd = gp_host_open_dir(s->h, dm);
    if (dmfd >= 0) {
        r = snap_file_at(s, dmfd, dm, "name", NULL);
        if (r < 0)
            return r;
    }
    r = snap_dir_links(s, slaves, NULL);
    if (r < 0)
        return r;
    return snap_dir_links(s, holders, NULL);
}

static int snap_net_dir(snap *s, const char *dir)
{
    static const char *const attrs[] = { "type", "operstate", "ifindex", "address", "broadcast" };
    _cleanup_free_ char *brif = NULL;
    _cleanup_strv_ char **names = NULL;
    _cleanup_close_ int dfd = -1;
    int r;

    r = snap_enter_dir(s, dir, &dfd);
    if (r <= 0)
        return r;
    /* address and broadcast are MAC addresses: only with --include-identifiers. */
    for (size_t i = 0; r >= 0 && i < (s->ids ? 5 : 3); i++)
        r = snap_file_at(s, dfd, dir, attrs[i], NULL);
    if (r >= 0)
        r = snap_link_at(s, dfd, dir, "master");
    if (r >= 0)
        r = snap_link_at(s, dfd, dir, "device");
    if (r >= 0)
        r = gp_host_list_dir(s->h, dir, &names, NULL);
    if (r < 0)
        return r == -ENOMEM || r == -EIO ? r : snap_skip(s, dir, r);
    for (char **n = names; *n; n++) {
        if (!gp_startswith(*n, "lower_") && !gp_startswith(*n, "upper_"))
            continue;
        r = snap_link_at(s, dfd, dir, *n);
        if (r < 0)
            return r;
    }
    brif = path_join(dir, "brif");
    if (!brif)
        return -ENOMEM;
    /* A bridge with no ports still is a bridge: keep the empty brif/. */
    if (gp_host_exists(s->h, brif)) {
        r = snap_dir(s, brif);
        if (r < 0)
            return r;
    }
    return snap_dir_links(s, brif, NULL);
}

static int snap_class(snap *s, const char *dir, int (*capture)(snap *, const char *))
{
    _cleanup_strv_ char **names = NULL;
    int r = gp_host_list_dir(s->h, dir, &names, NULL);

    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, dir, r);
    r = snap_dir(s, dir);
    for (char **n = names; r >= 0 && *n; n++)
        r = snap_class_entry(s, dir, *n, capture);
    return r;
}

/* DRM minors of PCI GPUs (sys/class/drm/cardN, renderDN): the class link,
 * the node's "dev" and its "device" link back to the GPU. `gpupass lxc`
 * finds a GPU's nodes under <pci device>/drm/. Connectors (card0-DP-1) and
 * DRM devices that are no PCI function (simpledrm, vgem) stay out. */
static bool drm_minor_name(const char *name)
{
    size_t p = gp_startswith(name, "renderD") ? 7 : gp_startswith(name, "card") ? 4 : 0;

    return p && name[p] && strspn(name + p, "0123456789") == strlen(name + p);
}

static int snap_drm(snap *s)
{
    _cleanup_strv_ char **names = NULL;
    _cleanup_close_ int cfd = -1;
    int r = gp_host_list_dir(s->h, "sys/class/drm", &names, NULL);

    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, "sys/class/drm", r);
    cfd = gp_host_open_dir(s->h, "sys/class/drm");
    if (cfd < 0)
        return cfd == -ENOMEM ? cfd : snap_skip(s, "sys/class/drm", cfd);
    r = snap_dir(s, "sys/class/drm");
    for (char **n = names; r >= 0 && *n; n++) {
        _cleanup_free_ char *path = NULL, *rel = NULL, *pcidir = NULL;
        _cleanup_close_ int dfd = -1;
        char *slash;

        if (!drm_minor_name(*n))
            continue;
        path = path_join("sys/class/drm", *n);
        if (!path)
            return -ENOMEM;
        r = gp_host_resolve(s->h, path, &rel);
        if (r == -ENOENT || r == -ENOTDIR) {
            r = 0;
            continue;
        }
        if (r < 0) {
            r = r == -ENOMEM ? r : snap_skip(s, path, r);
            continue;
        }
        /* <pci device>/drm/<name>, the PCI device captured by snap_pci. */
        pcidir = strdup(rel);
        if (!pcidir)
            return -ENOMEM;
        slash = strrchr(pcidir, '/');
        if (slash)
            *slash = '\0';
        if (!slash || !gp_endswith(pcidir, "/drm"))
            continue;
        pcidir[strlen(pcidir) - 4] = '\0';
        if (!set_has(s->captured, pcidir))
            continue;
        r = snap_link_at(s, cfd, "sys/class/drm", *n);
        if (r >= 0)
            r = snap_enter_dir(s, rel, &dfd);
        if (r <= 0)
            continue;
        r = snap_file_at(s, dfd, rel, "dev", NULL);
        if (r >= 0)
            r = snap_link_at(s, dfd, rel, "device");
    }
    return r < 0 ? r : 0;
}

/* ---- the installed system: kernel modules, packages ------------------------- */

/* dpkg's status database, reduced to the stanzas of the packages `check`
 * reports (Proxmox VE, its kernels, GPU drivers): the rest says nothing
 * about passthrough and is most of the file. */
static int filter_dpkg(snap *s, char **buf, size_t *len)
{
    static const char *const keep[] = {
        "pve-manager", "proxmox-ve", "qemu-server", "pve-qemu-kvm", "proxmox-kernel", "pve-kernel",
        "proxmox-default-kernel", "pve-edk2-firmware", "nvidia", "libnvidia", "vendor-reset", "amdgpu",
        "rocm", "kmod", "initramfs-tools", "grub-", "systemd-boot", "proxmox-boot",
    };
    char *out = *buf;
    size_t n = 0;

    for (char *p = *buf; p < *buf + *len;) {
        char *end = strstr(p, "\n\n");
        size_t stanza = end ? (size_t)(end - p) + 2 : (size_t)(*buf + *len - p);
        bool want = false;

        if (gp_startswith(p, "Package: "))
            for (size_t i = 0; i < ELEMENTSOF(keep) && !want; i++)
                want = gp_startswith(p + 9, keep[i]);
        if (want) {
            memmove(out + n, p, stanza);
            n += stanza;
        }
        p += stanza;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

static int snap_system(snap *s)
{
    _cleanup_free_ char *release = NULL, *dep = NULL, *builtin = NULL;
    int r;

    /* The module index of the running kernel: lint and check tell a
     * misspelled or removed module (vfio_virqfd on >= 6.2) from a real one. */
    if (gp_host_read_attr(s->h, "proc/sys/kernel/osrelease", &release) >= 0 && !strchr(release, '/') &&
        strcmp(release, "..") != 0) {
        if (asprintf(&dep, "lib/modules/%s/modules.dep", release) < 0 ||
            asprintf(&builtin, "lib/modules/%s/modules.builtin", release) < 0)
            return -ENOMEM;
        if ((r = snap_file(s, dep, NULL)) < 0 || (r = snap_file(s, builtin, NULL)) < 0)
            return r;
    }
    /* How the host booted decides which boot loader reads which file
     * (bootcfg.c): UEFI or not, and the Secure Boot variable. */
    if (gp_host_exists(s->h, "sys/firmware/efi")) {
        if ((r = snap_dir(s, "sys/firmware/efi")) < 0 ||
            (r = snap_file(s, "sys/firmware/efi/fw_platform_size", NULL)) < 0 ||
            (r = snap_file(s, GP_EFI_SECURE_BOOT_VAR, NULL)) < 0)
            return r;
    }
    return snap_file(s, "var/lib/dpkg/status", filter_dpkg);
}

/* ---- proc and etc ---------------------------------------------------------- */

/* The cores of each NUMA node: `gpupass vm --affinity` pins a VM to the
 * node its GPU hangs off. */
static int snap_numa(snap *s)
{
    _cleanup_strv_ char **nodes = NULL;
    int r = gp_host_list_dir(s->h, "sys/devices/system/node", &nodes, NULL);

    if (r < 0)
        return r == -ENOMEM ? r : 0;
    for (char **n = nodes; *n; n++) {
        _cleanup_free_ char *path = NULL;

        if (!gp_startswith(*n, "node") || strspn(*n + 4, "0123456789") != strlen(*n + 4) || !(*n)[4])
            continue;
        if (asprintf(&path, "sys/devices/system/node/%s/cpulist", *n) < 0)
            return -ENOMEM;
        r = snap_file(s, path, NULL);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The nvidia module's procfs: its version (a container's userland must
 * match it) and each GPU's "Device Minor" (the N of /dev/nvidiaN). */
static int snap_nvidia(snap *s)
{
    _cleanup_strv_ char **gpus = NULL;
    int r = snap_file(s, "proc/driver/nvidia/version", NULL);

    if (r < 0)
        return r;
    r = gp_host_list_dir(s->h, "proc/driver/nvidia/gpus", &gpus, NULL);
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : snap_skip(s, "proc/driver/nvidia/gpus", r);
    for (char **g = gpus; *g; g++) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "proc/driver/nvidia/gpus/%s/information", *g) < 0)
            return -ENOMEM;
        r = snap_file(s, path, filter_nvidia_gpu);
        if (r < 0)
            return r;
    }
    return 0;
}

static int snap_proc(snap *s)
{
    static const char *const files[] = {
        "proc/cmdline", "proc/mounts", "proc/devices", "proc/iomem", "proc/modules", "proc/version",
        "proc/net/route", "proc/net/ipv6_route", "proc/sys/kernel/osrelease",
    };
    int r;

    for (size_t i = 0; i < ELEMENTSOF(files); i++) {
        r = snap_file(s, files[i], NULL);
        if (r < 0)
            return r;
    }
    r = snap_file(s, "proc/cpuinfo", filter_cpuinfo);
    if (r < 0)
        return r;
    r = snap_nvidia(s);
    if (r < 0)
        return r;
    return snap_numa(s);
}

/* Exactly these, nothing else from etc: no shadow, no ssh, no keys, no
 * pve/priv, no storage.cfg (it can hold credentials). */
static int snap_etc(snap *s)
{
    static const struct {
        const char *path;
        snap_filter filter;
    } files[] = {
        { "etc/os-release", NULL },
        { "etc/hostname", filter_hostname },
        { "etc/default/grub", NULL },
        { "etc/kernel/cmdline", NULL },
        { "etc/kernel/proxmox-boot-uuids", NULL },
        { "etc/modules", NULL },
        { "etc/initramfs-tools/modules", NULL },
        { "etc/network/interfaces", filter_interfaces },
        { "etc/pve/mapping/pci.cfg", filter_ids },
    };
    static const struct {
        const char *dir;
        const char *suffix;
        snap_filter filter;
    } dirs[] = {
        { "etc/default/grub.d", ".cfg", NULL },
        { "etc/modules-load.d", ".conf", NULL },
        { "etc/modprobe.d", ".conf", NULL },
        { "etc/network/interfaces.d", "", filter_interfaces },
        /* VM and container configs: net lines carry MAC addresses, smbios1
         * and vmgenid carry UUIDs. */
        { "etc/pve/qemu-server", ".conf", filter_ids },
        { "etc/pve/lxc", ".conf", filter_ids },
    };
    int r;

    /* A Proxmox VE host is told by its /etc/pve, even with no guest yet. */
    for (const char *const *d = (const char *const[]) { "etc/pve", "etc/pve/qemu-server", "etc/pve/lxc", NULL }; *d;
         d++)
        if (gp_host_exists(s->h, *d) && (r = snap_dir(s, *d)) < 0)
            return r;

    for (size_t i = 0; i < ELEMENTSOF(files); i++) {
        r = snap_file(s, files[i].path, files[i].filter);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
        r = snap_dir_files(s, dirs[i].dir, dirs[i].suffix, dirs[i].filter);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- gpupass/: kernel log, device nodes, metadata --------------------------- */

/* The live kernel log, read as `check` reads it (kernel.h). */
static int snap_kmsg_live(snap *s)
{
    _cleanup_free_ char *out = NULL;
    const char *source;
    size_t outlen = 0;
    int r = gp_kmsg_read(s->h, SNAP_FILE_MAX, &out, &outlen, &source);

    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        snap_note(s, "kmsg", "not captured: reading /dev/kmsg: %s (run as root, or kernel.dmesg_restrict is set)",
                  strerror(-r));
        return 0;
    }
    if (!s->ids)
        redact_ids(out, outlen);
    snap_note(s, "kmsg", "captured from /dev/kmsg: %zu bytes%s", outlen,
              outlen > SNAP_FILE_MAX ? ", truncated at 4 MiB" : "");
    return snap_emit(s, "gpupass/kmsg.txt", AE_IFREG, 0644, NULL, out, outlen);
}

static int snap_kmsg(snap *s)
{
    size_t before = s->files;
    int r;

    if (gp_host_is_live(s->h))
        return snap_kmsg_live(s);
    /* A fixture root or an extracted snapshot: its recorded kernel log. */
    r = snap_file(s, "gpupass/kmsg.txt", filter_ids);
    if (r >= 0 && s->files == before) {
        _cleanup_free_ char *buf = NULL, *rel = NULL;
        size_t len = 0;

        r = gp_host_read_file(s->h, "var/log/dmesg", SNAP_FILE_MAX, &buf, &len);
        if (r == -ENOENT || r == -ENOTDIR || r == -EISDIR) {
            snap_note(s, "kmsg", "not captured: the host root has no gpupass/kmsg.txt or var/log/dmesg");
            return 0;
        }
        if (r < 0)
            return r == -ENOMEM ? r : snap_skip(s, "var/log/dmesg", r);
        if (!s->ids)
            redact_ids(buf, len);
        snap_note(s, "kmsg", "copied from var/log/dmesg of the host root");
        return snap_emit(s, "gpupass/kmsg.txt", AE_IFREG, 0644, NULL, buf, len);
    }
    if (r >= 0 && s->files > before)
        snap_note(s, "kmsg", "copied from gpupass/kmsg.txt of the host root");
    return r;
}

static const char *file_type(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "link";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    default: return "file";
    }
}

/* Device nodes cannot go into the archive (extraction refuses them), so
 * their lstat goes into a text file: path type major:minor mode uid gid. */
static void devnodes_dir(snap *s, FILE *f, const char *dir, bool (*want)(const char *), unsigned depth)
{
    _cleanup_strv_ char **names = NULL;
    _cleanup_close_ int dfd = gp_host_open_dir(s->h, dir);

    if (dfd < 0 || gp_host_list_dir(s->h, dir, &names, NULL) < 0)
        return;
    for (char **n = names; *n; n++) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (want && !want(*n))
            continue;
        if (fstatat(dfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        p = path_join(dir, *n);
        if (!p)
            return;
        fprintf(f, "%s %s %u:%u %04o %u %u\n", p, file_type(st.st_mode), major(st.st_rdev), minor(st.st_rdev),
                (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
        /* dev/nvidia-caps/, dev/dri/by-path/, dev/vfio/devices/ */
        if (S_ISDIR(st.st_mode) && depth < 2)
            devnodes_dir(s, f, p, NULL, depth + 1);
    }
}

static bool devnode_top(const char *name)
{
    return gp_startswith(name, "nvidia") || strcmp(name, "dri") == 0 || strcmp(name, "kfd") == 0 ||
           strcmp(name, "vfio") == 0 || strcmp(name, "kvm") == 0;
}

static int snap_devnodes(snap *s)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f;
    int r;

    if (!gp_host_is_live(s->h))
        return snap_file(s, "gpupass/devnodes.txt", NULL);
    f = open_memstream(&out, &outlen);
    if (!f)
        return -ENOMEM;
    devnodes_dir(s, f, "dev", devnode_top, 0);
    if (fclose(f) != 0) {
        free(out);
        return -ENOMEM;
    }
    r = snap_emit(s, "gpupass/devnodes.txt", AE_IFREG, 0644, NULL, out, outlen);
    free(out);
    return r;
}

static int snap_metadata(snap *s)
{
    _cleanup_(gp_json_putp) json_object *o = json_object_new_object();
    _cleanup_free_ char *osrelease = NULL;
    char when[32];
    struct tm tm;
    time_t now = time(NULL);
    const char *text;

    if (!o)
        return -ENOMEM;
    if (!gmtime_r(&now, &tm) || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        strcpy(when, "unknown");
    (void)gp_host_read_attr(s->h, "proc/sys/kernel/osrelease", &osrelease);
    json_object_object_add(o, "format", json_object_new_int(1));
    json_object_object_add(o, "gpupass_version", json_object_new_string(GP_VERSION));
    json_object_object_add(o, "captured_at", json_object_new_string(when));
    json_object_object_add(o, "kernel_release", osrelease ? json_object_new_string(osrelease) : NULL);
    json_object_object_add(o, "live_host", json_object_new_boolean(gp_host_is_live(s->h)));
    json_object_object_add(o, "captured_as_root", json_object_new_boolean(geteuid() == 0));
    json_object_object_add(o, "include_identifiers", json_object_new_boolean(s->ids));
    json_object_object_add(o, "notes", json_object_get(s->notes));
    json_object_object_add(o, "skipped", json_object_get(s->skipped));
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        return -ENOMEM;
    {
        _cleanup_free_ char *withnl = NULL;

        if (asprintf(&withnl, "%s\n", text) < 0)
            return -ENOMEM;
        return snap_text(s, "gpupass/snapshot.json", 0644, withnl);
    }
}

static int snap_all(snap *s)
{
    int r;

    if ((r = snap_pci(s)) < 0 ||
        (r = snap_iommu(s)) < 0 ||
        (r = snap_modules(s)) < 0 ||
        (r = snap_class(s, "sys/block", snap_block_dir)) < 0 ||
        (r = snap_class(s, "sys/class/block", snap_block_dir)) < 0 ||
        (r = snap_class(s, "sys/class/net", snap_net_dir)) < 0 ||
        (r = snap_drm(s)) < 0 ||
        (r = snap_proc(s)) < 0 ||
        (r = snap_etc(s)) < 0 ||
        (r = snap_kmsg(s)) < 0 ||
        (r = snap_system(s)) < 0 ||
        (r = snap_devnodes(s)) < 0)
        return r;
    /* Last: it lists what the steps above skipped. */
    return snap_metadata(s);
}

/* ---- the output file ------------------------------------------------------- */

typedef struct tmpfile_guard {
    char *path;
    bool keep;
} tmpfile_guard;

static void tmpfile_guardp(tmpfile_guard *g)
{
    if (g->path && !g->keep)
        unlink(g->path);
    free(g->path);
}

static int snap_archive_open(snap *s, int fd)
{
    s->a = archive_write_new();
    if (!s->a)
        return -ENOMEM;
    /* pax: no limit on name length (sysfs paths run past ustar's 100 bytes);
     * "restricted" adds pax headers only where ustar cannot hold an entry. */
    if (archive_write_set_format_pax_restricted(s->a) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(s->a) != ARCHIVE_OK)
        return gp_error_set(s->err, -ENOTSUP, "%s: libarchive cannot write tar.gz: %s", s->output,
                            archive_error_string(s->a));
    /* No time in the gzip header: the same host gives the same bytes. */
    (void)archive_write_set_filter_option(s->a, "gzip", "timestamp", NULL);
    if (archive_write_open_fd(s->a, fd) != ARCHIVE_OK)
        return gp_error_set(s->err, -EIO, "%s: cannot start the archive: %s", s->output, archive_error_string(s->a));
    return 0;
}

int gp_snapshot_write(const gp_host *h, const char *output, const gp_snapshot_opts *opts, gp_error *err)
{
    static const gp_snapshot_opts defaults = { 0 };
    _cleanup_(gp_archive_writep) struct archive *a = NULL;
    _cleanup_(gp_json_putp) json_object *emitted = NULL, *captured = NULL, *skipped = NULL, *notes = NULL;
    _cleanup_(tmpfile_guardp) tmpfile_guard tmp = { 0 };
    _cleanup_free_ char *dir = NULL;
    _cleanup_close_ int dirfd = -1, fd = -1;
    const char *base;
    struct stat st;
    mode_t mask;
    snap s;
    int r;

    if (!opts)
        opts = &defaults;
    if (!output || !*output)
        return gp_error_set(err, -EINVAL, "snapshot: no output file given; use -o FILE.tar.gz");
    base = strrchr(output, '/');
    dir = base ? strndup(output, (size_t)(base - output)) : strdup(".");
    base = base ? base + 1 : output;
    if (!dir)
        return -ENOMEM;
    if (!*base)
        return gp_error_set(err, -EISDIR, "%s: names a directory; give a file name such as %ssnapshot.tar.gz",
                            output, output);
    if (!*dir) {
        free(dir);
        dir = strdup("/");
        if (!dir)
            return -ENOMEM;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return gp_error_set(err, gp_negerrno(), "%s: cannot write there: directory %s: %m; create it or choose another path",
                            output, dir);
    if (!opts->overwrite && faccessat(dirfd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return gp_error_set(err, -EEXIST, "%s: already exists; pass --force to replace it, or choose another name", output);

    /* Same directory as the output, so that rename() is atomic. */
    if (asprintf(&tmp.path, "%s/.%s.XXXXXX", dir, base) < 0) {
        tmp.path = NULL;
        return -ENOMEM;
    }
    fd = mkostemp(tmp.path, O_CLOEXEC);
    if (fd < 0) {
        free(tmp.path);
        tmp.path = NULL;
        return gp_error_set(err, gp_negerrno(), "%s: cannot create a temporary file in %s: %m; check that it is writable",
                            output, dir);
    }

    emitted = json_object_new_object();
    captured = json_object_new_object();
    skipped = json_object_new_array();
    notes = json_object_new_object();
    if (!emitted || !captured || !skipped || !notes)
        return -ENOMEM;
    s = (snap) { .h = h, .ids = opts->include_identifiers, .output = output, .emitted = emitted,
                 .captured = captured, .skipped = skipped, .notes = notes, .err = err };
    r = snap_archive_open(&s, fd);
    a = s.a;
    if (r < 0)
        return r;
    r = snap_all(&s);
    if (r < 0)
        return gp_error_set(err, r, "%s: cannot capture the host %s: %s", output, gp_host_source(h), strerror(-r));
    if (archive_write_close(a) != ARCHIVE_OK)
        return gp_error_set(err, -EIO, "%s: cannot finish the archive: %s; check free space", output,
                            archive_error_string(a));

    /* mkostemp makes 0600; the user's umask decides, as for any new file. */
    mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0644 & ~mask) < 0 || fsync(fd) < 0 || fstat(fd, &st) < 0)
        return gp_error_set(err, gp_negerrno(), "%s: cannot write the snapshot: %m; check free space", output);
    if (opts->overwrite)
        r = renameat(AT_FDCWD, tmp.path, dirfd, base);
    else {
        /* No replace, even if the file appeared since the check above. */
        r = renameat2(AT_FDCWD, tmp.path, dirfd, base, RENAME_NOREPLACE);
        if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
            r = linkat(AT_FDCWD, tmp.path, dirfd, base, 0);
            if (r == 0)
                (void)unlink(tmp.path);
        }
    }
    if (r < 0) {
        if (errno == EEXIST)
            return gp_error_set(err, -EEXIST, "%s: already exists; pass --force to replace it, or choose another name",
                                output);
        return gp_error_set(err, gp_negerrno(), "%s: cannot rename the finished snapshot into place: %m", output);
    }
    tmp.keep = true;
    if (fsync(dirfd) < 0)
        return gp_error_set(err, gp_negerrno(), "%s: written, but syncing %s failed: %m", output, dir);
    if (opts->stats) {
        opts->stats->files = s.files;
        opts->stats->skipped = json_object_array_length(skipped);
        opts->stats->bytes = (uint64_t)st.st_size;
    }
    return 0;
}
