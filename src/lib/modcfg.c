/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "modcfg.h"
#include "strdist.h"

/* ---- names ---- */

char *gp_modname_normalize(char *name)
{
    /* kmod's underscores(): a '-' inside a [...] range of a pattern stays. */
    for (size_t i = 0; name[i]; i++) {
        if (name[i] == '[') {
            size_t j = strcspn(name + i, "]");

            if (!name[i + j])
                break;
            i += j;
        } else if (name[i] == '-')
            name[i] = '_';
    }
    return name;
}

char *gp_modname_dup(const char *name)
{
    char *s = strdup(name);

    return s ? gp_modname_normalize(s) : NULL;
}

static char modchar(char c)
{
    return c == '-' ? '_' : c;
}

bool gp_modname_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (modchar(*a) != modchar(*b))
            return false;
    return *a == *b;
}

bool gp_modname_valid(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
            return false;
    return n > 0 && n < GP_MODNAME_MAX;
}

bool gp_modname_is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* ---- lines ---- */

static bool is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

int gp_cfgtext_split(const char *buf, size_t len, bool continuation, gp_cfgtext *ret)
{
    gp_cfgtext t = { 0 };
    size_t cap = 0, pos = 0;
    unsigned lineno = 0;

    while (pos < len) {
        gp_cfgline l = { .line = lineno + 1 };
        _cleanup_free_ char *text = malloc(GP_MODCFG_LINE_MAX + 1);
        size_t n = 0;

        if (!text)
            goto oom;
        for (;;) {
            const char *nl = memchr(buf + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - buf) : len;
            size_t seg = end - pos;
            bool cont = false;

            lineno++;
            if (seg > 0 && buf[end - 1] == '\r') {
                seg--;
                l.cr = true;
            }
            /* kmod joins only a '\' right before the newline. */
            if (continuation && nl && seg > 0 && buf[pos + seg - 1] == '\\' && !l.cr) {
                seg--;
                cont = true;
            }
            for (size_t i = 0; i < seg; i++) {
                unsigned char c = (unsigned char)buf[pos + i];

                if (is_ctl(c))
                    l.binary = true;
                if (c == '\0')
                    continue;
                if (n < GP_MODCFG_LINE_MAX)
                    text[n++] = (char)c;
                else
                    l.too_long = true;
            }
            pos = nl ? end + 1 : len;
            if (!cont || pos >= len)
                break;
        }
        text[n] = '\0';
        l.last = lineno;
        l.len = n;
        l.text = TAKE_PTR(text);
        if (t.n == cap) {
            size_t c2 = cap ? cap * 2 : 32;
            gp_cfgline *v = realloc(t.lines, c2 * sizeof(*v));

            if (!v) {
                free(l.text);
                goto oom;
            }
            t.lines = v;
            cap = c2;
        }
        {
            /* Shrink: most lines are far shorter than the maximum. */
            char *s = realloc(l.text, n + 1);

            if (s)
                l.text = s;
        }
        t.lines[t.n++] = l;
    }
    *ret = t;
    return 0;
oom:
    gp_cfgtext_done(&t);
    return -ENOMEM;
}

void gp_cfgtext_done(gp_cfgtext *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->lines[i].text);
    free(t->lines);
    t->lines = NULL;
    t->n = 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static size_t word_len(const char *s)
{
    return strcspn(s, " \t");
}

/* ---- module lists ---- */

void gp_modlist_free(gp_modlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].written);
        free(l->v[i].name);
        free(l->v[i].params);
    }
    free(l->v);
    gp_cfgtext_done(&l->text);
    free(l);
}

