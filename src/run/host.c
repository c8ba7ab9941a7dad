/* What ptc asks of the host: the SIP server's address, and Asterisk's
 * reload (include/ptc/host.h). */
#include "ptc/host.h"
#include "ptc/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *ptc_host_ipv4_of(const char *ifname)
{
    struct ifaddrs *ifs, *i;
    char *found = NULL;
    if (!ifname || !*ifname || getifaddrs(&ifs) != 0) return NULL;
    for (i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, ifname)) continue;
        char buf[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf))
            found = ptc_xstrdup(buf);
    }
    freeifaddrs(ifs);
    return found;
}

/* -i INTIF..INT4IF take INTIP..INT4IP from the configuration, EXTIF and real
 * interface names their address; PHONEPROV_GW_IP overrides both. */
char *ptc_host_sip_ipv4(const ptc_cfg *cfg, const char *if_name, ptc_diag *diag)
{
    static const char *const names[][2] = {
        {"INTIF", "INTIP"}, {"INT2IF", "INT2IP"}, {"INT3IF", "INT3IP"}, {"INT4IF", "INT4IP"},
    };
    const char *gw = ptc_cfg_get(cfg, "PHONEPROV_GW_IP");
    if (gw && *gw) return ptc_xstrdup(gw);
    if (!if_name || !*if_name) if_name = ptc_cfg_get_or(cfg, "PHONEPROV_GW_IF", "INTIF");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(if_name, names[i][0])) continue;
        const char *ip = ptc_cfg_get(cfg, names[i][1]);
        if (ip && *ip) return ptc_xstrdup(ip);
        ptc_diag_plain(diag, PTC_ERROR, "interface", "invalid interface %s: %s is not set in %s; "
                       "set it, or name another interface with -i", if_name, names[i][1], cfg->rc_path);
        return NULL;
    }
    const char *dev = strcmp(if_name, "EXTIF") == 0 ? ptc_cfg_get(cfg, "EXTIF") : if_name;
    char *ip = ptc_host_ipv4_of(dev);
    if (!ip)
        ptc_diag_plain(diag, PTC_ERROR, "interface", "invalid interface %s: %s has no IPv4 address; "
                       "name another interface with -i, or set PHONEPROV_GW_IP",
                       if_name, dev && *dev ? dev : "(unset)");
    return ip;
}

/* The interfaces a phone's SIP server may be on: rc.conf's INTIF..INT4IF
 * with their INTxIP, EXTIF, then every interface with an IPv4 address. */
size_t ptc_host_interfaces(const ptc_cfg *cfg, ptc_host_if *out, size_t max)
{
    static const char *const names[][2] = {
        {"INTIF", "INTIP"}, {"INT2IF", "INT2IP"}, {"INT3IF", "INT3IP"}, {"INT4IF", "INT4IP"},
    };
    size_t n = 0;
    for (size_t i = 0; i < 4 && n < max; i++) {
        const char *dev = ptc_cfg_get(cfg, names[i][0]), *ip = ptc_cfg_get(cfg, names[i][1]);
        if ((dev && *dev) || (ip && *ip))
            out[n++] = (ptc_host_if){ptc_xstrdup(names[i][0]), ptc_xstrdup(dev ? dev : ""), ptc_xstrdup(ip ? ip : "")};
    }
    const char *ext = ptc_cfg_get(cfg, "EXTIF");
    if (ext && *ext && n < max) {
        char *ip = ptc_host_ipv4_of(ext);
        out[n++] = (ptc_host_if){ptc_xstrdup("EXTIF"), ptc_xstrdup(ext), ip ? ip : ptc_xstrdup("")};
    }
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) return n;
    for (struct ifaddrs *i = ifs; i && n < max; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        char buf[INET_ADDRSTRLEN];
        if (!inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf)) continue;
        out[n++] = (ptc_host_if){ptc_xstrdup(i->ifa_name), ptc_xstrdup(i->ifa_name), ptc_xstrdup(buf)};
    }
    freeifaddrs(ifs);
    return n;
}

void ptc_host_interfaces_free(ptc_host_if *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].device);
        free(v[i].address);
    }
}

int ptc_host_spawn(char *const argv[], int quiet)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = quiet ? open("/dev/null", O_WRONLY) : -1;
        if (null >= 0) dup2(null, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ptc_host_reload_asterisk(const ptc_cfg *cfg, ptc_diag *diag)
{
    char *script = ptc_cfg_path(cfg, PTC_RELOAD_SCRIPT);
    if (access(script, X_OK) == 0) {
        char *argv[] = {script, NULL};
        int rc = ptc_host_spawn(argv, 0);
        if (rc != 0) ptc_diag_plain(diag, PTC_WARNING, "reload", "%s failed (status %d)", script, rc);
    } else {
        char *dp[] = {"asterisk", "-rx", "dialplan reload", NULL};
        char *sip[] = {"asterisk", "-rx", "sip reload", NULL};
        int rc = ptc_host_spawn(dp, 1);
        int rc2 = ptc_host_spawn(sip, 1);
        if (rc != 0 || rc2 != 0)
            ptc_diag_plain(diag, PTC_WARNING, "reload", "asterisk reload failed (status %d, %d)", rc, rc2);
    }
    free(script);
}
