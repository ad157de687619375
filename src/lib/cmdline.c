/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "plan.h"
#include "strdist.h"
#include "fileio.h"
#include "shared/macro.h"

/* Largest configuration file read: far above anything a boot loader takes
 * (x86 COMMAND_LINE_SIZE is 2048), small enough to judge quickly. */
#define CMDLINE_FILE_MAX (4u << 20)
/* A shell value grows through $VAR expansion; past this it is cut (a value
 * that long could never reach the kernel anyway). */
#define GRUB_VALUE_MAX (256u << 10)
/* All expansions of a parse together: A="$A $A" a thousand times must not
 * take gigabytes. */
#define GRUB_EXPANDED_MAX (8u << 20)

/* ---- words ------------------------------------------------------------ */

/* The kernel's isspace() (lib/ctype.c) also counts 0xa0; a NUL never occurs
 * in a real command line and is taken as a blank so that what follows is
 * still judged. */
static bool kspace(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0 || c == '\0';
}

static char *memdup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void param_free(gp_cmdline_param *p)
{
    free(p->name);
    free(p->value);
    free(p->raw);
}

void gp_cmdline_done(gp_cmdline *c)
{
    for (size_t i = 0; i < c->n; i++)
        param_free(&c->v[i]);
    free(c->v);
    *c = (gp_cmdline){ 0 };
}

static gp_cmdline_param *cmdline_push(gp_cmdline *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        gp_cmdline_param *v = realloc(c->v, cap * sizeof(*v));

        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n] = (gp_cmdline_param){ 0 };
    return &c->v[c->n++];
}

/*
 * The word splitting of next_arg() (kernel/params.c): a word ends at a blank
 * outside double quotes, each '"' toggles quoting; a '"' opening the word is
 * dropped, as is the one closing it; the name ends at the first '=' that is
 * not the word's first byte; a value that starts with '"' loses it and a
 * closing one. ret_origin, when not NULL, receives the offset of each word.
 */
static int split_words(gp_cmdline *c, const char *s, size_t len, size_t **ret_offsets)
{
    _cleanup_free_ size_t *offs = NULL;
    size_t n_offs = 0, cap_offs = 0;
    size_t i = 0;

    while (i < len && kspace((unsigned char)s[i]))
        i++;
    while (i < len) {
        size_t start = i, pstart, end, nend, vstart = 0, vend = 0;
        bool in_quote = false, quoted = false;
        ssize_t equals = -1;
        gp_cmdline_param *p;

        if (s[i] == '"') {
            in_quote = quoted = true;
            i++;
        }
        pstart = i;
        for (; i < len; i++) {
            unsigned char ch = (unsigned char)s[i];

            if (kspace(ch) && !in_quote)
                break;
            if (equals < 0 && ch == '=' && i > pstart)
                equals = (ssize_t)i;
            if (ch == '"')
                in_quote = !in_quote;
        }
        end = i;
        nend = end;
        if (equals >= 0) {
            nend = (size_t)equals;
            vstart = (size_t)equals + 1;
            vend = end;
            if (vstart < vend && s[vstart] == '"') {
                vstart++;
                if (vend > vstart && s[vend - 1] == '"')
                    vend--;
            } else if (quoted && vend > vstart && s[vend - 1] == '"')
                vend--;
        } else if (quoted && nend > pstart && s[nend - 1] == '"')
            nend--;

        p = cmdline_push(c);
        if (!p)
            return -ENOMEM;
        p->unbalanced = in_quote;
        p->raw = memdup_str(s + start, end - start);
        p->name = memdup_str(s + pstart, nend - pstart);
        if (equals >= 0)
            p->value = memdup_str(s + vstart, vend - vstart);
        if (!p->raw || !p->name || (equals >= 0 && !p->value))
            return -ENOMEM;
        if (ret_offsets) {
            if (n_offs == cap_offs) {
                size_t cap = cap_offs ? cap_offs * 2 : 16;
                size_t *v = realloc(offs, cap * sizeof(*v));

                if (!v)
                    return -ENOMEM;
                offs = v;
                cap_offs = cap;
            }
            offs[n_offs++] = start;
        }
        while (i < len && kspace((unsigned char)s[i]))
            i++;
    }
    if (ret_offsets)
        *ret_offsets = TAKE_PTR(offs);
    return 0;
}

int gp_cmdline_split(gp_cmdline *c, const char *s, size_t len)
{
    return split_words(c, s, len, NULL);
}

bool gp_cmdline_name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

const gp_cmdline_param *gp_cmdline_get(const gp_cmdline *c, const char *name)
{
    for (size_t i = c->n; i > 0; i--)
        if (gp_cmdline_name_eq(c->v[i - 1].name, name))
            return &c->v[i - 1];
    return NULL;
}

bool gp_cmdline_param_eq(const gp_cmdline_param *a, const gp_cmdline_param *b)
{
    if (!gp_cmdline_name_eq(a->name, b->name))
        return false;
    if (!a->value || !b->value)
        return !a->value && !b->value;
    return strcmp(a->value, b->value) == 0;
}

bool gp_cmdline_has(const char *cmdline, const char *name, const char *value)
{
    gp_cmdline c = { 0 };
    const gp_cmdline_param *p;
    bool r;

    if (!cmdline || gp_cmdline_split(&c, cmdline, strlen(cmdline)) < 0) {
        gp_cmdline_done(&c);
        return false;
    }
    p = gp_cmdline_get(&c, name);
    r = p && (!value || (p->value && strcmp(p->value, value) == 0));
    gp_cmdline_done(&c);
    return r;
}

bool gp_cmdline_value_has_word(const char *value, const char *word)
{
    size_t n = strlen(word);

    for (const char *s = value ? value : ""; *s;) {
        size_t k = strcspn(s, ",");

        if (k == n && strncmp(s, word, n) == 0)
            return true;
        s += k;
        if (*s == ',')
            s++;
    }
    return false;
}

/* ---- what the kernel accepts ----------------------------------------- */

enum value_rule {
    V_ANY,
    V_INTEL_IOMMU,
    V_AMD_IOMMU,
    V_IOMMU_X86,
    V_BOOL,
    V_INTREMAP,
    V_ACS,
    V_VFIO_IDS,
    V_MODULES,
};

typedef struct param_info {
    const char *name;      /* spelled as the Proxmox and kernel docs do */
    bool relevant;         /* passthrough: compared, checked for typos */
    enum value_rule rule;
} param_info;

