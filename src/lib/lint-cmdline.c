/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rules for kernel command lines, wherever they are written: the GRUB
 * defaults, /etc/kernel/cmdline, /proc/cmdline. check-cmdline.c runs the same
 * rules over the host's own files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strdist.h"
#include "check.h"
#include "cmdline.h"
#include "fileio.h"
#include "lint.h"

/* x86 COMMAND_LINE_SIZE (arch/x86/include/asm/setup.h): the boot code cuts
 * the line there. */
#define KERNEL_CMDLINE_MAX 2048
/* More words than fit in COMMAND_LINE_SIZE are not judged one by one: the
 * too-long finding covers them, and garbage input stays fast. */
#define JUDGE_WORDS_MAX 1024
/* ...and a line of garbage gives a readable report, not thousands of findings. */
#define JUDGE_FINDINGS_MAX 64

#define SUBJ "kernel command line"

static void add_evidence(gp_findings *out, gp_finding *f, const gp_cmdline_param *p)
{
    if (p->line_text)
        gp_finding_add_text(out, f, p->file, p->line, p->line_text, p->line_len);
    else
        gp_finding_add_line(out, f, p->file, p->line, p->raw);
}

static void set_fix(const gp_cmdline_judge *j, gp_findings *out, gp_finding *f, const gp_cmdline_edit *e,
                    const char *before)
{
    char *s;

    if (!f)
        return;
    s = j->fix(j->fix_data, e);
    if (!s) {
        out->oom = true;
        return;
    }
    gp_finding_set_fix(out, f, "%s%s", before ? before : "", s);
    free(s);
}

static gp_finding *param_finding(const gp_cmdline_judge *j, gp_findings *out, const gp_cmdline_param *p,
                                 const char *id, gp_severity sev, const char *fmt, ...) _printf_(6, 7);
static gp_finding *param_finding(const gp_cmdline_judge *j, gp_findings *out, const gp_cmdline_param *p,
                                 const char *id, gp_severity sev, const char *fmt, ...)
{
    gp_finding *f;
    va_list ap;

    va_start(ap, fmt);
    f = gp_findings_addv(out, j->layer, id, sev, SUBJ, fmt, ap);
    va_end(ap);
    if (f)
        add_evidence(out, f, p);
    return f;
}

/* Removes p from the line. */
static void fix_remove(const gp_cmdline_judge *j, gp_findings *out, gp_finding *f, const gp_cmdline_param *p)
{
    gp_cmdline_edit e = { .replace_old = p->raw, .replace_new = "" };

    set_fix(j, out, f, &e, NULL);
}

static void fix_replace(const gp_cmdline_judge *j, gp_findings *out, gp_finding *f, const gp_cmdline_param *p,
                        const char *word)
{
    gp_cmdline_edit e = { .replace_old = p->raw, .replace_new = word };

    set_fix(j, out, f, &e, NULL);
}

/* "name=" followed by the value words the kernel takes (bad ones replaced by
 * a valid word within one edit, else dropped); "" when none is left. */
static char *valid_words(const char *name, const char *value)
{
    static const char *const candidates[] = { "on", "off", "pt", "nopt", "igfx_off", "sm_on", "sm_off",
                                              "strict", "force", "soft", "downstream", "multifunction",
                                              "fullflush", "force_enable", "force_isolation", NULL };
    size_t cap = strlen(name) + strlen(value) + 32, n;
    char *s = malloc(cap);
    bool any = false;

    if (!s)
        return NULL;
    n = (size_t)snprintf(s, cap, "%s=", name);
    for (const char *w = value; *w;) {
        size_t k = strcspn(w, ",");
        char word[128], bad[8];
        const char *use = NULL;

        if (k && k < sizeof(word)) {
            char probe[192];

            memcpy(word, w, k);
            word[k] = '\0';
            snprintf(probe, sizeof(probe), "%s", word);
            if (gp_cmdline_value_valid(name, probe, bad, sizeof(bad)))
                use = word;
            else
                for (size_t c = 0; candidates[c] && !use; c++)
                    if (gp_name_distance(word, candidates[c], 1) <= 1 &&
                        gp_cmdline_value_valid(name, candidates[c], bad, sizeof(bad)))
                        use = candidates[c];
        }
        if (use && n + strlen(use) + 2 < cap) {
            n += (size_t)snprintf(s + n, cap - n, "%s%s", any ? "," : "", use);
            any = true;
        }
        w += k;
        if (*w == ',')
            w++;
    }
    if (!any)
        s[0] = '\0';
    return s;
}

