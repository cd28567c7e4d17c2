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
  vast__buf json; /* the JSON of the hit being produced */
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
  char *save = NULL;
  for (char *kv = props ? strtok_r(props, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
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
    k->json.n = 0;
    k->json.fail = 0;
    if (vast__hit_json(h, &k->json) != 0) return VAST_E_NOMEM;
    for (;;) {
      int rc = rd_kafka_produce(k->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, k->json.p,
                                k->json.n, h->ad, h->ad ? strlen(h->ad) : 0, h);
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
  vast__buf_free(&k->json);
  free(k);
}

/* ---- JSON form of a hit (Kafka value, also used for logs) ---- */

int vast__hit_json(const vast__hit *h, vast__buf *b) {
  vast__jw w;
  vast__jw_init(&w, vast__buf_write, b);
  vast__jw_obj_begin(&w);
  vast__jw_kint(&w, "t_ms", (long long)h->t_ms);
  vast__jw_kstr(&w, "event", h->event);
  vast__jw_kstr(&w, "ad", h->ad);
  vast__jw_kstr(&w, "cr", h->cr);
  vast__jw_kstr(&w, "sid", h->sid);
  vast__jw_kint_opt(&w, "code", h->code); /* -1: no code, null */
  vast__jw_kstr(&w, "ip", h->ip);
  vast__jw_kstr(&w, "ua", h->ua);
  vast__jw_kstr(&w, "device_ip", h->device_ip);
  vast__jw_kstr(&w, "device_ua", h->device_ua);
  vast__jw_key(&w, "device"); /* already a JSON object (or NULL) */
  if (h->device)
    vast__jw_value(&w, h->device, strlen(h->device));
  else
    vast__jw_null(&w);
  vast__jw_kstr(&w, "query", h->query);
  vast__jw_obj_end(&w);
  return vast__jw_finish(&w) || b->fail ? -1 : 0;
}
