#!/usr/bin/env bash
# ptc under valgrind memcheck: any leak or error makes the command fail
# with status 99, which the CLI tests report.
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --track-fds=no "${PTC_REAL:?}" "$@"
