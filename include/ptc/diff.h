/* ptc_diff: a unified diff of two texts, line by line, in the form
 * `diff -u` prints and `patch` applies (3 lines of context, "\ No newline
 * at end of file" where a side lacks its last newline).  For showing what
 * a dry run would change (the web interface's Generate).
 *
 * The edit script is a shortest one (Myers' O(ND) algorithm on what is
 * left after the common head and tail are cut off), so its cost grows
 * with the number of changed lines, which the caller bounds.
 *
 * Ownership: the texts are borrowed; the diff is appended to out.
 */
#ifndef PTC_DIFF_H
#define PTC_DIFF_H

#include <stddef.h>
#include "ptc/buf.h"

/* Appends the diff of a (named a_name) to b (b_name) to out: nothing when
 * they are equal.  0; or 1 when more than max_changes lines would be
 * removed or added, and then out gets the two header lines and one line
 * "@@ too many changes to show (N lines -> M lines) @@" instead. */
int ptc_diff_unified(const char *a, size_t alen, const char *b, size_t blen,
                     const char *a_name, const char *b_name, unsigned max_changes, ptc_buf *out);

#endif