static const param_info params[] = {
    /* drivers/iommu/intel/iommu.c intel_iommu_setup() */
    { "intel_iommu", true, V_INTEL_IOMMU },
    /* drivers/iommu/amd/init.c parse_amd_iommu_options() */
    { "amd_iommu", true, V_AMD_IOMMU },
    { "amd_iommu_intr", true, V_ANY },
    { "amd_iommu_dump", true, V_ANY },
    { "ivrs_ioapic", true, V_ANY },
    { "ivrs_hpet", true, V_ANY },
    { "ivrs_acpihid", true, V_ANY },
    /* arch/x86/kernel/pci-dma.c iommu_setup() */
    { "iommu", true, V_IOMMU_X86 },
    /* drivers/iommu/iommu.c: kstrtobool */
    { "iommu.passthrough", true, V_BOOL },
    { "iommu.strict", true, V_BOOL },
    { "iommu.forcedac", true, V_BOOL },
    /* drivers/iommu/irq_remapping.c setup_irqremap() */
    { "intremap", true, V_INTREMAP },
    /* Proxmox kernel patch "pci: Enable overrides for missing ACS capabilities" */
    { "pcie_acs_override", true, V_ACS },
    /* drivers/vfio/pci/vfio_pci.c module parameters */
    { "vfio-pci.ids", true, V_VFIO_IDS },
    { "vfio-pci.disable_vga", true, V_BOOL },
    { "vfio-pci.disable_idle_d3", true, V_BOOL },
    { "vfio-pci.nointxmask", true, V_BOOL },
    { "vfio-pci.enable_sriov", true, V_BOOL },
    { "vfio-pci.disable_denylist", true, V_BOOL },
    { "vfio_iommu_type1.allow_unsafe_interrupts", true, V_BOOL },
    { "vfio_iommu_type1.dma_entry_limit", true, V_ANY },
    { "vfio_iommu_type1.disable_hugepages", true, V_BOOL },
    { "vfio.enable_unsafe_noiommu_mode", true, V_BOOL },
    { "initcall_blacklist", true, V_ANY },
    { "video", true, V_ANY },
    { "nomodeset", true, V_ANY },
    { "nofb", true, V_ANY },
    /* kmod reads modprobe.blacklist= from /proc/cmdline; the kernel itself module_blacklist= */
    { "modprobe.blacklist", true, V_MODULES },
    { "module_blacklist", true, V_MODULES },
    /* dracut.cmdline(7) */
    { "rd.driver.pre", true, V_MODULES },
    { "rd.driver.blacklist", true, V_MODULES },
    { "rd.driver.post", true, V_MODULES },
    { "kvm.ignore_msrs", true, V_BOOL },
    { "kvm.report_ignored_msrs", true, V_BOOL },
    { "kvm_amd.avic", true, V_BOOL },
    { "kvm_amd.npt", true, V_BOOL },
    { "kvm_amd.nested", true, V_ANY },
    { "kvm_intel.nested", true, V_ANY },
    { "kvm_intel.ept", true, V_BOOL },
    /* common, judged only so that they are never taken for typos */
    { "BOOT_IMAGE", false, V_ANY }, { "initrd", false, V_ANY }, { "root", false, V_ANY },
    { "ro", false, V_ANY }, { "rw", false, V_ANY }, { "quiet", false, V_ANY }, { "splash", false, V_ANY },
    { "boot", false, V_ANY }, { "init", false, V_ANY }, { "rootdelay", false, V_ANY },
    { "rootfstype", false, V_ANY }, { "rootflags", false, V_ANY }, { "rootwait", false, V_ANY },
    { "console", false, V_ANY }, { "loglevel", false, V_ANY }, { "debug", false, V_ANY },
    { "resume", false, V_ANY }, { "mitigations", false, V_ANY }, { "nosmt", false, V_ANY },
    { "isolcpus", false, V_ANY }, { "nohz_full", false, V_ANY }, { "rcu_nocbs", false, V_ANY },
    { "hugepagesz", false, V_ANY }, { "default_hugepagesz", false, V_ANY }, { "hugepages", false, V_ANY },
    { "transparent_hugepage", false, V_ANY }, { "mem_encrypt", false, V_ANY }, { "acpi", false, V_ANY },
    { "noapic", false, V_ANY }, { "nolapic", false, V_ANY }, { "apparmor", false, V_ANY },
    { "security", false, V_ANY }, { "crashkernel", false, V_ANY }, { "pci", false, V_ANY },
    { "pcie_aspm", false, V_ANY }, { "pcie_ports", false, V_ANY }, { "pcie_port_pm", false, V_ANY },
    { "net.ifnames", false, V_ANY }, { "biosdevname", false, V_ANY }, { "consoleblank", false, V_ANY },
    { "efi", false, V_ANY }, { "memmap", false, V_ANY }, { "fbcon", false, V_ANY },
    { "nouveau.modeset", false, V_ANY }, { "i915.modeset", false, V_ANY }, { "amdgpu.modeset", false, V_ANY },
    { "radeon.modeset", false, V_ANY }, { "nvidia-drm.modeset", false, V_ANY },
    { "processor.max_cstate", false, V_ANY }, { "intel_idle.max_cstate", false, V_ANY },
    { "amd_pstate", false, V_ANY }, { "intel_pstate", false, V_ANY }, { "elevator", false, V_ANY },
    { "zfs_force", false, V_ANY }, { "nosplash", false, V_ANY }, { "ipv6.disable", false, V_ANY },
};

static const param_info *param_lookup(const char *name)
{
    for (size_t i = 0; i < ELEMENTSOF(params); i++)
        if (gp_cmdline_name_eq(params[i].name, name))
            return &params[i];
    return NULL;
}

bool gp_cmdline_param_known(const char *name)
{
    return param_lookup(name) != NULL;
}

bool gp_cmdline_param_relevant(const char *name)
{
    const param_info *p = param_lookup(name);

    return p && p->relevant;
}

static bool word_in(const char *w, size_t n, const char *const *set)
{
    for (; *set; set++)
        if (strlen(*set) == n && strncmp(*set, w, n) == 0)
            return true;
    return false;
}

static bool all_hex(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    return true;
}

