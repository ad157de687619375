/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container linter and the CT helpers on a small hand-built Proxmox
 * host: one test per finding, present when it should be and absent on a
 * clean config. */
#include <errno.h>
#include <fcntl.h>
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
#include "lint-lxc.h"
#include "pvect.h"

/* A DRM minor of a PCI device, as the kernel lists it under the device. */
static void drm(const char *addr, const char *name, const char *devno)
{
    char p[256];

    snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/drm/%s/dev", addr, name);
    put(p, devno);
}

#define DEVNODES                                                                                                   \
    "dev/dri dir 0:0 0755 0 0\n"                                                                                   \
    "dev/dri/card0 char 226:0 0660 0 44\n"                                                                         \
    "dev/dri/renderD128 char 226:128 0660 0 104\n"                                                                 \
    "dev/dri/card1 char 226:1 0660 0 44\n"                                                                         \
    "dev/dri/renderD129 char 226:129 0660 0 104\n"                                                                 \
    "dev/nvidia0 char 195:0 0666 0 0\n"                                                                            \
    "dev/nvidiactl char 195:255 0666 0 0\n"                                                                        \
    "dev/nvidia-modeset char 195:254 0666 0 0\n"                                                                   \
    "dev/nvidia-uvm char 508:0 0666 0 0\n"                                                                         \
    "dev/nvidia-uvm-tools char 508:1 0666 0 0\n"                                                                   \
    "dev/sdb block 8:16 0660 0 6\n"                                                                                \
    "dev/net dir 0:0 0755 0 0\n"                                                                                   \
    "dev/net/tun char 10:200 0666 0 0\n"

#define HOST_NV "550.127.05"

/* The container's side: /etc/group and, optionally, an NVIDIA userland. */
static void ct_root(const char *dir, const char *nv_version)
{
    char p[512], t[128];

    snprintf(p, sizeof(p), "%s/etc/group", dir);
    put(p, "root:x:0:\nvideo:x:44:\nrender:x:106:jellyfin\nnogroup:x:65534:\n");
    snprintf(p, sizeof(p), "%s/etc/hostname", dir);
    put(p, "media\n");
    if (nv_version) {
        snprintf(p, sizeof(p), "%s/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.%s", dir, nv_version);
        put(p, "");
        snprintf(p, sizeof(p), "%s/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", dir);
        snprintf(t, sizeof(t), "libnvidia-ml.so.%s", nv_version);
        ln(t, p);
    }
}

/*
 * The host "pve1":
 *   00:02.0 Intel iGPU (i915): card0, renderD128
 *   01:00.0 NVIDIA (nvidia, Device Minor 0): card1, renderD129, nvidia0; 01:00.1 its audio
 *   06:00.0 AMD + 06:00.1 audio on vfio-pci (VM 100 has it)
 * Device nodes in gpupass/devnodes.txt; nvidia-uvm has the dynamic major 508.
 * CT 200 runs (rootfs mounted, monitor socket); CT 201 is on ZFS, 202 on a
 * dir storage, 203 on LVM-thin; CT 300 belongs to node pve2.
 */
static int setup(void **state)
{
    if (gp_test_tmpdir(root, sizeof(root), "gpupass-lintlxc") < 0)
        return -1;
    put("proc/cmdline", "root=/dev/sda1\n");
    put("etc/hostname", "pve1.example.com\n");
    pci_dev("0000:00:02.0", "8086", "a780", NULL, "030000", 1, "i915");
    drm("0000:00:02.0", "card0", "226:0\n");
    drm("0000:00:02.0", "renderD128", "226:128\n");
    pci_dev("0000:01:00.0", "10de", "2684", NULL, "030000", 2, "nvidia");
    drm("0000:01:00.0", "card1", "226:1\n");
    drm("0000:01:00.0", "renderD129", "226:129\n");
    pci_dev("0000:01:00.1", "10de", "22ba", NULL, "040300", 2, "snd_hda_intel");
    pci_dev("0000:06:00.0", "1002", "73bf", NULL, "030000", 4, "vfio-pci");
    pci_dev("0000:06:00.1", "1002", "ab28", NULL, "040300", 4, "vfio-pci");
    put("proc/devices", "Character devices:\n  1 mem\n  4 tty\n 10 misc\n195 nvidia\n226 drm\n235 nvidia-caps\n"
                        "508 nvidia-uvm\n\nBlock devices:\n  8 sd\n");
    put("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  " HOST_NV
                                      "  Tue Oct  8 03:21:52 UTC 2024\nGCC version:  gcc version 12.2.0\n");
    put("proc/driver/nvidia/gpus/0000:01:00.0/information", "Model: \t\t NVIDIA GeForce RTX 4090\nIRQ:   \t\t 180\n"
                                                             "Device Minor: \t 0\n");
    put("gpupass/devnodes.txt", DEVNODES);
    put("proc/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n"
                         "0000000000000000: 00000002 00000000 00010000 0001 01 23456 @/var/lib/lxc/200/command\n"
                         "0000000000000000: 00000002 00000000 00010000 0001 01 23457 /run/systemd/notify\n");
    put("etc/pve/storage.cfg", "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,rootdir\n\n"
                               "zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\tsparse 1\n\n"
                               "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n"
                               "zfspool: tank\n\tpool tank/ct\n\tmountpoint /mnt/tank-ct\n\tcontent rootdir\n");
    mkdirs("etc/pve/nodes/pve1/lxc");
    mkdirs("etc/pve/nodes/pve1/qemu-server");
    ln("nodes/pve1/lxc", "etc/pve/lxc");
    ln("nodes/pve1/qemu-server", "etc/pve/qemu-server");
    put("etc/pve/nodes/pve1/qemu-server/100.conf", "name: win\nhostpci0: 0000:06:00,pcie=1\n");
    put("etc/pve/nodes/pve2/lxc/300.conf", "hostname: far\n");
    put("etc/pve/nodes/pve2/qemu-server/400.conf", "name: farvm\n");
    ct_root("var/lib/lxc/200/rootfs", HOST_NV);
    ct_root("rpool/data/subvol-201-disk-0", NULL);
    ct_root("var/lib/vz/images/202/subvol-202-disk-0.subvol", NULL);
    mkdirs("var/lib/lxc/201/rootfs");
    return 0;
}

