/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "lint-guest.h"
#include "lint-pveconf.h"
#include "propstr.h"
#include "pveconf.h"
#include "pveguest.h"
#include "pvemap.h"
#include "rom.h"
#include "vmplan.h"

/* qemu-server: hostpci0 .. hostpci15 ($MAX_HOSTPCI_DEVICES = 16). */
#define HOSTPCI_MAX 16

typedef struct vm_edit {
    const gp_check_ctx *ctx;
    const gp_vm_opts *o;
    gp_plan *plan;
    gp_vm_result *res;
    gp_pveconf conf;
    gp_error *err;
} vm_edit;

static bool pve_bool(const char *v)
{
    return v && (strcasecmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "true") == 0);
}

static int qm_arg(vm_edit *e, const char *key, const char *value)
{
    char opt[64];

    snprintf(opt, sizeof(opt), "--%s", key);
    if (gp_strv_append(&e->res->qm_args, NULL, opt, strlen(opt)) < 0 ||
        gp_strv_append(&e->res->qm_args, NULL, value, strlen(value)) < 0)
        return -ENOMEM;
    return 0;
}

/* Sets key in the main section and records the qm option; no-op when the
 * value is already there. */
static int set_key(vm_edit *e, const char *key, const char *value)
{
    _cleanup_free_ char *old = NULL;
    int r = gp_pveconf_get(&e->conf, 0, key, &old);

    if (r < 0)
        return r;
    if (old && strcmp(old, value) == 0)
        return 0;
    r = gp_pveconf_set(&e->conf, key, value);
    if (r < 0)
        return r;
    return qm_arg(e, key, value);
}

/* Edits one property of a property-string key (machine, cpu, ...), keeping
 * the other properties as written. */
static int set_prop(vm_edit *e, const char *key, const char *default_key, const char *prop, const char *value)
{
    _cleanup_free_ char *old = NULL, *now = NULL;
    gp_propstr p = { 0 };
    int r = gp_pveconf_get(&e->conf, 0, key, &old);

    if (r < 0)
        return r;
    if (old && gp_propstr_parse(old, default_key, &p) < 0)
        return gp_error_set(e->err, -ECANCELED, "/%s: \"%s: %s\" is not a property string PVE can read; fix it "
                            "first (gpupass vm lint %u)", e->res->conf, key, old, e->o->vmid);
    r = gp_propstr_set(&p, prop, value);
    if (r == 0 && strcmp(prop, default_key) == 0) {
        /* A default key written alone reads best bare: "host", not "cputype=host". */
        for (size_t i = 0; i < p.n; i++)
            if (strcmp(p.v[i].key, prop) == 0 && i == 0)
                p.v[i].bare = true;
    }
    now = r == 0 ? gp_propstr_format(&p) : NULL;
    gp_propstr_clear(&p);
    if (!now)
        return -ENOMEM;
    return set_key(e, key, now);
}

static int get_prop(vm_edit *e, const char *key, const char *default_key, const char *prop, char **ret)
{
    _cleanup_free_ char *v = NULL;
    gp_propstr p = { 0 };
    const char *x;
    int r = gp_pveconf_get(&e->conf, 0, key, &v);

    *ret = NULL;
    if (r <= 0)
        return r;
    if (gp_propstr_parse(v, default_key, &p) < 0)
        return 0;
    x = gp_propstr_get(&p, prop);
    if (x)
        *ret = strdup(x);
    gp_propstr_clear(&p);
    return x && !*ret ? -ENOMEM : x ? 1 : 0;
}

/*
 * q35 keeps the version of a versioned i440fx type: "pc-i440fx-8.1" and the
 * older alias "pc-8.1" become "pc-q35-8.1" (a "+pveN" suffix too), so a
 * Windows guest pinned to a machine version stays on it. PVE treats any
 * type containing "q35" as q35 (Machine.pm machine_type_is_q35).
 */
static int machine_q35(vm_edit *e)
{
    _cleanup_free_ char *type = NULL;
    char q35[64];
    int r = get_prop(e, "machine", "type", "type", &type);

    if (r < 0)
        return r;
    if (type && strstr(type, "q35"))
        return 0;
    if (!type || strcmp(type, "pc") == 0 || strcmp(type, "i440fx") == 0)
        snprintf(q35, sizeof(q35), "q35");
    else if (gp_startswith(type, "pc-i440fx-"))
        snprintf(q35, sizeof(q35), "pc-q35-%.40s", type + strlen("pc-i440fx-"));
    else if (gp_startswith(type, "pc-") && type[3] >= '0' && type[3] <= '9')
        snprintf(q35, sizeof(q35), "pc-q35-%.40s", type + 3);
    else
        return gp_error_set(e->err, -EINVAL, "/%s: machine type '%s' is neither i440fx nor q35; passthrough with "
                            "pcie=1 needs q35: set it yourself (qm set %u --machine q35)", e->res->conf, type,
                            e->o->vmid);
    r = set_prop(e, "machine", "type", "type", q35);
    if (r == 0 && type) {
        _cleanup_free_ char *os = NULL;

        if (gp_pveconf_get(&e->conf, 0, "ostype", &os) < 0)
            return -ENOMEM;
        /* PVE's Windows ostypes all start with 'w' (wxp .. win11). */
        r = gp_plan_add_note(e->plan, "The machine type changes from %s to %s: the guest sees a new chipset once%s",
                             type, q35, os && os[0] == 'w' ? " (Windows finds new devices and may ask to be "
                             "re-activated)." : ".");
    }
    return r;
}

