/* A unified diff (diff.h): lines, a shortest edit script, hunks. */
#include "ptc/diff.h"
#include "ptc/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT 3

typedef struct line {
    const char *p;
    size_t len;                 /* with its '\n', when it has one */
    uint64_t h;
} line;

typedef struct side {
    line *v;
    size_t n;
} side;

static uint64_t hash_of(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void split(const char *t, size_t len, side *s)
{
    size_t cap = 16;
    s->v = ptc_xmalloc(cap * sizeof *s->v);
    s->n = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(t + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (t + i)) + 1 : len - i;
        if (s->n == cap) s->v = ptc_xrealloc(s->v, (cap *= 2) * sizeof *s->v);
        s->v[s->n++] = (line){t + i, l, hash_of(t + i, l)};
        i += l;
    }
}

static int same(const line *x, const line *y)
{
    return x->h == y->h && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

/* ---- the edit script ------------------------------------------------------------ */

enum { EQ = '=', DEL = '-', INS = '+' };

typedef struct script {
    char *op;                   /* EQ, DEL or INS, in order */
    size_t n;
} script;

/* Myers' greedy forward search over a[0..N) and b[0..M), keeping each
 * round's furthest reaching x per diagonal (trace[d] holds diagonals -d..d)
 * for the walk back.  The distance, or -1 beyond max. */
static long search(const line *a, long N, const line *b, long M, long max, long **trace_out)
{
    long *V = ptc_xcalloc((size_t)(2 * max + 3), sizeof *V), off = max + 1;
    long *trace = NULL, D = -1;
    size_t cap = 0;
    for (long d = 0; d <= max && D < 0; d++) {
        size_t need = (size_t)((d + 1) * (d + 1));
        if (need > cap) {
            cap = need * 2;
            trace = ptc_xrealloc(trace, cap * sizeof *trace);
        }
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && V[off + k - 1] < V[off + k + 1])) ? V[off + k + 1] : V[off + k - 1] + 1;
            long y = x - k;
            while (x < N && y < M && same(&a[x], &b[y])) x++, y++;
            V[off + k] = x;
            if (x >= N && y >= M) D = d;
        }
        memcpy(trace + d * d, V + off - d, (size_t)(2 * d + 1) * sizeof *V);
    }
    free(V);
    *trace_out = trace;
    return D;
}

/* Walks the trace back from (N, M), writing the script backwards into op. */
static size_t walk_back(const long *trace, long D, long N, long M, char *op)
{
    size_t n = 0;
    long x = N, y = M;
    for (long d = D; d > 0; d--) {
        const long *Vp = trace + (d - 1) * (d - 1) + (d - 1);  /* index 0 is diagonal 0 */
        long k = x - y;
        long pk = (k == -d || (k != d && Vp[k - 1] < Vp[k + 1])) ? k + 1 : k - 1;
        long px = Vp[pk], py = px - pk;
        while (x > px && y > py) op[n++] = EQ, x--, y--;
        if (x == px) op[n++] = INS, y--;
        else op[n++] = DEL, x--;
    }
    while (x > 0 && y > 0) op[n++] = EQ, x--, y--;
    return n;
}

/* The whole script: common head, the searched middle, common tail.
 * -1 when the middle needs more than max changes. */
static int edit_script(const side *A, const side *B, long max, script *s)
{
    size_t head = 0, tail = 0;
    while (head < A->n && head < B->n && same(&A->v[head], &B->v[head])) head++;
    while (tail < A->n - head && tail < B->n - head && same(&A->v[A->n - 1 - tail], &B->v[B->n - 1 - tail])) tail++;
    long N = (long)(A->n - head - tail), M = (long)(B->n - head - tail);
    if (N + M > 0 && labs(N - M) > max) return -1;
    long *trace = NULL;
    long D = N + M == 0 ? 0 : search(A->v + head, N, B->v + head, M, max, &trace);
    if (D < 0) { free(trace); return -1; }
    s->op = ptc_xmalloc(A->n + B->n + 1);
    memset(s->op, EQ, head);
    char *mid = ptc_xmalloc((size_t)(N + M) + 1);
    size_t m = D ? walk_back(trace, D, N, M, mid) : (size_t)N;
    if (!D) memset(mid, EQ, m);
    for (size_t i = 0; i < m; i++) s->op[head + i] = D ? mid[m - 1 - i] : mid[i];
    memset(s->op + head + m, EQ, tail);
    s->n = head + m + tail;
    free(mid);
    free(trace);
    return 0;
}

