/* The phone list through ptc web: /api/phones, /api/import, /api/export,
 * /api/templates (web_int.h, docs/web.md).
 *
 * The list file is the source of truth.  Every request reads it again;
 * every change names the version it was made on (If-Match: the ETag, a
 * hash of the file's bytes) and is refused with 412 when the file changed
 * in between.  A change rewrites only the phone's own line (or appends
 * one, or drops one): comments, blank lines, spacing and the order of the
 * other lines stay byte for byte.  Before anything is written the new list
 * goes through ptc lint's checks (the same ones ptc run stops at); an
 * error on the changed phone comes back per field and nothing is written. */
#include "web_int.h"
#include "ptc/fsutil.h"
#include "ptc/import.h"
#include "ptc/lint.h"
#include "ptc/listedit.h"
#include "ptc/mac.h"
#include "ptc/map.h"
#include "ptc/templates.h"
#include "ptc/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the file and its version ------------------------------------------------- */

typedef struct listfile {
    ptc_buf text;
    char etag[48];
    int exists;
} listfile;

static void etag_of(const char *data, size_t n, char out[48])
{
    snprintf(out, 48, "\"%016llx-%zu\"", (unsigned long long)ptc_hash64(data, n), n);
}

void web_list_etag(ptc_web *W, char out[48])
{
    ptc_buf text = PTC_BUF_INIT;
    if (ptc_read_file_max(W->list_path, &text, 64u << 20) != 0) ptc_buf_reset(&text);
    etag_of(text.data ? text.data : "", text.len, out);
    ptc_buf_wipe(&text);
}

/* 0, or -1 after replying 500. */
static int read_list(wreq *r, listfile *L, enum MHD_Result *ret)
{
    memset(L, 0, sizeof *L);
    if (ptc_read_file_max(r->W->list_path, &L->text, 64u << 20) == 0) L->exists = 1;
    else if (errno != ENOENT) {
        *ret = web_error(r, 500, "io", "cannot read the phone list %s: %s", r->W->list_path, strerror(errno));
        ptc_buf_free(&L->text);
        return -1;
    }
    etag_of(L->text.data ? L->text.data : "", L->text.len, L->etag);
    return 0;
}

static void list_free(listfile *L)
{
    ptc_buf_wipe(&L->text);
}

static int write_list(ptc_web *W, const listfile *old, const ptc_buf *text, ptc_diag *diag)
{
    const char *data = text->data ? text->data : "";
    if (old->exists) return ptc_list_rewrite(W->list_path, data, text->len, diag);
    char *dir = ptc_dirname(W->list_path);
    ptc_mkdirs(dir, 0755);
    free(dir);
    if (ptc_write_file_atomic(W->list_path, data, text->len, 0640) == 0) return 0;
    ptc_diag_plain(diag, PTC_ERROR, "io", "cannot write %s: %s", W->list_path, strerror(errno));
    return -1;
}

/* The phones of the list; lines that do not parse are left out (ptc lint
 * names them).  The set's strings are its own. */
static ptc_src *phones_of(const ptc_web *W, const listfile *L, ptc_ie_set *set)
{
    memset(set, 0, sizeof *set);
    ptc_src *src = ptc_src_from_mem(W->list_path, L->text.data ? L->text.data : "", L->text.len);
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_ie_read_list(src, set, &quiet);
    return src;
}

static ptc_ie_phone *find_mac(ptc_ie_set *set, const char *mac)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].mac, mac) == 0) return &set->v[i];
    return NULL;
}

/* ---- JSON -------------------------------------------------------------------------- */

static void put_str(ptc_buf *b, const char *key, const char *v)
{
    ptc_buf_putc(b, '"');
    ptc_buf_puts(b, key);
    ptc_buf_puts(b, "\":");
    ptc_buf_json(b, v, strlen(v));
}

/* A phone as the API gives it, written straight into b: a list of 20,000
 * phones is a megabyte of JSON, too many small objects for a tree. */