/* Lints one config text as CT ctid's (the file is not read). */
static void lint(fixture *fx, unsigned ctid, const char *text)
{
    char label[64];

    snprintf(label, sizeof(label), "/etc/pve/lxc/%u.conf", ctid);
    gp_findings_clear(&fx->out);
    assert_int_equal(gp_lxc_lint_config(&fx->ctx, label, ctid, text, strlen(text), &fx->out), 0);
    if (getenv("GP_TEST_DUMP"))
        dump(&fx->out);
}

static void absent(const gp_findings *l, const char *id)
{
    if (gp_findings_find(l, id)) {
        dump(l);
        fail_msg("unexpected finding %s", id);
    }
}

static bool has_text(const char *s, const char *needle)
{
    if (s && strstr(s, needle))
        return true;
    print_message("  '%s' not in '%s'\n", needle, s ? s : "(null)");
    return false;
}

/* A config with nothing to say but the one pass finding. */
static void assert_clean(const gp_findings *l)
{
    if (l->n != 1 || strcmp(l->v[0].id, "lxc.ok") != 0) {
        dump(l);
        fail_msg("expected only lxc.ok");
    }
    assert_int_equal(l->v[0].severity, GP_SEV_PASS);
}

#define BASE "arch: amd64\nhostname: media\nmemory: 4096\nostype: debian\nrootfs: local-zfs:subvol-200-disk-0,size=8G\n"

/* NVIDIA GPU 01:00.0 the PVE 8 way, and the same with raw lines. */
#define CLEAN_DEV                                                                                                  \
    BASE "dev0: /dev/nvidia0\ndev1: /dev/nvidiactl\ndev2: /dev/nvidia-uvm\ndev3: /dev/nvidia-uvm-tools\n"            \
         "dev4: /dev/dri/renderD129,gid=106\ndev5: /dev/dri/card1,gid=44\n"
#define CLEAN_RAW                                                                                                  \
    BASE "lxc.cgroup2.devices.allow: c 195:* rwm\nlxc.cgroup2.devices.allow: c 508:* rwm\n"                          \
         "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file\n"                                \
         "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file\n"                            \
         "lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file\n"                          \
         "lxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none bind,optional,create=file\n"

static void test_clean(void **state)
{
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, CLEAN_DEV);
    assert_clean(&fx.out);
    assert_string_equal(fx.out.v[0].layer, "CT 200");
    assert_true(has_text(fx.out.v[0].title, "CT 200"));
    lint(&fx, 200, CLEAN_RAW);
    assert_clean(&fx.out);
    /* no devices at all */
    lint(&fx, 200, BASE "cores: 2\n");
    assert_clean(&fx.out);
    assert_true(has_text(fx.out.v[0].title, "no device nodes"));
    /* non-GPU devices pass as they are: a block device by devN, tun by a bind */
    lint(&fx, 200, BASE "dev0: /dev/sdb\nlxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file\n");
    assert_clean(&fx.out);
    /* unknown CTID: the layer is the label, the rootfs is not looked at */
    gp_findings_clear(&fx.out);
    assert_int_equal(gp_lxc_lint_config(&fx.ctx, "copy.conf", 0, CLEAN_DEV, strlen(CLEAN_DEV), &fx.out), 0);
    assert_clean(&fx.out);
    assert_string_equal(fx.out.v[0].layer, "copy.conf");
    fx_close(&fx);
}

static void test_bad_line(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, BASE "  cores: 2\nlxc.cgroup2.devices.allow c 226:* rwm\ngarbage line\n[snap1]\nMemory: 1\n");
    assert_int_equal(count(&fx.out, "lxc.bad-line"), 4);
    f = &fx.out.v[0];
    assert_string_equal(f->id, "lxc.bad-line");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_string_equal(f->evidence[0].file, "/etc/pve/lxc/200.conf");
    assert_int_equal(f->evidence[0].line, 6);
    assert_string_equal(f->evidence[0].text, "  cores: 2");
    assert_string_equal(f->fix, "line 6 should read: cores: 2");
    assert_int_equal(fx.out.v[1].evidence[0].line, 7);
    assert_string_equal(fx.out.v[1].fix, "line 7 should read: lxc.cgroup2.devices.allow: c 226:* rwm");
    assert_int_equal(fx.out.v[2].evidence[0].line, 8);
    assert_true(has_text(fx.out.v[2].fix, "delete line 8"));
    assert_int_equal(fx.out.v[3].evidence[0].line, 10);
    assert_true(has_text(fx.out.v[3].title, "[snap1]"));
    absent(&fx.out, "lxc.ok");
    lint(&fx, 200, CLEAN_DEV);
    absent(&fx.out, "lxc.bad-line");
    /* not a text file */
    gp_findings_clear(&fx.out);
    assert_int_equal(gp_lxc_lint_config(&fx.ctx, "/etc/pve/lxc/200.conf", 200, "arch: a\0b\n", 10, &fx.out), 0);
    assert_int_equal(get(&fx.out, "lxc.bad-file")->severity, GP_SEV_FAIL);
    fx_close(&fx);
}