/* A module name as modprobe takes it: no path, no glob. */
static bool module_name_ok(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = w[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool bool_ok(const char *v)
{
    /* kstrtobool(): y/n/1/0 (t/f since 5.x), "on"/"off", by the first bytes */
    static const char *const ok[] = { "y", "Y", "1", "n", "N", "0", "t", "T", "f", "F",
                                      "yes", "no", "true", "false", "on", "off", "ON", "OFF", "On", "Off", NULL };

    return word_in(v, strlen(v), ok);
}

static bool word_ok(enum value_rule r, const char *w, size_t n)
{
    static const char *const intel[] = { "on", "off", "igfx_off", "forcedac", "strict", "sm_on", "sm_off",
                                         "tboot_noforce", NULL };
    static const char *const amd[] = { "fullflush", "force_enable", "force_isolation", "off", "pgtbl_v1",
                                       "pgtbl_v2", "irtcachedis", "nohugepages", "v2_pgsizes_only", NULL };
    /* iommu_setup() and gart_parse_options() */
    static const char *const x86[] = { "off", "force", "noforce", "biomerge", "panic", "nopanic", "merge",
                                       "nomerge", "forcesac", "allowdac", "nodac", "usedac", "soft", "pt", "nopt",
                                       "fullflush", "nofullflush", "noagp", "noaperture", "memaper", "calgary",
                                       NULL };
    static const char *const intremap[] = { "on", "off", "nosid", "no_x2apic_optout", "nopost", NULL };

    switch (r) {
    case V_INTEL_IOMMU:
        return word_in(w, n, intel);
    case V_AMD_IOMMU:
        return word_in(w, n, amd);
    case V_IOMMU_X86:
        return word_in(w, n, x86) || (n > 8 && strncmp(w, "memaper=", 8) == 0);
    case V_INTREMAP:
        return word_in(w, n, intremap);
    case V_ACS:
        if (n == 10 && strncmp(w, "downstream", 10) == 0)
            return true;
        if (n == 13 && strncmp(w, "multifunction", 13) == 0)
            return true;
        return n == 12 && strncmp(w, "id:", 3) == 0 && all_hex(w + 3, 4) && w[7] == ':' && all_hex(w + 8, 4);
    case V_VFIO_IDS: {
        gp_vfio_id id;

        return gp_vfio_id_parse(w, n, &id) == 0;
    }
    case V_MODULES:
        return module_name_ok(w, n);
    default:
        return true;
    }
}

bool gp_cmdline_value_valid(const char *name, const char *value, char *bad, size_t bad_len)
{
    const param_info *p = param_lookup(name);
    const char *v = value ? value : "";

    if (bad_len)
        bad[0] = '\0';
    if (!p || p->rule == V_ANY)
        return true;
    if (p->rule == V_BOOL) {
        /* a bare boolean module parameter means "true" */
        if (!value || bool_ok(v))
            return true;
        snprintf(bad, bad_len, "%s", v);
        return false;
    }
    if (!*v) {
        snprintf(bad, bad_len, "%s", "");
        return false;
    }
    /* comma lists: the parsers skip empty words */
    for (const char *w = v; *w;) {
        size_t n = strcspn(w, ",");

        if (n && !word_ok(p->rule, w, n)) {
            snprintf(bad, bad_len, "%.*s", (int)n, w);
            return false;
        }
        w += n;
        if (*w == ',')
            w++;
    }
    return true;
}

const char *gp_cmdline_typo(const char *name)
{
    static const char *const vfio_mods[] = { "vfio", "vfio_pci", "vfio_iommu_type1", "vfio_pci_core", NULL };
    const char *dot = strchr(name, '.');
    size_t n = strlen(name);
    const char *best = NULL;
    unsigned best_d = 3;

    if (n < 4 || n > 64 || param_lookup(name))
        return NULL;

    /* "vfio.ids": a vfio module, a parameter another vfio module has */
    if (dot) {
        char mod[32];
        size_t ml = (size_t)(dot - name);

        if (ml < sizeof(mod)) {
            memcpy(mod, name, ml);
            mod[ml] = '\0';
            for (size_t i = 0; vfio_mods[i]; i++) {
                if (!gp_cmdline_name_eq(mod, vfio_mods[i]))
                    continue;
                for (size_t k = 0; k < ELEMENTSOF(params); k++) {
                    const char *pd = strchr(params[k].name, '.');

                    if (!pd || !gp_startswith(params[k].name, "vfio"))
                        continue;
                    if (gp_name_distance(dot + 1, pd + 1, 1) <= 1)
                        return params[k].name;
                }
            }
        }
    }

    for (size_t k = 0; k < ELEMENTSOF(params); k++) {
        size_t kl = strlen(params[k].name);
        unsigned max = kl <= 6 ? 1 : 2, d;

        if (!params[k].relevant || kl < 5)
            continue;
        d = gp_name_distance(name, params[k].name, max);
        if (d <= max && d < best_d) {
            best = params[k].name;
            best_d = d;
        }
    }
    return best;
}

/* ---- vfio-pci.ids ----------------------------------------------------- */

int gp_vfio_id_parse(const char *s, size_t len, gp_vfio_id *ret)
{
    uint32_t f[6] = { 0, 0, UINT32_MAX, UINT32_MAX, 0, 0 };
    size_t i = 0;
    int n = 0;

    /* sscanf("%x:%x:%x:%x:%x:%x") as vfio_pci_fill_ids() does: it counts the
     * numbers it converted and stops at the first mismatch */
    while (n < 6 && i < len) {
        uint64_t v = 0;
        size_t digits = 0;

        if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < len &&
            all_hex(s + i + 2, 1))
            i += 2;
        while (i < len && all_hex(s + i, 1)) {
            char c = s[i++];

            v = v * 16 + (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            if (v > UINT32_MAX)
                return -ERANGE;
            digits++;
        }
        if (!digits)
            break;
        f[n++] = (uint32_t)v;
        if (i < len && s[i] == ':')
            i++;
        else
            break;
    }
    if (n < 2)
        return -EINVAL;
    /* vendor and device are 16 bits: a larger number never matches a device */
    if (f[0] > 0xffff || f[1] > 0xffff)
        return -ERANGE;
    if (ret)
        *ret = (gp_vfio_id){ f[0], f[1], f[2], f[3], f[4], f[5], n };
    return 0;
}

bool gp_vfio_id_match(const gp_vfio_id *id, const gp_pci_dev *d)
{
    if (d->vendor_id != id->vendor || d->device_id != id->device)
        return false;
    if (id->subvendor != UINT32_MAX && d->subsys_vendor_id != id->subvendor)
        return false;
    if (id->subdevice != UINT32_MAX && d->subsys_device_id != id->subdevice)
        return false;
    return (d->class_code & id->class_mask) == (id->class_code & id->class_mask);
}

/* ---- GRUB: a shell fragment ------------------------------------------ */

static int str_put(gp_grub_str *s, char c, gp_grub_origin o)
{
    if (s->n >= GRUB_VALUE_MAX)
        return 0;
    if (s->n + 1 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char *ns = realloc(s->s, cap);
        gp_grub_origin *no;

        if (!ns)
            return -ENOMEM;
        s->s = ns;
        no = realloc(s->o, cap * sizeof(*no));
        if (!no)
            return -ENOMEM;
        s->o = no;
        s->cap = cap;
    }
    s->s[s->n] = c;
    s->o[s->n++] = o;
    s->s[s->n] = '\0';
    return 0;
}

static int str_append(gp_grub_str *s, const gp_grub_str *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (str_put(s, from->s[i], from->o[i]) < 0)
            return -ENOMEM;
    return 0;
}

static void str_free(gp_grub_str *s)
{
    free(s->s);
    free(s->o);
    *s = (gp_grub_str){ 0 };
}

/* Drops the first n bytes (the "NAME=" of an assignment word). */
static void str_cut_front(gp_grub_str *s, size_t n)
{
    if (n > s->n)
        n = s->n;
    memmove(s->s, s->s + n, s->n - n);
    memmove(s->o, s->o + n, (s->n - n) * sizeof(*s->o));
    s->n -= n;
    if (s->s)
        s->s[s->n] = '\0';
}

typedef struct lexer {
    gp_grub *g;
    unsigned file;
    const char *buf;
    size_t len, pos;
    unsigned line;
    unsigned word_line;      /* where the word being read starts */
} lexer;

typedef struct shword {
    gp_grub_str lit, exp;
    size_t raw_start;
    unsigned line, line_end;
    bool newline_quoted;     /* a newline inside quotes */
    bool quoted;             /* any quoting at all */
} shword;

static void word_free(shword *w)
{
    str_free(&w->lit);
    str_free(&w->exp);
}

static int add_issue(lexer *L, gp_grub_issue_kind k, unsigned line, int assign, const char *fmt, ...) _printf_(5, 6);
static int add_issue(lexer *L, gp_grub_issue_kind k, unsigned line, int assign, const char *fmt, ...)
{
    gp_grub *g = L->g;
    gp_grub_issue *v = realloc(g->issues, (g->n_issues + 1) * sizeof(*v));
    va_list ap;

    if (!v)
        return -ENOMEM;
    g->issues = v;
    v = &g->issues[g->n_issues++];
    *v = (gp_grub_issue){ .kind = k, .file = L->file, .line = line, .assign = assign };
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
    return 0;
}

static gp_grub_origin here(const lexer *L, bool verbatim)
{
    return (gp_grub_origin){ .line = L->line, .file = (uint16_t)L->file, .verbatim = verbatim };
}

/* Both the literal and the expanded text get c. */
static int put2(lexer *L, shword *w, char c)
{
    gp_grub_origin o = here(L, false);

    if (str_put(&w->lit, c, o) < 0 || str_put(&w->exp, c, o) < 0)
        return -ENOMEM;
    return 0;
}

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static const gp_grub_assign *grub_lookup(const gp_grub *g, const char *name, size_t n)
{
    for (size_t i = g->n_a; i > 0; i--)
        if (strlen(g->a[i - 1].name) == n && strncmp(g->a[i - 1].name, name, n) == 0)
            return &g->a[i - 1];
    return NULL;
}

/* Copies raw bytes [from, L->pos) into the literal as written (verbatim) and,
 * when exp_too, into the expanded text: what a `cmd` or $(cmd) prints is
 * unknown, so it stands for itself. */
static int put_verbatim(lexer *L, shword *w, size_t from, bool exp_too)
{
    unsigned line = L->line;

    /* the line of each byte: count back the newlines between from and pos */
    for (size_t i = from; i < L->pos; i++)
        if (L->buf[i] == '\n')
            line--;
    for (size_t i = from; i < L->pos; i++) {
        gp_grub_origin o = { .line = line, .file = (uint16_t)L->file, .verbatim = true };

        if (str_put(&w->lit, L->buf[i], o) < 0)
            return -ENOMEM;
        o.verbatim = false;
        if (exp_too && str_put(&w->exp, L->buf[i], o) < 0)
            return -ENOMEM;
        if (L->buf[i] == '\n')
            line++;
    }
    return 0;
}

/* 1: unclosed (a syntax issue was recorded); 0; -ENOMEM */
static int unclosed(lexer *L, unsigned open_line, const char *what)
{
    int r = add_issue(L, GP_GRUB_SYNTAX, open_line, -1, "unexpected EOF while looking for matching `%s'", what);

    if (r < 0)
        return r;
    L->g->issues[L->g->n_issues - 1].word_line = L->word_line ? L->word_line : open_line;
    return 1;
}

/* At '$'. */
static int lex_dollar(lexer *L, shword *w)
{
    size_t from = L->pos;
    unsigned open_line = L->line;
    const char *b = L->buf;
    const gp_grub_assign *a = NULL;

    if (L->pos + 1 >= L->len)
        return put2(L, w, b[L->pos++]);
    if (b[L->pos + 1] == '{') {
        size_t nstart = L->pos + 2, i = nstart;

        while (i < L->len && b[i] != '}') {
            if (b[i] == '\n')
                L->line++;
            i++;
        }
        if (i >= L->len) {
            L->pos = L->len;
            return unclosed(L, open_line, "}");
        }
        {
            size_t n = 0;

            while (nstart + n < i && name_char(b[nstart + n]))
                n++;
            a = grub_lookup(L->g, b + nstart, n);
        }
        L->pos = i + 1;
    } else if (name_start(b[L->pos + 1])) {
        size_t i = L->pos + 1;

        while (i < L->len && name_char(b[i]))
            i++;
        a = grub_lookup(L->g, b + L->pos + 1, i - L->pos - 1);
        L->pos = i;
    } else if (b[L->pos + 1] == '(') {
        size_t i = L->pos + 2;
        int depth = 1;

        for (; i < L->len && depth; i++) {
            if (b[i] == '(')
                depth++;
            else if (b[i] == ')')
                depth--;
            else if (b[i] == '\n')
                L->line++;
        }
        L->pos = i;
        if (depth)
            return unclosed(L, open_line, ")");
        return put_verbatim(L, w, from, true);
    } else if (strchr("0123456789@*#?$!-", b[L->pos + 1])) {
        /* positional and special parameters: empty when a file is sourced */
        L->pos += 2;
        return put_verbatim(L, w, from, false);
    } else
        return put2(L, w, b[L->pos++]);

    if (put_verbatim(L, w, from, false) < 0)
        return -ENOMEM;
    if (a && L->g->expanded + a->value.n <= GRUB_EXPANDED_MAX) {
        L->g->expanded += a->value.n;
        if (str_append(&w->exp, &a->value) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int lex_backtick(lexer *L, shword *w)
{
    size_t from = L->pos, i = L->pos + 1;
    unsigned open_line = L->line;

    for (; i < L->len && L->buf[i] != '`'; i++) {
        if (L->buf[i] == '\\' && i + 1 < L->len)
            i++;
        if (L->buf[i] == '\n')
            L->line++;
    }
    if (i >= L->len) {
        L->pos = L->len;
        return unclosed(L, open_line, "`");
    }
    L->pos = i + 1;
    return put_verbatim(L, w, from, true);
}

static bool word_end(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' ||
           c == '(' || c == ')';
}

/* One shell word. 0, 1 after a syntax issue (stop), -ENOMEM. */
static int lex_word(lexer *L, shword *w)
{
    const char *b = L->buf;
    int r;

    w->raw_start = L->pos;
    w->line = L->line;
    L->word_line = L->line;
    while (L->pos < L->len && !word_end(b[L->pos])) {
        char c = b[L->pos];

        if (c == '\\') {
            if (L->pos + 1 < L->len && b[L->pos + 1] == '\n') {
                L->pos += 2;
                L->line++;
                continue;
            }
            L->pos++;
            if (L->pos < L->len && (r = put2(L, w, b[L->pos++])) < 0)
                return r;
            w->quoted = true;
        } else if (c == '\'') {
            unsigned open_line = L->line;

            w->quoted = true;
            L->pos++;
            while (L->pos < L->len && b[L->pos] != '\'') {
                if ((r = put2(L, w, b[L->pos])) < 0)
                    return r;
                if (b[L->pos++] == '\n') {
                    L->line++;
                    w->newline_quoted = true;
                }
            }
            if (L->pos >= L->len)
                return unclosed(L, open_line, "'");
            L->pos++;
        } else if (c == '"') {
            unsigned open_line = L->line;

            w->quoted = true;
            L->pos++;
            for (;;) {
                char d;

                if (L->pos >= L->len)
                    return unclosed(L, open_line, "\"");
                d = b[L->pos];
                if (d == '"') {
                    L->pos++;
                    break;
                }
                if (d == '\\' && L->pos + 1 < L->len && strchr("$`\"\\\n", b[L->pos + 1]) && b[L->pos + 1]) {
                    if (b[L->pos + 1] == '\n') {
                        L->pos += 2;
                        L->line++;
                        continue;
                    }
                    if ((r = put2(L, w, b[L->pos + 1])) < 0)
                        return r;
                    L->pos += 2;
                } else if (d == '$') {
                    if ((r = lex_dollar(L, w)) != 0)
                        return r;
                } else if (d == '`') {
                    if ((r = lex_backtick(L, w)) != 0)
                        return r;
                } else {
                    if ((r = put2(L, w, d)) < 0)
                        return r;
                    L->pos++;
                    if (d == '\n') {
                        L->line++;
                        w->newline_quoted = true;
                    }
                }
            }
        } else if (c == '$') {
            if ((r = lex_dollar(L, w)) != 0)
                return r;
        } else if (c == '`') {
            if ((r = lex_backtick(L, w)) != 0)
                return r;
        } else {
            if ((r = put2(L, w, c)) < 0)
                return r;
            L->pos++;
        }
    }
    w->line_end = L->line;
    return 0;
}

/* "NAME=" at the start of the raw word, unquoted. */
static size_t assignment_name_len(const lexer *L, const shword *w)
{
    size_t i = w->raw_start;

    if (i >= L->len || !name_start(L->buf[i]))
        return 0;
    while (i < L->len && name_char(L->buf[i]))
        i++;
    return i < L->len && L->buf[i] == '=' ? i - w->raw_start : 0;
}

static int record_assign(lexer *L, shword *w, size_t nlen, bool exported)
{
    gp_grub *g = L->g;
    gp_grub_assign *v = realloc(g->a, (g->n_a + 1) * sizeof(*v)), *a;
    size_t vpos = w->raw_start + nlen + 1;

    if (!v)
        return -ENOMEM;
    g->a = v;
    a = &g->a[g->n_a];
    *a = (gp_grub_assign){ .file = L->file, .line = w->line, .line_end = w->line_end, .exported = exported };
    a->name = memdup_str(L->buf + w->raw_start, nlen);
    if (!a->name)
        return -ENOMEM;
    a->quote = vpos < L->len && (L->buf[vpos] == '"' || L->buf[vpos] == '\'') ? L->buf[vpos] : 0;
    str_cut_front(&w->lit, nlen + 1);
    str_cut_front(&w->exp, nlen + 1);
    a->literal = w->lit;
    a->value = w->exp;
    w->lit = (gp_grub_str){ 0 };
    w->exp = (gp_grub_str){ 0 };
    g->n_a++;
    return 0;
}

static bool is_cmdline_var(const char *name)
{
    return gp_startswith(name, "GRUB_CMDLINE_LINUX");
}

/* Skips blanks and backslash-newlines. */
static void skip_blanks(lexer *L)
{
    while (L->pos < L->len) {
        char c = L->buf[L->pos];

        if (c == ' ' || c == '\t' || c == '\r')
            L->pos++;
        else if (c == '\\' && L->pos + 1 < L->len && L->buf[L->pos + 1] == '\n') {
            L->pos += 2;
            L->line++;
        } else
            break;
    }
}

static int index_lines(gp_grub_file *f)
{
    size_t n = 1;

    for (size_t i = 0; i < f->len; i++)
        if (f->buf[i] == '\n')
            n++;
    f->lines = malloc(n * sizeof(*f->lines));
    if (!f->lines)
        return -ENOMEM;
    f->lines[0] = 0;
    f->n_lines = 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->buf[i] == '\n')
            f->lines[f->n_lines++] = i + 1;
    return 0;
}

const char *gp_grub_line(const gp_grub *g, unsigned file, unsigned line, size_t *ret_len)
{
    const gp_grub_file *f;
    size_t start, end;

    *ret_len = 0;
    if (file >= g->n_files || line == 0)
        return NULL;
    f = &g->files[file];
    if (line > f->n_lines)
        return NULL;
    start = f->lines[line - 1];
    end = line < f->n_lines ? f->lines[line] - 1 : f->len;
    *ret_len = end - start;
    return f->buf + start;
}

static int parse_commands(lexer *L)
{
    int r;

    for (;;) {
        bool first = true, exported = false, cmd = false, unquoted_seen = false;
        int first_assign = -1;
        unsigned stmt_line;

        skip_blanks(L);
        if (L->pos >= L->len)
            return 0;
        if (L->buf[L->pos] == '\n') {
            L->pos++;
            L->line++;
            continue;
        }
        if (strchr(";&|<>()", L->buf[L->pos])) {
            L->pos++;
            continue;
        }
        if (L->buf[L->pos] == '#') {
            while (L->pos < L->len && L->buf[L->pos] != '\n')
                L->pos++;
            continue;
        }
        stmt_line = L->line;
        /* the words of one simple command */
        while (L->pos < L->len && !strchr("\n;&|", L->buf[L->pos])) {
            shword w = { 0 };
            size_t nlen;

            if (L->buf[L->pos] == '#' && !first) {
                while (L->pos < L->len && L->buf[L->pos] != '\n')
                    L->pos++;
                break;
            }
            r = lex_word(L, &w);
            if (r != 0) {
                word_free(&w);
                return r;
            }
            if (L->pos == w.raw_start) {
                /* an operator byte the word lexer does not take */
                L->pos++;
                word_free(&w);
                skip_blanks(L);
                continue;
            }
            nlen = cmd ? 0 : assignment_name_len(L, &w);
            if (first && !nlen && w.lit.n == 6 && memcmp(w.lit.s, "export", 6) == 0) {
                exported = true;
            } else if (nlen) {
                if (first_assign < 0)
                    first_assign = (int)L->g->n_a;
                else if (!unquoted_seen && is_cmdline_var(L->g->a[first_assign].name) &&
                         !L->g->a[first_assign].quote) {
                    unquoted_seen = true;
                    /* GRUB_CMDLINE_LINUX=quiet iommu=pt: the shell assigns
                     * "quiet" and then a variable named iommu */
                    r = add_issue(L, GP_GRUB_UNQUOTED, stmt_line, first_assign,
                                  "the shell assigns only the first word; it takes '%.*s' as another variable",
                                  (int)(nlen + 1 + (w.exp.n > 40 ? 40 : w.exp.n)), L->buf + w.raw_start);
                    if (r < 0) {
                        word_free(&w);
                        return r;
                    }
                }
                if (w.newline_quoted && is_cmdline_var(L->buf + w.raw_start) &&
                    (r = add_issue(L, GP_GRUB_MULTILINE, w.line, (int)L->g->n_a,
                                   "the value spans lines %u-%u", w.line, w.line_end)) < 0) {
                    word_free(&w);
                    return r;
                }
                r = record_assign(L, &w, nlen, exported);
                if (r < 0) {
                    word_free(&w);
                    return r;
                }
            } else {
                if (first_assign >= 0 && !cmd && !unquoted_seen && is_cmdline_var(L->g->a[first_assign].name) &&
                    !L->g->a[first_assign].quote) {
                    unquoted_seen = true;
                    r = add_issue(L, GP_GRUB_UNQUOTED, stmt_line, first_assign,
                                  "the shell assigns only the first word and runs '%.*s' as a command "
                                  "(update-grub stops: not found)", (int)(w.lit.n > 40 ? 40 : w.lit.n),
                                  w.lit.s ? w.lit.s : "");
                    if (r < 0) {
                        word_free(&w);
                        return r;
                    }
                }
                cmd = true;
            }
            first = false;
            word_free(&w);
            skip_blanks(L);
        }
    }
}

int gp_grub_parse(gp_grub *g, const char *display, const char *buf, size_t len)
{
    gp_grub_file *v;
    gp_grub_file *f;
    lexer L;
    int r;

    if (g->n_files >= UINT16_MAX)
        return -E2BIG;
    v = realloc(g->files, (g->n_files + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    g->files = v;
    f = &g->files[g->n_files];
    *f = (gp_grub_file){ 0 };
    f->display = strdup(display);
    f->buf = memdup_str(buf, len);
    f->len = len;
    if (!f->display || !f->buf) {
        free(f->display);
        free(f->buf);
        return -ENOMEM;
    }
    if (index_lines(f) < 0) {
        free(f->display);
        free(f->buf);
        return -ENOMEM;
    }
    g->n_files++;

    L = (lexer){ .g = g, .file = (unsigned)(g->n_files - 1), .buf = f->buf, .len = len, .line = 1 };
    /* dash drops NUL bytes and keeps control bytes: the file is not what
     * its author meant either way */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
            unsigned line = 1;

            for (size_t k = 0; k < i; k++)
                line += buf[k] == '\n';
            r = add_issue(&L, GP_GRUB_BINARY, line, -1, "byte 0x%02x at offset %zu", c, i);
            if (r < 0)
                return r;
            break;
        }
    }
    r = parse_commands(&L);
    return r < 0 ? r : 0;
}

void gp_grub_done(gp_grub *g)
{
    for (size_t i = 0; i < g->n_files; i++) {
        free(g->files[i].display);
        free(g->files[i].buf);
        free(g->files[i].lines);
    }
    free(g->files);
    for (size_t i = 0; i < g->n_a; i++) {
        free(g->a[i].name);
        str_free(&g->a[i].value);
        str_free(&g->a[i].literal);
    }
    free(g->a);
    free(g->issues);
    *g = (gp_grub){ 0 };
}

const gp_grub_assign *gp_grub_get(const gp_grub *g, const char *name)
{
    return grub_lookup(g, name, strlen(name));
}

static int load_one(const gp_host *h, gp_grub *g, const char *path)
{
    _cleanup_free_ char *buf = NULL, *display = NULL;
    size_t len = 0;
    int r;

    r = gp_host_read_file(h, path, CMDLINE_FILE_MAX, &buf, &len);
    if (r < 0)
        return r;
    if (asprintf(&display, "/%s", path) < 0)
        return -ENOMEM;
    return gp_grub_parse(g, display, buf, len);
}

int gp_grub_load(const gp_host *h, gp_grub *g)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    bool any = false;
    int r;

    /* grub-mkconfig: ". /etc/default/grub", then each /etc/default/grub.d/ *.cfg
     * in glob order */
    r = load_one(h, g, "etc/default/grub");
    if (r == -ENOMEM)
        return r;
    any = r >= 0;
    if (gp_host_list_dir(h, "etc/default/grub.d", &names, &n) >= 0) {
        for (size_t i = 0; i < n; i++) {
            _cleanup_free_ char *path = NULL;

            if (!gp_endswith(names[i], ".cfg"))
                continue;
            if (asprintf(&path, "etc/default/grub.d/%s", names[i]) < 0)
                return -ENOMEM;
            r = load_one(h, g, path);
            if (r == -ENOMEM)
                return r;
            any = any || r >= 0;
        }
    }
    return any ? 0 : -ENOENT;
}

/* Splits a string with origins, each word taking the file and line of its
 * first byte. */
static int split_origins(gp_cmdline *c, const gp_grub *g, const gp_grub_str *s)
{
    _cleanup_free_ size_t *offs = NULL;
    size_t first = c->n;
    int r;

    if (!s->n)
        return 0;
    r = split_words(c, s->s, s->n, &offs);
    if (r < 0)
        return r;
    for (size_t i = first; i < c->n; i++) {
        const gp_grub_origin *o = &s->o[offs[i - first]];

        if (o->file < g->n_files) {
            c->v[i].file = g->files[o->file].display;
            c->v[i].line = o->line;
            c->v[i].line_text = gp_grub_line(g, o->file, o->line, &c->v[i].line_len);
        }
    }
    return 0;
}

int gp_grub_cmdline(const gp_grub *g, gp_cmdline *ret)
{
    static const char *const vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };

    for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
        const gp_grub_assign *a = gp_grub_get(g, vars[i]);
        int r;

        if (a && (r = split_origins(ret, g, &a->value)) < 0)
            return r;
    }
    return 0;
}

/* ---- fixes ------------------------------------------------------------- */

typedef struct text {
    char *s;
    size_t n, cap;
    bool oom;
} text;

static void text_add(text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 128;
        char *v;

        while (cap < t->n + n + 1)
            cap *= 2;
        v = realloc(t->s, cap);
        if (!v) {
            t->oom = true;
            return;
        }
        t->s = v;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}

static void text_puts(text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

static void text_printf(text *t, const char *fmt, ...) _printf_(2, 3);
static void text_printf(text *t, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) {
        t->oom = true;
        return;
    }
    text_add(t, s, (size_t)r);
    free(s);
}

static char *text_take(text *t)
{
    if (t->oom || !t->s) {
        free(t->s);
        return t->oom ? NULL : strdup("");
    }
    return t->s;
}

/* Does the word written as raw (name as parsed) fall to the edit? */
static bool edit_removes(const gp_cmdline_edit *e, const gp_cmdline_param *p)
{
    if (e->remove)
        for (const char *const *r = e->remove; *r; r++)
            if (gp_cmdline_name_eq(p->name, *r))
                return true;
    if (e->drop)
        for (const char *const *d = e->drop; *d; d++)
            if (strcmp(p->raw, *d) == 0)
                return true;
    return false;
}

static bool edit_replaces(const gp_cmdline_edit *e, const gp_cmdline_param *p)
{
    return e->replace_old && strcmp(p->raw, e->replace_old) == 0;
}

/* Whether word (as written) is already among c's parameters. */
static bool cmdline_has_word(const gp_cmdline *c, const char *word, const gp_cmdline_edit *e)
{
    gp_cmdline w = { 0 };
    bool found = false;

    if (gp_cmdline_split(&w, word, strlen(word)) < 0 || w.n != 1) {
        gp_cmdline_done(&w);
        return false;
    }
    for (size_t i = 0; i < c->n && !found; i++)
        if (gp_cmdline_param_eq(&c->v[i], &w.v[0]) && !edit_removes(e, &c->v[i]) && !edit_replaces(e, &c->v[i]))
            found = true;
    if (!found && e->replace_new && strcmp(e->replace_new, word) == 0)
        found = true;
    gp_cmdline_done(&w);
    return found;
}

/* A word of a GRUB literal, escaped for double quotes except where it holds
 * a $ref or `cmd` that must keep working. */
static void emit_dq(text *t, const gp_grub_str *lit, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        char c = lit->s[i];

        if (!lit->o[i].verbatim && strchr("\"\\`$", c))
            text_add(t, "\\", 1);
        text_add(t, &c, 1);
    }
}

