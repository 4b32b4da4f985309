/*  lot_persister - the one owner of the bets file  */
#include "lot_persister.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_bet.h"
#include "lot_csv.h"
#include "lot_log.h"
#include "lot_msg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define ACTOR "persister"
#define BATCH_MAX 256           //  Chunks per write and fdatasync
#define PRUNE_MIN 1024          //  Stored ids kept before forgetting any

typedef struct {
    zsock_t *pipe;
    const lot_settings_t *settings;
    zsock_t *records;           //  PULL from the handlers
    zsock_t *results;           //  PUSH to the front-end
    zsock_t *events;            //  DEALER to the coordinator
    zpoller_t *poller;
    lot_sockets_t *sockets;     //  Owns the three sockets
    int fd;                     //  The bets file, append only
    bool *finished;             //  By agency: its 'L' chunk is stored
    zhashx_t *stored;           //  Ids of stored chunks a resend may repeat
    uint64_t watermark;         //  Ids below it will not come again
    size_t prune_at;            //  Size of stored that triggers forgetting
    lot_records_t batch [BATCH_MAX];
    bool terminated;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_sockets_destroy (&self->sockets);
        zpoller_destroy (&self->poller);
        if (self->fd >= 0) {
            //  Every write was already made durable before its chunk was
            //  confirmed; this sync covers BETS_FSYNC=false.
            fdatasync (self->fd);
            close (self->fd);
            lot_log_info ("action: close | result: success | actor: " ACTOR
                          " | resource: bets_file | path: %s",
                          self->settings->bets_file);
        }
        free (self->finished);
        zhashx_destroy (&self->stored);
        free (self);
        *self_p = NULL;
    }
}

//  A crash in the middle of a write can leave a partial last line, never
//  confirmed to anyone: cut it off so the file stays whole lines.
static int
s_repair_tail (self_t *self)
{
    struct stat info;
    if (fstat (self->fd, &info) || info.st_size == 0)
        return 0;
    int reader = open (self->settings->bets_file, O_RDONLY | O_CLOEXEC);
    if (reader < 0)
        return -1;
    char block [4096];
    off_t end = info.st_size;
    off_t keep = 0;
    while (end > 0 && keep == 0) {
        off_t start = end > (off_t) sizeof block ? end - (off_t) sizeof block : 0;
        ssize_t got = pread (reader, block, (size_t) (end - start), start);
        if (got <= 0)
            break;
        for (ssize_t i = got - 1; i >= 0; i--)
            if (block [i] == '\n') {
                keep = start + i + 1;
                break;
            }
        end = start;
    }
    close (reader);
    if (keep == info.st_size)
        return 0;
    if (ftruncate (self->fd, keep))
        return -1;
    lot_log_warning ("action: bets_file_repair | result: success | path: %s"
                     " | removed_bytes: %lld", self->settings->bets_file,
                     (long long) (info.st_size - keep));
    return 0;
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->settings;
    self->fd = open (settings->bets_file,
                     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (self->fd < 0 || s_repair_tail (self)) {
        lot_log_error ("action: open | result: fail | actor: " ACTOR
                       " | resource: bets_file | path: %s | reason: %s",
                       settings->bets_file, strerror (errno));
        return -1;
    }
    self->records = lot_sockets_open (self->sockets, ZMQ_PULL,
                                      settings->records_endpoint, true, "records");
    self->results = lot_sockets_open (self->sockets, ZMQ_PUSH,
                                      settings->results_endpoint, false, "results");
    self->events = lot_sockets_open (self->sockets, ZMQ_DEALER,
                                     settings->events_endpoint, false, "events");
    if (!self->records || !self->results || !self->events)
        return -1;
    zpoller_add (self->poller, self->records);
    zpoller_add (self->poller, self->events);
    return 0;
}

//  Writes every iovec whole, across short writes. Returns 0 or -1.
static int
s_write_all (int fd, struct iovec *iov, int count)
{
    while (count > 0) {
        ssize_t wrote = writev (fd, iov, count > IOV_MAX ? IOV_MAX : count);
        if (wrote < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (count > 0 && (size_t) wrote >= iov->iov_len) {
            wrote -= (ssize_t) iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *) iov->iov_base + wrote;
            iov->iov_len -= (size_t) wrote;
        }
    }
    return 0;
}

//  Appends the accepted chunks in one write and one sync. On failure the
//  file is cut back to where it was: nothing of these chunks stays.
static const char *
s_self_store (self_t *self, lot_records_t **accepted, int count)
{
    struct iovec iov [BATCH_MAX];
    for (int i = 0; i < count; i++)
        iov [i] = (struct iovec) {
            zframe_data (accepted [i]->lines), zframe_size (accepted [i]->lines)
        };
    off_t before = lseek (self->fd, 0, SEEK_END);
    if (before < 0)
        return "cannot seek the bets file";
    if (s_write_all (self->fd, iov, count) == 0
    && (!self->settings->bets_fsync || fdatasync (self->fd) == 0))
        return NULL;
    const char *reason = errno == ENOSPC ? "bets file device full" : "bets file write failed";
    if (ftruncate (self->fd, before))
        lot_log_error ("action: bets_file_truncate | result: fail | path: %s"
                       " | reason: %s", self->settings->bets_file, strerror (errno));
    return reason;
}

static void
s_log_stored_bets (zframe_t *lines)
{
    FILE *stream = fmemopen (zframe_data (lines), zframe_size (lines), "r");
    lot_csv_t *csv = stream ? lot_csv_new_stream (stream) : NULL;
    lot_span_t fields [6];
    while (csv && lot_csv_next (csv, fields, 6) == 6)
        lot_log_debug ("action: apuesta_almacenada | result: success"
                       " | dni: %.*s | numero: %.*s",
                       (int) fields [3].size, fields [3].data,
                       (int) fields [5].size, fields [5].data);
    lot_csv_destroy (&csv);
}

//  Forgets the ids below the watermark, once there are enough of them
//  that it pays: memory follows the chunks in flight, not the data.
static void
s_self_prune (self_t *self)
{
    if (zhashx_size (self->stored) < self->prune_at)
        return;
    zlistx_t *keys = zhashx_keys (self->stored);
    for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys))
        if (strtoull (key, NULL, 10) < self->watermark)
            zhashx_delete (self->stored, key);
    zlistx_destroy (&keys);
    size_t twice = 2 * zhashx_size (self->stored);
    self->prune_at = twice > PRUNE_MIN ? twice : PRUNE_MIN;
}

