/*
 * probe.c: vast_media_probe and friends (vastrack/probe.h). libavformat reads
 * the media through bounded readers and nothing else:
 *
 *   libavformat --read/seek--> AVIOContext --> probe reader (block cache)
 *                                   |--> http: ranged GET of read_ahead bytes (libcurl,
 *                                   |          the network policy's guard, one deadline,
 *                                   |          one byte budget)
 *                                   '--> file: pread() under the same budget
 *   libavformat --io_open------> a nested reader of the same kind (HLS playlists and
 *                                segments): http(s) only, the root's deadline and budget
 *
 * The network policy (vastrack/net.h: guard, timeout, redirects, body ceiling,
 * user agent) is applied in vast_prober_create and used in http_block only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#include "base/error.h"
#include "base/jsonw.h"
#include "net/net-int.h"
#include "vastrack/probe.h"

#define NBLK 4
#define MIN_READ_AHEAD 4096u
#define MAX_NESTED 32 /* readers a demuxer may open per probe, at most */

void vast_probe_opts_init(vast_probe_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->timeout_ms = VAST_DEFAULT_PROBE_TIMEOUT_MS;
  o->max_bytes = VAST_DEFAULT_PROBE_MAX_BYTES;
  o->read_ahead = VAST_DEFAULT_PROBE_READ_AHEAD;
  o->max_redirects = VAST_DEFAULT_MAX_REDIRECTS;
  o->allow_files = 1;
  o->max_nested = MAX_NESTED;
}

struct vast_prober {
  vast_probe_opts o;
  char *user_agent;
  CURL *easy;
  vast__guard guard;
  size_t resp_cap; /* the policy's ceiling on one response body */
};

/* One cached block of the file: [off, off+len). */
typedef struct pblock {
  int64_t off;
  size_t len;
  uint64_t stamp; /* last use, for LRU */
  uint8_t *data;
} pblock;

/* The bounded reader behind the AVIOContext of one probe. */
typedef struct preader preader;

struct preader {
  /* NULL: libavformat's option lookups may treat an AVIOContext's opaque as an
     AVOptions object (its first field an AVClass *); a NULL class ends them. */
  const void *av_class;
  vast_prober *p;
  preader *root; /* the probe's reader: failures, deadline and budget are its */
  const char *target;
  int fd;       /* >= 0 for a local file */
  int64_t size; /* whole file; -1 unknown */
  int64_t pos;
  pblock blk[NBLK];
  uint64_t tick;
  size_t ra; /* read-ahead, bytes per request */
  uint64_t deadline_us;
  size_t budget;
  vast_media_info *info;
  vast_err err; /* first failure; later reads fail at once */
  int iab;
  char msg[200];
  int first; /* 1 until the first response */
  /* The root only: readers opened for a demuxer (HLS playlists and segments). */
  preader *nested[MAX_NESTED];
  int n_nested;
  char refused[128]; /* the first URL a demuxer was refused */
};

