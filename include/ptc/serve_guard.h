/* ptc_serve_guard: head deadlines and the per-address miss budget
 * (src/serve/serve_guard.c).  Ownership: the guard owns its connection
 * handles; ptc_serve_guard_free (NULL accepted) frees what is left. */
#ifndef PTC_SERVE_GUARD_H
#define PTC_SERVE_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct ptc_serve_guard ptc_serve_guard;

/* What the guard counted since the server started. */
typedef struct ptc_serve_guard_stats {
    uint64_t denied;            /* connections refused at accept: off the allowlist */
    uint64_t head_timeouts;     /* connections closed for a late request head */
    uint64_t misses;            /* 404 answers (no such file, or not the client's) */
    uint64_t throttled;         /* requests and connections refused: miss budget spent */
} ptc_serve_guard_stats;

/* head_ms: the time a connection has for each request head (from its accept,
 * then from the end of each response).  miss_burst misses per address,
 * refilled over miss_window_s seconds; miss_burst 0 turns the budget off.
 * Free with ptc_serve_guard_free (NULL accepted). */
ptc_serve_guard *ptc_serve_guard_new(unsigned head_ms, unsigned miss_burst, unsigned miss_window_s);
void ptc_serve_guard_free(ptc_serve_guard *g);
/* A connection on socket fd was accepted: returns its handle (owned by the
 * guard until ptc_serve_guard_close), its head deadline running. */
void *ptc_serve_guard_open(ptc_serve_guard *g, int fd, int64_t now_ms);
/* The request head is complete: no deadline until the response is done. */
void ptc_serve_guard_head(ptc_serve_guard *g, void *conn);
/* The response is done: the next head's deadline runs.  conn NULL accepted. */
void ptc_serve_guard_done(ptc_serve_guard *g, void *conn, int64_t now_ms);
/* The connection is about to be closed (before its socket is): frees conn. */
void ptc_serve_guard_close(ptc_serve_guard *g, void *conn);
/* Shuts down the socket of every connection past its deadline; the count. */
size_t ptc_serve_guard_sweep(ptc_serve_guard *g, int64_t now_ms);
/* Records a miss by address sa; 1 when its budget is now spent. */
int ptc_serve_guard_miss(ptc_serve_guard *g, const struct sockaddr *sa, int64_t now_ms);
/* 1 (and counted as throttled) while sa's budget is spent. */
int ptc_serve_guard_throttled(ptc_serve_guard *g, const struct sockaddr *sa, int64_t now_ms);
void ptc_serve_guard_count_denied(ptc_serve_guard *g);
void ptc_serve_guard_stats_get(ptc_serve_guard *g, ptc_serve_guard_stats *out);

#endif