static void emit_plain_dq(text *t, const char *s)
{
    for (; *s; s++) {
        if (strchr("\"\\`$", *s))
            text_add(t, "\\", 1);
        text_add(t, s, 1);
    }
}

/* The assignment as it must read after the edit. changed: whether anything differs. */
static int grub_rewrite(const gp_grub_assign *a, const gp_cmdline_edit *e, const char *const *append, text *t,
                        bool *changed)
{
    gp_cmdline words = { 0 };
    _cleanup_free_ size_t *offs = NULL;
    bool single = a->quote == '\'', first = true;
    int r;

    *changed = false;
    assert(a->literal.s || a->literal.n == 0); /* an empty gp_grub_str has no buffer yet */
    r = split_words(&words, a->literal.s ? a->literal.s : "", a->literal.n, &offs);
    if (r < 0) {
        gp_cmdline_done(&words);
        return r;
    }
    /* single quotes only where nothing needs expanding or contains a quote */
    for (size_t i = 0; i < a->literal.n && single; i++)
        if (a->literal.o[i].verbatim || a->literal.s[i] == '\'')
            single = false;
    if (append)
        for (const char *const *p = append; *p && single; p++)
            if (strchr(*p, '\''))
                single = false;

    if (a->exported)
        text_puts(t, "export ");
    text_printf(t, "%s=%c", a->name, single ? '\'' : '"');
    for (size_t i = 0; i < words.n; i++) {
        const gp_cmdline_param *p = &words.v[i];
        size_t from = offs[i], to = from + strlen(p->raw);

        assert(to <= a->literal.n); /* the words were split from the literal */
        if (edit_removes(e, p)) {
            *changed = true;
            continue;
        }
        if (!first)
            text_add(t, " ", 1);
        if (edit_replaces(e, p)) {
            *changed = true;
            if (!e->replace_new || !*e->replace_new) {
                /* undo the blank */
                if (!first)
                    t->n--, t->s[t->n] = '\0';
                continue;
            }
            if (single)
                text_puts(t, e->replace_new);
            else
                emit_plain_dq(t, e->replace_new);
        } else if (single)
            text_add(t, a->literal.s + from, to - from);
        else
            emit_dq(t, &a->literal, from, to);
        first = false;
    }
    if (append)
        for (const char *const *p = append; *p; p++) {
            if (!first)
                text_add(t, " ", 1);
            if (single)
                text_puts(t, *p);
            else
                emit_plain_dq(t, *p);
            first = false;
            *changed = true;
        }
    text_add(t, single ? "'" : "\"", 1);
    gp_cmdline_done(&words);
    return t->oom ? -ENOMEM : 0;
}

