/* ptc_ie: phone lists to and from CSV and JSON (`ptc export`, `ptc import`;
 * docs/import.md).
 *
 *   list / CSV / another list --read--> phones (ptc_ie_phone)
 *   phones + the target list --merge--> the new list text, every line the
 *   import does not change kept byte for byte --lint--> written or refused
 *
 * Ownership: a ptc_ie_set owns its phones and all their strings
 * (ptc_ie_set_free, NULL accepted).  Sources are borrowed.
 */
#ifndef PTC_IMPORT_H
#define PTC_IMPORT_H

#include <stdio.h>
#include "ptc/buf.h"
#include "ptc/diag.h"
#include "ptc/lang.h"
#include "ptc/src.h"

typedef struct ptc_ie_phone {
    char *tmpl, *mac_text;
    char mac[13];               /* 12 lower-case hex digits; "" when not a MAC */
    unsigned nlines;            /* 1..6 */
    char *ext[PTC_MAX_LINES], *cid_name[PTC_MAX_LINES], *cid_num[PTC_MAX_LINES];
    char *password[PTC_MAX_LINES], *account[PTC_MAX_LINES];     /* never NULL */
    /* The strings belong to the set: change them only with ptc_ie_set_str
     * (an empty one may be shared). */
    int enabled;
    /* where it came from */
    const char *file;           /* the file it was read from (borrowed) */
    unsigned line;              /* list line or CSV row (1-based) */
    uint32_t off, len;          /* a list's line, without its end */
    int has_passwords;          /* the source had password columns / fields */
} ptc_ie_phone;

typedef struct ptc_ie_set {
    ptc_ie_phone *v;
    size_t n, cap;
} ptc_ie_set;

void ptc_ie_set_free(ptc_ie_set *s);
/* A new phone at the end of s: every string "" (owned by the set), enabled. */
ptc_ie_phone *ptc_ie_set_add(ptc_ie_set *s);
/* Replaces one of a phone's strings with a copy of s. */
void ptc_ie_set_str(char **dst, const char *s);

/* The phones of a phone list, disabled ones (PTC_LIST_DISABLED lines)
 * included; lines that do not parse are reported and skipped.  0, or -1. */
int  ptc_ie_read_list(ptc_src *src, ptc_ie_set *out, ptc_diag *diag);

/* The phones of a CSV file (RFC 4180, UTF-8 with or without a BOM; a
 * header row names the columns in any order).  map: "THEIRS=ours,..." or
 * NULL.  Problems are reported as FILE:ROW:COLUMN.  0, or -1. */
int  ptc_ie_read_csv(ptc_src *src, const char *map, ptc_ie_set *out, ptc_diag *diag);

/* A phone as one phone-list line (no newline): template, MAC, extensions
 * with CallerID (`_` for spaces), passwords unless without_passwords,
 * accounts; PTC_LIST_DISABLED before it when disabled. */
void ptc_ie_line(const ptc_ie_phone *p, int without_passwords, ptc_buf *out);

/* The CSV column that byte col (0-based) of ptc_ie_line's text belongs
 * to ("ext2", "cid_name1", "mac" ...), into name. */
void ptc_ie_column_at(const ptc_ie_phone *p, uint32_t col, char *name, size_t n);

enum { PTC_IE_CSV, PTC_IE_JSON, PTC_IE_CONF };
/* Writes the phones in format fmt (CSV with CRLF line ends). */
void ptc_ie_write(const ptc_ie_set *s, int fmt, int with_passwords, FILE *f);

enum { PTC_IE_MERGE, PTC_IE_REPLACE };

typedef struct ptc_ie_result {
    unsigned added, changed, removed, unchanged, passwords;
    ptc_buf text;               /* the new list */
    const ptc_ie_phone **from;  /* per line of text (1-based index): the
                                 * imported phone written there, or NULL */
    size_t nfrom;
} ptc_ie_result;

void ptc_ie_result_free(ptc_ie_result *r);     /* NULL accepted */

/* The target list after importing in: merge updates phones by MAC and
 * adds the others at the end; replace also drops the phones that are not
 * imported (comments and blank lines stay).  Empty passwords keep the
 * phone's old ones, or are generated for a new phone.  report (may be NULL)
 * gets a line per added, changed or removed phone. */
void ptc_ie_merge(const ptc_src *list, const ptc_ie_set *old, ptc_ie_set *in, int mode,
                  ptc_ie_result *res, FILE *report);

#endif
