/* ptc notify: targets, the notify option or Event per phone, and sending
 * through Asterisk's CLI (`asterisk -rx`) or its Manager interface (AMI).
 * include/ptc/notify.h is the picture; docs/notify.md the user's guide. */
#include "ptc/notify.h"
#include "ptc/buf.h"
#include "ptc/cache.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/map.h"
#include "ptc/rec.h"
#include "ptc/templates.h"
#include "ptc/audit.h"
#include "ptc/mac.h"
#include "ptc/vm.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the phones ------------------------------------------------------------- */

/* The table's phones (ptc_db_read_phones), their strings taken over. */
int ptc_notify_load(ptc_notify_set *set, const char *db, ptc_diag *diag)
{
    memset(set, 0, sizeof *set);
    ptc_db_phones t;
    int rc = ptc_db_read_phones(db, 0, &t, diag);
    set->v = ptc_xcalloc(t.n ? t.n : 1, sizeof *set->v);
    for (size_t i = 0; i < t.n; i++) {
        ptc_db_phone *d = &t.v[i];
        ptc_notify_phone *p = &set->v[set->n++];
        memcpy(p->mac, d->mac, 13);
        p->mac_text = d->mac_text;
        p->account = d->account;
        p->driver = ptc_xstrdup(strcasecmp(d->sip_driver, "pjsip") == 0 ? "pjsip" : "sip");
        p->tmpl = d->tmpl;
        p->model = d->model;
        p->vendor = d->vendor;
        p->exts = d->exts.len ? d->exts.data : ptc_xstrdup("");
        if (!d->exts.len) ptc_buf_free(&d->exts);
        free(d->sip_driver);
    }
    free(t.v);
    return rc;
}

void ptc_notify_set_free(ptc_notify_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) {
        ptc_notify_phone *p = &set->v[i];
        free(p->mac_text); free(p->account); free(p->driver); free(p->tmpl);
        free(p->model); free(p->vendor); free(p->exts); free(p->option); free(p->event);
    }
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* ---- targets -------------------------------------------------------------- */

static int has_ext(const char *list, const char *ext)
{
    size_t n = strlen(ext);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, ext, n) == 0) return 1;
        p += k;
        if (*p) p++;
    }
    return 0;
}

int ptc_notify_select(ptc_notify_set *set, const char *target, ptc_diag *diag)
{
    char mac[13];
    int is_mac = ptc_mac_norm(target, mac), hit = 0;
    for (size_t i = 0; i < set->n; i++) {
        ptc_notify_phone *p = &set->v[i];
        if ((is_mac && strcmp(p->mac, mac) == 0) || (!is_mac && has_ext(p->exts, target))) {
            p->selected = 1;
            hit = 1;
        }
    }
    if (!hit)
        ptc_diag_plain(diag, PTC_ERROR, "notify", "no phone with %s %s in the phone table",
                       is_mac ? "MAC" : "extension", target);
    return hit ? 0 : -1;
}

int ptc_notify_select_template(ptc_notify_set *set, const char *name, ptc_diag *diag)
{
    int hit = 0;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].tmpl, name) == 0) set->v[i].selected = hit = 1;
    if (!hit) ptc_diag_plain(diag, PTC_ERROR, "notify", "no phone uses template %s", name);
    return hit ? 0 : -1;
}

void ptc_notify_select_all(ptc_notify_set *set)
{
    for (size_t i = 0; i < set->n; i++) set->v[i].selected = 1;
}

size_t ptc_notify_select_changed(ptc_notify_set *set, const char *audit_db, const char *base, ptc_diag *diag)
{
    char why[512];
    ptc_audit_reader *r = ptc_audit_reader_open(audit_db, why, sizeof why);
    if (!r) {
        ptc_diag_plain(diag, errno == ENOENT ? PTC_NOTE : PTC_ERROR, "notify",
                       "%s: no fetch recorded, so no phone is known to be behind", why);
        return 0;
    }
    size_t n = 0;
    ptc_fetch_state st = {0};
    for (size_t i = 0; i < set->n; i++) {
        ptc_audit_reader_phone(r, base, set->v[i].mac, &st);
        if (st.fetched && st.stale.len) { set->v[i].selected = 1; n++; }
    }
    ptc_buf_free(&st.stale);
    ptc_audit_reader_close(r);
    return n;
}

