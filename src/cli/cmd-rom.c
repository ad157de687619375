/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "rom.h"
#include "romdump.h"

/* A ROM file larger than this is not a PCI option ROM (the ROM BAR of a
 * GPU is at most a few MiB); reading stops there and says so. */
#define ROM_FILE_MAX (64u * 1024u * 1024u)

static void rom_help(void)
{
    printf("Usage: gpupass rom info FILE|GPU [--strip -o OUT] [--force] [-q] [--json]\n"
           "       gpupass rom dump GPU -o FILE [--force] [-q] [--json]\n"
           "\n"
           "info: list every image of a GPU option ROM (a file, or the ROM a GPU holds,\n"
           "read through sysfs): offset, code type (x86 BIOS, EFI, ...), vendor:device,\n"
           "class, length, last-image flag, checksum, and for EFI images the machine\n"
           "type and compression. Then the verdicts: usable with OVMF (an x64 EFI/GOP\n"
           "image), legacy BIOS only (use SeaBIOS or get a UEFI ROM), IDs that are not\n"
           "the GPU's, truncated, all zeros or 0xFF (a failed dump), a vendor header in\n"
           "front of the first image. A name that is an existing file is read as a file.\n"
           "\n"
           "dump: read the GPU's ROM the way `echo 1 > rom; cat rom; echo 0 > rom` does,\n"
           "with the rom switch turned off again on every path (signals wait until it\n"
           "is), check what was read, and write it to FILE atomically. A read that is\n"
           "no ROM (all 0xFF, no image) is refused and nothing is written.\n"
           "\n"
           "Options:\n"
           "  -o, --output FILE  dump: where the ROM goes; info --strip: the clean ROM\n"
           "  --strip            info: write the ROM without its vendor header (and\n"
           "                     without what trails the last image) to OUT, atomically\n"
           "  --force            read the boot VGA device's ROM anyway: on x86 the kernel\n"
           "                     gives the shadow copy at 0xC0000, not the card's ROM\n"
           "  -q, --quiet        leave out what passed\n"
           "  -j, --json         {\"rom\": {...images...}, \"findings\": [...], \"summary\": {...}}\n"
           "  -h, --help         this help\n"
           "\n"
           "Exit status: 0 usable, 1 warnings, 2 failures or refused, 3 could not run.\n");
}

static void print_images(const char *file, const gp_rom *rom)
{
    printf("ROM %s: %zu bytes", file, rom->size);
    if (rom->header)
        printf(", a %zu-byte vendor header before the first image", rom->header);
    printf("\n");
    for (size_t i = 0; i < rom->n_images; i++) {
        const gp_rom_image *im = &rom->images[i];
        char type[32], mach[16];

        printf("  image %zu at 0x%zx: %s, %04x:%04x, class %06x, %zu bytes%s%s", i, im->offset,
               gp_rom_code_type_to_string(im->code_type, type, sizeof(type)), im->vendor_id, im->device_id,
               im->class_code, im->length, im->last ? ", last" : "", im->truncated ? ", TRUNCATED" : "");
        if (im->code_type == GP_ROM_CODE_EFI)
            printf(", %s, subsystem %u%s", gp_rom_efi_machine_to_string(im->efi_machine, mach, sizeof(mach)),
                   im->efi_subsystem, im->efi_compressed ? ", compressed" : "");
        else if (im->code_type == GP_ROM_CODE_X86)
            printf(", checksum %s", im->checksum_ok ? "ok" : "WRONG");
        printf("\n");
    }
    printf("\n");
}

static json_object *images_json(const char *file, const gp_rom *rom)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();

    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)rom->size));
    json_object_object_add(o, "vendor_header", json_object_new_int64((int64_t)rom->header));
    for (size_t i = 0; i < rom->n_images; i++) {
        const gp_rom_image *im = &rom->images[i];
        json_object *x = json_object_new_object();
        char buf[32];

        json_object_object_add(x, "offset", json_object_new_int64((int64_t)im->offset));
        json_object_object_add(x, "length", json_object_new_int64((int64_t)im->length));
        json_object_object_add(x, "code_type",
                               json_object_new_string(gp_rom_code_type_to_string(im->code_type, buf, sizeof(buf))));
        snprintf(buf, sizeof(buf), "%04x:%04x", im->vendor_id, im->device_id);
        json_object_object_add(x, "id", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "%06x", im->class_code);
        json_object_object_add(x, "class", json_object_new_string(buf));
        json_object_object_add(x, "last", json_object_new_boolean(im->last));
        json_object_object_add(x, "truncated", json_object_new_boolean(im->truncated));
        if (im->code_type == GP_ROM_CODE_X86)
            json_object_object_add(x, "checksum_ok", json_object_new_boolean(im->checksum_ok));
        if (im->code_type == GP_ROM_CODE_EFI) {
            json_object_object_add(x, "efi_machine", json_object_new_string(
                gp_rom_efi_machine_to_string(im->efi_machine, buf, sizeof(buf))));
            json_object_object_add(x, "efi_subsystem", json_object_new_int(im->efi_subsystem));
            json_object_object_add(x, "efi_compressed", json_object_new_boolean(im->efi_compressed));
        }
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "images", a);
    return o;
}