static void phone_text(ptc_buf *b, const ptc_ie_phone *p, int reveal)
{
    ptc_buf_putc(b, '{');
    put_str(b, "mac", p->mac);
    ptc_buf_putc(b, ',');
    put_str(b, "mac_text", p->mac_text);
    ptc_buf_putc(b, ',');
    put_str(b, "template", p->tmpl);
    ptc_buf_printf(b, ",\"enabled\":%s,\"line_no\":%u,\"lines\":[", p->enabled ? "true" : "false", p->line);
    for (unsigned i = 0; i < p->nlines; i++) {
        ptc_buf_puts(b, i ? ",{" : "{");
        put_str(b, "ext", p->ext[i]);
        ptc_buf_putc(b, ',');
        put_str(b, "cid_name", p->cid_name[i]);
        ptc_buf_putc(b, ',');
        put_str(b, "cid_num", p->cid_num[i]);
        ptc_buf_putc(b, ',');
        put_str(b, "account", p->account[i]);
        ptc_buf_puts(b, p->password[i][0] || p->password[0][0] ? ",\"password_set\":true" : ",\"password_set\":false");
        if (reveal) {
            ptc_buf_putc(b, ',');
            put_str(b, "password", p->password[i][0] ? p->password[i] : p->password[0]);
        }
        ptc_buf_putc(b, '}');
    }
    ptc_buf_puts(b, "]}");
}

static json_t *phone_json(const ptc_ie_phone *p, int reveal)
{
    ptc_buf b = PTC_BUF_INIT;
    phone_text(&b, p, reveal);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    ptc_buf_wipe(&b);
    return j;
}

/* Each string of a phone line holds no blank and no control byte (a
 * CallerID name's spaces become `_`); these bytes end a field or a list. */
static const char *bad_chars(const char *field)
{
    if (!strcmp(field, "ext")) return " \t;/<>";
    if (!strcmp(field, "cid_name")) return "\t;/<>";
    if (!strcmp(field, "cid_num")) return " \t;/<>";
    return " \t;";                      /* template, mac, password, account */
}

static const char *checked_string(json_t *obj, const char *key, const char *field, const char *what,
                                  json_t *errs, int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) json_array_append_new(errs, web_field_error(field, "required", what));
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s) { json_array_append_new(errs, web_field_error(field, "bad-value", "a string, please")); return NULL; }
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr(bad_chars(key), *c)) {
            char msg[96];
            snprintf(msg, sizeof msg, "may not hold %s", (unsigned char)*c < 0x20 || *c == 0x7f ? "control characters"
                     : *c == ' ' ? "spaces" : *c == '\t' ? "tabs" : *c == ';' ? "`;`" : *c == '/' ? "`/`" : "`<` or `>`");
            json_array_append_new(errs, web_field_error(field, "bad-value", msg));
            return NULL;
        }
    if (strlen(s) > 256) { json_array_append_new(errs, web_field_error(field, "too-long", "at most 256 bytes")); return NULL; }
    return s;
}

static void set_if(char **dst, const char *s)
{
    if (s) ptc_ie_set_str(dst, s);
}

static void line_from_json(ptc_ie_phone *p, unsigned i, json_t *l, const ptc_ie_phone *old, json_t *errs)
{
    static const char *const keys[] = {"ext", "cid_name", "cid_num", "password", "account"};
    char *const *dst[] = {p->ext, p->cid_name, p->cid_num, p->password, p->account};
    for (int k = 0; k < 5; k++) {
        char field[48];
        snprintf(field, sizeof field, "lines[%u].%s", i, keys[k]);
        const char *v = checked_string(l, keys[k], field, "give the extension", errs, k == 0);
        if (k == 3 && (!v || !*v) && old && i < old->nlines) v = old->password[i];   /* kept */
        set_if((char **)&dst[k][i], v);
    }
}