/* ---- choosing the option or Event ---------------------------------------- */

/* The original's map: the sip_notify.conf / pjsip_notify.conf sections of
 * Asterisk's samples.  Fanvil understands Snom's check-sync (an addition). */
static const struct { const char *vendor, *reload, *reboot; } cli_map[] = {
    {"aastra", "aastra-check-cfg", NULL},
    {"cisco", "cisco-check-cfg", "linksys-cold-restart"},
    {"linksys", "linksys-warm-restart", "linksys-cold-restart"},
    {"polycom", "polycom-check-cfg", NULL},
    {"sipura", "sipura-check-cfg", NULL},
    {"snom", "snom-check-cfg", "snom-reboot"},
    {"yealink", "snom-check-cfg", "snom-reboot"},
    {"grandstream", "snom-check-cfg", "snom-reboot"},
    {"mitel", "snom-check-cfg", "snom-reboot"},
    {"fanvil", "snom-check-cfg", "snom-reboot"},
};

/* The Event header each vendor acts on (its provisioning guide), for AMI,
 * which needs no notify config. */
static const struct { const char *vendor, *reload, *reboot; } event_map[] = {
    {"yealink", "check-sync;reboot=false", "check-sync;reboot=true"},
    {"snom", "check-sync;reboot=false", "check-sync;reboot=true"},
    {"fanvil", "check-sync;reboot=false", "check-sync;reboot=true"},
    {"polycom", "check-sync", "check-sync"},
    {"grandstream", "check-sync", "check-sync;reboot=true"},
    {"cisco", "resync", "reboot"},
    {"linksys", "resync", "reboot"},
    {"sipura", "resync", "reboot"},
    {"aastra", "check-sync", "check-sync"},
    {"mitel", "check-sync", "check-sync"},
};

/* The [section] names of a notify config file ("" when none). */
static void read_sections(const char *path, ptc_buf *out)
{
    ptc_buf text = PTC_BUF_INIT;
    ptc_buf_reset(out);
    ptc_buf_putc(out, '\n');
    if (ptc_read_file(path, &text) == 0 && text.len) {
        const char *s = text.data, *end = s + text.len;
        while (s < end) {
            const char *e = memchr(s, '\n', (size_t)(end - s));
            if (!e) e = end;
            while (s < e && (*s == ' ' || *s == '\t')) s++;
            const char *rb = s < e && *s == '[' ? memchr(s, ']', (size_t)(e - s)) : NULL;
            /* [name](template) and [name] both name the section. */
            if (rb && rb > s + 1) ptc_buf_printf(out, "%.*s\n", (int)(rb - s - 1), s + 1);
            s = e + 1;
        }
    }
    ptc_buf_free(&text);
}

static int has_section(const ptc_buf *sections, const char *name)
{
    ptc_buf key = PTC_BUF_INIT;
    ptc_buf_printf(&key, "\n%s\n", name);
    int found = memmem(sections->data, sections->len, key.data, key.len) != NULL;
    ptc_buf_free(&key);
    return found;
}

/* notify_reload= / notify_reboot= of the phone's template, or NULL (the
 * registry loads each template once).  The value is read with every merge
 * variable empty: it should be plain text. */
static char *template_option(ptc_tmpls *T, ptc_cache *cache, const char *tmpl, int key)
{
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    const ptc_prog *p = ptc_tmpls_program(T, tmpl, strlen(tmpl), cache, &quiet)->prog;
    if (!p || !(p->keys_set & (1u << key))) return NULL;
    ptc_vm_rec rec;
    for (int i = 0; i < PTC_SLOT_COUNT; i++) ptc_vm_set(&rec, i, "", 0);
    ptc_vm_keys keys;
    memset(&keys, 0, sizeof keys);
    ptc_vm_general(p, &rec, 1u << key, &keys);
    char *val = NULL;
    if ((keys.set & (1u << key)) && keys.val[key].len) val = ptc_xstrdup(ptc_buf_cstr(&keys.val[key]));
    ptc_vm_keys_free(&keys);
    return val;
}