static void rfail(preader *r, vast_err e, int iab, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rfail(preader *r, vast_err e, int iab, const char *fmt, ...) {
  preader *root = r->root;
  if (root->err != VAST_OK) return;
  root->err = e;
  root->iab = iab;
  size_t k = 0;
  if (r != root) /* name the playlist or segment that failed */
    k = (size_t)snprintf(root->msg, sizeof root->msg, "'%.80s': ", r->target);
  if (k >= sizeof root->msg) k = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(root->msg + k, sizeof root->msg - k, fmt, ap);
  va_end(ap);
}

/* ---- http blocks ------------------------------------------------------------ */

/* One ranged GET in progress. */
typedef struct xfer {
  preader *r;
  int64_t off;
  size_t want, got;
  uint8_t *dst;
  long status;
  int64_t cr_start, cr_total, clen;
  char ctype[128];
  int64_t skip;      /* body bytes to drop first (a 200 to a range request) */
  int started;       /* the first body byte was seen */
  size_t err_body;   /* bytes of an error response's body */
  size_t resp_bytes; /* body bytes of this response */
  int full, over_budget, bad_range;
} xfer;

static int64_t parse_i64(const char *s, const char **end) {
  int64_t v = 0;
  int any = 0;
  while (*s >= '0' && *s <= '9' && v < ((int64_t)1 << 56))
    v = v * 10 + (*s++ - '0'), any = 1;
  if (end) *end = s;
  return any ? v : -1;
}

static size_t hdr_cb(char *data, size_t sz, size_t nm, void *ud) {
  xfer *x = ud;
  size_t n = sz * nm;
  char line[512];
  size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
  memcpy(line, data, k);
  line[k] = 0;
  while (k && (line[k - 1] == '\r' || line[k - 1] == '\n' || line[k - 1] == ' '))
    line[--k] = 0;
  if (!strncmp(line, "HTTP/", 5)) { /* a new response (redirects, 100 Continue) */
    const char *sp = strchr(line, ' ');
    x->status = sp ? (long)parse_i64(sp + 1, NULL) : 0;
    x->cr_start = x->cr_total = x->clen = -1;
    x->ctype[0] = 0;
  } else if (!strncasecmp(line, "content-range:", 14)) {
    const char *s = line + 14, *e;
    while (*s == ' ')
      s++;
    if (!strncasecmp(s, "bytes", 5)) s += 5;
    while (*s == ' ')
      s++;
    if (*s == '*') {
      s++;
    } else {
      x->cr_start = parse_i64(s, &e);
      s = e;
      while (*s && *s != '/')
        s++;
    }
    if (*s == '/') x->cr_total = parse_i64(s + 1, NULL);
  } else if (!strncasecmp(line, "content-length:", 15)) {
    const char *s = line + 15;
    while (*s == ' ')
      s++;
    x->clen = parse_i64(s, NULL);
  } else if (!strncasecmp(line, "content-type:", 13)) {
    const char *s = line + 13;
    while (*s == ' ')
      s++;
    snprintf(x->ctype, sizeof x->ctype, "%.127s", s);
  }
  return n;
}

/*
 * Body bytes: counted against the budget, the first `skip` dropped, then copied
 * until `want`. The transfer is aborted (return 0) as soon as bytes beyond what
 * was asked arrive, or an error status shows (its body is not needed).
 */
static size_t body_cb(char *data, size_t sz, size_t nm, void *ud) {
  xfer *x = ud;
  preader *r = x->r;
  size_t n = sz * nm;
  if (x->status < 200 || x->status > 299) { /* drop a short error body, keep the connection */
    x->err_body += n;
    return x->err_body <= 16384 ? n : 0;
  }
  if (!x->started) {
    x->started = 1;
    if (x->status == 200)
      x->skip = x->off;
    else if (x->status == 206 && x->cr_start != x->off) {
      x->bad_range = 1;
      return 0;
    }
  }
  if (r->info->bytes_read + n > r->budget || x->resp_bytes + n > r->p->resp_cap) {
    x->over_budget = 1;
    return 0;
  }
  r->info->bytes_read += n;
  x->resp_bytes += n;
  size_t i = 0;
  if (x->skip > 0) {
    size_t d = (int64_t)n < x->skip ? n : (size_t)x->skip;
    x->skip -= (int64_t)d;
    i = d;
  }
  if (i < n) {
    size_t c = n - i < x->want - x->got ? n - i : x->want - x->got;
    memcpy(x->dst + x->got, data + i, c);
    x->got += c;
    i += c;
    if (i < n) { /* more than asked: the server ignored or overran the range */
      x->full = 1;
      return 0;
    }
  }
  return n;
}

/* The deadline left, in ms (>= 1), or 0 when it passed. */
static long time_left(const preader *r) {
  uint64_t now = vast__now_us();
  if (now >= r->deadline_us) return 0;
  long ms = (long)((r->deadline_us - now) / 1000u);
  return ms > 0 ? ms : 1;
}

static int http_block(preader *r, pblock *b, int64_t off, size_t want) {
  vast_prober *p = r->p;
  long left = time_left(r);
  if (!left) {
    rfail(r, VAST_E_TIMEOUT, 402, "timed out after %ld ms", p->o.timeout_ms);
    return -1;
  }
  xfer x;
  memset(&x, 0, sizeof x);
  x.r = r;
  x.off = off;
  x.want = want;
  x.dst = b->data;
  x.cr_start = x.cr_total = x.clen = -1;
  char range[64];
  snprintf(range, sizeof range, "%lld-%lld", (long long)off, (long long)(off + (int64_t)want - 1));
  char ebuf[CURL_ERROR_SIZE] = "";
  p->guard.refused = 0;
  curl_easy_setopt(p->easy, CURLOPT_URL, r->target);
  curl_easy_setopt(p->easy, CURLOPT_RANGE, range);
  curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, left);
  curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, hdr_cb);
  curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, ebuf);
  CURLcode rc = curl_easy_perform(p->easy);
  r->info->requests++;
  if (r->first && x.status) {
    r->first = 0;
    r->info->status = x.status;
    snprintf(r->info->content_type, sizeof r->info->content_type, "%s", x.ctype);
    if (x.status == 200) r->info->range_ignored = 1;
  }
  if (x.status == 206 && x.cr_total >= 0)
    r->size = x.cr_total;
  else if (x.status == 200 && x.clen >= 0)
    r->size = x.clen;
  if (r->size >= 0 && r == r->root) r->info->content_length = r->size;
  if (x.over_budget) {
    if (x.resp_bytes + 65536 > p->resp_cap && p->resp_cap < r->budget)
      rfail(r, VAST_E_TOO_LARGE, 405, "a response exceeds the policy's %zu bytes", p->resp_cap);
    rfail(r, VAST_E_TOO_LARGE, 405, "read budget of %zu bytes spent before the file was understood",
          r->budget);
    return -1;
  }
  if (x.bad_range) {
    rfail(r, VAST_E_HTTP, 405, "server answered bytes from %lld to a request for bytes from %lld",
          (long long)x.cr_start, (long long)off);
    return -1;
  }
  if (x.status == 416) { /* past the end */
    if (r->size < 0) r->size = off;
    b->off = off;
    b->len = 0;
    return 0;
  }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.full)) {
    if (x.status && (x.status < 200 || x.status > 299)) {
      rfail(r, VAST_E_HTTP, 401, "HTTP status %ld", x.status);
      return -1;
    }
    vast_err e = vast__curl_err(rc, &p->guard, 0);
    if (e == VAST_E_TIMEOUT || rc == CURLE_OPERATION_TIMEDOUT)
      rfail(r, VAST_E_TIMEOUT, 402, "timed out after %ld ms (%llu bytes received)", p->o.timeout_ms,
            (unsigned long long)r->info->bytes_read);
    else if (e == VAST_E_FORBIDDEN)
      rfail(r, e, 401, "destination address refused (private network)");
    else
      rfail(r, e == VAST_OK ? VAST_E_HTTP : e, 401, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
    return -1;
  }
  if (x.status < 200 || x.status > 299) {
    rfail(r, VAST_E_HTTP, 401, "HTTP status %ld", x.status);
    return -1;
  }
  b->off = off;
  b->len = x.got;
  if (x.got < want && r->size < 0) r->size = off + (int64_t)x.got; /* body ended early */
  return 0;
}

