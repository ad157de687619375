/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest linters on a small hand-built Proxmox host: one test per finding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakehost.h"
#include "lint-guest.h"

/*
 * The host "pve1":
 *   group 1: 00:01.0 root port; 01:00.0 GPU (nvidia, host console) + 01:00.1 audio
 *   group 2: 02:00.0 NIC (igb, port of vmbr0: host-critical), 03:00.0 USB (xhci), 07:00.0 GPU (vfio-pci)
 *   group 3: 04:00.0 USB (vfio-pci), 05:00.0 SATA (ahci)
 *   group 4: 06:00.0 GPU + 06:00.1 audio, both vfio-pci: the clean one
 *   group 5: 09:00.0 GPU (vfio-pci), 0a:00.0 USB (xhci)
 */
static int setup(void **state)
{
    if (gp_test_tmpdir(root, sizeof(root), "gpupass-lintguest") < 0)
        return -1;
    put("proc/cmdline", "root=/dev/sda1\n");
    put("etc/hostname", "pve1.example.com\n");
    mkdirs("etc/pve/qemu-server");
    pci_dev("0000:00:01.0", "8086", "a70d", "0000:0000", "060400", 1, "pcieport");
    pci_dev("0000:01:00.0", "10de", "2684", "1043:88e2", "030000", 1, "nvidia");
    put("sys/bus/pci/devices/0000:01:00.0/boot_vga", "1\n");
    pci_dev("0000:01:00.1", "10de", "22ba", "1043:88e2", "040300", 1, "snd_hda_intel");
    pci_dev("0000:02:00.0", "8086", "1533", "8086:0001", "020000", 2, "igb");
    pci_dev("0000:03:00.0", "1912", "0014", "1912:0014", "0c0330", 2, "xhci_hcd");
    pci_dev("0000:04:00.0", "1b21", "2142", "1b21:2142", "0c0330", 3, "vfio-pci");
    pci_dev("0000:05:00.0", "1b21", "0612", "1b21:1060", "010601", 3, "ahci");
    pci_dev("0000:06:00.0", "1002", "73bf", "1002:0e3a", "030000", 4, "vfio-pci");
    pci_dev("0000:06:00.1", "1002", "ab28", "1002:ab28", "040300", 4, "vfio-pci");
    pci_dev("0000:07:00.0", "10de", "1b80", "10de:119e", "030000", 2, "vfio-pci");
    pci_dev("0000:09:00.0", "10de", "1b81", "10de:119f", "030000", 5, "vfio-pci");
    pci_dev("0000:0a:00.0", "1912", "0015", "1912:0015", "0c0330", 5, "xhci_hcd");
    /* vmbr0 with the NIC as its port: the management network (hostcrit.c) */
    mkdirs("sys/devices/pci0000:00/0000:02:00.0/net/enp2s0");
    ln("../../devices/pci0000:00/0000:02:00.0/net/enp2s0", "sys/class/net/enp2s0");
    mkdirs("sys/class/net/vmbr0/bridge");
    mkdirs("sys/class/net/vmbr0/brif/enp2s0");
    mkdirs("usr/share/kvm");
    return 0;
}

/* Lints one config text as VM vmid's (the file is not read). */
static void lint(fixture *fx, unsigned vmid, const char *text)
{
    char label[64];

    snprintf(label, sizeof(label), "/etc/pve/qemu-server/%u.conf", vmid);
    gp_findings_clear(&fx->out);
    assert_int_equal(gp_vm_lint_config(&fx->ctx, label, vmid, text, strlen(text), &fx->out), 0);
}

static bool has_text(const char *s, const char *needle)
{
    return s && strstr(s, needle);
}

/* A config with nothing to say but the one pass finding. */
static void assert_clean(const gp_findings *l)
{
    if (l->n != 1 || strcmp(l->v[0].id, "vm.ok") != 0) {
        dump(l);
        fail_msg("expected only vm.ok");
    }
    assert_int_equal(l->v[0].severity, GP_SEV_PASS);
}

#define CLEAN "bios: ovmf\nmachine: q35\nvga: none\nballoon: 0\nmemory: 8192\nname: win\n" \
              "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n"

