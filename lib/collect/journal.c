/*
 * journal.c: the collector's per-worker write-ahead journal in front of SQLite.
 *
 * In durable mode with SQLite, a hit is answered once its worker has written
 * it to its journal (one write() per batch of the loop iteration; the same
 * durability class as a WAL commit with synchronous=NORMAL: in the page cache,
 * so it survives a crash of the process; with sync_full also fdatasync). The
 * loader thread then puts the hits into SQLite in big transactions, with the
 * highest loaded seq per worker in journal_state. At start, recovery replays
 * whatever the journals hold above journal_state. Record format and file
 * names: collect-int.h.
 *
 * Rotation: each worker has two files. It appends to one until it passes
 * vast__journal_rotate_bytes, then switches to the other once that one is
 * empty; the idle file is truncated when the loader has loaded its last
 * record. Nothing is ever truncated before it is in SQLite.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/collect-int.h"

size_t vast__journal_rotate_bytes = 32u << 20;

enum { NSTR = 10, HDR = 4 + 4 + 8 + 8 + 4 + 4 * NSTR, REC_MAX = 64 << 20 };
#define NULL_LEN 0xffffffffu

/* ---- crc32c (Castagnoli): SSE4.2 when the CPU has it, else a table ---- */

static uint32_t crc_tab[256];
static int crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_tab[i] = c;
  }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t c, const unsigned char *p,
                                                            size_t n) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
    p += 8;
    n -= 8;
  }
  c = (uint32_t)c64;
  while (n--)
    c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}
#endif

/* Standard crc32c: vast__crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t vast__crc32c(uint32_t crc, const void *data, size_t n) {
  pthread_once(&crc_once, crc_init);
  const unsigned char *p = data;
  uint32_t c = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (crc_hw) return ~crc_sse42(c, p, n);
#endif
  while (n--)
    c = crc_tab[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

/* ---- little-endian fields ---- */

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
  p[3] = (unsigned char)(v >> 24);
}
static void put64(unsigned char *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) {
  return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static const char **hit_field(vast__hit *h, int i) {
  const char **f[NSTR] = {&h->event, &h->ad,        &h->cr,        &h->sid,    &h->ip,
                          &h->ua,    &h->device_ip, &h->device_ua, &h->device, &h->query};
  return f[i];
}

/* ---- the writing side ---- */

struct vast__journal {
  int fd[2];
  uint64_t size[2]; /* bytes in each file */
  uint64_t last[2]; /* highest seq in each file (valid while size > 0) */
  int active;       /* the file appended to */
  uint64_t seq;     /* last seq assigned */
  int sync_full, broken;
  unsigned char *buf;
  size_t cap;
  char *path[2];
};

static void set_msg(char *msg, size_t cap, const char *what, const char *path, int err) {
  if (msg && cap) snprintf(msg, cap, "%s '%s': %s", what, path, strerror(err));
}

static char *file_name(const char *dbfile, unsigned idx, int k) {
  size_t n = strlen(dbfile) + 48;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s-journal-%u.%d", dbfile, idx, k);
  return p;
}

vast_err vast__journal_open(const char *dbfile, unsigned idx, uint64_t next_seq, int sync_full,
                            vast__journal **out, char *msg, size_t msgcap) {
  *out = NULL;
  vast__journal *j = calloc(1, sizeof *j);
  if (!j) return VAST_E_NOMEM;
  j->fd[0] = j->fd[1] = -1;
  j->seq = next_seq ? next_seq - 1 : 0;
  j->sync_full = sync_full;
  for (int k = 0; k < 2; k++) {
    j->path[k] = file_name(dbfile, idx, k);
    if (!j->path[k]) {
      vast__journal_close(j, 0);
      return VAST_E_NOMEM;
    }
    j->fd[k] = open(j->path[k], O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (j->fd[k] < 0) {
      set_msg(msg, msgcap, "cannot open journal", j->path[k], errno);
      vast__journal_close(j, 0);
      return VAST_E_IO;
    }
  }
  if (sync_full) {
    /* The new directory entries must survive a power loss too. */
    char *dir = strdup(dbfile);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
      *(slash == dir ? slash + 1 : slash) = 0;
      int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
      }
    }
    free(dir);
  }
  *out = j;
  return VAST_OK;
}

