/* ptc notify's two ways to Asterisk.
 *
 * CLI: `asterisk -rx "pjsip send notify OPTION endpoint ACCOUNT"` (chan_pjsip)
 * or `asterisk -rx "sip notify OPTION ACCOUNT"` (chan_sip).  asterisk -rx
 * exits 0 whatever happened, so its output is read: both modules print
 * "Sending NOTIFY of type ..." first and an "Unable to ..." line (or
 * "Unknown notify type") when it fails.
 *
 * AMI: one TCP connection: the banner, Login, then per phone PJSIPNotify
 * (Endpoint, and Option or Variable: Event=...) or SIPnotify (Channel,
 * Variable), each answered by a Response with our ActionID; Logoff.  Events
 * Asterisk sends in between are skipped.  Every read waits at most
 * AMI_TIMEOUT_MS; the secret never leaves this file but on the socket. */
#include "ptc/notify.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLI_TIMEOUT_MS 10000
#define AMI_TIMEOUT_MS 5000
#define OUT_MAX        4096     /* what we keep of asterisk's answer */

/* ---- results ------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    ptc_json_fput(f, s, strlen(s));
}

static void report(const ptc_notify_opts *o, const ptc_notify_phone *p, const char *what, int ok,
                   const char *detail)
{
    const char *action = o->reboot ? "reboot" : "reload";
    if (!o->json) {
        fprintf(o->out, "%s %s %s: %s%s\n", p->mac_text, p->account, action,
                o->dry_run ? "would send " : ok ? "sent " : "error: ", ok || o->dry_run ? what : detail);
        return;
    }
    fputs("{\"mac\":", o->out); json_str(o->out, p->mac_text);
    fputs(",\"account\":", o->out); json_str(o->out, p->account);
    fprintf(o->out, ",\"action\":\"%s\",\"via\":\"%s\",\"driver\":", action, o->via == PTC_NOTIFY_AMI ? "ami" : "cli");
    json_str(o->out, p->driver);
    fputs(",\"request\":", o->out); json_str(o->out, what);
    fprintf(o->out, ",\"%s\":%s", o->dry_run ? "dry_run" : "sent", o->dry_run || ok ? "true" : "false");
    if (!ok && !o->dry_run) { fputs(",\"error\":", o->out); json_str(o->out, detail ? detail : ""); }
    fputs("}\n", o->out);
}

/* The first line of text that says what went wrong. */
static void first_line(const char *s, char *out, size_t n)
{
    while (*s == '\n' || *s == '\r' || *s == ' ') s++;
    size_t k = strcspn(s, "\r\n");
    snprintf(out, n, "%.*s", (int)(k < n ? k : n - 1), *s ? s : "no answer");
}

/* ---- CLI ----------------------------------------------------------------- */

static void cli_command(const ptc_notify_phone *p, ptc_buf *cmd)
{
    ptc_buf_reset(cmd);
    if (strcmp(p->driver, "pjsip") == 0) ptc_buf_printf(cmd, "pjsip send notify %s endpoint %s", p->option, p->account);
    else ptc_buf_printf(cmd, "sip notify %s %s", p->option, p->account);
}

/* Runs asterisk -rx cmd; its output (stdout and stderr) in out.  0, or -1
 * when it could not run or took too long. */
static int run_rx(const char *asterisk, const char *cmd, ptc_buf *out)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return -1; }
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execlp(asterisk, asterisk, "-rx", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char buf[1024];
    int rc = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = CLI_TIMEOUT_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) { kill(pid, SIGKILL); rc = -1; break; }
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        if (out->len < OUT_MAX) ptc_buf_put(out, buf, (size_t)n);
    }
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127) rc = -1;
    return rc;
}

