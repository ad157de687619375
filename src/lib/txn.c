/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transaction engine (the contract is in txn.h).
 *
 * A journal entry is the directory <root>/var/lib/gpupass/journal/<id>/:
 *
 *   N.old, N.new  the bytes of the Nth written file before (when it existed)
 *                 and after;
 *   manifest      what the entry changes, written after the copies and
 *                 atomically: an entry without one was cut off before it
 *                 touched any target, so there is nothing to undo;
 *   state         an append-only log, fsynced after each line: "write N",
 *                 "done N", "cmd K", "ran K STATUS|skipped", "rollback N",
 *                 "commit", "undone". A crash can end it anywhere, even in
 *                 the middle of a line.
 *
 * The manifest has one line per file, "file N PATH EXISTED MODE UID GID",
 * followed by a "dir PATH" line for each directory created for it (parent
 * first), one "cmd WORD..." line per command ("once WORD..." for one that
 * undo must not run again), and "end". Words are escaped
 * (every byte that is not printable ASCII, and space, backslash and double
 * quote, as \xHH; an empty word as "") so a path or an argument with a
 * space survives.
 *
 * Undo and rollback never trust the state log to say which files were
 * written: they compare each target with its .new and .old copies. Every
 * target is replaced by rename(), which is atomic, so after a crash at any
 * point a target is entirely one or the other, unless somebody else changed
 * it since; that is the conflict undo refuses to overwrite.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "shared/macro.h"
#include "txn.h"

/* The same bound as the plan's: configuration files are small. */
#define TXN_FILE_MAX (16u * 1024 * 1024)
#define TXN_ID_MAX 64

/* ---- fault injection ---- */

static struct {
    bool loaded;
    bool kill;
    unsigned long at;       /* 0: no fault */
    unsigned long count;    /* points passed by this process */
} fault;

static void fault_load(void)
{
    const char *e = getenv("GPUPASS_FAULT");
    char *end;
    unsigned long n;

    fault.loaded = true;
    fault.at = 0;
    if (!e || !*e)
        return;
    errno = 0;
    n = strtoul(e, &end, 10);
    if (errno || end == e || *end != ':')
        return;
    if (strcmp(end + 1, "kill") == 0)
        fault.kill = true;
    else if (strcmp(end + 1, "enospc") == 0)
        fault.kill = false;
    else
        return;
    fault.at = n;
}

int gp_fault_point(const char *name)
{
    const char *logfile;

    if (!fault.loaded)
        fault_load();
    fault.count++;
    logfile = getenv("GPUPASS_FAULT_LOG");
    if (logfile && *logfile) {
        int fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

        if (fd >= 0) {
            dprintf(fd, "%s\n", name);
            close(fd);
        }
    }
    if (fault.at == 0 || fault.count != fault.at)
        return 0;
    if (fault.kill)
        _exit(99);
    return -ENOSPC;
}

void gp_fault_reset(void)
{
    fault.loaded = false;
    fault.count = 0;
}

/* ---- small helpers ---- */