static int file_block(preader *r, pblock *b, int64_t off, size_t want) {
  if (r->info->bytes_read + want > r->budget) {
    rfail(r, VAST_E_TOO_LARGE, 405, "read budget of %zu bytes spent before the file was understood",
          r->budget);
    return -1;
  }
  size_t got = 0;
  while (got < want) {
    ssize_t k = pread(r->fd, b->data + got, want - got, off + (int64_t)got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      rfail(r, VAST_E_IO, 401, "%s", strerror(errno));
      return -1;
    }
    if (k == 0) break;
    got += (size_t)k;
  }
  r->info->bytes_read += got;
  b->off = off;
  b->len = got;
  return 0;
}

/*
 * The cached block holding byte `off`, fetching read_ahead bytes from `off` into
 * the least recently used slot when none does. NULL after a failure (r->err).
 * A block of length 0 means end of file.
 */
static pblock *get_block(preader *r, int64_t off) {
  if (r->root->err != VAST_OK) return NULL;
  pblock *lru = &r->blk[0];
  for (int i = 0; i < NBLK; i++) {
    pblock *b = &r->blk[i];
    if (b->data && b->len && off >= b->off && off < b->off + (int64_t)b->len) {
      b->stamp = ++r->tick;
      return b;
    }
    if (b->stamp < lru->stamp) lru = b;
  }
  if (!lru->data && !(lru->data = malloc(r->ra))) {
    rfail(r, VAST_E_NOMEM, 0, "out of memory");
    return NULL;
  }
  size_t want = r->ra;
  if (r->size >= 0) {
    if (off >= r->size) {
      lru->off = off;
      lru->len = 0;
      return lru;
    }
    if ((int64_t)want > r->size - off) want = (size_t)(r->size - off);
  }
  lru->len = 0;
  lru->stamp = ++r->tick;
  if ((r->fd >= 0 ? file_block(r, lru, off, want) : http_block(r, lru, off, want)) != 0)
    return NULL;
  return lru;
}

/* Copies n bytes at off into dst; returns the bytes copied (short at end of file). */
static size_t read_at(preader *r, int64_t off, uint8_t *dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    pblock *b = get_block(r, off + (int64_t)got);
    if (!b || !b->len) break;
    int64_t in = off + (int64_t)got - b->off;
    size_t c = b->len - (size_t)in;
    if (c > n - got) c = n - got;
    memcpy(dst + got, b->data + in, c);
    got += c;
  }
  return got;
}

static int av_read(void *opaque, uint8_t *buf, int n) {
  preader *r = opaque;
  if (n <= 0) return 0;
  if (r->size >= 0 && r->pos >= r->size) return AVERROR_EOF;
  pblock *b = get_block(r, r->pos);
  if (!b) return AVERROR_EXIT;
  if (!b->len) return AVERROR_EOF;
  size_t in = (size_t)(r->pos - b->off), c = b->len - in;
  if (c > (size_t)n) c = (size_t)n;
  memcpy(buf, b->data + in, c);
  r->pos += (int64_t)c;
  return (int)c;
}

static int64_t av_seek(void *opaque, int64_t off, int whence) {
  preader *r = opaque;
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return r->size >= 0 ? r->size : AVERROR(ENOSYS);
  int64_t np;
  if (whence == SEEK_SET)
    np = off;
  else if (whence == SEEK_CUR)
    np = r->pos + off;
  else if (whence == SEEK_END && r->size >= 0)
    np = r->size + off;
  else
    return AVERROR(EINVAL);
  if (np < 0) return AVERROR(EINVAL);
  r->pos = np;
  return np;
}

static int av_interrupt(void *opaque) {
  preader *r = opaque;
  if (r->root->err != VAST_OK) return 1;
  if (!time_left(r)) {
    rfail(r, VAST_E_TIMEOUT, 402, "timed out after %ld ms", r->p->o.timeout_ms);
    return 1;
  }
  return 0;
}

static void reader_free(preader *r) {
  for (int i = 0; i < NBLK; i++) {
    free(r->blk[i].data);
    r->blk[i].data = NULL;
    r->blk[i].len = 0;
  }
}