/* The phone a request describes; old (may be NULL) gives what is kept. */
static void phone_from_json(ptc_ie_phone *p, json_t *j, const ptc_ie_phone *old, json_t *errs)
{
    set_if(&p->tmpl, checked_string(j, "template", "template", "choose a template", errs, 1));
    set_if(&p->mac_text, checked_string(j, "mac", "mac", "give the MAC address", errs, 1));
    char mac[13];
    if (p->mac_text[0] && !ptc_mac_norm(p->mac_text, mac))
        json_array_append_new(errs, web_field_error("mac", "bad-mac",
                              "invalid MAC address: expected six hex pairs like 00:11:22:aa:bb:cc"));
    else if (p->mac_text[0]) {
        memcpy(p->mac, mac, 13);
        if (old && !strcmp(old->mac, mac)) set_if(&p->mac_text, old->mac_text);    /* its spelling kept */
    }
    json_t *en = json_object_get(j, "enabled");
    p->enabled = en ? json_is_true(en) : old ? old->enabled : 1;
    json_t *lines = json_object_get(j, "lines");
    size_t n = json_array_size(lines);
    if (!json_is_array(lines) || n == 0 || n > PTC_MAX_LINES) {
        json_array_append_new(errs, web_field_error("lines", "bad-lines", "give 1 to 6 lines"));
        return;
    }
    p->nlines = (unsigned)n;
    for (unsigned i = 0; i < n; i++) line_from_json(p, i, json_array_get(lines, i), old, errs);
    for (unsigned i = 0; i < n; i++)
        if (!p->password[i][0] && (i == 0 || !p->password[0][0])) {
            char pw[17];
            ptc_list_password(pw);          /* generated, as ptc run -a does */
            ptc_ie_set_str(&p->password[i], pw);
            explicit_bzero(pw, sizeof pw);
        }
}

/* ---- the checks --------------------------------------------------------------------- */

/* "ext2" -> "lines[1].ext"; the column names of ptc_ie_column_at. */
static void field_of_column(const char *col, char *out, size_t n)
{
    size_t k = strcspn(col, "0123456789");
    if (!col[k] || k == 0) { snprintf(out, n, "%s", strcmp(col, "enabled") ? col : "enabled"); return; }
    snprintf(out, n, "lines[%d].%.*s", atoi(col + k) - 1, (int)k, col);
}

static const char *field_of_code(const char *code)
{
    if (!strcmp(code, "duplicate-mac")) return "mac";
    if (!strcmp(code, "duplicate-account")) return "lines[0].account";
    if (!strcmp(code, "duplicate-ext")) return "lines[0].ext";
    return "template";                  /* files, paths, the template's own problems */
}

/* Lints text as ptc lint does; the diagnostics, one JSON object each. */
static json_t *lint_text(ptc_web *W, const char *text, size_t len)
{
    web_diags w;
    web_diags_open(&w);
    ptc_cfg *cfg = web_cfg(W, &w.d);
    ptc_lint L;
    ptc_lint_init(&L, &w.d, cfg);
    ptc_src *src = ptc_src_from_mem(W->list_path, text, len);
    ptc_lint_list(&L, src);
    ptc_lint_free(&L);
    ptc_src_free(src);
    web_cfg_free(cfg);
    return web_diags_close(&w);
}

/* What a lint of text depends on: its bytes, rc.conf and each template
 * file (name, size, mtime), hashed into one key. */
