/* ptc_cfg: configuration from rc.conf and the environment, and --root.
 *
 * rc.conf is read as AstLinux writes it: NAME="value", NAME='value' or
 * NAME=value lines, `#` comments, an optional `export`; nothing is expanded.
 * A variable set in the environment wins over rc.conf.
 *
 * --root DIR: every absolute path ptc reads or writes by default or from a
 * template is taken under DIR (ptc_cfg_path); text written into files keeps
 * the real path.  Paths named on the command line are used as given.
 *
 * Ownership: a ptc_cfg owns its strings (ptc_cfg_free); returned paths are
 * the caller's, returned values borrowed from the ptc_cfg.
 */
#ifndef PTC_CFG_H
#define PTC_CFG_H

#include "ptc/diag.h"

typedef struct ptc_cfg_var { char *name, *value; } ptc_cfg_var;

typedef struct ptc_cfg {
    char *root;                 /* "" when no --root */
    char *rc_path;              /* the rc.conf that was read (real path) */
    ptc_cfg_var *vars;
    size_t nvars;
} ptc_cfg;

/* Reads rc_file (NULL: /etc/rc.conf under root).  A missing default rc.conf
 * is not an error; a missing rc_file named by the user is (-1, reported). */
int  ptc_cfg_load(ptc_cfg *c, const char *root, const char *rc_file, ptc_diag *diag);
void ptc_cfg_free(ptc_cfg *c);

/* The value of name (environment first, then rc.conf), or NULL. */
const char *ptc_cfg_get(const ptc_cfg *c, const char *name);
/* ptc_cfg_get, with a default for unset or empty values. */
const char *ptc_cfg_get_or(const ptc_cfg *c, const char *name, const char *dflt);

/* The path to open for the real path p: root + p when p is absolute and a
 * root is set, else p.  Caller frees. */
char *ptc_cfg_path(const ptc_cfg *c, const char *p);

/* The one place for the default paths (real paths, not rooted). */
#define PTC_DEFAULT_BASE_DIR "/mnt/kd/phoneprov"
#define PTC_DEFAULT_LIST     "/mnt/kd/massdeployment.conf"
#define PTC_DEFAULT_PHONE_DB "/mnt/kd/asterisk-odbc.sqlite3"
#define PTC_DEFAULT_AUDIT_DB "/mnt/kd/phoneprov-audit.sqlite3"
#define PTC_DEFAULT_INCLUDES "/mnt/kd/asterisk/includes"
#define PTC_RELOAD_SCRIPT    "/mnt/kd/phoneprov-reload.script"
#define PTC_DEFAULT_WEB_DIR  "/mnt/kd/ptc"      /* ptc web: users, settings, log, certificate */

/* PHONEPROV_BASE_DIR or PTC_DEFAULT_BASE_DIR (a real path, not rooted). */
const char *ptc_cfg_base_dir(const ptc_cfg *c);

/* The paths to open (caller frees): the option given on the command line
 * as it is, else the default under --root.  The phone table: --db or
 * PTC_DEFAULT_PHONE_DB; the fetch audit: --audit-db, PHONEPROV_AUDIT_DB or
 * PTC_DEFAULT_AUDIT_DB. */
char *ptc_cfg_phone_db(const ptc_cfg *c, const char *opt);
char *ptc_cfg_audit_db(const ptc_cfg *c, const char *opt);

/* Parses rc.conf text into vars (used by ptc_cfg_load, and by tests). */
void ptc_cfg_parse(ptc_cfg *c, const char *text, size_t len);

#endif
