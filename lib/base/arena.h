/*
 * arena.h: the per-document memory pool (internal). Allocations are bump
 * pointers into chained blocks; everything is freed at once by
 * vast__arena_free(). No per-object free.
 */
#ifndef VASTRACK_ARENA_H
#define VASTRACK_ARENA_H

#include <stddef.h>

typedef struct vast__arena_block vast__arena_block;

typedef struct vast__arena {
  vast__arena_block *head;
  char *ptr, *end;
  size_t total; /* bytes obtained from malloc */
  size_t hint;  /* size of the first block; 0 for the default */
  size_t used;  /* bytes handed out */
} vast__arena;

void vast__arena_init(vast__arena *a);
/* Sets the first block's size, e.g. from the input length, so a typical
 * document needs one malloc. Call before the first allocation. */
void vast__arena_hint(vast__arena *a, size_t first_block);
void vast__arena_free(vast__arena *a);
/* n bytes, 8-byte aligned, zeroed; NULL when out of memory. */
void *vast__arena_alloc(vast__arena *a, size_t n);
/* Copy of s[0..n) plus a NUL; NULL when out of memory. */
char *vast__arena_strndup(vast__arena *a, const char *s, size_t n);
/*
 * Appends one zeroed element of `size` bytes to the array *base of *n
 * elements, growing by doubling (capacities 4, 8, 16... are implicit in *n).
 * Returns the new element or NULL when out of memory.
 */
void *vast__arena_push(vast__arena *a, void *base_ptr, size_t *n, size_t size);

#endif
