/* ptc web: the server, request plumbing and the router (web_int.h).
 *
 * Every request is answered from the routes table below: a route names the
 * method, the path, whether a session is needed, whether the role must be
 * admin, and whether the request changes something (then it must carry the
 * session's CSRF token).  Everything else is a JSON 404. */
#include "web_int.h"
#include "ptc/fsutil.h"
#include "ptc/serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- responses ---------------------------------------------------------------- */

static void security_headers(struct MHD_Response *resp, int cacheable)
{
    MHD_add_response_header(resp, "Cache-Control", cacheable ? "no-cache" : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                            "frame-ancestors 'none'; form-action 'self'");
}

enum MHD_Result web_text(wreq *r, int status, const char *type, const char *data, size_t len,
                         const char *disposition)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (disposition) MHD_add_response_header(resp, "Content-Disposition", disposition);
    if (r->etag) MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->set_cookie) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
        explicit_bzero(r->set_cookie, strlen(r->set_cookie));
        free(r->set_cookie);
        r->set_cookie = NULL;
    }
    if (r->tls) MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (r->encoding) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, r->encoding);
    if (r->vary_encoding) MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    security_headers(resp, r->cacheable);
    enum MHD_Result ret = MHD_queue_response(r->c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result web_json(wreq *r, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    enum MHD_Result ret = web_text(r, status, "application/json", text ? text : "{}", text ? strlen(text) : 2, NULL);
    if (text) explicit_bzero(text, strlen(text));   /* a CSRF token or a revealed password */
    free(text);
    return ret;
}

enum MHD_Result web_error(wreq *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return web_json(r, status, json_pack("{s:s,s:s}", "code", code, "error", msg));
}

json_t *web_field_error(const char *field, const char *code, const char *message)
{
    return json_pack("{s:s,s:s,s:s}", "field", field, "code", code, "message", message);
}

enum MHD_Result web_field_errors(wreq *r, json_t *errors)
{
    return web_json(r, 422, json_pack("{s:o}", "errors", errors));
}

const char *web_header(wreq *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

const char *web_query(wreq *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

json_t *web_body_json(wreq *r, enum MHD_Result *ret)
{
    json_error_t e;
    json_t *j = r->body.len ? json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (j && json_is_object(j)) return j;
    json_decref(j);
    json_t *errs = json_array();
    char msg[256];
    if (!r->body.len) snprintf(msg, sizeof msg, "the request needs a JSON object");
    else snprintf(msg, sizeof msg, "not a JSON object: %s (line %d, column %d)", e.text, e.line, e.column);
    json_array_append_new(errs, web_field_error("body", "bad-json", msg));
    *ret = web_json(r, 400, json_pack("{s:o}", "errors", errs));
    return NULL;
}

void web_random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b) nbytes = sizeof b;
    for (size_t got = 0; got < nbytes;) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n > 0) got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++) sprintf(out + 2 * i, "%02x", b[i]);
    explicit_bzero(b, sizeof b);
}

json_t *web_json_lines(char *text)
{
    json_t *all = json_array();
    for (char *s = text, *e; s && *s; s = e) {
        e = strchr(s, '\n');
        e = e ? (*e = '\0', e + 1) : s + strlen(s);
        json_t *j = json_loads(s, 0, NULL);
        if (j) json_array_append_new(all, j);
    }
    return all;
}

void web_diags_open(web_diags *w)
{
    memset(w, 0, sizeof *w);
    w->f = open_memstream(&w->buf, &w->len);
    ptc_diag_init(&w->d, w->f);
    w->d.format = PTC_FMT_JSON;
    w->d.limit = 0;
}

json_t *web_diags_close(web_diags *w)
{
    if (w->f) fclose(w->f);
    json_t *all = web_json_lines(w->buf);
    free(w->buf);
    memset(w, 0, sizeof *w);
    return all;
}

ptc_cfg *web_cfg(ptc_web *W, ptc_diag *diag)
{
    ptc_cfg *c = ptc_xcalloc(1, sizeof *c);
    if (ptc_cfg_load(c, W->root, W->rc_file, diag) == 0) return c;
    web_cfg_free(c);
    return NULL;
}

void web_cfg_free(ptc_cfg *c)
{
    if (!c) return;
    ptc_cfg_free(c);
    free(c);
}

/* ---- the router ---------------------------------------------------------------- */