uint64_t vast__journal_last_seq(const vast__journal *j) {
  return j ? j->seq : 0;
}

vast_err vast__journal_append(vast__journal *j, vast__hit *head, size_t n, char *msg,
                              size_t msgcap) {
  int a = j->active;
  if (j->broken) {
    if (msg && msgcap) snprintf(msg, msgcap, "journal '%s' is unusable", j->path[a]);
    return VAST_E_IO;
  }
  /* Serialise every hit into one buffer. */
  size_t len = 0;
  uint64_t seq = j->seq;
  vast__hit *h = head;
  for (size_t i = 0; i < n && h; i++, h = h->next) {
    uint32_t sl[NSTR];
    size_t rec = HDR;
    for (int f = 0; f < NSTR; f++) {
      const char *v = *hit_field(h, f);
      size_t vl = v ? strlen(v) : 0;
      if (vl >= REC_MAX) vl = REC_MAX; /* cannot happen: requests are far smaller */
      sl[f] = v ? (uint32_t)vl : NULL_LEN;
      rec += vl;
    }
    if (len + rec > j->cap) {
      size_t nc = j->cap ? j->cap : 16384;
      while (nc < len + rec)
        nc *= 2;
      unsigned char *nb = realloc(j->buf, nc);
      if (!nb) {
        if (msg && msgcap) snprintf(msg, msgcap, "journal: out of memory");
        return VAST_E_NOMEM;
      }
      j->buf = nb;
      j->cap = nc;
    }
    unsigned char *r = j->buf + len;
    put32(r, (uint32_t)rec);
    put64(r + 8, ++seq);
    put64(r + 16, (uint64_t)h->t_ms);
    put32(r + 24, (uint32_t)h->code);
    unsigned char *s = r + HDR;
    for (int f = 0; f < NSTR; f++) {
      put32(r + 28 + 4 * f, sl[f]);
      if (sl[f] != NULL_LEN) {
        memcpy(s, *hit_field(h, f), sl[f]);
        s += sl[f];
      }
    }
    put32(r + 4, vast__crc32c(0, r + 8, rec - 8));
    len += rec;
  }
  /* One write (looping on short writes). */
  size_t off = 0;
  int err = 0;
  while (off < len) {
    ssize_t w = write(j->fd[a], j->buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
      break;
    }
    off += (size_t)w;
  }
  if (!err && j->sync_full && fdatasync(j->fd[a]) != 0) err = errno;
  if (err) {
    set_msg(msg, msgcap, "cannot write journal", j->path[a], err);
    /* Cut back what was written, or later records would hide behind it. */
    if (ftruncate(j->fd[a], (off_t)j->size[a]) != 0) j->broken = 1;
    return VAST_E_IO;
  }
  h = head;
  for (uint64_t s = j->seq + 1; s <= seq && h; s++, h = h->next)
    h->seq = s;
  j->seq = seq;
  j->size[a] += len;
  j->last[a] = seq;
  if (j->size[a] >= vast__journal_rotate_bytes && j->size[1 - a] == 0) j->active = 1 - a;
  return VAST_OK;
}

void vast__journal_rotate(vast__journal *j, uint64_t loaded) {
  int o = 1 - j->active;
  if (j->size[o] && loaded >= j->last[o] && ftruncate(j->fd[o], 0) == 0) j->size[o] = 0;
}

void vast__journal_close(vast__journal *j, int remove) {
  if (!j) return;
  for (int k = 0; k < 2; k++) {
    if (j->fd[k] >= 0) close(j->fd[k]);
    if (remove && j->path[k]) unlink(j->path[k]);
    free(j->path[k]);
  }
  free(j->buf);
  free(j);
}

/* ---- recovery ---- */

typedef struct jfile {
  char *path;
  unsigned worker;
  uint64_t first; /* seq of the first valid record, 0 when none */
} jfile;