static void test_clean_config(void **state)
{
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: 0000:06:00,pcie=1,x-vga=1\n");
    assert_clean(&fx.out);
    assert_string_equal(fx.out.v[0].layer, "VM 100");
    assert_string_equal(fx.out.v[0].title, "VM 100: passthrough config holds");
    lint(&fx, 100, "memory: 2048\nname: plain\n");
    assert_clean(&fx.out);
    assert_true(has_text(fx.out.v[0].title, "no PCI passthrough"));
    /* unknown VMID: the layer is the label */
    gp_findings_clear(&fx.out);
    assert_int_equal(gp_vm_lint_config(&fx.ctx, "copy.conf", 0, "ballon: 0\n", 10, &fx.out), 0);
    assert_string_equal(get(&fx.out, "vm.unknown-key")->layer, "copy.conf");
    assert_true(has_text(get(&fx.out, "vm.unknown-key")->fix, "qm set VMID --balloon 0"));
    fx_close(&fx);
}

static void test_bad_line(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "name: a\n  onboot: 1\nMemory: 4096\nhostpci0 06:00\ngarbage line\n"
                   "\n[snap1]\nsnaptime: 1700000000\ncores:\n");
    assert_int_equal(count(&fx.out, "vm.bad-line"), 5);
    f = &fx.out.v[0];
    assert_string_equal(f->id, "vm.bad-line");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 2);
    assert_string_equal(f->evidence[0].file, "/etc/pve/qemu-server/100.conf");
    assert_string_equal(f->evidence[0].text, "  onboot: 1");
    assert_string_equal(f->fix, "line 2 should read: onboot: 1");
    assert_int_equal(fx.out.v[1].evidence[0].line, 3);
    assert_string_equal(fx.out.v[1].fix, "line 3 should read: memory: 4096");
    assert_int_equal(fx.out.v[2].evidence[0].line, 4);
    assert_string_equal(fx.out.v[2].fix, "line 4 should read: hostpci0: 06:00");
    assert_int_equal(fx.out.v[3].evidence[0].line, 5);
    assert_true(has_text(fx.out.v[3].fix, "delete line 5"));
    /* a bad line in a snapshot is reported too, with its section */
    assert_int_equal(fx.out.v[4].evidence[0].line, 9);
    assert_true(has_text(fx.out.v[4].title, "[snap1]"));
    assert_null(gp_findings_find(&fx.out, "vm.ok"));
    lint(&fx, 100, CLEAN);
    assert_int_equal(count(&fx.out, "vm.bad-line"), 0);
    /* not a text file at all */
    gp_findings_clear(&fx.out);
    assert_int_equal(gp_vm_lint_config(&fx.ctx, "/etc/pve/qemu-server/100.conf", 100, "name: a\0b\n", 9, &fx.out), 0);
    assert_int_equal(fx.out.n, 1);
    assert_int_equal(get(&fx.out, "vm.bad-file")->severity, GP_SEV_FAIL);
    fx_close(&fx);
}

static void test_duplicate_key(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "memory: 4096\nname: a\nmemory: 8192\ncores: 4\nmemory: 16384\n[snap]\ncores: 2\n");
    assert_int_equal(count(&fx.out, "vm.duplicate-key"), 1);
    f = get(&fx.out, "vm.duplicate-key");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_true(has_text(f->title, "'memory' is set 3 times"));
    assert_true(has_text(f->title, "line 5"));
    assert_int_equal(f->n_evidence, 3);
    assert_int_equal(f->evidence[0].line, 1);
    assert_int_equal(f->evidence[1].line, 3);
    assert_int_equal(f->evidence[2].line, 5);
    assert_true(has_text(f->fix, "qm set 100 --memory 16384"));
    /* the same key in main and in a snapshot is no duplicate */
    lint(&fx, 100, "cores: 4\n[snap]\ncores: 2\n");
    assert_int_equal(count(&fx.out, "vm.duplicate-key"), 0);
    fx_close(&fx);
}