/* The storage of the VM's first disk, for the efidisk0 hint. */
static char *first_storage(vm_edit *e)
{
    static const char *const disks[] = { "scsi0", "virtio0", "sata0", "ide0" };

    for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++) {
        _cleanup_free_ char *v = NULL;
        char *colon;

        if (gp_pveconf_get(&e->conf, 0, disks[i], &v) <= 0)
            continue;
        colon = strchr(v, ':');
        if (colon && colon != v && !strchr(v, '/')) {
            *colon = '\0';
            return strdup(v);
        }
    }
    return NULL;
}

static int bios_ovmf(vm_edit *e)
{
    _cleanup_free_ char *bios = NULL, *efidisk = NULL, *storage = NULL;
    int r = gp_pveconf_get(&e->conf, 0, "bios", &bios);

    if (r < 0)
        return r;
    if (e->o->keep_bios)
        return 0;
    if (!bios || strcmp(bios, "ovmf") != 0) {
        r = set_key(e, "bios", "ovmf");
        if (r < 0)
            return r;
        r = gp_plan_add_note(e->plan, "bios changes to ovmf (UEFI): a guest installed with SeaBIOS boots only if "
                             "its disk has an EFI system partition; use --keep-bios to leave it.");
        if (r < 0)
            return r;
    }
    r = gp_pveconf_get(&e->conf, 0, "efidisk0", &efidisk);
    if (r < 0)
        return r;
    if (!efidisk) {
        /* The EFI vars disk is allocated on a storage: only PVE can do that.
         * Without one, PVE uses a temporary vars file and forgets boot
         * entries at every start (qemu-server OVMF.pm). */
        storage = first_storage(e);
        r = gp_plan_add_note(e->plan, "The VM has no EFI disk; add one so UEFI settings survive a restart: qm set "
                             "%u --efidisk0 %s:1,efitype=4m,pre-enrolled-keys=0", e->o->vmid,
                             storage ? storage : "<storage>");
    }
    return r;
}

static int cpu_host(vm_edit *e)
{
    _cleanup_free_ char *model = NULL;
    int r = get_prop(e, "cpu", "cputype", "cputype", &model);

    if (r < 0 || (model && strcmp(model, "host") == 0))
        return r;
    return set_prop(e, "cpu", "cputype", "cputype", "host");
}

/* A VM with a passed-through device has all its RAM pinned for DMA: the
 * balloon can reclaim nothing, and PVE's auto-ballooning would only make
 * the guest believe it has less. */
static int balloon_off(vm_edit *e)
{
    return set_key(e, "balloon", "0");
}

static int memory_mib(vm_edit *e, unsigned long *ret)
{
    _cleanup_free_ char *cur = NULL;
    char *end;
    int r = get_prop(e, "memory", "current", "current", &cur);

    *ret = 512;         /* qemu-server's default */
    if (r <= 0)
        return r;
    *ret = strtoul(cur, &end, 10);
    if (*end || !cur[0])
        return gp_error_set(e->err, -EINVAL, "/%s: memory '%s' is not a number of MiB", e->res->conf, cur);
    return 0;
}

/*
 * Hugepages need numa: 1 (else the start fails with "numa needs to be
 * enabled to use hugepages") and memory divisible by the page size
 * (qemu-server Memory.pm).
 */
static int hugepages(vm_edit *e)
{
    const char *hp = e->o->hugepages;
    unsigned long mem, page;
    int r;

    if (!hp)
        return 0;
    if (strcmp(hp, "any") != 0 && strcmp(hp, "2") != 0 && strcmp(hp, "1024") != 0)
        return gp_error_set(e->err, -EINVAL, "--hugepages %s: PVE takes any, 2 or 1024 (MiB per page)", hp);
    r = memory_mib(e, &mem);
    if (r < 0)
        return r;
    page = strcmp(hp, "1024") == 0 ? 1024 : 2;
    if (mem % page != 0)
        return gp_error_set(e->err, -EINVAL, "--hugepages %s: the VM's memory (%lu MiB) is not a multiple of %lu "
                            "MiB; change memory first", hp, mem, page);
    r = set_key(e, "numa", "1");
    if (r == 0)
        r = set_key(e, "hugepages", hp);
    if (r == 0)
        r = gp_plan_add_note(e->plan, "Hugepages are taken when the VM starts: the host needs %lu MiB free in %s "
                             "pages then (reserve them at boot with hugepagesz=%s hugepages=N).", mem,
                             page == 1024 ? "1 GiB" : "2 MiB", page == 1024 ? "1G" : "2M");
    return r;
}