static void invalid_value(const gp_cmdline_judge *j, gp_findings *out, const gp_cmdline_param *p, const char *bad,
                          const char *why)
{
    _cleanup_free_ char *good = valid_words(p->name, p->value ? p->value : "");
    gp_finding *f = param_finding(j, out, p, "cmdline.invalid-value", GP_SEV_WARN,
                                  "%s: '%s' is not a value %s accepts%s%s", p->raw, bad, p->name, why ? "; " : "",
                                  why ? why : "");

    if (!good) {
        out->oom = true;
        return;
    }
    fix_replace(j, out, f, p, good);
}

static bool cmdline_blacklists_sysfb(const gp_cmdline *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (gp_cmdline_name_eq(c->v[i].name, "initcall_blacklist") &&
            gp_cmdline_value_has_word(c->v[i].value, "sysfb_init"))
            return true;
    return false;
}

static void judge_vfio_ids(const gp_cmdline_judge *j, const gp_cmdline_param *p, gp_findings *out)
{
    const char *v = p->value ? p->value : "";
    char *good, *bad;
    size_t gn = 0, bn = 0, cap = strlen(v) + 2;

    good = calloc(1, cap);
    bad = calloc(1, cap);
    if (!good || !bad) {
        out->oom = true;
        goto out;
    }
    for (const char *w = v; *w;) {
        size_t k = strcspn(w, ",");

        if (k) {
            gp_vfio_id id;
            char **dst = gp_vfio_id_parse(w, k, &id) == 0 ? &good : &bad;
            size_t *dn = dst == &good ? &gn : &bn;

            if (*dn)
                (*dst)[(*dn)++] = ',';
            memcpy(*dst + *dn, w, k);
            *dn += k;
        }
        w += k;
        if (*w == ',')
            w++;
    }
    if (bn || (!gn && !bn)) {
        _cleanup_free_ char *word = NULL;
        gp_finding *f = param_finding(j, out, p, "cmdline.vfio-ids", GP_SEV_FAIL,
                                      "%s: '%s' is not vendor:device[:subvendor:subdevice[:class:mask]] in hex; "
                                      "vfio-pci logs \"invalid id string\" and binds nothing for it",
                                      p->raw, bn ? bad : "");

        if (gn && asprintf(&word, "%s=%s", p->name, good) < 0) {
            out->oom = true;
            goto out;
        }
        fix_replace(j, out, f, p, gn ? word : "");
    }
    if (!j->pci || !gn)
        goto out;

    /* with the host's devices: entries that match nothing, and entries
     * that also take a device the host drives */
    for (const char *w = good; *w;) {
        size_t k = strcspn(w, ",");
        gp_vfio_id id;
        size_t matches = 0, other = 0;

        if (gp_vfio_id_parse(w, k, &id) == 0) {
            for (size_t i = 0; i < j->pci->n; i++) {
                const gp_pci_dev *d = &j->pci->devs[i];

                if (!gp_vfio_id_match(&id, d))
                    continue;
                matches++;
                if (d->driver && strcmp(d->driver, "vfio-pci") != 0)
                    other++;
            }
            if (!matches) {
                gp_finding *f = param_finding(j, out, p, "cmdline.vfio-ids-unmatched", GP_SEV_WARN,
                                              "vfio-pci.ids entry %.*s matches no PCI device of this host",
                                              (int)k, w);

                fix_remove(j, out, f, p);
            } else if (matches > 1 && other) {
                gp_finding *f = param_finding(
                    j, out, p, "cmdline.vfio-ids-captures-host", GP_SEV_WARN,
                    "vfio-pci.ids entry %.*s matches %zu devices, %zu of them used by the host: vfio-pci takes every "
                    "device with these IDs that it sees first; bind the one for the VM by address instead",
                    (int)k, w, matches, other);
                char *fixtext = NULL;
                gp_cmdline_edit e = { .replace_old = p->raw, .replace_new = "" };
                char *edit;
                size_t fl = 0;
                FILE *m = open_memstream(&fixtext, &fl);

                if (!m) {
                    out->oom = true;
                    goto out;
                }
                fputs("apt install driverctl\n", m);
                for (size_t i = 0; i < j->pci->n; i++) {
                    const gp_pci_dev *d = &j->pci->devs[i];

                    if (!gp_vfio_id_match(&id, d))
                        continue;
                    gp_finding_add_device(out, f, d->name);
                    /* the VM's device: the one on vfio-pci, or free, never the boot VGA */
                    if ((!d->driver || strcmp(d->driver, "vfio-pci") == 0) && d->boot_vga != 1)
                        fprintf(m, "driverctl set-override %s vfio-pci\n", d->name);
                }
                fclose(m);
                edit = j->fix(j->fix_data, &e);
                if (!edit || !fixtext)
                    out->oom = true;
                else
                    gp_finding_set_fix(out, f, "%s%s", fixtext, edit);
                free(edit);
                free(fixtext);
            }
        }
        w += k;
        if (*w == ',')
            w++;
    }
out:
    free(good);
    free(bad);
}

