/* The execute pass's writer thread (writer.h). */
#include "writer.h"

#include <string.h>

size_t ptc_wr_str(ptc_wr_job *j, const char *s)
{
    size_t at = j->strs.len;
    ptc_buf_put(&j->strs, s, strlen(s) + 1);
    return at;
}

/* One phone, in the order one thread would do it: its shares of the include
 * files recorded, its provisioning file, the phone recorded, reported done. */
static int do_job(ptc_wr *w, ptc_wr_job *j)
{
    const char *s = j->strs.data;
    for (int i = 0; i < j->nshare; i++) {
        const ptc_wr_share *sh = &j->share[i];
        ptc_gen_include(w->gen, sh->ctx, sh->file, sh->off, sh->len, s + sh->path, s + sh->hdr);
    }
    if (j->prov == WR_PROV_RENDERED && ptc_out_write_prov(w->out, s + j->prov_path, &j->content) != 0) return -1;
    if (j->prov == WR_PROV_RECORDED) ptc_out_prov_recorded(w->out, s + j->prov_path, j->st);
    ptc_gen_phone(w->gen, &j->facts);
    if (w->hooks->progress) w->hooks->progress(w->hooks->ctx, j->done, w->total);
    return 0;
}

static void *writer_main(void *arg)
{
    ptc_wr *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->tail == w->head && !w->ending) pthread_cond_wait(&w->ready, &w->mu);
        if (w->tail == w->head) break;
        ptc_wr_job *j = &w->job[w->tail % WR_SLOTS];
        int failed = w->failed;
        pthread_mutex_unlock(&w->mu);
        int rc = failed ? 0 : do_job(w, j);    /* after a failure: drained, not done */
        pthread_mutex_lock(&w->mu);
        if (rc != 0) w->failed = 1;
        w->tail++;
        /* a waiting producer waits for a full ring: woken half way down */
        if (w->head - w->tail == WR_SLOTS / 2 || w->failed) pthread_cond_signal(&w->room);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int ptc_wr_start(ptc_wr *w, ptc_out *out, ptc_gen_writer *gen, const ptc_run_hooks *hooks, unsigned total)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->gen = gen;
    w->hooks = hooks;
    w->total = total;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->ready, NULL);
    pthread_cond_init(&w->room, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->room);
        pthread_cond_destroy(&w->ready);
        pthread_mutex_destroy(&w->mu);
        return -1;
    }
    w->started = 1;
    return 0;
}

ptc_wr_job *ptc_wr_next(ptc_wr *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->head - w->tail == WR_SLOTS && !w->failed) pthread_cond_wait(&w->room, &w->mu);
    int failed = w->failed;
    pthread_mutex_unlock(&w->mu);
    if (failed) return NULL;
    /* the slot is free: the writer is done with it and will not look again */
    ptc_wr_job *j = &w->job[w->head % WR_SLOTS];
    j->prov = WR_PROV_NONE;
    j->content.len = j->strs.len = 0;
    j->nshare = 0;
    return j;
}

/* The writer is woken when half the ring waits for it, not for each job:
 * a wake is a system call, as dear as a cheap phone's whole job. */
void ptc_wr_push(ptc_wr *w)
{
    pthread_mutex_lock(&w->mu);
    w->head++;
    if (w->head - w->tail == WR_SLOTS / 2) pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->mu);
}

int ptc_wr_finish(ptc_wr *w)
{
    if (!w->started) return -1;
    pthread_mutex_lock(&w->mu);
    w->ending = 1;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = 0;
    for (size_t i = 0; i < WR_SLOTS; i++) {
        ptc_buf_free(&w->job[i].content);
        ptc_buf_free(&w->job[i].strs);
    }
    pthread_cond_destroy(&w->room);
    pthread_cond_destroy(&w->ready);
    pthread_mutex_destroy(&w->mu);
    return w->failed ? -1 : 0;
}