static void test_unknown_key(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "name: a\nhostpc0: 0000:06:00,pcie=1\nballon: 0\nhostpci16: 06:00\nxyzzy: 1\n"
                   "parent: snap\nvmstate: local:100/vm-100-state.raw\nrunningmachine: pc-q35-9.0+pve0\n"
                   "usb13: host=1-1\nnet31: virtio=BC:24:11:00:00:02\nunused255: local:vm-100-disk-9\n"
                   "[snap]\nsnaptime: 1\nsnapstate: prepare\nbogus: 1\n");
    assert_int_equal(count(&fx.out, "vm.unknown-key"), 4);
    f = &fx.out.v[0];
    assert_string_equal(f->id, "vm.unknown-key");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_true(has_text(f->title, "did you mean 'hostpci0'"));
    assert_int_equal(f->evidence[0].line, 2);
    assert_true(has_text(f->fix, "qm set 100 --hostpci0 0000:06:00,pcie=1"));
    assert_true(has_text(f->fix, "hostpci0: 0000:06:00,pcie=1"));
    assert_true(has_text(fx.out.v[1].title, "did you mean 'balloon'"));
    assert_true(has_text(fx.out.v[1].fix, "qm set 100 --balloon 0"));
    assert_int_equal(fx.out.v[1].evidence[0].line, 3);
    /* past the family's end: a free slot */
    assert_true(has_text(fx.out.v[2].title, "hostpci0 to hostpci15"));
    assert_true(has_text(fx.out.v[2].fix, "qm set 100 --hostpci0 06:00"));
    assert_int_equal(fx.out.v[2].evidence[0].line, 4);
    /* nothing near */
    assert_true(has_text(fx.out.v[3].title, "'xyzzy'"));
    assert_false(has_text(fx.out.v[3].title, "did you mean"));
    assert_true(has_text(fx.out.v[3].fix, "delete line 5"));
    lint(&fx, 100, CLEAN);
    assert_int_equal(count(&fx.out, "vm.unknown-key"), 0);
    fx_close(&fx);
}

static void test_hostpci_missing(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: 0000:0b:00,pcie=1\nhostpci1: 06:00.0;0000:0c:00.1\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-missing"), 2);
    f = get(&fx.out, "vm.hostpci-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "no PCI device found for '0000:0b:00'"));
    assert_int_equal(f->evidence[0].line, 8);
    assert_string_equal(f->evidence[0].text, "hostpci0: 0000:0b:00,pcie=1");
    assert_true(has_text(f->fix, "qm set 100 --hostpci0 '<address>,pcie=1'"));
    assert_true(has_text(fx.out.v[1].title, "'0000:0c:00.1'"));
    assert_int_equal(fx.out.v[1].evidence[0].line, 9);
    /* another domain must be written out: 01:00 is 0000:01:00 */
    lint(&fx, 100, CLEAN "hostpci0: 0001:06:00\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-missing"), 1);
    lint(&fx, 100, CLEAN "hostpci0: 06:00\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-missing"), 0);
    fx_close(&fx);
}

static void test_hostpci_invalid(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: 0000:0A:00.0,pcie=1\n");
    f = get(&fx.out, "vm.hostpci-invalid");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "upper-case"));
    assert_int_equal(f->evidence[0].line, 8);
    assert_true(has_text(f->fix, "qm set 100 --hostpci0 0000:0a:00.0,pcie=1"));
    assert_null(gp_findings_find(&fx.out, "vm.hostpci-missing"));

    lint(&fx, 100, CLEAN "hostpci0: host=06:00,mapping=gpu\n");
    f = get(&fx.out, "vm.hostpci-invalid");
    assert_true(has_text(f->title, "Cannot set both 'host' and 'mapping'"));
    assert_true(has_text(f->fix, "hostpci0: host=06:00"));

    lint(&fx, 100, CLEAN "hostpci0: pcie=1,x-vga=1\n");
    assert_true(has_text(get(&fx.out, "vm.hostpci-invalid")->title, "Either 'host' or 'mapping' must be set"));

    lint(&fx, 100, CLEAN "hostpci0: 06:0\n");
    assert_true(has_text(get(&fx.out, "vm.hostpci-invalid")->title, "'06:0' is not a PCI address"));

    lint(&fx, 100, CLEAN "hostpci0: 06:00,07:00\n");
    assert_true(has_text(get(&fx.out, "vm.hostpci-invalid")->title, "not a property string"));

    lint(&fx, 100, CLEAN "hostpci0: host=0000:06:00.0;0000:06:00.1,pcie=1\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-invalid"), 0);
    assert_clean(&fx.out);
    fx_close(&fx);
}

static void test_hostpci_group(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    /* a GPU whose group holds the management NIC */
    lint(&fx, 100, CLEAN "hostpci0: 07:00\n");
    f = get(&fx.out, "vm.hostpci-group");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "what the host needs"));
    assert_int_equal(f->evidence[0].line, 8);
    {
        bool nic = false;

        for (size_t i = 1; i < f->n_evidence; i++)
            if (f->evidence[i].device && strcmp(f->evidence[i].device, "0000:02:00.0") == 0)
                nic = f->evidence[i].text && strstr(f->evidence[i].text, "vmbr0");
        assert_true(nic);
    }
    /* a GPU sharing with a USB controller: warn */
    lint(&fx, 100, CLEAN "hostpci0: 09:00\n");
    f = get(&fx.out, "vm.hostpci-group");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->n_evidence, 2);
    assert_string_equal(f->evidence[1].device, "0000:0a:00.0");
    /* ... unless the VM takes that controller too */
    lint(&fx, 100, CLEAN "hostpci0: 09:00\nhostpci1: 0a:00.0\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-group"), 0);
    /* a non-GPU device: the group's other endpoints */
    lint(&fx, 100, CLEAN "hostpci0: 04:00.0\n");
    f = get(&fx.out, "vm.hostpci-group");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_string_equal(f->evidence[1].device, "0000:05:00.0");
    lint(&fx, 100, CLEAN "hostpci0: 03:00.0\n");
    f = get(&fx.out, "vm.hostpci-group");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    /* the isolated GPU (its root port does not count) */
    lint(&fx, 100, CLEAN "hostpci0: 06:00\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-group"), 0);
    fx_close(&fx);
}

