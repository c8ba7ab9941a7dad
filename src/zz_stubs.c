/* Temporary: commands not written yet. */
#include "ptc/cmd.h"
__attribute__((weak)) int ptc_cmd_run(int c, char **v) { (void)c; (void)v; return 1; }
__attribute__((weak)) int ptc_cmd_lint(int c, char **v) { (void)c; (void)v; return 1; }
__attribute__((weak)) int ptc_cmd_serve(int c, char **v) { (void)c; (void)v; return 1; }
__attribute__((weak)) int ptc_cmd_status(int c, char **v) { (void)c; (void)v; return 1; }