static bool video_fb_off(const gp_cmdline_param *p)
{
    return gp_cmdline_name_eq(p->name, "video") && p->value &&
           (strstr(p->value, "efifb:off") || strstr(p->value, "vesafb:off"));
}

/* One finding for all video=efifb:off / vesafb:off words of the line. */
static void judge_video(const gp_cmdline_judge *j, const gp_cmdline *c, const gp_cmdline_param *p,
                        gp_findings *out)
{
    bool known = j->kver && gp_kver_known(j->kver);
    bool blacklisted = cmdline_blacklists_sysfb(c);
    const char **drop;
    size_t n = 0;
    gp_finding *f;

    if (!video_fb_off(p))
        return;
    for (const gp_cmdline_param *q = c->v; q < p; q++)
        if (video_fb_off(q))
            return;
    /* Since 5.15 sysfb registers the boot framebuffer as simple-framebuffer
     * (simplefb/simpledrm, CONFIG_SYSFB_SIMPLEFB on Proxmox kernels): efifb
     * and vesafb never bind, so switching them off frees nothing. */
    if (known && !gp_kver_at_least(j->kver, 5, 15))
        return;
    if (blacklisted)
        f = param_finding(j, out, p, "cmdline.obsolete", GP_SEV_INFO,
                          "%s does nothing on kernels from 5.15 on; initcall_blacklist=sysfb_init is already "
                          "there and keeps the boot framebuffer off the GPU", p->raw);
    else
        f = param_finding(j, out, p, "cmdline.obsolete", known ? GP_SEV_WARN : GP_SEV_INFO,
                          "%s %s: from kernel 5.15 on the boot framebuffer is set up by sysfb (simplefb/simpledrm), "
                          "which it does not turn off, so the GPU's BAR stays claimed; initcall_blacklist=sysfb_init "
                          "does that", p->raw, known ? "no longer works on this kernel" : "works only on kernels "
                          "before 5.15 (this kernel's version is unknown)");
    drop = calloc(c->n + 1, sizeof(*drop));
    if (!drop) {
        out->oom = true;
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        if (video_fb_off(&c->v[i]))
            drop[n++] = c->v[i].raw;
    {
        static const char *const add[] = { "initcall_blacklist=sysfb_init", NULL };
        gp_cmdline_edit e = { .drop = drop, .add = blacklisted ? NULL : add };

        set_fix(j, out, f, &e, NULL);
    }
    free(drop);
}

static void judge_intel(const gp_cmdline_judge *j, const gp_cmdline_param *p, gp_findings *out)
{
    char bad[64];
    gp_finding *f;

    if (j->cpu == GP_CPU_AMD) {
        f = param_finding(j, out, p, "cmdline.wrong-vendor", GP_SEV_WARN,
                          "%s does nothing on an AMD CPU: the Intel VT-d driver never starts there; the AMD "
                          "IOMMU is on by default", p->raw);
        fix_remove(j, out, f, p);
        return;
    }
    if (!gp_cmdline_value_valid(p->name, p->value, bad, sizeof(bad))) {
        invalid_value(j, out, p, bad, "the Intel IOMMU driver logs \"Unknown option\" and ignores it");
        return;
    }
    if (gp_cmdline_value_has_word(p->value, "off")) {
        f = param_finding(j, out, p, "cmdline.iommu-off", GP_SEV_FAIL,
                          "%s turns the Intel IOMMU off: no IOMMU groups, no passthrough", p->raw);
        fix_remove(j, out, f, p);
        return;
    }
    if (gp_cmdline_value_has_word(p->value, "on") && j->kver && gp_kver_at_least(j->kver, 6, 8)) {
        f = param_finding(j, out, p, "cmdline.redundant", GP_SEV_INFO,
                          "%s is not needed on kernel %s: from 6.8 on the Intel IOMMU is on by default "
                          "(Proxmox VE docs: needed only on kernels older than 6.8); harmless", p->raw,
                          j->kver->release[0] ? j->kver->release : ">= 6.8");
        fix_remove(j, out, f, p);
    }
}

static void judge_amd(const gp_cmdline_judge *j, const gp_cmdline_param *p, gp_findings *out)
{
    char bad[64];
    bool valid = gp_cmdline_value_valid(p->name, p->value, bad, sizeof(bad));
    gp_finding *f;

    if (j->cpu == GP_CPU_INTEL) {
        f = param_finding(j, out, p, "cmdline.wrong-vendor", GP_SEV_WARN,
                          "%s does nothing on an Intel CPU%s; the Intel IOMMU is switched by intel_iommu= "
                          "(on by default from kernel 6.8)", p->raw,
                          valid ? "" : " (and it is not a valid amd_iommu value anyway)");
        fix_remove(j, out, f, p);
        return;
    }
    if (!valid) {
        invalid_value(j, out, p, bad,
                      "the AMD driver logs \"AMD-Vi: Unknown option\" and ignores it; the AMD IOMMU is on by "
                      "default (only amd_iommu=off would change that)");
        return;
    }
    if (gp_cmdline_value_has_word(p->value, "off")) {
        f = param_finding(j, out, p, "cmdline.iommu-off", GP_SEV_FAIL,
                          "%s turns the AMD IOMMU off: no IOMMU groups, no passthrough", p->raw);
        fix_remove(j, out, f, p);
    }
}

static void judge_iommu(const gp_cmdline_judge *j, const gp_cmdline_param *p, gp_findings *out)
{
    char bad[64];
    gp_finding *f;

    if (!gp_cmdline_value_valid(p->name, p->value, bad, sizeof(bad))) {
        invalid_value(j, out, p, bad, "arch/x86 iommu_setup() skips words it does not know");
        return;
    }
    if (gp_cmdline_value_has_word(p->value, "off")) {
        f = param_finding(j, out, p, "cmdline.iommu-off", GP_SEV_FAIL,
                          "%s sets no_iommu: the Intel and AMD IOMMU drivers do not start, no passthrough",
                          p->raw);
        fix_remove(j, out, f, p);
        return;
    }
    if (gp_cmdline_value_has_word(p->value, "pt"))
        gp_findings_add(out, j->layer, "cmdline.iommu-pt", GP_SEV_PASS, SUBJ,
                        "%s: devices the host keeps use identity mapping (optional, for performance)", p->raw);
}

static bool non_printable(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c >= 0x7f)
            return true;
    }
    return false;
}