static int read_rom_file(const char *path, uint8_t **buf, size_t *len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    return gp_fd_read_all(fd, ROM_FILE_MAX, (char **)buf, len);
}

int gp_cli_read_rom(const char *path, uint8_t **buf, size_t *len)
{
    int r = read_rom_file(path, buf, len);

    if (r < 0)
        return gp_cli_error("cannot read the ROM %s: %s", path,
                            r == -EFBIG ? "larger than 64 MiB, not an option ROM" :
                            r == -EINVAL ? "not a regular file" : strerror(-r));
    return 0;
}

/* The ROM a command works on: a file's bytes, or what the GPU's rom
 * attribute gave (then dev is the GPU's display function, and g owns it). */
typedef struct rom_source {
    gp_cli_gpus g;
    const gp_pci_dev *dev;
    char label[4096];
    uint8_t *buf;
    size_t len;
} rom_source;

static void rom_source_done(rom_source *src)
{
    gp_cli_gpus_done(&src->g);
    free(src->buf);
}

static int rom_from_gpu(const gp_cli *cli, const char *cmd, char *arg, bool force, rom_source *src)
{
    gp_error err = { 0 };
    int gpu, r;

    r = gp_cli_load_gpu(cli, cmd, arg, false, NULL, &src->g, &gpu);
    if (r != 0)
        return r;
    src->dev = &src->g.pci->devs[src->g.gpus->gpus[gpu].dev];
    snprintf(src->label, sizeof(src->label), "%s (rom)", src->dev->name);
    r = gp_rom_dump(src->g.h, src->dev, force, &src->buf, &src->len, &err);
    if (r == -EBUSY || r == -EROFS) {
        fprintf(stderr, "gpupass %s: refused: %s\n", cmd, gp_error_message(&err));
        return GP_EXIT_FAIL;
    }
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    if (src->dev->boot_vga == 1)
        fprintf(stderr, "gpupass %s: %s is the boot VGA device: this is the shadow copy at 0xC0000 (--force)\n",
                cmd, src->dev->name);
    return 0;
}

/* Options shared by info and dump. */
typedef struct rom_opts {
    const char *out;
    bool strip, force, quiet, json;
} rom_opts;