static void edit_header(text *t, const char *file, unsigned line, unsigned line_end)
{
    if (line_end > line)
        text_printf(t, "edit %s lines %u-%u (replace them with this one line):\n", file, line, line_end);
    else
        text_printf(t, "edit %s line %u:\n", file, line);
}

/* Which assignments an edit rewrites: those that wrote a word the edit
 * takes off, and the last GRUB_CMDLINE_LINUX_DEFAULT for the words it adds
 * (target -1: there is none, a new line is needed). */
typedef struct grub_targets {
    bool *touch;            /* per assignment */
    const char **append;    /* words not on the line yet, NULL-terminated */
    size_t n_append;
    ssize_t target;
} grub_targets;

static void grub_targets_done(grub_targets *gt)
{
    free(gt->touch);
    free(gt->append);
}

static int grub_targets_find(const gp_grub *g, const gp_cmdline_edit *e, grub_targets *gt)
{
    gp_cmdline eff = { 0 };

    *gt = (grub_targets){ .target = -1 };
    if (gp_grub_cmdline(g, &eff) < 0)
        goto oom;
    gt->touch = calloc(g->n_a + 1, sizeof(*gt->touch));
    if (!gt->touch)
        goto oom;
    if (e->add) {
        size_t n = 0;

        while (e->add[n])
            n++;
        gt->append = calloc(n + 1, sizeof(*gt->append));
        if (!gt->append)
            goto oom;
        for (size_t i = 0; i < n; i++)
            if (!cmdline_has_word(&eff, e->add[i], e))
                gt->append[gt->n_append++] = e->add[i];
    }
    /* the assignments that wrote the words the edit takes off */
    for (size_t i = 0; i < eff.n; i++) {
        const gp_cmdline_param *p = &eff.v[i];

        if (!edit_removes(e, p) && !edit_replaces(e, p))
            continue;
        for (size_t k = 0; k < g->n_a; k++) {
            const gp_grub_assign *a = &g->a[k];

            if (p->file && strcmp(g->files[a->file].display, p->file) == 0 && p->line >= a->line &&
                p->line <= a->line_end && is_cmdline_var(a->name))
                gt->touch[k] = true;
        }
    }
    if (gt->n_append) {
        for (size_t k = 0; k < g->n_a; k++)
            if (strcmp(g->a[k].name, "GRUB_CMDLINE_LINUX_DEFAULT") == 0)
                gt->target = (ssize_t)k;
        if (gt->target >= 0)
            gt->touch[gt->target] = true;
    }
    gp_cmdline_done(&eff);
    return 0;
oom:
    gp_cmdline_done(&eff);
    grub_targets_done(gt);
    return -ENOMEM;
}

