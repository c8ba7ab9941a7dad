/* Helpers shared by the Check suites. */
#ifndef PTC_TESTUTIL_H
#define PTC_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a suite and returns the process exit status. */
static inline int ptc_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Exact byte comparison with a readable failure message. */
#define ck_assert_mem_str(got, gotlen, want) do {                              \
        const char *w_ = (want);                                              \
        size_t wl_ = strlen(w_);                                              \
        ck_assert_msg((gotlen) == wl_ && memcmp((got), w_, wl_) == 0,          \
                      "got [%.*s] want [%s]", (int)(gotlen), (got), w_);       \
    } while (0)

#endif
