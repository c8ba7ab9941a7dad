/* The server's guard: deadlines for request heads and a budget of misses.
 *
 * Deadlines.  libmicrohttpd's --timeout is an idle timeout: a client that
 * sends one byte every few seconds, or (with 0.9.75) a TLS client that never
 * finishes its handshake, is never closed by it.  Every connection here gets
 * a deadline for its request head instead: head_ms from its accept, and again
 * from the end of each response on a kept-alive connection.  The background
 * thread sweeps the list and shuts down (shutdown(2), not close) the socket of
 * every connection past its deadline; libmicrohttpd then sees the socket fail
 * and closes the connection itself.  The socket stays valid while we hold the
 * list lock, because libmicrohttpd notifies us (and we unlink the connection)
 * before it closes the descriptor.
 *
 * Misses.  A client that asks for files that do not exist (or are not its
 * own) is probing for MAC addresses.  Each address has a bucket of
 * miss_burst misses that refills over miss_window seconds; an address whose
 * bucket is empty gets 429 and its new connections are refused at accept,
 * until the bucket refills.  The table of addresses is a fixed array: an
 * attacker with many addresses can only evict full buckets (forgotten
 * addresses start full) or, when every probed slot is in debt, the fullest. */
#include "ptc/serve.h"
#include "ptc/buf.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MISS_SLOTS 4096         /* addresses remembered */
#define MISS_PROBE 16           /* slots looked at per address */

typedef struct gconn {
    struct gconn *prev, *next;
    int fd;
    int64_t deadline_ms;        /* 0: the head is in, no deadline */
} gconn;

typedef struct miss_slot {
    unsigned char addr[16];
    int used;
    double tokens;
    int64_t at_ms;              /* when tokens was computed */
} miss_slot;

struct ptc_serve_guard {
    pthread_mutex_t mu;
    gconn *head;
    unsigned head_ms;
    double burst, refill_per_ms;
    miss_slot *slots;
    ptc_serve_guard_stats st;
};

ptc_serve_guard *ptc_serve_guard_new(unsigned head_ms, unsigned miss_burst, unsigned miss_window_s)
{
    ptc_serve_guard *g = ptc_xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    g->head_ms = head_ms;
    g->burst = miss_burst;
    g->refill_per_ms = miss_window_s ? (double)miss_burst / (miss_window_s * 1000.0) : 0;
    g->slots = ptc_xcalloc(MISS_SLOTS, sizeof *g->slots);
    return g;
}

void ptc_serve_guard_free(ptc_serve_guard *g)
{
    if (!g) return;
    while (g->head) {
        gconn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&g->mu);
    free(g->slots);
    free(g);
}

void *ptc_serve_guard_open(ptc_serve_guard *g, int fd, int64_t now_ms)
{
    gconn *c = ptc_xcalloc(1, sizeof *c);
    c->fd = fd;
    c->deadline_ms = now_ms + g->head_ms;
    pthread_mutex_lock(&g->mu);
    c->next = g->head;
    if (g->head) g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->mu);
    return c;
}

static void set_deadline(ptc_serve_guard *g, void *conn, int64_t deadline_ms)
{
    if (!conn) return;
    pthread_mutex_lock(&g->mu);
    ((gconn *)conn)->deadline_ms = deadline_ms;
    pthread_mutex_unlock(&g->mu);
}

void ptc_serve_guard_head(ptc_serve_guard *g, void *conn)
{
    set_deadline(g, conn, 0);
}

void ptc_serve_guard_done(ptc_serve_guard *g, void *conn, int64_t now_ms)
{
    set_deadline(g, conn, now_ms + g->head_ms);
}

void ptc_serve_guard_close(ptc_serve_guard *g, void *conn)
{
    gconn *c = conn;
    if (!c) return;
    pthread_mutex_lock(&g->mu);
    if (c->prev) c->prev->next = c->next;
    else g->head = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
}

size_t ptc_serve_guard_sweep(ptc_serve_guard *g, int64_t now_ms)
{
    size_t n = 0;
    pthread_mutex_lock(&g->mu);
    for (gconn *c = g->head; c; c = c->next) {
        if (!c->deadline_ms || c->deadline_ms > now_ms) continue;
        shutdown(c->fd, SHUT_RDWR);
        c->deadline_ms = 0;     /* once is enough */
        n++;
    }
    g->st.head_timeouts += n;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* ---- the miss budget ------------------------------------------------------- */

/* The address as 16 bytes (IPv4 as IPv4-mapped), so one slot per client. */
static int key_of(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa->sa_family == AF_INET) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 1;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 1;
    }
    return 0;
}

static double refilled(const ptc_serve_guard *g, const miss_slot *s, int64_t now_ms)
{
    double t = s->tokens + (double)(now_ms - s->at_ms) * g->refill_per_ms;
    return t > g->burst ? g->burst : t;
}

/* With mu held: the slot of key, or a slot taken for it (starting full);
 * create 0 gives NULL for an address not in the table. */
static miss_slot *slot_for(ptc_serve_guard *g, const unsigned char key[16], int64_t now_ms, int create)
{
    uint64_t h = ptc_hash64(key, 16);
    miss_slot *victim = NULL;
    double victim_tokens = -1;
    for (unsigned i = 0; i < MISS_PROBE; i++) {
        miss_slot *s = &g->slots[(h + i) % MISS_SLOTS];
        if (s->used && memcmp(s->addr, key, 16) == 0) return s;
        double t = s->used ? refilled(g, s, now_ms) : g->burst + 1;
        if (t > victim_tokens) { victim = s; victim_tokens = t; }
    }
    if (!create) return NULL;
    memcpy(victim->addr, key, 16);
    victim->used = 1;
    victim->tokens = g->burst;
    victim->at_ms = now_ms;
    return victim;
}

int ptc_serve_guard_miss(ptc_serve_guard *g, const struct sockaddr *sa, int64_t now_ms)
{
    unsigned char key[16];
    pthread_mutex_lock(&g->mu);
    g->st.misses++;
    if (!g->burst || !sa || !key_of(sa, key)) {
        pthread_mutex_unlock(&g->mu);
        return 0;
    }
    miss_slot *s = slot_for(g, key, now_ms, 1);
    s->tokens = refilled(g, s, now_ms) - 1;
    if (s->tokens < 0) s->tokens = 0;
    s->at_ms = now_ms;
    int over = s->tokens < 1;
    pthread_mutex_unlock(&g->mu);
    return over;
}

int ptc_serve_guard_throttled(ptc_serve_guard *g, const struct sockaddr *sa, int64_t now_ms)
{
    unsigned char key[16];
    if (!g->burst || !sa || !key_of(sa, key)) return 0;
    pthread_mutex_lock(&g->mu);
    miss_slot *s = slot_for(g, key, now_ms, 0);
    int over = s && refilled(g, s, now_ms) < 1;
    if (over) g->st.throttled++;
    pthread_mutex_unlock(&g->mu);
    return over;
}

void ptc_serve_guard_count_denied(ptc_serve_guard *g)
{
    pthread_mutex_lock(&g->mu);
    g->st.denied++;
    pthread_mutex_unlock(&g->mu);
}

void ptc_serve_guard_stats_get(ptc_serve_guard *g, ptc_serve_guard_stats *out)
{
    pthread_mutex_lock(&g->mu);
    *out = g->st;
    pthread_mutex_unlock(&g->mu);
}