static unsigned long conf_ulong(vm_edit *e, const char *key, unsigned long dflt)
{
    _cleanup_free_ char *v = NULL;
    char *end;
    unsigned long n;

    if (gp_pveconf_get(&e->conf, 0, key, &v) <= 0)
        return dflt;
    n = strtoul(v, &end, 10);
    return *end || !v[0] ? dflt : n;
}

/*
 * With numa on and no numaN of its own, PVE gives guest node 0 the memory
 * of host node 0 (qemu-server Memory.pm: each socket index must exist as a
 * host node). Pinned to another node's cores, the VM would then reach its
 * RAM over the socket link: bind the memory to the GPU's node too.
 */
static int numa_memory(vm_edit *e, int node)
{
    _cleanup_free_ char *numa = NULL;
    unsigned long mem, vcpus = conf_ulong(e, "cores", 1) * conf_ulong(e, "sockets", 1);
    char value[160];
    int r = gp_pveconf_get(&e->conf, 0, "numa", &numa);

    if (r < 0 || !pve_bool(numa) || gp_pveconf_find(&e->conf, 0, "numa0") >= 0 || conf_ulong(e, "sockets", 1) != 1)
        return r < 0 ? r : 0;
    r = memory_mib(e, &mem);
    if (r < 0)
        return r;
    snprintf(value, sizeof(value), "cpus=0-%lu,hostnodes=%d,memory=%lu,policy=bind", vcpus ? vcpus - 1 : 0, node,
             mem);
    return set_key(e, "numa0", value);
}

static int affinity(vm_edit *e)
{
    const gp_pci_dev *d = &e->ctx->pci->devs[e->ctx->gpus->gpus[e->o->gpu].dev];
    _cleanup_free_ char *cpus = NULL;
    char path[96];
    int r;

    if (!e->o->affinity)
        return 0;
    if (d->numa_node < 0)
        return gp_error_set(e->err, -EINVAL, "--affinity: the kernel reports no NUMA node for %s (numa_node -1: a "
                            "single-node host): every core is as near as any other, leave affinity unset",
                            d->name);
    snprintf(path, sizeof(path), "sys/devices/system/node/node%d/cpulist", d->numa_node);
    r = gp_host_read_attr(e->ctx->h, path, &cpus);
    if (r < 0 || !cpus[0])
        return gp_error_set(e->err, r < 0 ? r : -ENOENT, "--affinity: cannot read /%s: %s", path,
                            r < 0 ? strerror(-r) : "empty");
    r = set_key(e, "affinity", cpus);
    if (r == 0)
        r = gp_plan_add_note(e->plan, "affinity %s: the cores of NUMA node %d, the node %s is attached to.", cpus,
                             d->numa_node, d->name);
    if (r == 0)
        r = numa_memory(e, d->numa_node);
    return r;
}

/* The mapping sections whose entry for this node is exactly this GPU and
 * passes PVE's start-time check. */
static int find_mapping(vm_edit *e, const char *slot, char **ret)
{
    const gp_check_ctx *ctx = e->ctx;
    _cleanup_free_ char *buf = NULL, *node = gp_pve_node_name(ctx->h);
    gp_pvemap m = { 0 };
    size_t len = 0;
    int r, found = 0;

    *ret = NULL;
    if (!node || gp_host_read_file(ctx->h, GP_PVEMAP_PATH, GP_PVECONF_MAX + 1, &buf, &len) < 0)
        goto none;
    if (gp_pvemap_parse(buf, len, "/" GP_PVEMAP_PATH, &m, NULL) < 0)
        goto none;
    for (size_t s = 0; s < m.n_sections; s++) {
        const gp_pvemap_section *sec = &m.sections[s];

        if (e->o->mapping && strcmp(sec->name, e->o->mapping) != 0)
            continue;
        for (size_t i = 0; i < sec->n_entries; i++) {
            const gp_pvemap_entry *en = &sec->entries[i];
            _cleanup_strv_ char **problems = NULL;

            if (!en->valid || strcmp(en->node, node) != 0 || !gp_startswith(en->path, slot))
                continue;
            r = gp_pvemap_entry_check(ctx->h, ctx->pci, sec, en, &problems);
            if (r < 0) {
                gp_pvemap_clear(&m);
                return r;
            }
            if (r > 0) {
                r = gp_plan_add_note(e->plan, "Mapping %s has an entry for this GPU that PVE would refuse (%s); "
                                     "`gpupass map lint` shows why.", sec->name, problems[0]);
                if (r < 0) {
                    gp_pvemap_clear(&m);
                    return r;
                }
                continue;
            }
            if (!*ret) {
                *ret = strdup(sec->name);
                if (!*ret) {
                    gp_pvemap_clear(&m);
                    return -ENOMEM;
                }
            }
            found++;
            break;
        }
    }
    gp_pvemap_clear(&m);
none:
    if (e->o->mapping && !*ret)
        return gp_error_set(e->err, -EINVAL, "--mapping %s: /%s has no valid entry for this node's %s; create it "
                            "with `gpupass map %s --gpu %s`", e->o->mapping, GP_PVEMAP_PATH, slot, e->o->mapping,
                            slot);
    (void)found;
    return 0;
}

