/* The PBX side of ptc web: /api/settings, /api/status and /api/notify
 * (web_int.h, docs/web.md).
 *
 * Settings are the web interface's own (web-settings.json beside the
 * users file): the gateway interface Generate gives the phones and how many
 * lines the phone form shows.  rc.conf is read, never rewritten. */
#include "web_int.h"
#include "ptc/fsutil.h"
#include "ptc/host.h"
#include "ptc/mac.h"
#include "ptc/notify.h"
#include "ptc/status.h"
#include "ptc/commit.h"
#include "ptc/db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LINES_SHOWN_DEFAULT 2
#define MAX_IFS 32

/* ---- settings --------------------------------------------------------------------- */

void web_settings_read(ptc_web *W, char *gw_if, size_t n, int *lines_shown)
{
    snprintf(gw_if, n, "%s", "");
    *lines_shown = LINES_SHOWN_DEFAULT;
    pthread_mutex_lock(&W->set_mu);
    json_t *j = json_load_file(W->settings_path, 0, NULL);
    pthread_mutex_unlock(&W->set_mu);
    if (!j) return;             /* none yet, or unreadable: the defaults */
    json_t *v = json_object_get(j, "gw_if");
    if (json_is_string(v)) snprintf(gw_if, n, "%s", json_string_value(v));
    v = json_object_get(j, "lines_shown");
    if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 6)
        *lines_shown = (int)json_integer_value(v);
    json_decref(j);
}

static json_t *interfaces_json(const ptc_cfg *cfg)
{
    ptc_host_if ifs[MAX_IFS];
    size_t n = ptc_host_interfaces(cfg, ifs, MAX_IFS);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "name", ifs[i].name, "device", ifs[i].device,
                                           "address", ifs[i].address));
    ptc_host_interfaces_free(ifs, n);
    return a;
}

static enum MHD_Result settings_get(wreq *r)
{
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_cfg *cfg = web_cfg(r->W, &quiet);
    if (!cfg) return web_error(r, 500, "config", "%s", quiet.last);
    char gw_if[64];
    int lines;
    web_settings_read(r->W, gw_if, sizeof gw_if, &lines);
    json_t *j = json_pack("{s:s,s:s,s:i,s:o}", "gw_if", gw_if, "gw_if_default",
                          ptc_cfg_get_or(cfg, "PHONEPROV_GW_IF", "INTIF"), "lines_shown", lines,
                          "interfaces", interfaces_json(cfg));
    web_cfg_free(cfg);
    return web_json(r, 200, j);
}

/* 1 when name is "" (rc.conf's) or one of the interfaces offered. */
static int known_if(const ptc_cfg *cfg, const char *name)
{
    if (!*name) return 1;
    ptc_host_if ifs[MAX_IFS];
    size_t n = ptc_host_interfaces(cfg, ifs, MAX_IFS);
    int ok = 0;
    for (size_t i = 0; i < n; i++) ok |= strcmp(ifs[i].name, name) == 0;
    ptc_host_interfaces_free(ifs, n);
    return ok;
}