static int cli_send(const ptc_notify_opts *o, const ptc_notify_phone *p)
{
    ptc_buf cmd = PTC_BUF_INIT, out = PTC_BUF_INIT;
    cli_command(p, &cmd);
    ptc_buf what = PTC_BUF_INIT;
    ptc_buf_printf(&what, "asterisk -rx \"%s\"", ptc_buf_cstr(&cmd));
    int ok = 1;
    char detail[256] = "";
    if (!o->dry_run) {
        const char *ast = o->asterisk ? o->asterisk : "asterisk";
        int rc = run_rx(ast, ptc_buf_cstr(&cmd), &out);
        const char *text = ptc_buf_cstr(&out);
        const char *bad = strstr(text, "Unable to");
        if (!bad) bad = strstr(text, "Unknown notify type");
        if (!bad) bad = strstr(text, "Could not");
        ok = rc == 0 && strstr(text, "Sending NOTIFY") && !bad;
        if (rc != 0) snprintf(detail, sizeof detail, "could not run %s (or it took over %d s)", ast,
                              CLI_TIMEOUT_MS / 1000);
        else if (!ok) first_line(bad ? bad : text, detail, sizeof detail);
    }
    report(o, p, ptc_buf_cstr(&what), ok, detail);
    ptc_buf_free(&cmd);
    ptc_buf_free(&out);
    ptc_buf_free(&what);
    return ok ? 0 : 1;
}

/* ---- AMI ----------------------------------------------------------------- */

typedef struct ami {
    int fd;
    ptc_buf in;                 /* read, not yet taken */
    unsigned next_id;
} ami;

/* One message (up to its empty line) into msg; 0, or -1 on timeout, a
 * closed connection or a message past 64 KiB. */
static int ami_read(ami *a, ptc_buf *msg)
{
    for (;;) {
        const char *s = ptc_buf_cstr(&a->in);
        const char *end = strstr(s, "\r\n\r\n");
        if (end) {
            size_t n = (size_t)(end - s) + 4;
            ptc_buf_reset(msg);
            ptc_buf_put(msg, s, n);
            memmove(a->in.data, a->in.data + n, a->in.len - n);
            a->in.len -= n;
            return 0;
        }
        if (a->in.len > 65536) return -1;
        struct pollfd pfd = {a->fd, POLLIN, 0};
        if (poll(&pfd, 1, AMI_TIMEOUT_MS) <= 0) return -1;
        char buf[4096];
        ssize_t k = recv(a->fd, buf, sizeof buf, 0);
        if (k <= 0) return -1;
        ptc_buf_put(&a->in, buf, (size_t)k);
    }
}

/* The value of header name in msg (static buffer), or NULL. */
static const char *ami_header(const ptc_buf *msg, const char *name)
{
    static _Thread_local char val[512];
    size_t nl = strlen(name);
    for (const char *p = msg->data; p && p < msg->data + msg->len; p = strstr(p, "\r\n"), p = p ? p + 2 : p) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            size_t k = strcspn(v, "\r\n");
            snprintf(val, sizeof val, "%.*s", (int)(k < sizeof val ? k : sizeof val - 1), v);
            return val;
        }
    }
    return NULL;
}

/* All of p on the socket, never raising SIGPIPE when the peer is gone. */
static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Sends action (its lines, no ActionID, no final empty line) and waits for
 * the Response carrying our ActionID.  1 Success, 0 Error (*message set),
 * -1 the connection failed. */
static int ami_action(ami *a, const char *action, char *message, size_t n)
{
    char id[32];
    snprintf(id, sizeof id, "ptc-%u", ++a->next_id);
    ptc_buf req = PTC_BUF_INIT, msg = PTC_BUF_INIT;
    ptc_buf_printf(&req, "%sActionID: %s\r\n\r\n", action, id);
    int rc = send_all(a->fd, req.data, req.len) == 0 ? -2 : -1;
    while (rc == -2) {
        if (ami_read(a, &msg) != 0) { rc = -1; break; }
        const char *r = ami_header(&msg, "Response");
        if (!r) continue;                       /* an Event */
        char resp[32];
        snprintf(resp, sizeof resp, "%s", r);   /* ami_header's buffer is reused */
        const char *got = ami_header(&msg, "ActionID");
        if (got && strcmp(got, id) != 0) continue;
        const char *m = ami_header(&msg, "Message");
        snprintf(message, n, "%s", m ? m : resp);
        rc = strcasecmp(resp, "Success") == 0 ? 1 : 0;
    }
    explicit_bzero(req.data, req.cap);      /* the Login holds the secret */
    ptc_buf_free(&req);
    ptc_buf_free(&msg);
    return rc;
}