static void test_raw_after_section(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    /* line 9 is the snapshot's copy of line 6 (no mistake); line 10 was
     * appended to the end of the file, inside the snapshot */
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 195:* rwm\n\n[snap1]\n"
                        "lxc.cgroup2.devices.allow: c 195:* rwm\n"
                        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file\n");
    assert_int_equal(count(&fx.out, "lxc.raw-after-section"), 1);
    f = get(&fx.out, "lxc.raw-after-section");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 10);
    assert_int_equal(f->evidence[1].line, 8);
    assert_true(has_text(f->title, "[snap1]"));
    assert_true(has_text(f->fix, "move line 10 of /etc/pve/lxc/200.conf above line 8 ([snap1])"));
    /* the line does nothing there: no other node finding about it */
    absent(&fx.out, "lxc.allow-missing");
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 195:* rwm\n[snap1]\nlxc.cgroup2.devices.allow: c 195:* rwm\n");
    absent(&fx.out, "lxc.raw-after-section");
    /* [pve:pending] is no place for them either */
    lint(&fx, 200, BASE "[pve:pending]\nlxc.mount.entry: /dev/dri dev/dri none bind,create=dir\n");
    assert_true(has_text(get(&fx.out, "lxc.raw-after-section")->title, "pending"));
    fx_close(&fx);
}

static void test_node_missing(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, BASE "dev0: /dev/nvidia0\ndev1: /dev/nvidiactl\ndev2: /dev/nvidia-um,mode=0666\n"
                        "lxc.mount.entry: /dev/nvidia-uvm-tool dev/nvidia-uvm-tool none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/ttyACM0 dev/ttyACM0 none bind,create=file\n");
    assert_int_equal(count(&fx.out, "lxc.node-missing"), 3);
    f = &fx.out.v[0];
    assert_string_equal(f->id, "lxc.node-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 8);
    assert_true(has_text(f->title, "/dev/nvidia-um does not exist on this host (did you mean /dev/nvidia-uvm?)"));
    assert_true(has_text(f->title, "does not start"));
    assert_string_equal(f->fix, "pct set 200 --dev2 /dev/nvidia-uvm,mode=0666\n"
                                "# the line then reads: dev2: /dev/nvidia-uvm,mode=0666");
    f = &fx.out.v[1];
    assert_int_equal(f->evidence[0].line, 9);
    assert_true(has_text(f->title, "optional"));
    assert_string_equal(f->fix, "line 9 should read: lxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none "
                                "bind,optional,create=file");
    f = &fx.out.v[2];
    assert_int_equal(f->evidence[0].line, 10);
    assert_true(has_text(f->fix, "delete line 10"));
    /* the misspelt line is the one to fix: no second finding asks for nvidia-uvm */
    absent(&fx.out, "lxc.uvm-missing");
    /* a missing NVIDIA node with no near name: what creates it */
    rm("gpupass/devnodes.txt");
    put("gpupass/devnodes.txt", "dev/nvidia0 char 195:0 0666 0 0\ndev/nvidiactl char 195:255 0666 0 0\n");
    fx_close(&fx);
    fx_open(&fx);
    lint(&fx, 200, BASE "dev0: /dev/nvidia0\ndev1: /dev/nvidiactl\ndev2: /dev/nvidia-uvm\n");
    f = get(&fx.out, "lxc.node-missing");
    assert_true(has_text(f->fix, "nvidia-modprobe -u -c=0"));
    assert_true(has_text(f->fix, "pct set 200 --delete dev2"));
    lint(&fx, 200, BASE "dev0: /dev/nvidia0\n");
    absent(&fx.out, "lxc.node-missing");
    fx_close(&fx);
}

static void test_node_not_char(void **state)
{
    const gp_finding *f;
    fixture fx;

    /* a file where the node belongs (the first line of a path counts) */
    put("gpupass/devnodes.txt", "dev/nvidia-modeset file 0:0 0644 0 0\ndev/dri/renderD130 block 8:0 0660 0 6\n"
                                DEVNODES);
    fx_open(&fx);
    lint(&fx, 200, CLEAN_DEV "dev6: /dev/nvidia-modeset\ndev7: /dev/dri\n"
                   "lxc.mount.entry: /dev/dri/renderD130 dev/dri/renderD130 none bind,create=file\n");
    assert_int_equal(count(&fx.out, "lxc.node-not-char"), 3);
    f = get(&fx.out, "lxc.node-not-char");
    assert_int_equal(f->evidence[0].line, 12);
    assert_string_equal(f->title, "/dev/nvidia-modeset on this host is a regular file or a link, not a character "
                                  "device (left behind by a bind mount or a copy made while the driver was not "
                                  "loaded?)");
    assert_true(has_text(f->fix, "rm /dev/nvidia-modeset   # on the host"));
    assert_true(has_text(f->fix, "nvidia-modprobe -m"));
    assert_true(has_text(fx.out.v[1].title, "a directory, not a character device: devN takes one device node"));
    assert_true(has_text(fx.out.v[1].fix, "gpupass lxc 200 --gpu 0000:00:02.0 --style dev"));
    assert_true(has_text(fx.out.v[2].title, "a block device"));
    /* devN may pass a disk; a bind may pass a directory */
    lint(&fx, 200, CLEAN_DEV "dev6: /dev/sdb\n");
    absent(&fx.out, "lxc.node-not-char");
    fx_close(&fx);
}