/* ---- hunks ------------------------------------------------------------------------ */

static void put_line(ptc_buf *out, char mark, const line *l)
{
    ptc_buf_putc(out, mark);
    ptc_buf_put(out, l->p, l->len);
    if (l->len == 0 || l->p[l->len - 1] != '\n') ptc_buf_puts(out, "\n\\ No newline at end of file\n");
}

static void range(ptc_buf *out, char mark, size_t start, size_t count)
{
    /* diff -u: a range of one line is just its number; an empty one names the line before it */
    if (count == 1) ptc_buf_printf(out, "%c%zu", mark, start + 1);
    else ptc_buf_printf(out, "%c%zu,%zu", mark, count ? start + 1 : start, count);
}

/* The hunk starting at op index s (context included) through e (exclusive). */
static void put_hunk(ptc_buf *out, const script *S, size_t s, size_t e, size_t ai, size_t bi,
                     const side *A, const side *B)
{
    size_t na = 0, nb = 0;
    for (size_t t = s; t < e; t++) na += S->op[t] != INS, nb += S->op[t] != DEL;
    ptc_buf_puts(out, "@@ ");
    range(out, '-', ai, na);
    ptc_buf_putc(out, ' ');
    range(out, '+', bi, nb);
    ptc_buf_puts(out, " @@\n");
    for (size_t t = s; t < e; t++) {
        char o = S->op[t];
        put_line(out, o == EQ ? ' ' : o, o == INS ? &B->v[bi] : &A->v[ai]);
        ai += o != INS;
        bi += o != DEL;
    }
}

/* Groups the changes into hunks: changes closer than 2 * CONTEXT equal
 * lines share one. */
static void put_hunks(ptc_buf *out, const script *S, const side *A, const side *B)
{
    size_t ai = 0, bi = 0, t = 0;
    while (t < S->n) {
        size_t c = t;
        while (c < S->n && S->op[c] == EQ) c++;
        if (c == S->n) break;
        size_t s = c > t + CONTEXT ? c - CONTEXT : t;
        ai += s - t;            /* every op skipped was EQ */
        bi += s - t;
        size_t e = c;
        for (;;) {
            while (e < S->n && S->op[e] != EQ) e++;
            size_t q = e;
            while (q < S->n && S->op[q] == EQ) q++;
            if (q == S->n || q - e > 2 * CONTEXT) break;
            e = q;
        }
        size_t end = e + CONTEXT < S->n ? e + CONTEXT : S->n;
        while (end > e && S->op[end - 1] != EQ) end--;
        put_hunk(out, S, s, end, ai, bi, A, B);
        for (size_t x = s; x < end; x++) ai += S->op[x] != INS, bi += S->op[x] != DEL;
        t = end;
    }
}

int ptc_diff_unified(const char *a, size_t alen, const char *b, size_t blen,
                     const char *a_name, const char *b_name, unsigned max_changes, ptc_buf *out)
{
    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) return 0;
    side A, B;
    split(a, alen, &A);
    split(b, blen, &B);
    script S = {NULL, 0};
    int rc = edit_script(&A, &B, (long)max_changes, &S);
    ptc_buf_printf(out, "--- %s\n+++ %s\n", a_name, b_name);
    if (rc == 0) put_hunks(out, &S, &A, &B);
    else ptc_buf_printf(out, "@@ too many changes to show (%zu lines -> %zu lines) @@\n", A.n, B.n);
    free(S.op);
    free(A.v);
    free(B.v);
    return rc == 0 ? 0 : 1;
}