int gp_modlist_parse(const char *buf, size_t len, bool semicolon, gp_modlist **ret)
{
    _cleanup_modlist_ gp_modlist *l = calloc(1, sizeof(*l));
    int r;

    if (!l)
        return -ENOMEM;
    r = gp_cfgtext_split(buf, len, false, &l->text);
    if (r < 0)
        return r;
    l->v = calloc(l->text.n ? l->text.n : 1, sizeof(*l->v));
    if (!l->v)
        return -ENOMEM;
    for (size_t i = 0; i < l->text.n; i++) {
        const gp_cfgline *src = &l->text.lines[i];
        const char *p = skip_ws(src->text), *rest;
        gp_modlist_entry *e = &l->v[l->n];
        size_t wl;

        if (src->binary || src->too_long)
            continue;
        if (!*p || *p == '#' || (semicolon && *p == ';'))
            continue;
        wl = word_len(p);
        e->src = src;
        e->written = strndup(p, wl);
        if (!e->written)
            return -ENOMEM;
        l->n++;
        e->name = gp_modname_dup(e->written);
        if (!e->name)
            return -ENOMEM;
        rest = skip_ws(p + wl);
        if (*rest) {
            e->params = strdup(rest);
            if (!e->params)
                return -ENOMEM;
            gp_strip(e->params);
        }
    }
    *ret = TAKE_PTR(l);
    return 0;
}

/* ---- modprobe.d ---- */

const char *gp_modprobe_cmd_to_string(gp_modprobe_cmd c)
{
    static const char *const names[_GP_MODPROBE_MAX] = {
        "bad", "alias", "blacklist", "install", "remove", "options", "softdep", "weakdep",
    };

    return (unsigned)c < _GP_MODPROBE_MAX ? names[c] : "bad";
}

static void stmt_done(gp_modprobe_stmt *s)
{
    gp_strv_free(s->words);
    free(s->module);
    free(s->target);
    gp_strv_free(s->pre);
    gp_strv_free(s->post);
}

void gp_modprobe_file_free(gp_modprobe_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        stmt_done(&f->v[i]);
    free(f->v);
    gp_cfgtext_done(&f->text);
    free(f);
}

static int split_words(const char *s, char ***ret, size_t *ret_n)
{
    size_t n = 0, cap = 4;
    char **v = calloc(cap + 1, sizeof(char *));

    if (!v)
        return -ENOMEM;
    for (s = skip_ws(s); *s; s = skip_ws(s)) {
        size_t wl = word_len(s);

        if (n == cap) {
            char **nv = realloc(v, (cap * 2 + 1) * sizeof(char *));

            if (!nv) {
                gp_strv_free(v);
                return -ENOMEM;
            }
            v = nv;
            cap *= 2;
        }
        v[n] = strndup(s, wl);
        if (!v[n]) {
            gp_strv_free(v);
            return -ENOMEM;
        }
        v[++n] = NULL;
        s += wl;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* Text after the first `skip` words of s. */
static const char *after_words(const char *s, size_t skip)
{
    s = skip_ws(s);
    for (size_t i = 0; i < skip && *s; i++)
        s = skip_ws(s + word_len(s));
    return s;
}

static int strv_push_norm(char ***v, size_t *n, const char *w)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));

    if (!nv)
        return -ENOMEM;
    *v = nv;
    nv[*n] = gp_modname_dup(w);
    if (!nv[*n]) {
        nv[*n] = NULL;
        return -ENOMEM;
    }
    nv[++*n] = NULL;
    return 0;
}

