/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host <-> device copy bandwidth and latency, measured through the GPU's
 * own driver library loaded at run time: the CUDA driver API (libcuda.so.1,
 * which comes with the NVIDIA driver, not the toolkit) or the HIP runtime
 * (libamdhip64.so). Nothing is linked, so gpupass builds and runs where no
 * GPU stack exists and says so. The backends are a small table of
 * functions, as pciutils' access methods are: the measurement is written
 * once. Timing follows NVIDIA's bandwidthTest and nvbandwidth: device
 * events around a batch of asynchronous copies on one stream, a warm-up
 * copy first, several samples, the median reported, decimal GB/s.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct gp_gpu_api gp_gpu_api;

/*
 * Loads the first library found: libcuda.so.1, libcuda.so, then
 * libamdhip64.so, .so.7, .so.6, .so.5. libdir (NULL: the dynamic linker's
 * search) is where to look; tests pass their stand-in library's directory.
 * -ENOENT when none loads (err lists what was tried and says what to
 * install), -ENOSYS when a library lacks an entry point (err names it), or
 * the driver's init error (err has its message).
 */
int gp_gpu_api_open(const char *libdir, gp_gpu_api **ret, gp_error *err);
void gp_gpu_api_close(gp_gpu_api *a);
/* "cuda" or "hip". */
const char *gp_gpu_api_kind(const gp_gpu_api *a);
/* The file that was loaded. */
const char *gp_gpu_api_library(const gp_gpu_api *a);
/* "12.8" (CUDA driver API version), "6.2" (HIP), "" unknown. */
const char *gp_gpu_api_version(const gp_gpu_api *a);

typedef struct gp_gpu_dev_info {
    int ordinal;
    char name[128];
    char pci_bus_id[32];       /* lower case, "0000:3b:00.0" */
    size_t memory;             /* bytes, 0 unknown */
} gp_gpu_dev_info;

int gp_gpu_api_devices(gp_gpu_api *a, gp_gpu_dev_info **ret, size_t *ret_n, gp_error *err);

typedef enum gp_copy_dir {
    GP_COPY_H2D,
    GP_COPY_D2H,
} gp_copy_dir;

typedef struct gp_copy_stat {
    gp_copy_dir dir;
    bool pinned;               /* page-locked host memory; else pageable (malloc) */
    size_t bytes;              /* per copy */
    unsigned copies;           /* per sample */
    unsigned samples;
    double median, min, max;   /* GB/s (1e9 bytes per second) */
} gp_copy_stat;

typedef struct gp_copy_opts {
    int ordinal;
    size_t min_bytes, max_bytes;   /* the sweep, factor 4 between sizes */
    unsigned samples;              /* per size and kind (>= 1) */
    size_t batch_bytes;            /* about this much is copied per sample (>= one copy) */
    bool pageable;                 /* also measure pageable host memory */
    /* Called before each measurement (on a terminal: a progress line). */
    void (*progress)(void *userdata, unsigned done, unsigned total);
    void *userdata;
} gp_copy_opts;

typedef struct gp_copy_report {
    gp_copy_stat *v;
    size_t n;
    /* Small-copy latency: microseconds per 4-byte pinned copy, median of
     * the samples (each a batch of 100 copies). */
    double latency_us[2];          /* [GP_COPY_H2D], [GP_COPY_D2H] */
} gp_copy_report;

/* Runs the sweep. -EINVAL (bad options, ordinal out of range: err says the
 * range), -ENOMEM, or the driver's error (err has its name and message). */
int gp_gpu_copy_bench(gp_gpu_api *a, const gp_copy_opts *o, gp_copy_report *ret, gp_error *err);
void gp_copy_report_clear(gp_copy_report *r);

/* The median of n values (sorted in place). */
double gp_median(double *v, size_t n);