static int rom_parse_opts(const char *cmd, int argc, char **argv, bool allow_strip, rom_opts *o)
{
    enum { OPT_STRIP = 0x100, OPT_FORCE };
    static const struct option opts[] = {
        { "strip", no_argument, NULL, OPT_STRIP },
        { "force", no_argument, NULL, OPT_FORCE },
        { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qjh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STRIP:
            if (!allow_strip)
                return gp_cli_usage_error(cmd, "--strip belongs to rom info");
            o->strip = true;
            break;
        case OPT_FORCE:
            o->force = true;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            rom_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error(cmd, "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    return -1;
}

/* Images, then findings; extra JSON member "rom". */
static int rom_report(const gp_cli *cli, const char *label, const gp_rom *rom, gp_findings *f, const rom_opts *o)
{
    json_object *extra;
    int r;

    if (!o->json)
        print_images(label, rom);
    extra = o->json ? images_json(label, rom) : NULL;
    r = gp_cli_findings_output_extra(cli, f, o->quiet, o->json, "rom", extra);
    json_object_put(extra);
    return r;
}

static int rom_info(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_findings_ gp_findings f = { 0 };
    _cleanup_(rom_source_done) rom_source src = { 0 };
    rom_opts o = { 0 };
    const char *arg;
    struct stat st;
    gp_rom rom;
    int r;

    r = rom_parse_opts("rom info", argc, argv, true, &o);
    if (r >= 0)
        return r;
    if (argc - optind != 1)
        return gp_cli_usage_error("rom info", "name one ROM file or one GPU");
    if (o.strip != (o.out != NULL))
        return gp_cli_usage_error("rom info", "--strip and -o OUT go together");
    arg = argv[optind];
    /* An existing file is a file; otherwise the name is a GPU. */
    if (stat(arg, &st) == 0 || strchr(arg, '/')) {
        snprintf(src.label, sizeof(src.label), "%s", arg);
        r = gp_cli_read_rom(arg, &src.buf, &src.len);
        if (r != 0)
            return r;
    } else {
        r = rom_from_gpu(cli, "rom info", argv[optind], o.force, &src);
        if (r != 0)
            return r;
    }
    if (gp_rom_parse(src.buf, src.len, &rom) < 0 || gp_rom_judge(&rom, src.label, src.dev, &f) < 0)
        return gp_cli_error("out of memory");
    if (o.strip) {
        /* The chain without what stands before or after it: what QEMU's
         * romfile= and the guest firmware expect. */
        if (rom.n_images == 0 || rom.used == 0) {
            gp_rom_clear(&rom);
            fprintf(stderr, "gpupass rom info: refused: %s holds no ROM image to keep; nothing written\n", arg);
            return GP_EXIT_FAIL;
        }
        r = gp_file_replace_at(AT_FDCWD, o.out, src.buf + rom.header, rom.used, 0644, geteuid(), getegid());
        if (r < 0) {
            gp_rom_clear(&rom);
            return gp_cli_error("cannot write '%s': %s", o.out, strerror(-r));
        }
        if (!o.json)
            printf("Wrote %s: %zu bytes (image chain from offset 0x%zx of %s).\n\n", o.out, rom.used, rom.header,
                   arg);
    }
    r = rom_report(cli, src.label, &rom, &f, &o);
    gp_rom_clear(&rom);
    return r;
}

/* -o names no file, or a directory: say so before the rom switch is turned on
 * (a missing directory shows at the write, with the switch off again). */
static int out_check(const char *out)
{
    struct stat st;

    if (!*out)
        return gp_cli_usage_error("rom dump", "-o needs a file name, not ''");
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return gp_cli_error("cannot write %s: it is a directory", out);
    return 0;
}

static int rom_dump(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_findings_ gp_findings f = { 0 };
    _cleanup_(rom_source_done) rom_source src = { 0 };
    rom_opts o = { 0 };
    gp_rom rom;
    int r;

    r = rom_parse_opts("rom dump", argc, argv, false, &o);
    if (r >= 0)
        return r;
    if (argc - optind != 1)
        return gp_cli_usage_error("rom dump", "name one GPU");
    if (!o.out)
        return gp_cli_usage_error("rom dump", "say where the ROM goes: -o FILE");
    r = out_check(o.out);
    if (r != 0)
        return r;
    r = rom_from_gpu(cli, "rom dump", argv[optind], o.force, &src);
    if (r != 0)
        return r;
    if (gp_rom_parse(src.buf, src.len, &rom) < 0 || gp_rom_judge(&rom, src.label, src.dev, &f) < 0)
        return gp_cli_error("out of memory");
    /* What the read gave is written as it is (a vendor header cannot come
     * from a BAR), unless it holds no image at all: a dump of 0xFF or
     * zeros is the classic failed dump that later hangs a guest. */
    if (rom.n_images == 0 || rom.all_ff || rom.all_zero) {
        fprintf(stderr, "gpupass rom dump: refused: %s gave %zu bytes with no ROM image (%s); nothing written to "
                "%s\n", src.label, src.len, rom.all_ff ? "all 0xFF" : rom.all_zero ? "all zeros" : "no 0x55AA/PCIR",
                o.out);
        gp_rom_clear(&rom);
        return GP_EXIT_FAIL;
    }
    r = gp_file_replace_at(AT_FDCWD, o.out, src.buf, src.len, 0644, geteuid(), getegid());
    if (r < 0) {
        gp_rom_clear(&rom);
        return gp_cli_error("cannot write %s: %s (the ROM was read; the rom switch is off)", o.out, strerror(-r));
    }
    if (!o.json)
        printf("Wrote %s: %zu bytes from %s.\n\n", o.out, src.len, src.label);
    r = rom_report(cli, src.label, &rom, &f, &o);
    gp_rom_clear(&rom);
    return r;
}

int gp_cmd_rom(const gp_cli *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "info") == 0)
        return rom_info(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "dump") == 0)
        return rom_dump(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        rom_help();
        return GP_EXIT_OK;
    }
    return gp_cli_usage_error("rom", "say what to do: gpupass rom info FILE|GPU, or gpupass rom dump GPU -o FILE");
}
