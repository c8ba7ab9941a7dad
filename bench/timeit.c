/* bench/timeit: run a command, report its wall time and peak RSS.
 *
 *   timeit COMMAND [ARGS...]
 *
 * Prints one line on fd 3 if it is open, else on stdout:
 *     wall_us maxrss_kib user_us sys_us exit_status
 * and exits with the command's status (128+signal if it was killed).
 * The command's own stdout and stderr pass through untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long us_of(struct timeval tv) { return (long long)tv.tv_sec * 1000000 + tv.tv_usec; }

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: timeit COMMAND [ARGS...]\n"); return 64; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("timeit: fork"); return 70; }
    if (pid == 0) {
        if (fcntl(3, F_GETFD) != -1) close(3);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "timeit: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) { perror("timeit: wait4"); return 70; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long wall = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *out = fcntl(3, F_GETFD) != -1 ? fdopen(3, "w") : stdout;
    fprintf(out ? out : stdout, "%lld %ld %lld %lld %d\n", wall, ru.ru_maxrss,
            us_of(ru.ru_utime), us_of(ru.ru_stime), rc);
    return rc;
}