/* The hostpci entry of the main section that already gives the VM this
 * GPU, or -1. */
static int existing_hostpci(vm_edit *e, const gp_gpu *gpu, const char *mapping)
{
    for (unsigned n = 0; n < HOSTPCI_MAX; n++) {
        _cleanup_free_ char *v = NULL;
        gp_propstr p = { 0 };
        char key[16];
        const char *host, *map;
        bool match = false;

        snprintf(key, sizeof(key), "hostpci%u", n);
        if (gp_pveconf_get(&e->conf, 0, key, &v) <= 0 || gp_propstr_parse(v, "host", &p) < 0)
            continue;
        host = gp_propstr_get(&p, "host");
        map = gp_propstr_get(&p, "mapping");
        if (map && mapping && strcmp(map, mapping) == 0)
            match = true;
        for (const char *id = host; id && *id && !match;) {
            size_t len = strcspn(id, ";");
            char one[64];

            snprintf(one, sizeof(one), "%.*s", (int)(len < 63 ? len : 63), id);
            for (size_t f = 0; f < gpu->functions.n && !match; f++)
                match = gp_pve_id_matches(one, e->ctx->pci->devs[gpu->functions.v[f]].name);
            id += len + (id[len] == ';');
        }
        gp_propstr_clear(&p);
        if (match)
            return (int)n;
    }
    return -1;
}

static int free_hostpci(vm_edit *e)
{
    for (unsigned n = 0; n < HOSTPCI_MAX; n++) {
        char key[16];

        snprintf(key, sizeof(key), "hostpci%u", n);
        /* Also skip an index PVE has queued in [PENDING]. */
        if (gp_pveconf_find(&e->conf, 0, key) >= 0)
            continue;
        for (size_t s = 1; s < e->conf.n_sections; s++)
            if (e->conf.sections[s].type == GP_PVECONF_SECTION_PENDING && gp_pveconf_find(&e->conf, (unsigned)s, key) >= 0)
                goto used;
        return (int)n;
used:;
    }
    return -1;
}

/* qemu-server looks a romfile up under /usr/share/kvm/ (PCI.pm); a plain
 * file name keeps it there. */
#define KVM_ROM_DIR "usr/share/kvm"

static bool rom_name_ok(const char *n)
{
    if (!*n || *n == '.' || strlen(n) > 128)
        return false;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '_' || *c == '-' || *c == '+'))
            return false;
    return true;
}

/* Will the VM boot with OVMF after the plan? */
static int vm_uses_ovmf(vm_edit *e, bool *ret)
{
    _cleanup_free_ char *bios = NULL;
    int r = gp_pveconf_get(&e->conf, 0, "bios", &bios);

    *ret = bios && strcmp(bios, "ovmf") == 0;
    return r;
}

/*
 * --romfile: judge the ROM for this GPU and this VM before anything is
 * planned, then plan its copy. What would make the guest fail (a failed
 * dump, a ROM of another card, a legacy-only ROM under OVMF) is refused
 * unless --force. A vendor header is dropped: QEMU exposes the file as the
 * ROM BAR and the guest firmware looks for 0x55AA at offset 0.
 */
