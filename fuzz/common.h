/* Shared helpers for the libFuzzer targets in fuzz/ (built by fuzz/run.sh).
 *
 * Every target checks invariants as well as memory safety: a violated
 * invariant calls fuzz_fail(), which aborts so libFuzzer keeps the input.
 * Diagnostics go to /dev/null in a format chosen by the input's hash, so
 * the text (with excerpt and redaction), JSON and GitHub printers all run.
 */
#ifndef PTC_FUZZ_COMMON_H
#define PTC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptc/buf.h"
#include "ptc/comp.h"
#include "ptc/diag.h"
#include "ptc/phone.h"
#include "ptc/rec.h"
#include "ptc/sink.h"
#include "ptc/src.h"
#include "ptc/vm.h"

#define fuzz_fail(what) do { \
        fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__); \
        abort(); } while (0)

static FILE *fuzz_null(void)
{
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    if (!f) abort();
    return f;
}

/* A reporter on /dev/null; the format and limit depend on the input. */
static void fuzz_diag(ptc_diag *d, const uint8_t *data, size_t size)
{
    ptc_diag_init(d, fuzz_null());
    uint64_t h = ptc_hash64(data, size < 64 ? size : 64);
    d->format = (ptc_diag_format)(h % 3);
    d->limit = (unsigned)(h >> 8) % 4 == 0 ? 0 : 100;
    d->color = (h >> 16) & 1;
}

/* Phone lines every program is bound against: a plain one, one with six
 * lines, CallerIDs, <numbers> and accounts, and one with a missing
 * password and odd but valid fields. */
static const char fuzz_phone_list[] =
    "fuzz 00:0b:82:11:22:33 201 s3cretPW1\n"
    "fuzz 00-0B-82-AA-BB-CC 301/Front_Desk_<301>;302/Sales;;304/<*99>;305;306/x_y_z "
    "pw1;pw2;;pw4 acct1;acct2;;;acct5\n"
    "fuzz-2.model+x aabbccddeeff +1#*/_<_12_>_ \n";

typedef struct fuzz_phones {
    ptc_src *list;
    ptc_rec rec[8];
    unsigned n;
} fuzz_phones;

static fuzz_phones *fuzz_fixed_phones(void)
{
    static fuzz_phones P;
    if (P.list) return &P;
    P.list = ptc_src_from_mem("phones.conf", fuzz_phone_list, sizeof fuzz_phone_list - 1);
    P.list->redact = ptc_rec_redact;
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    uint32_t pos = 0, off, len;
    unsigned line = 0;
    while (P.n < 8 && ptc_rec_next_line(P.list, &pos, &off, &len, &line))
        if (ptc_rec_parse(P.list, off, len, line, &P.rec[P.n], &d) == 0) P.n++;
    if (P.n != 3) fuzz_fail("the fixed phone lines must parse");
    return &P;
}

/* Binds phone r of list to program p and runs every context, as ptc run
 * does: output paths, dialplan contexts, every [general] key. */
static void fuzz_run_phone(const ptc_prog *p, const ptc_src *list, const ptc_rec *r)
{
    ptc_phone ph;
    ptc_phone_env env = { "/mnt/kd/phoneprov", "10.0.0.1" };
    ptc_phone_init(&ph);
    ptc_phone_bind(&ph, p, list, r, &env);
    for (int s = 0; s < PTC_SLOT_COUNT; s++)
        if (ph.rec.n[s] && !ph.rec.v[s]) fuzz_fail("slot with a length but no value");
    ptc_sink out;
    ptc_sink_init_mem(&out);
    for (int ctx = 0; ctx < PTC_CTX_COUNT; ctx++) {
        out.buf.len = 0;
        ptc_vm_run(p, ctx, &ph.rec, &out);
        if (ctx == PTC_CTX_GENERAL || !ptc_prog_has(p, ctx)) continue;
        const char *why = NULL;
        const char *path = ptc_phone_output_path(&ph, ctx, &env, &why);
        if (!path == !why) fuzz_fail("output path: exactly one of path and why");
        if (path) {
            /* A path ptc accepts never climbs out with `..` and never has
             * an empty or dot file name. */
            const char *base = strrchr(path, '/');
            if (!base || !base[1] || !strcmp(base, "/.") || !strcmp(base, "/..")) fuzz_fail("bad file name accepted");
            if (strstr(path, "/../") || !strncmp(path, "../", 3)) fuzz_fail("`..` accepted in a path");
        }
        if (ctx >= PTC_CTX_DIALPLAN1 && ctx <= PTC_CTX_DIALPLAN6)
            (void)ptc_phone_dialplan_context(&ph, ctx, &env);
    }
    for (int k = 0; k < PTC_KEY_COUNT; k++)
        if (!ptc_phone_key(&ph, k, &env)) fuzz_fail("a key without a value");
    for (int i = 0; i < PTC_MAX_LINES; i++) (void)ptc_phone_line_is_distinct(&ph, i);
    ptc_sink_free(&out);
    ptc_phone_free(&ph);
}

#endif
