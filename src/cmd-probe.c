/*
 * cmd-probe.c: `vastrack probe`, what the media behind a tag really is. A thin
 * loop over vast_media_probe_many (vastrack/probe.h): a media URL or file is
 * probed as it is; a VAST tag (a file or URL holding XML) has every MediaFile
 * and Mezzanine of its InLine ads probed, concurrently.
 */
static const char usage_text[] =
    "usage: vastrack probe [options] URL|FILE|TAG...\n"
    "\n"
    "Reads media with libavformat through ranged requests (never the whole file)\n"
    "and prints what it is: HTTP status, Content-Type, size, range support,\n"
    "container, duration, bitrate, video codec/profile/level, resolution, frame\n"
    "rate, audio codec/channels/sample rate, whether an MP4 is fast-start (moov\n"
    "before mdat), and the bytes and requests the probe took.\n"
    "\n"
    "A TAG (a VAST file, or a URL answering XML) has every MediaFile and Mezzanine\n"
    "of its InLine ads probed, --jobs at a time. Relative media URLs resolve\n"
    "against the tag's URL or path.\n";

static const char epilog[] =
    "exit status: 0 every target probed as media, 2 usage, 4 a target could not\n"
    "be read or is not media (the reason is printed)\n";

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "opts.h"

typedef struct popts {
  vast_probe_opts po;
  int json, tag, resolve;
  unsigned jobs;
} popts;

/* One thing to probe, and what a tag said about it. */
typedef struct item {
  char *target;
  const char *tag;     /* the tag it came from; NULL for a direct target */
  const char *element; /* "MediaFile" or "Mezzanine" */
  unsigned index;      /* 1-based, per tag */
  const vast_media_file *mf;
  const vast_mezzanine *mz;
} item;

typedef struct items {
  item *v;
  size_t n, cap;
} items;

static int push(items *it, item x) {
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 16;
    item *nv = realloc(it->v, cap * sizeof *nv);
    if (!nv) return -1;
    it->v = nv;
    it->cap = cap;
  }
  it->v[it->n++] = x;
  return 0;
}

static void kbit(char *out, size_t n, int64_t bps) {
  if (bps > 0)
    snprintf(out, n, "%lld kbit/s", (long long)((bps + 500) / 1000));
  else
    snprintf(out, n, "bitrate unknown");
}

static void print_text(const item *it, const vast_media_info *in, vast_err rc,
                       const vast_error *e) {
  if (it->tag) {
    printf("%s %s %u", it->tag, it->element, it->index);
    const char *type = it->mf ? it->mf->type : it->mz ? it->mz->type : NULL;
    if (type) printf(" (%s)", type);
    printf(": %s\n", it->target);
  } else {
    printf("%s\n", it->target);
  }
  if (!in->is_file && in->status)
    printf("  http       %ld %s, %lld bytes, %s\n", in->status,
           in->content_type[0] ? in->content_type : "(no Content-Type)",
           (long long)in->content_length,
           in->range_ignored ? "range ignored (200 with the whole body)" : "ranges ok");
  else if (in->is_file)
    printf("  file       %lld bytes\n", (long long)in->content_length);
  if (rc != VAST_OK) {
    printf("  error      %s\n", e->message[0] ? e->message : vast_strerror(rc));
  } else {
    char br[32];
    kbit(br, sizeof br, in->bit_rate);
    printf("  container  %s%s\n", in->container,
           in->fast_start == 1   ? ", fast start (moov before mdat)"
           : in->fast_start == 0 ? ", NOT fast start (moov after mdat)"
                                 : "");
    if (in->duration >= 0)
      printf("  duration   %.3f s, %s\n", in->duration, br);
    else
      printf("  duration   unknown, %s\n", br);
    if (in->has_video) {
      kbit(br, sizeof br, in->video_bit_rate);
      printf("  video      %s%s%s%s%s, %dx%d, %.3g fps, %s\n", in->video_codec,
             in->video_profile[0] ? " " : "", in->video_profile, in->video_level[0] ? " " : "",
             in->video_level, in->width, in->height, in->frame_rate, br);
    }
    if (in->has_audio) {
      kbit(br, sizeof br, in->audio_bit_rate);
      printf("  audio      %s%s%s, %d ch, %d Hz, %s\n", in->audio_codec,
             in->audio_profile[0] ? " " : "", in->audio_profile, in->channels, in->sample_rate, br);
    }
  }
  if (in->content_length > 0 && strcmp(in->container, "hls")) /* a playlist: segments too */
    printf("  read       %llu bytes (%.2f%%) in %u request%s, %.1f ms\n",
           (unsigned long long)in->bytes_read,
           100.0 * (double)in->bytes_read / (double)in->content_length, in->requests,
           in->requests == 1 ? "" : "s", in->elapsed_ms);
  else
    printf("  read       %llu bytes in %u request%s, %.1f ms\n", (unsigned long long)in->bytes_read,
           in->requests, in->requests == 1 ? "" : "s", in->elapsed_ms);
}

