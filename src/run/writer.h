/* ptc_wr: the execute pass on two cores (private to src/run/).
 *
 * The run's thread binds and renders each phone; a writer thread takes the
 * result and does what costs system calls: compares a provisioning file
 * with the one on disk, writes it beside it (ptc_out_write_prov), reports
 * it, and appends the phone's lines to the generation record, then reports
 * the phone done.  The two meet in a bounded ring of jobs (WR_SLOTS), so
 * memory stays flat in N and the order of everything reported and recorded
 * is the list's, as with one thread.
 *
 * While the writer runs, the run's thread touches neither the generation
 * record nor the hooks nor the provisioning files' state in ptc_out (only
 * ptc_out_prov_is_recorded, a read of a map nobody writes then); the
 * include files and the table stay the run's thread's.  An error in the
 * writer (reported there, through the run's ptc_diag) stops it: the run's
 * thread sees ptc_wr_next return NULL.
 *
 * Ownership: a ptc_wr and its jobs' buffers are the caller's
 * (ptc_wr_finish joins the thread and frees them); the ptc_out, record
 * and hooks are borrowed until then.
 */
#ifndef PTC_RUN_WRITER_H
#define PTC_RUN_WRITER_H

#include <pthread.h>
#include "output.h"

#define WR_SLOTS 64

typedef enum { WR_PROV_NONE, WR_PROV_RENDERED, WR_PROV_RECORDED } ptc_wr_prov;

typedef struct ptc_wr_share {   /* a phone's share of an include file, for the record */
    int ctx;
    size_t file;
    uint64_t off, len;
    size_t path, hdr;           /* offsets into the job's strs */
} ptc_wr_share;

typedef struct ptc_wr_job {
    ptc_wr_prov prov;
    ptc_buf content;            /* WR_PROV_RENDERED: the file's bytes */
    uint64_t st[4];             /* WR_PROV_RECORDED: its recorded stat */
    size_t prov_path;           /* offset into strs */
    ptc_wr_share share[PTC_CTX_COUNT];
    int nshare;
    ptc_gen_facts facts;
    ptc_buf strs;               /* the paths and headers, each NUL-ended */
    unsigned done;              /* phones done with this one */
} ptc_wr_job;

typedef struct ptc_wr {
    ptc_out *out;
    ptc_gen_writer *gen;
    const ptc_run_hooks *hooks;
    unsigned total;
    ptc_wr_job job[WR_SLOTS];
    unsigned head, tail;        /* jobs pushed, jobs done (they wrap) */
    int ending, failed, started;
    pthread_mutex_t mu;
    pthread_cond_t ready, room;
    pthread_t thread;
} ptc_wr;

/* Starts the writer; -1 (nothing started) when no thread can be made. */
int ptc_wr_start(ptc_wr *w, ptc_out *out, ptc_gen_writer *gen, const ptc_run_hooks *hooks, unsigned total);
/* The next free job, emptied (it waits while the ring is full); NULL once
 * the writer has failed. */
ptc_wr_job *ptc_wr_next(ptc_wr *w);
/* Hands the job ptc_wr_next returned to the writer. */
void ptc_wr_push(ptc_wr *w);
/* Waits for every job pushed to be done and joins the writer: 0, or -1
 * when it failed.  Frees the jobs' buffers; w may be started again. */
int ptc_wr_finish(ptc_wr *w);

/* Copies s into the job's strs: its offset there. */
size_t ptc_wr_str(ptc_wr_job *j, const char *s);

#endif