/*
 * What a demuxer may open besides the file (the HLS demuxer: variant playlists
 * and segments): http(s) URLs only, read by a reader of the same kind that
 * shares the probe's deadline, byte budget and request count, at most
 * MAX_NESTED per probe. Anything else (files, other protocols, MOV external
 * references, writing) is refused.
 */
static int av_open_nested(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                          AVDictionary **options) {
  (void)options;
  preader *root = s->opaque;
  if (!root) return AVERROR(EPERM);
  if ((flags & AVIO_FLAG_WRITE) || !vast__is_http(url) ||
      root->n_nested >= (int)root->p->o.max_nested) {
    if (!root->refused[0]) snprintf(root->refused, sizeof root->refused, "%.120s", url);
    return AVERROR(EPERM);
  }
  preader *n = calloc(1, sizeof *n);
  char *t = strdup(url);
  uint8_t *buf = av_malloc(32768);
  AVIOContext *io =
      n && t && buf ? avio_alloc_context(buf, 32768, 0, n, av_read, NULL, av_seek) : NULL;
  if (!io) {
    free(n);
    free(t);
    av_free(buf);
    return AVERROR(ENOMEM);
  }
  n->p = root->p;
  n->root = root;
  n->target = t;
  n->fd = -1;
  n->size = -1;
  n->ra = root->ra;
  n->budget = root->budget;
  n->deadline_us = root->deadline_us;
  n->info = root->info;
  io->seekable = AVIO_SEEKABLE_NORMAL;
  root->nested[root->n_nested++] = n;
  *pb = io;
  return 0;
}

static int av_close_nested(struct AVFormatContext *s, AVIOContext *pb) {
  (void)s;
  if (!pb) return 0;
  reader_free(pb->opaque); /* the struct itself goes with the root */
  av_freep(&pb->buffer);
  avio_context_free(&pb);
  return 0;
}

/* ---- what the file is -------------------------------------------------------- */

static uint32_t be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * MP4/MOV fast start: walks the top-level boxes from the start; 1 when moov
 * comes before mdat, 0 after, -1 when the file is not ISO BMFF. When the size
 * is known the walk goes on to the end (box headers only, mostly cached) and
 * sets *need to the bytes the boxes claim, so a truncated file shows.
 */
static int fast_start(preader *r, int64_t *need) {
  int64_t off = 0;
  int fs = -1;
  *need = -1;
  for (int i = 0; i < 64; i++) {
    uint8_t h[16];
    if (r->size >= 0 && off >= r->size) break;
    if (read_at(r, off, h, 8) != 8) break;
    uint64_t sz = be32(h);
    const char *t = (const char *)h + 4;
    if (i == 0 && memcmp(t, "ftyp", 4) && memcmp(t, "moov", 4) && memcmp(t, "mdat", 4) &&
        memcmp(t, "free", 4) && memcmp(t, "wide", 4) && memcmp(t, "skip", 4))
      return -1;
    if (fs < 0 && !memcmp(t, "moov", 4)) fs = 1;
    if (fs < 0 && !memcmp(t, "mdat", 4)) fs = 0;
    if (sz == 1) {
      if (read_at(r, off + 8, h + 8, 8) != 8) break;
      sz = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
    }
    if (sz == 0 && r->size >= 0) sz = (uint64_t)(r->size - off); /* to the end */
    if (sz < 8 || sz > ((uint64_t)1 << 62)) break;
    off += (int64_t)sz;
    *need = off;
    if (fs >= 0 && r->size < 0) break;
  }
  return fs;
}

static void level_str(char *out, size_t n, enum AVCodecID id, int level) {
  if (level <= 0 || level > 255) return;
  if (id == AV_CODEC_ID_H264)
    snprintf(out, n, "%d.%d", level / 10, level % 10);
  else if (id == AV_CODEC_ID_HEVC)
    snprintf(out, n, "%d.%d", level / 30, (level % 30) / 3);
}

/* Profile and level from the codec parameters, or from the avcC/hvcC/ASC
 * extradata when the demuxer did not set them. */
static void profile_of(const AVCodecParameters *cp, char *prof, size_t np, char *lvl, size_t nl) {
  int profile = cp->profile, level = cp->level;
  const uint8_t *x = cp->extradata;
  int xn = cp->extradata_size;
  if (cp->codec_id == AV_CODEC_ID_H264 && x && xn >= 4 && x[0] == 1) {
    if (profile == FF_PROFILE_UNKNOWN) {
      profile = x[1];
      if (x[1] == 66 && (x[2] & 0x40)) profile |= FF_PROFILE_H264_CONSTRAINED;
      if ((x[1] == 110 || x[1] == 122 || x[1] == 244) && (x[2] & 0x10))
        profile |= FF_PROFILE_H264_INTRA;
    }
    if (level <= 0) level = x[3];
  } else if (cp->codec_id == AV_CODEC_ID_HEVC && x && xn >= 13 && x[0] == 1) {
    if (profile == FF_PROFILE_UNKNOWN) profile = x[1] & 0x1f;
    if (level <= 0) level = x[12];
  } else if (cp->codec_id == AV_CODEC_ID_AAC && x && xn >= 1 && profile == FF_PROFILE_UNKNOWN) {
    int aot = x[0] >> 3;
    if (aot == 31 && xn >= 2) aot = 32 + ((x[0] & 7) << 3 | x[1] >> 5);
    profile = aot - 1;
  }
  const char *pn =
      profile != FF_PROFILE_UNKNOWN ? avcodec_profile_name(cp->codec_id, profile) : NULL;
  if (pn) snprintf(prof, np, "%s", pn);
  level_str(lvl, nl, cp->codec_id, level);
}