enum { NONE = 0, AUTH = 1, ADMIN = 2, CHANGE = 4 };

static const struct route {
    const char *method;         /* NULL: any (the handler looks) */
    const char *path;           /* exact, or a prefix when it ends in '/' */
    int need;
    enum MHD_Result (*fn)(wreq *r);
} routes[] = {
    {"POST", "/api/login", NONE, web_login},
    {"POST", "/api/logout", AUTH | CHANGE, web_logout},
    {"GET", "/api/session", AUTH, web_session_get},
    {NULL, "/api/users", AUTH, web_users},
    {NULL, "/api/users/", AUTH, web_users},
    {NULL, "/api/phones", AUTH, web_phones},
    {NULL, "/api/phones/", AUTH, web_phones},
    {"POST", "/api/import", ADMIN | CHANGE, web_import},
    {"GET", "/api/export", ADMIN, web_export},
    {"GET", "/api/templates", AUTH, web_templates},
    {NULL, "/api/settings", AUTH, web_settings},
    {NULL, "/api/generate", AUTH, web_generate},
    {"GET", "/api/status", AUTH, web_status},
    {"POST", "/api/notify", ADMIN | CHANGE, web_notify},
};

static const struct route *find_route(const char *url, const char **arg)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        if (p[n - 1] == '/' ? strncmp(url, p, n) == 0 && url[n] : strcmp(url, p) == 0) {
            *arg = url + (p[n - 1] == '/' ? n : strlen(url));
            return &routes[i];
        }
    }
    return NULL;
}

static int is_change(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static enum MHD_Result dispatch(wreq *r)
{
    if (strncmp(r->url, "/api/", 5) != 0) return web_static(r);
    const struct route *rt = find_route(r->url, &r->arg);
    if (!rt) return web_error(r, 404, "not-found", "no such API call: %s", r->url);
    if (rt->method && strcmp(rt->method, r->method) != 0)
        return web_error(r, 405, "method", "%s takes %s, not %s", rt->path, rt->method, r->method);
    if (r->too_big) return web_error(r, 413, "too-large", "the request body is too large");
    if (rt->need & (AUTH | ADMIN)) {
        if (!web_session_find(r)) return web_error(r, 401, "login", "log in first");
        int changes = (rt->need & CHANGE) || (!rt->method && is_change(r->method));
        if (changes && !web_csrf_ok(r))
            return web_error(r, 403, "csrf", "missing or wrong X-CSRF-Token header");
        if (((rt->need & ADMIN) || (changes && rt->fn != web_logout)) && r->s.role != PTC_ROLE_ADMIN)
            return web_error(r, 403, "role", "user %s may only read", r->s.user);
    }
    return rt->fn(r);
}

/* ---- libmicrohttpd ---------------------------------------------------------- */

typedef struct upload {
    ptc_buf body;
    int too_big;
} upload;

static void req_init(wreq *r, ptc_web *W, struct MHD_Connection *c, const char *url, const char *method)
{
    *r = (wreq){.W = W, .c = c, .method = method, .url = url};
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) ptc_serve_addr_text(ci->client_addr, r->addr, sizeof r->addr);
    else snprintf(r->addr, sizeof r->addr, "?");
    const union MHD_ConnectionInfo *di = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    for (int i = 0; di && i < W->nls; i++)
        if (W->d[i] == di->daemon) r->tls = W->tls[i];
}

static enum MHD_Result run_request(wreq *r)
{
    enum MHD_Result ret = dispatch(r);
    explicit_bzero(&r->s, sizeof r->s);
    if (r->set_cookie) explicit_bzero(r->set_cookie, strlen(r->set_cookie));
    free(r->set_cookie);
    return ret;
}

/* A request for a call that needs a session, without one: answered (401)
 * before its body is read, so a client that has not logged in costs no
 * upload. */