static void judge_one(const gp_cmdline_judge *j, const gp_cmdline *c, const gp_cmdline_param *p, gp_findings *out,
                      bool *nonprint_seen)
{
    const char *typo;
    char bad[64];
    gp_finding *f;

    if (p->unbalanced) {
        _cleanup_free_ char *word = strdup(p->raw);
        size_t k = 0;

        if (!word) {
            out->oom = true;
            return;
        }
        for (size_t i = 0; word[i]; i++)
            if (word[i] != '"')
                word[k++] = word[i];
        word[k] = '\0';
        f = param_finding(j, out, p, "cmdline.quote", GP_SEV_FAIL,
                          "unbalanced '\"' in %.60s: the kernel takes everything after it, to the end of the "
                          "line, as one parameter", p->raw);
        fix_replace(j, out, f, p, word);
        return;
    }
    if (p->name[0] == '=') {
        f = param_finding(j, out, p, "cmdline.empty-name", GP_SEV_WARN,
                          "'%.60s' has no name before '=': the kernel hands it to init, which ignores it", p->raw);
        fix_remove(j, out, f, p);
        return;
    }
    if (non_printable(p->raw)) {
        _cleanup_free_ char *word = strdup(p->raw);
        size_t k = 0;

        if (*nonprint_seen)
            return;
        *nonprint_seen = true;
        if (!word) {
            out->oom = true;
            return;
        }
        for (size_t i = 0; word[i]; i++)
            if ((unsigned char)word[i] >= 0x20 && (unsigned char)word[i] < 0x7f)
                word[k++] = word[i];
        word[k] = '\0';
        f = param_finding(j, out, p, "cmdline.non-printable", GP_SEV_WARN,
                          "a parameter holds control or non-ASCII bytes (pasted from a web page?): the kernel "
                          "compares names byte by byte, so it does not recognize it");
        fix_replace(j, out, f, p, word);
        return;
    }
    if (!gp_cmdline_param_known(p->name)) {
        typo = gp_cmdline_typo(p->name);
        if (typo) {
            _cleanup_free_ char *word = NULL;
            const char *eq = strchr(p->raw, '=');

            if (asprintf(&word, "%s%s", typo, eq ? eq : "") < 0) {
                out->oom = true;
                return;
            }
            f = param_finding(j, out, p, "cmdline.typo", GP_SEV_FAIL,
                              "'%s' is not a kernel parameter: did you mean '%s'? The kernel hands unknown "
                              "names to init, which ignores them", p->name, typo);
            fix_replace(j, out, f, p, word);
        }
        return;
    }

    if (gp_cmdline_name_eq(p->name, "intel_iommu"))
        judge_intel(j, p, out);
    else if (gp_cmdline_name_eq(p->name, "amd_iommu"))
        judge_amd(j, p, out);
    else if (gp_cmdline_name_eq(p->name, "iommu"))
        judge_iommu(j, p, out);
    else if (gp_cmdline_name_eq(p->name, "vfio_pci.ids"))
        judge_vfio_ids(j, p, out);
    else if (gp_cmdline_name_eq(p->name, "video"))
        judge_video(j, c, p, out);
    else if (gp_cmdline_name_eq(p->name, "pcie_acs_override")) {
        if (!gp_cmdline_value_valid(p->name, p->value, bad, sizeof(bad)))
            invalid_value(j, out, p, bad, "the override knows downstream, multifunction and id:vvvv:dddd");
        f = param_finding(j, out, p, "cmdline.acs-override", GP_SEV_WARN,
                          "%s splits IOMMU groups by pretending devices have ACS isolation they lack: devices "
                          "in the split groups can still reach each other by DMA (peer-to-peer), so a VM's GPU "
                          "may read or write host devices' memory; a security trade-off (Proxmox kernel patch)",
                          p->raw);
        if (f) {
            gp_cmdline_edit e = { .replace_old = p->raw, .replace_new = "" };

            set_fix(j, out, f, &e,
                    "prefer a CPU-attached slot or the firmware's ACS option; to drop the override:\n");
        }
    } else if (!gp_cmdline_value_valid(p->name, p->value, bad, sizeof(bad))) {
        const char *why = NULL;

        if (strpbrk(bad, "*?["))
            why = "module names only, no wildcards";
        invalid_value(j, out, p, bad, why);
    }
}

