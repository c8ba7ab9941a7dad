/* Accounts and sessions of ptc web: login, logout, the session cookie, the
 * CSRF token, failed-login throttling, and the users API (web_int.h).
 *
 * A session token and a CSRF token are 32 bytes from getrandom() each;
 * they live only in memory and in the client's cookie and never reach a
 * log.  Failed logins are counted per address and per user: from the fifth
 * in a row, each further attempt waits 2^(n-5) seconds (at most 15
 * minutes) and is refused with 429 until then. */
#include "web_int.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FAILS_FREE   4          /* failures before the waits start */
#define FAIL_MAX_S   900
#define SESSION_MAX_S (12 * 3600)
#define COOKIE       "ptc_session"

/* Constant-time comparison of two NUL-terminated tokens. */
static int token_eq(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    unsigned char d = n != m || n == 0;
    for (size_t i = 0; i < n && i < m; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* ---- failed logins -------------------------------------------------------------- */

static web_fail *fail_slot(ptc_web *W, const char *kind, const char *what, int add)
{
    ptc_buf k = PTC_BUF_INIT;
    ptc_buf_printf(&k, "%s:%s", kind, what);
    uint64_t key = ptc_hash64(k.data, k.len) | 1;
    ptc_buf_free(&k);
    web_fail *oldest = &W->fails[0];
    for (size_t i = 0; i < WEB_FAILS; i++) {
        if (W->fails[i].key == key) return &W->fails[i];
        if (W->fails[i].last < oldest->last) oldest = &W->fails[i];
    }
    if (!add) return NULL;
    *oldest = (web_fail){.key = key};
    return oldest;
}

/* Seconds until this address or user may try again (0: now). */
static long wait_left(ptc_web *W, const char *addr, const char *user, time_t now)
{
    web_fail *a = fail_slot(W, "a", addr, 0), *u = fail_slot(W, "u", user, 0);
    long w = 0;
    if (a && a->until > now) w = a->until - now;
    if (u && u->until > now && u->until - now > w) w = u->until - now;
    return w;
}

static void note_failure(ptc_web *W, const char *kind, const char *what, time_t now)
{
    web_fail *f = fail_slot(W, kind, what, 1);
    if (now - f->last > FAIL_MAX_S * 2) f->count = 0;      /* an old streak is forgiven */
    f->count++;
    f->last = now;
    if (f->count > FAILS_FREE) {
        unsigned shift = f->count - FAILS_FREE - 1;
        long wait = shift >= 10 ? FAIL_MAX_S : 1L << shift;
        f->until = now + (wait > FAIL_MAX_S ? FAIL_MAX_S : wait);
    }
}

static void forget_failures(ptc_web *W, const char *addr, const char *user)
{
    web_fail *a = fail_slot(W, "a", addr, 0), *u = fail_slot(W, "u", user, 0);
    if (a) memset(a, 0, sizeof *a);
    if (u) memset(u, 0, sizeof *u);
}

/* ---- the users file, read again when ptc passwd changed it ---------------------- */

static void refresh_users(ptc_web *W)
{
    struct stat st;
    if (stat(W->users_path, &st) != 0) return;
    if (st.st_mtim.tv_sec == W->users_mtime.tv_sec && st.st_mtim.tv_nsec == W->users_mtime.tv_nsec) return;
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_users fresh;
    if (ptc_users_load(W->users_path, &fresh, &quiet) != 0) return;
    ptc_users_free(&W->users);
    W->users = fresh;
    W->users_mtime = st.st_mtim;
}

/* ---- sessions -------------------------------------------------------------------- */

static web_session *new_session(ptc_web *W, const ptc_user *u, time_t now)
{
    web_session *s = &W->sess[0];
    for (size_t i = 0; i < WEB_SESSIONS; i++) {
        if (!W->sess[i].token[0]) { s = &W->sess[i]; break; }
        if (W->sess[i].last < s->last) s = &W->sess[i];
    }
    memset(s, 0, sizeof *s);
    web_random_hex(s->token, 32);
    web_random_hex(s->csrf, 32);
    snprintf(s->user, sizeof s->user, "%s", u->name);
    s->role = u->role;
    s->born = s->last = now;
    return s;
}

static int expired(const ptc_web *W, const web_session *s, time_t now)
{
    return now - s->last > (time_t)W->idle_s || now - s->born > SESSION_MAX_S;
}

int web_session_find(wreq *r)
{
    const char *tok = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, COOKIE);
    if (!tok || strlen(tok) != 64) return 0;
    ptc_web *W = r->W;
    time_t now = time(NULL);
    int found = 0;
    pthread_mutex_lock(&W->mu);
    for (size_t i = 0; i < WEB_SESSIONS && !found; i++) {
        web_session *s = &W->sess[i];
        if (!s->token[0] || !token_eq(s->token, tok)) continue;
        if (expired(W, s, now) || !ptc_users_find(&W->users, s->user)) {
            memset(s, 0, sizeof *s);            /* gone, or its account was deleted */
            break;
        }
        s->last = now;
        const ptc_user *u = ptc_users_find(&W->users, s->user);
        s->role = u->role;                      /* a role change applies at once */
        r->s = *s;
        found = 1;
    }
    pthread_mutex_unlock(&W->mu);
    return found;
}

int web_csrf_ok(wreq *r)
{
    const char *t = web_header(r, "X-CSRF-Token");
    return t && token_eq(r->s.csrf, t);
}

/* The session cookie for the response (clear: one that ends it). */
static void set_cookie(wreq *r, const char *token, int clear)
{
    ptc_buf c = PTC_BUF_INIT;
    ptc_buf_printf(&c, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", COOKIE, clear ? "" : token,
                   r->tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
    free(r->set_cookie);
    r->set_cookie = ptc_xstrdup(ptc_buf_cstr(&c));
    ptc_buf_wipe(&c);
}

static enum MHD_Result reply_session(wreq *r, int status, const web_session *s, int cookie)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "user", s->user, "role", ptc_role_name(s->role), "csrf", s->csrf,
                          "idle_seconds", (json_int_t)r->W->idle_s);
    if (cookie) set_cookie(r, s->token, 0);
    return web_json(r, status, j);
}

