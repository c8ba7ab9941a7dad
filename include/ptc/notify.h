/* ptc_notify: make phones fetch their files again (resync) or reboot, by
 * asking Asterisk to send them a SIP NOTIFY (`ptc notify`, docs/notify.md).
 *
 *   phones (the phoneprov table) --select--> targets
 *          --choose--> per phone: the notify option (a section of
 *                      pjsip_notify.conf / sip_notify.conf) or the Event
 *          --send----> `asterisk -rx ...` (cli) or the Manager interface (ami)
 *
 * Ownership: a ptc_notify_set owns its phones and their strings; free it
 * with ptc_notify_set_free (NULL accepted).  Options are borrowed.
 */
#ifndef PTC_NOTIFY_H
#define PTC_NOTIFY_H

#include <stddef.h>
#include <stdio.h>
#include "ptc/cfg.h"
#include "ptc/diag.h"

enum { PTC_NOTIFY_CLI, PTC_NOTIFY_AMI };

typedef struct ptc_notify_phone {
    char mac[13];               /* 12 lower-case hex digits */
    char *mac_text;             /* as the table writes it */
    char *account;              /* line 1's SIP account: the endpoint / peer */
    char *driver;               /* "pjsip" or "sip" */
    char *tmpl, *model, *vendor;
    char *exts;                 /* "201,211" */
    int selected;
    /* chosen for the action */
    char *option;               /* a notify config section, or NULL */
    char *event;                /* for AMI without an option: the Event header */
} ptc_notify_phone;

typedef struct ptc_notify_set {
    ptc_notify_phone *v;
    size_t n;
} ptc_notify_set;

typedef struct ptc_notify_opts {
    int reboot;                 /* reboot rather than resync */
    int via;                    /* PTC_NOTIFY_CLI or PTC_NOTIFY_AMI */
    const char *ami_addr;       /* HOST:PORT */
    const char *ami_secret_file;    /* "user SECRET" lines (0600) */
    const char *asterisk;       /* the asterisk binary (default: "asterisk" on PATH) */
    double rate;                /* phones a second (default 20) */
    int dry_run, json;
    FILE *out;
} ptc_notify_opts;

/* Reads every phone of the phoneprov table db (one per MAC). */
int  ptc_notify_load(ptc_notify_set *set, const char *db, ptc_diag *diag);
void ptc_notify_set_free(ptc_notify_set *set);

/* Marks the phones a target names: a MAC (any spelling) or an extension.
 * 0, or -1 when it names none (reported). */
int  ptc_notify_select(ptc_notify_set *set, const char *target, ptc_diag *diag);
/* Marks every phone of template name (0, -1 when none), or all. */
int  ptc_notify_select_template(ptc_notify_set *set, const char *name, ptc_diag *diag);
void ptc_notify_select_all(ptc_notify_set *set);
/* Marks the phones whose fetched files changed since they fetched them
 * (the audit at audit_db, files below base): the count. */
size_t ptc_notify_select_changed(ptc_notify_set *set, const char *audit_db, const char *base, ptc_diag *diag);

/* Chooses each selected phone's option or Event (docs/notify.md): the
 * template's notify_reload=/notify_reboot=, then MODEL-reload and
 * VENDOR-reload in the notify config, then the built-in map.  cfg gives
 * --root, the templates directory and /etc/asterisk.  Phones with no way to
 * be notified are reported and unselected; the number left. */
size_t ptc_notify_choose(ptc_notify_set *set, const ptc_notify_opts *o, const ptc_cfg *cfg, ptc_diag *diag);

/* Sends to every selected phone at o->rate, a result line each (text or
 * JSON) on o->out.  The number of failures (0: Asterisk accepted all), or
 * -1 when the AMI login failed (reported). */
int  ptc_notify_send(ptc_notify_set *set, const ptc_notify_opts *o, ptc_diag *diag);

#endif