/* The line that appends words when no GRUB_CMDLINE_LINUX_DEFAULT exists. */
static void grub_new_assignment(text *t, const grub_targets *gt)
{
    text_puts(t, "GRUB_CMDLINE_LINUX_DEFAULT=\"");
    for (size_t i = 0; i < gt->n_append; i++) {
        if (i)
            text_puts(t, " ");
        emit_plain_dq(t, gt->append[i]);
    }
    text_puts(t, "\"\n");
}

char *gp_grub_fix(const gp_grub *g, const gp_cmdline_edit *e)
{
    text t = { 0 };
    grub_targets gt;
    bool any = false;

    if (grub_targets_find(g, e, &gt) < 0)
        return NULL;

    for (size_t k = 0; k < g->n_a; k++) {
        const gp_grub_assign *a = &g->a[k];
        text line = { 0 };
        bool changed;

        if (!gt.touch[k])
            continue;
        if (grub_rewrite(a, e, (ssize_t)k == gt.target ? gt.append : NULL, &line, &changed) < 0) {
            free(line.s);
            goto oom;
        }
        if (changed) {
            edit_header(&t, g->files[a->file].display, a->line, a->line_end);
            text_puts(&t, line.s);
            text_puts(&t, "\n");
            any = true;
        }
        free(line.s);
    }
    if (gt.n_append && gt.target < 0) {
        text_printf(&t, "add to %s:\n", g->n_files ? g->files[0].display : "/etc/default/grub");
        grub_new_assignment(&t, &gt);
        any = true;
    }
    if (!any)
        text_puts(&t, "no change to the GRUB files needed; ");
    text_puts(&t, "then run: update-grub && reboot");
    grub_targets_done(&gt);
    return text_take(&t);
oom:
    grub_targets_done(&gt);
    free(t.s);
    return NULL;
}