static void test_host_driver(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: 0000:01:00,pcie=1\n");
    f = get(&fx.out, "vm.hostpci-host-driver");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_true(has_text(f->title, "0000:01:00.0 is on nvidia"));
    assert_true(has_text(f->title, "host console"));
    assert_int_equal(f->evidence[0].line, 8);
    assert_string_equal(f->evidence[1].device, "0000:01:00.0");
    assert_string_equal(f->evidence[2].device, "0000:01:00.1");
    assert_string_equal(f->fix, "gpupass setup 0000:01:00.0   # binds it to vfio-pci at every boot; add --apply");
    /* the isolated group (root port only) says nothing */
    assert_int_equal(count(&fx.out, "vm.hostpci-group"), 0);
    /* a non-GPU device: the modprobe.d fix */
    lint(&fx, 100, CLEAN "hostpci0: 0a:00.0\n");
    assert_true(has_text(get(&fx.out, "vm.hostpci-host-driver")->fix, "options vfio-pci ids=1912:0015"));
    /* driver=keep and mdev stay on the host driver by design */
    lint(&fx, 100, CLEAN "hostpci0: 0000:01:00,driver=keep\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-host-driver"), 0);
    lint(&fx, 100, CLEAN "hostpci0: 0000:01:00.0,mdev=nvidia-556\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-host-driver"), 0);
    /* already on vfio-pci */
    lint(&fx, 100, CLEAN "hostpci0: 06:00\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-host-driver"), 0);
    /* a running VM has its devices already */
    put("run/qemu-server/100.pid", "4242\n");
    mkdirs("proc/4242");
    lint(&fx, 100, CLEAN "hostpci0: 0000:01:00,pcie=1\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-host-driver"), 0);
    fx_close(&fx);
}

static void test_no_iommu(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    fx.pci->iommu_groups = 0;
    lint(&fx, 100, CLEAN "hostpci0: 06:00\nhostpci1: 04:00.0\n");
    f = get(&fx.out, "vm.hostpci-no-iommu");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "IOMMU not present"));
    assert_int_equal(f->n_evidence, 2);
    assert_int_equal(f->evidence[0].line, 8);
    assert_int_equal(f->evidence[1].line, 9);
    assert_int_equal(count(&fx.out, "vm.hostpci-group"), 0);
    /* no hostpci: nothing to say */
    lint(&fx, 100, CLEAN);
    assert_int_equal(count(&fx.out, "vm.hostpci-no-iommu"), 0);
    fx.pci->iommu_groups = 5;
    lint(&fx, 100, CLEAN "hostpci0: 06:00\n");
    assert_int_equal(count(&fx.out, "vm.hostpci-no-iommu"), 0);
    fx_close(&fx);
}