static const char *map_lookup(const char *vendor, int reboot, int events)
{
    size_t n = events ? sizeof event_map / sizeof event_map[0] : sizeof cli_map / sizeof cli_map[0];
    for (size_t i = 0; i < n; i++) {
        const char *v = events ? event_map[i].vendor : cli_map[i].vendor;
        if (strcasecmp(v, vendor) == 0)
            return events ? (reboot ? event_map[i].reboot : event_map[i].reload)
                          : (reboot ? cli_map[i].reboot : cli_map[i].reload);
    }
    return NULL;
}

/* The original's order for the CLI: MODEL-reload, VENDOR-reload in the
 * notify config, then the map. */
static char *cli_option(const ptc_notify_phone *p, int reboot, const ptc_buf *sections)
{
    const char *what = reboot ? "reboot" : "reload";
    ptc_buf name = PTC_BUF_INIT;
    const char *order[] = {p->model, p->vendor};
    for (int i = 0; i < 2; i++) {
        if (!order[i][0]) continue;
        ptc_buf_reset(&name);
        ptc_buf_printf(&name, "%s-%s", order[i], what);
        if (has_section(sections, ptc_buf_cstr(&name))) return (char *)ptc_buf_cstr(&name);
    }
    ptc_buf_free(&name);
    const char *m = map_lookup(p->vendor, reboot, 0);
    return m ? ptc_xstrdup(m) : NULL;
}

size_t ptc_notify_choose(ptc_notify_set *set, const ptc_notify_opts *o, const ptc_cfg *cfg, ptc_diag *diag)
{
    ptc_cache cache;
    ptc_cache_init(&cache, NULL);
    ptc_buf pj = PTC_BUF_INIT, sip = PTC_BUF_INIT;
    char *pjf = ptc_cfg_path(cfg, "/etc/asterisk/pjsip_notify.conf");
    char *sipf = ptc_cfg_path(cfg, "/etc/asterisk/sip_notify.conf");
    read_sections(pjf, &pj);
    read_sections(sipf, &sip);
    size_t left = 0;
    int key = o->reboot ? PTC_KEY_NOTIFY_REBOOT : PTC_KEY_NOTIFY_RELOAD;
    char *dir = ptc_templates_dir(cfg);
    ptc_tmpls tmpls;
    ptc_tmpls_init(&tmpls, dir);
    free(dir);
    for (size_t i = 0; i < set->n; i++) {
        ptc_notify_phone *p = &set->v[i];
        if (!p->selected) continue;
        p->option = template_option(&tmpls, &cache, p->tmpl, key);
        if (!p->option && o->via == PTC_NOTIFY_CLI)
            p->option = cli_option(p, o->reboot, strcmp(p->driver, "pjsip") == 0 ? &pj : &sip);
        if (!p->option && o->via == PTC_NOTIFY_AMI) {
            const char *ev = map_lookup(p->vendor, o->reboot, 1);
            if (ev) p->event = ptc_xstrdup(ev);
        }
        if (!p->account[0] || (!p->option && !p->event)) {
            ptc_diag_plain(diag, PTC_ERROR, "notify", "%s (%s): %s", p->mac_text, p->vendor[0] ? p->vendor : "?",
                           !p->account[0] ? "no SIP account in the phone table"
                           : "no way to notify this vendor: set notify_reload=/notify_reboot= in its template");
            p->selected = 0;
            continue;
        }
        left++;
    }
    ptc_tmpls_free(&tmpls);
    free(pjf);
    free(sipf);
    ptc_buf_free(&pj);
    ptc_buf_free(&sip);
    ptc_cache_free(&cache);
    return left;
}
