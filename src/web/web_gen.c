/* Generate through ptc web: /api/generate (web_int.h, docs/web.md).
 *
 * ptc_run in-process on the list file, one generation at a time: a second
 * request gets 409 naming who holds it, whether that is another web
 * request (gen.running) or a `ptc run` in a shell (the run lock, taken
 * without waiting).  Like the original's Generate it overwrites (force).
 * Progress is readable while it runs; the last result is kept.  A dry run
 * writes nothing and returns, for each file that would change, a unified
 * diff with the list's passwords masked. */
#include "web_int.h"
#include "ptc/cmd.h"
#include "ptc/commit.h"
#include "ptc/diff.h"
#include "ptc/fsutil.h"
#include "ptc/host.h"
#include "ptc/import.h"
#include "ptc/map.h"
#include "ptc/run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIFF_MAX_CHANGES  2000          /* lines a file's diff may add or remove */
#define DIFF_MAX_BYTES    (8u << 20)    /* all diffs of one dry run together */
#define MASK              "********"

/* ---- masking passwords in a diff ------------------------------------------------- */

/* Every password of the list, found by hash: a line is scanned once per
 * distinct password length, not once per password (a list of 20,000
 * phones has 20,000 of them and a dry run may show megabytes of diff). */
typedef struct secrets {
    char **v;
    size_t n;
    size_t *lens;               /* the distinct lengths, longest first */
    size_t nlens;
    ptc_map by_hash;            /* ptc_hash64 of a password -> its index */
} secrets;