static void test_major_mismatch(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    /* 10:200 (misc, tun) is no stale GPU major; 511 is nobody's now */
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 195:* rwm\nlxc.cgroup2.devices.allow: c 10:200 rwm\n"
                        "lxc.cgroup2.devices.allow: c 511:* rwm\n"
                        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none bind,optional,create=file\n");
    assert_int_equal(count(&fx.out, "lxc.major-mismatch"), 1);
    absent(&fx.out, "lxc.allow-missing");
    f = get(&fx.out, "lxc.major-mismatch");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_true(has_text(f->title, "c 511:* rwm allows nothing this container mounts; /dev/nvidia-uvm is 508:0 on "
                                   "this host"));
    assert_true(has_text(f->title, "no driver has that major now"));
    assert_int_equal(f->evidence[0].line, 8);
    assert_int_equal(f->evidence[1].line, 11);
    assert_string_equal(f->fix, "line 8 should read: lxc.cgroup2.devices.allow: c 508:* rwm");
    /* a major another GPU driver has now is named */
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 195:* rwm\nlxc.cgroup2.devices.allow: c 235:* rwm\n"
                        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file\n");
    f = get(&fx.out, "lxc.major-mismatch");
    assert_true(has_text(f->title, "(nvidia-caps has that major now)"));
    assert_string_equal(f->fix, "line 7 should read: lxc.cgroup2.devices.allow: c 508:* rwm");
    /* devN needs no allow line: a stale line beside devN is left alone */
    lint(&fx, 200, CLEAN_DEV "lxc.cgroup2.devices.allow: c 511:* rwm\n");
    absent(&fx.out, "lxc.major-mismatch");
    lint(&fx, 200, CLEAN_RAW);
    absent(&fx.out, "lxc.major-mismatch");
    fx_close(&fx);
}

static void test_allow_missing(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, BASE "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n"
                        "[snap]\nmemory: 1\n");
    f = get(&fx.out, "lxc.allow-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 6);
    assert_true(has_text(f->title, "/dev/dri/renderD129 (226:129)"));
    assert_string_equal(f->fix, "add to /etc/pve/lxc/200.conf above line 7 (the first [section]; raw lxc.* lines only "
                                "count in the main section):\nlxc.cgroup2.devices.allow: c 226:* rwm");
    /* a whole directory: its nodes, one finding for their major */
    lint(&fx, 200, BASE "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n");
    assert_int_equal(count(&fx.out, "lxc.allow-missing"), 1);
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n");
    absent(&fx.out, "lxc.allow-missing");
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: a\n"
                        "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n");
    absent(&fx.out, "lxc.allow-missing");
    /* a cgroup v1 line on a cgroup v2 host sets nothing */
    put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    fx_close(&fx);
    fx_open(&fx);
    lint(&fx, 200, BASE "lxc.cgroup.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n");
    f = get(&fx.out, "lxc.allow-missing");
    assert_true(has_text(f->title, "cgroup v1"));
    assert_int_equal(f->evidence[0].line, 6);
    assert_string_equal(f->fix, "line 6 should read: lxc.cgroup2.devices.allow: c 226:* rwm");
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 226:129 rw\n"
                        "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n");
    absent(&fx.out, "lxc.allow-missing");
    fx_close(&fx);
}

static void test_uvm_missing(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, BASE "dev0: /dev/nvidia0\ndev1: /dev/nvidiactl\ndev3: /dev/dri/renderD129,gid=106\n");
    f = get(&fx.out, "lxc.uvm-missing");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 6);
    assert_true(has_text(f->title, "no CUDA-capable device is detected"));
    assert_string_equal(f->fix, "pct set 200 --dev2 /dev/nvidia-uvm");
    /* raw style: the mount entry and the allow line for this host's major */
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 195:* rwm\n"
                        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file\n");
    f = get(&fx.out, "lxc.uvm-missing");
    assert_string_equal(f->fix, "add to /etc/pve/lxc/200.conf:\nlxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm "
                                "none bind,optional,create=file\nlxc.cgroup2.devices.allow: c 508:* rwm");
    /* uvm passed, uvm-tools not: info */
    lint(&fx, 200, BASE "dev0: /dev/nvidia0\ndev1: /dev/nvidiactl\ndev2: /dev/nvidia-uvm\n");
    f = get(&fx.out, "lxc.uvm-missing");
    assert_int_equal(f->severity, GP_SEV_INFO);
    assert_true(has_text(f->title, "nvidia-uvm-tools"));
    assert_true(has_text(f->fix, "pct set 200 --dev3 /dev/nvidia-uvm-tools"));
    get(&fx.out, "lxc.ok");
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 195:* rwm\nlxc.cgroup2.devices.allow: c 508:* rwm\n"
                        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file\n");
    f = get(&fx.out, "lxc.uvm-missing");
    assert_int_equal(f->severity, GP_SEV_INFO);
    assert_int_equal(f->evidence[0].line, 10);
    assert_true(has_text(f->fix, "\nlxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none "
                                 "bind,optional,create=file"));
    lint(&fx, 200, CLEAN_DEV);
    absent(&fx.out, "lxc.uvm-missing");
    /* DRI nodes alone are no CUDA setup */
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD129,gid=106\n");
    absent(&fx.out, "lxc.uvm-missing");
    fx_close(&fx);
}

