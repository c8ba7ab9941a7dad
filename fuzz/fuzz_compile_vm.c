/* Fuzz target: the compiler and the VM.
 *
 * Input: template text.  ptc_comp_source compiles it; a program must pass
 * the loader's validation, survive encode -> decode -> encode unchanged,
 * disassemble, and run every context for three fixed phones (bound with
 * ptc_phone_bind from lines read by ptc_rec_parse).
 */
#include "common.h"
#include "ptc/bc.h"
#include "ptc/disasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_phones *P = fuzz_fixed_phones();
    ptc_src *src = ptc_src_from_mem("fuzz.conf", (const char *)data, size);
    ptc_diag d;
    fuzz_diag(&d, data, size);
    ptc_prog *p = ptc_comp_source(src, &d);
    if (!p && d.errors == 0) fuzz_fail("no program and no error");
    if (p) {
        char why[160];
        if (ptc_bc_validate(p, why, sizeof why) != 0) fuzz_fail(why);
        ptc_buf a = PTC_BUF_INIT, b = PTC_BUF_INIT;
        ptc_bc_encode(p, &a);
        ptc_prog *q = ptc_bc_decode(a.data, a.len, why, sizeof why);
        if (!q) fuzz_fail(why);
        ptc_bc_encode(q, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len)) fuzz_fail("encode/decode round trip differs");
        ptc_disasm_print(q, "fuzz.conf", fuzz_null());
        for (unsigned i = 0; i < P->n; i++) fuzz_run_phone(q, P->list, &P->rec[i]);
        ptc_prog_free(q);
        ptc_buf_free(&a);
        ptc_buf_free(&b);
        ptc_prog_free(p);
    }
    ptc_diag_finish(&d);
    ptc_src_free(src);
    return 0;
}