void gp_cmdline_judge_params(const gp_cmdline_judge *j, const gp_cmdline *c, gp_findings *out)
{
    bool nonprint_seen = false;
    size_t total = 0;

    size_t before = out->n;

    for (size_t i = 0; i < c->n && i < JUDGE_WORDS_MAX && out->n - before < JUDGE_FINDINGS_MAX; i++) {
        bool repeat = false;

        /* the same word twice: judged once */
        for (size_t k = 0; k < i && !repeat; k++)
            repeat = strcmp(c->v[k].raw, c->v[i].raw) == 0;
        if (!repeat)
            judge_one(j, c, &c->v[i], out, &nonprint_seen);
    }
    for (size_t i = 0; i < c->n; i++)
        total += strlen(c->v[i].raw) + 1;
    if (total > KERNEL_CMDLINE_MAX && c->n) {
        gp_finding *f = param_finding(j, out, &c->v[0], "cmdline.too-long", GP_SEV_WARN,
                                      "the command line is %zu bytes; the x86 kernel keeps the first %d "
                                      "(COMMAND_LINE_SIZE) and drops the rest", total, KERNEL_CMDLINE_MAX);

        if (f)
            gp_finding_set_fix(out, f, "shorten the command line below %d bytes", KERNEL_CMDLINE_MAX);
    }
}

/* Close the quote at the end of the line where it belongs: the line the
 * word starts on when the value ran on into later lines (the usual case: a
 * missing closing quote pairs with the next line's opening one). */