static void print_json(const item *it, const vast_media_info *in, vast_err rc,
                       const vast_error *e) {
  if (it->tag) {
    fputs("{\"tag\":", stdout);
    cli_json_str(stdout, it->tag);
    printf(",\"element\":\"%s\",\"index\":%u,\"probe\":", it->element, it->index);
  }
  vast_media_info_write_json(it->target, in, rc, e, cli_write_file, stdout);
  if (it->tag) putchar('}');
  putchar('\n');
}

/* Adds the media of the InLine ads of doc (relative URLs against base). */
static int add_media(items *it, const char *tag, const vast_doc *doc, const char *base) {
  const vast_vast *vv = vast_doc_vast(doc);
  unsigned idx_mf = 0, idx_mz = 0;
  for (size_t a = 0; vv && a < vv->n_ads; a++) {
    const vast_ad *ad = &vv->ads[a];
    if (ad->kind != VAST_AD_INLINE) continue;
    for (size_t c = 0; c < ad->n_creatives; c++) {
      const vast_linear *l = ad->creatives[c].linear;
      if (ad->creatives[c].kind != VAST_CREATIVE_LINEAR || !l) continue;
      for (size_t m = 0; m < l->n_media_files + l->n_mezzanines; m++) {
        int mz = m >= l->n_media_files;
        const char *u = mz ? l->mezzanines[m - l->n_media_files].url : l->media_files[m].url;
        item x = {NULL,
                  tag,
                  mz ? "Mezzanine" : "MediaFile",
                  mz ? ++idx_mz : ++idx_mf,
                  mz ? NULL : &l->media_files[m],
                  mz ? &l->mezzanines[m - l->n_media_files] : NULL};
        if (!u || !*u) continue;
        if (vast_url_resolve(base, u, &x.target, NULL) != VAST_OK && !(x.target = strdup(u)))
          return -1;
        if (push(it, x) != 0) {
          free(x.target);
          return -1;
        }
      }
    }
  }
  return 0;
}

/* 1 when buf looks like XML (a tag) rather than media. */
static int looks_xml(const char *buf, size_t len) {
  size_t i = 0;
  if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) i = 3;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
    i++;
  return i < len && buf[i] == '<';
}

/* Reads the tag `name`, adds its media (and, with --resolve, the InLines'). */
static int add_tag(items *it, const popts *o, const char *name, vast_doc ***docs, size_t *nd,
                   vast_chain ***chains, size_t *nc) {
  char *buf = NULL;
  size_t len = 0;
  if (cli_read_input(name, &buf, &len) != 0) return -1;
  vast_doc *doc = NULL;
  vast_error perr;
  if (vast_doc_parse(buf, len, NULL, &doc, &perr) != VAST_OK) {
    cli_error("cannot parse '%s': %s", name, perr.message);
    free(buf);
    return -1;
  }
  vast_doc **nds = realloc(*docs, (*nd + 1) * sizeof *nds);
  if (!nds) {
    vast_doc_free(doc);
    free(buf);
    return -1;
  }
  *docs = nds;
  nds[(*nd)++] = doc;
  const char *base = strcmp(name, "-") ? name : NULL;
  int rc = add_media(it, name, doc, base);
  if (rc == 0 && o->resolve) {
    vast_resolve_opts ro;
    vast_resolve_opts_init(&ro);
    ro.refuse_private = o->po.refuse_private;
    ro.policy = o->po.policy;
    vast_chain *c = NULL;
    vast_resolve_buffer(buf, len, base, &ro, &c, NULL);
    if (c) {
      vast_chain **ncs = realloc(*chains, (*nc + 1) * sizeof *ncs);
      if (!ncs) {
        vast_chain_free(c);
        rc = -1;
      } else {
        *chains = ncs;
        ncs[(*nc)++] = c;
        size_t nh = 0;
        const vast_hop *h = vast_chain_hops(c, &nh);
        for (size_t i = 1; rc == 0 && i < nh; i++)
          if (h[i].doc) rc = add_media(it, h[i].url, h[i].doc, h[i].url);
      }
    }
  }
  free(buf);
  if (rc != 0) cli_error("out of memory");
  return rc;
}

