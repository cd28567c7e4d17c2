/*
 * collect-kafka.c: the collector's Kafka sink (librdkafka).
 *
 * An idempotent producer (enable.idempotence=true, which implies acks=all
 * and in-order, exactly-once delivery per partition) writes each hit as a
 * JSON object keyed by its ad id, so every hit of an ad lands in one
 * partition in order. The writer thread produces a whole batch and then
 * serves delivery reports until every message of the batch is acknowledged
 * or has failed; only then are the hits answered in durable mode.
 *
 * URI: kafka://BROKER[,BROKER...]/TOPIC[?property=value&...], the properties
 * being librdkafka configuration (e.g. linger.ms=5, security.protocol=ssl).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect-int.h"
#include "base/jsonw.h"

struct vast__kafka {
  rd_kafka_t *rk;
  rd_kafka_topic_t *topic;
  size_t outstanding;
  char *json;
  size_t json_len, json_cap;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  vast__kafka *k = opaque;
  vast__hit *h = m->_private;
  if (h) h->kafka_ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (k->outstanding) k->outstanding--;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *val, char *msg, size_t msgcap) {
  char e[256];
  if (rd_kafka_conf_set(conf, name, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
    snprintf(msg, msgcap, "kafka: %s", e);
    return -1;
  }
  return 0;
}

vast_err vast__kafka_open(const char *uri, vast__kafka **out, char *msg, size_t msgcap) {
  *out = NULL;
  if (strncmp(uri, "kafka://", 8) != 0) {
    snprintf(msg, msgcap, "kafka: sink must look like kafka://BROKERS/TOPIC: '%s'", uri);
    return VAST_E_INVAL;
  }
  char *copy = strdup(uri + 8);
  if (!copy) return VAST_E_NOMEM;
  char *slash = strchr(copy, '/');
  if (!slash || slash == copy || !slash[1] || slash[1] == '?') {
    snprintf(msg, msgcap, "kafka: sink must look like kafka://BROKERS/TOPIC: '%s'", uri);
    free(copy);
    return VAST_E_INVAL;
  }
  *slash = 0;
  char *topic = slash + 1, *props = strchr(topic, '?');
  if (props) *props++ = 0;

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (set(conf, "bootstrap.servers", copy, msg, msgcap) ||
      set(conf, "enable.idempotence", "true", msg, msgcap) ||
      set(conf, "acks", "all", msg, msgcap) || set(conf, "linger.ms", "2", msg, msgcap) ||
      set(conf, "message.timeout.ms", "30000", msg, msgcap))
    goto bad;
  for (char *p = props, *save = NULL, *kv; p && (kv = strtok_r(p, "&", &save)); p = NULL) {
    char *eq = strchr(kv, '=');
    if (!eq) {
      snprintf(msg, msgcap, "kafka: property without value: '%s'", kv);
      goto bad;
    }
    *eq = 0;
    if (set(conf, kv, eq + 1, msg, msgcap)) goto bad;
  }
  vast__kafka *k = calloc(1, sizeof *k);
  if (!k) {
    rd_kafka_conf_destroy(conf);
    free(copy);
    return VAST_E_NOMEM;
  }
  rd_kafka_conf_set_opaque(conf, k);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  char e[512];
  k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
  if (!k->rk) {
    snprintf(msg, msgcap, "kafka: %s", e);
    rd_kafka_conf_destroy(conf);
    free(k);
    free(copy);
    return VAST_E_KAFKA;
  }
  k->topic = rd_kafka_topic_new(k->rk, topic, NULL);
  free(copy);
  if (!k->topic) {
    snprintf(msg, msgcap, "kafka: cannot create topic handle");
    vast__kafka_close(k);
    return VAST_E_KAFKA;
  }
  *out = k;
  return VAST_OK;
bad:
  rd_kafka_conf_destroy(conf);
  free(copy);
  return VAST_E_INVAL;
}

vast_err vast__kafka_write(vast__kafka *k, vast__hit **hits, size_t n, char *msg, size_t msgcap) {
  for (size_t i = 0; i < n; i++) {
    vast__hit *h = hits[i];
    h->kafka_ok = 0;
    k->json_len = 0;
    if (vast__hit_json(h, &k->json, &k->json_len, &k->json_cap) != 0) return VAST_E_NOMEM;
    for (;;) {
      int rc = rd_kafka_produce(k->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, k->json,
                                k->json_len, h->ad, h->ad ? strlen(h->ad) : 0, h);
      if (rc == 0) {
        k->outstanding++;
        break;
      }
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        snprintf(msg, msgcap, "kafka: %s", rd_kafka_err2str(rd_kafka_last_error()));
        break; /* this hit stays kafka_ok = 0 */
      }
      rd_kafka_poll(k->rk, 10);
    }
  }
  while (k->outstanding)
    rd_kafka_poll(k->rk, 50);
  for (size_t i = 0; i < n; i++)
    if (!hits[i]->kafka_ok) {
      if (!msg[0]) snprintf(msg, msgcap, "kafka: delivery failed");
      return VAST_E_KAFKA;
    }
  return VAST_OK;
}