//  A RESULT that cannot be handed on in SEND_TIMEOUT is dropped: the
//  front-end sends the chunk again and gets its answer then.
static void
s_self_send_result (self_t *self, uint64_t id, bool ok, uint32_t count,
                    const char *reason)
{
    if (lot_msg_send_result (self->results, id, ok, count, reason))
        lot_log_warning ("action: entregar | result: in_progress | actor: " ACTOR
                         " | socket: results | reason: the front-end takes no"
                         " messages; it will send the chunk again");
}

typedef enum {
    ADMIT_STORE,                //  New: goes into this batch's write
    ADMIT_REPEAT,               //  Sent again: shares its first copy's fate
    ADMIT_DROP,                 //  A late copy nobody waits for
    ADMIT_REJECT                //  Answered with a failure already
} s_admit_t;

//  Decides what becomes of one chunk of the batch. Agencies that finish
//  within the batch count as finished for the chunks after them.
static s_admit_t
s_self_admit (self_t *self, lot_records_t *records)
{
    char key [LOT_MSG_KEY_SIZE];
    lot_msg_id_key (records->id, key);
    if (records->watermark > self->watermark)
        self->watermark = records->watermark;
    if (zhashx_lookup (self->stored, key))
        return ADMIT_REPEAT;
    if (records->id < self->watermark) {
        //  The front-end has had its answer: a handler that stalled past
        //  RESEND_TIMEOUT woke up
        lot_log_debug ("action: duplicado | result: success | chunk: %s", key);
        return ADMIT_DROP;
    }
    bool known = records->agency >= 1 && records->agency <= self->settings->agencies;
    const char *reason = !known ? "unknown agency"
                       : self->finished [records->agency] ? "agency already finished"
                       : NULL;
    if (reason) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: %s", records->count, reason);
        s_self_send_result (self, records->id, false, records->count, reason);
        return ADMIT_REJECT;
    }
    if (records->last)
        self->finished [records->agency] = true;
    zhashx_insert (self->stored, key, "");
    return ADMIT_STORE;
}

//  Tells the front-end (and the coordinator, for an 'L' chunk) how the
//  write went; on failure the chunk is forgotten as if it never came.
static void
s_self_confirm (self_t *self, lot_records_t *records, const char *failure)
{
    if (failure) {
        char key [LOT_MSG_KEY_SIZE];
        zhashx_delete (self->stored, lot_msg_id_key (records->id, key));
        if (records->last)
            self->finished [records->agency] = false;
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: %s", records->count, failure);
        s_self_send_result (self, records->id, false, records->count, failure);
        return;
    }
    if (lot_log_enabled (LOT_LOG_DEBUG))
        s_log_stored_bets (records->lines);
    lot_log_info ("action: apuesta_recibida | result: success | cantidad: %u",
                  records->count);
    s_self_send_result (self, records->id, true, records->count, NULL);
    if (records->last
    &&  zsock_send (self->events, "s4", LOT_MSG_DONE, records->agency))
        lot_log_error ("action: agencia_finalizada | result: fail | agencia: %u"
                       " | reason: the coordinator takes no messages", records->agency);
}

