/* The accounts file (include/ptc/users.h). */
#include "ptc/users.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A hash we accept: yescrypt, as crypt_gensalt("$y$") makes them. */
static int hash_ok(const char *h)
{
    return strncmp(h, "$y$", 3) == 0 && strlen(h) > 20 && !strpbrk(h, ": \t\r\n");
}

int ptc_users_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 32 || name[0] == '.' || name[0] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i])) return 0;
    return 1;
}

const char *ptc_role_name(ptc_role r)
{
    return r == PTC_ROLE_ADMIN ? "admin" : "viewer";
}

static void add(ptc_users *u, const char *name, ptc_role role, const char *hash)
{
    u->v = ptc_xrealloc(u->v, (u->n + 1) * sizeof *u->v);
    u->v[u->n++] = (ptc_user){ptc_xstrdup(name), ptc_xstrdup(hash), role};
}

/* One line NAME:ROLE:HASH; 0 when it is an account. */
static int parse_line(ptc_users *u, char *line)
{
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) return -1;
    *c1 = *c2 = '\0';
    const char *role = c1 + 1, *hash = c2 + 1;
    if (!ptc_users_name_ok(line) || !hash_ok(hash) || ptc_users_find(u, line)) return -1;
    if (strcmp(role, "admin") && strcmp(role, "viewer")) return -1;
    add(u, line, strcmp(role, "admin") == 0 ? PTC_ROLE_ADMIN : PTC_ROLE_VIEWER, hash);
    return 0;
}

int ptc_users_load(const char *path, ptc_users *u, ptc_diag *diag)
{
    memset(u, 0, sizeof *u);
    ptc_buf b = PTC_BUF_INIT;
    if (ptc_read_file_max(path, &b, 1 << 20) != 0) {
        int e = errno;
        ptc_buf_free(&b);
        if (e == ENOENT) return 0;
        ptc_diag_plain(diag, PTC_ERROR, "users", "cannot read %s: %s", path, strerror(e));
        return -1;
    }
    unsigned line = 0;
    for (char *s = b.data ? b.data : "", *e; *s; s = e) {
        e = strchr(s, '\n');
        e = e ? (*e = '\0', e + 1) : s + strlen(s);
        line++;
        if (!*s || *s == '#') continue;
        if (parse_line(u, s) != 0)
            ptc_diag_plain(diag, PTC_WARNING, "users", "%s:%u: not an account (NAME:admin|viewer:yescrypt hash): "
                           "left out", path, line);
    }
    ptc_buf_wipe(&b);
    return 0;
}

int ptc_users_save(const char *path, const ptc_users *u, ptc_diag *diag)
{
    ptc_buf b = PTC_BUF_INIT;
    for (size_t i = 0; i < u->n; i++)
        ptc_buf_printf(&b, "%s:%s:%s\n", u->v[i].name, ptc_role_name(u->v[i].role), u->v[i].hash);
    int rc = ptc_write_file_atomic(path, b.data ? b.data : "", b.len, 0600);
    if (rc != 0) ptc_diag_plain(diag, PTC_ERROR, "users", "cannot write %s: %s", path, strerror(errno));
    ptc_buf_free(&b);
    return rc;
}

void ptc_users_free(ptc_users *u)
{
    if (!u) return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].name);
        free(u->v[i].hash);
    }
    free(u->v);
    memset(u, 0, sizeof *u);
}

const ptc_user *ptc_users_find(const ptc_users *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->v[i].name, name) == 0) return &u->v[i];
    return NULL;
}

/* yescrypt with libxcrypt's default cost, salt from the kernel. */
static char *hash_password(const char *password)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt)) return NULL;
    struct crypt_data *cd = ptc_xcalloc(1, sizeof *cd);
    const char *h = crypt_r(password, salt, cd);
    char *out = h && hash_ok(h) ? ptc_xstrdup(h) : NULL;
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return out;
}

int ptc_users_set(ptc_users *u, const char *name, ptc_role role, const char *password)
{
    char *h = hash_password(password);
    if (!h) return -1;
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->v[i].name, name) != 0) continue;
        free(u->v[i].hash);
        u->v[i].hash = h;
        u->v[i].role = role;
        return 0;
    }
    add(u, name, role, h);
    free(h);
    return 0;
}

int ptc_users_delete(ptc_users *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->v[i].name, name) != 0) continue;
        free(u->v[i].name);
        free(u->v[i].hash);
        memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof *u->v);
        u->n--;
        return 0;
    }
    return -1;
}

/* Compares without stopping at the first difference. */
static int same(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    unsigned char d = n != m;
    for (size_t i = 0; i < n && i < m; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

const ptc_user *ptc_users_check(const ptc_users *u, const char *name, const char *password)
{
    /* A fixed valid hash stands in for an unknown user. */
    static const char decoy[] = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7";
    const ptc_user *who = ptc_users_find(u, name);
    struct crypt_data *cd = ptc_xcalloc(1, sizeof *cd);
    const char *want = who ? who->hash : decoy;
    const char *h = crypt_r(password, want, cd);
    int ok = who && h && h[0] == '$' && same(h, want);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok ? who : NULL;
}

void ptc_users_copy(ptc_users *to, const ptc_users *from)
{
    for (size_t i = 0; i < from->n; i++) add(to, from->v[i].name, from->v[i].role, from->v[i].hash);
}