static int longer_first(const void *a, const void *b)
{
    size_t la = *(const size_t *)a, lb = *(const size_t *)b;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

static void secrets_add(secrets *S, const char *pw, size_t *cap)
{
    size_t l = strlen(pw);
    int ins;
    uint32_t *at = ptc_map_put(&S->by_hash, ptc_hash64(pw, l), &ins);
    if (!ins) return;                   /* the same password again */
    if (S->n == *cap) S->v = ptc_xrealloc(S->v, (*cap = *cap ? 2 * *cap : 64) * sizeof *S->v);
    *at = (uint32_t)S->n;
    S->v[S->n++] = ptc_xstrdup(pw);
    for (size_t k = 0; k < S->nlens; k++)
        if (S->lens[k] == l) return;
    S->lens = ptc_xrealloc(S->lens, (S->nlens + 1) * sizeof *S->lens);
    S->lens[S->nlens++] = l;
}

/* Every password of the list being generated. */
static void secrets_of(const char *list_path, secrets *S)
{
    memset(S, 0, sizeof *S);
    ptc_buf text = PTC_BUF_INIT;
    if (ptc_read_file_max(list_path, &text, 64u << 20) != 0) return;
    ptc_src *src = ptc_src_from_mem(list_path, text.data ? text.data : "", text.len);
    ptc_ie_set set;
    memset(&set, 0, sizeof set);
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_ie_read_list(src, &set, &quiet);
    size_t cap = 0;
    for (size_t i = 0; i < set.n; i++)
        for (unsigned l = 0; l < set.v[i].nlines; l++)
            if (set.v[i].password[l][0]) secrets_add(S, set.v[i].password[l], &cap);
    qsort(S->lens, S->nlens, sizeof *S->lens, longer_first);
    ptc_ie_set_free(&set);
    ptc_src_free(src);
    ptc_buf_wipe(&text);
}

static void secrets_free(secrets *S)
{
    for (size_t i = 0; i < S->n; i++) {
        explicit_bzero(S->v[i], strlen(S->v[i]));
        free(S->v[i]);
    }
    free(S->v);
    free(S->lens);
    ptc_map_free(&S->by_hash);
}

/* The length of the longest password at p (n bytes left), or 0. */
static size_t secret_at(const secrets *S, const char *p, size_t n)
{
    for (size_t k = 0; k < S->nlens; k++) {
        size_t l = S->lens[k];
        if (l > n) continue;
        const uint32_t *at = ptc_map_get(&S->by_hash, ptc_hash64(p, l));
        if (at && strlen(S->v[*at]) == l && memcmp(S->v[*at], p, l) == 0) return l;
    }
    return 0;
}

/* One diff line (without its end) with every known password masked. */
static void mask_known(const secrets *S, const char *p, size_t n, ptc_buf *out)
{
    size_t i = 0;
    while (i < n) {
        size_t hit = secret_at(S, p + i, n - i);
        if (hit) ptc_buf_puts(out, MASK), i += hit;
        else ptc_buf_putc(out, p[i++]);
    }
}

/* A removed line paired with the added line that replaced it: where the
 * added line had a password masked, the removed one holds the old
 * password in the same place (same text before, same text after). */
static void mask_like(const char *old, size_t on, const ptc_buf *masked_new, ptc_buf *out)
{
    const char *m = ptc_buf_cstr((ptc_buf *)masked_new), *at = strstr(m, MASK);
    if (!at) return;
    size_t pre = (size_t)(at - m), post = masked_new->len - pre - strlen(MASK);
    if (pre + post > on || memcmp(old, m, pre) != 0 || memcmp(old + on - post, at + strlen(MASK), post) != 0) return;
    ptc_buf_reset(out);
    ptc_buf_put(out, old, pre);
    ptc_buf_puts(out, MASK);
    ptc_buf_put(out, old + on - post, post);
}

typedef struct dline {
    const char *p;
    size_t n;
} dline;

/* Masks a run of removed lines followed by added ones, pairing them. */
static void mask_block(const secrets *S, const dline *del, size_t nd, const dline *ins, size_t ni, ptc_buf *out)
{
    ptc_buf a = PTC_BUF_INIT, b = PTC_BUF_INIT;
    for (size_t i = 0; i < nd; i++) {
        ptc_buf_reset(&a);
        mask_known(S, del[i].p + 1, del[i].n - 1, &a);
        if (i < ni) {
            ptc_buf_reset(&b);
            mask_known(S, ins[i].p + 1, ins[i].n - 1, &b);
            if (!strstr(ptc_buf_cstr(&a), MASK)) mask_like(del[i].p + 1, del[i].n - 1, &b, &a);
        }
        ptc_buf_putc(out, '-');
        ptc_buf_put(out, a.data, a.len);
        ptc_buf_putc(out, '\n');
    }
    for (size_t i = 0; i < ni; i++) {
        ptc_buf_putc(out, '+');
        mask_known(S, ins[i].p + 1, ins[i].n - 1, out);
        ptc_buf_putc(out, '\n');
    }
    ptc_buf_wipe(&a);
    ptc_buf_wipe(&b);
}

/* The hunks d (a diff after its two header lines) with passwords masked,
 * appended to out. */
static void mask_diff(const secrets *S, const char *d, size_t len, ptc_buf *out)
{
    dline del[64], ins[64];
    size_t nd = 0, ni = 0;
    for (size_t i = 0; i <= len;) {
        const char *nl = i < len ? memchr(d + i, '\n', len - i) : NULL;
        dline l = {d + i, nl ? (size_t)(nl - (d + i)) : len - i};
        int last = i >= len;
        i += l.n + 1;
        int is_del = !last && l.n && l.p[0] == '-', is_ins = !last && l.n && l.p[0] == '+';
        if (is_del && !ni && nd < 64) { del[nd++] = l; continue; }
        if (is_ins && ni < 64) { ins[ni++] = l; continue; }
        if (nd || ni) mask_block(S, del, nd, ins, ni, out);
        nd = ni = 0;
        if (is_del) { del[nd++] = l; continue; }
        if (is_ins) { ins[ni++] = l; continue; }
        if (last) break;
        mask_known(S, l.p, l.n, out);
        ptc_buf_putc(out, '\n');
    }
}

/* ---- one generation ------------------------------------------------------------ */

typedef struct gen_ctx {
    ptc_web *W;
    const ptc_cfg *cfg;
    int dry_run;
    json_t *files;              /* the files created or changed */
    secrets S;
    size_t diff_bytes;
} gen_ctx;

static void on_start(void *ctx, unsigned total)
{
    gen_ctx *g = ctx;
    pthread_mutex_lock(&g->W->gen_mu);
    g->W->gen.done = 0;
    g->W->gen.total = total;
    pthread_mutex_unlock(&g->W->gen_mu);
}

static void on_progress(void *ctx, unsigned done, unsigned total)
{
    gen_ctx *g = ctx;
    pthread_mutex_lock(&g->W->gen_mu);
    g->W->gen.done = done;
    g->W->gen.total = total;
    pthread_mutex_unlock(&g->W->gen_mu);
}

/* The masked diff of what is at path now and data. */
static void attach_diff(gen_ctx *g, json_t *f, const char *path, const char *data, size_t len)
{
    if (g->diff_bytes >= DIFF_MAX_BYTES) {
        json_object_set_new(f, "diff_omitted", json_true());
        return;
    }
    ptc_buf old = PTC_BUF_INIT, raw = PTC_BUF_INIT, out = PTC_BUF_INIT;
    char *real = ptc_cfg_path(g->cfg, path);
    if (ptc_read_file_max(real, &old, 64u << 20) != 0) ptc_buf_reset(&old);
    free(real);
    ptc_diff_unified(old.data ? old.data : "", old.len, data, len, path, path, DIFF_MAX_CHANGES, &raw);
    size_t head = 0;            /* the "---" and "+++" lines */
    for (int nl = 0; head < raw.len && nl < 2; head++) nl += raw.data[head] == '\n';
    if (raw.len) {
        ptc_buf_put(&out, raw.data, head);
        mask_diff(&g->S, raw.data + head, raw.len - head, &out);
    }
    g->diff_bytes += out.len;
    json_object_set_new(f, "diff", json_stringn(out.data ? out.data : "", out.len));
    ptc_buf_wipe(&old);
    ptc_buf_wipe(&raw);
    ptc_buf_free(&out);
}

static void on_file(void *ctx, ptc_file_outcome what, const char *path, const char *data, size_t len)
{
    gen_ctx *g = ctx;
    if (what == PTC_FILE_UNCHANGED) return;
    json_t *f = json_pack("{s:s,s:s}", "path", path, "change", what == PTC_FILE_CREATED ? "created" : "changed");
    if (g->dry_run && data) attach_diff(g, f, path, data, len);
    json_array_append_new(g->files, f);
}

/* The run itself, with the configuration loaded: the result or the errors. */
static json_t *run_generation(wreq *r, gen_ctx *g, ptc_cfg *cfg, ptc_diag *diag, int *status)
{
    ptc_web *W = r->W;
    g->cfg = cfg;
    char gw_if[64];
    int lines_shown;
    web_settings_read(W, gw_if, sizeof gw_if, &lines_shown);
    char *ip = ptc_host_sip_ipv4(cfg, gw_if[0] ? gw_if : NULL, diag);
    char *db = ptc_cfg_phone_db(cfg, W->db_opt);
    ptc_cache cache;
    ptc_cache_init(&cache, W->cache_dir);
    json_t *res = NULL;
    ptc_runlock lock = {-1, NULL};
    *status = 422;
    if (!ip) goto out;
    if (!g->dry_run) {
        char *dir = ptc_commit_state_dir(cfg, db), who[256];
        ptc_mkdirs(dir, 0755);
        int got = ptc_runlock_take(&lock, dir, db, 1, who, sizeof who, diag);
        free(dir);
        if (got != 1) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s is generating now", who);
            *status = got == 0 ? 409 : 500;
            res = got == 0 ? json_pack("{s:s,s:s}", "code", "busy", "error", msg)
                           : json_pack("{s:s,s:s}", "code", "io", "error", "cannot take the run lock");
            goto out;
        }
    }
    ptc_run_opts o = {
        .list_path = W->list_path, .db_path = db, .sip_server_ipv4 = ip, .force = 1,
        .dry_run = g->dry_run, .keep_content = g->dry_run,
        .hooks = {.start = on_start, .progress = on_progress, .file = on_file, .ctx = g},
    };
    ptc_run_stats st;
    memset(&st, 0, sizeof st);
    int rc = ptc_run(&o, cfg, &cache, diag, &st);
    if (rc != PTC_EXIT_OK) {
        res = json_pack("{s:i,s:b}", "exit", rc, "committed", st.committed);
        goto out;
    }
    *status = 200;
    res = json_pack("{s:b,s:i,s:i,s:i,s:i,s:i,s:b,s:O}", "dry_run", g->dry_run, "phones", st.phones,
                    "created", st.created, "changed", st.changed, "unchanged", st.unchanged, "rows", st.rows,
                    "table_unchanged", st.table_unchanged, "files", g->files);
out:
    ptc_runlock_release(&lock);
    ptc_cache_free(&cache);
    free(ip);
    free(db);
    return res;
}