static void fix_syntax(const gp_grub *g, const gp_grub_issue *is, gp_findings *out, gp_finding *f)
{
    unsigned at = is->word_line && is->word_line < is->line ? is->word_line : is->line;
    size_t len;
    const char *line = gp_grub_line(g, is->file, at, &len);
    const char *q = strstr(is->detail, "`");
    char quote = q ? q[1] : '"';

    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    if (len > 4096)
        len = 4096;
    gp_finding_set_fix(out, f, "close the value's %c at the end of line %u:\nedit %s line %u:\n%.*s%c\n"
                       "then run: update-grub && reboot", quote, at, g->files[is->file].display, at, (int)len,
                       line ? line : "", quote);
}

void gp_grub_judge_issues(const gp_cmdline_judge *j, const gp_grub *g, gp_findings *out)
{
    for (size_t i = 0; i < g->n_issues; i++) {
        const gp_grub_issue *is = &g->issues[i];
        const char *file = g->files[is->file].display;
        size_t len;
        const char *line = gp_grub_line(g, is->file, is->line, &len);
        gp_finding *f = NULL;

        switch (is->kind) {
        case GP_GRUB_SYNTAX:
            if (is->word_line && is->word_line < is->line) {
                size_t wlen;
                const char *wline = gp_grub_line(g, is->file, is->word_line, &wlen);

                f = gp_findings_add(out, j->layer, "grub.syntax", GP_SEV_FAIL, "GRUB defaults (shell syntax)",
                                    "update-grub will stop: %s: the quoted value that starts on line %u is not "
                                    "closed there, so the quotes pair up wrongly and the one on line %u never "
                                    "closes", is->detail, is->word_line, is->line);
                gp_finding_add_text(out, f, file, is->word_line, wline, wlen);
            } else
                f = gp_findings_add(out, j->layer, "grub.syntax", GP_SEV_FAIL, "GRUB defaults (shell syntax)",
                                    "update-grub will stop: %s (the quote opens on line %u)", is->detail,
                                    is->line);
            gp_finding_add_text(out, f, file, is->line, line, len);
            if (f)
                fix_syntax(g, is, out, f);
            break;
        case GP_GRUB_MULTILINE:
        case GP_GRUB_UNQUOTED: {
            const gp_grub_assign *a = is->assign >= 0 && (size_t)is->assign < g->n_a ? &g->a[is->assign] : NULL;

            if (is->kind == GP_GRUB_MULTILINE)
                f = gp_findings_add(out, j->layer, "grub.multiline", GP_SEV_WARN, "GRUB defaults (shell syntax)",
                                    "%s: %s; the newline goes into the linux line of grub.cfg, where it ends "
                                    "the command", a ? a->name : "value", is->detail);
            else
                f = gp_findings_add(out, j->layer, "grub.unquoted", GP_SEV_WARN, "GRUB defaults (shell syntax)",
                                    "%s is not quoted: %s", a ? a->name : "value", is->detail);
            gp_finding_add_text(out, f, file, is->line, line, len);
            if (f && a && is->kind == GP_GRUB_MULTILINE) {
                {
                    char *s = NULL;
                    size_t sl = 0;
                    FILE *m = open_memstream(&s, &sl);

                    if (!m) {
                        out->oom = true;
                        break;
                    }
                    fprintf(m, "edit %s lines %u-%u (replace them with this one line):\n%s=\"", file, a->line,
                            a->line_end, a->name);
                    for (size_t k = 0, out_n = 0; k < a->literal.n; k++) {
                        char c = a->literal.s[k];

                        /* the words, one blank between them */
                        if (c == '\n' || c == '\r' || c == '\t')
                            c = ' ';
                        if (c == ' ' && (out_n == 0 || k + 1 == a->literal.n || strchr(" \t\r\n", a->literal.s[k + 1])))
                            continue;
                        out_n++;
                        if (!a->literal.o[k].verbatim && strchr("\"\\`$", c))
                            fputc('\\', m);
                        fputc(c, m);
                    }
                    fputs("\"\nthen run: update-grub && reboot", m);
                    fclose(m);
                    if (!s)
                        out->oom = true;
                    else
                        gp_finding_set_fix(out, f, "%s", s);
                    free(s);
                }
            } else if (f && line) {
                /* quote everything after the first '=' up to a comment */
                const char *eq = memchr(line, '=', len);
                size_t start = eq ? (size_t)(eq - line) + 1 : len, end = len;

                for (size_t k = start; k < len; k++)
                    if (line[k] == '#' && (line[k - 1] == ' ' || line[k - 1] == '\t')) {
                        end = k;
                        break;
                    }
                while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r'))
                    end--;
                if (end - start > 4096)
                    end = start + 4096;
                gp_finding_set_fix(out, f, "edit %s line %u:\n%.*s\"%.*s\"\nthen run: update-grub && reboot", file,
                                   is->line, (int)(start), line, (int)(end - start), line + start);
            }
            break;
        }
        case GP_GRUB_BINARY:
            f = gp_findings_add(out, j->layer, "grub.binary", GP_SEV_FAIL, "GRUB defaults (shell syntax)",
                                "%s is not a text file (%s): the shell that update-grub runs drops or keeps such "
                                "bytes, neither is what was meant", file, is->detail);
            gp_finding_add_text(out, f, file, is->line, line, len);
            gp_finding_set_fix(out, f,
                               "grep -naP '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]' %s\n"
                               "remove those bytes (or start again from /usr/share/grub/default/grub), then run: "
                               "update-grub && reboot", file);
            break;
        }
    }
}