static int parse_softdep(gp_modprobe_stmt *s)
{
    /* kmod_config_add_softdep(): words after "pre:" go before the module,
     * after "post:" after it; words before either keyword are dropped. */
    enum { NONE, PRE, POST } mode = NONE;

    for (size_t i = 2; i < s->n_words; i++) {
        const char *w = s->words[i];
        int r = 0;

        if (strcmp(w, "pre:") == 0)
            mode = PRE;
        else if (strcmp(w, "post:") == 0)
            mode = POST;
        else if (mode == PRE)
            r = strv_push_norm(&s->pre, &s->n_pre, w);
        else if (mode == POST)
            r = strv_push_norm(&s->post, &s->n_post, w);
        else
            s->softdep_no_mode = true;
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse_stmt(gp_modprobe_stmt *s)
{
    static const struct {
        const char *word;
        gp_modprobe_cmd cmd;
        size_t min_words;     /* kmod's "syntax_error" below this */
    } cmds[] = {
        { "alias", GP_MODPROBE_ALIAS, 3 },
        { "blacklist", GP_MODPROBE_BLACKLIST, 2 },
        { "options", GP_MODPROBE_OPTIONS, 3 },
        { "install", GP_MODPROBE_INSTALL, 3 },
        { "remove", GP_MODPROBE_REMOVE, 3 },
        { "softdep", GP_MODPROBE_SOFTDEP, 3 },
        /* kmod 33 */
        { "weakdep", GP_MODPROBE_WEAKDEP, 3 },
    };
    const char *w0 = s->words[0];
    int r;

    s->cmd = GP_MODPROBE_BAD;
    if (strcmp(w0, "include") == 0 || strcmp(w0, "config") == 0) {
        s->why = "the command is deprecated and not parsed any more";
        return 0;
    }
    for (size_t i = 0; i < ELEMENTSOF(cmds); i++) {
        if (strcmp(w0, cmds[i].word) != 0)
            continue;
        if (s->n_words < cmds[i].min_words) {
            s->why = cmds[i].min_words == 2 ? "the module name is missing"
                   : cmds[i].cmd == GP_MODPROBE_ALIAS ? "alias needs a name and a module"
                   : s->n_words < 2 ? "the module name is missing"
                   : cmds[i].cmd == GP_MODPROBE_OPTIONS ? "options needs a module and at least one parameter"
                   : "the command after the module name is missing";
            return 0;
        }
        s->cmd = cmds[i].cmd;
        break;
    }
    if (s->cmd == GP_MODPROBE_BAD) {
        s->why = "not a modprobe.d command";
        return 0;
    }
    s->module = gp_modname_dup(s->words[1]);
    if (!s->module)
        return -ENOMEM;
    s->rest = after_words(s->src->text, 2);
    switch (s->cmd) {
    case GP_MODPROBE_ALIAS:
        s->target = gp_modname_dup(s->words[2]);
        return s->target ? 0 : -ENOMEM;
    case GP_MODPROBE_SOFTDEP:
        return parse_softdep(s);
    case GP_MODPROBE_WEAKDEP:
        for (size_t i = 2; i < s->n_words; i++) {
            r = strv_push_norm(&s->post, &s->n_post, s->words[i]);
            if (r < 0)
                return r;
        }
        return 0;
    default:
        return 0;
    }
}

int gp_modprobe_parse(const char *buf, size_t len, gp_modprobe_file **ret)
{
    _cleanup_modprobe_file_ gp_modprobe_file *f = calloc(1, sizeof(*f));
    int r;

    if (!f)
        return -ENOMEM;
    r = gp_cfgtext_split(buf, len, true, &f->text);
    if (r < 0)
        return r;
    f->v = calloc(f->text.n ? f->text.n : 1, sizeof(*f->v));
    if (!f->v)
        return -ENOMEM;
    for (size_t i = 0; i < f->text.n; i++) {
        const gp_cfgline *src = &f->text.lines[i];
        const char *p = skip_ws(src->text);
        gp_modprobe_stmt *s = &f->v[f->n];

        /* kmod takes only a '#' in the first column as a comment; an
         * indented one is a "bad line" it ignores all the same. */
        if (!*p || *p == '#')
            continue;
        s->src = src;
        r = split_words(src->text, &s->words, &s->n_words);
        if (r < 0)
            return r;
        assert(s->n_words > 0); /* *p is neither blank nor '#': the line has a word */
        f->n++;
        if (src->binary) {
            s->why = "the line holds binary data (NUL or control bytes)";
            continue;
        }
        if (src->too_long) {
            s->why = "the line is too long to be a modprobe command";
            continue;
        }
        r = parse_stmt(s);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(f);
    return 0;
}

char *gp_modprobe_option(const gp_modprobe_stmt *s, const char *param, bool *ret_oom)
{
    const char *found = NULL;
    size_t plen = strlen(param), flen = 0;
    char *v;

    if (ret_oom)
        *ret_oom = false;
    if (s->cmd != GP_MODPROBE_OPTIONS)
        return NULL;
    /* The kernel's next_arg(): name=value, the value may be in double quotes
     * (which can hold spaces); '-' and '_' are the same in names. */
    for (const char *p = skip_ws(s->rest); *p;) {
        const char *start = p, *eq = NULL;
        bool quoted = false;

        for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (*p == '=' && !eq && !quoted)
                eq = p;
        }
        if (eq && (size_t)(eq - start) == plen) {
            bool same = true;

            for (size_t i = 0; i < plen; i++)
                if (modchar(start[i]) != modchar(param[i]))
                    same = false;
            if (same) {
                found = eq + 1;
                flen = (size_t)(p - found);
            }
        }
        p = skip_ws(p);
    }
    if (!found)
        return NULL;
    v = malloc(flen + 1);
    if (!v) {
        if (ret_oom)
            *ret_oom = true;
        return NULL;
    }
    {
        size_t n = 0;

        for (size_t i = 0; i < flen; i++)
            if (found[i] != '"')
                v[n++] = found[i];
        v[n] = '\0';
    }
    return v;
}

static int hex_field(const char *s, size_t n, unsigned max_digits, unsigned *ret)
{
    unsigned v = 0;

    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n == 0 || n > max_digits)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int d = isdigit((unsigned char)s[i]) ? s[i] - '0'
              : isxdigit((unsigned char)s[i]) ? tolower((unsigned char)s[i]) - 'a' + 10 : -1;

        if (d < 0)
            return -EINVAL;
        v = v * 16 + (unsigned)d;
    }
    *ret = v;
    return 0;
}