static int is_webm_codec(enum AVCodecID id) {
  return id == AV_CODEC_ID_VP8 || id == AV_CODEC_ID_VP9 || id == AV_CODEC_ID_AV1 ||
         id == AV_CODEC_ID_VORBIS || id == AV_CODEC_ID_OPUS;
}

static void container_of(const AVFormatContext *fc, char *out, size_t n) {
  const char *name = fc->iformat->name;
  if (!strncmp(name, "mov,", 4)) {
    const AVDictionaryEntry *e = av_dict_get(fc->metadata, "major_brand", NULL, 0);
    const char *c = "mp4";
    if (e && !strncmp(e->value, "qt", 2))
      c = "mov";
    else if (e && (!strncmp(e->value, "M4A", 3) || !strncmp(e->value, "M4B", 3)))
      c = "m4a";
    snprintf(out, n, "%s", c);
    return;
  }
  if (!strncmp(name, "matroska", 8)) {
    int webm = fc->nb_streams > 0;
    for (unsigned i = 0; i < fc->nb_streams; i++)
      if (!is_webm_codec(fc->streams[i]->codecpar->codec_id)) webm = 0;
    snprintf(out, n, "%s", webm ? "webm" : "matroska");
    return;
  }
  size_t k = strcspn(name, ",");
  snprintf(out, n, "%.*s", (int)(k < n - 1 ? k : n - 1), name);
}

static double q2d_or(AVRational q, double dflt) {
  return q.num > 0 && q.den > 0 ? (double)q.num / q.den : dflt;
}

/* Fills the media part of *info from an opened AVFormatContext. */
static void describe(AVFormatContext *fc, vast_media_info *info) {
  container_of(fc, info->container, sizeof info->container);
  double dur = -1;
  if (fc->duration != AV_NOPTS_VALUE && fc->duration > 0) dur = (double)fc->duration / AV_TIME_BASE;
  int v = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  int a = av_find_best_stream(fc, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
  /* Cover art (an attached picture) is not the video of the ad. */
  if (v >= 0 && (fc->streams[v]->disposition & AV_DISPOSITION_ATTACHED_PIC)) v = -1;
  for (unsigned i = 0; i < fc->nb_streams; i++) {
    AVStream *st = fc->streams[i];
    if (dur < 0 && st->duration != AV_NOPTS_VALUE && st->duration > 0)
      dur = st->duration * av_q2d(st->time_base);
  }
  info->duration = dur;
  if (v >= 0) {
    const AVStream *st = fc->streams[v];
    const AVCodecParameters *cp = st->codecpar;
    info->has_video = 1;
    snprintf(info->video_codec, sizeof info->video_codec, "%s", avcodec_get_name(cp->codec_id));
    profile_of(cp, info->video_profile, sizeof info->video_profile, info->video_level,
               sizeof info->video_level);
    info->width = cp->width > 0 ? cp->width : -1;
    info->height = cp->height > 0 ? cp->height : -1;
    info->frame_rate = q2d_or(st->avg_frame_rate, q2d_or(st->r_frame_rate, -1));
    info->video_bit_rate = cp->bit_rate > 0 ? cp->bit_rate : 0;
  }
  if (a >= 0) {
    const AVCodecParameters *cp = fc->streams[a]->codecpar;
    char lvl[8] = "";
    info->has_audio = 1;
    snprintf(info->audio_codec, sizeof info->audio_codec, "%s", avcodec_get_name(cp->codec_id));
    profile_of(cp, info->audio_profile, sizeof info->audio_profile, lvl, sizeof lvl);
    info->channels = cp->ch_layout.nb_channels > 0 ? cp->ch_layout.nb_channels : -1;
    info->sample_rate = cp->sample_rate > 0 ? cp->sample_rate : -1;
    info->audio_bit_rate = cp->bit_rate > 0 ? cp->bit_rate : 0;
  }
  if (!strcmp(info->container, "hls")) { /* the playlist's size says nothing: BANDWIDTH */
    for (unsigned i = 0; i < fc->nb_streams; i++) {
      const AVDictionaryEntry *e =
          av_dict_get(fc->streams[i]->metadata, "variant_bitrate", NULL, 0);
      long long b = e ? atoll(e->value) : 0;
      if (b > info->bit_rate) info->bit_rate = b;
    }
  } else if (info->content_length > 0 && dur > 0)
    info->bit_rate = (int64_t)((double)info->content_length * 8 / dur);
  else if (fc->bit_rate > 0)
    info->bit_rate = fc->bit_rate;
  else
    info->bit_rate = info->video_bit_rate + info->audio_bit_rate;
}

/* 1 when the demuxer left something a player needs unknown. */
static int needs_stream_info(const AVFormatContext *fc) {
  if (fc->nb_streams == 0) return 1;
  int dur = fc->duration != AV_NOPTS_VALUE && fc->duration > 0;
  for (unsigned i = 0; i < fc->nb_streams; i++) {
    const AVStream *st = fc->streams[i];
    const AVCodecParameters *cp = st->codecpar;
    if (cp->codec_id == AV_CODEC_ID_NONE) return 1;
    if (cp->codec_type == AVMEDIA_TYPE_VIDEO && (cp->width <= 0 || cp->height <= 0)) return 1;
    if (cp->codec_type == AVMEDIA_TYPE_AUDIO &&
        (cp->sample_rate <= 0 || cp->ch_layout.nb_channels <= 0))
      return 1;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) dur = 1;
  }
  return !dur;
}