/* The words of base after the edit, joined by blanks. */
static int edit_words(const char *base, size_t len, const gp_cmdline_edit *e, bool drop_loader_words, text *t)
{
    gp_cmdline c = { 0 };
    bool first = true;
    int r;

    r = gp_cmdline_split(&c, base, len);
    if (r < 0) {
        gp_cmdline_done(&c);
        return r;
    }
    for (size_t i = 0; i < c.n; i++) {
        const gp_cmdline_param *p = &c.v[i];
        const char *w = p->raw;

        /* the loader adds these itself (systemd-boot: initrd=, GRUB: BOOT_IMAGE=) */
        if (drop_loader_words && (strcmp(p->name, "initrd") == 0 || strcmp(p->name, "BOOT_IMAGE") == 0))
            continue;
        if (edit_removes(e, p))
            continue;
        if (edit_replaces(e, p)) {
            w = e->replace_new;
            if (!w || !*w)
                continue;
        }
        if (!first)
            text_puts(t, " ");
        text_puts(t, w);
        first = false;
    }
    if (e->add)
        for (const char *const *a = e->add; *a; a++)
            if (!cmdline_has_word(&c, *a, e)) {
                if (!first)
                    text_puts(t, " ");
                text_puts(t, *a);
                first = false;
            }
    gp_cmdline_done(&c);
    return t->oom ? -ENOMEM : 0;
}

char *gp_kernel_cmdline_fix(const char *display, const char *buf, size_t len, const char *base,
                            const gp_cmdline_edit *e)
{
    text t = { 0 };

    if (buf) {
        /* proxmox-boot-tool reads the first line only */
        const char *nl = memchr(buf, '\n', len);

        text_printf(&t, "edit %s line 1:\n", display);
        if (edit_words(buf, nl ? (size_t)(nl - buf) : len, e, false, &t) < 0)
            goto oom;
    } else {
        text_printf(&t, "create %s with this one line:\n", display);
        if (edit_words(base ? base : "", base ? strlen(base) : 0, e, true, &t) < 0)
            goto oom;
    }
    text_puts(&t, "\nthen run: proxmox-boot-tool refresh && reboot");
    return text_take(&t);
oom:
    free(t.s);
    return NULL;
}

/* No file to edit: say what to change. */
static char *generic_fix(const gp_cmdline_edit *e)
{
    text t = { 0 };

    text_puts(&t, "in the kernel command line your boot loader uses (GRUB: GRUB_CMDLINE_LINUX_DEFAULT in "
                  "/etc/default/grub; systemd-boot: /etc/kernel/cmdline):\n");
    if (e->replace_old)
        text_printf(&t, e->replace_new && *e->replace_new ? "replace %s with %s\n" : "remove %s\n",
                    e->replace_old, e->replace_new ? e->replace_new : "");
    if (e->remove)
        for (const char *const *r = e->remove; *r; r++)
            text_printf(&t, "remove %s=...\n", *r);
    if (e->drop)
        for (const char *const *d = e->drop; *d; d++)
            text_printf(&t, "remove %s\n", *d);
    if (e->add)
        for (const char *const *a = e->add; *a; a++)
            text_printf(&t, "add %s\n", *a);
    text_puts(&t, "then run: update-grub (GRUB) or proxmox-boot-tool refresh (systemd-boot), and reboot");
    return text_take(&t);
}

char *gp_cmdline_fix_edit(const gp_host *h, const gp_bootcfg *b, const gp_cmdline_edit *e)
{
    if (b->loader == GP_BOOT_SYSTEMD_BOOT) {
        _cleanup_free_ char *buf = NULL, *proc = NULL;
        size_t len = 0;
        int r = gp_host_read_file(h, "etc/kernel/cmdline", CMDLINE_FILE_MAX, &buf, &len);

        if (r == -ENOMEM)
            return NULL;
        if (r < 0) {
            /* zz-proxmox-boot falls back to /proc/cmdline without the file */
            (void)gp_host_read_attr(h, "proc/cmdline", &proc);
            return gp_kernel_cmdline_fix("/etc/kernel/cmdline", NULL, 0, proc, e);
        }
        return gp_kernel_cmdline_fix("/etc/kernel/cmdline", buf, len, NULL, e);
    }
    if (b->loader == GP_BOOT_GRUB || gp_host_exists(h, "etc/default/grub")) {
        gp_grub g = { 0 };
        char *s;
        int r = gp_grub_load(h, &g);

        if (r == -ENOMEM) {
            gp_grub_done(&g);
            return NULL;
        }
        s = gp_grub_fix(&g, e);
        gp_grub_done(&g);
        return s;
    }
    return generic_fix(e);
}

