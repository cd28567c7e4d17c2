/*
 * web-assets.c: the pages of the web inspector and dashboard, built into the
 * library. The bytes come from the files in web/ through tools/embed.sh, which the
 * Makefile runs into $(B)/gen/web-assets.h; a build without that header (a
 * fuzzer linking the library sources directly) serves no pages.
 */
#include <stddef.h>
#include <string.h>

#include "web/web-int.h"

#if defined(__has_include)
#if __has_include("web-assets.h")
#include "web-assets.h"
#define HAVE_WEB_ASSETS 1
#endif
#endif

int vast__web_asset(const char *path, size_t n, const char **ctype, const unsigned char **data,
                    size_t *len) {
#ifdef HAVE_WEB_ASSETS
  for (size_t i = 0; i < sizeof web_assets / sizeof web_assets[0]; i++)
    if (strlen(web_assets[i].path) == n && memcmp(web_assets[i].path, path, n) == 0) {
      *ctype = web_assets[i].ctype;
      *data = web_assets[i].data;
      *len = web_assets[i].len;
      return 1;
    }
#else
  (void)path;
  (void)n;
  (void)ctype;
  (void)data;
  (void)len;
#endif
  return 0;
}
