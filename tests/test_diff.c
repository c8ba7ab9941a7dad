/* ptc_diff_unified (src/run/diff.c) as a specification: the exact text
 * GNU `diff -u --label old --label new` prints for the same inputs (each
 * expected text below was produced by it), and for random inputs a script
 * that is shortest (checked against a longest common subsequence) and
 * that turns the old text into the new one when applied. */
#include "testutil.h"
#include "ptc/diff.h"

static char *diff_of(const char *a, const char *b, unsigned max, int *rc)
{
    ptc_buf out = PTC_BUF_INIT;
    *rc = ptc_diff_unified(a, strlen(a), b, strlen(b), "old", "new", max, &out);
    ptc_buf_putc(&out, '\0');
    return out.data;
}

static void expect(const char *a, const char *b, const char *want)
{
    int rc;
    char *got = diff_of(a, b, 1000, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(equal_texts_give_nothing)
{
    expect("", "", "");
    expect("a\nb\n", "a\nb\n", "");
}
END_TEST

START_TEST(two_hunks_with_three_lines_of_context)
{
    expect("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
           "1\ntwo\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n16\n17\n18\n19\n20\nx\n",
           "--- old\n+++ new\n"
           "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
           "@@ -12,9 +12,9 @@\n 12\n 13\n 14\n-15\n 16\n 17\n 18\n 19\n 20\n+x\n");
}
END_TEST

START_TEST(changes_six_lines_apart_share_a_hunk)
{
    expect("1\n2\n3\n4\n5\n6\n7\n8\n", "one\n2\n3\n4\n5\n6\n7\neight\n",
           "--- old\n+++ new\n@@ -1,8 +1,8 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+eight\n");
}
END_TEST

START_TEST(a_missing_last_newline_is_marked)
{
    expect("a\nb", "a\nc",
           "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
           "+c\n\\ No newline at end of file\n");
}
END_TEST

START_TEST(an_empty_side_names_line_zero)
{
    expect("", "x\ny\n", "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+x\n+y\n");
    expect("x\ny\n", "", "--- old\n+++ new\n@@ -1,2 +0,0 @@\n-x\n-y\n");
}
END_TEST

START_TEST(too_many_changes_are_summarised)
{
    int rc;
    char *got = diff_of("a\nb\nc\n", "x\ny\nz\n", 3, &rc);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(got, "--- old\n+++ new\n@@ too many changes to show (3 lines -> 3 lines) @@\n");
    free(got);
    got = diff_of("a\nb\nc\n", "x\ny\nz\n", 6, &rc);
    ck_assert_int_eq(rc, 0);
    free(got);
}
END_TEST

/* ---- random texts ---------------------------------------------------------------- */

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) % n;
}

/* Lines from a small alphabet, so that many are equal. */
static char *random_text(unsigned lines)
{
    ptc_buf b = PTC_BUF_INIT;
    for (unsigned i = 0; i < lines; i++) ptc_buf_printf(&b, "%c\n", 'a' + rnd(4));
    ptc_buf_putc(&b, '\0');
    return b.data;
}

static unsigned lcs(const char *a, const char *b)
{
    size_t n = strlen(a) / 2, m = strlen(b) / 2;
    unsigned *T = calloc((n + 1) * (m + 1), sizeof *T);
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++)
            T[i * (m + 1) + j] = a[2 * (i - 1)] == b[2 * (j - 1)] ? T[(i - 1) * (m + 1) + j - 1] + 1
                               : T[(i - 1) * (m + 1) + j] > T[i * (m + 1) + j - 1] ? T[(i - 1) * (m + 1) + j]
                               : T[i * (m + 1) + j - 1];
    unsigned r = T[n * (m + 1) + m];
    free(T);
    return r;
}

/* Applies the hunks to a: checks every context and removed line against
 * it, returns the result. */
static char *apply(const char *a, const char *diff, unsigned *changes)
{
    ptc_buf out = PTC_BUF_INIT;
    const char *ap = a, *d = strstr(diff, "@@");
    *changes = 0;
    while (d && *d) {
        unsigned as, bs;
        ck_assert_int_ge(sscanf(d, "@@ -%u%*[^+]+%u", &as, &bs), 1);
        unsigned at = (unsigned)(ap - a) / 2 + 1;
        for (; at < as; at++, ap += 2) ptc_buf_put(&out, ap, 2);
        d = strchr(d, '\n') + 1;
        while (*d && *d != '@') {
            if (*d == '+') ptc_buf_put(&out, d + 1, 2), ++*changes;
            else {
                ck_assert_int_eq(ap[0], d[1]);
                if (*d == ' ') ptc_buf_put(&out, ap, 2);
                else ++*changes;
                ap += 2;
            }
            d += 3;
        }
    }
    ptc_buf_puts(&out, ap);
    ptc_buf_putc(&out, '\0');
    return out.data;
}

START_TEST(random_scripts_are_shortest_and_apply)
{
    for (int round = 0; round < 400; round++) {
        char *a = random_text(rnd(40)), *b = random_text(rnd(40));
        int rc;
        char *d = diff_of(a, b, 1000, &rc);
        ck_assert_int_eq(rc, 0);
        unsigned changes;
        char *got = apply(a, d, &changes);
        ck_assert_str_eq(got, b);
        ck_assert_uint_eq(changes, strlen(a) / 2 + strlen(b) / 2 - 2 * lcs(a, b));
        free(got);
        free(d);
        free(a);
        free(b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diff");
    TCase *tc = tcase_create("unified");
    tcase_add_test(tc, equal_texts_give_nothing);
    tcase_add_test(tc, two_hunks_with_three_lines_of_context);
    tcase_add_test(tc, changes_six_lines_apart_share_a_hunk);
    tcase_add_test(tc, a_missing_last_newline_is_marked);
    tcase_add_test(tc, an_empty_side_names_line_zero);
    tcase_add_test(tc, too_many_changes_are_summarised);
    tcase_add_test(tc, random_scripts_are_shortest_and_apply);
    suite_add_tcase(s, tc);
    return ptc_test_run(s);
}
