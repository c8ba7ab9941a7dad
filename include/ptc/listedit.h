/* ptc_list: editing a phone list in place, for ptc run -a and ptc import.
 *
 * Every byte the edit does not touch stays as it was; the file is replaced
 * atomically (temporary file, fsync, rename) keeping its mode and owner, and
 * a symlinked list has its target rewritten, not the link.
 *
 * Ownership: the functions own nothing past the call; the caller's buffers
 * and sources are borrowed.
 */
#ifndef PTC_LISTEDIT_H
#define PTC_LISTEDIT_H

#include <stddef.h>
#include "ptc/diag.h"

/* A password as -a makes them: 16 base64 characters from getrandom(). */
void ptc_list_password(char out[17]);

/* Replaces the list at path with data.  0, or -1 after reporting (the old
 * file is then untouched). */
int  ptc_list_rewrite(const char *path, const char *data, size_t len, ptc_diag *diag);

/* A disabled phone is kept in the list as this comment, then its line:
 * phoneprov-tools skips it as it skips every `#` line. */
#define PTC_LIST_DISABLED "#ptc-disabled "

#endif