static void test_gpu_in_two_vms(void **state)
{
    const gp_finding *f;
    fixture fx;
    unsigned one[] = { 100 }, missing[] = { 999 };

    put("etc/pve/qemu-server/100.conf", CLEAN "onboot: 1\nhostpci0: 0000:06:00,pcie=1\n");
    put("etc/pve/qemu-server/101.conf", CLEAN "onboot: 1\nhostpci1: 06:00.0\n");
    put("etc/pve/qemu-server/102.conf", CLEAN "hostpci0: 06:00\n");
    put("etc/pve/qemu-server/103.conf", CLEAN);
    fx_open(&fx);
    assert_int_equal(gp_vm_lint(&fx.ctx, NULL, 0, &fx.out), 0);
    /* 100: with 101 (both at boot) and 102; 101 and 102 the same way */
    assert_int_equal(count(&fx.out, "vm.gpu-in-two-vms"), 6);
    f = get(&fx.out, "vm.gpu-in-two-vms");
    assert_string_equal(f->layer, "VM 100");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "VM 101 (win) also takes (hostpci1)"));
    assert_true(has_text(f->title, "both start at boot"));
    assert_int_equal(f->evidence[0].line, 9);
    assert_string_equal(f->evidence[1].file, "/etc/pve/qemu-server/101.conf");
    assert_int_equal(f->evidence[1].line, 9);
    assert_string_equal(f->fix, "qm set 101 --onboot 0   # only one of the two starts at boot");
    assert_int_equal(fx.out.v[1].severity, GP_SEV_WARN);
    assert_true(has_text(fx.out.v[1].title, "VM 102"));
    assert_true(has_text(fx.out.v[1].fix, "qm set 102 --delete hostpci0"));
    /* VM 101's side of the pair names the same VM to take off boot */
    assert_string_equal(fx.out.v[2].layer, "VM 101");
    assert_string_equal(fx.out.v[2].fix, "qm set 101 --onboot 0   # only one of the two starts at boot");
    /* 103 takes nothing: it holds */
    for (size_t i = 0; i < fx.out.n; i++)
        if (strcmp(fx.out.v[i].layer, "VM 103") == 0)
            assert_string_equal(fx.out.v[i].id, "vm.ok");
    gp_findings_clear(&fx.out);

    /* the VMs named only */
    assert_int_equal(gp_vm_lint(&fx.ctx, one, 1, &fx.out), 0);
    assert_int_equal(count(&fx.out, "vm.gpu-in-two-vms"), 2);
    for (size_t i = 0; i < fx.out.n; i++)
        assert_string_equal(fx.out.v[i].layer, "VM 100");
    gp_findings_clear(&fx.out);
    assert_int_equal(gp_vm_lint(&fx.ctx, missing, 1, &fx.out), 0);
    f = get(&fx.out, "vm.not-found");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_string_equal(f->layer, "VM 999");
    /* gp_vm_lint_config alone does not look at other VMs */
    lint(&fx, 100, CLEAN "onboot: 1\nhostpci0: 0000:06:00,pcie=1\n");
    assert_int_equal(count(&fx.out, "vm.gpu-in-two-vms"), 0);
    fx_close(&fx);
}

/* A mapping with two entries for this node is a pool: PVE gives each VM a
 * free one, so two VMs using it are no conflict. */
static void test_mapping_pool(void **state)
{
    fixture fx;

    put("etc/pve/mapping/pci.cfg", "pool\n"
        "\tmap node=pve1,path=0000:06:00,id=1002:73bf,subsystem-id=1002:0e3a,iommugroup=4\n"
        "\tmap node=pve1,path=0000:09:00,id=10de:1b81,subsystem-id=10de:119f,iommugroup=5\n");
    put("etc/pve/qemu-server/100.conf", CLEAN "onboot: 1\nhostpci0: mapping=pool,pcie=1\n");
    put("etc/pve/qemu-server/101.conf", CLEAN "onboot: 1\nhostpci0: mapping=pool,pcie=1\n");
    fx_open(&fx);
    assert_int_equal(gp_vm_lint(&fx.ctx, NULL, 0, &fx.out), 0);
    assert_int_equal(count(&fx.out, "vm.gpu-in-two-vms"), 0);
    assert_int_equal(count(&fx.out, "vm.mapping-invalid"), 0);
    assert_int_equal(count(&fx.out, "vm.mapping-missing"), 0);
    fx_close(&fx);
}

static void test_no_vms(void **state)
{
    fixture fx;

    fx_open(&fx);
    assert_int_equal(gp_vm_lint(&fx.ctx, NULL, 0, &fx.out), 0);
    assert_int_equal(fx.out.n, 1);
    assert_string_equal(fx.out.v[0].id, "vm.none");
    fx_close(&fx);
}

static void test_pcie_without_q35(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "vga: none\nhostpci0: 06:00,pcie=1\n");
    f = get(&fx.out, "vm.pcie-without-q35");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "q35 machine model is not enabled"));
    assert_int_equal(f->evidence[0].line, 2);
    assert_true(has_text(f->fix, "qm set 100 --machine q35"));
    assert_true(has_text(f->fix, "drop pcie=1: qm set 100 --hostpci0 06:00"));
    /* a pinned i440fx version keeps its version */
    lint(&fx, 100, "machine: pc-i440fx-8.1\nhostpci0: 06:00,pcie=on\n");
    f = get(&fx.out, "vm.pcie-without-q35");
    assert_int_equal(f->n_evidence, 2);
    assert_int_equal(f->evidence[1].line, 1);
    assert_true(has_text(f->fix, "qm set 100 --machine pc-q35-8.1"));
    lint(&fx, 100, "machine: type=pc,viommu=virtio\nhostpci0: 06:00,pcie=1\n");
    assert_true(has_text(get(&fx.out, "vm.pcie-without-q35")->fix, "--machine type=q35,viommu=virtio"));
    lint(&fx, 100, "machine: pc-q35-9.2+pve1\nhostpci0: 06:00,pcie=1\n");
    assert_int_equal(count(&fx.out, "vm.pcie-without-q35"), 0);
    lint(&fx, 100, "hostpci0: 06:00,pcie=0\n");
    assert_int_equal(count(&fx.out, "vm.pcie-without-q35"), 0);
    fx_close(&fx);
}