static int jfile_cmp(const void *a, const void *b) {
  const jfile *x = a, *y = b;
  if (x->worker != y->worker) return x->worker < y->worker ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Checks the record at p[0..avail): returns its length, or 0 when it is
 * short, malformed or fails its checksum (the end of the valid part).
 */
static size_t rec_valid(const unsigned char *p, size_t avail) {
  if (avail < HDR) return 0;
  uint32_t len = get32(p);
  if (len < HDR || len > avail || len > REC_MAX) return 0;
  uint64_t sum = HDR;
  for (int f = 0; f < NSTR; f++) {
    uint32_t l = get32(p + 28 + 4 * f);
    if (l != NULL_LEN)
      sum += l;
    else if (f == 0)
      return 0; /* every hit has an event */
  }
  if (sum != len || get64(p + 8) == 0) return 0;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  /* (fuzz-journal skips the checksum to reach the rest of recovery) */
  if (vast__crc32c(0, p + 8, len - 8) != get32(p + 4)) return 0;
#endif
  return len;
}

/* A hit built from a valid record (one allocation, strings NUL-terminated). */
static vast__hit *rec_hit(const unsigned char *p) {
  uint32_t len = get32(p);
  vast__hit *h = malloc(sizeof *h + (len - HDR) + NSTR);
  if (!h) return NULL;
  memset(h, 0, sizeof *h);
  atomic_init(&h->refs, 1);
  atomic_init(&h->state, VAST__HIT_OK);
  h->seq = get64(p + 8);
  h->t_ms = (int64_t)get64(p + 16);
  h->code = (int)get32(p + 24);
  const unsigned char *s = p + HDR;
  char *d = h->data;
  for (int f = 0; f < NSTR; f++) {
    uint32_t l = get32(p + 28 + 4 * f);
    if (l == NULL_LEN) continue;
    memcpy(d, s, l);
    d[l] = 0;
    *hit_field(h, f) = d;
    d += l + 1;
    s += l;
  }
  return h;
}

static void free_hits(vast__hit **hits, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(hits[i]);
}

/* Replays one file: records above *state, in transactions of up to batch. */
static vast_err replay(vast__store *s, const jfile *f, uint64_t *state, size_t batch,
                       vast__hit **hits, vast__journal_report *rep, char *msg, size_t msgcap) {
  int fd = open(f->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    set_msg(msg, msgcap, "cannot open journal", f->path, errno);
    return VAST_E_IO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    set_msg(msg, msgcap, "cannot read journal", f->path, errno);
    close(fd);
    return VAST_E_IO;
  }
  size_t size = (size_t)st.st_size;
  rep->files++;
  if (size == 0) {
    close(fd);
    return VAST_OK;
  }
  const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) {
    set_msg(msg, msgcap, "cannot read journal", f->path, errno);
    return VAST_E_IO;
  }
  vast_err e = VAST_OK;
  size_t off = 0, n = 0, len;
  uint64_t top = *state;
  while ((len = rec_valid(m + off, size - off)) > 0) {
    uint64_t seq = get64(m + off + 8);
    rep->records++;
    if (seq > *state) {
      if (!(hits[n] = rec_hit(m + off))) {
        e = VAST_E_NOMEM;
        break;
      }
      n++;
      if (seq > top) top = seq;
    }
    off += len;
    if (n == batch) {
      vast__jseq js = {f->worker, top};
      if ((e = vast__store_write(s, hits, n, &js, 1, msg, msgcap)) != VAST_OK) break;
      rep->loaded += n;
      free_hits(hits, n);
      n = 0;
    }
  }
  if (off < size) rep->torn++;
  if (e == VAST_OK && n) {
    vast__jseq js = {f->worker, top};
    if ((e = vast__store_write(s, hits, n, &js, 1, msg, msgcap)) == VAST_OK) rep->loaded += n;
  }
  free_hits(hits, n);
  if (e == VAST_OK) *state = top;
  munmap((void *)m, size);
  return e;
}

/* The first valid record's seq of a file (0: none). */
static uint64_t first_seq(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned char hdr[HDR];
  ssize_t r = pread(fd, hdr, sizeof hdr, 0);
  uint64_t seq = 0;
  if (r == (ssize_t)sizeof hdr) {
    uint32_t len = get32(hdr);
    if (len >= HDR && len <= REC_MAX) {
      unsigned char *rec = malloc(len);
      if (rec && pread(fd, rec, len, 0) == (ssize_t)len && rec_valid(rec, len))
        seq = get64(rec + 8);
      free(rec);
    }
  }
  close(fd);
  return seq;
}