static uint64_t lint_key(ptc_web *W, const char *text, size_t len)
{
    ptc_buf k = PTC_BUF_INIT;
    ptc_buf_printf(&k, "%016llx %zu", (unsigned long long)ptc_hash64(text, len), len);
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_cfg *cfg = web_cfg(W, &quiet);
    struct stat st;
    if (cfg && cfg->rc_path && stat(cfg->rc_path, &st) == 0)
        ptc_buf_printf(&k, " rc %lld %lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    char *dir = cfg ? ptc_templates_dir(cfg) : NULL;
    char **names = dir ? ptc_templates_names(dir) : NULL;
    for (size_t i = 0; names && names[i]; i++) {
        ptc_buf path = PTC_BUF_INIT;
        ptc_buf_printf(&path, "%s/%s.conf", dir, names[i]);
        if (stat(ptc_buf_cstr(&path), &st) == 0)
            ptc_buf_printf(&k, " %s %lld %lld.%09ld", names[i], (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                           st.st_mtim.tv_nsec);
        ptc_buf_free(&path);
    }
    uint64_t key = ptc_hash64(k.data, k.len);
    if (names) ptc_names_free(names);
    free(dir);
    web_cfg_free(cfg);
    ptc_buf_free(&k);
    return key;
}

/* lint_text, remembered for the last text linted (under W->mu): a change
 * lints the list before and after it, and the list before one change is
 * the list after the one before. */
static json_t *lint_cached(ptc_web *W, const char *text, size_t len)
{
    uint64_t key = lint_key(W, text, len);
    if (W->lint_diags && W->lint_key == key) return json_incref(W->lint_diags);
    json_t *d = lint_text(W, text, len);
    json_decref(W->lint_diags);
    W->lint_diags = json_incref(d);
    W->lint_key = key;
    return d;
}

/* A diagnostic by what makes two the same: line, code and message. */
static uint64_t diag_key(json_t *d)
{
    ptc_buf k = PTC_BUF_INIT;
    const char *code = json_string_value(json_object_get(d, "code"));
    const char *msg = json_string_value(json_object_get(d, "message"));
    ptc_buf_printf(&k, "%lld\n%s\n%s", (long long)json_integer_value(json_object_get(d, "line")),
                   code ? code : "", msg ? msg : "");
    uint64_t h = ptc_hash64(k.data, k.len);
    ptc_buf_free(&k);
    return h;
}

/* The errors of after that concern the phone on line `line` (0: none) or
 * were not in before, as field errors of p (its line text from col 1). */
static json_t *new_errors(json_t *before, json_t *after, unsigned line, const ptc_ie_phone *p)
{
    json_t *errs = json_array();
    ptc_map seen = {0};                 /* before's diagnostics: a list may hold thousands */
    size_t i;
    json_t *d;
    int ins;
    json_array_foreach(before, i, d) ptc_map_put(&seen, diag_key(d), &ins);
    json_array_foreach(after, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "severity")), "error") != 0) continue;
        unsigned at = (unsigned)json_integer_value(json_object_get(d, "line"));
        int old = ptc_map_get(&seen, diag_key(d)) != NULL;
        if (old && at != line) continue;
        const char *code = json_string_value(json_object_get(d, "code"));
        char field[64], col[32];
        unsigned c = (unsigned)json_integer_value(json_object_get(d, "column"));
        if (at == line && c && p) {
            ptc_ie_column_at(p, c - 1, col, sizeof col);
            field_of_column(col, field, sizeof field);
        } else {
            snprintf(field, sizeof field, "%s", field_of_code(code ? code : ""));
        }
        json_array_append_new(errs, web_field_error(field, code ? code : "error",
                                                    json_string_value(json_object_get(d, "message"))));
    }
    ptc_map_free(&seen);
    return errs;
}

/* The problems a change to the list makes: field errors (an empty array:
 * none).  A disabled phone is a comment to the checks; its line is checked
 * enabled, alone, for the same field errors. */
static json_t *check_change(ptc_web *W, const listfile *L, const ptc_buf *text, unsigned line,
                            const ptc_ie_phone *p)
{
    json_t *before = lint_cached(W, L->text.data ? L->text.data : "", L->text.len);
    json_t *after = lint_cached(W, text->data ? text->data : "", text->len);
    json_t *errs = new_errors(before, after, line, p);
    if (p && !p->enabled) {
        ptc_ie_phone on = *p;
        on.enabled = 1;
        ptc_buf one = PTC_BUF_INIT;
        ptc_ie_line(&on, 0, &one);
        ptc_buf_putc(&one, '\n');
        json_t *alone = lint_text(W, one.data, one.len);
        json_t *none = json_array(), *more = new_errors(none, alone, 1, &on);
        json_array_extend(errs, more);
        json_decref(more);
        json_decref(none);
        json_decref(alone);
        ptc_buf_wipe(&one);
    }
    json_decref(before);
    json_decref(after);
    return errs;
}

