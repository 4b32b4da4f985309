/*  lot_agency - what an agency does: send its bets, ask for its winners

    Bets mode: the data file's bets go out in chunks over one connection
    (v2: up to batch.window chunks unanswered, answered in order; v1:
    stop-and-wait), and an upload that takes more than two seconds says
    how far it is, at most once a second (`action: progreso`); then a
    second connection asks for the winners and waits for the draw, up to
    winners.timeout; a winners connection that drops is opened again and
    asked again. Single-bet mode: when there is no data file (or it is a
    directory) and NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO are
    set, that one bet goes out as the last chunk.

    protocol.version 1 speaks the course's bytes: 'B', then the chunks; a
    drop ends the run. Version 2 opens with 'H', learns from the 'S' how
    many of the agency's bets are stored, and sends the rest as numbered
    chunks; when the connection drops it connects again and goes on from
    what the new 'S' says (the data file is read again from its start). A
    server that never answered 'S' and does not answer this 'H' with one
    speaks v1 only: the run goes on in v1 at once, with a warning line.
    A server silent for server.timeout, while the bets go, is a dropped
    connection.

    Every connection attempt resolves the server's name again and tries
    its addresses in a random order (lot_dial) until one connects: a name
    that stands for several front-ends spreads the agencies over them, and
    a reconnection may land on another one. Each of several addresses has
    2 s to answer, so one whose host is down does not hold the attempt.

    SIGTERM and SIGINT stop any wait: what is open is closed and logged,
    and the run ends with status 0. The signals stay blocked outside the
    waits (ppoll), so none is lost between a check and a blocking call.
*/
#ifndef LOT_AGENCY_H_INCLUDED
#define LOT_AGENCY_H_INCLUDED

#include "lot_client_config.h"
#include "lot_codec.h"
#include "lot_csv.h"

#include <stdbool.h>

//  Yields bets one by one: 1 with the five fields (valid until the next
//  call), 0 at the end, -1 on a bad record (the source logs why).
typedef int (lot_agency_next_fn) (void *source, lot_span_t fields [LOT_BET_FIELDS]);

//  A bet source with one bet of look-ahead, so that a chunk knows whether
//  it is the last one, and a bet that did not fit waits for the next.
typedef struct {
    lot_agency_next_fn *next;
    void *source;
    lot_span_t pending [LOT_BET_FIELDS];
    bool has_pending;
    bool oversized;             //  A bet alone did not fit in a chunk
} lot_agency_feed_t;

void lot_agency_feed_init (lot_agency_feed_t *feed, lot_agency_next_fn *next,
                           void *source);

//  Adds bets from the feed to a started chunk: at most max_bets, and only
//  while they fit in the writer's capacity. Sets *last when the feed has
//  no more bets. Returns the bets added, or -1 when the source failed or
//  a bet does not fit even in an empty chunk (feed->oversized).
int lot_agency_fill_chunk (lot_agency_feed_t *feed, lot_chunk_writer_t *writer,
                           unsigned max_bets, bool *last);

//  A bet source over an agency data file: each record checked, a fail
//  line naming the file and line for a bad one. Use lot_agency_csv_next.
typedef struct {
    lot_csv_t *csv;
    const char *path;
    size_t bets;                //  Bets read so far
} lot_agency_csv_t;

int lot_agency_csv_next (void *source, lot_span_t fields [LOT_BET_FIELDS]);

//  Paces an upload's progress lines: none in its first
//  LOT_AGENCY_PROGRESS_AFTER ms, then at most one every
//  LOT_AGENCY_PROGRESS_PERIOD ms. Times are zclock_mono () ms.
#define LOT_AGENCY_PROGRESS_AFTER   2000
#define LOT_AGENCY_PROGRESS_PERIOD  1000

typedef struct {
    int64_t next;               //  When the next line may go
} lot_agency_pace_t;

void lot_agency_pace_init (lot_agency_pace_t *pace, int64_t start);

//  True when a line may go now; it then counts as gone.
bool lot_agency_pace_due (lot_agency_pace_t *pace, int64_t now);

typedef struct _lot_agency_t lot_agency_t;

//  Installs the SIGTERM and SIGINT handlers; call once, early.
void lot_agency_handle_signals (void);

//  The signal that stopped the run, or 0.
int lot_agency_signal (void);

//  The config must outlive the agency.
lot_agency_t *lot_agency_new (const lot_client_config_t *config);

void lot_agency_destroy (lot_agency_t **self_p);

//  Runs the agency to the end. Returns the exit status: 0 when done (or
//  stopped by a signal), 1 when a connection, the server or the data
//  file failed, 2 when there is nothing valid to send.
int lot_agency_run (lot_agency_t *self);

#endif