vast_err vast__journal_recover(vast__store *s, const char *dbfile, size_t batch, int *lock_fd,
                               vast__journal_report *rep, char *msg, size_t msgcap) {
  memset(rep, 0, sizeof *rep);
  *lock_fd = -1;
  if (!batch) batch = 1;
  size_t dn = strlen(dbfile);
  char *lockp = malloc(dn + 16);
  if (!lockp) return VAST_E_NOMEM;
  snprintf(lockp, dn + 16, "%s-journal.lock", dbfile);
  int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (msg && msgcap) {
      if (lfd >= 0 && err == EWOULDBLOCK)
        snprintf(msg, msgcap, "'%s' is in use by another collector (%s is locked)", dbfile, lockp);
      else
        set_msg(msg, msgcap, "cannot lock", lockp, err);
    }
    if (lfd >= 0) close(lfd);
    free(lockp);
    return VAST_E_IO;
  }
  free(lockp);
  *lock_fd = lfd;

  /* Every <base>-journal-<worker>.<k> in the database's directory. */
  char *dir = strdup(dbfile);
  if (!dir) return VAST_E_NOMEM;
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : dbfile;
  if (slash == dir)
    slash[1] = 0;
  else if (slash)
    *slash = 0;
  const char *dpath = slash ? dir : ".";
  size_t bn = strlen(base);
  jfile *files = NULL;
  size_t nf = 0, cf = 0;
  vast_err e = VAST_OK;
  DIR *d = opendir(dpath);
  if (!d) {
    set_msg(msg, msgcap, "cannot list", dpath, errno);
    free(dir);
    return VAST_E_IO;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *nm = de->d_name;
    if (strncmp(nm, base, bn) != 0 || strncmp(nm + bn, "-journal-", 9) != 0) continue;
    const char *p = nm + bn + 9;
    char *end;
    if (*p < '0' || *p > '9') continue;
    unsigned long w = strtoul(p, &end, 10);
    if (w > 1u << 20 || end[0] != '.' || (end[1] != '0' && end[1] != '1') || end[2]) continue;
    if (nf == cf) {
      size_t nc = cf ? cf * 2 : 8;
      jfile *nfv = realloc(files, nc * sizeof *files);
      if (!nfv) {
        e = VAST_E_NOMEM;
        break;
      }
      files = nfv;
      cf = nc;
    }
    size_t pn = strlen(dpath) + strlen(nm) + 2;
    files[nf].path = malloc(pn);
    if (!files[nf].path) {
      e = VAST_E_NOMEM;
      break;
    }
    snprintf(files[nf].path, pn, "%s/%s", strcmp(dpath, "/") ? dpath : "", nm);
    files[nf].worker = (unsigned)w;
    files[nf].first = 0;
    nf++;
  }
  closedir(d);
  free(dir);

  /* Oldest records first within a worker, so the state only rises. */
  for (size_t i = 0; i < nf; i++)
    files[i].first = first_seq(files[i].path);
  if (nf) qsort(files, nf, sizeof *files, jfile_cmp);
  vast__hit **hits = e == VAST_OK && nf ? malloc(batch * sizeof *hits) : NULL;
  if (nf && !hits) e = VAST_E_NOMEM;
  uint64_t state = 0;
  for (size_t i = 0; i < nf && e == VAST_OK; i++) {
    if (i == 0 || files[i].worker != files[i - 1].worker) {
      e = vast__store_journal_seq(s, files[i].worker, &state);
      if (e != VAST_OK) {
        if (msg && msgcap) snprintf(msg, msgcap, "cannot read journal_state");
        break;
      }
    }
    e = replay(s, &files[i], &state, batch, hits, rep, msg, msgcap);
  }
  free(hits);
  /* Everything is in the database: the files can go. */
  for (size_t i = 0; i < nf; i++) {
    if (e == VAST_OK) unlink(files[i].path);
    free(files[i].path);
  }
  free(files);
  return e;
}