static pthread_once_t av_once = PTHREAD_ONCE_INIT;
static void av_init_once(void) {
  /* libav* log to stderr by default; a library stays quiet unless asked. */
  const char *lv = getenv("VASTRACK_AV_LOG");
  av_log_set_level(lv && *lv ? atoi(lv) : AV_LOG_QUIET);
}

/* The demuxers a MediaFile may use; anything else is "not media". */
static const char demuxers[] =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mpegts,hls,flv,mp3,aac,ogg,wav,avi,asf,mpeg,"
    "m4v,h264,hevc,ivf";

/* Runs libavformat over the reader. Returns VAST_OK or sets r->err. */
static vast_err demux(preader *r) {
  AVFormatContext *fc = avformat_alloc_context();
  size_t bsz = 32768;
  uint8_t *iobuf = av_malloc(bsz);
  AVIOContext *pb =
      iobuf ? avio_alloc_context(iobuf, (int)bsz, 0, r, av_read, NULL, av_seek) : NULL;
  if (!fc || !pb) {
    if (pb)
      av_freep(&pb->buffer);
    else
      av_free(iobuf);
    avio_context_free(&pb);
    avformat_free_context(fc);
    rfail(r, VAST_E_NOMEM, 0, "out of memory");
    return VAST_E_NOMEM;
  }
  pb->seekable = AVIO_SEEKABLE_NORMAL;
  fc->pb = pb;
  fc->flags |= AVFMT_FLAG_CUSTOM_IO;
  fc->opaque = r;
  fc->io_open = av_open_nested;
  fc->io_close2 = av_close_nested;
  fc->interrupt_callback.callback = av_interrupt;
  fc->interrupt_callback.opaque = r;
  fc->format_whitelist = av_strdup(demuxers);
  fc->format_probesize = 256 * 1024;
  fc->probesize = 1 << 20;
  fc->max_analyze_duration = 3 * AV_TIME_BASE;
  int rc = avformat_open_input(&fc, r->target, NULL, NULL);
  if (rc >= 0 && needs_stream_info(fc)) {
    rc = avformat_find_stream_info(fc, NULL);
    if (rc >= 0 && fc->nb_streams == 0) rc = AVERROR_INVALIDDATA;
  }
  if (rc >= 0 && fc->nb_streams == 0) rc = AVERROR_INVALIDDATA;
  if (rc >= 0) describe(fc, r->info);
  if (rc < 0 && r->err == VAST_OK) {
    char why[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(rc, why, sizeof why);
    if (rc == AVERROR(EPERM) || r->refused[0])
      rfail(r, VAST_E_NOT_MEDIA, 405,
            "the container needs '%.100s', which may not be opened "
            "(only http(s) URLs, at most %u)",
            r->refused, r->p->o.max_nested);
    else
      rfail(r, VAST_E_NOT_MEDIA, 405, "not a media file libavformat can read (%s)", why);
  }
  avformat_close_input(&fc);
  av_freep(&pb->buffer);
  avio_context_free(&pb);
  return r->err;
}

/* ---- the prober -------------------------------------------------------------- */

vast_err vast_prober_create(const vast_probe_opts *opts, vast_prober **out) {
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  vast_prober *p = calloc(1, sizeof *p);
  if (!p) return VAST_E_NOMEM;
  vast_probe_opts_init(&p->o);
  if (opts) memcpy(&p->o, opts, opts->size && opts->size < sizeof p->o ? opts->size : sizeof p->o);
  p->o.size = sizeof p->o;
  if (p->o.max_bytes == 0) p->o.max_bytes = VAST_DEFAULT_PROBE_MAX_BYTES;
  if (p->o.read_ahead < MIN_READ_AHEAD) p->o.read_ahead = MIN_READ_AHEAD;
  if (p->o.read_ahead > p->o.max_bytes) p->o.read_ahead = p->o.max_bytes;
  if (p->o.timeout_ms <= 0) p->o.timeout_ms = VAST_DEFAULT_PROBE_TIMEOUT_MS;
  if (p->o.max_nested > MAX_NESTED) p->o.max_nested = MAX_NESTED;
  if (p->o.user_agent && !(p->user_agent = strdup(p->o.user_agent))) {
    free(p);
    return VAST_E_NOMEM;
  }
  p->o.user_agent = p->user_agent;
  /* The network policy (vastrack/net.h): the stricter of it and the options wins. */
  const vast_net_policy *pol = p->o.policy;
  p->o.policy = NULL; /* applied here, not kept */
  p->o.refuse_private = vast__policy_refuse(pol, p->o.refuse_private);
  p->o.timeout_ms = vast__policy_timeout(pol, p->o.timeout_ms);
  p->o.max_redirects = vast__policy_redirects(pol, p->o.max_redirects);
  p->resp_cap = vast__policy_bytes(pol, SIZE_MAX);
  const char *ua = vast__policy_ua(pol, p->o.user_agent);
  if (ua && !p->user_agent && !(p->user_agent = strdup(ua))) {
    free(p);
    return VAST_E_NOMEM;
  }
  p->o.user_agent = p->user_agent;
  if (!vast_net_header_value_ok(p->o.user_agent)) { /* no header injection (security.md) */
    vast_prober_free(p);
    return VAST_E_INVAL;
  }
  if (vast__curl_init() != 0 || !(p->easy = curl_easy_init())) {
    vast_prober_free(p);
    return VAST_E_HTTP;
  }
  p->guard.refuse = p->o.refuse_private;
  vast__easy_common(p->easy, &p->guard, p->o.user_agent, p->o.max_redirects);
  curl_easy_setopt(p->easy, CURLOPT_ACCEPT_ENCODING, NULL); /* byte ranges of the file itself */
  curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, p->o.timeout_ms);
  pthread_once(&av_once, av_init_once);
  *out = p;
  return VAST_OK;
}