static void test_x_vga_with_vga(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "machine: q35\nvga: std\nhostpci0: 06:00,pcie=1,x-vga=1\n");
    f = get(&fx.out, "vm.x-vga-with-vga");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 3);
    assert_int_equal(f->evidence[1].line, 2);
    assert_string_equal(f->fix, "qm set 100 --vga none");
    lint(&fx, 100, "machine: q35\nvga: memory=64\nhostpci0: 06:00,pcie=1,x-vga=1\n");
    assert_int_equal(count(&fx.out, "vm.x-vga-with-vga"), 1);
    lint(&fx, 100, "machine: q35\nvga: none\nhostpci0: 06:00,pcie=1,x-vga=1\n");
    assert_int_equal(count(&fx.out, "vm.x-vga-with-vga"), 0);
    lint(&fx, 100, "machine: q35\nvga: serial0\nhostpci0: 06:00,pcie=1,x-vga=1\n");
    assert_int_equal(count(&fx.out, "vm.x-vga-with-vga"), 0);
    /* no vga: x-vga drops the emulated one itself */
    lint(&fx, 100, "machine: q35\nhostpci0: 06:00,pcie=1,x-vga=1\n");
    assert_int_equal(count(&fx.out, "vm.x-vga-with-vga"), 0);
    fx_close(&fx);
}

static void test_romfile(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: 06:00,pcie=1,romfile=navi.rom\n");
    f = get(&fx.out, "vm.romfile-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "/usr/share/kvm/navi.rom does not exist"));
    assert_int_equal(f->evidence[0].line, 8);
    put("usr/share/kvm/navi.rom", "rom");
    lint(&fx, 100, CLEAN "hostpci0: 06:00,pcie=1,romfile=navi.rom\n");
    assert_int_equal(count(&fx.out, "vm.romfile-missing"), 0);
    lint(&fx, 100, CLEAN "hostpci0: 06:00,pcie=1,romfile=/root/navi.rom\n");
    f = get(&fx.out, "vm.romfile-missing");
    assert_true(has_text(f->title, "absolute"));
    assert_true(has_text(f->fix, "cp /root/navi.rom /usr/share/kvm/navi.rom"));
    assert_true(has_text(f->fix, "qm set 100 --hostpci0 06:00,pcie=1,romfile=navi.rom"));
    fx_close(&fx);
}

static void test_hugepages(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "memory: 8192\nnuma: 1\nhugepages: 4\n");
    f = get(&fx.out, "vm.hugepages-invalid");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 3);
    assert_string_equal(f->fix, "qm set 100 --hugepages 1024");

    lint(&fx, 100, "memory: 8192\nhugepages: 1024\n");
    f = get(&fx.out, "vm.hugepages-no-numa");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "numa needs to be enabled to use hugepages"));
    assert_string_equal(f->fix, "qm set 100 --numa 1");
    lint(&fx, 100, "memory: 8192\nnuma: 0\nhugepages: 2\n");
    assert_int_equal(get(&fx.out, "vm.hugepages-no-numa")->n_evidence, 2);

    lint(&fx, 100, "memory: 3000\nnuma: 1\nhugepages: 1024\n");
    f = get(&fx.out, "vm.hugepages-memory");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 1);
    assert_string_equal(f->fix, "qm set 100 --memory 3072");
    lint(&fx, 100, "memory: current=3001,foo=1\nnuma: 1\nhugepages: any\n");
    assert_true(has_text(get(&fx.out, "vm.hugepages-memory")->fix, "--memory current=3002,foo=1"));
    /* no memory line: PVE's 512 MiB default is not a multiple of 1 GiB */
    lint(&fx, 100, "numa: 1\nhugepages: 1024\n");
    assert_true(has_text(get(&fx.out, "vm.hugepages-memory")->fix, "--memory 1024"));

    /* a memory value PVE cannot read: the other rules still hold */
    lint(&fx, 100, "memory: lots\nhugepages: 2\n");
    assert_int_equal(count(&fx.out, "vm.hugepages-no-numa"), 1);
    assert_int_equal(count(&fx.out, "vm.hugepages-memory"), 0);
    lint(&fx, 100, "memory: 8192\nnuma: 1\nhugepages: 1024\n");
    assert_clean(&fx.out);
    /* the host offers 2 MiB pages only */
    mkdirs("sys/kernel/mm/hugepages/hugepages-2048kB");
    lint(&fx, 100, "memory: 8192\nnuma: 1\nhugepages: 1024\n");
    f = get(&fx.out, "vm.hugepages-host");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->fix, "qm set 100 --hugepages 2"));
    lint(&fx, 100, "memory: 8192\nnuma: 1\nhugepages: any\n");
    assert_int_equal(count(&fx.out, "vm.hugepages-host"), 0);
    fx_close(&fx);
}