void vast__kafka_close(vast__kafka *k) {
  if (!k) return;
  if (k->rk) rd_kafka_flush(k->rk, 10000);
  if (k->topic) rd_kafka_topic_destroy(k->topic);
  if (k->rk) rd_kafka_destroy(k->rk);
  free(k->json);
  free(k);
}

/* ---- JSON form of a hit (Kafka value, also used for logs) ---- */

static int put(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t nc = *cap ? *cap * 2 : 512;
    while (nc < *len + n + 1)
      nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb) return -1;
    *buf = nb;
    *cap = nc;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = 0;
  return 0;
}

typedef struct ksink {
  char **buf;
  size_t *len, *cap;
  int fail;
} ksink;

static void ksink_put(void *u, const char *p, size_t n) {
  ksink *k = u;
  if (!k->fail && put(k->buf, k->len, k->cap, p, n)) k->fail = 1;
}

/* ,"key":"value" with the library's one JSON escaper (jsonw.h). */
static int put_str(char **buf, size_t *len, size_t *cap, const char *key, const char *v) {
  if (put(buf, len, cap, ",\"", 2) || put(buf, len, cap, key, strlen(key)) ||
      put(buf, len, cap, "\":", 2))
    return -1;
  if (!v) return put(buf, len, cap, "null", 4);
  ksink k = {buf, len, cap, 0};
  vast__json_quote(v, strlen(v), ksink_put, &k);
  return k.fail ? -1 : 0;
}

int vast__hit_json(const vast__hit *h, char **buf, size_t *len, size_t *cap) {
  char head[64];
  int n = snprintf(head, sizeof head, "{\"t_ms\":%lld", (long long)h->t_ms);
  if (put(buf, len, cap, head, (size_t)n)) return -1;
  if (put_str(buf, len, cap, "event", h->event) || put_str(buf, len, cap, "ad", h->ad) ||
      put_str(buf, len, cap, "cr", h->cr) || put_str(buf, len, cap, "sid", h->sid))
    return -1;
  n = h->code >= 0 ? snprintf(head, sizeof head, ",\"code\":%d", h->code)
                   : snprintf(head, sizeof head, ",\"code\":null");
  if (put(buf, len, cap, head, (size_t)n)) return -1;
  if (put_str(buf, len, cap, "ip", h->ip) || put_str(buf, len, cap, "ua", h->ua) ||
      put_str(buf, len, cap, "device_ip", h->device_ip) ||
      put_str(buf, len, cap, "device_ua", h->device_ua))
    return -1;
  /* device is already a JSON object (or NULL). */
  if (put(buf, len, cap, ",\"device\":", 10)) return -1;
  if (h->device ? put(buf, len, cap, h->device, strlen(h->device)) : put(buf, len, cap, "null", 4))
    return -1;
  if (put_str(buf, len, cap, "query", h->query)) return -1;
  return put(buf, len, cap, "}", 1);
}
