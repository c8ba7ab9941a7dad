/* ptc_plan: the checks that make a phone list safe to write, shared by
 * `ptc run` (which stops at their errors) and `ptc lint` (which reports
 * them), so the two cannot disagree.
 *
 *   a password for every phone, one phone per MAC, one phone per first-line
 *   SIP account, one writer per output file (a provisioning file is never
 *   also an include file, an include file takes one kind of context), each
 *   extension once in a dialplan include file, and no output path chosen by
 *   phone data.
 *
 * Names are kept as 64-bit hashes in one map, so a plan of 100,000 phones
 * stays small.
 * Ownership: ptc_plan_free (NULL accepted) releases the maps and files; the
 * list source and the reporter are borrowed.
 */
#ifndef PTC_PLAN_H
#define PTC_PLAN_H

#include <stddef.h>
#include "ptc/diag.h"
#include "ptc/buf.h"
#include "ptc/map.h"
#include "ptc/phone.h"
#include "ptc/rec.h"

typedef struct ptc_plan_file {  /* an include file, in order of first use */
    int ctx;
    unsigned line;              /* the first phone line writing to it */
} ptc_plan_file;

typedef struct ptc_plan {
    ptc_src *list;
    ptc_diag *diag;
    int notes;                  /* add a note at the line seen first (lint) */
    ptc_map seen;               /* MACs, accounts and output files, one map:
                                 * each kind's hashes are tagged apart */
    ptc_plan_file *files;
    size_t nfiles;
    unsigned missing;           /* phones without a password */
    unsigned dup_line, dup_mask;    /* duplicate extensions reported on a line */
    ptc_buf key;                /* scratch: an output path's identity */
} ptc_plan;

typedef enum {
    PTC_PLAN_REFUSED,           /* reported; the output is not planned */
    PTC_PLAN_PROV,              /* a provisioning file, first and only writer */
    PTC_PLAN_INCLUDE_NEW,       /* an include file seen for the first time */
    PTC_PLAN_INCLUDE_SAME       /* an include file another phone writes too */
} ptc_plan_kind;

void ptc_plan_init(ptc_plan *p, ptc_src *list, ptc_diag *diag);
void ptc_plan_free(ptc_plan *p);

/* Reports a phone without a password (counted in missing). */
void ptc_plan_password(ptc_plan *p, const ptc_rec *r);

/* 0 for a MAC not seen before; -1 (reported) for a duplicate. */
int ptc_plan_mac(ptc_plan *p, const ptc_rec *r);

/* Reports a first-line account that another phone has.  Later lines may
 * name another phone's extension: a shared line appearance, as the
 * original allows. */
void ptc_plan_account(ptc_plan *p, const ptc_rec *r, const ptc_phone *ph);

/* Plans context ctx's output of the bound phone ph (for a dialplan, also
 * reporting an extension the same include file already has).  Sets *path (valid
 * until the next call on ph) and, for include files, *file (an index into
 * p->files). */
ptc_plan_kind ptc_plan_output(ptc_plan *p, const ptc_rec *r, ptc_phone *ph,
                              const ptc_phone_env *env, int ctx,
                              const char **path, size_t *file);

/* ... the same for a path already known (the generation index's record of
 * an unchanged phone of program prog), whose ptc_plan_path_key is key. */
ptc_plan_kind ptc_plan_output_path(ptc_plan *p, const ptc_rec *r, const ptc_prog *prog, int ctx,
                                   const char *path, uint64_t key, size_t *file);
/* What output paths are told apart by (a//b and a/b are one file). */
uint64_t ptc_plan_path_key(ptc_plan *p, const char *path);

/* A phone planned from its record instead of its binding: 1 when outputs
 * of keys key[0..n) (ptc_plan_path_key) for contexts ctx[0..n) and a first
 * account hashing to account_hash would pass every check (nothing to
 * report); 0 when the phone must be bound and planned in full, which
 * reports what is wrong. */
int ptc_plan_would_pass(ptc_plan *p, const ptc_rec *r, const ptc_prog *prog, const int *ctx,
                        const uint64_t *key, int n, uint64_t account_hash);
/* Notes the first account of a phone that ptc_plan_would_pass passed. */
void ptc_plan_account_hash(ptc_plan *p, const ptc_rec *r, uint64_t account_hash);
/* The hash ptc_plan_account keys the bound phone's first account by. */
uint64_t ptc_plan_account_of(const ptc_phone *ph);

/* The include file planned for path, or -1. */
long ptc_plan_include_of(ptc_plan *p, const char *path);

#endif
