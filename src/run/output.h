/* ptc_out: the files of a run (private to src/run/): found on disk by the
 * plan, written by the execute pass, handed to the commit.
 *
 *   plan     ptc_out_plan_prov, ptc_out_plan_include: one lstat per output
 *            (only in directories that exist), so the run knows what exists
 *            (-f), what is not a file, what is a link to write through
 *   execute  ptc_out_prepare (directories, intent record), then the include
 *            files opened as temporary files that stream and compare with
 *            the old file; each provisioning file built in memory and
 *            written only when it differs (ptc_out_write_prov)
 *   finish   ptc_out_finish_includes, then ptc_out_sync before the commit
 *            record and ptc_out_tighten after it
 *
 * An unchanged file keeps its bytes and mtime.  Ownership: a ptc_out owns
 * its files, maps and buffers (ptc_out_free); the options, reporter,
 * statistics and commit are borrowed from the run.
 */
#ifndef PTC_RUN_OUTPUT_H
#define PTC_RUN_OUTPUT_H

#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/commit.h"
#include "ptc/fsutil.h"
#include "ptc/gen.h"
#include "ptc/map.h"
#include "ptc/run.h"
#include "ptc/sink.h"

typedef struct ptc_out_file {   /* an include file ([dialplanN], [sip], [pjsip]) */
    char *real, *open;
    int ctx;
    int hdr_order;              /* template order that chose the header */
    char *hdr_context;          /* dialplan context line, "" for none */
    int existed;
    int via_link;               /* written through a symbolic link */
    char *tmp;
    int fd, cmp_fd;
    ptc_sink sink;
} ptc_out_file;

typedef struct ptc_out {
    const ptc_run_opts *o;
    ptc_cfg *cfg;
    ptc_diag *diag;
    ptc_run_stats *st;
    ptc_commit *commit;
    ptc_out_file *f;            /* in the plan's order (ptc_plan files) */
    size_t nf;
    ptc_map prov_existing;      /* provisioning files already on disk */
    ptc_dircache dirs_open;     /* output directories, for *at() calls */
    ptc_map dir_seen;
    ptc_buf existing;           /* a provisioning file on disk, read back */
    ptc_pathlist exists;        /* the first few outputs that exist (-f) */
    size_t nexists;
    ptc_pathlist dirs;          /* every output directory */
    ptc_pathlist open_to_all;   /* unchanged outputs that others may read */
    ptc_gen_writer *gen;        /* the generation index being written, or NULL */
} ptc_out;

void ptc_out_init(ptc_out *O, const ptc_run_opts *o, ptc_cfg *cfg, ptc_diag *diag,
                  ptc_run_stats *st, ptc_commit *commit);
void ptc_out_free(ptc_out *O);

/* Plan a provisioning file at path (a real path); problems are reported
 * at byte at of list.  rec: the file's size, mtime, inode and mode as the
 * generation index recorded them for an unchanged phone, or NULL. */
void ptc_out_plan_prov(ptc_out *O, ptc_src *list, size_t at, const char *path, const uint64_t *rec);
/* For an unchanged phone: whether the plan found its provisioning file as
 * recorded (a read only: safe beside the writer thread, writer.h). */
int ptc_out_prov_is_recorded(const ptc_out *O, const char *path);
/* ... and when it did, reports it unchanged without rendering or reading it
 * and returns 1; else 0.  rec: as given to the plan. */
int ptc_out_prov_recorded(ptc_out *O, const char *path, const uint64_t *rec);
/* Plan include file path for context ctx, first seen for the template of
 * order tmpl_order; hdr is its dialplan context line ("" for none). */
void ptc_out_plan_include(ptc_out *O, ptc_src *list, size_t at, int ctx, int tmpl_order,
                          const char *hdr, const char *path);
/* Include file f is written by a later template too: as in the original,
 * whose init of the file ran last (the template that appears last) writes
 * its header, naming the file its way. */
void ptc_out_include_again(ptc_out *O, size_t f, int tmpl_order, const char *hdr, const char *path);

/* Directories and the intent record (nothing in a dry run); then every
 * include file opened with its header.  0, or -1 after reporting. */
int  ptc_out_prepare(ptc_out *O);
/* Writes content as the provisioning file at path, or leaves the file
 * alone when it holds those bytes.  0, or -1 after reporting. */
int  ptc_out_write_prov(ptc_out *O, const char *path, const ptc_buf *content);
/* Flushes and closes the include files, counts and reports each, hands the
 * changed ones to the commit.  0, or -1 after reporting. */
int  ptc_out_finish_includes(ptc_out *O);
/* One syncfs per file system holding an output (before the commit record). */
void ptc_out_sync(ptc_out *O);
/* After the commit: unchanged files that everyone could read get 0640. */
void ptc_out_tighten(ptc_out *O);

#endif
