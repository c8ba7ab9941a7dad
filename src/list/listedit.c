/* Editing phone lists in place (include/ptc/listedit.h). */
#include "ptc/listedit.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

void ptc_list_password(char out[17])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char r[12];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) abort();             /* no entropy: never write a weak secret */
        got += (size_t)n;
    }
    for (int i = 0; i < 4; i++) {
        uint32_t v = (uint32_t)r[i * 3] << 16 | (uint32_t)r[i * 3 + 1] << 8 | r[i * 3 + 2];
        for (int k = 0; k < 4; k++) out[i * 4 + k] = b64[(v >> (18 - 6 * k)) & 63];
    }
    out[16] = '\0';
}

int ptc_list_rewrite(const char *path, const char *data, size_t len, ptc_diag *diag)
{
    struct stat st;
    int rc = 0;
    /* A symlinked list: rewrite its target, not the link (a rename over the
     * link would leave the real list as it was). */
    char *real = realpath(path, NULL);
    const char *target = real ? real : path;
    if (stat(target, &st) != 0 || ptc_write_file_atomic(target, data, len, st.st_mode & 07777) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot rewrite %s: %s", path, strerror(errno));
        rc = -1;
    } else if (geteuid() == 0 && chown(target, st.st_uid, st.st_gid) != 0) {
        ptc_diag_plain(diag, PTC_WARNING, "io", "cannot keep the owner of %s: %s", path, strerror(errno));
    }
    free(real);
    return rc;
}
