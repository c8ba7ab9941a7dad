/* ptc_serve_audit / ptc_audit_reader: the fetch audit, the one owner of
 * the phoneprov_fetch and phoneprov_serve_stats tables (src/serve/serve_audit.c):
 * `ptc serve` writes it, `ptc status` and `ptc notify --changed` read it.
 * Ownership: each handle is the caller's, closed with its *_close (NULL
 * accepted); fetches and names passed in are copied. */
#ifndef PTC_AUDIT_H
#define PTC_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "ptc/buf.h"

/* One successful fetch by a known phone. */
typedef struct ptc_serve_fetch {
    char mac[13];               /* 12 lower-case hex digits */
    const char *path;           /* below /phoneprov/, no query */
    int64_t time;               /* unix seconds */
    const char *addr, *method, *user_agent;   /* user_agent may be NULL */
    int status;
    uint64_t bytes;
    int64_t file_mtime_ns;      /* the served file's mtime */
} ptc_serve_fetch;

typedef struct ptc_serve_audit ptc_serve_audit;

/* Opens (creating) the database and its phoneprov_fetch table.  NULL with a
 * reason in why. */
ptc_serve_audit *ptc_serve_audit_open(const char *path, char *why, size_t whylen);
/* Queues a fetch (copied; the User-Agent cut to 256 bytes).  Thread-safe;
 * the last fetch per (mac, path) wins, and at most 65,536 keys wait while
 * the database is busy (more are dropped and counted), so memory is bounded
 * whatever the traffic.  path must be the file served, in one spelling. */
void ptc_serve_audit_record(ptc_serve_audit *a, const ptc_serve_fetch *f);
/* Writes what is queued in one transaction.  0, or -1 with why (the queue
 * is kept for the next try). */
int  ptc_serve_audit_flush(ptc_serve_audit *a, char *why, size_t whylen);
void ptc_serve_audit_close(ptc_serve_audit *a);         /* flushes; NULL accepted */

/* The server's counters, summed in phoneprov_serve_stats by name. */
enum {
    PTC_SERVE_STAT_DENIED, PTC_SERVE_STAT_HEAD_TIMEOUTS, PTC_SERVE_STAT_MISSES,
    PTC_SERVE_STAT_THROTTLED, PTC_SERVE_STAT_LOG_DROPPED, PTC_SERVE_STAT_AUDIT_DROPPED,
    PTC_SERVE_STAT_N
};
/* Their names in phoneprov_serve_stats. */
extern const char *const ptc_serve_stat_names[PTC_SERVE_STAT_N];
/* Entries waiting to be written (0 for NULL). */
size_t ptc_serve_audit_queued(ptc_serve_audit *a);
/* Adds delta to counter stat, written with the next flush.  a NULL accepted. */
void ptc_serve_audit_count(ptc_serve_audit *a, int stat, uint64_t delta);

/* ---- reading the audit (ptc status, ptc notify --changed) ---------------- */

typedef struct ptc_audit_reader ptc_audit_reader;

/* What the audit says of one phone. */
typedef struct ptc_fetch_state {
    int fetched;                /* any fetch recorded */
    int64_t when;               /* the last one (unix seconds) */
    char addr[64], firmware[64];
    char user_agent[256];
    ptc_buf stale;              /* "path, path (gone)": files changed since they
                                 * were fetched; empty when none (caller frees) */
} ptc_fetch_state;

/* Opens the audit database read-only.  NULL with errno ENOENT when it does
 * not exist yet; NULL with a reason in why otherwise. */
ptc_audit_reader *ptc_audit_reader_open(const char *path, char *why, size_t whylen);
/* Fills st for the phone of 12-hex-digit mac; files are looked at below
 * base (the provisioning tree) to tell whether they changed since. */
void ptc_audit_reader_phone(ptc_audit_reader *r, const char *base, const char *mac, ptc_fetch_state *st);
/* The server's summed counters by name (0 when absent). */
long long ptc_audit_reader_stat(ptc_audit_reader *r, const char *name);
/* The fetches recorded in the 24 hours before now (unix seconds), by hour:
 * out[23] the last hour, out[0] the one 23 hours before.  The audit keeps
 * the latest fetch of each phone's file, so a file fetched twice counts
 * once, at its latest hour. */
void ptc_audit_reader_hours(ptc_audit_reader *r, int64_t now, unsigned out[24]);
void ptc_audit_reader_close(ptc_audit_reader *r);      /* NULL accepted */

/* The SQL that creates the audit table (for docs and tests). */
extern const char ptc_serve_audit_schema[];

#endif