int cmd_probe(int argc, char **argv) {
  popts o;
  memset(&o, 0, sizeof o);
  vast_probe_opts_init(&o.po);
  o.po.policy = cli_net_policy(); /* the command's network policy (vastrack/net.h) */
  o.jobs = 4;
  int refuse = 0;
  const cli_opt table[] = {
      CLI_FLAG("json", o.json, "one JSON object per probe (JSON lines, camelCase keys)"),
      CLI_FLAG("tag", o.tag,
               "treat every argument as a tag (default: a local file is a\n"
               "tag when it starts with '<'; a URL when it answers XML)"),
      CLI_FLAG("resolve", o.resolve, "TAG: follow Wrappers and probe the media of the InLines"),
      CLI_INT("jobs", "N", o.jobs, 0, 64, "probes at once for a TAG (default 4, at most 64)"),
      CLI_INT("timeout", "MS", o.po.timeout_ms, 0, 1LL << 40,
              "per probe, all requests together (default 10000)"),
      CLI_INT("max-bytes", "N", o.po.max_bytes, 0, 1LL << 40,
              "bytes read per probe (default 8388608)"),
      CLI_INT("read-ahead", "N", o.po.read_ahead, 0, 1LL << 40,
              "bytes per ranged request (default 65536)"),
      CLI_FLAG("refuse-private", refuse, "refuse loopback/private/link-local addresses"),
      CLI_END};
  const cli_cmd cmd = {"probe", usage_text, table, epilog};
  int n_ops = cli_opts_parse(&cmd, argc, argv);
  if (n_ops < 0) return cli_opts_exit(n_ops);
  if (n_ops == 0) {
    cli_opts_help(&cmd, stderr);
    return CLI_USAGE;
  }
  if (!o.jobs) o.jobs = 1;
  if (refuse) {
    o.po.refuse_private = 1;
    cli_net_policy()->allow_private = 0;
  }
  items it = {0};
  vast_doc **docs = NULL;
  vast_chain **chains = NULL;
  size_t nd = 0, nc = 0;
  int fail = 0;
  for (int i = 1; i <= n_ops; i++) {
    const char *a = argv[i];
    int tag = o.tag || !strcmp(a, "-");
    if (!tag && !cli_is_url(a)) { /* a local file: sniff its first bytes */
      FILE *f = fopen(a, "rb");
      char head[64];
      size_t k = f ? fread(head, 1, sizeof head, f) : 0;
      if (f) fclose(f);
      tag = looks_xml(head, k);
    }
    if (tag) {
      if (add_tag(&it, &o, a, &docs, &nd, &chains, &nc) != 0) fail = 1;
      continue;
    }
    /* a media file, or a URL: probed as media first; XML coming back makes it a tag */
    char *t = strdup(a);
    if (!t || push(&it, (item){t, NULL, NULL, 0, NULL, NULL}) != 0) {
      free(t);
      cli_error("out of memory");
      fail = 1;
    }
  }
  /* Round 1: everything; round 2: the media of URLs that turned out to be tags. */
  size_t done = 0;
  for (int round = 0; round < 2 && done < it.n; round++) {
    size_t first = done, n = it.n - first;
    const char **targets = calloc(n, sizeof *targets);
    vast_media_info *infos = calloc(n, sizeof *infos);
    vast_err *rcs = calloc(n, sizeof *rcs);
    vast_error *errs = calloc(n, sizeof *errs);
    if (!targets || !infos || !rcs || !errs) {
      cli_error("out of memory");
      fail = 1;
    } else {
      for (size_t k = 0; k < n; k++)
        targets[k] = it.v[first + k].target;
      vast_media_probe_many(targets, n, &o.po, o.jobs, infos, rcs, errs);
      for (size_t k = 0; k < n; k++) {
        item *x = &it.v[first + k];
        if (round == 0 && !x->tag && cli_is_url(x->target) && rcs[k] == VAST_E_NOT_MEDIA &&
            strcasestr(infos[k].content_type, "xml")) {
          if (add_tag(&it, &o, x->target, &docs, &nd, &chains, &nc) != 0) fail = 1;
          continue;
        }
        if (o.json)
          print_json(x, &infos[k], rcs[k], &errs[k]);
        else
          print_text(x, &infos[k], rcs[k], &errs[k]);
        if (rcs[k] != VAST_OK) fail = 1;
      }
    }
    done = first + n;
    free(targets);
    free(infos);
    free(rcs);
    free(errs);
  }
  fflush(stdout);
  for (size_t k = 0; k < it.n; k++)
    free(it.v[k].target);
  free(it.v);
  for (size_t k = 0; k < nd; k++)
    vast_doc_free(docs[k]);
  for (size_t k = 0; k < nc; k++)
    vast_chain_free(chains[k]);
  free(docs);
  free(chains);
  return fail ? CLI_FAIL : CLI_OK;
}
