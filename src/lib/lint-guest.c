/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest linters: a VM config read the way qemu-server reads it
 * (parse_vm_config), then the hostpci checks it runs when the VM starts
 * (PCI.pm, Mapping/PCI.pm, Memory.pm), each judged against this host's
 * hardware, with the file line as evidence and the command that fixes it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "lint-guest.h"
#include "rom.h"
#include "lint-pveconf.h"
#include "propstr.h"
#include "pveconf.h"
#include "pveguest.h"
#include "pvemap.h"
#include "strdist.h"

#define NET_READ_MAX (1024u * 1024)
#define PCI_CFG_LABEL "/" GP_PVEMAP_PATH

/* ---- what PVE's schema knows (qemu-server QemuServer.pm $confdesc) ---- */

/*
 * Keys outside the numbered families. parse_vm_config drops any other key
 * with "unknown setting" and the next write loses it. Snapshot bookkeeping
 * (parent, snaptime, vmstate, runningmachine, runningcpu,
 * running-nets-host-mtu) is in $confdesc too: a hibernated VM keeps vmstate
 * and runningmachine in its main section. allow-ksm and intel-tdx are PVE 9.
 */
static const char *const plain_keys[] = {
    "acpi", "affinity", "agent", "allow-ksm", "amd-sev", "arch", "args", "audio0", "autostart", "balloon", "bios",
    "boot", "bootdisk", "cdrom", "cicustom", "cipassword", "citype", "ciupgrade", "ciuser", "cores", "cpu",
    "cpulimit", "cpuunits", "description", "efidisk0", "freeze", "hookscript", "hotplug", "hugepages",
    "intel-tdx", "ivshmem", "keephugepages", "keyboard", "kvm", "localtime", "lock", "machine", "memory", "meta",
    "migrate_downtime", "migrate_speed", "name", "nameserver", "numa", "onboot", "ostype", "parent",
    "protection", "reboot", "rng0", "running-nets-host-mtu", "runningcpu", "runningmachine", "scsihw",
    "searchdomain", "shares", "smbios1", "smp", "snapstate", "snaptime", "sockets", "spice_enhancements",
    "sshkeys", "startdate", "startup", "tablet", "tags", "template", "tdf", "tpmstate0", "vcpus", "vga",
    "vmgenid", "vmstate", "vmstatestorage", "watchdog",
};

/* Numbered families: prefix0 .. prefixMAX ($MAX_NETS, $MAX_HOSTPCI_DEVICES,
 * Drive.pm's bus limits, USB.pm's 14 ports on PVE 8+, ...). */
static const struct {
    const char *prefix;
    unsigned max;
} key_families[] = {
    { "hostpci", 15 }, { "net", 31 }, { "ipconfig", 31 }, { "scsi", 30 }, { "sata", 5 }, { "ide", 3 },
    { "virtio", 15 }, { "unused", 255 }, { "usb", 13 }, { "serial", 3 }, { "parallel", 2 }, { "numa", 7 },
    { "virtiofs", 9 },
};

/* The family of key ("hostpci" for "hostpci3"), and its number; -1 when the
 * key is no family member (plain key, or no digits). The digits must be the
 * number as PVE prints it: "hostpci03" is not hostpci3. */
static int key_family(const char *key, unsigned *ret_n)
{
    size_t alpha = strcspn(key, "0123456789");
    const char *digits = key + alpha;
    char canon[16];
    unsigned long n;

    if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 4)
        return -1;
    n = strtoul(digits, NULL, 10);
    snprintf(canon, sizeof(canon), "%lu", n);
    if (strcmp(canon, digits) != 0)
        return -1;
    for (size_t i = 0; i < ELEMENTSOF(key_families); i++)
        if (strlen(key_families[i].prefix) == alpha && strncmp(key, key_families[i].prefix, alpha) == 0) {
            *ret_n = (unsigned)n;
            return (int)i;
        }
    return -1;
}

static bool key_known(const char *key)
{
    unsigned n;
    int fam;

    for (size_t i = 0; i < ELEMENTSOF(plain_keys); i++)
        if (strcmp(key, plain_keys[i]) == 0)
            return true;
    fam = key_family(key, &n);
    return fam >= 0 && n <= key_families[fam].max;
}

/* How qemu-server names and reads VM configs, for lint-pveconf.c. */
static const gp_pvelint_kind vm_kind = {
    .prefix = "vm",
    .name = "VM",
    .id_name = "VMID",
    .label_max = 90,
    .conf = GP_PVECONF_QEMU,
    .dir = "etc/pve/qemu-server",
    .subject = "VM configs",
    .plural = "VM configs",
    .list_fix = "qm list   # the VMs of this node",
    .locate = gp_pve_vm_locate,
    .key_known = key_known,
};

/* ---- small helpers ---- */

static bool is_bridge_dev(const gp_check_ctx *ctx, int idx)
{
    return gp_pci_is_bridge(&ctx->pci->devs[idx]);
}

/* ---- the state of one VM's lint ---- */

typedef struct guest_env {
    char *node;                /* this node's name, NULL when unknown */
    gp_pvemap map;
    bool have_map;             /* pci.cfg was read and parsed */
} guest_env;

typedef struct hp_entry {
    size_t line;               /* line index in the config */
    unsigned index;            /* N of hostpciN */
    char *value;
    gp_propstr props;
    bool parsed;
    bool usable;               /* names devices on this host (checks on them make sense) */
    const char *mapping;       /* into props */
    long map_section;          /* index in env->map, or -1 */
    size_t alternatives;       /* map entries for this node */
    gp_idx_list devs;          /* the device indexes it takes */
} hp_entry;

typedef struct vm_lint {
    gp_pvelint base;           /* config, label, layer "VM <vmid>", findings */
    const guest_env *env;
    hp_entry *hp;
    size_t n_hp;
    bool running;
    bool onboot;
} vm_lint;

/* True when a later line of the main section sets the same key: PVE's
 * parser keeps the last one, so only that one is judged. */
static bool superseded(const gp_pveconf *c, size_t idx)
{
    const gp_pveconf_line *l = &c->lines[idx];

    for (size_t j = idx + 1; j < c->n_lines; j++)
        if (c->lines[j].section == 0 && c->lines[j].type == GP_PVECONF_LINE_KEY &&
            c->lines[j].key_len == l->key_len && memcmp(c->lines[j].text, l->text, l->key_len) == 0)
            return true;
    return false;
}

/* The main section's value of key (the line that wins), malloc'd in *ret;
 * 1 found, 0 absent, -ENOMEM. */
static int main_get(vm_lint *v, const char *key, char **ret, long *ret_line)
{
    long i = gp_pveconf_find(&v->base.conf, 0, key);

    *ret = NULL;
    if (ret_line)
        *ret_line = i;
    if (i < 0)
        return 0;
    *ret = gp_pveconf_line_value(&v->base.conf.lines[i]);
    return *ret ? 1 : -ENOMEM;
}

/* `qm set VMID --key 'value'` into buf. */
static void qm_set(const vm_lint *v, const char *key, const char *value, char *buf, size_t size)
{
    char word[1024];

    gp_pvelint_shell_word(value, word, sizeof(word));
    snprintf(buf, size, "qm set %s --%s %s", v->base.id_s, key, word);
}

/* The hostpci value with one property replaced (value) or removed (NULL),
 * the rest as written. Malloc'd, NULL on ENOMEM or an unparsable value. */
static char *hp_value_with(const hp_entry *e, const char *key, const char *value)
{
    gp_propstr p = { 0 };
    char *s = NULL;
    int r;

    if (gp_propstr_parse(e->value, "host", &p) < 0)
        return NULL;
    r = value ? gp_propstr_set(&p, key, value) : gp_propstr_delete(&p, key);
    if (r >= 0)
        s = gp_propstr_format(&p);
    gp_propstr_clear(&p);
    return s;
}

/* Fix text for a hostpci entry given its corrected value: the qm command
 * and the line it writes. */
static void set_hp_fix(vm_lint *v, gp_finding *f, const hp_entry *e, const char *new_value, const char *note)
{
    char key[32], cmd[1400];

    if (!new_value) {
        v->base.out->oom = true;   /* the value parsed before: only memory can fail */
        return;
    }
    snprintf(key, sizeof(key), "hostpci%u", e->index);
    qm_set(v, key, new_value, cmd, sizeof(cmd));
    gp_finding_set_fix(v->base.out, f, "%s%s%s\n# the line then reads: %s: %s", cmd, note ? "   # " : "",
                       note ? note : "", key, new_value);
}

/* ---- config syntax ---- */