static void test_render_other_gpu(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    /* the guide's renderD128 is the iGPU here */
    lint(&fx, 200, BASE "dev0: /dev/nvidia0\ndev1: /dev/nvidiactl\ndev2: /dev/nvidia-uvm\ndev3: /dev/nvidia-uvm-tools\n"
                        "dev4: /dev/dri/renderD128,gid=106\n");
    assert_int_equal(count(&fx.out, "lxc.render-other-gpu"), 1);
    f = get(&fx.out, "lxc.render-other-gpu");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 10);
    assert_string_equal(f->evidence[1].device, "0000:00:02.0");
    assert_true(has_text(f->title, "/dev/dri/renderD128 is the render node of 0000:00:02.0 (Intel"));
    assert_true(has_text(f->title, "not of 0000:01:00.0 (NVIDIA"));
    assert_true(has_text(f->title, "its node is /dev/dri/renderD129"));
    assert_true(has_text(f->fix, "pct set 200 --dev4 /dev/dri/renderD129,gid=106"));
    /* card of one GPU, render of another, raw lines */
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n"
                        "lxc.mount.entry: /dev/dri/card0 dev/dri/card0 none bind,optional,create=file\n");
    f = get(&fx.out, "lxc.render-other-gpu");
    assert_int_equal(f->evidence[0].line, 8);
    assert_string_equal(f->fix, "line 8 should read: lxc.mount.entry: /dev/dri/card1 dev/dri/card1 none "
                                "bind,optional,create=file   # if you meant both GPUs, keep it");
    /* both GPUs whole: meant so */
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD128,gid=106\ndev1: /dev/dri/renderD129,gid=106\n");
    absent(&fx.out, "lxc.render-other-gpu");
    /* one GPU's render node alone, on a host with two: which one it is */
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD128,gid=106\n");
    f = get(&fx.out, "lxc.render-other-gpu");
    assert_int_equal(f->severity, GP_SEV_INFO);
    assert_true(has_text(f->title, "0000:00:02.0"));
    get(&fx.out, "lxc.ok");
    lint(&fx, 200, CLEAN_DEV);
    absent(&fx.out, "lxc.render-other-gpu");
    fx_close(&fx);
}

static void test_gid_mismatch(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    /* CT 200 runs: its render group is 106, video 44 */
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD129,gid=104\ndev1: /dev/dri/card1,gid=44\n"
                        "dev2: /dev/dri/renderD129,mode=0666\n");
    assert_int_equal(count(&fx.out, "lxc.gid-mismatch"), 1);
    f = get(&fx.out, "lxc.gid-mismatch");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 6);
    assert_true(has_text(f->title, "gid 104, but the container's render group is 106"));
    assert_string_equal(f->evidence[1].file, "/var/lib/lxc/200/rootfs/etc/group");
    assert_true(has_text(f->evidence[1].text, "the running container's root"));
    assert_true(has_text(f->fix, "pct set 200 --dev0 /dev/dri/renderD129,gid=106"));
    /* no gid= at all is root's group */
    lint(&fx, 200, BASE "dev0: /dev/dri/card1\n");
    f = get(&fx.out, "lxc.gid-mismatch");
    assert_true(has_text(f->title, "gid 0 (no gid=: root), but the container's video group is 44"));
    assert_true(has_text(f->fix, "pct set 200 --dev0 /dev/dri/card1,gid=44"));
    /* a stopped CT on ZFS: read from the dataset */
    lint(&fx, 201, "rootfs: local-zfs:subvol-201-disk-0,size=8G\ndev0: /dev/dri/renderD129,gid=104\n");
    f = get(&fx.out, "lxc.gid-mismatch");
    assert_string_equal(f->evidence[1].file, "/rpool/data/subvol-201-disk-0/etc/group");
    assert_true(has_text(f->evidence[1].text, "ZFS subvolume rpool/data/subvol-201-disk-0"));
    /* LVM, stopped: not readable, an info that says why */
    lint(&fx, 203, "rootfs: local-lvm:vm-203-disk-0,size=8G\ndev0: /dev/dri/renderD129,gid=104\n");
    f = get(&fx.out, "lxc.gid-mismatch");
    assert_int_equal(f->severity, GP_SEV_INFO);
    assert_true(has_text(f->title, "lvmthin"));
    assert_true(has_text(f->title, "pct mount 203"));
    get(&fx.out, "lxc.ok");
    lint(&fx, 200, CLEAN_DEV);
    absent(&fx.out, "lxc.gid-mismatch");
    fx_close(&fx);
}

static void test_nvidia_version(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, CLEAN_DEV);
    absent(&fx.out, "lxc.nvidia-version");
    /* the container has an older userland */
    rm("var/lib/lxc/200/rootfs/usr");
    ct_root("var/lib/lxc/200/rootfs", "535.183.01");
    lint(&fx, 200, CLEAN_DEV);
    f = get(&fx.out, "lxc.nvidia-version");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 6);
    assert_true(has_text(f->title, "535.183.01"));
    assert_true(has_text(f->title, "Driver/library version mismatch"));
    assert_true(has_text(f->fix, "NVIDIA-Linux-x86_64-" HOST_NV ".run"));
    assert_true(has_text(f->fix, "--no-kernel-module"));
    /* none at all: info */
    rm("var/lib/lxc/200/rootfs/usr");
    lint(&fx, 200, CLEAN_DEV);
    f = get(&fx.out, "lxc.nvidia-version");
    assert_int_equal(f->severity, GP_SEV_INFO);
    get(&fx.out, "lxc.ok");
    /* no NVIDIA node passed: nothing to compare */
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD129,gid=106\n");
    absent(&fx.out, "lxc.nvidia-version");
    fx_close(&fx);
}

