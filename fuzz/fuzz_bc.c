/* Fuzz target: the bytecode loader (ptc_bc_decode).
 *
 * Input: a .ptcb file as the cache holds it.  Decoded twice: as given, and
 * with both CRCs recomputed so that mutations reach the section and code
 * checks behind them.  Whatever the loader accepts must re-encode, decode
 * again, disassemble and run for three fixed phones without a fault: the
 * VM trusts the loader.
 */
#include "common.h"
#include "ptc/bc.h"
#include "ptc/disasm.h"

static void exercise(const ptc_prog *p)
{
    fuzz_phones *P = fuzz_fixed_phones();
    char why[160];
    ptc_buf a = PTC_BUF_INIT;
    ptc_bc_encode(p, &a);
    ptc_prog *q = ptc_bc_decode(a.data, a.len, why, sizeof why);
    if (!q) fuzz_fail("a program the loader accepted does not load again");
    ptc_prog_free(q);
    ptc_buf_free(&a);
    ptc_disasm_print(p, "fuzz.ptcb", fuzz_null());
    for (unsigned i = 0; i < P->n; i++) fuzz_run_phone(p, P->list, &P->rec[i]);
}

static void put32(unsigned char *c, uint32_t v)
{
    c[0] = (unsigned char)v; c[1] = (unsigned char)(v >> 8);
    c[2] = (unsigned char)(v >> 16); c[3] = (unsigned char)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[160];
    ptc_prog *p = ptc_bc_decode(data, size, why, sizeof why);
    if (p) { exercise(p); ptc_prog_free(p); }
    else if (!why[0]) fuzz_fail("rejected without a reason");

    if (size >= PTC_BC_HEADER_SIZE + 4) {       /* again with valid CRCs */
        unsigned char *c = malloc(size);
        memcpy(c, data, size);
        memcpy(c, PTC_BC_MAGIC, 8);
        put32(c + 36, ptc_crc32(c, 36));
        put32(c + size - 4, ptc_crc32(c, size - 4));
        why[0] = '\0';
        p = ptc_bc_decode(c, size, why, sizeof why);
        if (p) { exercise(p); ptc_prog_free(p); }
        else if (!why[0]) fuzz_fail("rejected without a reason");
        free(c);
    }
    return 0;
}
