/* ptc_users: the web interface's accounts (`ptc passwd`, `ptc web`).
 *
 * The users file holds one account a line, `NAME:ROLE:HASH`, ROLE `admin`
 * (may change anything) or `viewer` (may only read), HASH a crypt(3) hash
 * made with yescrypt (libxcrypt's crypt_gensalt "$y$").  It is written
 * atomically with mode 0600; no plain or weak hash is ever accepted.
 *
 * Ownership: a ptc_users owns its accounts and strings (ptc_users_free,
 * NULL accepted); passwords passed in are never kept.
 */
#ifndef PTC_USERS_H
#define PTC_USERS_H

#include <stddef.h>
#include "ptc/diag.h"

typedef enum { PTC_ROLE_VIEWER, PTC_ROLE_ADMIN } ptc_role;

typedef struct ptc_user {
    char *name, *hash;
    ptc_role role;
} ptc_user;

typedef struct ptc_users {
    ptc_user *v;
    size_t n;
} ptc_users;

/* Reads path (a missing file is an empty list).  A line that is not an
 * account, or whose hash is not yescrypt, is reported as path:line and
 * left out.  0, or -1 when the file cannot be read. */
int  ptc_users_load(const char *path, ptc_users *u, ptc_diag *diag);
/* Writes the list to path (temporary file, fsync, rename; mode 0600). */
int  ptc_users_save(const char *path, const ptc_users *u, ptc_diag *diag);
void ptc_users_free(ptc_users *u);

/* 1 for a user name: 1 to 32 of letters, digits and ._-, not first `.`/`-`. */
int  ptc_users_name_ok(const char *name);
/* Sets name's password (adding the account); 0, or -1 when hashing failed. */
int  ptc_users_set(ptc_users *u, const char *name, ptc_role role, const char *password);
/* Removes name: 0, or -1 when there is no such account. */
int  ptc_users_delete(ptc_users *u, const char *name);
/* The account name and password open, or NULL.  An unknown name costs the
 * same hash as a known one, so the time does not tell which it was. */
const ptc_user *ptc_users_check(const ptc_users *u, const char *name, const char *password);
const ptc_user *ptc_users_find(const ptc_users *u, const char *name);
/* Appends a copy of every account of from to to. */
void ptc_users_copy(ptc_users *to, const ptc_users *from);

const char *ptc_role_name(ptc_role r);

#endif