static void test_gpu_on_vfio(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    /* renderD130 was the AMD card's before vfio-pci took it */
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD130,gid=106\n");
    assert_int_equal(count(&fx.out, "lxc.gpu-on-vfio"), 1);
    absent(&fx.out, "lxc.node-missing");
    f = get(&fx.out, "lxc.gpu-on-vfio");
    assert_int_equal(f->severity, GP_SEV_FAIL);
    assert_int_equal(f->evidence[0].line, 6);
    assert_string_equal(f->evidence[1].device, "0000:06:00.0");
    assert_true(has_text(f->title, "0000:06:00.0 (AMD"));
    assert_true(has_text(f->title, "bound to vfio-pci for VMs (VM 100 takes it)"));
    assert_true(has_text(f->fix, "gpupass lxc 200 --gpu 0000:00:02.0"));
    lint(&fx, 200, CLEAN_DEV);
    absent(&fx.out, "lxc.gpu-on-vfio");
    fx_close(&fx);
    /* a GPU without any driver now */
    rm("sys/bus/pci/devices/0000:06:00.0/driver");
    rm("sys/bus/pci/devices/0000:06:00.1/driver");
    fx_open(&fx);
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD130,gid=106\n");
    f = get(&fx.out, "lxc.gpu-on-vfio");
    assert_true(has_text(f->title, "0000:06:00.0 (AMD 1002:73bf) has no host driver"));
    assert_true(has_text(f->fix, "lspci -k -s 0000:06:00.0"));
    fx_close(&fx);
    /* the card gone from the host: a missing render node is just missing,
     * and the nearest one is offered */
    rm("sys/bus/pci/devices/0000:06:00.0");
    rm("sys/bus/pci/devices/0000:06:00.1");
    rm("sys/kernel/iommu_groups/4");
    fx_open(&fx);
    lint(&fx, 200, BASE "dev0: /dev/dri/renderD130,gid=106\n");
    absent(&fx.out, "lxc.gpu-on-vfio");
    assert_true(has_text(get(&fx.out, "lxc.node-missing")->title, "did you mean /dev/dri/renderD1"));
    fx_close(&fx);
}

static void test_raw_unprivileged(void **state)
{
    const gp_finding *f;
    fixture fx;

    fx_open(&fx);
    lint(&fx, 200, BASE "unprivileged: 1\nlxc.cgroup2.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n");
    f = get(&fx.out, "lxc.raw-unprivileged");
    assert_int_equal(f->severity, GP_SEV_WARN);
    assert_int_equal(f->evidence[0].line, 8);
    assert_true(has_text(f->title, "nobody:nogroup"));
    assert_true(has_text(f->title, "host gid 104, mode 0660"));
    assert_string_equal(f->fix, "gpupass lxc 200 --gpu 0000:01:00.0 --style dev   # devN lines: PVE creates the nodes "
                                "with the container's own gid");
    /* the whole directory */
    lint(&fx, 200, BASE "unprivileged: 1\nlxc.cgroup2.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n");
    get(&fx.out, "lxc.raw-unprivileged");
    /* the host gid mapped into the container: it works */
    lint(&fx, 200, BASE "lxc.idmap: u 0 100000 65536\nlxc.idmap: g 0 100000 104\nlxc.idmap: g 104 104 1\n"
                        "lxc.idmap: g 105 100105 65431\nlxc.cgroup2.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n");
    absent(&fx.out, "lxc.raw-unprivileged");
    /* privileged: the host's gid is the container's */
    lint(&fx, 200, BASE "lxc.cgroup2.devices.allow: c 226:* rwm\n"
                        "lxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind,optional,create=file\n");
    absent(&fx.out, "lxc.raw-unprivileged");
    /* devN in an unprivileged CT is the right way */
    lint(&fx, 200, "unprivileged: 1\n" CLEAN_DEV);
    assert_clean(&fx.out);
    fx_close(&fx);
}

static void test_lint_all(void **state)
{
    const gp_finding *f;
    fixture fx;
    unsigned ids[] = { 200, 300, 100, 999 };

    fx_open(&fx);
    assert_int_equal(gp_lxc_lint(&fx.ctx, NULL, 0, &fx.out), 0);
    assert_int_equal(fx.out.n, 1);
    assert_int_equal(get(&fx.out, "lxc.none")->severity, GP_SEV_INFO);
    gp_findings_clear(&fx.out);
    put("etc/pve/nodes/pve1/lxc/200.conf", CLEAN_DEV);
    put("etc/pve/nodes/pve1/lxc/201.conf", "rootfs: local-zfs:subvol-201-disk-0,size=8G\ndev0: /dev/nvidia-um\n");
    put("etc/pve/nodes/pve1/lxc/notes.txt", "x\n");
    assert_int_equal(gp_lxc_lint(&fx.ctx, NULL, 0, &fx.out), 0);
    assert_int_equal(count(&fx.out, "lxc.ok"), 1);
    f = get(&fx.out, "lxc.node-missing");
    assert_string_equal(f->layer, "CT 201");
    assert_string_equal(f->evidence[0].file, "/etc/pve/lxc/201.conf");
    assert_int_equal(f->evidence[0].line, 2);
    gp_findings_clear(&fx.out);
    /* named: this node's, another node's, a VM, nothing */
    assert_int_equal(gp_lxc_lint(&fx.ctx, ids, 4, &fx.out), 0);
    assert_int_equal(count(&fx.out, "lxc.ok"), 1);
    assert_int_equal(count(&fx.out, "lxc.not-found"), 3);
    assert_true(has_text(fx.out.v[1].title, "belongs to node pve2"));
    assert_string_equal(fx.out.v[1].layer, "CT 300");
    assert_true(has_text(fx.out.v[2].title, "100 is a VM"));
    assert_true(has_text(fx.out.v[3].title, "CT 999 does not exist"));
    assert_int_equal(fx.out.v[3].severity, GP_SEV_FAIL);
    assert_string_equal(fx.out.v[3].fix, "pct list   # the containers of this node");
    fx_close(&fx);
}