/* ---- the changes ------------------------------------------------------------------------ */

typedef struct change {
    listfile L;
    ptc_ie_set set;
    ptc_src *src;
    ptc_buf text;               /* the new list */
} change;

static void change_free(change *C)
{
    list_free(&C->L);
    ptc_ie_set_free(&C->set);
    ptc_src_free(C->src);
    ptc_buf_wipe(&C->text);
}

/* The text with the bytes [off, off+len) replaced by repl (len 0: inserted). */
static void splice(change *C, size_t off, size_t len, const ptc_buf *repl)
{
    const char *t = C->L.text.data ? C->L.text.data : "";
    ptc_buf_put(&C->text, t, off);
    if (repl) ptc_buf_put(&C->text, repl->data ? repl->data : "", repl->len);
    ptc_buf_put(&C->text, t + off + len, C->L.text.len - off - len);
}

/* The line of phone p with its line end: where a delete cuts. */
static size_t with_newline(const change *C, const ptc_ie_phone *p)
{
    size_t end = p->off + p->len;
    const char *t = C->L.text.data;
    while (end < C->L.text.len && t[end] != '\n') end++;      /* a CR */
    return (end < C->L.text.len ? end + 1 : end) - p->off;
}

/* 1 when p differs from old in nothing but being enabled. */
static int only_enabled_changed(const ptc_ie_phone *old, const ptc_ie_phone *p)
{
    ptc_ie_phone q = *p;
    q.enabled = old->enabled;
    ptc_buf a = PTC_BUF_INIT, b = PTC_BUF_INIT;
    ptc_ie_line(old, 0, &a);
    ptc_ie_line(&q, 0, &b);
    int same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    ptc_buf_wipe(&a);
    ptc_buf_wipe(&b);
    return same && old->enabled != p->enabled;
}

/* Disabling or enabling keeps the line's own bytes (its spacing, its
 * comment) and only adds or drops the PTC_LIST_DISABLED prefix. */
static void keep_line(change *C, const ptc_ie_phone *old, int enabled)
{
    ptc_buf prefix = PTC_BUF_INIT;
    if (enabled) splice(C, old->off, sizeof PTC_LIST_DISABLED - 1, NULL);
    else {
        ptc_buf_puts(&prefix, PTC_LIST_DISABLED);
        splice(C, old->off, 0, &prefix);
    }
    ptc_buf_free(&prefix);
}

/* Makes the new text for the request; its line number in *line. */
static int build_text(change *C, const char *method, const ptc_ie_phone *old, const ptc_ie_phone *p, unsigned *line)
{
    ptc_buf l = PTC_BUF_INIT;
    if (p) ptc_ie_line(p, 0, &l);
    if (!strcmp(method, "POST")) {
        size_t n = C->L.text.len;
        int nl = n && C->L.text.data[n - 1] != '\n';
        splice(C, n, 0, NULL);
        if (nl) ptc_buf_putc(&C->text, '\n');
        ptc_buf_put(&C->text, l.data, l.len);
        ptc_buf_putc(&C->text, '\n');
        *line = 1;
        for (size_t i = 0; i < C->text.len - 1; i++) *line += C->text.data[i] == '\n';
    } else if (!strcmp(method, "PUT")) {
        if (only_enabled_changed(old, p)) keep_line(C, old, p->enabled);
        else splice(C, old->off, old->len, &l);
        *line = old->line;
    } else {
        splice(C, old->off, with_newline(C, old), NULL);
        *line = 0;
    }
    ptc_buf_wipe(&l);
    return 0;
}

/* 0 when If-Match names the list as it is now; else -1 after replying
 * 428 (none sent) or 412 (it changed). */
