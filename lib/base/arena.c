/*
 * arena.c: bump allocator behind every parsed document (see arena.h).
 */
#include "base/arena.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct vast__arena_block {
  vast__arena_block *next;
  size_t size;
  /* data follows, max_align_t aligned */
  _Alignas(16) char data[];
};

enum { ARENA_MIN_BLOCK = 16 * 1024, ARENA_CACHE_MAX = 4 * 1024 * 1024 };

/*
 * One spare block per thread: parsing document after document (a server, an
 * audit of thousands of tags) reuses the last document's first block instead
 * of returning it to malloc, which for large blocks means brk/mmap system calls
 * and page faults on every parse. The spare is freed when the thread exits.
 */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static __thread vast__arena_block *cache_block;

static void cache_destroy(void *b) {
  free(b);
}
static void cache_init(void) {
  pthread_key_create(&cache_key, cache_destroy);
}

static void cache_put(vast__arena_block *b) {
  pthread_once(&cache_once, cache_init);
  if (b->size > ARENA_CACHE_MAX || (cache_block && cache_block->size >= b->size)) {
    free(b);
    return;
  }
  free(cache_block);
  cache_block = b;
  pthread_setspecific(cache_key, b);
}

static vast__arena_block *cache_take(size_t need) {
  vast__arena_block *b = cache_block;
  if (!b || b->size < need) return NULL;
  cache_block = NULL;
  pthread_setspecific(cache_key, NULL);
  return b;
}

void vast__arena_init(vast__arena *a) {
  memset(a, 0, sizeof *a);
}

void vast__arena_hint(vast__arena *a, size_t first_block) {
  a->hint = first_block;
}

void vast__arena_free(vast__arena *a) {
  vast__arena_block *b = a->head;
  while (b) {
    vast__arena_block *n = b->next;
    cache_put(b);
    b = n;
  }
  memset(a, 0, sizeof *a);
}

static int arena_grow(vast__arena *a, size_t need) {
  size_t size = a->total                    ? a->total /* doubles overall */
                : a->hint > ARENA_MIN_BLOCK ? a->hint
                                            : ARENA_MIN_BLOCK;
  if (size < need) size = need;
  vast__arena_block *b = cache_take(size);
  if (b) {
    size = b->size;
  } else {
    b = malloc(sizeof *b + size);
    if (!b) return -1;
    b->size = size;
  }
  b->next = a->head;
  a->head = b;
  a->ptr = b->data;
  a->end = b->data + size;
  a->total += size;
  return 0;
}

void *vast__arena_alloc(vast__arena *a, size_t n) {
  n = (n + 7) & ~(size_t)7;
  if (n == 0) n = 8;
  if ((size_t)(a->end - a->ptr) < n && arena_grow(a, n) != 0) return NULL;
  void *p = a->ptr;
  a->ptr += n;
  a->used += n;
  memset(p, 0, n);
  return p;
}

char *vast__arena_strndup(vast__arena *a, const char *s, size_t n) {
  size_t m = (n + 1 + 7) & ~(size_t)7;
  if ((size_t)(a->end - a->ptr) < m && arena_grow(a, m) != 0) return NULL;
  char *p = a->ptr;
  a->ptr += m;
  a->used += m;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

void *vast__arena_push(vast__arena *a, void *base_ptr, size_t *n, size_t size) {
  char **base = (char **)base_ptr;
  size_t cnt = *n;
  /* Capacity is the smallest power of two >= max(cnt, 4): full when cnt is 4, 8, 16... */
  if (cnt == 0 || (cnt >= 4 && (cnt & (cnt - 1)) == 0)) {
    size_t cap = cnt == 0 ? 4 : cnt * 2;
    char *nb = vast__arena_alloc(a, cap * size);
    if (!nb) return NULL;
    if (cnt) memcpy(nb, *base, cnt * size);
    *base = nb;
  }
  char *el = *base + cnt * size;
  memset(el, 0, size);
  *n = cnt + 1;
  return el;
}