/* ---- pvect ---- */

static void test_ct_locate(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_error err = { 0 };
    char *path = NULL;

    put("etc/pve/nodes/pve1/lxc/200.conf", "hostname: a\n");
    assert_int_equal(gp_host_open(root, &h, &err), 0);
    assert_int_equal(gp_ct_locate(h, 200, &path, &err), 0);
    assert_string_equal(path, "etc/pve/nodes/pve1/lxc/200.conf");
    free(path);
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_locate(h, 300, &path, &err), -EREMOTE);
    assert_null(path);
    assert_true(has_text(err.msg, "node pve2"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_locate(h, 100, &path, &err), -ENOENT);
    assert_true(has_text(err.msg, "100 is a VM"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_locate(h, 400, &path, &err), -ENOENT);
    assert_true(has_text(err.msg, "400 is a VM (/etc/pve/nodes/pve2/qemu-server/400.conf)"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_locate(h, 999, &path, &err), -ENOENT);
    assert_true(has_text(err.msg, "pct list"));
    gp_host_free(h);
    h = NULL;
    /* a copy of /etc/pve without the nodes tree */
    rm("etc/pve/nodes");
    rm("etc/pve/lxc");
    put("etc/pve/lxc/205.conf", "hostname: b\n");
    assert_int_equal(gp_host_open(root, &h, &err), 0);
    assert_int_equal(gp_ct_locate(h, 205, &path, &err), 0);
    assert_string_equal(path, "etc/pve/lxc/205.conf");
    free(path);
}

static void test_ct_lock(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_error err = { 0 };
    char path[512];
    struct stat st;
    int fd, fd2;

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    /* no run/ in this root: made as systemd-tmpfiles would */
    fd = gp_ct_lock(h, 200, 1000, &err);
    assert_true(fd >= 0);
    snprintf(path, sizeof(path), "%s/run/lock/lxc/pve-config-200.lock", root);
    assert_int_equal(stat(path, &st), 0);
    /* flock locks belong to the open file: a second open waits, then gives up */
    fd2 = gp_ct_lock(h, 200, 100, &err);
    assert_int_equal(fd2, -ETIMEDOUT);
    assert_true(has_text(err.msg, "CT 200: its config is locked"));
    assert_true(has_text(err.msg, "/run/lock/lxc/pve-config-200.lock"));
    /* another container's lock is free */
    err = (gp_error){ 0 };
    fd2 = gp_ct_lock(h, 201, 0, &err);
    assert_true(fd2 >= 0);
    close(fd2);
    close(fd);
    fd = gp_ct_lock(h, 200, 0, &err);
    assert_true(fd >= 0);
    close(fd);
}

static void test_ct_running(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_error err = { 0 };

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    assert_true(gp_ct_running(h, 200));
    assert_false(gp_ct_running(h, 20));     /* "@/var/lib/lxc/200" is not CT 20 */
    assert_false(gp_ct_running(h, 201));
    assert_false(gp_ct_running(h, 202));
    /* a snapshot without /proc: the mounted root says it */
    rm("proc/net/unix");
    assert_true(gp_ct_running(h, 200));
    assert_false(gp_ct_running(h, 201));    /* its rootfs dir is empty */
    assert_false(gp_ct_running(h, 202));
}

static void test_ct_rootfs(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_error err = { 0 };
    char *dir = NULL, *how = NULL;

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    /* running: what PVE mounted */
    assert_int_equal(gp_ct_rootfs(h, 200, "rootfs: local-lvm:vm-200-disk-0\n", &dir, &how, &err), 0);
    assert_string_equal(dir, "var/lib/lxc/200/rootfs");
    assert_string_equal(how, "the running container's root");
    free(dir);
    free(how);
    /* ZFS: <pool>/<volume>, snapshots' rootfs lines do not count */
    assert_int_equal(gp_ct_rootfs(h, 201, "arch: amd64\nrootfs: local-zfs:subvol-201-disk-0,size=8G\n[snap]\n"
                                          "rootfs: local-lvm:vm-201-disk-0\n", &dir, &how, &err), 0);
    assert_string_equal(dir, "rpool/data/subvol-201-disk-0");
    assert_string_equal(how, "ZFS subvolume rpool/data/subvol-201-disk-0");
    free(dir);
    free(how);
    /* the storage's mountpoint option, volume= spelled out */
    ct_root("mnt/tank-ct/subvol-204-disk-1", NULL);
    assert_int_equal(gp_ct_rootfs(h, 204, "rootfs: volume=tank:subvol-204-disk-1,size=4G\n", &dir, &how, &err), 0);
    assert_string_equal(dir, "mnt/tank-ct/subvol-204-disk-1");
    free(dir);
    free(how);
    /* dir storage */
    assert_int_equal(gp_ct_rootfs(h, 202, "rootfs: local:202/subvol-202-disk-0.subvol,size=0T\n", &dir, &how, &err),
                     0);
    assert_string_equal(dir, "var/lib/vz/images/202/subvol-202-disk-0.subvol");
    assert_string_equal(how, "directory storage local, volume 202/subvol-202-disk-0.subvol");
    free(dir);
    free(how);
    /* LVM-thin while stopped: not readable, and why */
    assert_int_equal(gp_ct_rootfs(h, 203, "rootfs: local-lvm:vm-203-disk-0,size=8G\n", &dir, &how, &err), -ENOENT);
    assert_null(dir);
    assert_null(how);
    assert_true(has_text(err.msg, "lvmthin storage 'local-lvm'"));
    assert_true(has_text(err.msg, "pct mount 203"));
    /* a dataset that is not mounted, a storage nobody defined, no rootfs */
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_rootfs(h, 206, "rootfs: local-zfs:subvol-206-disk-0\n", &dir, &how, &err), -ENOENT);
    assert_true(has_text(err.msg, "not mounted at /rpool/data/subvol-206-disk-0"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_rootfs(h, 206, "rootfs: nas:subvol-206-disk-0\n", &dir, &how, &err), -ENOENT);
    assert_true(has_text(err.msg, "'nas'"));
    err = (gp_error){ 0 };
    assert_int_equal(gp_ct_rootfs(h, 206, "arch: amd64\n", &dir, &how, &err), -ENOENT);
    assert_true(has_text(err.msg, "no rootfs"));
}

static void test_ct_group_gid(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_error err = { 0 };
    unsigned gid = 0;

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    assert_int_equal(gp_ct_group_gid(h, "var/lib/lxc/200/rootfs", "render", &gid), 0);
    assert_int_equal(gid, 106);
    assert_int_equal(gp_ct_group_gid(h, "var/lib/lxc/200/rootfs", "video", &gid), 0);
    assert_int_equal(gid, 44);
    assert_int_equal(gp_ct_group_gid(h, "var/lib/lxc/200/rootfs", "rende", &gid), -ENOENT);
    assert_int_equal(gp_ct_group_gid(h, "var/lib/lxc/200/rootfs", "kvm", &gid), -ENOENT);
    assert_int_equal(gp_ct_group_gid(h, "var/lib/lxc/299/rootfs", "render", &gid), -ENOENT);
}

static void test_nvidia_versions(void **state)
{
    _cleanup_host_ gp_host *h = NULL;
    gp_error err = { 0 };
    char *v = NULL;

    assert_int_equal(gp_host_open(root, &h, &err), 0);
    assert_int_equal(gp_host_nvidia_version(h, &v), 0);
    assert_string_equal(v, HOST_NV);
    free(v);
    put("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.16  Release "
                                      "Build  (dvs-builder@U16-I3-B03-4-3)  Thu Jan 16 23:18:56 UTC 2025\n");
    assert_int_equal(gp_host_nvidia_version(h, &v), 0);
    assert_string_equal(v, "570.86.16");
    free(v);
    rm("proc/driver/nvidia/version");
    assert_int_equal(gp_host_nvidia_version(h, &v), -ENOENT);
    assert_null(v);
    /* the soname link names the library in use */
    assert_int_equal(gp_ct_nvidia_userland(h, "var/lib/lxc/200/rootfs", &v), 0);
    assert_string_equal(v, HOST_NV);
    free(v);
    put("var/lib/lxc/200/rootfs/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.183.01", "");
    assert_int_equal(gp_ct_nvidia_userland(h, "var/lib/lxc/200/rootfs", &v), 0);
    assert_string_equal(v, HOST_NV);
    free(v);
    /* without it, the newest; libcuda when there is no NVML */
    rm("var/lib/lxc/200/rootfs/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
    put("var/lib/lxc/200/rootfs/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.99.1", "");
    assert_int_equal(gp_ct_nvidia_userland(h, "var/lib/lxc/200/rootfs", &v), 0);
    assert_string_equal(v, HOST_NV);
    free(v);
    put("rpool/data/subvol-201-disk-0/usr/lib64/libcuda.so.565.57.01", "");
    put("rpool/data/subvol-201-disk-0/usr/lib64/libcuda.so.1", "");
    assert_int_equal(gp_ct_nvidia_userland(h, "rpool/data/subvol-201-disk-0", &v), 0);
    assert_string_equal(v, "565.57.01");
    free(v);
    assert_int_equal(gp_ct_nvidia_userland(h, "var/lib/vz/images/202/subvol-202-disk-0.subvol", &v), -ENOENT);
    assert_null(v);
}

static void test_ctid_parse(void **state)
{
    unsigned id = 0;

    assert_true(gp_ctid_parse("200", &id));
    assert_int_equal(id, 200);
    assert_true(gp_ctid_parse("999999999", &id));
    assert_false(gp_ctid_parse("99", &id));
    assert_false(gp_ctid_parse("0200", &id));
    assert_false(gp_ctid_parse("200a", &id));
    assert_false(gp_ctid_parse("1000000000", &id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_after_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_not_char, setup, teardown),
        cmocka_unit_test_setup_teardown(test_major_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uvm_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_other_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gid_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvidia_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpu_on_vfio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_unprivileged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lint_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_locate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_rootfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_group_gid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvidia_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctid_parse, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
