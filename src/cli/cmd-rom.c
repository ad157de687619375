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

/* A ROM file larger than this is not a PCI option ROM (the ROM BAR of a
 * GPU is at most a few MiB); reading stops there and says so. */
#define ROM_FILE_MAX (64u * 1024u * 1024u)

static void rom_help(void)
{
    printf("Usage: gpupass rom info FILE [--strip -o OUT] [-q] [--json]\n"
           "\n"
           "Read a GPU option ROM file (a dump, or a ROM from a collection) and list\n"
           "every image in it: offset, code type (x86 BIOS, EFI, ...), vendor:device,\n"
           "class, length, last-image flag, checksum, and for EFI images the machine\n"
           "type and compression. Then the verdicts: usable with OVMF (an x64 EFI/GOP\n"
           "image), legacy BIOS only (use SeaBIOS or get a UEFI ROM), truncated, all\n"
           "zeros or 0xFF (a failed dump), a vendor header in front of the first image.\n"
           "\n"
           "Options:\n"
           "  --strip -o OUT  write the ROM without its vendor header (and without what\n"
           "                  trails the last image) to OUT, atomically\n"
           "  -q, --quiet     leave out what passed\n"
           "  -j, --json      {\"rom\": {...images...}, \"findings\": [...], \"summary\": {...}}\n"
           "  -h, --help      this help\n"
           "\n"
           "Exit status: 0 usable, 1 warnings, 2 failures, 3 could not run.\n");
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

static int rom_info(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_STRIP = 0x100 };
    static const struct option opts[] = {
        { "strip", no_argument, NULL, OPT_STRIP },
        { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_findings_ gp_findings f = { 0 };
    _cleanup_free_ uint8_t *buf = NULL;
    const char *out = NULL, *file;
    bool strip = false, quiet = false, json = false;
    json_object *extra;
    gp_rom rom;
    size_t len = 0;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qjh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STRIP:
            strip = true;
            break;
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            rom_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("rom info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return gp_cli_usage_error("rom info", "name one ROM file");
    if (strip != (out != NULL))
        return gp_cli_usage_error("rom info", "--strip and -o OUT go together");
    file = argv[optind];
    r = read_rom_file(file, &buf, &len);
    if (r < 0)
        return gp_cli_error("cannot read the ROM %s: %s", file,
                            r == -EFBIG ? "larger than 64 MiB, not an option ROM" :
                            r == -EINVAL ? "not a regular file" : strerror(-r));
    if (gp_rom_parse(buf, len, &rom) < 0 || gp_rom_judge(&rom, file, NULL, &f) < 0)
        return gp_cli_error("out of memory");
    if (strip) {
        /* The chain without what stands before or after it: what QEMU's
         * romfile= and the guest firmware expect. */
        if (rom.n_images == 0 || rom.used == 0) {
            gp_rom_clear(&rom);
            fprintf(stderr, "gpupass rom info: refused: %s holds no ROM image to keep; nothing written\n", file);
            return GP_EXIT_FAIL;
        }
        r = gp_file_replace_at(AT_FDCWD, out, buf + rom.header, rom.used, 0644, geteuid(), getegid());
        if (r < 0) {
            gp_rom_clear(&rom);
            return gp_cli_error("cannot write %s: %s", out, strerror(-r));
        }
        if (!json)
            printf("Wrote %s: %zu bytes (image chain from offset 0x%zx of %s).\n\n", out, rom.used, rom.header, file);
    }
    if (!json)
        print_images(file, &rom);
    extra = json ? images_json(file, &rom) : NULL;
    gp_rom_clear(&rom);
    r = gp_cli_findings_output_extra(cli, &f, quiet, json, "rom", extra);
    json_object_put(extra);
    return r;
}

int gp_cmd_rom(const gp_cli *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "info") == 0)
        return rom_info(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        rom_help();
        return GP_EXIT_OK;
    }
    return gp_cli_usage_error("rom", "say what to do: gpupass rom info FILE");
}
