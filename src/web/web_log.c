/* The admin log of ptc web: an append-only file (0600), one JSON object a
 * line: time, user, address, action, the MACs touched.  Never a password,
 * a session or a CSRF token: only those four fields are ever written. */
#include "web_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void web_log(wreq *r, const char *action, json_t *macs)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "time", when, "user", r->s.user[0] ? r->s.user : "-",
                          "addr", r->addr, "action", action);
    if (macs) json_object_set_new(j, "macs", macs);
    char *line = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!line) return;
    size_t n = strlen(line);
    line[n] = '\n';                     /* json_dumps leaves room: n + 1 bytes, NUL last */
    pthread_mutex_lock(&r->W->log_mu);
    int fd = open(r->W->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, line, n + 1) < 0) { /* a full disk loses a log line, not the request */ }
        close(fd);
    }
    pthread_mutex_unlock(&r->W->log_mu);
    free(line);
}
