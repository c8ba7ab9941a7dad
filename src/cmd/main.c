/* ptc: the phone template compiler.  Dispatches to a command. */
#include "ptc/cmd.h"
#include "ptc/bc.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *synopsis;
} commands[] = {
    {"run",     ptc_cmd_run,     "generate every file for a phone list (massdeployment.conf)"},
    {"compile", ptc_cmd_compile, "compile templates into the bytecode cache"},
    {"lint",    ptc_cmd_lint,    "check templates and phone lists, write nothing"},
    {"disasm",  ptc_cmd_disasm,  "print a template's bytecode"},
    {"serve",   ptc_cmd_serve,   "serve provisioning files over HTTP/HTTPS"},
    {"status",  ptc_cmd_status,  "list phones and their last provisioning fetch"},
    {"recover", ptc_cmd_recover, "finish a run that stopped after its commit point"},
    {"notify",  ptc_cmd_notify,  "make phones resync or reboot through Asterisk (SIP NOTIFY)"},
    {"export",  ptc_cmd_export,  "write a phone list as CSV, JSON or phone-list lines"},
    {"import",  ptc_cmd_import,  "merge phones from CSV or phone lists into a phone list"},
    {"web",     ptc_cmd_web,     "the administrator's web interface and its JSON API"},
    {"passwd",  ptc_cmd_passwd,  "add a web interface account or change its password"},
    {"dhcp",    ptc_cmd_dhcp,    "write DHCP option 66 config (dnsmasq, ISC dhcpd, Kea) for a phone list"},
};

static void usage(FILE *f)
{
    fputs("Usage: ptc COMMAND [options...]\n\nCommands:\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].synopsis);
    fputs("\nRun 'ptc COMMAND --help' for a command's options; see ptc(1).\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return PTC_EXIT_USAGE; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("ptc %s (bytecode format %u)\n", PTC_VERSION_STRING, PTC_BC_FORMAT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "ptc: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return PTC_EXIT_USAGE;
}