/* user= and secret= from a file only its owner may read. */
static int read_secret(const char *path, char *user, size_t un, char *secret, size_t sn, ptc_diag *diag)
{
    struct stat st;
    ptc_buf b = PTC_BUF_INIT;
    int rc = -1;
    if (!path || stat(path, &st) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "notify", "--ami needs --ami-secret-file: %s", path ? strerror(errno) : "none given");
        return -1;
    }
    if (st.st_mode & 077) {
        ptc_diag_plain(diag, PTC_ERROR, "notify", "%s is readable by others: chmod 0600 it", path);
        return -1;
    }
    user[0] = secret[0] = '\0';
    if (ptc_read_file(path, &b) == 0) {
        for (const char *s = ptc_buf_cstr(&b); *s;) {
            size_t k = strcspn(s, "\r\n");
            if (k > 5 && strncmp(s, "user=", 5) == 0) snprintf(user, un, "%.*s", (int)(k - 5), s + 5);
            if (k > 7 && strncmp(s, "secret=", 7) == 0) snprintf(secret, sn, "%.*s", (int)(k - 7), s + 7);
            s += k;
            while (*s == '\r' || *s == '\n') s++;
        }
        rc = user[0] && secret[0] ? 0 : -1;
    }
    if (b.data) explicit_bzero(b.data, b.cap);
    ptc_buf_free(&b);
    if (rc) ptc_diag_plain(diag, PTC_ERROR, "notify", "%s: want lines user=NAME and secret=SECRET", path);
    return rc;
}

static int ami_connect(const char *addr, ptc_diag *diag)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host) {
        ptc_diag_plain(diag, PTC_ERROR, "notify", "--ami wants HOST:PORT, got '%s'", addr);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int fd = -1;
    if (getaddrinfo(host, colon + 1, &hints, &res) == 0) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct timeval tv = {AMI_TIMEOUT_MS / 1000, 0};
            if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) { close(fd); fd = -1; }
        }
        freeaddrinfo(res);
    }
    if (fd < 0) ptc_diag_plain(diag, PTC_ERROR, "notify", "cannot connect to the Manager at %s: %s", addr, strerror(errno));
    return fd;
}

/* Connects and logs in: 0, or -1 (reported). */
static int ami_open(ami *a, const ptc_notify_opts *o, ptc_diag *diag)
{
    char user[128], secret[256], msg[256];
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (read_secret(o->ami_secret_file, user, sizeof user, secret, sizeof secret, diag) != 0) return -1;
    int rc = -1;
    if ((a->fd = ami_connect(o->ami_addr, diag)) < 0) goto done;
    struct pollfd pfd = {a->fd, POLLIN, 0};
    char banner[256];
    ssize_t n = poll(&pfd, 1, AMI_TIMEOUT_MS) == 1 ? recv(a->fd, banner, sizeof banner - 1, 0) : -1;
    if (n <= 0 || strncmp(banner, "Asterisk Call Manager", 21) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "notify", "%s does not speak the Asterisk Manager protocol", o->ami_addr);
        goto done;
    }
    char *eol = memchr(banner, '\n', (size_t)n);
    if (eol && eol + 1 < banner + n) ptc_buf_put(&a->in, eol + 1, (size_t)(banner + n - eol - 1));
    ptc_buf login = PTC_BUF_INIT;
    ptc_buf_printf(&login, "Action: Login\r\nUsername: %s\r\nSecret: %s\r\nEvents: off\r\n", user, secret);
    int r = ami_action(a, ptc_buf_cstr(&login), msg, sizeof msg);
    explicit_bzero(login.data, login.cap);
    ptc_buf_free(&login);
    if (r != 1) {
        ptc_diag_plain(diag, PTC_ERROR, "notify", "Manager login at %s failed: %s", o->ami_addr,
                       r == 0 ? msg : "connection lost");
        goto done;
    }
    rc = 0;