int gp_pci_id_parse(const char *s, gp_pci_id_match *ret)
{
    gp_pci_id_match m = {
        .vendor = GP_PCI_ANY_ID, .device = GP_PCI_ANY_ID,
        .subvendor = GP_PCI_ANY_ID, .subdevice = GP_PCI_ANY_ID,
    };
    unsigned *fields[] = { &m.vendor, &m.device, &m.subvendor, &m.subdevice, &m.class_code, &m.class_mask };
    const char *p = s;

    for (;;) {
        size_t n = strcspn(p, ":");
        /* IDs are 16 bits; class and mask are 24-bit values. */
        unsigned digits = m.n_fields < 4 ? 4 : 8;

        if (m.n_fields == ELEMENTSOF(fields) || hex_field(p, n, digits, fields[m.n_fields]) < 0)
            return -EINVAL;
        m.n_fields++;
        if (!p[n])
            break;
        p += n + 1;
    }
    if (m.n_fields < 2)
        return -EINVAL;
    if (m.n_fields < 5)
        m.class_code = m.class_mask = 0;
    *ret = m;
    return 0;
}

/* ---- module index ---- */

struct gp_modindex {
    char **names;             /* normalised, sorted, unique */
    bool *builtin;
    size_t n;
};

const char *const gp_modules_known[] = {
    /* VFIO (vfio_virqfd: its own module before 6.2, part of vfio since) */
    "vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio_virqfd", "vfio_mdev", "mdev",
    "vfio_iommu_spapr_tce", "iommufd", "pci_stub", "vendor_reset", "kvmfr",
    "kvm", "kvm_intel", "kvm_amd", "vhost_net", "kvmgt",
    /* NVIDIA */
    "nvidia", "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia_peermem", "nvidia_vgpu_vfio",
    "nvidiafb", "rivafb", "nouveau", "i2c_nvidia_gpu", "ucsi_ccg",
    /* AMD */
    "amdgpu", "radeon", "radeonfb", "amdkfd",
    /* Intel */
    "i915", "xe",
    /* other display drivers on servers and in guests */
    "ast", "mgag200", "bochs", "simpledrm", "efifb", "vesafb",
    /* HDMI audio of GPUs */
    "snd_hda_intel", "snd_hda_codec_hdmi", "snd_hda_codec",
    NULL,
};

bool gp_module_is_known(const char *name)
{
    for (size_t i = 0; gp_modules_known[i]; i++)
        if (gp_modname_eq(gp_modules_known[i], name))
            return true;
    return false;
}

void gp_modindex_free(gp_modindex *x)
{
    for (size_t i = 0; i < x->n; i++)
        free(x->names[i]);
    free(x->names);
    free(x->builtin);
    free(x);
}

size_t gp_modindex_size(const gp_modindex *x)
{
    return x ? x->n : 0;
}