static int refused_early(ptc_web *W, struct MHD_Connection *c, const char *url, const char *method,
                         enum MHD_Result *ret)
{
    const char *arg;
    const struct route *rt = strncmp(url, "/api/", 5) == 0 ? find_route(url, &arg) : NULL;
    if (!rt || !(rt->need & (AUTH | ADMIN))) return 0;
    wreq r;
    req_init(&r, W, c, url, method);
    if (web_session_find(&r)) {
        explicit_bzero(&r.s, sizeof r.s);
        return 0;
    }
    *ret = run_request(&r);
    return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)version;
    ptc_web *W = cls;
    upload *u = *con_cls;
    enum MHD_Result ret;
    if (!u) {
        if (refused_early(W, c, url, method, &ret)) return ret;
        *con_cls = ptc_xcalloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*size) {
        size_t max = strcmp(url, "/api/import") == 0 ? WEB_IMPORT_MAX : WEB_BODY_MAX;
        if (u->body.len + *size > max) u->too_big = 1;
        else ptc_buf_put(&u->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    wreq r;
    req_init(&r, W, c, url, method);
    r.body = u->body;
    r.too_big = u->too_big;
    return run_request(&r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    upload *u = *con_cls;
    if (!u) return;
    ptc_buf_wipe(&u->body);             /* passwords pass through here */
    free(u);
    *con_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    fprintf(stderr, "ptc web: warning: libmicrohttpd: %s\n", msg);
}

static int start_daemon(ptc_web *W, int i, char *why, size_t whylen)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
                     MHD_USE_AUTO | (W->tls[i] ? MHD_USE_TLS : 0);
    struct MHD_OptionItem ops[8];
    size_t n = 0;
#define OPT(o, v, p) (ops[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
    OPT(MHD_OPTION_LISTEN_SOCKET, W->ls[i].fd, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, 64, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, WEB_IDLE_S, NULL);
    if (W->tls[i]) {
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)ptc_buf_cstr(&W->key));
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)ptc_buf_cstr(&W->cert));
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    W->d[i] = MHD_start_daemon(flags, 0, NULL, NULL, on_request, W,
                               MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, (void *)W,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)W,
                               MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (!W->d[i]) {
        snprintf(why, whylen, "cannot start the %s server on %s", W->tls[i] ? "HTTPS" : "HTTP", W->ls[i].text);
        return -1;
    }
    W->ls[i].fd = -1;           /* the daemon closes it */
    return 0;
}

/* ---- start and stop ------------------------------------------------------------ */

static char *path_opt(const ptc_cfg *cfg, const char *opt, const char *dflt)
{
    return opt ? ptc_xstrdup(opt) : ptc_cfg_path(cfg, dflt);
}

static ptc_web *web_new(const ptc_web_opts *o, const ptc_cfg *cfg)
{
    ptc_web *W = ptc_xcalloc(1, sizeof *W);
    W->root = o->root ? ptc_xstrdup(o->root) : NULL;
    W->rc_file = o->rc_file ? ptc_xstrdup(o->rc_file) : NULL;
    W->list_path = path_opt(cfg, o->list_path, PTC_DEFAULT_LIST);
    W->users_path = path_opt(cfg, o->users_path, PTC_DEFAULT_WEB_DIR "/web-users");
    W->db_opt = o->db_path ? ptc_xstrdup(o->db_path) : NULL;
    W->audit_opt = o->audit_db ? ptc_xstrdup(o->audit_db) : NULL;
    W->cache_dir = o->cache_dir ? ptc_xstrdup(o->cache_dir) : NULL;
    W->dir = ptc_dirname(W->users_path);
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/web-settings.json", W->dir);
    W->settings_path = ptc_xstrdup(ptc_buf_cstr(&b));
    b.len = 0;
    ptc_buf_printf(&b, "%s/web-admin.log", W->dir);
    W->log_path = ptc_xstrdup(ptc_buf_cstr(&b));
    ptc_buf_free(&b);
    W->idle_s = o->session_idle_s ? o->session_idle_s : 1800;
    pthread_mutex_init(&W->mu, NULL);
    pthread_mutex_init(&W->gen_mu, NULL);
    pthread_mutex_init(&W->log_mu, NULL);
    pthread_mutex_init(&W->set_mu, NULL);
    for (int i = 0; i < 2; i++) W->ls[i].fd = -1;
    return W;
}