static int precondition(wreq *r, const listfile *L, enum MHD_Result *ret)
{
    const char *m = web_header(r, "If-Match");
    if (!m) {
        *ret = web_error(r, 428, "if-match", "send the list's ETag in If-Match (from GET /api/phones)");
        return -1;
    }
    if (strcmp(m, L->etag) == 0 || strcmp(m, "*") == 0) return 0;
    *ret = web_json(r, 412, json_pack("{s:s,s:s,s:s}", "code", "changed", "error",
                                      "the phone list changed since it was read: reload it", "etag", L->etag));
    return -1;
}

static enum MHD_Result commit_change(wreq *r, change *C, const char *action, const ptc_ie_phone *p, int status)
{
    char why[512] = "";
    ptc_diag d;
    ptc_diag_init_null(&d);
    if (write_list(r->W, &C->L, &C->text, &d) != 0) {
        snprintf(why, sizeof why, "%s", d.last);
        return web_error(r, 500, "io", "%s", why);
    }
    char etag[48];
    etag_of(C->text.data ? C->text.data : "", C->text.len, etag);
    json_t *macs = json_array();
    json_array_append_new(macs, json_string(p->mac));
    web_log(r, action, macs);
    json_t *body = json_pack("{s:s}", "etag", etag);
    r->etag = etag;
    if (strcmp(action, "phone-delete") != 0) json_object_set_new(body, "phone", phone_json(p, 0));
    return web_json(r, status, body);
}

static enum MHD_Result change_phone(wreq *r, change *C, const char *mac)
{
    ptc_ie_phone *old = mac ? find_mac(&C->set, mac) : NULL;
    if (mac && !old) return web_error(r, 404, "not-found", "no phone %s in the list", mac);
    enum MHD_Result ret = MHD_YES;
    json_t *j = NULL, *errs = json_array();
    ptc_ie_set fresh = {0};
    ptc_ie_phone *p = old;
    if (strcmp(r->method, "DELETE") != 0) {
        if (!(j = web_body_json(r, &ret))) { json_decref(errs); return ret; }
        p = ptc_ie_set_add(&fresh);
        phone_from_json(p, j, old, errs);
        json_decref(j);
        ptc_ie_phone *other = p->mac[0] ? find_mac(&C->set, p->mac) : NULL;
        if (other && other != old)
            json_array_append_new(errs, web_field_error("mac", "duplicate-mac", "another phone of the list has this MAC"));
    }
    unsigned line = 0;
    if (!json_array_size(errs)) {
        build_text(C, r->method, old, p, &line);
        p->line = line;                 /* its line in the new list, for the answer */
        json_decref(errs);
        errs = check_change(r->W, &C->L, &C->text, line, strcmp(r->method, "DELETE") ? p : NULL);
    }
    if (json_array_size(errs)) ret = web_field_errors(r, errs);
    else {
        json_decref(errs);
        const char *what = !strcmp(r->method, "POST") ? "phone-add" : !strcmp(r->method, "PUT") ? "phone-edit" : "phone-delete";
        ret = commit_change(r, C, what, p, !strcmp(r->method, "POST") ? 201 : 200);
    }
    ptc_ie_set_free(&fresh);
    return ret;
}

static enum MHD_Result get_phones(wreq *r, change *C, const char *mac)
{
    int lines_shown;
    char gw[64];
    web_settings_read(r->W, gw, sizeof gw, &lines_shown);
    r->etag = C->L.etag;
    if (!mac) {
        ptc_buf b = PTC_BUF_INIT;
        ptc_buf_puts(&b, "{");
        put_str(&b, "etag", C->L.etag);
        ptc_buf_putc(&b, ',');
        put_str(&b, "file", r->W->list_path);
        ptc_buf_printf(&b, ",\"lines_shown\":%d,\"phones\":[", lines_shown);
        for (size_t i = 0; i < C->set.n; i++) {
            if (i) ptc_buf_putc(&b, ',');
            phone_text(&b, &C->set.v[i], 0);
        }
        ptc_buf_puts(&b, "]}");
        enum MHD_Result ret = web_text(r, 200, "application/json", b.data, b.len, NULL);
        ptc_buf_free(&b);
        return ret;
    }
    ptc_ie_phone *p = find_mac(&C->set, mac);
    if (!p) return web_error(r, 404, "not-found", "no phone %s in the list", mac);
    const char *rv = web_query(r, "reveal");
    int reveal = rv && strcmp(rv, "1") == 0;
    if (reveal && r->s.role != PTC_ROLE_ADMIN) return web_error(r, 403, "role", "only an admin may see passwords");
    if (reveal) {
        json_t *macs = json_array();
        json_array_append_new(macs, json_string(p->mac));
        web_log(r, "reveal-password", macs);
    }
    return web_json(r, 200, json_pack("{s:s,s:o}", "etag", C->L.etag, "phone", phone_json(p, reveal)));
}