char *gp_cmdline_fix(const gp_host *h, const gp_bootcfg *b, const char *const *add, const char *const *remove)
{
    gp_cmdline_edit e = { .add = add, .remove = remove };

    return gp_cmdline_fix_edit(h, b, &e);
}

char *gp_cmdline_generic_fix(const void *data, const gp_cmdline_edit *e)
{
    return generic_fix(e);
}

/* ---- the same edits as new file contents, for a plan ------------------- */

/* A GRUB file whose syntax the shell would reject, or that holds binary
 * bytes, is not rewritten: what it means is not known. */
static int grub_refuse(const gp_grub *g, gp_error *err)
{
    for (size_t i = 0; i < g->n_issues; i++) {
        const gp_grub_issue *is = &g->issues[i];

        if (is->kind == GP_GRUB_SYNTAX || is->kind == GP_GRUB_BINARY)
            return gp_error_set(err, -EINVAL, "%s line %u: %s; fix the file first (`gpupass lint %s` shows how), "
                                "gpupass does not rewrite a file it cannot parse", g->files[is->file].display,
                                is->line, is->detail, g->files[is->file].display);
    }
    return 0;
}

static int grub_plan(const gp_host *h, const gp_cmdline_edit *e, gp_plan *plan, gp_error *err)
{
    gp_grub g = { 0 };
    grub_targets gt = { .target = -1 };
    int r, changed = 0;

    r = gp_grub_load(h, &g);
    if (r < 0 && r != -ENOENT)
        goto out;
    r = grub_refuse(&g, err);
    if (r < 0)
        goto out;
    r = grub_targets_find(&g, e, &gt);
    if (r < 0)
        goto out;
    for (size_t fi = 0; fi < g.n_files; fi++) {
        const gp_grub_file *f = &g.files[fi];
        text t = { 0 };
        size_t ln = 0;
        bool any = false;

        while (ln < f->n_lines) {
            const gp_grub_assign *a = NULL;
            size_t k;

            for (k = 0; k < g.n_a; k++)
                if (gt.touch[k] && g.a[k].file == fi && g.a[k].line == ln + 1) {
                    a = &g.a[k];
                    break;
                }
            if (a) {
                text line = { 0 };
                bool ch;

                r = grub_rewrite(a, e, (ssize_t)k == gt.target ? gt.append : NULL, &line, &ch);
                if (r >= 0 && ch) {
                    text_puts(&t, line.s);
                    text_puts(&t, "\n");
                    any = true;
                    ln = a->line_end;
                    free(line.s);
                    continue;
                }
                free(line.s);
                if (r < 0) {
                    free(t.s);
                    goto out;
                }
            }
            {
                size_t from = f->lines[ln], to = ln + 1 < f->n_lines ? f->lines[ln + 1] : f->len;

                text_add(&t, f->buf + from, to - from);
            }
            ln++;
        }
        if (fi == 0 && gt.n_append && gt.target < 0) {
            if (t.n && t.s[t.n - 1] != '\n')
                text_puts(&t, "\n");
            grub_new_assignment(&t, &gt);
            any = true;
        }
        if (t.oom) {
            free(t.s);
            r = -ENOMEM;
            goto out;
        }
        if (any) {
            r = gp_plan_set_file(plan, h, f->display + 1, t.s ? t.s : "", t.n, 0644,
                                 "kernel command line for GRUB", err);
            if (r > 0)
                changed = 1;
        }
        free(t.s);
        if (r < 0)
            goto out;
    }
    if (g.n_files == 0 && gt.n_append) {
        text t = { 0 };

        grub_new_assignment(&t, &gt);
        r = t.oom ? -ENOMEM : gp_plan_set_file(plan, h, "etc/default/grub", t.s, t.n, 0644,
                                               "kernel command line for GRUB", err);
        free(t.s);
        if (r < 0)
            goto out;
        changed = r > 0;
    }
    if (changed) {
        static const char *const update_grub[] = { "update-grub", NULL };

        r = gp_plan_add_cmd(plan, "regenerate /boot/grub/grub.cfg from /etc/default/grub", update_grub);
        if (r < 0)
            goto out;
    }
    r = changed;
out:
    grub_targets_done(&gt);
    gp_grub_done(&g);
    return r;
}

static int kernel_cmdline_plan(const gp_host *h, const gp_cmdline_edit *e, gp_plan *plan, gp_error *err)
{
    static const char *const refresh[] = { "proxmox-boot-tool", "refresh", NULL };
    _cleanup_free_ char *buf = NULL, *proc = NULL;
    gp_cmdline check = { 0 };
    size_t len = 0, first;
    bool has_root;
    text t = { 0 };
    int r;

    r = gp_host_read_file(h, "etc/kernel/cmdline", CMDLINE_FILE_MAX, &buf, &len);
    if (r == -ENOMEM)
        return r;
    if (r >= 0 && memchr(buf, '\0', len))
        return gp_error_set(err, -EINVAL, "/etc/kernel/cmdline holds binary bytes; restore it (one line, with "
                            "root=) before running setup again");
    if (r < 0) {
        /* zz-proxmox-boot falls back to /proc/cmdline without the file */
        (void)gp_host_read_attr(h, "proc/cmdline", &proc);
        r = edit_words(proc ? proc : "", proc ? strlen(proc) : 0, e, true, &t);
        first = 0;
    } else {
        const char *nl = memchr(buf, '\n', len);

        first = nl ? (size_t)(nl - buf) : len;
        r = edit_words(buf, first, e, false, &t);
    }
    if (r < 0 || t.oom) {
        free(t.s);
        return -ENOMEM;
    }
    /* proxmox-boot-tool refresh stops without root= on the first line */
    r = gp_cmdline_split(&check, t.s ? t.s : "", t.n);
    has_root = r >= 0 && gp_cmdline_get(&check, "root") != NULL;
    gp_cmdline_done(&check);
    if (!has_root) {
        free(t.s);
        return gp_error_set(err, -EINVAL, "/etc/kernel/cmdline: %s no root= parameter, and proxmox-boot-tool "
                            "refresh refuses such a file; put the whole command line, with root=, on its first "
                            "line first", buf ? "the first line has" : "the file is missing and /proc/cmdline has");
    }
    text_puts(&t, "\n");
    if (buf && first < len)
        text_add(&t, buf + first + 1, len - first - 1);
    if (t.oom) {
        free(t.s);
        return -ENOMEM;
    }
    r = gp_plan_set_file(plan, h, "etc/kernel/cmdline", t.s, t.n, 0644, "kernel command line for systemd-boot",
                         err);
    free(t.s);
    if (r > 0 && gp_plan_add_cmd(plan, "write the command line into every ESP's boot entries", refresh) < 0)
        return -ENOMEM;
    return r;
}

int gp_cmdline_plan(const gp_host *h, const gp_bootcfg *b, const gp_cmdline_edit *e, gp_plan *plan, gp_error *err)
{
    if (b->loader == GP_BOOT_SYSTEMD_BOOT)
        return kernel_cmdline_plan(h, e, plan, err);
    if (b->loader == GP_BOOT_GRUB)
        return grub_plan(h, e, plan, err);
    return gp_error_set(err, -ENOPKG, "cannot tell which boot loader starts this host (no "
                        "/etc/kernel/proxmox-boot-uuids, no /etc/default/grub); `proxmox-boot-tool status` says");
}