void gp_kernel_cmdline_judge(const gp_cmdline_judge *j, const char *display, const char *buf, size_t len,
                             const char *proc_cmdline, gp_findings *out)
{
    const char *nl = memchr(buf, '\n', len);
    size_t first_len = nl ? (size_t)(nl - buf) : len;
    gp_cmdline c = { 0 };
    bool has_root = false;

    if (gp_cmdline_split(&c, buf, first_len) < 0)
        goto oom;
    for (size_t i = 0; i < c.n; i++) {
        c.v[i].file = display;
        c.v[i].line = 1;
        c.v[i].line_text = buf;
        c.v[i].line_len = first_len;
    }
    /* zz-proxmox-boot: grep -q 'root=' on the first line, else
     * "No root= parameter in /etc/kernel/cmdline found!" and exit 1 */
    for (size_t i = 0; i + 5 <= first_len && !has_root; i++)
        has_root = memcmp(buf + i, "root=", 5) == 0;
    if (!has_root) {
        gp_finding *f = gp_findings_add(out, j->layer, "cmdline.no-root", GP_SEV_FAIL, SUBJ,
                                        "no root= on the first line of %s: proxmox-boot-tool refresh stops with "
                                        "\"No root= parameter in /etc/kernel/cmdline found!\" and the boot "
                                        "entries keep their old command line", display);
        gp_cmdline proc = { 0 };
        const char *add[3] = { NULL, NULL, NULL };
        size_t na = 0;

        gp_finding_add_text(out, f, display, 1, buf, first_len);
        if (proc_cmdline && gp_cmdline_split(&proc, proc_cmdline, strlen(proc_cmdline)) == 0) {
            const gp_cmdline_param *r = gp_cmdline_get(&proc, "root"), *b = gp_cmdline_get(&proc, "boot");

            if (r)
                add[na++] = r->raw;
            if (b)
                add[na++] = b->raw;
        }
        if (f) {
            {
                char *s = NULL;
                size_t sl = 0;
                FILE *m = open_memstream(&s, &sl);

                if (!m) {
                    out->oom = true;
                    gp_cmdline_done(&proc);
                    goto oom;
                }
                fprintf(m, "edit %s line 1:\n", display);
                if (na) {
                    for (size_t i = 0; i < na; i++)
                        fprintf(m, "%s ", add[i]);
                } else
                    fputs("root=ZFS=rpool/ROOT/pve-1 boot=zfs ", m);
                fprintf(m, "%.*s\n", (int)(first_len > 4096 ? 4096 : first_len), buf);
                if (!na)
                    fputs("(root= and boot= as in /proc/cmdline; shown: the Proxmox VE ZFS installer's)\n", m);
                fputs("then run: proxmox-boot-tool refresh && reboot", m);
                fclose(m);
                if (s)
                    gp_finding_set_fix(out, f, "%s", s);
                else
                    out->oom = true;
                free(s);
            }
        }
        gp_cmdline_done(&proc);
    }

    /* lines after the first: ignored by proxmox-boot-tool */
    if (nl) {
        gp_finding *f = NULL;
        gp_cmdline extra = { 0 };
        unsigned line = 2;

        for (const char *p = nl + 1; p < buf + len; line++) {
            const char *e = memchr(p, '\n', (size_t)(buf + len - p));
            size_t n = e ? (size_t)(e - p) : (size_t)(buf + len - p);
            bool blank = true;

            for (size_t k = 0; k < n; k++)
                if (!strchr(" \t\r", p[k]))
                    blank = false;
            if (!blank) {
                if (!f)
                    f = gp_findings_add(out, j->layer, "cmdline.extra-lines", GP_SEV_WARN, SUBJ,
                                        "%s has more than one line: proxmox-boot-tool reads only the first; "
                                        "parameters on line %u and after never reach the kernel", display, line);
                if (f && f->n_evidence < 8)
                    gp_finding_add_text(out, f, display, line, p, n);
                if (extra.n < JUDGE_WORDS_MAX && gp_cmdline_split(&extra, p, n) < 0) {
                    gp_cmdline_done(&extra);
                    goto oom;
                }
            }
            if (!e)
                break;
            p = e + 1;
        }
        if (f && extra.n) {
            const char **add = calloc(extra.n + 1, sizeof(*add));

            if (!add) {
                gp_cmdline_done(&extra);
                goto oom;
            }
            for (size_t i = 0; i < extra.n; i++)
                add[i] = extra.v[i].raw;
            {
                gp_cmdline_edit e = { .add = add };
                char *s = gp_kernel_cmdline_fix(display, buf, len, NULL, &e);

                if (s)
                    gp_finding_set_fix(out, f, "%s\n(and delete the lines after the first)", s);
                else
                    out->oom = true;
                free(s);
            }
            free(add);
        }
        gp_cmdline_done(&extra);
    }

    gp_cmdline_judge_params(j, &c, out);
    gp_cmdline_done(&c);
    return;
oom:
    gp_cmdline_done(&c);
    out->oom = true;
}