enum MHD_Result web_phones(wreq *r)
{
    char mac[13];
    const char *m = NULL;
    if (*r->arg) {
        if (!ptc_mac_norm(r->arg, mac)) return web_error(r, 404, "not-found", "not a MAC address: %s", r->arg);
        m = mac;
    }
    int get = !strcmp(r->method, "GET");
    if (!get && strcmp(r->method, m ? "PUT" : "POST") && !(m && !strcmp(r->method, "DELETE")))
        return web_error(r, 405, "method", m ? "/api/phones/MAC takes GET, PUT or DELETE" : "/api/phones takes GET or POST");
    change C = {0};
    enum MHD_Result ret = MHD_YES;
    pthread_mutex_lock(&r->W->mu);             /* read, check and write as one */
    if (read_list(r, &C.L, &ret) == 0) {
        C.src = phones_of(r->W, &C.L, &C.set);
        if (get) ret = get_phones(r, &C, m);
        else if (precondition(r, &C.L, &ret) == 0) ret = change_phone(r, &C, m);
    }
    pthread_mutex_unlock(&r->W->mu);
    change_free(&C);
    return ret;
}

/* ---- import and export ------------------------------------------------------------------ */

enum MHD_Result web_import(wreq *r)
{
    const char *mode = web_query(r, "mode"), *dry = web_query(r, "dry_run");
    int replace = mode && !strcmp(mode, "replace");
    if (mode && !replace && strcmp(mode, "merge"))
        return web_field_errors(r, json_pack("[o]", web_field_error("mode", "bad-mode", "merge or replace")));
    change C = {0};
    enum MHD_Result ret = MHD_YES;
    pthread_mutex_lock(&r->W->mu);
    if (read_list(r, &C.L, &ret) != 0) goto out;
    if (precondition(r, &C.L, &ret) != 0) goto out;
    C.src = phones_of(r->W, &C.L, &C.set);
    ptc_src *in_src = ptc_src_from_mem("import", r->body.data ? r->body.data : "", r->body.len);
    ptc_ie_set in = {0};
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    json_t *errs = json_array();
    if (ptc_ie_read_list(in_src, &in, &quiet) != 0 || (!in.n && r->body.len))
        json_array_append_new(errs, web_field_error("body", "bad-list", quiet.errors ? quiet.last
                                                    : "no phone line in the upload"));
    ptc_ie_result res = {0};
    if (!json_array_size(errs)) {
        ptc_ie_merge(C.src, &C.set, &in, replace ? PTC_IE_REPLACE : PTC_IE_MERGE, &res, NULL);
        json_decref(errs);
        errs = check_change(r->W, &C.L, &res.text, 0, NULL);
    }
    if (json_array_size(errs)) ret = web_field_errors(r, errs);
    else {
        json_decref(errs);
        json_t *body = json_pack("{s:i,s:i,s:i,s:i,s:b}", "added", res.added, "changed", res.changed,
                                 "removed", res.removed, "unchanged", res.unchanged, "dry_run", dry && !strcmp(dry, "1"));
        ptc_diag d;
        ptc_diag_init_null(&d);
        if (!(dry && !strcmp(dry, "1"))) {
            if (write_list(r->W, &C.L, &res.text, &d) != 0) { json_decref(body); ret = web_error(r, 500, "io", "%s", d.last); goto done; }
            web_log(r, replace ? "import-replace" : "import-merge", NULL);
        }
        char etag[48];
        etag_of(res.text.data ? res.text.data : "", res.text.len, etag);
        json_object_set_new(body, "etag", json_string(dry && !strcmp(dry, "1") ? C.L.etag : etag));
        ret = web_json(r, 200, body);
    }
done:
    ptc_ie_result_free(&res);
    ptc_ie_set_free(&in);
    ptc_src_free(in_src);
out:
    pthread_mutex_unlock(&r->W->mu);
    change_free(&C);
    return ret;
}

