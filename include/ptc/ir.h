/* ptc_ir: the tree the parser builds and the compiler reads.
 *
 *   template -> contexts (each joined across repeated headers) -> lines
 *            -> segments (literal text | variable slot)
 *
 * A line may carry a guard (#<ext> or #<!a!b!>).  Everything points back into
 * the source by byte offset.  All nodes live in one arena owned by the
 * ptc_ir; ptc_ir_free (NULL accepted) releases the lot.  The source is
 * borrowed: it must outlive the IR.
 */
#ifndef PTC_IR_H
#define PTC_IR_H

#include <stdint.h>
#include <stddef.h>
#include "ptc/lang.h"
#include "ptc/src.h"

typedef enum { PTC_SEG_TEXT, PTC_SEG_VAR } ptc_seg_kind;

typedef struct ptc_ir_seg {
    ptc_seg_kind kind;
    uint32_t off, len;          /* TEXT: source bytes; VAR: the whole @NAME[:f...]@ */
    int slot;                   /* VAR only */
    uint32_t filters;           /* VAR only: the filter chain written (lang.h) */
    struct ptc_ir_seg *next;
} ptc_ir_seg;

typedef enum { PTC_GUARD_NONE, PTC_GUARD_ONLY, PTC_GUARD_EXCEPT } ptc_guard_kind;

typedef struct ptc_ir_ext {     /* one extension named in a guard */
    uint32_t off, len;
    struct ptc_ir_ext *next;
} ptc_ir_ext;

typedef struct ptc_ir_line {
    uint32_t off;               /* start of the line */
    ptc_guard_kind guard;
    uint32_t guard_off, guard_len;
    ptc_ir_ext *exts;           /* ONLY: one; EXCEPT: the list, empty entries dropped */
    ptc_ir_seg *segs;           /* NULL: nothing left after the guard */
    struct ptc_ir_line *next;
} ptc_ir_line;

typedef struct ptc_ir_header {  /* one [name] line, known or not */
    uint32_t off, name_off, name_len;
    int ctx;                    /* ptc_ctx, or -1 when unknown */
    struct ptc_ir_header *next;
} ptc_ir_header;

typedef struct ptc_ir_context {
    int present;
    unsigned parts;             /* how many headers opened it */
    ptc_ir_line *first, *last;
} ptc_ir_context;

typedef struct ptc_ir {
    ptc_src *src;
    ptc_ir_context ctx[PTC_CTX_COUNT];
    ptc_ir_line *global_first, *global_last;   /* before the first header */
    ptc_ir_header *headers, *headers_last;
    unsigned nlines_ignored;    /* lines under unknown headers */
    struct ptc_arena *arena;
} ptc_ir;

ptc_ir *ptc_ir_new(ptc_src *src);
void   *ptc_ir_alloc(ptc_ir *ir, size_t n);       /* zeroed, arena-owned */
void    ptc_ir_free(ptc_ir *ir);

#endif
