/* The mass deployment: read, plan, execute, commit (include/ptc/run.h).
 * This file is the wiring; the stages are the record reader (list/
 * records.c), the phone binding (phone.c), the checks (plan.c), the files
 * (output.c), the table (db.c) and the commit (commit.c). */
#include "ptc/run.h"
#include "ptc/sql.h"
#include "ptc/cmd.h"
#include "ptc/commit.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/gen.h"
#include "ptc/plan.h"
#include "ptc/phone.h"
#include "ptc/rec.h"
#include "ptc/templates.h"
#include "ptc/vm.h"
#include "output.h"
#include "writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct run {
    const ptc_run_opts *o;
    ptc_cfg *cfg;
    ptc_cache *cache;
    ptc_diag *diag;
    ptc_run_stats *st;
    ptc_src *list;
    ptc_tmpls tmpls;            /* the templates the list names */
    ptc_plan plan;              /* the checks shared with ptc lint */
    ptc_out out;                /* the files */
    ptc_phone ph;
    ptc_phone_env env;
    int any_sql;
    uint64_t rows_hash;         /* of the rows the plan would write */
    long nrows;
    int table_same;             /* ... which the table already holds */
    ptc_commit commit;
    ptc_db *db;
    char *gen_path;             /* the generation index (ptc_gen) */
    uint64_t gen_key, env_key;
    ptc_gen_writer *gen;
    int replayed;               /* nothing to do: reported from the index */
    ptc_gen_prev *prev;         /* the last record, for unchanged phones */
    ptc_gen_entry entry;        /* ... one phone's */
    ptc_gen_facts facts;        /* of the phone being written */
    int bound;                  /* ... which is bound to its template */
} run;

static ptc_tmpl *get_template(run *R, const ptc_rec *r)
{
    ptc_tmpl *t = ptc_tmpls_program(&R->tmpls, ptc_rec_str(R->list, r->tmpl), r->tmpl.len, R->cache, R->diag);
    if (!t->prog && t->err) ptc_tmpls_report_missing(&R->tmpls, t, R->list, r->tmpl.off, r->line, 0, R->diag);
    return t;
}

/* ---- plan ----------------------------------------------------------------- */

static int hash_row(const ptc_db_row *row, void *ctx)
{
    run *R = ctx;
    R->rows_hash = ptc_db_row_hash(R->rows_hash, ++R->nrows, row);
    return 0;
}

static const char *header_of(run *R, int ctx)
{
    return ptc_ctx_is_dialplan(ctx) ? ptc_phone_dialplan_context(&R->ph, ctx, &R->env) : "";
}

static void plan_bound(run *R, const ptc_rec *r, ptc_tmpl *t)
{
    ptc_phone_bind(&R->ph, t->prog, R->list, r, &R->env);
    for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++) {
        if (!ptc_prog_has(t->prog, ctx)) continue;
        const char *path;
        size_t file;
        switch (ptc_plan_output(&R->plan, r, &R->ph, &R->env, ctx, &path, &file)) {
        case PTC_PLAN_PROV:
            ptc_out_plan_prov(&R->out, R->list, r->tmpl.off, path, NULL);
            break;
        case PTC_PLAN_INCLUDE_NEW:
            ptc_out_plan_include(&R->out, R->list, r->tmpl.off, ctx, t->order, header_of(R, ctx), path);
            break;
        case PTC_PLAN_INCLUDE_SAME:
            ptc_out_include_again(&R->out, file, t->order, header_of(R, ctx), path);
            break;
        case PTC_PLAN_REFUSED:
            break;
        }
    }
    ptc_plan_account(&R->plan, r, &R->ph);
    if (R->ph.sql_enable) {
        R->any_sql = 1;
        ptc_db_rows_of(&R->ph, r->mac_addr, t->name, hash_row, R);
    }
}

/* The phone's record, when it has one whose outputs are the contexts its
 * template has now (the same templates: they should be). */
static const ptc_gen_entry *recorded(run *R, const ptc_tmpl *t, uint64_t line_hash)
{
    ptc_gen_entry *e = &R->entry;
    if (!R->prev || !ptc_gen_prev_get(R->prev, line_hash, e)) return NULL;
    int k = 0;
    for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++)
        if (ptc_prog_has(t->prog, ctx) && (k >= e->nout || e->out[k++].ctx != ctx)) return NULL;
    return k == e->nout ? e : NULL;
}

/* An unchanged phone planned from its record: 0, or -1 when it must be
 * bound (something to report, or no usable record). */
