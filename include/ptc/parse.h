/* ptc_parse: template text -> IR, through the re2c lexer (grammar/lexer.re)
 * and the pure bison parser (grammar/parser.y).
 *
 * Errors and warnings go to diag; the parser resynchronises at the next line
 * so a file's every error is reported in one run.  Returns the IR (never
 * NULL); the caller checks diag->errors before compiling it.
 * Ownership: the caller frees the IR (ptc_ir_free); src is borrowed and
 * must outlive it.
 */
#ifndef PTC_PARSE_H
#define PTC_PARSE_H

#include "ptc/ir.h"
#include "ptc/diag.h"

ptc_ir *ptc_parse(ptc_src *src, ptc_diag *diag);

#endif