static json_t *settings_check(const ptc_cfg *cfg, json_t *j, char *gw_if, size_t n, int *lines)
{
    json_t *errs = json_array(), *v;
    if ((v = json_object_get(j, "gw_if"))) {
        if (!json_is_string(v) || json_string_length(v) >= n || !known_if(cfg, json_string_value(v)))
            json_array_append_new(errs, web_field_error("gw_if", "bad-interface",
                                                        "gw_if must be \"\" or one of the interfaces listed"));
        else snprintf(gw_if, n, "%s", json_string_value(v));
    }
    if ((v = json_object_get(j, "lines_shown"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 6)
            json_array_append_new(errs, web_field_error("lines_shown", "bad-range",
                                                        "lines_shown must be a whole number from 1 to 6"));
        else *lines = (int)json_integer_value(v);
    }
    return errs;
}

static enum MHD_Result settings_put(wreq *r)
{
    enum MHD_Result ret;
    json_t *j = web_body_json(r, &ret);
    if (!j) return ret;
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_cfg *cfg = web_cfg(r->W, &quiet);
    if (!cfg) { json_decref(j); return web_error(r, 500, "config", "%s", quiet.last); }
    char gw_if[64];
    int lines;
    web_settings_read(r->W, gw_if, sizeof gw_if, &lines);
    json_t *errs = settings_check(cfg, j, gw_if, sizeof gw_if, &lines);
    json_decref(j);
    web_cfg_free(cfg);
    if (json_array_size(errs)) return web_field_errors(r, errs);
    json_decref(errs);
    json_t *out = json_pack("{s:s,s:i}", "gw_if", gw_if, "lines_shown", lines);
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    pthread_mutex_lock(&r->W->set_mu);
    ptc_mkdirs(r->W->dir, 0750);
    int rc = ptc_write_file_atomic(r->W->settings_path, text, strlen(text), 0640);
    int e = errno;
    pthread_mutex_unlock(&r->W->set_mu);
    free(text);
    if (rc != 0) {
        json_decref(out);
        return web_error(r, 500, "io", "cannot write %s: %s", r->W->settings_path, strerror(e));
    }
    web_log(r, "settings", NULL);
    return web_json(r, 200, out);
}

enum MHD_Result web_settings(wreq *r)
{
    if (!strcmp(r->method, "GET")) return settings_get(r);
    if (!strcmp(r->method, "PUT")) return settings_put(r);
    return web_error(r, 405, "method", "/api/settings takes GET or PUT, not %s", r->method);
}

/* ---- status ------------------------------------------------------------------------ */

static const char *const state_names[] = {"ok", "never", "stale"};

static json_t *status_phone_json(const ptc_status_phone *p)
{
    json_t *exts = json_array();
    const char *e = ptc_buf_cstr((ptc_buf *)&p->ph.exts);
    for (const char *c; *e; e = *c ? c + 1 : c) {
        c = e + strcspn(e, ",");
        json_array_append_new(exts, json_stringn(e, (size_t)(c - e)));
    }
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "mac", p->ph.mac, "mac_text", p->ph.mac_text,
                          "template", p->ph.tmpl ? p->ph.tmpl : "", "model", p->ph.model ? p->ph.model : "",
                          "vendor", p->ph.vendor ? p->ph.vendor : "", "exts", exts, "state",
                          state_names[p->state]);
    if (!p->fetch.fetched) {
        json_object_set_new(j, "last_fetch", json_null());
        return j;
    }
    char when[32];
    time_t t = (time_t)p->fetch.when;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(j, "last_fetch", json_pack("{s:s,s:s,s:s,s:s}", "time", when, "addr", p->fetch.addr,
                                                   "user_agent", p->fetch.user_agent, "firmware",
                                                   p->fetch.firmware));
    if (p->fetch.stale.len) json_object_set_new(j, "stale_files", json_string(ptc_buf_cstr((ptc_buf *)&p->fetch.stale)));
    return j;
}

enum MHD_Result web_status(wreq *r)
{
    web_diags w;
    web_diags_open(&w);
    ptc_cfg *cfg = web_cfg(r->W, &w.d);
    char *db = cfg ? ptc_cfg_phone_db(cfg, r->W->db_opt) : NULL;
    char *audit = cfg ? ptc_cfg_audit_db(cfg, r->W->audit_opt) : NULL;
    char *base = cfg ? ptc_cfg_path(cfg, ptc_cfg_base_dir(cfg)) : NULL;
    ptc_status st;
    memset(&st, 0, sizeof st);
    int generated = db && ptc_db_exists(db), rc = 0;
    if (generated) {
        char *state = ptc_commit_state_dir(cfg, db);
        ptc_status_opts o = {.phone_db = db, .audit_db = audit, .state_dir = state, .base = base};
        rc = ptc_status_read(&o, &st, &w.d);
        free(state);
    }
    json_t *errs = web_diags_close(&w);
    json_t *hours = json_array();
    for (int i = 0; i < 24; i++) json_array_append_new(hours, json_integer(st.fetch_hours[i]));
    json_t *phones = json_array();
    for (size_t i = 0; i < st.n; i++) json_array_append_new(phones, status_phone_json(&st.v[i]));
    json_t *j = json_pack("{s:b,s:b,s:b,s:{s:i,s:i,s:i},s:o}", "generated", generated, "have_audit",
                          st.have_audit, "commit_pending", st.commit_pending, "counts", "ok",
                          st.count[PTC_STATUS_OK], "never", st.count[PTC_STATUS_NEVER], "stale",
                          st.count[PTC_STATUS_STALE], "phones", phones);
    json_object_set_new(j, "fetches_by_hour", hours);
    ptc_status_free(&st);
    free(db);
    free(audit);
    free(base);
    web_cfg_free(cfg);
    if (!cfg || rc != 0) {
        json_decref(j);
        return web_json(r, 500, json_pack("{s:o}", "errors", errs));
    }
    json_decref(errs);
    return web_json(r, 200, j);
}