static void test_balloon(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "machine: q35\nvga: none\nmemory: 8192\nballoon: 4096\nhostpci0: 06:00,pcie=1\n");
    f = get(&fx.out, "vm.balloon-with-passthrough");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 4);
    assert_string_equal(f->fix, "qm set 100 --balloon 0");
    lint(&fx, 100, "machine: q35\nvga: none\nballoon: 0\nhostpci0: 06:00,pcie=1\n");
    assert_int_equal(count(&fx.out, "vm.balloon-with-passthrough"), 0);
    lint(&fx, 100, "memory: 8192\nballoon: 4096\n");
    assert_int_equal(count(&fx.out, "vm.balloon-with-passthrough"), 0);
    fx_close(&fx);
}

static void test_bridge_missing(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, "name: a\nnet0: virtio=BC:24:11:00:00:01,bridge=vibr0,firewall=1\nnet1: e1000=BC:24:11:00:00:02,"
                   "bridge=vmbr0\nnet2: virtio=BC:24:11:00:00:03,bridge=lab\n");
    assert_int_equal(count(&fx.out, "vm.bridge-missing"), 2);
    f = get(&fx.out, "vm.bridge-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "bridge 'vibr0' does not exist"));
    assert_true(has_text(f->title, "did you mean 'vmbr0'"));
    assert_int_equal(f->evidence[0].line, 2);
    assert_string_equal(f->fix, "qm set 100 --net0 virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1");
    assert_int_equal(fx.out.v[1].evidence[0].line, 4);
    assert_false(has_text(fx.out.v[1].title, "did you mean"));
    /* a net device that is not a bridge (the NIC) is no "did you mean" */
    lint(&fx, 100, "net0: virtio=BC:24:11:00:00:01,bridge=enp2s1\n");
    assert_false(has_text(get(&fx.out, "vm.bridge-missing")->title, "enp2s0"));
    fx_close(&fx);

    /* an offline root: /etc/network/interfaces decides */
    rm("sys/class/net");
    put("etc/network/interfaces", "auto lo\niface lo inet loopback\n\nauto vmbr1\niface vmbr1 inet static\n"
                                  "\tbridge-ports eno1\n");
    put("etc/network/interfaces.d/sdn", "auto vnet1\niface vnet1\n\tbridge_ports none\n");
    fx_open(&fx);
    lint(&fx, 100, "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0\nnet1: virtio=BC:24:11:00:00:02,bridge=vmbr1\n"
                   "net2: virtio=BC:24:11:00:00:03,bridge=vnet1\n");
    assert_int_equal(count(&fx.out, "vm.bridge-missing"), 1);
    f = get(&fx.out, "vm.bridge-missing");
    assert_int_equal(f->evidence[0].line, 1);
    assert_true(has_text(f->fix, "bridge=vmbr1"));
    fx_close(&fx);

    /* neither source: not judged */
    rm("etc/network");
    fx_open(&fx);
    lint(&fx, 100, "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n");
    assert_clean(&fx.out);
    fx_close(&fx);
}

#define PCI_CFG                                                                                                      \
    "gpu\n"                                                                                                          \
    "\tmap node=pve1,path=0000:06:00,id=1002:73bf,subsystem-id=1002:0e3a,iommugroup=4\n"                             \
    "\tmap node=pve2,path=0000:41:00,id=1002:73bf,subsystem-id=1002:0e3a,iommugroup=31\n"                            \
    "\n"                                                                                                             \
    "elsewhere\n"                                                                                                    \
    "\tmap node=pve2,path=0000:06:00,id=1002:73bf,subsystem-id=1002:0e3a,iommugroup=4\n"                             \
    "\n"                                                                                                             \
    "stale\n"                                                                                                        \
    "\tmap node=pve1,path=0000:06:00,id=1002:73bf,subsystem-id=1002:0e3a,iommugroup=9\n"