static int plan_recorded(run *R, const ptc_rec *r, const ptc_tmpl *t, uint64_t line_hash)
{
    const ptc_gen_entry *e = recorded(R, t, line_hash);
    if (!e) return -1;
    int ctxs[PTC_CTX_COUNT];
    uint64_t keys[PTC_CTX_COUNT];
    for (int i = 0; i < e->nout; i++) {
        ctxs[i] = e->out[i].ctx;
        keys[i] = ptc_plan_path_key(&R->plan, e->out[i].path);
    }
    if (!ptc_plan_would_pass(&R->plan, r, t->prog, ctxs, keys, e->nout, e->facts.account_hash)) return -1;
    for (int i = 0; i < e->nout; i++) {
        const ptc_gen_out *o = &e->out[i];
        size_t file;
        switch (ptc_plan_output_path(&R->plan, r, t->prog, o->ctx, o->path, keys[i], &file)) {
        case PTC_PLAN_PROV:
            ptc_out_plan_prov(&R->out, R->list, r->tmpl.off, o->path, o->st);
            break;
        case PTC_PLAN_INCLUDE_NEW:
            ptc_out_plan_include(&R->out, R->list, r->tmpl.off, o->ctx, t->order, o->hdr, o->path);
            break;
        case PTC_PLAN_INCLUDE_SAME:
            ptc_out_include_again(&R->out, file, t->order, o->hdr, o->path);
            break;
        case PTC_PLAN_REFUSED:      /* ptc_plan_would_pass said it would not be */
            break;
        }
    }
    ptc_plan_account_hash(&R->plan, r, e->facts.account_hash);
    if (e->facts.sql) {
        R->any_sql = 1;
        for (int i = 0; i < e->facts.nrows; i++)
            R->rows_hash = ptc_db_row_hash_digest(R->rows_hash, ++R->nrows, e->facts.digest[i]);
    }
    R->st->reused++;
    return 0;
}

static void plan_phone(run *R, const ptc_rec *r, uint64_t line_hash)
{
    ptc_tmpl *t = get_template(R, r);
    if (!t->prog || ptc_plan_mac(&R->plan, r) != 0) return;
    if (plan_recorded(R, r, t, line_hash) != 0) plan_bound(R, r, t);
}

static void plan(run *R)
{
    uint32_t pos = 0, off, len;
    unsigned line = 0;
    ptc_rec r;
    while (ptc_rec_next_line(R->list, &pos, &off, &len, &line)) {
        if (ptc_rec_parse(R->list, off, len, line, &r, R->diag) != 0) continue;
        ptc_plan_password(&R->plan, &r);
        plan_phone(R, &r, ptc_gen_line_hash(R->list->text + off, len));
        R->st->phones++;
    }
}

/* ---- execute -------------------------------------------------------------- */

static int add_row(const ptc_db_row *row, void *ctx)
{
    run *R = ctx;
    if (R->facts.nrows < PTC_MAX_LINES) R->facts.digest[R->facts.nrows] = ptc_db_row_digest(row);
    R->facts.nrows++;
    if (!R->db) return 0;
    if (ptc_db_build_add(R->db, row, R->diag) != 0) return -1;
    R->st->rows++;
    return 0;
}

static void bind_now(run *R, const ptc_tmpl *t, const ptc_rec *r)
{
    if (R->bound) return;
    ptc_phone_bind(&R->ph, t->prog, R->list, r, &R->env);
    R->bound = 1;
}

/* The provisioning file, for the writer: as recorded, or rendered. */
static void write_prov(run *R, const ptc_tmpl *t, const ptc_rec *r, const ptc_gen_out *rec, ptc_wr_job *j)
{
    if (rec && ptc_out_prov_is_recorded(&R->out, rec->path)) {
        j->prov = WR_PROV_RECORDED;
        j->prov_path = ptc_wr_str(j, rec->path);
        memcpy(j->st, rec->st, sizeof j->st);
        return;
    }
    bind_now(R, t, r);
    const char *why;
    j->prov = WR_PROV_RENDERED;
    j->prov_path = ptc_wr_str(j, ptc_phone_output_path(&R->ph, PTC_CTX_PHONEPROV, &R->env, &why));
    ptc_sink mem;
    ptc_sink_init_mem(&mem);
    mem.buf = j->content;
    ptc_vm_run(t->prog, PTC_CTX_PHONEPROV, &R->ph.rec, &mem);
    j->content = mem.buf;
}