/* The certificate and key: given, or made once beside the users file. */
static int load_tls(ptc_web *W, const ptc_web_opts *o, char *why, size_t whylen)
{
    char *cert = o->cert_file ? ptc_xstrdup(o->cert_file) : NULL, *key = o->key_file ? ptc_xstrdup(o->key_file) : NULL;
    int rc = -1;
    if (!cert || !key) {
        free(cert);
        free(key);
        ptc_buf b = PTC_BUF_INIT;
        ptc_buf_printf(&b, "%s/web-cert.pem", W->dir);
        cert = ptc_xstrdup(ptc_buf_cstr(&b));
        b.len = 0;
        ptc_buf_printf(&b, "%s/web-key.pem", W->dir);
        key = ptc_xstrdup(ptc_buf_cstr(&b));
        ptc_buf_free(&b);
        if (!ptc_exists(cert) || !ptc_exists(key)) {
            ptc_mkdirs(W->dir, 0750);
            if (web_make_cert(cert, key, why, whylen) != 0) goto out;
            fprintf(stderr, "ptc web: note: made a self-signed certificate %s\n", cert);
        }
    }
    if (ptc_read_file(cert, &W->cert) != 0) { snprintf(why, whylen, "cannot read %s: %s", cert, strerror(errno)); goto out; }
    if (ptc_read_file(key, &W->key) != 0) { snprintf(why, whylen, "cannot read %s: %s", key, strerror(errno)); goto out; }
    rc = 0;
out:
    free(cert);
    free(key);
    return rc;
}

static int open_listeners(ptc_web *W, const ptc_web_opts *o, char *why, size_t whylen)
{
    const char *tls = o->tls_listen ? o->tls_listen : o->listen ? NULL : "127.0.0.1:8443";
    const char *spec[2] = {o->listen, tls};
    for (int k = 0; k < 2; k++) {
        if (!spec[k]) continue;
        int i = W->nls;
        if (ptc_listen_open(spec[k], &W->ls[i], why, whylen) != 0) return -1;
        W->tls[i] = k == 1;
        W->nls++;
        if (k == 0 && !ptc_listen_is_loopback(&W->ls[i])) {
            snprintf(why, whylen, "plain HTTP only on loopback (%s is not): use --tls-listen", spec[k]);
            return -1;
        }
        if (k == 1 && load_tls(W, o, why, whylen) != 0) return -1;
    }
    return 0;
}

int ptc_web_start(const ptc_web_opts *o, ptc_web **out, ptc_diag *diag)
{
    *out = NULL;
    ptc_cfg cfg;
    if (ptc_cfg_load(&cfg, o->root, o->rc_file, diag) != 0) { ptc_cfg_free(&cfg); return -1; }
    ptc_web *W = web_new(o, &cfg);
    ptc_cfg_free(&cfg);
    char why[512];
    if (ptc_users_load(W->users_path, &W->users, diag) != 0) goto fail_quiet;
    if (W->users.n == 0)
        ptc_diag_plain(diag, PTC_WARNING, "users", "no account in %s yet: add one with `ptc passwd USER`",
                       W->users_path);
    if (open_listeners(W, o, why, sizeof why) != 0) goto fail;
    for (int i = 0; i < W->nls; i++)
        if (start_daemon(W, i, why, sizeof why) != 0) goto fail;
    for (int i = 0; i < W->nls; i++)
        fprintf(stderr, "ptc web: listening on %s://%s/ (phone list %s)\n", W->tls[i] ? "https" : "http",
                W->ls[i].text, W->list_path);
    *out = W;
    return 0;
fail:
    ptc_diag_plain(diag, PTC_ERROR, "web", "%s", why);
fail_quiet:
    ptc_web_stop(W);
    return -1;
}

int ptc_web_port(const ptc_web *W, int i)
{
    return W && i >= 0 && i < W->nls ? W->ls[i].port : -1;
}

void ptc_web_stop(ptc_web *W)
{
    if (!W) return;
    for (int i = 0; i < 2; i++) {
        if (W->d[i]) MHD_stop_daemon(W->d[i]);
        if (W->ls[i].fd >= 0) close(W->ls[i].fd);
    }
    ptc_buf_wipe(&W->key);
    ptc_buf_free(&W->cert);
    explicit_bzero(W->sess, sizeof W->sess);
    ptc_users_free(&W->users);
    json_decref(W->gen.last);
    json_decref(W->lint_diags);
    pthread_mutex_destroy(&W->mu);
    pthread_mutex_destroy(&W->gen_mu);
    pthread_mutex_destroy(&W->log_mu);
    pthread_mutex_destroy(&W->set_mu);
    free(W->root); free(W->rc_file); free(W->list_path); free(W->users_path); free(W->db_opt); free(W->audit_opt);
    free(W->cache_dir); free(W->dir); free(W->settings_path); free(W->log_path);
    free(W);
}
