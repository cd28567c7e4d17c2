/*
 * test-base.c: the base module's small helpers: vast__error_set, the one
 * filler of a caller's vast_error (lib/base/error.h).
 */
#include <string.h>

#include "base/error.h"
#include "harness.h"
#include "vastrack.h"

TEST(error_set_fills_and_returns_code) {
  vast_error e;
  memset(&e, 0x5a, sizeof e); /* stale line, column, offset: all cleared */
  CHECK_INT(vast__error_set(&e, VAST_E_URL, 301, "'%s' is not an http(s) URL (%d)", "x", 7),
            VAST_E_URL);
  CHECK_INT(e.code, VAST_E_URL);
  CHECK_INT(e.iab_code, 301);
  CHECK_INT(e.line, 0);
  CHECK_INT(e.column, 0);
  CHECK_INT(e.offset, 0);
  CHECK_STR(e.message, "'x' is not an http(s) URL (7)");
}

TEST(error_set_accepts_null_and_truncates) {
  CHECK_INT(vast__error_set(NULL, VAST_E_IO, 0, "%s", "no one listens"), VAST_E_IO);
  char big[1000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  vast_error e;
  CHECK_INT(vast__error_set(&e, VAST_E_INVAL, 0, "%s!", big), VAST_E_INVAL);
  CHECK_INT(strlen(e.message), sizeof e.message - 1);
  CHECK(e.message[0] == 'a' && e.message[sizeof e.message - 2] == 'a');
}

static const th_case cases[] = {
    TH(error_set_fills_and_returns_code),
    TH(error_set_accepts_null_and_truncates),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