void vast_prober_free(vast_prober *p) {
  if (!p) return;
  if (p->easy) curl_easy_cleanup(p->easy);
  free(p->user_agent);
  free(p);
}

static void info_init(vast_media_info *info) {
  memset(info, 0, sizeof *info);
  info->content_length = -1;
  info->duration = -1;
  info->width = info->height = -1;
  info->frame_rate = -1;
  info->channels = info->sample_rate = -1;
  info->fast_start = -1;
}

vast_err vast_prober_run(vast_prober *p, const char *target, vast_media_info *info,
                         vast_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!p || !target || !info) return VAST_E_INVAL;
  info_init(info);
  uint64_t t0 = vast__now_us();
  preader r;
  memset(&r, 0, sizeof r);
  r.p = p;
  r.root = &r;
  r.target = target;
  r.fd = -1;
  r.size = -1;
  r.ra = p->o.read_ahead;
  r.budget = p->o.max_bytes;
  r.deadline_us = t0 + (uint64_t)p->o.timeout_ms * 1000u;
  r.info = info;
  r.first = 1;
  if (!vast__is_http(target)) {
    struct stat stt;
    if (!p->o.allow_files || strstr(target, "://") || !strncasecmp(target, "data:", 5)) {
      rfail(&r, VAST_E_URL, 401, "only http and https URLs%s are probed",
            p->o.allow_files ? " and local files" : "");
    } else if ((r.fd = open(target, O_RDONLY | O_CLOEXEC)) < 0) {
      rfail(&r, VAST_E_IO, 401, "%s", strerror(errno));
    } else if (fstat(r.fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
      rfail(&r, VAST_E_IO, 401, "not a regular file");
    } else {
      info->is_file = 1;
      r.size = stt.st_size;
      info->content_length = r.size;
    }
  }
  if (r.err == VAST_OK) {
    int64_t need = -1;
    info->fast_start = fast_start(&r, &need);
    if (r.err == VAST_OK && r.size == 0) rfail(&r, VAST_E_NOT_MEDIA, 405, "the file is empty");
    if (r.err == VAST_OK) {
      /* Only MP4 knows fast start; a failure of the walk is left to libavformat. */
      demux(&r);
      int mp4 = !strcmp(info->container, "mp4") || !strcmp(info->container, "m4a") ||
                !strcmp(info->container, "mov");
      if (r.err == VAST_OK && !mp4) info->fast_start = -1;
      if (r.err == VAST_OK && mp4 && r.size >= 0 && need > r.size)
        rfail(&r, VAST_E_NOT_MEDIA, 405, "truncated: the file has %lld bytes, its boxes need %lld",
              (long long)r.size, (long long)need);
    }
  }
  reader_free(&r);
  for (int i = 0; i < r.n_nested; i++) {
    reader_free(r.nested[i]);
    free((char *)r.nested[i]->target);
    free(r.nested[i]);
  }
  if (r.fd >= 0) close(r.fd);
  info->elapsed_ms = (double)(vast__now_us() - t0) / 1000.0;
  if (r.err != VAST_OK)
    vast__error_set(err, r.err, r.iab, "cannot probe '%.90s': %.130s", target, r.msg);
  return r.err;
}

vast_err vast_media_probe(const char *target, const vast_probe_opts *opts, vast_media_info *info,
                          vast_error *err) {
  if (info) info_init(info);
  vast_prober *p = NULL;
  vast_err e = vast_prober_create(opts, &p);
  if (e != VAST_OK) return e;
  e = vast_prober_run(p, target, info, err);
  vast_prober_free(p);
  return e;
}

/* ---- many at once ------------------------------------------------------------ */