/* The phone's share of an include file: copied from the old file when the
 * record has it, else rendered; noted for the new record either way. */
static void write_include(run *R, const ptc_tmpl *t, const ptc_rec *r, int ctx, const ptc_gen_out *rec,
                          ptc_wr_job *j)
{
    const char *why;
    if (!rec) bind_now(R, t, r);
    const char *path = rec ? rec->path : ptc_phone_output_path(&R->ph, ctx, &R->env, &why);
    size_t i = (size_t)ptc_plan_include_of(&R->plan, path);
    ptc_out_file *f = &R->out.f[i];
    uint64_t at = f->sink.written + f->sink.buf.len;
    if (!rec || ptc_gen_prev_copy(R->prev, rec->file, rec->off, rec->len, &f->sink) != 0) {
        bind_now(R, t, r);
        ptc_vm_run(t->prog, ctx, &R->ph.rec, &f->sink);
        if (ctx == PTC_CTX_SIP || ctx == PTC_CTX_PJSIP) ptc_sink_put(&f->sink, "\n", 1);
    }
    ptc_wr_share *sh = &j->share[j->nshare++];
    *sh = (ptc_wr_share){.ctx = ctx, .file = i, .off = at, .len = f->sink.written + f->sink.buf.len - at};
    sh->path = ptc_wr_str(j, path);
    sh->hdr = ptc_wr_str(j, rec ? rec->hdr : header_of(R, ctx));
}

/* Renders the phone into j (its table rows go to the table here). */
static int execute_phone(run *R, const ptc_rec *r, uint64_t line_hash, ptc_wr_job *j)
{
    ptc_tmpl *t = get_template(R, r);
    const ptc_gen_entry *e = recorded(R, t, line_hash);
    R->bound = 0;
    R->facts = (ptc_gen_facts){.line_hash = line_hash};
    int k = 0;
    for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++) {
        if (!ptc_prog_has(t->prog, ctx)) continue;
        const ptc_gen_out *rec = e ? &e->out[k++] : NULL;
        if (ctx != PTC_CTX_PHONEPROV) write_include(R, t, r, ctx, rec, j);
        else write_prov(R, t, r, rec, j);
    }
    int rc = 0;
    if (e && !(R->db && e->facts.sql)) {
        R->facts = e->facts;
    } else {
        bind_now(R, t, r);
        R->facts.account_hash = ptc_plan_account_of(&R->ph);
        R->facts.sql = R->ph.sql_enable;
        if (R->ph.sql_enable) rc = ptc_db_rows_of(&R->ph, r->mac_addr, t->name, add_row, R);
    }
    j->facts = R->facts;
    return rc;
}

static int cancel_asked(run *R)
{
    return R->o->hooks.cancel && R->o->hooks.cancel(R->o->hooks.ctx);
}

static int say_cancelled(run *R)
{
    ptc_diag_plain(R->diag, PTC_ERROR, "cancelled", "the run was cancelled before its commit point");
    return 1;
}

static int cancelled(run *R)
{
    return cancel_asked(R) && say_cancelled(R);
}

/* The table: left alone when it holds these rows, else built beside it. */
static int open_table(run *R)
{
    R->table_same = R->any_sql && !R->o->partial &&
                    (ptc_gen_prev_table_is(R->prev, R->rows_hash, R->nrows, R->o->db_path) ||
                     ptc_db_table_is(R->o->db_path, R->rows_hash, R->nrows));
    if (R->table_same) {
        R->st->rows = (unsigned)R->nrows;
        R->st->table_unchanged = 1;
    }
    if (!R->any_sql || R->o->dry_run || R->table_same) return 0;
    R->db = ptc_db_open(R->o->db_path, 30000, R->diag);
    return R->db && ptc_db_build_begin(R->db, R->o->partial, R->diag) == 0 ? 0 : -1;
}

/* The writer thread's reporter: the run's, printing into memory, so the
 * two threads never write one stream or count into one struct (a full disk
 * fails both at once); handed over once the writer has stopped. */
typedef struct held_diag {
    ptc_diag d;
    FILE *f;
    char *text;
    size_t len;
} held_diag;

static void hold_diag(held_diag *w, const ptc_diag *to)
{
    memset(w, 0, sizeof *w);
    w->d = to->forward ? *to->forward : *to;
    w->d.forward = NULL;
    w->d.errors = w->d.warnings = w->d.notes = 0;
    if (w->d.out && !(w->d.out = w->f = open_memstream(&w->text, &w->len))) ptc_diag_init_null(&w->d);
}

