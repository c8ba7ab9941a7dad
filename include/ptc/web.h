/* ptc_web: the administrator's web interface and its JSON API (`ptc web`,
 * docs/web.md).  A separate server from `ptc serve`: the provisioning port
 * never serves the admin interface.
 *
 *   accounts  the users file (ptc_users), sessions in memory: a random
 *             256-bit cookie (HttpOnly, SameSite=Strict, Secure on HTTPS)
 *             and a CSRF token every change must carry
 *   phones    the phone list file itself is the source of truth: read
 *             fresh for each request, edited in place losslessly and
 *             atomically, with an ETag every change must send back
 *   generate  ptc_run in-process, one at a time, progress readable
 *
 * Ownership: ptc_web_start returns a server the caller stops and frees with
 * ptc_web_stop (NULL accepted); options are copied.
 */
#ifndef PTC_WEB_H
#define PTC_WEB_H

#include "ptc/diag.h"

typedef struct ptc_web_opts {
    const char *listen;         /* plain HTTP "ADDR:PORT": loopback only */
    const char *tls_listen;     /* HTTPS; neither: HTTPS on 127.0.0.1:8443 */
    const char *cert_file, *key_file;   /* none: a self-signed pair made on first start */
    const char *root, *rc_file;
    const char *list_path;      /* default /mnt/kd/massdeployment.conf under root */
    const char *users_path;     /* default /mnt/kd/ptc/web-users under root */
    const char *db_path;        /* the phoneprov table (ptc_cfg_phone_db) */
    const char *audit_db;       /* ptc serve's fetch audit (ptc_cfg_audit_db) */
    const char *cache_dir;
    unsigned session_idle_s;    /* 0: 1800 */
} ptc_web_opts;

typedef struct ptc_web ptc_web;

/* Starts the listeners (threads of their own).  0, or -1 after reporting. */
int  ptc_web_start(const ptc_web_opts *o, ptc_web **out, ptc_diag *diag);
/* The local port of listener i (0: the first), or -1. */
int  ptc_web_port(const ptc_web *w, int i);
void ptc_web_stop(ptc_web *w);

#endif