static void check_duplicates(vm_lint *v)
{
    const gp_pveconf *c = &v->base.conf;

    for (size_t i = 0; i < c->n_lines; i++) {
        const gp_pveconf_line *l = &c->lines[i];
        char key[64];
        bool seen = false;
        size_t count = 1, last = i;
        gp_finding *f;

        if (l->section != 0 || l->type != GP_PVECONF_LINE_KEY)
            continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = c->lines[j].section == 0 && c->lines[j].type == GP_PVECONF_LINE_KEY &&
                   c->lines[j].key_len == l->key_len && memcmp(c->lines[j].text, l->text, l->key_len) == 0;
        if (seen)
            continue;
        for (size_t j = i + 1; j < c->n_lines; j++)
            if (c->lines[j].section == 0 && c->lines[j].type == GP_PVECONF_LINE_KEY &&
                c->lines[j].key_len == l->key_len && memcmp(c->lines[j].text, l->text, l->key_len) == 0) {
                count++;
                last = j;
            }
        if (count < 2)
            continue;
        gp_pveconf_line_key(l, key, sizeof(key));
        /* parse_vm_config assigns $conf->{$key} line by line: the last one
         * wins, the others are lost at the next write. */
        f = gp_pvelint_add(&v->base, "vm.duplicate-key", GP_SEV_WARN, "config syntax",
                           "'%s' is set %zu times; PVE keeps only the last one (line %zu) and drops the others on its "
                           "next write", key, count, last + 1);
        for (size_t j = i; j < c->n_lines; j++)
            if (gp_pveconf_line_is_key(&c->lines[j], key) && c->lines[j].section == 0)
                gp_pvelint_add_line(&v->base, f, j);
        {
            _cleanup_free_ char *val = gp_pveconf_line_value(&c->lines[last]);
            char cmd[1200];

            if (!val) {
                v->base.out->oom = true;
                return;
            }
            qm_set(v, key, val, cmd, sizeof(cmd));
            gp_finding_set_fix(v->base.out, f,
                               "%s   # PVE rewrites the file with the one line that is in force now;\n"
                               "# or delete the other '%s:' lines if the value you meant is another one", cmd, key);
        }
    }
}

/* The nearest known key to an unknown one: plain keys and family members
 * with the same number (hostpc0 -> hostpci0), within 1 edit for short keys
 * and 2 for longer ones. */
static bool key_suggest(const char *key, char *buf, size_t size)
{
    size_t alpha = strcspn(key, "0123456789");
    unsigned cap = strlen(key) <= 4 ? 1 : 2, best = cap + 1;
    const char *digits = key + alpha;
    unsigned long n = *digits ? strtoul(digits, NULL, 10) : 0;

    for (size_t i = 0; i < ELEMENTSOF(plain_keys); i++) {
        unsigned d = gp_name_distance(key, plain_keys[i], cap);

        if (d < best) {
            best = d;
            snprintf(buf, size, "%s", plain_keys[i]);
        }
    }
    for (size_t i = 0; i < ELEMENTSOF(key_families); i++) {
        char cand[64];
        unsigned d;

        if (n > key_families[i].max || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 4)
            continue;
        snprintf(cand, sizeof(cand), "%s%lu", key_families[i].prefix, n);
        d = gp_name_distance(key, cand, cap);
        if (d < best) {
            best = d;
            snprintf(buf, size, "%s", cand);
        }
    }
    return best <= cap;
}

/* A free slot of a family in the main section (hostpci16 -> the first
 * unused hostpciN), or -1. */
static long family_free_slot(vm_lint *v, int fam)
{
    for (unsigned n = 0; n <= key_families[fam].max; n++) {
        char key[64];

        snprintf(key, sizeof(key), "%s%u", key_families[fam].prefix, n);
        if (gp_pveconf_find(&v->base.conf, 0, key) < 0)
            return n;
    }
    return -1;
}

static void check_unknown_keys(vm_lint *v)
{
    for (size_t i = 0; i < v->base.conf.n_lines; i++) {
        const gp_pveconf_line *l = &v->base.conf.lines[i];
        _cleanup_free_ char *val = NULL;
        char key[64], sugg[64], cmd[1200];
        unsigned n = 0;
        int fam;
        gp_finding *f;

        if (l->section != 0 || l->type != GP_PVECONF_LINE_KEY)
            continue;
        gp_pveconf_line_key(l, key, sizeof(key));
        if (key_known(key))
            continue;
        val = gp_pveconf_line_value(l);
        if (!val) {
            v->base.out->oom = true;
            return;
        }
        fam = key_family(key, &n);
        if (fam >= 0) {
            /* Numbered beyond the family's last member: not in $confdesc. */
            long slot = family_free_slot(v, fam);

            f = gp_pvelint_add(&v->base, "vm.unknown-key", GP_SEV_WARN, "keys",
                               "'%s' is not a setting PVE knows (%s0 to %s%u); PVE ignores it and drops it on its "
                               "next write", key, key_families[fam].prefix, key_families[fam].prefix,
                               key_families[fam].max);
            gp_pvelint_add_line(&v->base, f, i);
            if (slot >= 0) {
                snprintf(sugg, sizeof(sugg), "%s%ld", key_families[fam].prefix, slot);
                qm_set(v, sugg, val, cmd, sizeof(cmd));
                gp_finding_set_fix(v->base.out, f, "%s   # a free slot\n# the line then reads: %s: %s", cmd, sugg, val);
            } else
                gp_finding_set_fix(v->base.out, f, "delete line %zu: every %s slot is taken", i + 1,
                                   key_families[fam].prefix);
            continue;
        }
        if (key_suggest(key, sugg, sizeof(sugg))) {
            f = gp_pvelint_add(&v->base, "vm.unknown-key", GP_SEV_WARN, "keys",
                               "'%s' is not a setting PVE knows (did you mean '%s'?); PVE ignores it and drops it on "
                               "its next write", key, sugg);
            gp_pvelint_add_line(&v->base, f, i);
            qm_set(v, sugg, val, cmd, sizeof(cmd));
            gp_finding_set_fix(v->base.out, f, "%s\n# the line then reads: %s: %s", cmd, sugg, val);
        } else {
            f = gp_pvelint_add(&v->base, "vm.unknown-key", GP_SEV_WARN, "keys",
                               "'%s' is not a setting PVE knows; PVE ignores it and drops it on its next write", key);
            gp_pvelint_add_line(&v->base, f, i);
            gp_finding_set_fix(v->base.out, f, "delete line %zu of %s (`qm config %s` shows what PVE reads)", i + 1,
                               v->base.label, v->base.id_s);
        }
    }
}

/* ---- hostpci ---- */

/*
 * One hostpci ID: [DOMAIN:]BUS:SLOT[.FUNC], lower-case hex (PCI.pm's
 * $PCIRE: domain 4 or more digits). *upper: valid but for upper case.
 */
static bool hp_id_valid(const char *id, bool *upper)
{
    size_t n = strlen(id), colons = 0, i = 0, run = 0;
    const char *dot = strchr(id, '.');

    *upper = false;
    for (size_t k = 0; k < n; k++)
        if (id[k] == ':')
            colons++;
    if (colons < 1 || colons > 2)
        return false;
    if (colons == 2) {
        for (run = 0; i < n && isxdigit((unsigned char)id[i]); i++, run++)
            ;
        if (run < 4 || id[i] != ':')
            return false;
        i++;
    }
    for (run = 0; i < n && isxdigit((unsigned char)id[i]); i++, run++)
        ;
    if (run != 2 || id[i] != ':')
        return false;
    i++;
    for (run = 0; i < n && isxdigit((unsigned char)id[i]); i++, run++)
        ;
    if (run != 2)
        return false;
    if (i < n) {
        if (id + i != dot || i + 2 != n || !isxdigit((unsigned char)id[i + 1]))
            return false;
    }
    for (size_t k = 0; k < n; k++)
        if (isupper((unsigned char)id[k]))
            *upper = true;
    return true;
}

static void hp_clear(hp_entry *e)
{
    free(e->value);
    gp_propstr_clear(&e->props);
    free(e->devs.v);
}

static int hp_add_devices(vm_lint *v, hp_entry *e, const char *id, bool *found)
{
    *found = false;
    if (!v->base.ctx->pci)
        return 0;
    for (size_t d = 0; d < v->base.ctx->pci->n; d++)
        if (gp_pve_id_matches(id, v->base.ctx->pci->devs[d].name)) {
            *found = true;
            if (gp_idx_list_add(&e->devs, (int)d) < 0)
                return -ENOMEM;
        }
    return 0;
}

/* host=A;B: every ID must be valid and match a device (PCI.pm
 * parse_hostpci_devices: "no PCI device found for '<id>'"). */