static void hand_over_diag(held_diag *w, ptc_diag *to)
{
    ptc_diag *d = to->forward ? to->forward : to;
    if (w->f) fclose(w->f);
    if (w->len && d->out) fwrite(w->text, 1, w->len, d->out);
    d->errors += w->d.errors;
    d->warnings += w->d.warnings;
    d->notes += w->d.notes;
    d->printed += w->d.printed;
    d->suppressed += w->d.suppressed;
    if (w->d.errors) {
        memcpy(d->last, w->d.last, sizeof d->last);
        d->last_code = w->d.last_code;
    }
    free(w->text);
}

/* Every phone rendered here, written by the writer thread (writer.h). */
static int write_phones(run *R)
{
    ptc_diag quiet;                     /* pass 1 reported everything */
    ptc_diag_init_null(&quiet);
    const ptc_run_hooks *h = &R->o->hooks;
    if (h->start) h->start(h->ctx, R->st->phones);
    held_diag wd;
    hold_diag(&wd, R->diag);
    R->out.diag = &wd.d;
    ptc_wr wr;
    if (ptc_wr_start(&wr, &R->out, R->gen, h, R->st->phones) != 0) {
        R->out.diag = R->diag;
        hand_over_diag(&wd, R->diag);
        ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot start the writer thread");
        return -1;
    }
    uint32_t pos = 0, off, len;
    unsigned line = 0, done = 0;
    int rc = 0, stop = 0;
    ptc_rec r;
    while (!rc && !stop && ptc_rec_next_line(R->list, &pos, &off, &len, &line)) {
        if (ptc_rec_parse(R->list, off, len, line, &r, &quiet) != 0) continue;
        ptc_wr_job *j = ptc_wr_next(&wr);
        if (!j) break;                  /* the writer failed: it said why */
        rc = execute_phone(R, &r, ptc_gen_line_hash(R->list->text + off, len), j);
        j->done = ++done;
        if (!rc) ptc_wr_push(&wr);
        stop = cancel_asked(R);
    }
    /* the writer reports through R->diag: only after it stopped, here;
     * a cancel stopped the loop early, whatever the hook says now */
    if (ptc_wr_finish(&wr) != 0) rc = -1;
    R->out.diag = R->diag;
    hand_over_diag(&wd, R->diag);
    if (stop && !rc) rc = -say_cancelled(R);
    return rc ? -1 : 0;
}

/* Before anything changes, the old generation index goes; a new one is
 * written along (not for -p, whose output depends on what was there). */
static void start_index(run *R)
{
    if (R->o->dry_run) return;
    if (R->o->partial) { if (R->gen_path) unlink(R->gen_path); }
    else R->out.gen = R->gen = ptc_gen_writer_new(R->gen_path, R->gen_key, R->env_key);
}

static int execute(run *R)
{
    start_index(R);
    if (ptc_out_prepare(&R->out) != 0 || open_table(R) != 0 || write_phones(R) != 0) return -1;
    if (ptc_out_finish_includes(&R->out) != 0) return -1;
    if (R->db && ptc_db_build_end(R->db, R->diag) != 0) return -1;
    if (R->o->dry_run || cancelled(R)) return R->o->dry_run ? 0 : -1;
    ptc_out_sync(&R->out);
    R->commit.db_swap = R->table_same ? 0 : R->any_sql ? 1 : (R->o->partial ? 0 : 2);
    ptc_db_close(R->db);
    R->db = NULL;
    if (ptc_commit_run(&R->commit, R->diag) != 0) return -1;
    R->st->committed = 1;
    ptc_out_tighten(&R->out);
    ptc_gen_finish(R->gen, R->any_sql, R->nrows, R->rows_hash, R->o->db_path);
    return 0;
}

/* ---- the whole run -------------------------------------------------------- */

/* A run refused before its commit point leaves nothing behind: not even the
 * database file it created for the table (a full disk on a first run). */
static void remove_new_db(run *R)
{
    ptc_db_close(R->db);
    R->db = NULL;
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        ptc_buf p = PTC_BUF_INIT;
        ptc_buf_printf(&p, "%s%s", R->o->db_path, suffix[i]);
        unlink(ptc_buf_cstr(&p));
        ptc_buf_free(&p);
    }
}