int gp_modname_from_path(const char *path, size_t len, char **ret)
{
    const char *base = path, *ko = NULL;
    char *s;

    for (size_t i = 0; i < len; i++)
        if (path[i] == '/')
            base = path + i + 1;
    for (const char *p = base; p + 3 <= path + len; p++)
        if (memcmp(p, ".ko", 3) == 0 && (p + 3 == path + len || p[3] == '.')) {
            ko = p;
            break;
        }
    if (!ko || ko == base)
        return -EINVAL;
    s = strndup(base, (size_t)(ko - base));
    if (!s)
        return -ENOMEM;
    *ret = gp_modname_normalize(s);
    return 0;
}

typedef struct name_flag {
    char *name;
    bool builtin;
} name_flag;

static int name_flag_cmp(const void *a, const void *b)
{
    const name_flag *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    /* builtin first, so that it wins when a name is in both files */
    return c ? c : (int)y->builtin - (int)x->builtin;
}

static int index_add_lines(const char *buf, size_t len, bool builtin, name_flag **v, size_t *n, size_t *cap)
{
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        /* modules.dep: "path: dep dep"; modules.builtin: "path" */
        const char *colon = memchr(buf + pos, ':', end - pos);
        size_t plen = (colon ? (size_t)(colon - buf) : end) - pos;
        char *name;
        int r;

        while (plen > 0 && isspace((unsigned char)buf[pos + plen - 1]))
            plen--;
        r = plen ? gp_modname_from_path(buf + pos, plen, &name) : -EINVAL;
        pos = nl ? end + 1 : len;
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            continue;
        if (*n == *cap) {
            size_t c2 = *cap ? *cap * 2 : 256;
            name_flag *nv = realloc(*v, c2 * sizeof(*nv));

            if (!nv) {
                free(name);
                return -ENOMEM;
            }
            *v = nv;
            *cap = c2;
        }
        (*v)[(*n)++] = (name_flag){ name, builtin };
    }
    return 0;
}

int gp_modindex_parse(const char *dep, size_t dep_len, const char *builtin, size_t builtin_len, gp_modindex **ret)
{
    _cleanup_modindex_ gp_modindex *x = calloc(1, sizeof(*x));
    name_flag *v = NULL;
    size_t n = 0, cap = 0;
    int r;

    if (!x)
        return -ENOMEM;
    r = index_add_lines(dep, dep_len, false, &v, &n, &cap);
    if (r >= 0 && builtin)
        r = index_add_lines(builtin, builtin_len, true, &v, &n, &cap);
    if (r >= 0 && n > 0) {
        qsort(v, n, sizeof(*v), name_flag_cmp);
        x->names = calloc(n, sizeof(char *));
        x->builtin = calloc(n, sizeof(bool));
        if (!x->names || !x->builtin)
            r = -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (r >= 0 && (x->n == 0 || strcmp(x->names[x->n - 1], v[i].name) != 0)) {
            x->names[x->n] = v[i].name;
            x->builtin[x->n++] = v[i].builtin;
        } else
            free(v[i].name);
    }
    free(v);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(x);
    return 0;
}

int gp_modindex_read(const gp_host *h, const char *release, gp_modindex **ret)
{
    _cleanup_free_ char *dep = NULL, *builtin = NULL, *p1 = NULL, *p2 = NULL;
    size_t dep_len = 0, builtin_len = 0;
    int r;

    if (!release || !*release || strchr(release, '/'))
        return -ENOENT;
    if (asprintf(&p1, "lib/modules/%s/modules.dep", release) < 0) {
        p1 = NULL;
        return -ENOMEM;
    }
    if (asprintf(&p2, "lib/modules/%s/modules.builtin", release) < 0) {
        p2 = NULL;
        return -ENOMEM;
    }
    /* A distribution kernel's modules.dep is about 1 MiB. */
    r = gp_host_read_file(h, p1, 64u << 20, &dep, &dep_len);
    if (r < 0)
        return r;
    r = gp_host_read_file(h, p2, 16u << 20, &builtin, &builtin_len);
    if (r < 0 && r != -ENOENT)
        return r;
    return gp_modindex_parse(dep, dep_len, builtin, builtin_len, ret);
}

static int name_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