static int romfile_copy(vm_edit *e)
{
    const gp_pci_dev *dev = &e->ctx->pci->devs[e->ctx->gpus->gpus[e->o->gpu].dev];
    _cleanup_findings_ gp_findings f = { 0 };
    _cleanup_free_ char *path = NULL, *why = NULL;
    const char *src = e->o->rom_source ? e->o->rom_source : e->o->rom_name;
    bool ovmf = false;
    gp_rom rom;
    int r;

    if (!e->o->rom_name)
        return 0;
    if (!rom_name_ok(e->o->rom_name))
        return gp_error_set(e->err, -EINVAL, "--romfile %s: the name %s is no plain file name (letters, digits, "
                            ". _ - +); PVE looks the ROM up under /usr/share/kvm/: rename the file", src,
                            e->o->rom_name);
    r = gp_rom_parse(e->o->rom, e->o->rom_len, &rom);
    if (r < 0)
        return r;
    r = gp_rom_judge(&rom, src, dev, &f);
    if (r >= 0)
        r = vm_uses_ovmf(e, &ovmf);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < f.n && !e->o->force; i++) {
        const gp_finding *x = &f.v[i];

        if (x->severity == GP_SEV_FAIL || (ovmf && strcmp(x->id, "rom.legacy-only") == 0)) {
            r = gp_error_set(e->err, -ECANCELED, "--romfile %s: %s%s; nothing planned (--force copies it anyway)",
                             src, x->title, strcmp(x->id, "rom.legacy-only") == 0 ?
                             " and the VM boots with OVMF, which cannot initialize the card from it (use "
                             "--keep-bios on a SeaBIOS VM, or get a UEFI ROM)" : "");
            goto out;
        }
    }
    if (rom.n_images == 0 || rom.used == 0) {
        r = gp_error_set(e->err, -ECANCELED, "--romfile %s: no ROM image in it; nothing planned", src);
        goto out;
    }
    if (asprintf(&path, KVM_ROM_DIR "/%s", e->o->rom_name) < 0 ||
        asprintf(&why, "the option ROM of %s for VM %u (from %s)", dev->name, e->o->vmid, src) < 0) {
        r = -ENOMEM;
        goto out;
    }
    /* A different ROM under the same name may serve other VMs. */
    if (gp_host_exists(e->ctx->h, path) && !e->o->force) {
        _cleanup_free_ char *cur = NULL;
        size_t cur_len = 0;

        r = gp_host_read_file(e->ctx->h, path, 64u * 1024 * 1024, &cur, &cur_len);
        if (r < 0 || cur_len != rom.used || memcmp(cur, e->o->rom + rom.header, rom.used) != 0) {
            r = gp_error_set(e->err, -ECANCELED, "--romfile %s: /%s exists with other content (other VMs may "
                             "load it); copy the ROM to a new name, or --force to replace it", src, path);
            goto out;
        }
    }
    if (rom.header) {
        r = gp_plan_add_note(e->plan, "%s starts with a %zu-byte vendor header: /%s gets the image chain alone "
                             "(QEMU's ROM BAR must start with 0x55AA).", src, rom.header, path);
        if (r < 0)
            goto out;
    }
    r = gp_plan_set_file(e->plan, e->ctx->h, path, (const char *)e->o->rom + rom.header, rom.used, 0644, why,
                         e->err);
    if (r < 0)
        r = -EIO;
out:
    gp_rom_clear(&rom);
    return r < 0 ? r : 0;
}

/* "0000:01:00" when the GPU's functions are its whole slot (PVE then passes
 * every function, and that is what a GPU with audio and USB-C functions
 * needs), else its functions joined by ';'. */
static int hostpci_ids(const gp_check_ctx *ctx, const gp_gpu *gpu, char *buf, size_t size, bool *whole)
{
    const gp_pci_dev *d = &ctx->pci->devs[gpu->dev];
    size_t in_slot = 0, off = 0;

    for (size_t i = 0; i < ctx->pci->n; i++) {
        const gp_pci_addr *a = &ctx->pci->devs[i].addr;

        if (a->domain == d->addr.domain && a->bus == d->addr.bus && a->slot == d->addr.slot)
            in_slot++;
    }
    *whole = in_slot == gpu->functions.n && !d->is_vf;
    if (*whole) {
        snprintf(buf, size, "%.*s", (int)(strrchr(d->name, '.') - d->name), d->name);
        return 0;
    }
    for (size_t f = 0; f < gpu->functions.n; f++)
        off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%s%s", f ? ";" : "",
                                ctx->pci->devs[gpu->functions.v[f]].name);
    return off < size ? 0 : -ENAMETOOLONG;
}

static int hostpci(vm_edit *e)
{
    const gp_gpu *gpu = &e->ctx->gpus->gpus[e->o->gpu];
    _cleanup_free_ char *old = NULL, *value = NULL, *mapping = NULL;
    char ids[256], key[16], slot[GP_PCI_ADDR_MAX];
    gp_propstr p = { 0 };
    bool whole;
    int n, r;

    r = hostpci_ids(e->ctx, gpu, ids, sizeof(ids), &whole);
    if (r < 0)
        return r;
    snprintf(slot, sizeof(slot), "%.*s", (int)(strrchr(e->ctx->pci->devs[gpu->dev].name, '.') -
                                                 e->ctx->pci->devs[gpu->dev].name), e->ctx->pci->devs[gpu->dev].name);
    if (!e->o->no_mapping) {
        r = find_mapping(e, whole ? slot : ids, &mapping);
        if (r < 0)
            return r;
    }
    n = existing_hostpci(e, gpu, mapping);
    if (n < 0) {
        n = free_hostpci(e);
        if (n < 0)
            return gp_error_set(e->err, -ECANCELED, "/%s: hostpci0 to hostpci15 are all taken; PVE allows no more "
                                "than 16 PCI devices per VM", e->res->conf);
    }
    snprintf(key, sizeof(key), "hostpci%d", n);
    e->res->hostpci = n;
    r = gp_pveconf_get(&e->conf, 0, key, &old);
    if (r < 0)
        return r;
    r = 0;
    if (old) {
        if (gp_propstr_parse(old, "host", &p) < 0)
            return gp_error_set(e->err, -ECANCELED, "/%s: \"%s: %s\" is not a valid hostpci value; fix it first",
                                e->res->conf, key, old);
    } else {
        r = mapping ? gp_propstr_set(&p, "mapping", mapping) : gp_propstr_set(&p, "host", ids);
        if (r == 0 && !mapping)
            p.v[0].bare = true;
    }
    /* pcie=1 puts the GPU on a PCIe root port; machine is q35 by now. */
    if (r == 0 && !pve_bool(gp_propstr_get(&p, "pcie")))
        r = gp_propstr_set(&p, "pcie", "1");
    if (r == 0 && e->o->primary && !pve_bool(gp_propstr_get(&p, "x-vga")))
        r = gp_propstr_set(&p, "x-vga", "1");
    if (r == 0 && e->o->rom_name)
        r = gp_propstr_set(&p, "romfile", e->o->rom_name);
    value = r == 0 ? gp_propstr_format(&p) : NULL;
    gp_propstr_clear(&p);
    if (!value)
        return r < 0 ? r : -ENOMEM;
    if (mapping) {
        e->res->mapping = TAKE_PTR(mapping);
    }
    return set_key(e, key, value);
}