typedef struct many {
  const char *const *targets;
  size_t n, next;
  const vast_probe_opts *opts;
  vast_media_info *infos;
  vast_err *rcs;
  vast_error *errs;
  pthread_mutex_t mu;
} many;

static void *many_main(void *arg) {
  many *m = arg;
  vast_prober *p = NULL;
  vast_err ce = vast_prober_create(m->opts, &p);
  for (;;) {
    pthread_mutex_lock(&m->mu);
    size_t i = m->next++;
    pthread_mutex_unlock(&m->mu);
    if (i >= m->n) break;
    vast_error *e = m->errs ? &m->errs[i] : NULL;
    if (ce != VAST_OK) {
      info_init(&m->infos[i]);
      m->rcs[i] = ce;
      vast__error_set(e, ce, 0, "cannot probe: %s", vast_strerror(ce));
      continue;
    }
    m->rcs[i] = vast_prober_run(p, m->targets[i], &m->infos[i], e);
  }
  vast_prober_free(p);
  return NULL;
}

vast_err vast_media_probe_many(const char *const *targets, size_t n, const vast_probe_opts *opts,
                               unsigned concurrency, vast_media_info *infos, vast_err *rcs,
                               vast_error *errs) {
  if ((!targets || !infos || !rcs) && n) return VAST_E_INVAL;
  if (concurrency == 0) concurrency = 4;
  if (concurrency > 64) concurrency = 64;
  if (concurrency > n) concurrency = (unsigned)n;
  many m = {targets, n, 0, opts, infos, rcs, errs, PTHREAD_MUTEX_INITIALIZER};
  if (concurrency <= 1) {
    many_main(&m);
    return VAST_OK;
  }
  pthread_t th[64];
  unsigned started = 0;
  for (unsigned i = 0; i < concurrency; i++)
    if (pthread_create(&th[started], NULL, many_main, &m) == 0) started++;
  if (!started) many_main(&m);
  for (unsigned i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  return VAST_OK;
}

/* ---- JSON ---------------------------------------------------------------------- */

static void kstr_or_null(vast__jw *w, const char *k, const char *s) {
  vast__jw_kstr(w, k, s && *s ? s : NULL);
}

vast_err vast_media_info_write_json(const char *target, const vast_media_info *in, vast_err rc,
                                    const vast_error *err, vast_write_fn write, void *ctx) {
  if (!in || !write) return VAST_E_INVAL;
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "target", target);
  vast__jw_key(&w, "ok");
  vast__jw_bool(&w, rc == VAST_OK);
  vast__jw_kstr(&w, "error",
                rc == VAST_OK            ? NULL
                : err && err->message[0] ? err->message
                                         : vast_strerror(rc));
  vast__jw_kint_opt(&w, "iabCode", rc == VAST_OK ? -1 : err && err->iab_code ? err->iab_code : -1);
  vast__jw_kint_opt(&w, "status", in->is_file ? -1 : in->status);
  kstr_or_null(&w, "contentType", in->content_type);
  vast__jw_kint_opt(&w, "contentLength", in->content_length);
  vast__jw_key(&w, "rangeIgnored");
  vast__jw_bool(&w, in->range_ignored);
  kstr_or_null(&w, "container", in->container);
  vast__jw_knum_opt(&w, "duration", in->duration);
  vast__jw_kint_opt(&w, "bitRate", in->bit_rate > 0 ? in->bit_rate : -1);
  vast__jw_key(&w, "video");
  if (in->has_video) {
    vast__jw_obj_begin(&w);
    kstr_or_null(&w, "codec", in->video_codec);
    kstr_or_null(&w, "profile", in->video_profile);
    kstr_or_null(&w, "level", in->video_level);
    vast__jw_kint_opt(&w, "width", in->width);
    vast__jw_kint_opt(&w, "height", in->height);
    vast__jw_knum_opt(&w, "frameRate", in->frame_rate);
    vast__jw_kint_opt(&w, "bitRate", in->video_bit_rate > 0 ? in->video_bit_rate : -1);
    vast__jw_obj_end(&w);
  } else {
    vast__jw_null(&w);
  }
  vast__jw_key(&w, "audio");
  if (in->has_audio) {
    vast__jw_obj_begin(&w);
    kstr_or_null(&w, "codec", in->audio_codec);
    kstr_or_null(&w, "profile", in->audio_profile);
    vast__jw_kint_opt(&w, "channels", in->channels);
    vast__jw_kint_opt(&w, "sampleRate", in->sample_rate);
    vast__jw_kint_opt(&w, "bitRate", in->audio_bit_rate > 0 ? in->audio_bit_rate : -1);
    vast__jw_obj_end(&w);
  } else {
    vast__jw_null(&w);
  }
  vast__jw_kbool_opt(&w, "fastStart", in->fast_start);
  vast__jw_kint(&w, "bytesRead", (long long)in->bytes_read);
  vast__jw_kint(&w, "requests", in->requests);
  vast__jw_knum_opt(&w, "elapsedMs", in->elapsed_ms);
  vast__jw_obj_end(&w);
  return vast__jw_finish(&w) ? VAST_E_IO : VAST_OK;
}
