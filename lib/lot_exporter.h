/*  lot_exporter - serves a registry's metrics over HTTP, for Prometheus

    `GET /metrics` answers the registry in the text exposition format,
    with the process's own metrics as Prometheus's client libraries name
    them (process_cpu_seconds_total, process_resident_memory_bytes,
    process_virtual_memory_bytes, process_open_fds, process_max_fds,
    process_start_time_seconds), read from /proc at each scrape.

    HTTP is libmicrohttpd's, on a thread of its own (its internal polling
    thread, non-blocking sockets): an actor never waits for a scraper. A
    scrape copies the registry into its answer under the registry's mutex,
    which the actors take only to find a series, never to count; a
    scraper that never reads, or reads slowly, holds only its own
    connection, which libmicrohttpd closes after CONNECTION_TIMEOUT, and
    at most CONNECTIONS_MAX are open at once.
*/
#ifndef LOT_EXPORTER_H_INCLUDED
#define LOT_EXPORTER_H_INCLUDED

#include "lot_metrics.h"

typedef struct _lot_exporter_t lot_exporter_t;

//  Listens on every interface at port and serves metrics, which must
//  outlive the exporter. Returns NULL with *error set (a heap string the
//  caller frees) when it cannot listen.
lot_exporter_t *lot_exporter_new (int port, lot_metrics_t *metrics, char **error);

//  Stops listening, closes every connection, and joins the thread.
void lot_exporter_destroy (lot_exporter_t **self_p);

#endif
