/* bench/cacheload: compile and cached-load time per template, through the
 * same ptc_cache_get that `ptc run` calls (linked with build/libptc.a).
 *
 *   cacheload CACHE_DIR ITERATIONS TEMPLATE.conf...
 *
 * One line per template:
 *     name bytes cold_us warm_us load_us
 *   cold_us  ptc_cache_get with the cache file removed first: compile,
 *            encode and the atomic store (temp file, fsync, rename)
 *   warm_us  ptc_cache_get of a stored program: read the cache file,
 *            decode and validate it, compare the source hash
 *   load_us  ptc_src_load + ptc_cache_get + ptc_prog_free: what `ptc run`
 *            pays per template it uses
 * Each figure is the median over ITERATIONS.  Exit 1 if a template cannot
 * be read or does not compile; a warm load that misses the cache is only
 * a warning (its figure then includes a compile).
 */
#include "ptc/cache.h"
#include "ptc/diag.h"
#include "ptc/prog.h"
#include "ptc/src.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: cacheload CACHE_DIR ITERATIONS TEMPLATE.conf...\n");
        return 64;
    }
    int iters = atoi(argv[2]);
    if (iters < 1) iters = 1;
    double *cold = malloc(sizeof(double) * (size_t)iters);
    double *warm = malloc(sizeof(double) * (size_t)iters);
    double *load = malloc(sizeof(double) * (size_t)iters);
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_cache cache;
    ptc_cache_init(&cache, argv[1]);
    int rc = 0;
    for (int a = 3; a < argc; a++) {
        ptc_src *src = ptc_src_load(argv[a], NULL);
        if (!src) { perror(argv[a]); rc = 1; continue; }
        char *cpath = ptc_cache_path(&cache, src);
        for (int i = 0; i < iters; i++) {
            unlink(cpath);
            double t0 = now_us();
            ptc_prog *p = ptc_cache_get(&cache, src, &diag);
            cold[i] = now_us() - t0;
            if (!p) { fprintf(stderr, "cacheload: %s does not compile\n", argv[a]); rc = 1; break; }
            ptc_prog_free(p);
        }
        unsigned misses = cache.misses;
        for (int i = 0; i < iters; i++) {
            double t0 = now_us();
            ptc_prog *p = ptc_cache_get(&cache, src, &diag);
            warm[i] = now_us() - t0;
            ptc_prog_free(p);
        }
        for (int i = 0; i < iters; i++) {
            double t0 = now_us();
            ptc_src *s2 = ptc_src_load(argv[a], NULL);
            ptc_prog *p = s2 ? ptc_cache_get(&cache, s2, &diag) : NULL;
            ptc_prog_free(p);
            ptc_src_free(s2);
            load[i] = now_us() - t0;
        }
        if (cache.misses != misses) {
            fprintf(stderr, "cacheload: warning: %s: %u warm loads missed the cache\n", argv[a],
                    cache.misses - misses);
        }
        const char *base = strrchr(argv[a], '/');
        base = base ? base + 1 : argv[a];
        printf("%s %zu %.1f %.1f %.1f\n", base, (size_t)src->len, median(cold, iters),
               median(warm, iters), median(load, iters));
        free(cpath);
        ptc_src_free(src);
    }
    ptc_cache_free(&cache);
    free(cold);
    free(warm);
    free(load);
    return rc;
}