/*
 * With x-vga, PVE drops the emulated display only when vga is not set
 * (qemu-server: an explicit "vga: std" stays and the guest gets two).
 */
static int primary_display(vm_edit *e)
{
    _cleanup_free_ char *type = NULL;
    int r;

    if (!e->o->primary)
        return 0;
    r = get_prop(e, "vga", "type", "type", &type);
    if (r <= 0 || strcmp(type, "none") == 0 || gp_startswith(type, "serial"))
        return r;
    return set_prop(e, "vga", "type", "type", "none");
}

static int other_vms(vm_edit *e)
{
    const gp_check_ctx *ctx = e->ctx;
    const gp_pci_dev *d = &ctx->pci->devs[ctx->gpus->gpus[e->o->gpu].dev];
    _cleanup_free_ char *onboot = NULL;

    if (gp_pveconf_get(&e->conf, 0, "onboot", &onboot) < 0)
        return -ENOMEM;

    for (size_t i = 0; i < ctx->vms.n; i++) {
        const gp_pve_vm *vm = &ctx->vms.v[i];

        if (vm->vmid == e->o->vmid)
            continue;
        for (size_t k = 0; k < vm->n_hostpci; k++) {
            int r;

            if (!gp_pve_hostpci_matches(&vm->hostpci[k], d->name))
                continue;
            r = gp_plan_add_note(e->plan, "VM %u%s%s%s also has %s (hostpci%u): PVE refuses to start one of the "
                                 "two while the other runs%s.", vm->vmid, vm->name ? " (" : "",
                                 vm->name ? vm->name : "", vm->name ? ")" : "", d->name, vm->hostpci[k].index,
                                 vm->onboot && pve_bool(onboot) ? "; both start at boot" : "");
            if (r < 0)
                return r;
            break;
        }
    }
    return 0;
}

static int group_ok(vm_edit *e)
{
    const gp_gpu *gpu = &e->ctx->gpus->gpus[e->o->gpu];
    const gp_pci_dev *d = &e->ctx->pci->devs[gpu->dev];

    if (gpu->verdict == GP_VERDICT_NO_IOMMU)
        return gp_plan_add_note(e->plan, "The IOMMU is not on in the running kernel, so the VM cannot start with "
                                "%s yet: run `gpupass setup %s` and reboot.", d->name, d->name);
    if (gpu->host_critical.n > 0 && !e->o->force)
        return gp_error_set(e->err, -ECANCELED, "%s shares its IOMMU group with %s, which this host needs: PVE "
                            "would bind the whole group to vfio-pci at VM start. `gpupass check %s` explains; "
                            "--force to write the config anyway", d->name,
                            e->ctx->pci->devs[gpu->host_critical.v[0]].name, d->name);
    if (gpu->shared_with.n > 0)
        return gp_plan_add_note(e->plan, "%s shares its IOMMU group with %s: PVE binds every device of the group "
                                "to vfio-pci when the VM starts, and the host loses them.", d->name,
                                e->ctx->pci->devs[gpu->shared_with.v[0]].name);
    return 0;
}