static void test_mapping(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: mapping=gpu,pcie=1\n");
    /* no pci.cfg at all */
    f = get(&fx.out, "vm.mapping-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "PCI device mapping not found for 'gpu'"));
    assert_int_equal(f->evidence[0].line, 8);
    fx_close(&fx);

    put("etc/pve/mapping/pci.cfg", PCI_CFG);
    fx_open(&fx);
    lint(&fx, 100, CLEAN "hostpci0: mapping=gpu,pcie=1\n");
    assert_clean(&fx.out);
    lint(&fx, 100, CLEAN "hostpci0: mapping=nope,pcie=1\n");
    assert_true(has_text(get(&fx.out, "vm.mapping-missing")->title, "has no such mapping"));
    lint(&fx, 100, CLEAN "hostpci0: mapping=elsewhere,pcie=1\n");
    f = get(&fx.out, "vm.mapping-missing");
    assert_true(has_text(f->title, "no map entry for node pve1"));
    assert_string_equal(f->evidence[1].file, "/etc/pve/mapping/pci.cfg");
    assert_int_equal(f->evidence[1].line, 5);
    lint(&fx, 100, CLEAN "hostpci0: mapping=stale,pcie=1\n");
    f = get(&fx.out, "vm.mapping-invalid");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "PCI device mapping invalid (hardware probably changed)"));
    assert_int_equal(f->evidence[0].line, 8);
    assert_int_equal(f->n_evidence, 2);
    assert_string_equal(f->evidence[1].file, "/etc/pve/mapping/pci.cfg");
    assert_int_equal(f->evidence[1].line, 9);
    assert_true(has_text(f->evidence[1].text, "iommugroup"));
    assert_true(has_text(f->fix, "gpupass map stale --gpu 0000:06:00 --apply"));
    assert_null(gp_findings_find(&fx.out, "vm.mapping-missing"));
    fx_close(&fx);
}

static void test_map_lint(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    assert_int_equal(gp_map_lint(&fx.ctx, &fx.out), 0);
    assert_int_equal(fx.out.n, 1);
    assert_string_equal(fx.out.v[0].id, "map.none");
    assert_int_equal(fx.out.v[0].severity, GP_SEV_INFO);
    fx_close(&fx);

    put("etc/pve/mapping/pci.cfg", "\tmap node=pve1,path=0000:01:00,id=10de:2684\n\n" PCI_CFG);
    fx_open(&fx);
    assert_int_equal(gp_map_lint(&fx.ctx, &fx.out), 0);
    f = get(&fx.out, "map.bad-line");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_string_equal(f->layer, "/etc/pve/mapping/pci.cfg");
    assert_int_equal(f->evidence[0].line, 1);
    f = get(&fx.out, "map.entry-ok");
    assert_int_equal(f->severity, GP_SEV_PASS);
    assert_string_equal(f->layer, "mapping gpu");
    assert_int_equal(f->evidence[0].line, 4);
    assert_int_equal(count(&fx.out, "map.entry-ok"), 1);
    f = get(&fx.out, "map.no-entry-for-node");
    assert_int_equal(f->severity, GP_SEV_INFO);
    assert_string_equal(f->layer, "mapping elsewhere");
    assert_int_equal(f->evidence[0].line, 7);
    f = get(&fx.out, "map.entry-invalid");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_string_equal(f->layer, "mapping stale");
    assert_int_equal(f->evidence[0].line, 11);
    assert_true(f->n_evidence >= 2);
    assert_true(has_text(f->evidence[1].text, "iommugroup"));
    assert_true(has_text(f->fix, "iommugroup=4"));
    assert_true(has_text(f->fix, "line 11 should read:\tmap node=pve1,path=0000:06:00,id=1002:73bf,"));
    assert_int_equal(count(&fx.out, "map.entry-invalid"), 1);
    fx_close(&fx);

    /* a clean file: the bad line gone */
    put("etc/pve/mapping/pci.cfg", PCI_CFG);
    fx_open(&fx);
    assert_int_equal(gp_map_lint(&fx.ctx, &fx.out), 0);
    assert_int_equal(count(&fx.out, "map.bad-line"), 0);
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostpci_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostpci_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostpci_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_iommu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpu_in_two_vms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_vms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcie_without_q35, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x_vga_with_vga, setup, teardown),
        cmocka_unit_test_setup_teardown(test_romfile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hugepages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_lint, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