/* ---- the calls --------------------------------------------------------------------- */

static enum MHD_Result login_checked(wreq *r, const char *user, const char *password)
{
    ptc_web *W = r->W;
    time_t now = time(NULL);
    pthread_mutex_lock(&W->mu);
    long wait = wait_left(W, r->addr, user, now);
    refresh_users(W);
    ptc_users users = {0};                      /* checked outside the lock: yescrypt is slow */
    ptc_users_copy(&users, &W->users);
    pthread_mutex_unlock(&W->mu);
    if (wait) {
        ptc_users_free(&users);
        return web_error(r, 429, "throttled", "too many failed logins: try again in %ld s", wait);
    }
    const ptc_user *u = ptc_users_check(&users, user, password);
    pthread_mutex_lock(&W->mu);
    web_session s = {0};
    if (u) {
        forget_failures(W, r->addr, user);
        s = *new_session(W, u, now);
    } else {
        note_failure(W, "a", r->addr, now);
        note_failure(W, "u", user, now);
    }
    pthread_mutex_unlock(&W->mu);
    ptc_users_free(&users);
    if (!s.token[0]) {
        r->s = (web_session){0};
        snprintf(r->s.user, sizeof r->s.user, "%s", ptc_users_name_ok(user) ? user : "?");
        web_log(r, "login-failed", NULL);
        return web_error(r, 401, "login", "wrong user or password");
    }
    r->s = s;
    web_log(r, "login", NULL);
    enum MHD_Result ret = reply_session(r, 200, &s, 1);
    explicit_bzero(&s, sizeof s);
    return ret;
}

enum MHD_Result web_login(wreq *r)
{
    enum MHD_Result ret;
    json_t *j = web_body_json(r, &ret);
    if (!j) return ret;
    const char *user = json_string_value(json_object_get(j, "user"));
    const char *password = json_string_value(json_object_get(j, "password"));
    json_t *errs = json_array();
    if (!user || !*user) json_array_append_new(errs, web_field_error("user", "required", "give a user name"));
    if (!password || !*password) json_array_append_new(errs, web_field_error("password", "required", "give the password"));
    if (json_array_size(errs)) {
        json_decref(j);
        return web_field_errors(r, errs);
    }
    json_decref(errs);
    ret = login_checked(r, user, password);
    json_decref(j);                             /* the password's memory goes with it */
    return ret;
}

