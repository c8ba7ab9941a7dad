/* ptc_lint: checks templates and phone lists without writing anything
 * (`ptc lint`, docs/lint.md lists every check and its code).
 *
 * Templates go through the same parser and compiler as `ptc run` (so the
 * syntax errors are the same ones), then through checks on the IR: keys and
 * values of [general], unknown or mis-indexed @VARIABLES@, guards that
 * cannot work, provisioning file names every phone would share, ...
 * Phone lists go through the same reader (ptc_rec) and binder (ptc_phone)
 * as `ptc run`, plus cross-phone checks: duplicate MACs, accounts,
 * extensions and output files, line counts against the template.
 *
 * Everything is reported to a ptc_diag; a lint check that the user turned
 * off (-Wno-CODE) is neither printed nor counted.
 *
 * Ownership: a ptc_lint owns the templates it loaded (ptc_lint_free, NULL
 * accepted, releases them); sources passed in are borrowed for the call.
 */
#ifndef PTC_LINT_H
#define PTC_LINT_H

#include <stddef.h>
#include <stdint.h>
#include "ptc/cfg.h"
#include "ptc/diag.h"
#include "ptc/ir.h"
#include "ptc/prog.h"
#include "ptc/src.h"

/* What a file holds, decided by its content (ptc_lint_classify). */
typedef enum { PTC_LINT_UNKNOWN, PTC_LINT_TEMPLATE, PTC_LINT_LIST } ptc_lint_kind;

/* A template loaded for linting.  src, ir and prog are owned; prog is NULL
 * when the template has errors. */
typedef struct ptc_lint_tmpl {
    char     *name;             /* template name (file name without .conf) */
    char     *real;             /* realpath, to lint each file once; NULL if none */
    ptc_src  *src;
    ptc_ir   *ir;
    ptc_prog *prog;
    unsigned  lines_used;       /* highest line index of the output contexts, 0..6 */
    uint64_t  xml_slots;        /* bit per slot inserted unescaped into XML */
} ptc_lint_tmpl;

typedef struct ptc_lint {
    ptc_diag   *diag;
    ptc_diag    checks;         /* lint's own checks report here: their codes
                                 * can be turned off; the rest reaches diag */
    ptc_cfg    *cfg;            /* for PHONEPROV_BASE_DIR and --root; may be NULL */
    const char *templates_dir;  /* --templates DIR, or NULL: base dir/templates */
    char      **disabled;       /* -Wno-CODE, NULL-terminated, borrowed; may be NULL */
    char      **enabled;        /* -WCODE for the codes off by default (the same) */
    ptc_lint_tmpl **t;
    size_t      nt;
} ptc_lint;

/* Sets up a linter reporting to diag.  cfg may be NULL (then the defaults
 * of include/ptc/cfg.h apply). */
void ptc_lint_init(ptc_lint *L, ptc_diag *diag, ptc_cfg *cfg);
void ptc_lint_free(ptc_lint *L);

/* Template or phone list?  A template has a `[name]` header line; a phone
 * list has none and has a non-comment line of three or more fields. */
ptc_lint_kind ptc_lint_classify(const ptc_src *src);

/* Lints the template in src (which the linter takes over: do not free it)
 * and keeps it for the phone lists that name it.  real is the file's
 * realpath or NULL.  Returns the template (owned by L). */
ptc_lint_tmpl *ptc_lint_template(ptc_lint *L, ptc_src *src, const char *name, const char *real);

/* The template already linted from the file whose realpath is real, or NULL. */
ptc_lint_tmpl *ptc_lint_find(const ptc_lint *L, const char *real);

/* Lints the phone list in src (borrowed; its redactor is set so passwords
 * are masked in excerpts) and every template it names, which are looked
 * up in L->templates_dir or PHONEPROV_BASE_DIR/templates and linted once. */
void ptc_lint_list(ptc_lint *L, ptc_src *src);

/* 1 when code was turned off with -Wno-CODE, or is off by default
 * (ptc-only-syntax) and was not turned on with -WCODE. */
int ptc_lint_disabled(const ptc_lint *L, const char *code);

#endif