/* ---- notify ------------------------------------------------------------------------ */

/* Marks the phones of macs; the field errors (an empty array: none). */
static json_t *select_macs(ptc_notify_set *set, json_t *macs, json_t *touched)
{
    json_t *errs = json_array();
    if (!json_is_array(macs) || !json_array_size(macs)) {
        json_array_append_new(errs, web_field_error("macs", "bad-type", "macs must be a non-empty array of MACs"));
        return errs;
    }
    size_t i;
    json_t *v;
    json_array_foreach(macs, i, v) {
        char field[32], mac[13];
        snprintf(field, sizeof field, "macs[%zu]", i);
        ptc_diag quiet;
        ptc_diag_init_null(&quiet);
        if (!json_is_string(v) || !ptc_mac_norm(json_string_value(v), mac))
            json_array_append_new(errs, web_field_error(field, "bad-mac", "not a MAC address"));
        else if (ptc_notify_select(set, mac, &quiet) != 0)
            json_array_append_new(errs, web_field_error(field, "unknown-phone", "no such phone in the phoneprov table"));
        else json_array_append_new(touched, json_string(mac));
    }
    return errs;
}

static json_t *send_all(ptc_notify_set *set, const ptc_notify_opts *base, const ptc_cfg *cfg, ptc_diag *diag,
                        int *failed)
{
    char *out = NULL;
    size_t len = 0;
    ptc_notify_opts o = *base;
    o.out = open_memstream(&out, &len);
    o.json = 1;
    *failed = 0;
    if (ptc_notify_choose(set, &o, cfg, diag)) *failed = ptc_notify_send(set, &o, diag);
    fclose(o.out);
    json_t *results = web_json_lines(out);
    free(out);
    return results;
}

/* {"macs": [...], "action": "resync" | "reboot", "dry_run": bool}. */
static int notify_args(json_t *j, int *reboot, int *dry_run, json_t *errs)
{
    json_t *a = json_object_get(j, "action"), *d = json_object_get(j, "dry_run");
    const char *act = json_is_string(a) ? json_string_value(a) : "";
    *reboot = strcmp(act, "reboot") == 0;
    if (!*reboot && strcmp(act, "resync") != 0 && strcmp(act, "reload") != 0)
        json_array_append_new(errs, web_field_error("action", "bad-action", "action must be \"resync\" or \"reboot\""));
    if (d && !json_is_boolean(d))
        json_array_append_new(errs, web_field_error("dry_run", "bad-type", "dry_run must be true or false"));
    *dry_run = json_is_true(d);
    return json_array_size(errs) ? -1 : 0;
}

enum MHD_Result web_notify(wreq *r)
{
    enum MHD_Result ret;
    json_t *j = web_body_json(r, &ret);
    if (!j) return ret;
    web_diags w;
    web_diags_open(&w);
    ptc_cfg *cfg = web_cfg(r->W, &w.d);
    char *db = cfg ? ptc_cfg_phone_db(cfg, r->W->db_opt) : NULL;
    ptc_notify_set set = {NULL, 0};
    json_t *touched = json_array(), *errs = json_array(), *res = NULL;
    int reboot = 0, dry_run = 0, failed = 0, status = 500;
    if (!cfg || ptc_notify_load(&set, db, &w.d) != 0) goto out;
    json_decref(errs);
    errs = select_macs(&set, json_object_get(j, "macs"), touched);
    if (notify_args(j, &reboot, &dry_run, errs) != 0) { status = 422; goto out; }
    ptc_notify_opts o = {.reboot = reboot, .via = PTC_NOTIFY_CLI, .rate = 20, .dry_run = dry_run};
    json_t *results = send_all(&set, &o, cfg, &w.d, &failed);
    if (!dry_run) web_log(r, reboot ? "notify-reboot" : "notify-resync", json_incref(touched));
    status = failed < 0 ? 502 : 200;
    res = json_pack("{s:o,s:i}", "results", results, "failed", failed < 0 ? (int)json_array_size(touched) : failed);
out:
    json_decref(j);
    json_t *diags = web_diags_close(&w);
    if (status == 422) res = json_pack("{s:O}", "errors", errs);
    else if (status == 500) res = json_pack("{s:O}", "errors", diags);
    else json_object_set(res, "warnings", diags);
    json_decref(diags);
    json_decref(errs);
    json_decref(touched);
    ptc_notify_set_free(&set);
    free(db);
    web_cfg_free(cfg);
    return web_json(r, status, res);
}