static int conf_sane(vm_edit *e)
{
    long dup = gp_pveconf_find_duplicate(&e->conf, 0);
    _cleanup_free_ char *lock = NULL;
    int r;

    for (size_t i = 0; i < e->conf.n_lines; i++) {
        const gp_pveconf_line *l = &e->conf.lines[i];

        if (l->section == 0 && l->type == GP_PVECONF_LINE_BAD)
            return gp_error_set(e->err, -ECANCELED, "/%s:%zu: %s (\"%.60s\"); PVE cannot read it either: fix the "
                                "line, then run gpupass again", e->res->conf, i + 1, l->why_bad, l->text);
    }
    if (dup >= 0) {
        char k[64];

        return gp_error_set(e->err, -ECANCELED, "/%s:%ld: '%s' appears twice in the current config; PVE keeps only "
                            "the last one: delete the line you do not mean, then run gpupass again", e->res->conf,
                            dup + 1, gp_pveconf_line_key(&e->conf.lines[dup], k, sizeof(k)));
    }
    /* "lock:" is PVE's persistent lock: a backup, migration or snapshot is
     * working on the VM (AbstractConfig check_lock). */
    r = gp_pveconf_get(&e->conf, 0, "lock", &lock);
    if (r < 0)
        return r;
    if (lock && asprintf(&e->res->refuse_apply, "VM %u is locked (%s): PVE is running a %s task on it; wait for "
                         "it to end (or `qm unlock %u` if it died)", e->o->vmid, lock, lock, e->o->vmid) < 0)
        return -ENOMEM;
    if (!e->res->refuse_apply && gp_pve_vm_running(e->ctx->h, e->o->vmid) &&
        asprintf(&e->res->refuse_apply, "VM %u is running: hostpci, machine and bios take effect only at a cold "
                 "start; shut it down (qm shutdown %u), then apply", e->o->vmid, e->o->vmid) < 0)
        return -ENOMEM;
    return 0;
}

/* vm lint reads /usr/share/kvm/ as it is now; a ROM the plan copies was
 * judged by romfile_copy() instead. */
static const char *const planned_rom_findings[] = {
    "vm.romfile-missing", "rom.ovmf-ok", "rom.legacy-only", "rom.ids-mismatch", "rom.truncated", "rom.empty",
    "rom.vendor-header", "rom.checksum", "rom.chain", "rom.trailing", NULL
};

int gp_vm_plan(const gp_check_ctx *ctx, const gp_vm_opts *o, gp_plan *plan, gp_vm_result *res, gp_error *err)
{
    vm_edit e = { .ctx = ctx, .o = o, .plan = plan, .res = res, .err = err };
    _cleanup_free_ char *buf = NULL, *out = NULL, *why = NULL;
    size_t len = 0, out_len = 0;
    int r;

    *res = (gp_vm_result){ .hostpci = -1 };
    if (o->gpu < 0 || (size_t)o->gpu >= ctx->gpus->n)
        return gp_error_set(err, -EINVAL, "no such GPU");
    r = gp_pve_vm_locate(ctx->h, o->vmid, &res->conf, err);
    if (r < 0)
        return r;
    r = gp_host_read_file(ctx->h, res->conf, GP_PVECONF_MAX + 1, &buf, &len);
    if (r < 0)
        return gp_error_set(err, r, "/%s: %s", res->conf, r == -EFBIG ? "larger than the 1 MiB PVE allows" :
                            strerror(-r));
    {
        char label[512];

        snprintf(label, sizeof(label), "/%s", res->conf);
        r = gp_pveconf_parse(buf, len, GP_PVECONF_QEMU, label, &e.conf, err);
    }
    if (r < 0)
        return r == -ENOMEM ? r : -ECANCELED;

    /* Each step edits e.conf and may add notes; the first error stops. */
    {
        static int (*const steps[])(vm_edit *) = {
            conf_sane, group_ok, machine_q35, bios_ovmf, cpu_host, balloon_off, romfile_copy, hostpci,
            primary_display,
            hugepages, affinity, other_vms,
        };

        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && r >= 0; i++)
            r = steps[i](&e);
    }
    if (r < 0) {
        if (r == -ENOMEM)
            gp_error_set(err, r, "out of memory");
        gp_pveconf_clear(&e.conf);
        return r;
    }
    out = gp_pveconf_format(&e.conf, &out_len);
    gp_pveconf_clear(&e.conf);
    /* What the plan does not fix and PVE would still refuse at start (a
     * missing device, a ROM file, a bridge): vm lint on the planned config. */
    if (out && gp_pvelint_plan_notes(plan, ctx, gp_vm_lint_config, "vm lint", res->conf, o->vmid, out, out_len,
                                     GP_SEV_FAIL, o->rom_name ? planned_rom_findings : NULL) < 0) {
        free(TAKE_PTR(out));
    }
    if (!out || asprintf(&why, "give %s to VM %u", ctx->pci->devs[ctx->gpus->gpus[o->gpu].dev].name, o->vmid) < 0)
        return gp_error_set(err, -ENOMEM, "out of memory");
    /* pmxcfs files are 0640 root:www-data; an existing file keeps its own. */
    return gp_plan_set_file(plan, ctx->h, res->conf, out, out_len, 0640, why, err) < 0 ? -EIO : 0;
}

void gp_vm_result_clear(gp_vm_result *r)
{
    free(r->conf);
    gp_strv_free(r->qm_args);
    free(r->mapping);
    free(r->refuse_apply);
    *r = (gp_vm_result){ .hostpci = -1 };
}

