#!/bin/sh
# embed.sh: turns the files of the web pages (web/*) into a C header holding
# each file as a byte array and a table of {URL path, content type, bytes, length},
# so the pages are built into libvastrack (no external assets, no xxd needed).
#   sh tools/embed.sh web/index.html web/inspect.html ... > web-assets.h
# URL paths: index.html -> "/", NAME.html -> "/NAME", anything else -> "/NAME".
set -eu
i=0
for f in "$@"; do
  echo "static const unsigned char web_asset_$i[] = {"
  od -An -v -tx1 "$f" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^ *//'
  echo "};"
  i=$((i + 1))
done
echo "static const struct web_asset {"
echo "  const char *path, *ctype;"
echo "  const unsigned char *data;"
echo "  size_t len;"
echo "} web_assets[] = {"
i=0
for f in "$@"; do
  name=$(basename "$f")
  case "$name" in
    index.html) path=/ ;;
    *.html) path=/${name%.html} ;;
    *) path=/$name ;;
  esac
  case "$name" in
    *.html) ctype="text/html; charset=utf-8" ;;
    *.css) ctype="text/css; charset=utf-8" ;;
    *.js) ctype="text/javascript; charset=utf-8" ;;
    *.svg) ctype="image/svg+xml" ;;
    *) ctype="application/octet-stream" ;;
  esac
  echo "  {\"$path\", \"$ctype\", web_asset_$i, sizeof web_asset_$i},"
  i=$((i + 1))
done
echo "};"