typedef struct kfix_data {
    const char *display, *buf;
    size_t len;
} kfix_data;

static char *kernel_cmdline_fix_cb(const void *data, const gp_cmdline_edit *e)
{
    const kfix_data *d = data;

    return gp_kernel_cmdline_fix(d->display, d->buf, d->len, NULL, e);
}

static char *grub_fix_cb(const void *data, const gp_cmdline_edit *e)
{
    return gp_grub_fix(data, e);
}

void gp_lint_cmdline_file(const gp_lint_ctx *ctx, const char *display, gp_file_type t, const char *buf, size_t len,
                          gp_findings *out)
{
    gp_cmdline_judge j = {
        .layer = display,
        .cpu = ctx ? ctx->cpu : GP_CPU_UNKNOWN,
        .kver = ctx ? &ctx->kver : NULL,
        .pci = ctx ? ctx->pci : NULL,
        .fix = gp_cmdline_generic_fix,
    };

    switch (t) {
    case GP_FILE_GRUB_DEFAULT: {
        gp_grub g = { 0 };
        gp_cmdline c = { 0 };

        if (gp_grub_parse(&g, display, buf, len) < 0 || gp_grub_cmdline(&g, &c) < 0) {
            out->oom = true;
        } else {
            j.fix = grub_fix_cb;
            j.fix_data = &g;
            gp_grub_judge_issues(&j, &g, out);
            gp_cmdline_judge_params(&j, &c, out);
        }
        gp_cmdline_done(&c);
        gp_grub_done(&g);
        break;
    }
    case GP_FILE_KERNEL_CMDLINE: {
        _cleanup_free_ char *proc = NULL;
        kfix_data d = { display, buf, len };

        if (ctx && ctx->h)
            (void)gp_host_read_attr(ctx->h, "proc/cmdline", &proc);
        j.fix = kernel_cmdline_fix_cb;
        j.fix_data = &d;
        gp_kernel_cmdline_judge(&j, display, buf, len, proc, out);
        break;
    }
    case GP_FILE_PROC_CMDLINE: {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl ? (size_t)(nl - buf) : len;
        gp_cmdline c = { 0 };

        if (gp_cmdline_split(&c, buf, n) < 0) {
            out->oom = true;
        } else {
            for (size_t i = 0; i < c.n; i++) {
                c.v[i].file = display;
                c.v[i].line = 1;
                c.v[i].line_text = buf;
                c.v[i].line_len = n;
            }
            gp_cmdline_judge_params(&j, &c, out);
        }
        gp_cmdline_done(&c);
        break;
    }
    default:
        break;
    }
}