gp_mod_state gp_modindex_lookup(const gp_modindex *x, const char *name)
{
    char buf[GP_MODNAME_MAX + 1];
    char *const *hit;
    size_t n = strlen(name);

    if (!x || x->n == 0 || n > GP_MODNAME_MAX)
        return GP_MOD_ABSENT;
    memcpy(buf, name, n + 1);
    gp_modname_normalize(buf);
    hit = bsearch(buf, x->names, x->n, sizeof(char *), name_cmp);
    if (!hit)
        return GP_MOD_ABSENT;
    return x->builtin[hit - x->names] ? GP_MOD_BUILTIN : GP_MOD_LOADABLE;
}

static unsigned suggest_cap(size_t len)
{
    /* Short names are all close to each other ("lp" is 2 edits from "xe"). */
    return len >= 6 ? 2 : len >= 4 ? 1 : 0;
}

const char *gp_modindex_suggest(const gp_modindex *x, const char *name)
{
    unsigned cap = suggest_cap(strlen(name)), best_d;
    const char *best = NULL;

    if (cap == 0 || gp_modindex_lookup(x, name) != GP_MOD_ABSENT || gp_module_is_known(name))
        return NULL;
    best_d = cap + 1;
    for (size_t i = 0; x && i < x->n; i++) {
        unsigned d = gp_name_distance(name, x->names[i], cap);

        if (d < best_d) {
            best_d = d;
            best = x->names[i];
        }
    }
    for (size_t i = 0; gp_modules_known[i]; i++) {
        unsigned d = gp_name_distance(name, gp_modules_known[i], cap);

        if (d < best_d) {
            best_d = d;
            best = gp_modules_known[i];
        }
    }
    return best;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gp_modindex_glob(const gp_modindex *x, const char *pattern, char ***ret, size_t *ret_n)
{
    _cleanup_free_ char *pat = gp_modname_dup(pattern);
    char **v = calloc(1, sizeof(char *));
    size_t n = 0;

    if (!pat || !v) {
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; x && i < x->n; i++) {
        const char *name = x->names[i];

        if (fnmatch(pat, name, 0) == 0 && gp_strv_append(&v, &n, name, strlen(name)) < 0)
            goto oom;
    }
    /* No index (or nothing in it matched): the names gpupass knows. */
    for (size_t i = 0, fallback = n == 0; fallback && gp_modules_known[i]; i++) {
        const char *name = gp_modules_known[i];

        if (fnmatch(pat, name, 0) == 0 && gp_strv_append(&v, &n, name, strlen(name)) < 0)
            goto oom;
    }
    qsort(v, n, sizeof(char *), cmp_str);
    *ret = v;
    *ret_n = n;
    return 0;
oom:
    gp_strv_free(v);
    return -ENOMEM;
}

bool gp_module_loaded(const gp_host *h, const char *name)
{
    _cleanup_free_ char *mods = NULL, *path = NULL, *norm = gp_modname_dup(name);
    size_t len = 0, nl;

    if (!norm)
        return false;
    nl = strlen(norm);
    if (gp_host_read_file(h, "proc/modules", 4u << 20, &mods, &len) >= 0) {
        /* "name size refcount users state address": names are already
         * in the kernel's underscore form. */
        for (const char *p = mods; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
            if (strncmp(p, norm, nl) == 0 && p[nl] == ' ')
                return true;
    }
    if (asprintf(&path, "sys/module/%s", norm) < 0) {
        path = NULL;
        return false;
    }
    return gp_host_exists(h, path);
}

void gp_pci_native_drivers(const gp_pci_dev *d, const char *out[2])
{
    out[0] = out[1] = NULL;
    if (gp_pci_class16(d) == 0x0403) {
        out[0] = "snd_hda_intel";
        return;
    }
    if (!gp_pci_is_gpu(d))
        return;
    switch (d->vendor_id) {
    case 0x10de:
        out[0] = "nvidia", out[1] = "nouveau";
        break;
    case 0x1002:
        out[0] = "amdgpu", out[1] = "radeon";
        break;
    case 0x8086:
        out[0] = "i915", out[1] = "xe";
        break;
    default:
        break;
    }
}