static void free_run(run *R)
{
    ptc_tmpls_free(&R->tmpls);
    ptc_out_free(&R->out);
    ptc_plan_free(&R->plan);
    ptc_phone_free(&R->ph);
    ptc_commit_free(&R->commit);
    ptc_db_close(R->db);
    ptc_src_free(R->list);
    ptc_gen_writer_free(R->gen);
    ptc_gen_prev_free(R->prev);
    ptc_gen_entry_free(&R->entry);
    free(R->gen_path);
}

static void report_existing(run *R)
{
    const ptc_pathlist *ex = &R->out.exists;
    for (size_t i = 0; i < ex->n; i++)
        ptc_diag_plain(R->diag, PTC_ERROR, "exists", "file \"%s\" exists", ex->v[i]);
    if (R->out.nexists > ex->n)
        ptc_diag_plain(R->diag, PTC_ERROR, "exists", "... and %zu more existing files", R->out.nexists - ex->n);
}

static int load_list(run *R)
{
    const ptc_run_opts *o = R->o;
    R->list = o->list_text ? ptc_src_from_mem(o->list_path, o->list_text, o->list_len)
                           : ptc_src_load(o->list_path, NULL);
    if (!R->list) {
        ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot read %s: %s", o->list_path, strerror(errno));
        return -1;
    }
    R->list->redact = ptc_rec_redact;
    return 0;
}

static void init_run(run *R, const ptc_run_opts *o, ptc_cfg *cfg, ptc_cache *cache, ptc_diag *diag,
                     ptc_run_stats *stats)
{
    *R = (run){.o = o, .cfg = cfg, .cache = cache, .diag = diag, .st = stats,
               .env = {ptc_cfg_base_dir(cfg), o->sip_server_ipv4}, .rows_hash = PTC_HASH64_INIT};
    memset(stats, 0, sizeof *stats);
    ptc_phone_init(&R->ph);
    char *dir = ptc_templates_dir(cfg);
    ptc_tmpls_init(&R->tmpls, dir);
    free(dir);
    char *state_dir = ptc_commit_state_dir(cfg, o->db_path);
    ptc_commit_init(&R->commit, state_dir, o->db_path);
    R->gen_path = ptc_gen_path(cache->dir, state_dir, o->db_path);
    free(state_dir);
    ptc_out_init(&R->out, o, cfg, diag, stats, &R->commit);
}

/* Read and plan: PTC_EXIT_OK when every check passed. */
static int read_and_plan(run *R)
{
    if (load_list(R) != 0) return PTC_EXIT_ERROR;
    ptc_plan_init(&R->plan, R->list, R->diag);
    if (!R->o->dry_run && !R->o->check_only && ptc_commit_recover(&R->commit, R->diag) != 0)
        return PTC_EXIT_ERROR;
    /* Shown warnings come from the plan: a replay would not show them. */
    R->gen_key = R->o->check_only ? 0 : ptc_gen_key(R->o, R->cfg, R->list, &R->env_key);
    if (!R->diag->show_warnings && ptc_gen_replay(R->gen_path, R->gen_key, R->o, R->cfg, R->st)) {
        R->replayed = 1;
        return PTC_EXIT_OK;
    }
    /* The record is read before start_index removes it; not for -p (whose
     * include files keep old lines) nor for what only a full plan shows. */
    if (!R->diag->show_warnings && !R->o->partial && !R->o->keep_content)
        R->prev = ptc_gen_prev_open(R->gen_path, R->env_key, R->cfg);
    plan(R);
    R->st->planned = 1;
    if (R->diag->errors > R->plan.missing) return PTC_EXIT_ERROR;
    if (R->plan.missing) return PTC_EXIT_NOPASS;
    if (R->out.nexists) { report_existing(R); return PTC_EXIT_EXISTS; }
    return PTC_EXIT_OK;
}

int ptc_run(const ptc_run_opts *o, ptc_cfg *cfg, ptc_cache *cache, ptc_diag *diag,
            ptc_run_stats *stats)
{
    run R;
    init_run(&R, o, cfg, cache, diag, stats);
    int rc = read_and_plan(&R);
    if (rc == PTC_EXIT_OK && !o->check_only && !R.replayed) {
        int db_existed = ptc_sql_is_pg(o->db_path) || ptc_exists(o->db_path);
        if (execute(&R) != 0) {
            if (!o->dry_run) ptc_commit_abort(&R.commit);
            if (!o->dry_run && !R.commit.committed && !db_existed) remove_new_db(&R);
            stats->committed = R.commit.committed;
            rc = PTC_EXIT_ERROR;
        }
    }
    free_run(&R);
    return rc;
}