static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static char *memdup0(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        if (len)
            memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* A regular file under dirfd, never through a symlink (targets are
 * resolved paths) and never a FIFO that would block the read. */
static int read_regular_at(int dfd, const char *path, char **ret, size_t *ret_len, struct stat *ret_st)
{
    _cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;

    if (fd < 0)
        return gp_negerrno();
    if (fstat(fd, &st) < 0)
        return gp_negerrno();
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (ret_st)
        *ret_st = st;
    return gp_fd_read_all(fd, TXN_FILE_MAX, ret, ret_len);
}

/* fsync of a directory makes the names created or removed in it durable.
 * Some FUSE file systems (pmxcfs under /etc/pve) refuse it with EINVAL;
 * their renames are atomic anyway. */
static int dir_sync(int fd)
{
    int r = gp_fault_point("dirsync");

    if (r < 0)
        return r;
    if (fsync(fd) < 0 && errno != EINVAL && errno != EOPNOTSUPP)
        return gp_negerrno();
    return 0;
}

static int parent_sync(int rootfd, const char *path)
{
    const char *slash = strrchr(path, '/');
    _cleanup_free_ char *parent = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    _cleanup_close_ int fd = -1;

    if (!parent)
        return -ENOMEM;
    fd = openat(rootfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return gp_negerrno();
    return dir_sync(fd);
}

/* mkdir with the exact mode (the umask would narrow it), then fsync of the
 * parent so the new directory survives a crash with the file put in it. */
static int mkdir_durable(int rootfd, const char *path, mode_t mode)
{
    int r = gp_fault_point("mkdir");

    if (r < 0)
        return r;
    if (mkdirat(rootfd, path, mode) < 0)
        return gp_negerrno();
    r = gp_fault_point("mkdir-chmod");
    if (r < 0)
        return r;
    if (fchmodat(rootfd, path, mode, 0) < 0)
        return gp_negerrno();
    return parent_sync(rootfd, path);
}

static void put_word(FILE *f, const char *s)
{
    if (!*s) {
        fputs("\"\"", f);
        return;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c > ' ' && c < 0x7f && c != '\\' && c != '"')
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* In place; -EBADMSG for an escape put_word() never writes. */
static int unescape_word(char *s)
{
    char *o = s;

    if (strcmp(s, "\"\"") == 0) {
        *s = '\0';
        return 0;
    }
    for (char *p = s; *p;) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (p[1] != 'x' || hexval(p[2]) < 0 || hexval(p[3]) < 0 || (p[2] == '0' && p[3] == '0'))
            return -EBADMSG;
        *o++ = (char)(hexval(p[2]) * 16 + hexval(p[3]));
        p += 4;
    }
    *o = '\0';
    return 0;
}

/* A command as the user would type it into a shell. */
static char *cmd_join(char *const *argv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; argv[i]; i++) {
        const char *w = argv[i];
        bool plain = *w != '\0';

        for (const char *c = w; *c && plain; c++)
            plain = isalnum((unsigned char)*c) || strchr("_./:=,+@%-", *c);
        if (i)
            fputc(' ', f);
        if (plain) {
            fputs(w, f);
            continue;
        }
        fputc('\'', f);
        for (const char *c = w; *c; c++)
            if (*c == '\'')
                fputs("'\\''", f);
            else
                fputc(*c, f);
        fputc('\'', f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- the transaction in memory ---- */

typedef struct txn_file {
    char *path;          /* resolved, root-relative: the file really written */
    bool existed;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    char *old;           /* NULL when !existed */
    size_t old_len;
    char *new;
    size_t new_len;
    char **mkdirs;       /* directories created for it, parent first; NULL-terminated or NULL */
} txn_file;

typedef struct txn {
    char id[TXN_ID_MAX];
    int rootfd;          /* the host's, borrowed */
    int journalfd;       /* locked for apply and undo */
    int entryfd;
    bool entry_made;     /* this process created the entry */
    int statefd;
    bool state_midline;  /* the log ends inside a line (a crash mid-append) */
    txn_file *files;
    size_t n_files;
    char ***cmds;        /* NULL-terminated argv vectors */
    bool *cmd_once;      /* per command: apply only, undo skips it */
    size_t n_cmds;
} txn;

#define TXN_INIT { .rootfd = -1, .journalfd = -1, .entryfd = -1, .statefd = -1 }

static void txn_clear(txn *t)
{
    for (size_t i = 0; i < t->n_files; i++) {
        free(t->files[i].path);
        free(t->files[i].old);
        free(t->files[i].new);
        gp_strv_free(t->files[i].mkdirs);
    }
    free(t->files);
    for (size_t i = 0; i < t->n_cmds; i++)
        gp_strv_free(t->cmds[i]);
    free(t->cmds);
    free(t->cmd_once);
    if (t->statefd >= 0)
        close(t->statefd);
    if (t->entryfd >= 0)
        close(t->entryfd);
    if (t->journalfd >= 0)
        close(t->journalfd);   /* drops the lock */
    *t = (txn)TXN_INIT;
}

static txn_file *txn_add_file(txn *t)
{
    txn_file *v = realloc(t->files, (t->n_files + 1) * sizeof(*v));

    if (!v)
        return NULL;
    t->files = v;
    v[t->n_files] = (txn_file){ 0 };
    return &v[t->n_files++];
}

static int txn_add_cmd(txn *t, char **argv, bool once)
{
    char ***v = realloc(t->cmds, (t->n_cmds + 1) * sizeof(*v));
    bool *o;

    if (!v)
        return -ENOMEM;
    t->cmds = v;
    o = realloc(t->cmd_once, (t->n_cmds + 1) * sizeof(*o));
    if (!o)
        return -ENOMEM;
    t->cmd_once = o;
    o[t->n_cmds] = once;
    v[t->n_cmds++] = argv;
    return 0;
}

/* Whether a file before the last one already creates dir. */
static bool txn_mkdir_planned(const txn *t, const char *dir)
{
    for (size_t i = 0; i + 1 < t->n_files; i++)
        for (char **d = t->files[i].mkdirs; d && *d; d++)
            if (strcmp(*d, dir) == 0)
                return true;
    return false;
}

/* ---- preparing an apply (reads only) ---- */

/*
 * The root-relative path a plan path is written at: every symlink resolved
 * inside the root. For a file that does not exist yet the deepest existing
 * directory is resolved and the rest is created; a name on that way that
 * exists although resolution says it does not is a dangling symlink, and
 * gpupass does not create files through one.
 */
static int target_resolve(const gp_host *h, const char *path, char **ret, char ***ret_mkdirs, gp_error *err)
{
    _cleanup_free_ char *res = NULL, *prefix = NULL, *cur = NULL;
    _cleanup_strv_ char **mk = NULL;
    int rootfd = gp_host_rootfd(h);
    const char *rest;
    int r;

    *ret_mkdirs = NULL;
    r = gp_host_resolve(h, path, &res);
    if (r >= 0) {
        *ret = TAKE_PTR(res);
        return 0;
    }
    if (r != -ENOENT)
        return gp_error_set(err, r, "/%s: cannot resolve it inside the host root (%s)", path, strerror(-r));

    prefix = strdup(path);
    if (!prefix)
        return -ENOMEM;
    for (;;) {
        char *slash = strrchr(prefix, '/');

        if (!slash) {
            cur = strdup("");
            rest = path;
            break;
        }
        *slash = '\0';
        r = gp_host_resolve(h, prefix, &res);
        if (r >= 0) {
            cur = TAKE_PTR(res);
            rest = path + (slash - prefix) + 1;
            break;
        }
        if (r != -ENOENT)
            return gp_error_set(err, r, "/%s: cannot resolve it inside the host root (%s)", prefix, strerror(-r));
    }
    if (!cur)
        return -ENOMEM;

    while (*rest) {
        const char *slash = strchr(rest, '/');
        size_t clen = slash ? (size_t)(slash - rest) : strlen(rest);
        char *next = NULL;
        struct stat st;

        if (clen == 0) {
            rest++;
            continue;
        }
        if ((clen == 1 && rest[0] == '.') || (clen == 2 && rest[0] == '.' && rest[1] == '.'))
            return gp_error_set(err, -EINVAL, "/%s: a path gpupass creates must not contain . or ..", path);
        if (asprintf(&next, "%s%s%.*s", cur, *cur ? "/" : "", (int)clen, rest) < 0)
            return -ENOMEM;
        free(cur);
        cur = next;
        if (fstatat(rootfd, cur, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return gp_error_set(err, -ELOOP, "/%s: /%s is a symlink that leads nowhere; gpupass does not create files through it: remove it or make it point at a directory",
                                path, cur);
        if (errno != ENOENT)
            return gp_error_set(err, gp_negerrno(), "/%s: %s", cur, strerror(errno));
        rest = slash ? slash + 1 : rest + clen;
        if (*rest) {
            r = gp_strv_append(&mk, NULL, cur, strlen(cur));
            if (r < 0)
                return r;
        }
    }
    *ret = TAKE_PTR(cur);
    *ret_mkdirs = TAKE_PTR(mk);
    return 0;
}

static int txn_prepare_file(txn *t, const gp_host *h, const gp_plan_file *pf, gp_error *err)
{
    const char *path = pf->path;
    _cleanup_free_ char *cur = NULL;
    size_t cur_len = 0;
    struct stat st;
    txn_file *f;
    int r;

    while (*path == '/')
        path++;
    f = txn_add_file(t);
    if (!f)
        return -ENOMEM;
    r = target_resolve(h, path, &f->path, &f->mkdirs, err);
    if (r < 0)
        return r;
    /* A link inside /etc (Debian keeps some there) is followed: the file it
     * names is what the system reads. One leading elsewhere may put the
     * change on another file system or into a package's file. */
    if (strcmp(f->path, path) != 0 && !gp_startswith(f->path, "etc/"))
        return gp_error_set(err, -EXDEV,
                            "/%s is a symlink to /%s, outside /etc; gpupass does not write through it: replace the link with a file, or edit /%s by hand",
                            path, f->path, f->path);
    for (size_t i = 0; i + 1 < t->n_files; i++)
        if (strcmp(t->files[i].path, f->path) == 0)
            return gp_error_set(err, -EINVAL, "the plan changes /%s twice (through /%s): build the plan again", f->path, path);
    /* Two files in one new directory: the first one creates it. */
    if (f->mkdirs) {
        size_t k = 0;

        for (size_t j = 0; f->mkdirs[j]; j++) {
            if (txn_mkdir_planned(t, f->mkdirs[j])) {
                free(f->mkdirs[j]);
                continue;
            }
            f->mkdirs[k++] = f->mkdirs[j];
        }
        f->mkdirs[k] = NULL;
    }

    /* The plan was built from what the files held then; a change since
     * (another tool, the user in an editor) would be silently lost. */
    r = read_regular_at(t->rootfd, f->path, &cur, &cur_len, &st);
    if (r == -EINVAL)
        return gp_error_set(err, r, "/%s is not a regular file; gpupass only replaces regular files", f->path);
    if (r < 0 && r != -ENOENT)
        return gp_error_set(err, r, "/%s: cannot read it (%s)", f->path, strerror(-r));
    if (pf->existed ? r == -ENOENT || !same_bytes(cur, cur_len, pf->old, pf->old_len) : r != -ENOENT)
        return gp_error_set(err, -ESTALE, "/%s changed since the plan was made; run setup again", path);

    f->existed = pf->existed;
    if (f->existed) {
        /* An edit keeps what the administrator chose: mode and owner. */
        f->mode = st.st_mode & 07777;
        f->uid = st.st_uid;
        f->gid = st.st_gid;
        f->old = memdup0(pf->old, pf->old_len);
        f->old_len = pf->old_len;
        if (!f->old)
            return -ENOMEM;
    } else {
        bool root = geteuid() == 0;

        f->mode = pf->mode ? pf->mode & 07777 : 0644;
        f->uid = root ? 0 : geteuid();
        f->gid = root ? 0 : getegid();
    }
    f->new = memdup0(pf->new, pf->new_len);
    f->new_len = pf->new_len;
    return f->new ? 0 : -ENOMEM;
}

static int txn_prepare(txn *t, const gp_host *h, const gp_plan *p, gp_error *err)
{
    int r;

    for (size_t i = 0; i < p->n_files; i++) {
        if (!gp_plan_file_changes(&p->files[i]))
            continue;
        r = txn_prepare_file(t, h, &p->files[i], err);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < p->n_cmds; i++) {
        char **argv = NULL;

        for (char **a = p->cmds[i].argv; *a; a++) {
            r = gp_strv_append(&argv, NULL, *a, strlen(*a));
            if (r < 0) {
                gp_strv_free(argv);
                return r;
            }
        }
        if (!argv)
            continue;
        r = txn_add_cmd(t, argv, p->cmds[i].once);
        if (r < 0) {
            gp_strv_free(argv);
            return r;
        }
    }
    return 0;
}

/* ---- the journal ---- */

/* The backups hold configuration files some of which only root may read
 * (/etc/pve): the gpupass directory is 0700. */
static const struct {
    const char *path;
    mode_t mode;
} journal_dirs[] = {
    { "var", 0755 },
    { "var/lib", 0755 },
    { "var/lib/gpupass", 0700 },
    { GP_JOURNAL_DIR, 0700 },
};

static int journal_open(const gp_host *h, bool create, bool lock, int *ret, gp_error *err)
{
    _cleanup_close_ int fd = -1;
    int r;

    if (create) {
        _cleanup_free_ char *parent = strdup("");

        if (!parent)
            return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(journal_dirs); i++) {
            const char *name = strrchr(journal_dirs[i].path, '/');
            char *res = NULL;

            name = name ? name + 1 : journal_dirs[i].path;
            r = gp_host_resolve(h, journal_dirs[i].path, &res);
            if (r == -ENOENT) {
                if (asprintf(&res, "%s%s%s", parent, *parent ? "/" : "", name) < 0)
                    return -ENOMEM;
                r = mkdir_durable(gp_host_rootfd(h), res, journal_dirs[i].mode);
                if (r < 0 && r != -EEXIST) {
                    free(res);
                    return gp_error_set(err, r, "cannot create /%s (%s); nothing was changed on the host",
                                        journal_dirs[i].path, strerror(-r));
                }
            } else if (r < 0) {
                return gp_error_set(err, r, "/%s: %s", journal_dirs[i].path, strerror(-r));
            }
            free(parent);
            parent = res;
        }
    }
    fd = gp_host_open_dir(h, GP_JOURNAL_DIR);
    if (fd < 0) {
        if (fd == -ENOENT && !create)
            return fd;
        return gp_error_set(err, fd, "/%s: %s", GP_JOURNAL_DIR, strerror(-fd));
    }
    /* One gpupass at a time changes a host: two interleaved transactions
     * would each record the other's files as the originals. */
    if (lock && flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return gp_error_set(err, -EBUSY, "another gpupass is changing this host (it holds /%s); wait for it to finish",
                                GP_JOURNAL_DIR);
        return gp_error_set(err, gp_negerrno(), "/%s: cannot lock it (%s)", GP_JOURNAL_DIR, strerror(errno));
    }
    *ret = TAKE_FD(fd);
    return 0;
}

static bool id_valid(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n < TXN_ID_MAX && id[0] != '.' && !strchr(id, '/');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry names, sorted: the ids sort in the order they were made. */
static int journal_entries(int journalfd, char ***ret, size_t *ret_n)
{
    _cleanup_strv_ char **v = NULL;
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;
    size_t n = 0;
    int fd = dup(journalfd);

    if (fd < 0)
        return gp_negerrno();
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return gp_negerrno();
    }
    rewinddir(d);
    while ((de = readdir(d))) {
        struct stat st;
        int r;

        if (!id_valid(de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        r = gp_strv_append(&v, &n, de->d_name, strlen(de->d_name));
        if (r < 0)
            return r;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

/* "YYYYMMDD-HHMMSS-NNN", UTC: sortable, and unique because mkdir() of an
 * existing name fails. */
static int entry_create(txn *t)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    int r;

    if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
        return -EINVAL;
    for (unsigned n = 1;; n++) {
        if (n > 999)
            return -EEXIST;
        snprintf(t->id, sizeof(t->id), "%s-%03u", stamp, n);
        r = gp_fault_point("journal-mkdir");
        if (r < 0)
            return r;
        if (mkdirat(t->journalfd, t->id, 0700) == 0)
            break;
        if (errno != EEXIST)
            return gp_negerrno();
    }
    t->entry_made = true;
    t->entryfd = openat(t->journalfd, t->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t->entryfd < 0)
        return gp_negerrno();
    return dir_sync(t->journalfd);
}

/* An entry that failed before any target was touched says nothing. */
static void entry_remove(txn *t)
{
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;
    int fd;

    if (!t->entry_made)
        return;
    if (t->statefd >= 0) {
        close(t->statefd);
        t->statefd = -1;
    }
    fd = t->entryfd >= 0 ? dup(t->entryfd) : -1;
    if (fd >= 0) {
        d = fdopendir(fd);
        if (!d)
            close(fd);
        else
            rewinddir(d);
    }
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dirfd(d), de->d_name, 0);
    unlinkat(t->journalfd, t->id, AT_REMOVEDIR);
    t->entry_made = false;
}

static char *manifest_build(const txn *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fputs("gpupass-journal 1\n", f);
    for (size_t i = 0; i < t->n_files; i++) {
        const txn_file *tf = &t->files[i];

        fprintf(f, "file %zu ", i);
        put_word(f, tf->path);
        fprintf(f, " %d %04o %u %u\n", tf->existed, (unsigned)tf->mode, (unsigned)tf->uid, (unsigned)tf->gid);
        for (char **d = tf->mkdirs; d && *d; d++) {
            fputs("dir ", f);
            put_word(f, *d);
            fputc('\n', f);
        }
    }
    for (size_t i = 0; i < t->n_cmds; i++) {
        fputs(t->cmd_once[i] ? "once" : "cmd", f);
        for (char **a = t->cmds[i]; *a; a++) {
            fputc(' ', f);
            put_word(f, *a);
        }
        fputc('\n', f);
    }
    fputs("end\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int parse_ulong(const char *s, int base, unsigned long max, unsigned long *ret)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, base);
    if (errno || end == s || *end || v > max || *s == '-')
        return -EBADMSG;
    *ret = v;
    return 0;
}

static int manifest_parse_line(txn *t, char *line, bool *header, bool *end)
{
    _cleanup_strv_ char **w = NULL;
    size_t n = 0;
    char *save = NULL;
    int r;

    for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        r = unescape_word(tok);
        if (r < 0)
            return r;
        r = gp_strv_append(&w, &n, tok, strlen(tok));
        if (r < 0)
            return r;
    }
    if (n == 0)
        return 0;
    if (*end)
        return -EBADMSG;
    if (!*header) {
        if (n != 2 || strcmp(w[0], "gpupass-journal") != 0 || strcmp(w[1], "1") != 0)
            return -EBADMSG;
        *header = true;
        return 0;
    }
    if (strcmp(w[0], "file") == 0 && n == 7) {
        unsigned long idx, existed, mode, uid, gid;
        txn_file *f;

        if (parse_ulong(w[1], 10, SIZE_MAX, &idx) < 0 || idx != t->n_files || !*w[2] ||
            parse_ulong(w[3], 10, 1, &existed) < 0 || parse_ulong(w[4], 8, 07777, &mode) < 0 ||
            parse_ulong(w[5], 10, UINT32_MAX, &uid) < 0 || parse_ulong(w[6], 10, UINT32_MAX, &gid) < 0)
            return -EBADMSG;
        f = txn_add_file(t);
        if (!f)
            return -ENOMEM;
        f->path = strdup(w[2]);
        if (!f->path)
            return -ENOMEM;
        f->existed = existed;
        f->mode = (mode_t)mode;
        f->uid = (uid_t)uid;
        f->gid = (gid_t)gid;
        return 0;
    }
    if (strcmp(w[0], "dir") == 0 && n == 2) {
        if (t->n_files == 0 || !*w[1])
            return -EBADMSG;
        return gp_strv_append(&t->files[t->n_files - 1].mkdirs, NULL, w[1], strlen(w[1]));
    }
    if ((strcmp(w[0], "cmd") == 0 || strcmp(w[0], "once") == 0) && n >= 2) {
        char **argv = NULL;

        for (size_t i = 1; i < n; i++) {
            r = gp_strv_append(&argv, NULL, w[i], strlen(w[i]));
            if (r < 0) {
                gp_strv_free(argv);
                return r;
            }
        }
        r = txn_add_cmd(t, argv, strcmp(w[0], "once") == 0);
        if (r < 0)
            gp_strv_free(argv);
        return r;
    }
    if (strcmp(w[0], "end") == 0 && n == 1) {
        *end = true;
        return 0;
    }
    return -EBADMSG;
}

/* The manifest, and with data the .old/.new copies. -ENOENT: the entry has
 * no manifest (it was cut off before it touched anything). */
static int entry_load(txn *t, bool data, gp_error *err)
{
    _cleanup_free_ char *text = NULL;
    bool header = false, end = false;
    char *save = NULL;
    int r = read_regular_at(t->entryfd, "manifest", &text, NULL, NULL);

    if (r == -ENOENT)
        return r;
    if (r < 0)
        return gp_error_set(err, r, "/%s/%s/manifest: cannot read it (%s)", GP_JOURNAL_DIR, t->id, strerror(-r));
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        r = manifest_parse_line(t, line, &header, &end);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            break;
    }
    if (r < 0 || !end)
        return gp_error_set(err, -EBADMSG, "/%s/%s/manifest is damaged; gpupass cannot undo this transaction: restore the files by hand from the .old copies next to it",
                            GP_JOURNAL_DIR, t->id);
    for (size_t i = 0; data && i < t->n_files; i++) {
        txn_file *f = &t->files[i];
        char name[64];

        for (int k = 0; k < 2; k++) {
            if (k == 0 && !f->existed)
                continue;
            snprintf(name, sizeof(name), "%zu.%s", i, k == 0 ? "old" : "new");
            r = read_regular_at(t->entryfd, name, k == 0 ? &f->old : &f->new, k == 0 ? &f->old_len : &f->new_len,
                                NULL);
            if (r == -ENOMEM)
                return r;
            if (r < 0)
                return gp_error_set(err, r, "/%s/%s/%s: cannot read it (%s); gpupass cannot undo this transaction without it",
                                    GP_JOURNAL_DIR, t->id, name, strerror(-r));
        }
    }
    return 0;
}

static int state_open(txn *t)
{
    struct stat st;
    char last;
    int r = gp_fault_point("state-open");

    if (r < 0)
        return r;
    t->statefd = openat(t->entryfd, "state", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
    if (t->statefd < 0)
        return gp_negerrno();
    if (fstat(t->statefd, &st) < 0)
        return gp_negerrno();
    if (st.st_size == 0)
        return dir_sync(t->entryfd);
    if (pread(t->statefd, &last, 1, st.st_size - 1) != 1)
        return -EIO;
    t->state_midline = last != '\n';
    return 0;
}

static int state_append(txn *t, const char *fmt, ...) _printf_(2, 3);
static int state_append(txn *t, const char *fmt, ...)
{
    char line[128];
    size_t off = 0;
    va_list ap;
    ssize_t w;
    int n, r;

    if (t->statefd < 0)
        return -EBADF;
    /* After a crash mid-line, start a new one: a parser skips the torn one. */
    if (t->state_midline)
        line[off++] = '\n';
    va_start(ap, fmt);
    n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - off - 1)
        return -EINVAL;
    off += (size_t)n;
    line[off++] = '\n';
    r = gp_fault_point("state-append");
    if (r < 0)
        return r;
    t->state_midline = true;
    /* One write() with O_APPEND: short only when the disk is full. */
    w = write(t->statefd, line, off);
    if (w < 0)
        return gp_negerrno();
    if ((size_t)w != off)
        return -ENOSPC;
    t->state_midline = false;
    r = gp_fault_point("state-fsync");
    if (r < 0)
        return r;
    return fsync(t->statefd) < 0 ? gp_negerrno() : 0;
}

typedef struct state_info {
    bool commit, undone, cmd_started;
} state_info;

static int state_read(int entryfd, state_info *ret)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_regular_at(entryfd, "state", &text, &len, NULL);

    *ret = (state_info){ 0 };
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    /* Only whole lines count: a crash can cut the last one anywhere. */
    for (char *p = text, *nl; (nl = memchr(p, '\n', len - (size_t)(p - text))); p = nl + 1) {
        *nl = '\0';
        if (strcmp(p, "commit") == 0)
            ret->commit = true;
        else if (strcmp(p, "undone") == 0)
            ret->undone = true;
        else if (gp_startswith(p, "cmd "))
            ret->cmd_started = true;
    }
    return 0;
}

/* ---- putting files back ---- */

enum { FILE_OLD, FILE_NEW, FILE_OTHER };

static int file_classify(int rootfd, const txn_file *f, int *ret)
{
    _cleanup_free_ char *cur = NULL;
    size_t len = 0;
    int r = read_regular_at(rootfd, f->path, &cur, &len, NULL);

    if (r == -ENOENT) {
        *ret = f->existed ? FILE_OTHER : FILE_OLD;
        return 0;
    }
    /* Now a symlink, a directory, a huge file, or its parent a file. */
    if (r == -ELOOP || r == -EINVAL || r == -EFBIG || r == -ENOTDIR) {
        *ret = FILE_OTHER;
        return 0;
    }
    if (r < 0)
        return r;
    if (same_bytes(cur, len, f->new, f->new_len))
        *ret = FILE_NEW;
    else if (f->existed && same_bytes(cur, len, f->old, f->old_len))
        *ret = FILE_OLD;
    else
        *ret = FILE_OTHER;
    return 0;
}

/* The original back: its bytes, mode and owner, or no file at all. */
static int file_put_back(int rootfd, const txn_file *f)
{
    int r;

    if (f->existed)
        return gp_file_replace_at(rootfd, f->path, f->old, f->old_len, f->mode, f->uid, f->gid);
    r = gp_fault_point("unlink");
    if (r < 0)
        return r;
    if (unlinkat(rootfd, f->path, 0) < 0) {
        if (errno == ENOENT)
            return 0;
        return gp_negerrno();
    }
    return parent_sync(rootfd, f->path);
}

/* Directories created for files [0, upto], deepest and latest first, when
 * empty: a file somebody put there since keeps its directory. */
static int remove_dirs(const txn *t, size_t upto, const char **ret_bad)
{
    for (size_t i = upto + 1; i-- > 0;) {
        const txn_file *f = &t->files[i];
        size_t n = 0;

        while (f->mkdirs && f->mkdirs[n])
            n++;
        while (n-- > 0) {
            int r = gp_fault_point("rmdir");

            if (r == 0 && unlinkat(t->rootfd, f->mkdirs[n], AT_REMOVEDIR) < 0 && errno != ENOENT &&
                errno != ENOTEMPTY && errno != EEXIST)
                r = gp_negerrno();
            if (r < 0) {
                *ret_bad = f->mkdirs[n];
                return r;
            }
        }
    }
    return 0;
}

/* A process killed inside gp_file_replace_at() leaves its ".#NAME.XXXXXX". */
static int remove_stale_temps(int rootfd, const txn_file *f)
{
    const char *slash = strrchr(f->path, '/'), *base = slash ? slash + 1 : f->path;
    _cleanup_free_ char *dir = slash ? strndup(f->path, (size_t)(slash - f->path)) : strdup(".");
    _cleanup_free_ char *prefix = NULL;
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;
    int fd;

    if (!dir || asprintf(&prefix, ".#%s.", base) < 0)
        return -ENOMEM;
    fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : gp_negerrno();
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return gp_negerrno();
    }
    while ((de = readdir(d))) {
        int r;

        if (!gp_startswith(de->d_name, prefix) || strlen(de->d_name) != strlen(prefix) + 6)
            continue;
        r = gp_fault_point("unlink");
        if (r < 0)
            return r;
        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
            return gp_negerrno();
    }
    return 0;
}

/*
 * After a failure while writing file `upto`: every file up to it back as it
 * was. Each is compared first, so this is right whether or not the failing
 * step got as far as the rename. The bytes are those the journal's .old
 * copies hold (the plan's, checked against the disk before anything was
 * written).
 */
static int txn_rollback(txn *t, size_t upto, const char **ret_bad)
{
    int first = 0;

    for (size_t i = upto + 1; i-- > 0;) {
        const txn_file *f = &t->files[i];
        int state, r = file_classify(t->rootfd, f, &state);

        if (r == 0 && state == FILE_NEW) {
            r = file_put_back(t->rootfd, f);
            if (r == 0)
                (void)state_append(t, "rollback %zu", i);   /* the log is a record; the files matter */
        } else if (r == 0 && state == FILE_OTHER) {
            r = -ESTALE;
        }
        if (r < 0 && first == 0) {
            first = r;
            *ret_bad = f->path;
        }
    }
    if (first == 0)
        first = remove_dirs(t, upto, ret_bad);
    if (first == 0)
        (void)state_append(t, "undone");
    return first;
}

/* what: "/etc/default/grub: cannot write it", the step that failed with r. */
static int txn_fail_rollback(txn *t, size_t upto, const char *what, int r, gp_txn_result *ret, gp_error *err)
{
    const char *bad = NULL;
    int rb = txn_rollback(t, upto, &bad);

    if (rb == 0) {
        ret->files_written = 0;
        return gp_error_set(err, r, "%s (%s); the files already written were put back: the host is unchanged", what,
                            strerror(-r));
    }
    return gp_error_set(err, r, "%s (%s), and putting back /%s failed too (%s): run `gpupass undo %s` to finish restoring the files",
                        what, strerror(-r), bad, rb == -ESTALE ? "something else changed it meanwhile" : strerror(-rb),
                        t->id);
}

/* ---- apply ---- */

static int host_check_writable(const gp_host *h, gp_error *err)
{
    struct statvfs sv;

    /* An archive is extracted to a private directory that is removed when
     * gpupass exits: a change there would vanish without a trace. */
    if (gp_host_is_archive(h))
        return gp_error_set(err, -EROFS,
                            "--root %s is a snapshot archive, not a directory: gpupass changes only a host root directory (extract the archive and point --root at it, or run on the host itself)",
                            gp_host_source(h));
    if (fstatvfs(gp_host_rootfd(h), &sv) == 0 && (sv.f_flag & ST_RDONLY))
        return gp_error_set(err, -EROFS, "%s is on a read-only file system; remount it read-write and run again",
                            gp_host_root(h));
    return 0;
}

static int txn_write_journal(txn *t, gp_error *err)
{
    _cleanup_free_ char *manifest = NULL;
    const char *what = NULL;
    char name[64];
    int r;

    r = entry_create(t);
    if (r < 0)
        return gp_error_set(err, r, "cannot create a journal entry in /%s (%s); nothing was changed on the host",
                            GP_JOURNAL_DIR, strerror(-r));
    for (size_t i = 0; i < t->n_files && r >= 0; i++) {
        const txn_file *f = &t->files[i];

        if (f->existed) {
            snprintf(name, sizeof(name), "%zu.old", i);
            r = gp_file_replace_at(t->entryfd, name, f->old, f->old_len, 0600, geteuid(), getegid());
        }
        if (r >= 0) {
            snprintf(name, sizeof(name), "%zu.new", i);
            r = gp_file_replace_at(t->entryfd, name, f->new, f->new_len, 0600, geteuid(), getegid());
        }
    }
    if (r >= 0) {
        what = "manifest";
        manifest = manifest_build(t);
        if (!manifest)
            return -ENOMEM;
        r = gp_file_replace_at(t->entryfd, what, manifest, strlen(manifest), 0600, geteuid(), getegid());
    }
    if (r >= 0) {
        what = "state";
        r = state_open(t);
    }
    if (r < 0)
        return gp_error_set(err, r, "/%s/%s/%s: cannot write it (%s); nothing was changed on the host",
                            GP_JOURNAL_DIR, t->id, what ? what : name, strerror(-r));
    return 0;
}

static int txn_write_files(txn *t, gp_txn_result *ret, gp_error *err)
{
    for (size_t i = 0; i < t->n_files; i++) {
        const txn_file *f = &t->files[i];
        const char *step = "record it in the journal";
        int r = state_append(t, "write %zu", i);

        for (char **d = f->mkdirs; r >= 0 && d && *d; d++) {
            step = "create its directory";
            r = mkdir_durable(t->rootfd, *d, 0755);
            if (r == -EEXIST)   /* made by somebody else meanwhile: fine, and only removed when empty */
                r = 0;
        }
        /* What an earlier run killed mid-write left next to it. */
        if (r >= 0) {
            step = "remove a stale temporary file next to it";
            r = remove_stale_temps(t->rootfd, f);
        }
        if (r >= 0) {
            step = "write it";
            r = gp_file_replace_at(t->rootfd, f->path, f->new, f->new_len, f->mode, f->uid, f->gid);
        }
        if (r >= 0) {
            step = "record it in the journal";
            r = state_append(t, "done %zu", i);
        }
        if (r < 0) {
            char what[PATH_MAX + 64];

            snprintf(what, sizeof(what), "/%s: cannot %s", f->path, step);
            return txn_fail_rollback(t, i, what, r, ret, err);
        }
        ret->files_written++;
    }
    return 0;
}

static int txn_run_cmds(txn *t, const gp_runner *run, gp_txn_result *ret, gp_error *err)
{
    bool ran = false;
    int r = 0;

    for (size_t k = 0; k < t->n_cmds; k++) {
        int status;

        /* Offline: the commands are the caller's to show for a chroot. */
        if (!run || !run->executes) {
            r = state_append(t, "ran %zu skipped", k);
            if (r < 0)
                break;
            continue;
        }
        r = state_append(t, "cmd %zu", k);
        if (r < 0)
            break;
        ran = true;
        /* A failure here reads as a command that could not be started. */
        status = gp_fault_point("cmd");
        if (status == 0)
            status = gp_runner_run(run, t->cmds[k]);
        if (status == 0)
            ret->cmds_run++;
        r = state_append(t, "ran %zu %d", k, status);
        /* The files are written: the transaction stands, and the caller
         * says how to resume from ret->failed_cmd. */
        if (status != 0) {
            ret->failed_cmd = (int)k;
            ret->failed_status = status;
            return 0;
        }
        if (r < 0)
            break;
    }
    if (r >= 0)
        r = state_append(t, "commit");
    if (r >= 0)
        return 0;
    /* Before any command ran, a journal that cannot be written is a reason
     * to leave the host as it was; after one ran, the files stay with it. */
    if (!ran && t->n_files > 0) {
        char what[256];

        snprintf(what, sizeof(what), "/%s/%s/state: cannot record the commands in it", GP_JOURNAL_DIR, t->id);
        return txn_fail_rollback(t, t->n_files - 1, what, r, ret, err);
    }
    return gp_error_set(err, r, "/%s/%s/state: cannot write it (%s); the files are written and %zu of the %zu commands ran: run the others by hand, or `gpupass undo %s`",
                        GP_JOURNAL_DIR, t->id, strerror(-r), ret->cmds_run, t->n_cmds, t->id);
}

int gp_txn_apply(const gp_host *h, const gp_plan *p, const gp_runner *run, gp_txn_result *ret, gp_error *err)
{
    _cleanup_(txn_clear) txn t = TXN_INIT;
    gp_txn_result unused;
    int r;

    if (!ret)
        ret = &unused;
    *ret = (gp_txn_result){ .failed_cmd = -1 };
    if (gp_plan_is_empty(p))
        return 0;
    r = host_check_writable(h, err);
    if (r < 0)
        return r;
    t.rootfd = gp_host_rootfd(h);
    r = txn_prepare(&t, h, p, err);
    if (r < 0)
        return r;
    r = journal_open(h, true, true, &t.journalfd, err);
    if (r < 0)
        return r;
    r = txn_write_journal(&t, err);
    if (r < 0) {
        entry_remove(&t);
        return r;
    }
    snprintf(ret->id, sizeof(ret->id), "%s", t.id);
    r = txn_write_files(&t, ret, err);
    if (r < 0)
        return r;
    return txn_run_cmds(&t, run, ret, err);
}

/* ---- undo ---- */

static int entry_newest(int journalfd, char id[TXN_ID_MAX])
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r = journal_entries(journalfd, &names, &n);

    if (r < 0)
        return r;
    while (n-- > 0) {
        _cleanup_close_ int fd = openat(journalfd, names[n], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        state_info si;

        if (fd < 0 || state_read(fd, &si) < 0 || si.undone)
            continue;
        snprintf(id, TXN_ID_MAX, "%s", names[n]);
        return 0;
    }
    return -ENOENT;
}

/* As in apply: a failing command stops the rest and is reported in ret;
 * the files are restored either way. */
static void undo_run_cmds(txn *t, const gp_runner *run, gp_txn_result *ret)
{
    for (size_t k = 0; k < t->n_cmds; k++) {
        int status;

        if (t->cmd_once[k])
            continue;
        status = gp_fault_point("cmd");
        if (status == 0)
            status = gp_runner_run(run, t->cmds[k]);
        if (status != 0) {
            ret->failed_cmd = (int)k;
            ret->failed_status = status;
            return;
        }
        ret->cmds_run++;
    }
}

int gp_txn_undo(const gp_host *h, const char *id, bool force, const gp_runner *run, gp_txn_result *ret,
                gp_error *err)
{
    _cleanup_(txn_clear) txn t = TXN_INIT;
    _cleanup_free_ int *states = NULL;
    gp_txn_result unused;
    const char *bad = NULL;
    size_t restored = 0;
    state_info si;
    int r;

    if (!ret)
        ret = &unused;
    *ret = (gp_txn_result){ .failed_cmd = -1 };
    r = host_check_writable(h, err);
    if (r < 0)
        return r;
    /* the ID is judged before the journal is looked at: a message names it either way */
    if (id && !id_valid(id))
        return gp_error_set(err, -EINVAL, "'%s' is not a transaction id (they look like 20250101-120000-001)", id);
    t.rootfd = gp_host_rootfd(h);
    r = journal_open(h, false, true, &t.journalfd, err);
    if (r == -ENOENT)
        return gp_error_set(err, r, "%s%s%sgpupass has not changed this host (there is no /%s): nothing to undo",
                            id ? "there is no transaction " : "", id ? id : "", id ? ": " : "", GP_JOURNAL_DIR);
    if (r < 0)
        return r;
    if (!id) {
        r = entry_newest(t.journalfd, t.id);
        if (r == -ENOENT)
            return gp_error_set(err, r, "every transaction in /%s is undone already: nothing to undo", GP_JOURNAL_DIR);
        if (r < 0)
            return gp_error_set(err, r, "/%s: cannot read it (%s)", GP_JOURNAL_DIR, strerror(-r));
    } else {
        snprintf(t.id, sizeof(t.id), "%s", id);
    }
    t.entryfd = openat(t.journalfd, t.id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t.entryfd < 0)
        return gp_error_set(err, gp_negerrno(), "there is no transaction %s in /%s (%s)", t.id, GP_JOURNAL_DIR,
                            strerror(errno));
    snprintf(ret->id, sizeof(ret->id), "%s", t.id);
    r = state_read(t.entryfd, &si);
    if (r < 0)
        return gp_error_set(err, r, "/%s/%s/state: cannot read it (%s)", GP_JOURNAL_DIR, t.id, strerror(-r));
    if (si.undone && !force)
        return gp_error_set(err, -EALREADY, "transaction %s is undone already", t.id);

    r = entry_load(&t, true, err);
    if (r == -ENOENT) {
        /* Cut off while its journal was written: no target was touched. */
        r = state_open(&t);
        if (r >= 0)
            r = state_append(&t, "undone");
        if (r < 0)
            return gp_error_set(err, r, "/%s/%s/state: cannot write it (%s)", GP_JOURNAL_DIR, t.id, strerror(-r));
        return 0;
    }
    if (r < 0)
        return r;

    /* Look at every file before changing any: undo is all or nothing. */
    states = calloc(t.n_files + 1, sizeof(*states));
    if (!states)
        return -ENOMEM;
    for (size_t i = 0; i < t.n_files; i++) {
        r = file_classify(t.rootfd, &t.files[i], &states[i]);
        if (r < 0)
            return gp_error_set(err, r, "/%s: cannot read it (%s); nothing was undone", t.files[i].path, strerror(-r));
        if (states[i] == FILE_OTHER && !force)
            return gp_error_set(err, -ECANCELED,
                                "/%s was changed after transaction %s (it holds neither what gpupass wrote nor the original); nothing was undone: look at it, then undo with --force to put the original back anyway",
                                t.files[i].path, t.id);
    }

    r = state_open(&t);
    if (r < 0)
        return gp_error_set(err, r, "/%s/%s/state: cannot write it (%s); nothing was undone", GP_JOURNAL_DIR, t.id,
                            strerror(-r));
    for (size_t i = t.n_files; i-- > 0;) {
        const txn_file *f = &t.files[i];

        if (states[i] == FILE_OLD)
            continue;
        r = file_put_back(t.rootfd, f);
        if (r < 0)
            return gp_error_set(err, r, "/%s: cannot put it back (%s); fix the cause and run `gpupass undo %s` again",
                                f->path, strerror(-r), t.id);
        restored++;
        ret->files_written = restored;
    }
    for (size_t i = 0; i < t.n_files; i++) {
        r = remove_stale_temps(t.rootfd, &t.files[i]);
        if (r < 0)
            return gp_error_set(err, r, "/%s: cannot remove the temporary files next to it (%s); run `gpupass undo %s` again",
                                t.files[i].path, strerror(-r), t.id);
    }
    if (t.n_files > 0) {
        r = remove_dirs(&t, t.n_files - 1, &bad);
        if (r < 0)
            return gp_error_set(err, r, "/%s: cannot remove the directory (%s); run `gpupass undo %s` again", bad,
                                strerror(-r), t.id);
    }
    r = state_append(&t, "undone");
    if (r < 0)
        return gp_error_set(err, r, "/%s/%s/state: cannot write it (%s); the files are restored: run `gpupass undo %s` again to record it",
                            GP_JOURNAL_DIR, t.id, strerror(-r), t.id);

    /* The boot loader and the initramfs are built from the files: rebuild
     * them from the originals, unless nothing was changed and nothing ran. */
    if ((restored == 0 && !si.cmd_started) || !run || !run->executes)
        return 0;
    undo_run_cmds(&t, run, ret);
    return 0;
}

/* ---- list ---- */

static time_t id_time(const char *id, int entryfd)
{
    struct tm tm = { 0 };
    const char *end = strptime(id, "%Y%m%d-%H%M%S", &tm);
    struct stat st;

    if (end && *end == '-')
        return timegm(&tm);
    return fstat(entryfd, &st) == 0 ? st.st_mtime : 0;
}

static int list_one(int journalfd, const char *id, gp_txn_info *info)
{
    _cleanup_(txn_clear) txn t = TXN_INIT;
    state_info si;
    int r;

    snprintf(info->id, sizeof(info->id), "%s", id);
    snprintf(t.id, sizeof(t.id), "%s", id);
    t.entryfd = openat(journalfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t.entryfd < 0)
        return gp_negerrno();
    info->when = id_time(id, t.entryfd);
    r = state_read(t.entryfd, &si);
    if (r < 0)
        return r;
    info->complete = si.commit;
    info->undone = si.undone;
    info->files = calloc(1, sizeof(char *));
    info->cmds = calloc(1, sizeof(char *));
    if (!info->files || !info->cmds)
        return -ENOMEM;
    r = entry_load(&t, false, NULL);
    if (r == -ENOENT || r == -EBADMSG)
        return 0;    /* cut off before it changed anything, or damaged: shown without files */
    if (r < 0)
        return r;
    for (size_t i = 0; i < t.n_files; i++) {
        r = gp_strv_append(&info->files, NULL, t.files[i].path, strlen(t.files[i].path));
        if (r < 0)
            return r;
    }
    info->n_files = t.n_files;
    for (size_t i = 0; i < t.n_cmds; i++) {
        _cleanup_free_ char *line = cmd_join(t.cmds[i]);

        if (!line)
            return -ENOMEM;
        r = gp_strv_append(&info->cmds, NULL, line, strlen(line));
        if (r < 0)
            return r;
    }
    return 0;
}

int gp_txn_list(const gp_host *h, gp_txn_info **ret, size_t *ret_n)
{
    _cleanup_strv_ char **names = NULL;
    _cleanup_close_ int jfd = -1;
    gp_txn_info *v;
    size_t n = 0;
    int r;

    *ret = NULL;
    *ret_n = 0;
    r = journal_open(h, false, false, &jfd, NULL);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    r = journal_entries(jfd, &names, &n);
    if (r < 0)
        return r;
    v = calloc(n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        r = list_one(jfd, names[i], &v[i]);
        if (r < 0) {
            gp_txn_info_free(v, i + 1);
            return r;
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

void gp_txn_info_free(gp_txn_info *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        gp_strv_free(v[i].files);
        gp_strv_free(v[i].cmds);
    }
    free(v);
}