enum MHD_Result web_export(wreq *r)
{
    listfile L;
    enum MHD_Result ret;
    if (read_list(r, &L, &ret) != 0) return ret;
    web_log(r, "export", NULL);
    ret = web_text(r, 200, "text/plain; charset=utf-8", L.text.data ? L.text.data : "", L.text.len,
                   "attachment; filename=\"massdeployment.conf\"");
    list_free(&L);
    return ret;
}

/* ---- templates ------------------------------------------------------------------------------- */

/* A [general] value of the template as plain text (variables empty), or
 * NULL when it sets none. */
static char *key_text(const ptc_prog *p, int key)
{
    if (!(p->keys_set & (1u << key))) return NULL;
    ptc_vm_rec rec;
    for (int i = 0; i < PTC_SLOT_COUNT; i++) ptc_vm_set(&rec, i, "", 0);
    ptc_vm_keys keys;
    memset(&keys, 0, sizeof keys);
    ptc_vm_general(p, &rec, 1u << key, &keys);
    char *v = (keys.set & (1u << key)) && keys.val[key].len ? ptc_xstrdup(ptc_buf_cstr(&keys.val[key])) : NULL;
    ptc_vm_keys_free(&keys);
    return v;
}

static json_t *template_json(const char *dir, const char *name)
{
    ptc_buf path = PTC_BUF_INIT;
    ptc_buf_printf(&path, "%s/%s.conf", dir, name);
    web_diags w;
    web_diags_open(&w);
    ptc_lint L;
    ptc_lint_init(&L, &w.d, NULL);
    ptc_src *src = ptc_src_load(ptc_buf_cstr(&path), NULL);
    ptc_lint_tmpl *t = src ? ptc_lint_template(&L, src, name, NULL) : NULL;
    json_t *j = json_pack("{s:s}", "name", name);
    const ptc_prog *p = t ? t->prog : NULL;
    if (p && p->menu_name != PTC_NO_CONST)
        json_object_set_new(j, "menu_name", json_stringn(p->kdata + p->k[p->menu_name].off, p->k[p->menu_name].len));
    char *model = p ? key_text(p, PTC_KEY_MODEL) : NULL;
    char *vendor = p ? key_text(p, PTC_KEY_VENDOR) : NULL;
    json_object_set_new(j, "model", json_string(model ? model : name));
    json_object_set_new(j, "vendor", json_string(vendor ? vendor : model ? model : name));
    json_object_set_new(j, "ok", json_boolean(p != NULL));
    free(model);
    free(vendor);
    ptc_lint_free(&L);
    json_object_set_new(j, "diagnostics", web_diags_close(&w));
    ptc_buf_free(&path);
    return j;
}

enum MHD_Result web_templates(wreq *r)
{
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_cfg *cfg = web_cfg(r->W, &quiet);
    if (!cfg) return web_error(r, 500, "config", "%s", quiet.last);
    char *dir = ptc_templates_dir(cfg);
    char **names = ptc_templates_names(dir);
    json_t *a = json_array();
    for (size_t i = 0; names[i]; i++) json_array_append_new(a, template_json(dir, names[i]));
    ptc_names_free(names);
    free(dir);
    web_cfg_free(cfg);
    return web_json(r, 200, json_pack("{s:o}", "templates", a));
}