done:
    explicit_bzero(secret, sizeof secret);
    if (rc != 0) {
        if (a->fd >= 0) close(a->fd);
        a->fd = -1;
        ptc_buf_free(&a->in);
    }
    return rc;
}

static void ami_close(ami *a)
{
    char msg[64];
    if (a->fd >= 0) {
        ami_action(a, "Action: Logoff\r\n", msg, sizeof msg);
        close(a->fd);
    }
    ptc_buf_free(&a->in);
}

static void ami_request(const ptc_notify_phone *p, ptc_buf *req)
{
    ptc_buf_reset(req);
    if (strcmp(p->driver, "pjsip") == 0) ptc_buf_printf(req, "Action: PJSIPNotify\r\nEndpoint: %s\r\n", p->account);
    else ptc_buf_printf(req, "Action: SIPnotify\r\nChannel: SIP/%s\r\n", p->account);
    if (p->option) ptc_buf_printf(req, "Option: %s\r\n", p->option);
    else ptc_buf_printf(req, "Variable: Event=%s\r\n", p->event);
}

static int ami_send(ami *a, const ptc_notify_opts *o, const ptc_notify_phone *p)
{
    ptc_buf req = PTC_BUF_INIT, what = PTC_BUF_INIT;
    ami_request(p, &req);
    for (const char *s = ptc_buf_cstr(&req); *s;) {     /* one line: "Action: X, Endpoint: Y, ..." */
        size_t k = strcspn(s, "\r\n");
        ptc_buf_printf(&what, "%s%.*s", what.len ? ", " : "", (int)k, s);
        s += k;
        while (*s == '\r' || *s == '\n') s++;
    }
    char msg[256] = "";
    int ok = 1;
    if (!o->dry_run) {
        int r = a->fd >= 0 ? ami_action(a, ptc_buf_cstr(&req), msg, sizeof msg) : -1;
        if (r < 0 && a->fd >= 0) { close(a->fd); a->fd = -1; }
        if (r < 0) snprintf(msg, sizeof msg, "connection to the Manager lost");
        ok = r == 1;
    }
    report(o, p, ptc_buf_cstr(&what), ok, msg);
    ptc_buf_free(&req);
    ptc_buf_free(&what);
    return ok ? 0 : 1;
}

/* ---- the loop --------------------------------------------------------------- */

static void pace(double rate, struct timespec *next)
{
    if (rate <= 0) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (next->tv_sec || next->tv_nsec) {
        long wait_ns = (next->tv_sec - now.tv_sec) * 1000000000L + (next->tv_nsec - now.tv_nsec);
        if (wait_ns > 0) {
            struct timespec w = {wait_ns / 1000000000L, wait_ns % 1000000000L};
            while (nanosleep(&w, &w) != 0 && errno == EINTR) {}
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    }
    long step = (long)(1e9 / rate);
    next->tv_sec = now.tv_sec + step / 1000000000L;
    next->tv_nsec = now.tv_nsec + step % 1000000000L;
    if (next->tv_nsec >= 1000000000L) { next->tv_sec++; next->tv_nsec -= 1000000000L; }
}

int ptc_notify_send(ptc_notify_set *set, const ptc_notify_opts *o, ptc_diag *diag)
{
    ami a;
    memset(&a, 0, sizeof a);
    a.fd = -1;
    if (o->via == PTC_NOTIFY_AMI && !o->dry_run && ami_open(&a, o, diag) != 0) return -1;
    int failed = 0;
    struct timespec next = {0, 0};
    for (size_t i = 0; i < set->n; i++) {
        const ptc_notify_phone *p = &set->v[i];
        if (!p->selected) continue;
        if (!o->dry_run) pace(o->rate, &next);
        failed += o->via == PTC_NOTIFY_AMI ? ami_send(&a, o, p) : cli_send(o, p);
        fflush(o->out);
    }
    if (o->via == PTC_NOTIFY_AMI) ami_close(&a);
    return failed;
}