static void
s_self_handle_records (self_t *self)
{
    int received = 0;
    do {
        if (lot_msg_recv_records (self->records, &self->batch [received]) == 0)
            received++;
    } while (received < BATCH_MAX && (zsock_events (self->records) & ZMQ_POLLIN));

    lot_records_t *accepted [BATCH_MAX];
    lot_records_t *repeated [BATCH_MAX];
    int count = 0, repeats = 0;
    for (int i = 0; i < received; i++) {
        s_admit_t admit = s_self_admit (self, &self->batch [i]);
        if (admit == ADMIT_STORE)
            accepted [count++] = &self->batch [i];
        else
        if (admit == ADMIT_REPEAT)
            repeated [repeats++] = &self->batch [i];
    }
    const char *failure = count ? s_self_store (self, accepted, count) : NULL;
    for (int i = 0; i < count; i++)
        s_self_confirm (self, accepted [i], failure);
    for (int i = 0; i < repeats; i++) {
        char key [LOT_MSG_KEY_SIZE];
        bool stored = zhashx_lookup (self->stored, lot_msg_id_key (repeated [i]->id, key));
        lot_log_debug ("action: duplicado | result: success | chunk: %s", key);
        s_self_send_result (self, repeated [i]->id, stored, repeated [i]->count,
                            stored ? NULL : failure);
    }
    for (int i = 0; i < received; i++)
        zframe_destroy (&self->batch [i].lines);
    s_self_prune (self);
}

//  Reads the bets back from the file and answers DRAWN with the winning
//  documents of each agency.
static void
s_self_draw (self_t *self)
{
    long agencies = self->settings->agencies;
    zchunk_t **winners = calloc ((size_t) agencies + 1, sizeof *winners);
    lot_csv_t *csv = lot_csv_new (self->settings->bets_file);
    if (!winners || !csv) {
        zsock_send (self->events, "s4s", LOT_MSG_DRAWN, 0, "cannot read the bets file");
        lot_csv_destroy (&csv);
        free (winners);
        return;
    }
    for (long i = 1; i <= agencies; i++)
        winners [i] = zchunk_new (NULL, 0);
    size_t bets = 0, won = 0, skipped = 0;
    lot_span_t fields [6];
    int got;
    while ((got = lot_csv_next (csv, fields, 6)) != 0) {
        unsigned agency, number;
        if (got != 6
        ||  lot_bet_parse_uint (fields [0], 10, (unsigned) agencies, &agency) || agency == 0
        ||  lot_bet_parse_uint (fields [5], 10, LOT_NUMBER_MAX, &number)) {
            lot_log_error ("action: leer_apuestas | result: fail | path: %s"
                           " | line: %zu | reason: not a bet of this draw",
                           self->settings->bets_file, lot_csv_line (csv));
            skipped++;
            continue;
        }
        bets++;
        if (number == LOT_WINNING_NUMBER) {
            zchunk_extend (winners [agency], fields [3].data, fields [3].size);
            zchunk_extend (winners [agency], "\n", 1);
            won++;
        }
    }
    bool failed = lot_csv_failed (csv);
    lot_csv_destroy (&csv);
    if (failed) {
        for (long i = 1; i <= agencies; i++)
            zchunk_destroy (&winners [i]);
        free (winners);
        zsock_send (self->events, "s4s", LOT_MSG_DRAWN, 0, "read error in the bets file");
        return;
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, LOT_MSG_DRAWN);
    zmsg_addstr (msg, "1");
    zmsg_addstrf (msg, "%zu bets, %zu winners", bets, won);
    for (long i = 1; i <= agencies; i++) {
        zmsg_addmem (msg, zchunk_data (winners [i]), zchunk_size (winners [i]));
        zchunk_destroy (&winners [i]);
    }
    free (winners);
    lot_log_info ("action: leer_apuestas | result: success | apuestas: %zu"
                  " | ganadores: %zu | descartadas: %zu", bets, won, skipped);
    zmsg_send (&msg, self->events);
}

static void
s_self_handle_events (self_t *self)
{
    char *command = zstr_recv (self->events);
    if (command && streq (command, LOT_MSG_DRAW))
        s_self_draw (self);
    zstr_free (&command);
}

void
lot_persister_actor (zsock_t *pipe, void *args)
{
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    self->pipe = pipe;
    self->settings = args;
    self->fd = -1;
    self->finished = calloc ((size_t) self->settings->agencies + 1, sizeof (bool));
    assert (self->finished);
    self->stored = zhashx_new ();
    self->prune_at = PRUNE_MIN;
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);
    self->sockets = lot_sockets_new (ACTOR, self->settings, self->poller);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, -1);
        if (which == self->pipe)
            self->terminated = lot_actor_handle_pipe (self->pipe, ACTOR,
                                                      s_self_start, NULL, self);
        else
        if (which == self->records)
            s_self_handle_records (self);
        else
        if (which == self->events)
            s_self_handle_events (self);
        else
            lot_sockets_handle_event (self->sockets, which);
    }
    s_self_destroy (&self);
}
