/* ptc_rec: the phone list reader (massdeployment.conf).
 *
 *   template mac ext[/CID_Name][;ext2[/cid2]...] password[;pw2...] [account[;acct2...]]
 *
 * Lines whose first non-blank is `#` are comments; fields are separated by
 * blanks (spaces, tabs); CR of CRLF line ends and trailing blanks are
 * ignored.  ptc_rec_parse checks a line completely and reports every
 * problem with file:line:col (passwords never appear in a message: the
 * phone list's source carries a redactor).  Nothing here allocates: a
 * ptc_rec points into the source text.
 *
 * Ownership: a ptc_rec owns nothing (spans into the borrowed source).
 */
#ifndef PTC_REC_H
#define PTC_REC_H

#include <stdint.h>
#include "ptc/src.h"
#include "ptc/diag.h"
#include "ptc/lang.h"

typedef struct ptc_span { uint32_t off, len; } ptc_span;

typedef struct ptc_rec {
    unsigned line;              /* 1-based */
    uint32_t off, len;          /* the line, without its end */
    ptc_span tmpl, macf, extf, passf, acctf;
    char     mac_addr[18];      /* aa:bb:cc:dd:ee:ff as typed (case kept) */
    char     mac[13];           /* without separators */
    unsigned nexts;             /* extension entries given (1..6) */
    ptc_span ext[PTC_MAX_LINES], cid[PTC_MAX_LINES];
    int      has_cid[PTC_MAX_LINES];  /* a `/` followed the extension */
    int      multi;             /* the ext field holds a `;` */
    ptc_span pass[PTC_MAX_LINES], acct[PTC_MAX_LINES];
    int      pass_multi, acct_multi;
    int      missing_password;
} ptc_rec;

/* Iterates over the phone lines of src: returns 1 with the next non-comment
 * line's bounds in *off and *len and its number in *line, 0 at the end. */
int ptc_rec_next_line(const ptc_src *src, uint32_t *pos, uint32_t *off, uint32_t *len, unsigned *line);

/* The longest phone line accepted: six lines' worth of fields is far less;
 * a longer line is one error (line-too-long), none of its fields echoed. */
#define PTC_REC_LINE_MAX 4096

/* Parses and checks one line.  Returns 0 when usable (a missing password is
 * flagged in r->missing_password, not reported), -1 after reporting errors. */
int ptc_rec_parse(ptc_src *src, uint32_t off, uint32_t len, unsigned line, ptc_rec *r, ptc_diag *diag);

/* 1 for a template name a phone list may use: letters, digits and ._-+,
 * not starting with `.` or `-` (it becomes a file name). */
int ptc_rec_valid_template_name(const char *s, size_t n);

/* Masks the password field of a phone-list line (for diagnostics). */
void ptc_rec_redact(const char *line, size_t len, char *out);

/* A field's bytes. */
static inline const char *ptc_rec_str(const ptc_src *src, ptc_span s) { return src->text + s.off; }

#endif