enum MHD_Result web_logout(wreq *r)
{
    ptc_web *W = r->W;
    pthread_mutex_lock(&W->mu);
    for (size_t i = 0; i < WEB_SESSIONS; i++)
        if (W->sess[i].token[0] && token_eq(W->sess[i].token, r->s.token)) memset(&W->sess[i], 0, sizeof W->sess[i]);
    pthread_mutex_unlock(&W->mu);
    web_log(r, "logout", NULL);
    set_cookie(r, "", 1);
    return web_text(r, 204, "application/json", "", 0, NULL);
}

enum MHD_Result web_session_get(wreq *r)
{
    return reply_session(r, 200, &r->s, 0);
}

/* ---- /api/users: admins manage the accounts ---------------------------------------- */

static json_t *users_json(const ptc_users *u)
{
    json_t *a = json_array();
    for (size_t i = 0; i < u->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "name", u->v[i].name, "role", ptc_role_name(u->v[i].role)));
    return json_pack("{s:o}", "users", a);
}

static enum MHD_Result user_put(wreq *r, const char *name)
{
    enum MHD_Result ret;
    json_t *j = web_body_json(r, &ret);
    if (!j) return ret;
    const char *pw = json_string_value(json_object_get(j, "password"));
    const char *role = json_string_value(json_object_get(j, "role"));
    json_t *errs = json_array();
    pthread_mutex_lock(&r->W->mu);
    const ptc_user *was = ptc_users_find(&r->W->users, name);
    if (!ptc_users_name_ok(name))
        json_array_append_new(errs, web_field_error("name", "bad-name", "use 1 to 32 letters, digits and ._-"));
    if ((pw || !was) && (!pw || strlen(pw) < 8))
        json_array_append_new(errs, web_field_error("password", "weak", "a password has at least 8 characters"));
    if (role && strcmp(role, "admin") && strcmp(role, "viewer"))
        json_array_append_new(errs, web_field_error("role", "bad-role", "admin or viewer"));
    int rc = 0;
    if (!json_array_size(errs)) {
        ptc_role ro = role ? (strcmp(role, "admin") == 0 ? PTC_ROLE_ADMIN : PTC_ROLE_VIEWER)
                    : was ? was->role : PTC_ROLE_VIEWER;
        ptc_diag quiet;
        ptc_diag_init_null(&quiet);
        if (pw) rc = ptc_users_set(&r->W->users, name, ro, pw);
        else if (was) ((ptc_user *)was)->role = ro;
        if (rc == 0) rc = ptc_users_save(r->W->users_path, &r->W->users, &quiet);
    }
    pthread_mutex_unlock(&r->W->mu);
    json_decref(j);
    if (json_array_size(errs)) return web_field_errors(r, errs);
    json_decref(errs);
    if (rc != 0) return web_error(r, 500, "users", "cannot write %s", r->W->users_path);
    web_log(r, pw ? "user-password" : "user-role", NULL);
    return web_json(r, 200, json_pack("{s:s}", "name", name));
}

enum MHD_Result web_users(wreq *r)
{
    const char *name = r->arg;
    if (strcmp(r->method, "GET") == 0 && !*name) {
        if (r->s.role != PTC_ROLE_ADMIN) return web_error(r, 403, "role", "user %s may only read", r->s.user);
        pthread_mutex_lock(&r->W->mu);
        json_t *j = users_json(&r->W->users);
        pthread_mutex_unlock(&r->W->mu);
        return web_json(r, 200, j);
    }
    if (!*name) return web_error(r, 405, "method", "/api/users takes GET");
    if (strcmp(r->method, "PUT") == 0) return user_put(r, name);
    if (strcmp(r->method, "DELETE") != 0) return web_error(r, 405, "method", "/api/users/NAME takes PUT or DELETE");
    if (strcmp(name, r->s.user) == 0) return web_error(r, 409, "self", "you cannot delete your own account");
    pthread_mutex_lock(&r->W->mu);
    int rc = ptc_users_delete(&r->W->users, name);
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    if (rc == 0) rc = ptc_users_save(r->W->users_path, &r->W->users, &quiet) == 0 ? 0 : -2;
    pthread_mutex_unlock(&r->W->mu);
    if (rc == -1) return web_error(r, 404, "not-found", "no account %s", name);
    if (rc == -2) return web_error(r, 500, "users", "cannot write %s", r->W->users_path);
    web_log(r, "user-delete", NULL);
    return web_json(r, 200, json_pack("{s:s}", "deleted", name));
}