static int hp_check_host(vm_lint *v, hp_entry *e, const char *host)
{
    _cleanup_strv_ char **ids = NULL;
    bool all_found = true;
    gp_finding *f;

    for (const char *p = host; *p;) {
        size_t len = strcspn(p, ";");

        if (len && gp_strv_append(&ids, NULL, p, len) < 0)
            return -ENOMEM;
        p += len;
        if (*p)
            p++;
    }
    if (!ids) {
        f = gp_pvelint_add(&v->base, "vm.hostpci-invalid", GP_SEV_FAIL, "hostpci", "hostpci%u names no device",
                           e->index);
        gp_pvelint_add_line(&v->base, f, e->line);
        gp_finding_set_fix(v->base.out, f, "qm set %s --hostpci%u 0000:BB:SS   # the GPU's slot (`gpupass list`)",
                           v->base.id_s, e->index);
        return 0;
    }
    for (char **id = ids; *id; id++) {
        bool upper, found;

        if (!hp_id_valid(*id, &upper)) {
            f = gp_pvelint_add(&v->base, "vm.hostpci-invalid", GP_SEV_FAIL, "hostpci",
                               "hostpci%u: '%s' is not a PCI address PVE accepts ([DOMAIN:]BUS:SLOT[.FUNC] in hex, "
                               "e.g. 0000:01:00); the VM will not start", e->index, *id);
            gp_pvelint_add_line(&v->base, f, e->line);
            gp_finding_set_fix(v->base.out, f, "qm set %s --hostpci%u 0000:BB:SS   # the device's address from "
                                               "`gpupass list` or `lspci -D`", v->base.id_s, e->index);
            all_found = false;
            continue;
        }
        if (upper) {
            /* PCI.pm's ID pattern is [a-f0-9]: "0A:00.0" fails the schema. */
            _cleanup_free_ char *fixed = NULL, *lower = strdup(*id), *hostv = strdup(host);

            if (!lower || !hostv)
                return -ENOMEM;
            for (char *c = lower; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            for (char *c = hostv; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            f = gp_pvelint_add(&v->base, "vm.hostpci-invalid", GP_SEV_FAIL, "hostpci",
                               "hostpci%u: '%s' has upper-case hex; PVE accepts only lower case (%s), so the VM will "
                               "not start", e->index, *id, lower);
            gp_pvelint_add_line(&v->base, f, e->line);
            fixed = hp_value_with(e, "host", hostv);
            set_hp_fix(v, f, e, fixed, NULL);
            all_found = false;
            continue;
        }
        if (hp_add_devices(v, e, *id, &found) < 0)
            return -ENOMEM;
        if (!found && v->base.ctx->pci) {
            f = gp_pvelint_add(&v->base, "vm.hostpci-missing", GP_SEV_FAIL, "hostpci",
                               "hostpci%u: no PCI device found for '%s' on this host; the VM will not start "
                               "(addresses move when cards are added, removed or the firmware changes)", e->index, *id);
            gp_pvelint_add_line(&v->base, f, e->line);
            {
                _cleanup_free_ char *fixed = hp_value_with(e, "host", "<address>");
                char key[32], cmd[1400];

                snprintf(key, sizeof(key), "hostpci%u", e->index);
                qm_set(v, key, fixed ? fixed : "<address>", cmd, sizeof(cmd));
                gp_finding_set_fix(v->base.out, f, "gpupass list   # the addresses this host has; then\n%s", cmd);
            }
            all_found = false;
        }
    }
    e->usable = all_found && e->devs.n > 0;
    return 0;
}

/* The path parts of a map entry into e->devs. */
static int hp_add_path(vm_lint *v, hp_entry *e, const char *path)
{
    for (const char *p = path; p && *p;) {
        size_t len = strcspn(p, ";");
        char id[64];
        bool found;

        snprintf(id, sizeof(id), "%.*s", (int)(len < sizeof(id) ? len : sizeof(id) - 1), p);
        if (len && hp_add_devices(v, e, id, &found) < 0)
            return -ENOMEM;
        p += len;
        if (*p)
            p++;
    }
    return 0;
}

/*
 * mapping=NAME (PCI.pm parse_hostpci with Mapping/PCI.pm): no map entry for
 * this node is "PCI device mapping not found"; an entry whose hardware
 * differs is "PCI device mapping invalid (hardware probably changed)", and
 * every entry of the node is checked, not only the one that gets used.
 */
static int hp_check_mapping(vm_lint *v, hp_entry *e)
{
    const guest_env *env = v->env;
    const gp_pvemap_section *s;
    gp_finding *f;
    bool any_bad = false;

    if (!env->have_map) {
        f = gp_pvelint_add(&v->base, "vm.mapping-missing", GP_SEV_FAIL, "mapping",
                           "hostpci%u: PCI device mapping not found for '%s': there is no %s; the VM will not start",
                           e->index, e->mapping, PCI_CFG_LABEL);
        gp_pvelint_add_line(&v->base, f, e->line);
        gp_finding_set_fix(v->base.out, f, "gpupass map %s --gpu <address> --apply   # creates the mapping with this "
                                           "node's entry (Datacenter > Resource Mappings does the same)", e->mapping);
        return 0;
    }
    e->map_section = gp_pvemap_find(&env->map, e->mapping);
    if (e->map_section < 0) {
        f = gp_pvelint_add(&v->base, "vm.mapping-missing", GP_SEV_FAIL, "mapping",
                           "hostpci%u: PCI device mapping not found for '%s': %s has no such mapping; the VM will not "
                           "start", e->index, e->mapping, PCI_CFG_LABEL);
        gp_pvelint_add_line(&v->base, f, e->line);
        gp_finding_add_line(v->base.out, f, PCI_CFG_LABEL, 0, NULL);
        gp_finding_set_fix(v->base.out, f, "gpupass map %s --gpu <address> --apply   # creates the mapping with this "
                                           "node's entry", e->mapping);
        return 0;
    }
    if (!env->node)
        return 0;   /* no node name (no etc/hostname): which entries apply is unknown */
    s = &env->map.sections[e->map_section];
    for (size_t i = 0; i < s->n_entries; i++)
        if (s->entries[i].node && strcmp(s->entries[i].node, env->node) == 0)
            e->alternatives++;
    if (e->alternatives == 0) {
        f = gp_pvelint_add(&v->base, "vm.mapping-missing", GP_SEV_FAIL, "mapping",
                           "hostpci%u: PCI device mapping not found for '%s': it has no map entry for node %s; the VM "
                           "will not start on this node", e->index, e->mapping, env->node);
        gp_pvelint_add_line(&v->base, f, e->line);
        gp_finding_add_text(v->base.out, f, PCI_CFG_LABEL, (unsigned)s->header + 1, env->map.lines[s->header].text,
                            env->map.lines[s->header].len);
        gp_finding_set_fix(v->base.out, f, "gpupass map %s --gpu <address> --apply   # adds this node's entry; other "
                                           "nodes' entries stay", e->mapping);
        return 0;
    }
    f = NULL;
    for (size_t i = 0; i < s->n_entries; i++) {
        const gp_pvemap_entry *me = &s->entries[i];
        _cleanup_strv_ char **problems = NULL;
        int n;

        if (!me->node || strcmp(me->node, env->node) != 0)
            continue;
        if (!me->valid)
            n = 0;
        else if (v->base.ctx->pci) {
            n = gp_pvemap_entry_check(v->base.ctx->h, v->base.ctx->pci, s, me, &problems);
            if (n < 0)
                return n;
        } else
            n = 0;
        if (me->valid && n == 0) {
            if (hp_add_path(v, e, me->path) < 0)
                return -ENOMEM;
            continue;
        }
        if (!any_bad) {
            f = gp_pvelint_add(&v->base, "vm.mapping-invalid", GP_SEV_FAIL, "mapping",
                               "hostpci%u: PCI device mapping invalid (hardware probably changed): '%s' no longer "
                               "matches this node's hardware; the VM will not start", e->index, e->mapping);
            gp_pvelint_add_line(&v->base, f, e->line);
            gp_finding_set_fix(v->base.out, f, "gpupass map %s --gpu %.*s --apply   # rewrites this node's entry from "
                                               "the hardware (gpupass map lint shows every entry)", e->mapping,
                               me->path ? (int)strcspn(me->path, ";") : 9, me->path ? me->path : "<address>");
            any_bad = true;
        }
        if (!me->valid)
            gp_finding_add_text(v->base.out, f, PCI_CFG_LABEL, (unsigned)me->line + 1,
                                "the map line does not parse (it needs node=, path= and id=)",
                                strlen("the map line does not parse (it needs node=, path= and id=)"));
        for (char **p = problems; p && *p; p++)
            gp_finding_add_line(v->base.out, f, PCI_CFG_LABEL, (unsigned)me->line + 1, *p);
    }
    e->usable = !any_bad && e->devs.n > 0;
    return 0;
}

static int collect_hostpci(vm_lint *v)
{
    for (size_t i = 0; i < v->base.conf.n_lines; i++) {
        const gp_pveconf_line *l = &v->base.conf.lines[i];
        char key[64];
        unsigned n;
        hp_entry *e;
        const char *host;
        gp_finding *f;
        int fam, r;

        if (l->section != 0 || l->type != GP_PVECONF_LINE_KEY)
            continue;
        gp_pveconf_line_key(l, key, sizeof(key));
        fam = key_family(key, &n);
        if (fam < 0 || strcmp(key_families[fam].prefix, "hostpci") != 0 || n > key_families[fam].max ||
            superseded(&v->base.conf, i))
            continue;
        e = realloc(v->hp, (v->n_hp + 1) * sizeof(*e));
        if (!e)
            return -ENOMEM;
        v->hp = e;
        e = &v->hp[v->n_hp++];
        *e = (hp_entry){ .line = i, .index = n, .map_section = -1 };
        e->value = gp_pveconf_line_value(l);
        if (!e->value)
            return -ENOMEM;
        r = gp_propstr_parse(e->value, "host", &e->props);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            f = gp_pvelint_add(&v->base, "vm.hostpci-invalid", GP_SEV_FAIL, "hostpci",
                               "hostpci%u: not a property string PVE can read (an empty key, or two values without "
                               "\"key=\"); the VM will not start", n);
            gp_pvelint_add_line(&v->base, f, i);
            gp_finding_set_fix(v->base.out, f, "qm set %s --hostpci%u 0000:BB:SS[,pcie=1][,x-vga=1]   # or "
                                               "mapping=NAME; one bare value only, the address", v->base.id_s, n);
            continue;
        }
        e->parsed = true;
        host = gp_propstr_get(&e->props, "host");
        e->mapping = gp_propstr_get(&e->props, "mapping");
        if (host && e->mapping) {
            _cleanup_free_ char *fixed = hp_value_with(e, "mapping", NULL);

            f = gp_pvelint_add(&v->base, "vm.hostpci-invalid", GP_SEV_FAIL, "hostpci",
                               "hostpci%u: Cannot set both 'host' and 'mapping'; the VM will not start", n);
            gp_pvelint_add_line(&v->base, f, i);
            set_hp_fix(v, f, e, fixed, "or keep mapping= and drop the address");
            continue;
        }
        if (!host && !e->mapping) {
            f = gp_pvelint_add(&v->base, "vm.hostpci-invalid", GP_SEV_FAIL, "hostpci",
                               "hostpci%u: Either 'host' or 'mapping' must be set; the VM will not start", n);
            gp_pvelint_add_line(&v->base, f, i);
            gp_finding_set_fix(v->base.out, f, "qm set %s --hostpci%u 0000:BB:SS,%s   # the device's address from "
                                               "`gpupass list`, or mapping=NAME", v->base.id_s, n, e->value);
            continue;
        }
        r = host ? hp_check_host(v, e, host) : hp_check_mapping(v, e);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool vm_takes(const vm_lint *v, int dev)
{
    for (size_t i = 0; i < v->n_hp; i++)
        if (gp_idx_list_contains(&v->hp[i].devs, dev))
            return true;
    return false;
}

static const gp_gpu *gpu_of(const gp_check_ctx *ctx, int dev)
{
    for (size_t g = 0; ctx->gpus && g < ctx->gpus->n; g++)
        if (gp_idx_list_contains(&ctx->gpus->gpus[g].functions, dev))
            return &ctx->gpus->gpus[g];
    return NULL;
}

/*
 * At start PVE binds every non-bridge device of the group to vfio-pci
 * (SysFSTools pci_dev_group_bind_to_vfio): what shares the group goes to
 * the guest with the device, and the host loses it.
 */
static int check_groups(vm_lint *v, hp_entry *e)
{
    const gp_check_ctx *ctx = v->base.ctx;
    gp_idx_list shared = { 0 }, seen_gpus = { 0 };
    bool critical = false;
    gp_finding *f;
    int r = 0;

    for (size_t k = 0; k < e->devs.n && r >= 0; k++) {
        int d = e->devs.v[k];
        const gp_gpu *gpu = gpu_of(ctx, d);

        if (gpu) {
            int gi = (int)(gpu - ctx->gpus->gpus);

            if (gp_idx_list_contains(&seen_gpus, gi))
                continue;
            r = gp_idx_list_add(&seen_gpus, gi);
            if (gpu->verdict != GP_VERDICT_SHARED)
                continue;
            for (size_t s = 0; s < gpu->shared_with.n && r >= 0; s++)
                if (!vm_takes(v, gpu->shared_with.v[s]))
                    r = gp_idx_list_add(&shared, gpu->shared_with.v[s]);
            continue;
        }
        if (ctx->pci->devs[d].iommu_group < 0)
            continue;
        for (size_t o = 0; o < ctx->pci->n && r >= 0; o++)
            if ((int)o != d && ctx->pci->devs[o].iommu_group == ctx->pci->devs[d].iommu_group &&
                !is_bridge_dev(ctx, (int)o) && !vm_takes(v, (int)o))
                r = gp_idx_list_add(&shared, (int)o);
    }
    if (r < 0 || shared.n == 0)
        goto out;
    for (size_t s = 0; s < shared.n; s++)
        if (ctx->crit && gp_hostcrit_reason(ctx->crit, shared.v[s]))
            critical = true;
        else
            for (size_t g = 0; ctx->gpus && g < ctx->gpus->n; g++)
                if (gp_idx_list_contains(&ctx->gpus->gpus[g].host_critical, shared.v[s]))
                    critical = true;
    f = gp_pvelint_add(&v->base, "vm.hostpci-group", critical ? GP_SEV_FAIL : GP_SEV_WARN, "IOMMU group",
                       "hostpci%u: its IOMMU group also holds %zu other device%s; PVE binds them to vfio-pci at VM "
                       "start and the host loses them%s", e->index, shared.n, shared.n == 1 ? "" : "s",
                       critical ? ", including what the host needs to stay up" : "");
    gp_pvelint_add_line(&v->base, f, e->line);
    for (size_t s = 0; s < shared.n; s++) {
        const char *why = ctx->crit ? gp_hostcrit_reason(ctx->crit, shared.v[s]) : NULL;

        gp_finding_add_device_text(v->base.out, f, ctx->pci->devs[shared.v[s]].name, why);
    }
    gp_finding_set_fix(v->base.out, f,
                       "move the card to a slot whose IOMMU group it has alone (`gpupass list` shows the "
                       "groups), or enable ACS in the firmware setup; the kernel parameter "
                       "pcie_acs_override=downstream,multifunction is the last resort and gives up "
                       "isolation between those devices");
out:
    free(shared.v);
    free(seen_gpus.v);
    return r;
}

/*
 * A device still on its host driver is unbound by PVE at VM start; for a
 * GPU that drives the host console the console goes dark, and an unbind
 * while the host uses the device can hang. driver=keep (qemu-server 9.0.25)
 * and mediated devices stay on their host driver by design.
 */
static void check_host_driver(vm_lint *v, hp_entry *e)
{
    const gp_check_ctx *ctx = v->base.ctx;
    const gp_pci_dev *first = NULL;
    const char *drv = gp_propstr_get(&e->props, "driver");
    const gp_gpu *gpu = NULL;
    bool console = false;
    size_t n = 0;
    gp_finding *f;

    if (v->running || gp_propstr_get(&e->props, "mdev") || (drv && strcmp(drv, "keep") == 0))
        return;
    for (size_t k = 0; k < e->devs.n; k++) {
        const gp_pci_dev *d = &ctx->pci->devs[e->devs.v[k]];

        if (!d->driver || strcmp(d->driver, "vfio-pci") == 0 || gp_pci_is_bridge(d))
            continue;
        if (!first)
            first = d;
        n++;
        console = console || (d->boot_vga == 1 && gp_pci_is_gpu(d));
        if (!gpu)
            gpu = gpu_of(ctx, e->devs.v[k]);
    }
    if (!first)
        return;
    f = gp_pvelint_add(&v->base, "vm.hostpci-host-driver", GP_SEV_WARN, "host driver",
                       "hostpci%u: %s is on %s%s; PVE unbinds %s when VM %s starts%s", e->index, first->name,
                       first->driver, n > 1 ? " (and more functions on host drivers)" : "", n > 1 ? "them" : "it",
                       v->base.id_s, console ? ", and this GPU drives the host console, which goes dark" : "");
    gp_pvelint_add_line(&v->base, f, e->line);
    for (size_t k = 0; k < e->devs.n; k++) {
        const gp_pci_dev *d = &ctx->pci->devs[e->devs.v[k]];

        if (d->driver && strcmp(d->driver, "vfio-pci") != 0 && !gp_pci_is_bridge(d))
            gp_finding_add_device_text(v->base.out, f, d->name, d->driver);
    }
    if (gpu)
        gp_finding_set_fix(v->base.out, f, "gpupass setup %s   # binds it to vfio-pci at every boot; add --apply",
                           ctx->pci->devs[gpu->dev].name);
    else
        gp_finding_set_fix(v->base.out, f,
                           "echo 'options vfio-pci ids=%04x:%04x' > /etc/modprobe.d/vfio-%04x-%04x.conf "
                           "&& update-initramfs -u -k all   # binds every %04x:%04x device at boot", first->vendor_id,
                           first->device_id, first->vendor_id, first->device_id, first->vendor_id, first->device_id);
}

/* q35 for a machine type: keeps a pinned version ("pc-i440fx-8.1" ->
 * "pc-q35-8.1"), as vmplan does when it converts a VM. */
static void q35_for(const char *type, char *buf, size_t size)
{
    if (type && strncmp(type, "pc-i440fx-", 10) == 0)
        snprintf(buf, size, "pc-q35-%.40s", type + 10);
    else if (type && strncmp(type, "pc-", 3) == 0 && isdigit((unsigned char)type[3]))
        snprintf(buf, size, "pc-q35-%.40s", type + 3);
    else
        snprintf(buf, size, "q35");
}

/* A ROM the VM loads is judged as `gpupass rom info` judges it, against
 * the device it is given to: QEMU hands it to the guest firmware as is. */
static int judge_romfile(vm_lint *v, const hp_entry *e, const char *path)
{
    _cleanup_free_ char *buf = NULL;
    const gp_pci_dev *dev = NULL;
    char label[640];
    size_t len = 0;
    gp_rom rom;
    int r;

    if (gp_host_read_file(v->base.ctx->h, path, 64u * 1024 * 1024, &buf, &len) < 0)
        return 0;
    if (e->usable && e->devs.n > 0)
        dev = &v->base.ctx->pci->devs[e->devs.v[0]];
    snprintf(label, sizeof(label), "/%s", path);
    r = gp_rom_parse((const uint8_t *)buf, len, &rom);
    if (r < 0)
        return r;
    r = gp_rom_judge(&rom, label, dev, v->base.out);
    gp_rom_clear(&rom);
    return r;
}

static int check_hp_options(vm_lint *v, hp_entry *e)
{
    _cleanup_free_ char *machine = NULL, *vga = NULL;
    long machine_line = -1, vga_line = -1;
    gp_finding *f;
    int r;

    if ((r = main_get(v, "machine", &machine, &machine_line)) < 0 || (r = main_get(v, "vga", &vga, &vga_line)) < 0)
        return r;
    if (gp_pveconf_bool(gp_propstr_get(&e->props, "pcie"))) {
        gp_propstr mp = { 0 };
        const char *type = NULL;

        if (machine && gp_propstr_parse(machine, "type", &mp) == 0)
            type = gp_propstr_get(&mp, "type");
        /* Machine.pm machine_type_is_q35: the type contains "q35". */
        if (!type || !strstr(type, "q35")) {
            char q35[64];
            _cleanup_free_ char *nopcie = hp_value_with(e, "pcie", NULL);

            q35_for(type, q35, sizeof(q35));
            f = gp_pvelint_add(&v->base, "vm.pcie-without-q35", GP_SEV_FAIL, "machine type",
                               "hostpci%u has pcie=1 but the machine type is %s: q35 machine model is not enabled, so "
                               "the VM will not start", e->index, type ? type : "the default i440fx");
            gp_pvelint_add_line(&v->base, f, e->line);
            if (machine_line >= 0)
                gp_pvelint_add_line(&v->base, f, (size_t)machine_line);
            if (!mp.n || mp.n == 1) {
                char key[32], cmd[1400] = "";

                snprintf(key, sizeof(key), "hostpci%u", e->index);
                if (nopcie)
                    qm_set(v, key, nopcie, cmd, sizeof(cmd));
                gp_finding_set_fix(v->base.out, f, "qm set %s --machine %s   # the guest sees a new chipset once%s%s",
                                   v->base.id_s, q35, nopcie ? "\n# or keep the machine and drop pcie=1: " : "", cmd);
            }
            else {
                _cleanup_free_ char *mv = NULL;
                char cmd[1200];

                if (gp_propstr_set(&mp, "type", q35) < 0 || !(mv = gp_propstr_format(&mp)))
                    v->base.out->oom = true;
                if (mv) {
                    qm_set(v, "machine", mv, cmd, sizeof(cmd));
                    gp_finding_set_fix(v->base.out, f, "%s   # the guest sees a new chipset once", cmd);
                }
            }
        }
        gp_propstr_clear(&mp);
    }
    if (gp_pveconf_bool(gp_propstr_get(&e->props, "x-vga")) && vga) {
        gp_propstr vp = { 0 };
        const char *type = NULL;

        r = gp_propstr_parse(vga, "type", &vp);
        if (r == 0) {
            type = gp_propstr_get(&vp, "type");
            /* x-vga drops the emulated VGA only when vga: is unset
             * (config_to_command); "none" and serialN have none. */
            if (!type || (strcmp(type, "none") != 0 && strncmp(type, "serial", 6) != 0)) {
                f = gp_pvelint_add(&v->base, "vm.x-vga-with-vga", GP_SEV_WARN, "display",
                                   "hostpci%u has x-vga=1 but vga is %s: the emulated display stays as the guest's "
                                   "first display, next to the GPU", e->index, type ? type : "std");
                gp_pvelint_add_line(&v->base, f, e->line);
                gp_pvelint_add_line(&v->base, f, (size_t)vga_line);
                gp_finding_set_fix(v->base.out, f, "qm set %s --vga none", v->base.id_s);
            }
        }
        gp_propstr_clear(&vp);
    }
    {
        const char *rom = gp_propstr_get(&e->props, "romfile");
        char path[600];

        if (!rom)
            return 0;
        if (rom[0] == '/') {
            /* PCI.pm prints romfile=/usr/share/kvm/<romfile>: an absolute
             * path ends up under that prefix and is not found. */
            const char *base = strrchr(rom, '/') + 1;
            _cleanup_free_ char *fixed = hp_value_with(e, "romfile", base);

            f = gp_pvelint_add(&v->base, "vm.romfile-missing", GP_SEV_FAIL, "ROM file",
                               "hostpci%u: romfile=%s is absolute, but PVE always looks under /usr/share/kvm/ (it "
                               "would open /usr/share/kvm%s); the VM will not start", e->index, rom, rom);
            gp_pvelint_add_line(&v->base, f, e->line);
            if (fixed) {
                char key[32], cmd[1400];

                snprintf(key, sizeof(key), "hostpci%u", e->index);
                qm_set(v, key, fixed, cmd, sizeof(cmd));
                gp_finding_set_fix(v->base.out, f, "cp %s /usr/share/kvm/%s\n%s\n# the line then reads: %s: %s", rom,
                                   base, cmd, key, fixed);
            }
            return 0;
        }
        snprintf(path, sizeof(path), "usr/share/kvm/%s", rom);
        if (!gp_host_exists(v->base.ctx->h, path)) {
            f = gp_pvelint_add(&v->base, "vm.romfile-missing", GP_SEV_FAIL, "ROM file",
                               "hostpci%u: romfile=%s, but /usr/share/kvm/%s does not exist; QEMU cannot load it and "
                               "the VM will not start", e->index, rom, rom);
            gp_pvelint_add_line(&v->base, f, e->line);
            gp_finding_set_fix(v->base.out, f,
                               "cp <the ROM dump> /usr/share/kvm/%s   # or drop romfile= from hostpci%u", rom,
                               e->index);
        } else {
            r = judge_romfile(v, e, path);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* ---- memory ---- */

static int check_hugepages(vm_lint *v)
{
    _cleanup_free_ char *hp = NULL, *numa = NULL, *mem = NULL;
    long hp_line, numa_line, mem_line;
    unsigned long size = 512, page;   /* 512: PVE's default memory */
    bool size_known = true;
    gp_propstr mp = { 0 };
    gp_finding *f;
    int r;

    if ((r = main_get(v, "hugepages", &hp, &hp_line)) <= 0 || (r = main_get(v, "numa", &numa, &numa_line)) < 0 ||
        (r = main_get(v, "memory", &mem, &mem_line)) < 0)
        return r;
    if (mem) {
        const char *cur = NULL;

        /* A memory value PVE cannot read is not judged here. */
        if (gp_propstr_parse(mem, "current", &mp) == 0)
            cur = gp_propstr_get(&mp, "current");
        if (cur && *cur && strspn(cur, "0123456789") == strlen(cur) && strlen(cur) < 12)
            size = strtoul(cur, NULL, 10);
        else
            size_known = false;
    }
    if (strcmp(hp, "any") != 0 && strcmp(hp, "2") != 0 && strcmp(hp, "1024") != 0) {
        f = gp_pvelint_add(&v->base, "vm.hugepages-invalid", GP_SEV_FAIL, "hugepages",
                           "hugepages: %s is not a value PVE accepts (any, 2 or 1024: the page size in MiB)", hp);
        gp_pvelint_add_line(&v->base, f, (size_t)hp_line);
        gp_finding_set_fix(v->base.out, f, "qm set %s --hugepages %s", v->base.id_s, size % 1024 == 0 ? "1024" : "2");
        gp_propstr_clear(&mp);
        return 0;
    }
    if (!gp_pveconf_bool(numa)) {
        /* Memory.pm: "numa needs to be enabled to use hugepages". */
        f = gp_pvelint_add(&v->base, "vm.hugepages-no-numa", GP_SEV_FAIL, "hugepages",
                           "hugepages: %s without numa: 1; numa needs to be enabled to use hugepages, so the VM will "
                           "not start", hp);
        gp_pvelint_add_line(&v->base, f, (size_t)hp_line);
        if (numa_line >= 0)
            gp_pvelint_add_line(&v->base, f, (size_t)numa_line);
        gp_finding_set_fix(v->base.out, f, "qm set %s --numa 1", v->base.id_s);
    }
    /* Memory.pm hugepages_size: an even size, a multiple of the page. */
    page = strcmp(hp, "1024") == 0 ? 1024 : 2;
    if (size_known && (size == 0 || size % page != 0)) {
        unsigned long up = (size / page + 1) * page;
        char val[32];
        _cleanup_free_ char *nv = NULL;

        snprintf(val, sizeof(val), "%lu", up);
        /* "memory: 8191" or "memory: current=8191,..." keep their form. */
        if (mp.n > 1 && (gp_propstr_set(&mp, "current", val) < 0 || !(nv = gp_propstr_format(&mp)))) {
            gp_propstr_clear(&mp);
            return -ENOMEM;
        }
        f = gp_pvelint_add(&v->base, "vm.hugepages-memory", GP_SEV_FAIL, "hugepages",
                           "memory %lu MiB is not a multiple of the %lu MiB hugepage size; the VM will not start", size,
                           page);
        if (mem_line >= 0)
            gp_pvelint_add_line(&v->base, f, (size_t)mem_line);
        gp_pvelint_add_line(&v->base, f, (size_t)hp_line);
        {
            char cmd[1200];

            qm_set(v, "memory", nv ? nv : val, cmd, sizeof(cmd));
            gp_finding_set_fix(v->base.out, f, "%s", cmd);
        }
    }
    gp_propstr_clear(&mp);
    /* The host must offer the page size (Memory.pm: "your system doesn't
     * support hugepages of N MB"); judged only where sysfs shows it. */
    if (gp_host_exists(v->base.ctx->h, "sys/kernel/mm/hugepages")) {
        bool has2 = gp_host_exists(v->base.ctx->h, "sys/kernel/mm/hugepages/hugepages-2048kB");
        bool has1g = gp_host_exists(v->base.ctx->h, "sys/kernel/mm/hugepages/hugepages-1048576kB");
        bool ok = strcmp(hp, "2") == 0      ? has2
                  : strcmp(hp, "1024") == 0 ? has1g
                                            : has2 || (has1g && size % 1024 == 0);

        if (!ok) {
            f = gp_pvelint_add(&v->base, "vm.hugepages-host", GP_SEV_FAIL, "hugepages",
                               "hugepages: %s, but this host offers no %s pages; the VM will not start", hp,
                               strcmp(hp, "1024") == 0 ? "1 GiB" : "2 MiB");
            gp_pvelint_add_line(&v->base, f, (size_t)hp_line);
            if (has2 && strcmp(hp, "1024") == 0)
                gp_finding_set_fix(v->base.out, f, "qm set %s --hugepages 2   # or reserve 1 GiB pages: kernel "
                                                   "parameter hugepagesz=1G hugepages=N", v->base.id_s);
            else
                gp_finding_set_fix(v->base.out, f, "add the kernel parameter hugepagesz=%s hugepages=N (N pages for "
                                                   "the VM), or qm set %s --delete hugepages",
                                   strcmp(hp, "1024") == 0 ? "1G" : "2M", v->base.id_s);
        }
    }
    return 0;
}

/* Passthrough pins all guest RAM for DMA (VFIO), so the balloon driver can
 * give nothing back to the host; qemu-server has no rule of its own. */
static int check_balloon(vm_lint *v)
{
    _cleanup_free_ char *b = NULL;
    long line;
    gp_finding *f;
    int r;

    if (v->n_hp == 0)
        return 0;
    r = main_get(v, "balloon", &b, &line);
    if (r <= 0 || strcmp(b, "0") == 0)
        return r;
    f = gp_pvelint_add(&v->base, "vm.balloon-with-passthrough", GP_SEV_WARN, "memory ballooning",
                       "balloon: %s with PCI passthrough: the guest's memory is pinned for the device's DMA, so "
                       "ballooning reclaims nothing and only confuses the guest's memory view", b);
    gp_pvelint_add_line(&v->base, f, (size_t)line);
    gp_finding_set_fix(v->base.out, f, "qm set %s --balloon 0", v->base.id_s);
    return 0;
}

/* ---- network ---- */

typedef struct bridges {
    bool known;                /* a source was found: judge */
    bool sysfs;                /* sys/class/net (a live host or its snapshot) */
    char **names;              /* bridges seen, for "did you mean" */
} bridges;

static int bridges_read_interfaces(const gp_host *h, const char *path, bridges *b)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    char *save = NULL;

    if (gp_host_read_file(h, path, NET_READ_MAX, &buf, &len) < 0)
        return 0;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *w = line + strspn(line, " \t");
        size_t n;

        if (strncmp(w, "iface", 5) != 0 || (w[5] != ' ' && w[5] != '\t'))
            continue;
        w += 5 + strspn(w + 5, " \t");
        n = strcspn(w, " \t\r");
        if (n && gp_strv_append(&b->names, NULL, w, n) < 0)
            return -ENOMEM;
    }
    return 0;
}

/*
 * Where bridges are known from: sys/class/net on a live host (a Linux
 * bridge has a bridge/ directory; an Open vSwitch bridge is a plain net
 * device), else the iface stanzas of /etc/network/interfaces and its
 * interfaces.d (an offline copy of a host); neither: not judged.
 */
static int bridges_read(const gp_host *h, bridges *b)
{
    _cleanup_strv_ char **names = NULL;

    *b = (bridges){ 0 };
    if (gp_host_list_dir(h, "sys/class/net", &names, NULL) == 0) {
        b->known = b->sysfs = true;
        for (char **n = names; *n; n++) {
            char p[600];

            snprintf(p, sizeof(p), "sys/class/net/%s/bridge", *n);
            if (gp_host_exists(h, p) && gp_strv_append(&b->names, NULL, *n, strlen(*n)) < 0)
                return -ENOMEM;
        }
        return 0;
    }
    if (gp_host_exists(h, "etc/network/interfaces")) {
        _cleanup_strv_ char **d = NULL;

        b->known = true;
        if (bridges_read_interfaces(h, "etc/network/interfaces", b) < 0)
            return -ENOMEM;
        if (gp_host_list_dir(h, "etc/network/interfaces.d", &d, NULL) == 0)
            for (char **n = d; *n; n++) {
                char p[600];

                snprintf(p, sizeof(p), "etc/network/interfaces.d/%s", *n);
                if (bridges_read_interfaces(h, p, b) < 0)
                    return -ENOMEM;
            }
    }
    return 0;
}

static bool bridge_exists(const gp_host *h, const bridges *b, const char *name)
{
    char p[600];

    if (strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
        return false;
    if (b->sysfs) {
        snprintf(p, sizeof(p), "sys/class/net/%s", name);
        return gp_host_exists(h, p);
    }
    for (char **n = b->names; n && *n; n++)
        if (strcmp(*n, name) == 0)
            return true;
    return false;
}

static int check_bridges(vm_lint *v)
{
    bridges b;
    int r = bridges_read(v->base.ctx->h, &b);

    if (r < 0 || !b.known)
        goto out;
    for (size_t i = 0; i < v->base.conf.n_lines; i++) {
        const gp_pveconf_line *l = &v->base.conf.lines[i];
        _cleanup_free_ char *val = NULL, *fixed = NULL;
        const char *br, *best = NULL;
        unsigned n, bestd = 3;
        gp_propstr p = { 0 };
        char key[64], cmd[1200];
        int fam;
        gp_finding *f;

        if (l->section != 0 || l->type != GP_PVECONF_LINE_KEY || superseded(&v->base.conf, i))
            continue;
        gp_pveconf_line_key(l, key, sizeof(key));
        fam = key_family(key, &n);
        if (fam < 0 || strcmp(key_families[fam].prefix, "net") != 0 || n > key_families[fam].max)
            continue;
        val = gp_pveconf_line_value(l);
        if (!val) {
            r = -ENOMEM;
            goto out;
        }
        if (gp_propstr_parse(val, NULL, &p) < 0)
            continue;
        br = gp_propstr_get(&p, "bridge");
        if (!br || bridge_exists(v->base.ctx->h, &b, br)) {
            gp_propstr_clear(&p);
            continue;
        }
        for (char **c = b.names; c && *c; c++) {
            unsigned d = gp_name_distance(br, *c, 2);

            if (d < bestd) {
                bestd = d;
                best = *c;
            }
        }
        /* PVE::Network tap_plug: "bridge '<name>' does not exist". */
        f = gp_pvelint_add(&v->base, "vm.bridge-missing", GP_SEV_FAIL, "network",
                           "%s: bridge '%s' does not exist on this host%s%s%s; the VM will not start", key, br,
                           best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
        gp_pvelint_add_line(&v->base, f, i);
        if (best) {
            if (gp_propstr_set(&p, "bridge", best) < 0 || !(fixed = gp_propstr_format(&p))) {
                gp_propstr_clear(&p);
                r = -ENOMEM;
                goto out;
            }
            qm_set(v, key, fixed, cmd, sizeof(cmd));
            gp_finding_set_fix(v->base.out, f, "%s", cmd);
        } else
            gp_finding_set_fix(v->base.out, f, "create bridge %s (System > Network in the web UI, or an iface stanza "
                                               "in /etc/network/interfaces, then ifreload -a), or qm set %s --%s with "
                                               "bridge=<one that exists>", br, v->base.id_s, key);
        gp_propstr_clear(&p);
    }
out:
    gp_strv_free(b.names);
    return r;
}

/* ---- the same device in two VMs ---- */

static size_t map_alternatives(const guest_env *env, const char *name)
{
    long s;
    size_t n = 0;

    if (!name || !env->have_map || !env->node || (s = gp_pvemap_find(&env->map, name)) < 0)
        return 0;
    for (size_t i = 0; i < env->map.sections[s].n_entries; i++)
        if (env->map.sections[s].entries[i].node && strcmp(env->map.sections[s].entries[i].node, env->node) == 0)
            n++;
    return n;
}

/*
 * Only one VM can hold a device: the second start fails when the first has
 * reserved it (/run/qemu-server/pci-id-reservations). Two VMs taking turns
 * is fine; two that start at boot, or both running, are not. A mapping
 * with several entries for the node is a pool: PVE picks a free one.
 */
static void check_other_vms(vm_lint *v)
{
    const gp_check_ctx *ctx = v->base.ctx;

    for (size_t i = 0; i < v->n_hp; i++) {
        const hp_entry *e = &v->hp[i];

        if (!e->devs.n || (e->mapping && e->alternatives > 1))
            continue;
        for (size_t o = 0; o < ctx->vms.n; o++) {
            const gp_pve_vm *ov = &ctx->vms.v[o];

            if (ov->vmid == v->base.id)
                continue;
            for (size_t k = 0; k < ov->n_hostpci; k++) {
                const gp_pve_hostpci *oe = &ov->hostpci[k];
                const char *dev = NULL;
                bool fail;
                char text[400];
                gp_finding *f;

                if (oe->mapping && map_alternatives(v->env, oe->mapping) > 1)
                    continue;
                for (size_t d = 0; d < e->devs.n && !dev; d++)
                    if (gp_pve_hostpci_matches(oe, ctx->pci->devs[e->devs.v[d]].name))
                        dev = ctx->pci->devs[e->devs.v[d]].name;
                if (!dev)
                    continue;
                fail = (v->onboot && ov->onboot) || (v->running && ov->running);
                f = gp_pvelint_add(&v->base, "vm.gpu-in-two-vms", fail ? GP_SEV_FAIL : GP_SEV_WARN, "other VMs",
                                   "hostpci%u takes %s, which VM %u%s%s%s also takes (hostpci%u): only one of them "
                                   "can run at a time%s", e->index, dev, ov->vmid, ov->name ? " (" : "",
                                   ov->name ? ov->name : "", ov->name ? ")" : "", oe->index,
                                   v->onboot && ov->onboot ? "; both start at boot, so one of them fails to start"
                                   : v->running && ov->running ? "; both are running" : "");
                gp_pvelint_add_line(&v->base, f, e->line);
                snprintf(text, sizeof(text), "hostpci%u: %s", oe->index, oe->value);
                gp_finding_add_line(v->base.out, f, ov->conf, oe->line, text);
                /* Both VMs' findings name the same VM (the higher VMID), so
                 * applying both fixes does not leave neither at boot. */
                if (v->onboot && ov->onboot)
                    gp_finding_set_fix(v->base.out, f, "qm set %u --onboot 0   # only one of the two starts at boot",
                                       ov->vmid > v->base.id ? ov->vmid : v->base.id);
                else
                    gp_finding_set_fix(v->base.out, f, "start only one of VM %s and VM %u at a time, or give one "
                                                       "another device: qm set %u --delete hostpci%u",
                                       v->base.id_s, ov->vmid, ov->vmid, oe->index);
            }
        }
    }
}

/* ---- one VM ---- */

static int env_init(const gp_check_ctx *ctx, guest_env *env)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    int r;

    *env = (guest_env){ .node = gp_pve_node_name(ctx->h) };
    r = gp_host_read_file(ctx->h, GP_PVEMAP_PATH, GP_PVECONF_MAX + 1, &buf, &len);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0;
    r = gp_pvemap_parse(buf, len, PCI_CFG_LABEL, &env->map, NULL);
    if (r == -ENOMEM)
        return r;
    env->have_map = r == 0;
    return 0;
}

static void env_done(guest_env *env)
{
    free(env->node);
    if (env->have_map)
        gp_pvemap_clear(&env->map);
}

static int lint_vm(const gp_check_ctx *ctx, const guest_env *env, const char *label, unsigned vmid, const char *buf,
                   size_t len, bool all_vms, gp_findings *out)
{
    vm_lint v = { .env = env };
    gp_finding *bad;
    int r;

    r = gp_pvelint_open(&v.base, &vm_kind, ctx, label, vmid, buf, len, out, &bad);
    if (r != 0) {
        if (r > 0)
            gp_finding_set_fix(out, bad, "restore %s from a backup (vzdump) or write it again with `qm set`", label);
        return r < 0 ? r : gp_findings_status(out);
    }
    if (vmid)
        v.running = gp_pve_vm_running(ctx->h, vmid);
    {
        _cleanup_free_ char *ob = NULL;

        if ((r = main_get(&v, "onboot", &ob, NULL)) < 0)
            goto out;
        v.onboot = gp_pveconf_bool(ob);
    }
    gp_pvelint_bad_lines(&v.base);
    check_duplicates(&v);
    check_unknown_keys(&v);
    if ((r = collect_hostpci(&v)) < 0)
        goto out;
    if (v.n_hp > 0 && ctx->pci && ctx->pci->iommu_groups == 0) {
        /* SysFSTools check_iommu_support: "cannot prepare PCI pass-through,
         * IOMMU not present". */
        gp_finding *f = gp_pvelint_add(&v.base, "vm.hostpci-no-iommu", GP_SEV_FAIL, "IOMMU",
                                       "the VM has hostpci devices but this host has no IOMMU groups: IOMMU not "
                                       "present, so the VM will not start");

        for (size_t i = 0; i < v.n_hp; i++)
            gp_pvelint_add_line(&v.base, f, v.hp[i].line);
        gp_finding_set_fix(out, f, "gpupass check   # shows why the IOMMU is off (firmware VT-d/AMD-Vi, kernel "
                                   "parameters) and the fix");
    } else if (ctx->pci)
        for (size_t i = 0; i < v.n_hp; i++) {
            if (!v.hp[i].usable)
                continue;
            if ((r = check_groups(&v, &v.hp[i])) < 0)
                goto out;
        }
    for (size_t i = 0; i < v.n_hp; i++) {
        if (!v.hp[i].parsed)
            continue;
        if (ctx->pci && v.hp[i].usable)
            check_host_driver(&v, &v.hp[i]);
        if ((r = check_hp_options(&v, &v.hp[i])) < 0)
            goto out;
    }
    if ((r = check_hugepages(&v)) < 0 || (r = check_balloon(&v)) < 0 || (r = check_bridges(&v)) < 0)
        goto out;
    if (all_vms && ctx->pci)
        check_other_vms(&v);
    if (gp_pvelint_holds(&v.base)) {
        if (v.n_hp)
            gp_pvelint_add(&v.base, "vm.ok", GP_SEV_PASS, "passthrough", "VM %s: passthrough config holds",
                           v.base.id_s);
        else
            gp_pvelint_add(&v.base, "vm.ok", GP_SEV_PASS, "passthrough", "VM %s: config holds (no PCI passthrough)",
                           v.base.id_s);
    }
    r = 0;
out:
    for (size_t i = 0; i < v.n_hp; i++)
        hp_clear(&v.hp[i]);
    free(v.hp);
    gp_pveconf_clear(&v.base.conf);
    return r < 0 ? r : gp_findings_status(out);
}

int gp_vm_lint_config(const gp_check_ctx *ctx, const char *label, unsigned vmid, const char *buf, size_t len,
                      gp_findings *out)
{
    guest_env env;
    int r = env_init(ctx, &env);

    if (r >= 0)
        r = lint_vm(ctx, &env, label, vmid, buf, len, false, out);
    env_done(&env);
    return r;
}

static int lint_one(const gp_check_ctx *ctx, void *env, const char *label, unsigned vmid, const char *buf, size_t len,
                    gp_findings *out)
{
    return lint_vm(ctx, env, label, vmid, buf, len, true, out);
}

int gp_vm_lint(const gp_check_ctx *ctx, const unsigned *vmids, size_t n, gp_findings *out)
{
    guest_env env;
    int r = env_init(ctx, &env);

    if (r >= 0)
        r = gp_pvelint_configs(ctx, &vm_kind, vmids, n, lint_one, &env, out);
    env_done(&env);
    return r;
}

/* ---- /etc/pve/mapping/pci.cfg ---- */

/* The map value the hardware would give this entry now, or NULL. */
static char *map_value_now(const gp_check_ctx *ctx, const char *node, const gp_pvemap_entry *e)
{
    gp_idx_list devs = { 0 };
    char *val = NULL;
    bool whole = false;

    for (const char *p = e->path; p && *p;) {
        size_t len = strcspn(p, ";");
        char id[64];

        snprintf(id, sizeof(id), "%.*s", (int)(len < sizeof(id) ? len : sizeof(id) - 1), p);
        whole = whole || !strchr(id, '.');
        for (size_t d = 0; d < ctx->pci->n; d++) {
            char full[80];

            /* a slot means its function .0 is checked (Mapping/PCI.pm) */
            snprintf(full, sizeof(full), "%s%s", id, strchr(id, '.') ? "" : ".0");
            if (strcmp(ctx->pci->devs[d].name, full) == 0 && gp_idx_list_add(&devs, (int)d) < 0) {
                free(devs.v);
                return NULL;
            }
        }
        p += len;
        if (*p)
            p++;
    }
    if (devs.n && gp_pvemap_value_for(ctx->pci, devs.v, devs.n, whole, node, &val) < 0)
        val = NULL;
    free(devs.v);
    if (val && e->description) {
        char *with = NULL;

        if (asprintf(&with, "%s,description=%s", val, e->description) < 0)
            with = NULL;
        free(val);
        val = with;
    }
    return val;
}

int gp_map_lint_config(const gp_check_ctx *ctx, const char *label, const char *buf, size_t len, gp_findings *out)
{
    _cleanup_free_ char *node = gp_pve_node_name(ctx->h);
    gp_pvemap m;
    gp_error err = { 0 };
    gp_finding *f;
    int r;

    r = gp_pvemap_parse(buf, len, label, &m, &err);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        f = gp_findings_add(out, label, "map.bad-line", GP_SEV_FAIL, "mapping file", "%s", gp_error_message(&err));
        gp_finding_add_line(out, f, label, 0, NULL);
        gp_finding_set_fix(out, f, "restore %s from a backup; PVE cannot read it", label);
        return gp_findings_status(out);
    }
    for (size_t i = 0; i < m.n_lines; i++) {
        const gp_pvemap_line *l = &m.lines[i];
        char layer[200];

        if (l->type != GP_PVEMAP_LINE_BAD)
            continue;
        if (l->section >= 0)
            snprintf(layer, sizeof(layer), "mapping %.150s", m.sections[l->section].name);
        else
            snprintf(layer, sizeof(layer), "%.190s", label);
        /* SectionConfig skips what it cannot parse (a whole section for an
         * invalid ID) and the next write through the API drops it. */
        f = gp_findings_add(out, layer, "map.bad-line", GP_SEV_FAIL, "mapping file",
                            "line %zu is not something PVE can read: %s", i + 1, l->why_bad ? l->why_bad : "malformed");
        gp_finding_add_text(out, f, label, (unsigned)i + 1, l->text, l->len);
        gp_finding_set_fix(out, f, "line %zu of %s: a mapping ID alone on its line, then its properties each on a "
                                   "line that starts with a TAB (\"\\tmap node=..,path=..,id=..\"); delete the line if "
                                   "it is a leftover", i + 1, label);
    }
    if (!node) {
        f = gp_findings_add(out, label, "map.node-unknown", GP_SEV_INFO, "mapping file",
                            "this node's name is unknown (no /etc/hostname), so its map entries cannot be picked out");
        gp_finding_set_fix(out, f, "hostnamectl   # the node name is the short host name");
        goto done;
    }
    for (size_t s = 0; s < m.n_sections; s++) {
        const gp_pvemap_section *sec = &m.sections[s];
        char layer[200];
        size_t mine = 0;

        snprintf(layer, sizeof(layer), "mapping %.150s", sec->name);
        for (size_t i = 0; i < sec->n_entries; i++) {
            const gp_pvemap_entry *e = &sec->entries[i];
            const gp_pvemap_line *l = &m.lines[e->line];
            _cleanup_strv_ char **problems = NULL;
            int n = 0;

            if (!e->node || strcmp(e->node, node) != 0)
                continue;   /* each node checks its own entries */
            mine++;
            if (e->valid && ctx->pci) {
                n = gp_pvemap_entry_check(ctx->h, ctx->pci, sec, e, &problems);
                if (n < 0) {
                    r = n;
                    goto out;
                }
            }
            if (e->valid && n == 0) {
                f = gp_findings_add(out, layer, "map.entry-ok", GP_SEV_PASS, "map entry",
                                    "%s on %s matches the hardware", e->path, node);
                gp_finding_add_text(out, f, label, (unsigned)e->line + 1, l->text, l->len);
                continue;
            }
            /* Mapping/PCI.pm assert_valid: any difference fails the VM
             * start with "PCI device mapping invalid (hardware probably
             * changed)". */
            f = gp_findings_add(out, layer, "map.entry-invalid", GP_SEV_FAIL, "map entry",
                                "PCI device mapping invalid (hardware probably changed): the entry for %s %s; a VM "
                                "that uses '%s' will not start here", node,
                                e->valid ? "does not match the hardware" : "does not parse (it needs node=, path= and "
                                                                           "id=)", sec->name);
            gp_finding_add_text(out, f, label, (unsigned)e->line + 1, l->text, l->len);
            for (char **p = problems; p && *p; p++)
                gp_finding_add_line(out, f, label, (unsigned)e->line + 1, *p);
            {
                _cleanup_free_ char *now = e->valid && ctx->pci ? map_value_now(ctx, node, e) : NULL;

                if (now)
                    gp_finding_set_fix(out, f, "line %zu should read:\tmap %s\n# or: pvesh set "
                                               "/cluster/mapping/pci/%s with every map entry, this one as above",
                                       (size_t)e->line + 1, now, sec->name);
                else
                    gp_finding_set_fix(out, f, "gpupass map %s --gpu <address> --apply   # rewrites this node's "
                                               "entry from the hardware (Datacenter > Resource Mappings does the "
                                               "same)", sec->name);
            }
        }
        if (mine == 0) {
            f = gp_findings_add(out, layer, "map.no-entry-for-node", GP_SEV_INFO, "map entry",
                                "no entry for this node (%s): fine if the mapping is meant for other nodes; a VM "
                                "that uses it cannot start here", node);
            gp_finding_add_text(out, f, label, (unsigned)sec->header + 1, m.lines[sec->header].text,
                                m.lines[sec->header].len);
            gp_finding_set_fix(out, f, "gpupass map %s --gpu <address> --apply   # adds this node's entry, if it "
                                       "should have one", sec->name);
        }
    }
done:
    r = 0;
out:
    gp_pvemap_clear(&m);
    return r < 0 ? r : gp_findings_status(out);
}

int gp_map_lint(const gp_check_ctx *ctx, gp_findings *out)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    gp_finding *f;
    int r;

    r = gp_host_read_file(ctx->h, GP_PVEMAP_PATH, GP_PVECONF_MAX + 1, &buf, &len);
    if (r == -ENOMEM)
        return r;
    if (r == -ENOENT) {
        gp_findings_add(out, PCI_CFG_LABEL, "map.none", GP_SEV_INFO, "mapping file",
                        "no cluster PCI mappings (%s does not exist); VMs name devices by address", PCI_CFG_LABEL);
        return gp_findings_status(out);
    }
    if (r < 0) {
        f = gp_findings_add(out, PCI_CFG_LABEL, "map.bad-line", GP_SEV_FAIL, "mapping file", "cannot read %s: %s%s",
                            PCI_CFG_LABEL, strerror(-r), r == -EFBIG ? " (over the 1 MiB pmxcfs holds)" : "");
        gp_finding_add_line(out, f, PCI_CFG_LABEL, 0, NULL);
        gp_finding_set_fix(out, f, "systemctl status pve-cluster   # /etc/pve is served by pmxcfs");
        return gp_findings_status(out);
    }
    return gp_map_lint_config(ctx, PCI_CFG_LABEL, buf, len, out);
}
