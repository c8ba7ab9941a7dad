/* ptc_comp: IR -> program.
 *
 * Literal text goes to the constant pool (deduplicated, adjacent literals of
 * unguarded lines merged into one constant with their newlines), variables
 * become slot reads, guards become forward conditional jumps.  [general]
 * lines `key = value` become KEY ... ENDKEY blocks; lines that are not a
 * known key are left out (ptc lint reports them).
 *
 * Ownership: returns a program the caller frees (ptc_prog_free), or NULL
 * after reporting errors to diag (for example a template without
 * [general]); the IR and the source are borrowed.
 */
#ifndef PTC_COMP_H
#define PTC_COMP_H

#include "ptc/ir.h"
#include "ptc/prog.h"
#include "ptc/diag.h"

ptc_prog *ptc_comp(ptc_ir *ir, ptc_diag *diag);

/* Parse + compile a source in one step (what every command uses, through
 * the cache).  NULL on errors, which were reported to diag. */
ptc_prog *ptc_comp_source(ptc_src *src, ptc_diag *diag);

/* The [general] key a line assigns: on success returns the key (or -1 for
 * a key we do not know) and sets *value_off to where the value starts in the
 * first segment.  Returns -2 when the line is not `name = value`. */
int ptc_comp_general_key(const ptc_ir *ir, const ptc_ir_line *l,
                         uint32_t *name_off, uint32_t *name_len, uint32_t *value_off);

#endif
