/* ptc_phone: one phone bound to its template, ready for the VM.
 *
 * Binding fills the slots from the record and evaluates [general] in the
 * original tool's order: macaddress_case first, then model, then vendor, then
 * every other key (with @ACCOUNT@ still empty), then the accounts from
 * auto_account_prefix/suffix/case.  All buffers live in the ptc_phone and
 * are reused from one phone to the next: binding allocates nothing once
 * they have grown.
 *
 * Ownership: ptc_phone_free (NULL accepted) releases the buffers; the slot
 * values point into the phone, the phone list source and the program.
 */
#ifndef PTC_PHONE_H
#define PTC_PHONE_H

#include "ptc/vm.h"
#include "ptc/rec.h"
#include "ptc/prog.h"

typedef struct ptc_phone_env {
    const char *base_dir;           /* PHONEPROV_BASE_DIR (real path) */
    const char *sip_server_ipv4;
} ptc_phone_env;

typedef struct ptc_phone {
    ptc_vm_rec  rec;
    ptc_vm_keys keys;
    ptc_buf     mac, prefix, suffix;
    ptc_buf     cid_name[PTC_MAX_LINES], cid_num[PTC_MAX_LINES], account[PTC_MAX_LINES];
    ptc_buf     path;               /* scratch for ptc_phone_output_path */
    int         sql_enable;
    char        sip_driver[16];
    const ptc_rec *r;
    const ptc_prog *prog;           /* the program bound (borrowed) */
} ptc_phone;

void ptc_phone_init(ptc_phone *ph);
void ptc_phone_free(ptc_phone *ph);

/* Binds record r (from list) using program p, whose template is named by
 * r->tmpl.  Cannot fail. */
void ptc_phone_bind(ptc_phone *ph, const ptc_prog *p, const ptc_src *list,
                    const ptc_rec *r, const ptc_phone_env *env);

/* A [general] value with its default applied (NUL-terminated, owned by ph
 * or static). */
const char *ptc_phone_key(ptc_phone *ph, int key, const ptc_phone_env *env);

/* The real path of context ctx's output for this phone (prov file for
 * [phoneprov], include file otherwise).  Returns NULL and sets *why when phone
 * data would choose the directory (a `/` from a variable, a `..` part).
 * The string lives in ph->path until the next call. */
const char *ptc_phone_output_path(ptc_phone *ph, int ctx, const ptc_phone_env *env, const char **why);

/* The dialplan context name for dialplanN (ctx), or "" for none. */
const char *ptc_phone_dialplan_context(ptc_phone *ph, int ctx, const ptc_phone_env *env);

/* 1 when line i (0-based) of the phone is a line of its own: the first, or
 * one whose extension differs from the first (as the original's SQL rows). */
int ptc_phone_line_is_distinct(const ptc_phone *ph, int i);

#endif