char *gp_vm_libvirt_xml(const gp_pci_list *pci, const gp_gpu *gpu, unsigned guest_bus)
{
    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; i < gpu->functions.n; i++) {
        const gp_pci_dev *d = &pci->devs[gpu->functions.v[i]];

        /* managed='yes': libvirt detaches the function from its host driver
         * at start and gives it back at stop (virhostdev). The guest
         * address puts the functions on one guest slot, numbered from 0 in
         * host order, so the guest driver finds the audio function next to
         * the GPU (a multi-function device needs function 0). */
        fprintf(f,
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                "  <source>\n"
                "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                "  </source>\n"
                "  <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' function='0x%zx'%s/>\n"
                "</hostdev>\n",
                d->addr.domain, d->addr.bus, d->addr.slot, d->addr.func, guest_bus, i,
                i == 0 && gpu->functions.n > 1 ? " multifunction='on'" : "");
    }
    if (fclose(f) != 0) {
        free(xml);
        return NULL;
    }
    return xml;
}

/* A mapping is a pool a VM may take any member of (on migration, any
 * node's): members of another model would surprise the guest's driver. */
static int other_models(const gp_check_ctx *ctx, const gp_pvemap *m, const char *name, const char *node,
                        const gp_gpu *gpu, gp_plan *plan)
{
    const gp_pci_dev *d = &ctx->pci->devs[gpu->dev];
    long s = gp_pvemap_find(m, name);
    char id[16];

    if (s < 0)
        return 0;
    snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
    for (size_t i = 0; i < m->sections[s].n_entries; i++) {
        const gp_pvemap_entry *e = &m->sections[s].entries[i];

        if (e->valid && e->id && strcmp(e->node, node) != 0 && strcmp(e->id, id) != 0)
            return gp_plan_add_note(plan, "Mapping %s holds %s on node %s, but this GPU is %s: a VM that uses the "
                                    "mapping gets a different model depending on where it runs.", name, e->id,
                                    e->node, id) < 0 ? -ENOMEM : 0;
    }
    return 0;
}

int gp_map_plan(const gp_check_ctx *ctx, const char *name, int gpu_idx, gp_plan *plan, gp_error *err)
{
    const gp_gpu *gpu;
    _cleanup_free_ char *buf = NULL, *node = gp_pve_node_name(ctx->h), *value = NULL, *out = NULL, *why = NULL;
    char ids[256];
    gp_pvemap m = { 0 };
    size_t len = 0, out_len = 0;
    bool whole;
    int r;

    if (gpu_idx < 0 || (size_t)gpu_idx >= ctx->gpus->n)
        return gp_error_set(err, -EINVAL, "no such GPU");
    gpu = &ctx->gpus->gpus[gpu_idx];
    if (!node)
        return gp_error_set(err, -EINVAL, "/etc/hostname: cannot read this node's name; a mapping entry names "
                            "its node");
    r = gp_host_read_file(ctx->h, GP_PVEMAP_PATH, GP_PVECONF_MAX + 1, &buf, &len);
    if (r < 0 && r != -ENOENT)
        return gp_error_set(err, r, "/%s: %s", GP_PVEMAP_PATH, strerror(-r));
    if (r == -ENOENT && !gp_host_exists(ctx->h, "etc/pve"))
        return gp_error_set(err, -ENOENT, "/etc/pve does not exist: mappings are a Proxmox VE cluster feature "
                            "(PVE 8.0 and later)");
    r = gp_pvemap_parse(buf ? buf : "", len, "/" GP_PVEMAP_PATH, &m, err);
    if (r < 0)
        return r == -ENOMEM ? r : -ECANCELED;
    r = hostpci_ids(ctx, gpu, ids, sizeof(ids), &whole);
    if (r == 0)
        r = other_models(ctx, &m, name, node, gpu, plan);
    if (r == 0)
        r = gp_pvemap_value_for(ctx->pci, gpu->functions.v, gpu->functions.n, whole, node, &value);
    if (r == 0) {
        r = gp_pvemap_set_entry(&m, name, value);
        if (r == -EINVAL)
            gp_error_set(err, r, "mapping name '%s': PVE takes a letter followed by one or more letters, digits, "
                         "'-' or '_'", name);
    }
    if (r == 0 && !(out = gp_pvemap_format(&m, &out_len)))
        r = -ENOMEM;
    gp_pvemap_clear(&m);
    if (r < 0)
        return r == -ENOMEM ? gp_error_set(err, r, "out of memory") : r;
    if (asprintf(&why, "map %s: %s on node %s", name, ctx->pci->devs[gpu->dev].name, node) < 0)
        return gp_error_set(err, -ENOMEM, "out of memory");
    if (gp_plan_set_file(plan, ctx->h, GP_PVEMAP_PATH, out, out_len, 0640, why, err) < 0)
        return -EIO;
    if (gpu->verdict != GP_VERDICT_ISOLATED)
        (void)gp_plan_add_note(plan, "%s is not alone in its IOMMU group (%s): a VM using this mapping takes the "
                               "whole group.", ctx->pci->devs[gpu->dev].name, gp_verdict_to_string(gpu->verdict));
    return 0;
}