static void iso_time(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Claims the one generation slot; 0, or -1 after replying 409. */
static int claim(wreq *r, enum MHD_Result *ret)
{
    web_gen *G = &r->W->gen;
    pthread_mutex_lock(&r->W->gen_mu);
    int busy = G->running;
    char who[33], when[32];
    if (busy) {
        snprintf(who, sizeof who, "%s", G->user);
        iso_time(G->started, when);
    } else {
        G->running = 1;
        snprintf(G->user, sizeof G->user, "%s", r->s.user);
        G->started = time(NULL);
        G->done = G->total = 0;
    }
    pthread_mutex_unlock(&r->W->gen_mu);
    if (!busy) return 0;
    *ret = web_json(r, 409, json_pack("{s:s,s:s,s:s,s:s}", "code", "busy", "error",
                                      "a generation is running", "user", who, "started", when));
    return -1;
}

/* Frees the slot; result (stolen; NULL: none) becomes the last one. */
static void release(ptc_web *W, json_t *result)
{
    pthread_mutex_lock(&W->gen_mu);
    if (result) {
        json_decref(W->gen.last);
        W->gen.last = result;
    }
    W->gen.running = 0;
    pthread_mutex_unlock(&W->gen_mu);
}

/* {"dry_run": bool, "reload": bool}, both optional: 0, or -1 after 422. */
static int gen_args(wreq *r, int *dry_run, int *reload, enum MHD_Result *ret)
{
    *dry_run = *reload = 0;
    if (!r->body.len) return 0;
    json_t *j = web_body_json(r, ret);
    if (!j) return -1;
    json_t *errs = json_array(), *v;
    if ((v = json_object_get(j, "dry_run")) && !json_is_boolean(v))
        json_array_append_new(errs, web_field_error("dry_run", "bad-type", "dry_run must be true or false"));
    else *dry_run = json_is_true(v);
    if ((v = json_object_get(j, "reload")) && !json_is_boolean(v))
        json_array_append_new(errs, web_field_error("reload", "bad-type", "reload must be true or false"));
    else *reload = json_is_true(v);
    json_decref(j);
    if (!json_array_size(errs)) { json_decref(errs); return 0; }
    *ret = web_field_errors(r, errs);
    return -1;
}

static enum MHD_Result gen_post(wreq *r)
{
    enum MHD_Result ret;
    int dry_run, reload, status = 500;
    if (gen_args(r, &dry_run, &reload, &ret) != 0 || claim(r, &ret) != 0) return ret;
    web_diags w;
    web_diags_open(&w);
    gen_ctx g = {.W = r->W, .dry_run = dry_run, .files = json_array()};
    secrets_of(r->W->list_path, &g.S);
    char list_etag[48];
    web_list_etag(r->W, list_etag);
    time_t t0 = time(NULL);
    ptc_cfg *cfg = web_cfg(r->W, &w.d);
    json_t *res = cfg ? run_generation(r, &g, cfg, &w.d, &status) : NULL;
    if (status == 200 && reload && !dry_run) ptc_host_reload_asterisk(cfg, &w.d);
    json_t *diags = web_diags_close(&w);
    if (!res) res = json_object();
    char when[32];
    iso_time(t0, when);
    json_object_set_new(res, "started", json_string(when));
    json_object_set_new(res, "seconds", json_integer((json_int_t)(time(NULL) - t0)));
    json_object_set_new(res, "user", json_string(r->s.user));
    json_object_set_new(res, "list_etag", json_string(list_etag));
    if (status == 200) json_object_set_new(res, "reloaded", json_boolean(reload && !dry_run));
    if (status == 200 || status == 422 || status == 500)
        json_object_set_new(res, status == 200 ? "warnings" : "errors", json_incref(diags));
    json_decref(diags);
    if (!dry_run) web_log(r, status == 200 ? "generate" : "generate-failed", NULL);
    web_cfg_free(cfg);
    secrets_free(&g.S);
    json_decref(g.files);
    release(r->W, status == 409 ? NULL : json_deep_copy(res));
    return web_json(r, status, res);
}

static enum MHD_Result gen_get(wreq *r)
{
    web_gen *G = &r->W->gen;
    pthread_mutex_lock(&r->W->gen_mu);
    char when[32] = "";
    if (G->running) iso_time(G->started, when);
    json_t *j = json_pack("{s:b,s:i,s:i,s:O?}", "running", G->running, "done", G->done, "total", G->total,
                          "last", G->last);
    if (G->running) {
        json_object_set_new(j, "user", json_string(G->user));
        json_object_set_new(j, "started", json_string(when));
    }
    pthread_mutex_unlock(&r->W->gen_mu);
    return web_json(r, 200, j);
}

enum MHD_Result web_generate(wreq *r)
{
    if (!strcmp(r->method, "GET")) return gen_get(r);
    if (!strcmp(r->method, "POST")) return gen_post(r);
    return web_error(r, 405, "method", "/api/generate takes GET or POST, not %s", r->method);
}
