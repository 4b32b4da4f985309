/*  lot_store - the bets file and its journal: which chunks are stored  */
#include "lot_store.h"
#include "lot_file.h"
#include "lot_journal.h"
#include "lot_log.h"
#include "lot_recovery.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

//  An agency's digest, hashed lazily: of the lines hashed so far, and the
//  runs of the bets file holding its lines stored since, which are read
//  back and hashed only when the digest is asked for (an 'H'). Hashing at
//  each commit cost the persister a tenth more CPU (docs/benchmarks.md),
//  for agencies that mostly never ask again once they upload.
typedef struct {
    lot_digest_t *digest;
    uint64_t (*owed) [2];           //  Offset and size of each run not hashed
    size_t owed_count;
    size_t owed_max;
} s_digest_t;

struct _lot_store_t {
    char *bets_path;
    lot_recovery_t files;           //  Both descriptors, where each ends,
                                    //  the number of the last group written
    long agencies;
    bool fsync;
    bool broken;                    //  A failed commit could not be cut back
    uint32_t *stored;               //  By agency, durable
    bool *finished;
    s_digest_t *digests;            //  By agency, of the durable lines
    uint32_t *next;                 //  By agency, counting pending chunks
    bool *closing;
    lot_store_chunk_t *pending;
    size_t pending_count;
    size_t pending_max;
    struct iovec *iov;              //  A commit's buffers, pending_max each:
    char *records;                  //  kept, so a commit allocates nothing
    lot_store_stats_t stats;        //  Of the last commit
    int unsynced;                   //  Groups since the journal was synced
};

static int
s_self_sync (lot_store_t *self, int fd)
{
    return self->fsync ? fdatasync (fd) : 0;
}

//  Makes both files durable; without fsync only when always.
static int
s_self_sync_both (lot_store_t *self, bool always)
{
    if (!self->fsync && !always)
        return 0;
    return lot_file_sync_pair (self->files.bets_fd, self->files.journal_fd,
                               &self->files.same_fs);
}

//  The agency's lines at offset, size bytes, are stored: owed to its
//  digest (a lot_recovery_lines_fn). A run that goes on from the last one
//  grows it.
static void
s_self_owe (void *arg, uint32_t agency, uint64_t offset, uint64_t size)
{
    lot_store_t *self = arg;
    s_digest_t *digest = &self->digests [agency];
    if (size == 0)
        return;
    if (digest->owed_count > 0) {
        uint64_t *last = digest->owed [digest->owed_count - 1];
        if (last [0] + last [1] == offset) {
            last [1] += size;
            return;
        }
    }
    if (digest->owed_count == digest->owed_max) {
        digest->owed_max = digest->owed_max ? 2 * digest->owed_max : 16;
        digest->owed = realloc (digest->owed, digest->owed_max * sizeof *digest->owed);
        assert (digest->owed);
    }
    digest->owed [digest->owed_count] [0] = offset;
    digest->owed [digest->owed_count++] [1] = size;
}

//  --------------------------------------------------------------------------

lot_store_t *
lot_store_new (const char *bets_path, const char *journal_path, long agencies,
               bool fsync, char **error)
{
    assert (bets_path && journal_path && agencies >= 0 && agencies < UINT32_MAX);
    if (error)
        *error = NULL;
    lot_store_t *self = calloc (1, sizeof *self);
    assert (self);
    self->bets_path = strdup (bets_path);
    self->agencies = agencies;
    self->fsync = fsync;
    size_t slots = (size_t) agencies + 1;
    self->stored = calloc (slots, sizeof *self->stored);
    self->finished = calloc (slots, sizeof *self->finished);
    self->next = calloc (slots, sizeof *self->next);
    self->closing = calloc (slots, sizeof *self->closing);
    self->digests = calloc (slots, sizeof *self->digests);
    assert (self->bets_path && self->stored && self->finished && self->next
            && self->closing && self->digests);
    for (size_t agency = 1; agency < slots; agency++) {
        self->digests [agency].digest = lot_digest_new ();
        assert (self->digests [agency].digest);
    }
    if (lot_recovery_open (&self->files, bets_path, journal_path, agencies, fsync,
                           self->stored, self->finished, s_self_owe, self, error)) {
        lot_store_destroy (&self);
        return NULL;
    }
    memcpy (self->next, self->stored, slots * sizeof *self->stored);
    memcpy (self->closing, self->finished, slots * sizeof *self->finished);
    return self;
}

void
lot_store_destroy (lot_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        lot_store_t *self = *self_p;
        //  Commits synced already; without fsync nothing is promised
        if (self->files.bets_fd >= 0) {
            s_self_sync (self, self->files.bets_fd);
            close (self->files.bets_fd);
        }
        if (self->files.journal_fd >= 0) {
            s_self_sync (self, self->files.journal_fd);
            close (self->files.journal_fd);
        }
        free (self->bets_path);
        free (self->stored);
        free (self->finished);
        free (self->next);
        free (self->closing);
        for (long agency = 1; self->digests && agency <= self->agencies; agency++) {
            lot_digest_destroy (&self->digests [agency].digest);
            free (self->digests [agency].owed);
        }
        free (self->digests);
        free (self->pending);
        free (self->iov);
        free (self->records);
        free (self);
        *self_p = NULL;
    }
}

int
lot_store_sync (lot_store_t *self)
{
    assert (self);
    return s_self_sync_both (self, true);
}

uint32_t
lot_store_stored (lot_store_t *self, uint32_t agency)
{
    assert (self);
    return agency >= 1 && agency <= self->agencies ? self->stored [agency] : 0;
}

bool
lot_store_finished (lot_store_t *self, uint32_t agency)
{
    assert (self);
    return agency >= 1 && agency <= self->agencies && self->finished [agency];
}

int
lot_store_digest (lot_store_t *self, uint32_t agency, uint8_t out [LOT_DIGEST_SIZE])
{
    assert (self);
    memset (out, 0, LOT_DIGEST_SIZE);
    if (agency < 1 || agency > self->agencies)
        return 0;
    s_digest_t *digest = &self->digests [agency];
    char block [1 << 16];
    for (size_t i = 0; i < digest->owed_count; i++) {
        uint64_t *run = digest->owed [i];
        while (run [1] > 0) {
            size_t size = run [1] < sizeof block ? (size_t) run [1] : sizeof block;
            if (lot_file_read_at (self->files.bets_fd, block, size, run [0])) {
                //  What was hashed is no longer owed: the next call goes on
                memmove (digest->owed, digest->owed + i,
                         (digest->owed_count - i) * sizeof *digest->owed);
                digest->owed_count -= i;
                return -1;
            }
            lot_digest_add (digest->digest, block, size);
            run [0] += size;
            run [1] -= size;
        }
    }
    digest->owed_count = 0;
    lot_digest_get (digest->digest, out);
    return 0;
}

size_t
lot_store_pending (lot_store_t *self)
{
    assert (self);
    return self->pending_count;
}

void
lot_store_stats (lot_store_t *self, lot_store_stats_t *stats)
{
    assert (self);
    *stats = self->stats;
    stats->group = self->files.group;
    stats->bets_size = self->files.bets_size;
    stats->journal_size = self->files.journal_size;
}

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static lot_store_verdict_t
s_reject (const char **reason, const char *why)
{
    if (reason)
        *reason = why;
    return LOT_STORE_REJECT;
}

//  Adds a chunk to the pending group: APPEND, or REJECT when its agency
//  would count more bets than a journal record holds.
static lot_store_verdict_t
s_self_append (lot_store_t *self, const lot_store_chunk_t *chunk, const char **reason)
{
    if ((uint64_t) chunk->position + chunk->count > UINT32_MAX)
        return s_reject (reason, "too many bets");
    if (self->pending_count == self->pending_max) {
        self->pending_max = self->pending_max ? 2 * self->pending_max : 64;
        self->pending = realloc (self->pending,
                                 self->pending_max * sizeof *self->pending);
        self->iov = realloc (self->iov, self->pending_max * sizeof *self->iov);
        self->records = realloc (self->records,
                                 self->pending_max * LOT_JOURNAL_RECORD_MAX);
        assert (self->pending && self->iov && self->records);
    }
    self->pending [self->pending_count++] = *chunk;
    self->next [chunk->agency] = chunk->position + chunk->count;
    self->closing [chunk->agency] = chunk->last;
    return LOT_STORE_APPEND;
}

lot_store_verdict_t
lot_store_admit (lot_store_t *self, const lot_store_chunk_t *chunk, const char **reason)
{
    assert (self && chunk);
    assert (chunk->size == 0
            || (chunk->lines && ((const char *) chunk->lines) [chunk->size - 1] == '\n'));
    if (reason)
        *reason = NULL;
    uint32_t agency = chunk->agency;
    if (agency < 1 || agency > self->agencies)
        return s_reject (reason, "unknown agency");
    uint64_t start = chunk->position, end = start + chunk->count;
    uint64_t stored = self->stored [agency], next = self->next [agency];
    if (start == next && !self->closing [agency])
        return s_self_append (self, chunk, reason);
    //  Its first bets are stored, not all of them, or all but not its last
    //  flag: recovery adopted them (lot_recovery.h), in this run or an
    //  earlier one. A chunk is the same bytes each time it is sent, so its
    //  first stored - start lines are those stored: the rest is new.
    if (start < stored
    &&  (end > stored || (end == stored && chunk->last && !self->finished [agency]))) {
        if (next == stored && !self->closing [agency]) {
            lot_store_chunk_t rest = *chunk;
            const char *lines = chunk->lines;
            size_t skip = 0;
            for (uint64_t bet = start; bet < stored; bet++) {
                const char *newline = memchr (lines + skip, '\n', chunk->size - skip);
                if (!newline)
                    return s_reject (reason, "chunk overlaps stored bets");
                skip = (size_t) (newline - lines) + 1;
            }
            rest.position = (uint32_t) stored;
            rest.count = (uint32_t) (end - stored);
            rest.lines = lines + skip;
            rest.size = chunk->size - skip;
            return s_self_append (self, &rest, reason);
        }
        if (end <= next)
            return LOT_STORE_REPEAT;
    }
    if (end <= stored && (start < stored || self->finished [agency]))
        return LOT_STORE_STORED;
    if (end <= next)
        return LOT_STORE_REPEAT;
    if (self->closing [agency])
        return s_reject (reason, "agency already finished");
    if (start > next) {
        if (reason)
            *reason = "chunk out of order";
        return LOT_STORE_EARLY;
    }
    return s_reject (reason, "chunk overlaps stored bets");
}

//  Forgets the pending group: the state is the durable one again.
static void
s_self_drop_pending (lot_store_t *self)
{
    size_t slots = (size_t) self->agencies + 1;
    memcpy (self->next, self->stored, slots * sizeof *self->stored);
    memcpy (self->closing, self->finished, slots * sizeof *self->finished);
    self->pending_count = 0;
}

//  Cuts both files back to before a failed group, durably, so that the
//  next group never lands beside its remains. When that fails the store
//  stops writing: its sizes no longer say where the files end.
static void
s_self_cut_back (lot_store_t *self)
{
    if (ftruncate (self->files.bets_fd, (off_t) self->files.bets_size)
    ||  ftruncate (self->files.journal_fd, (off_t) self->files.journal_size)
    ||  s_self_sync_both (self, false)) {
        self->broken = true;
        lot_log_error ("action: bets_file_truncate | result: fail | path: %s"
                       " | reason: %s", self->bets_path, strerror (errno));
    }
}

const char *
lot_store_commit (lot_store_t *self)
{
    assert (self);
    size_t count = self->pending_count;
    if (count == 0)
        return NULL;
    if (self->broken) {
        s_self_drop_pending (self);
        return "bets file write failed";
    }
    struct iovec *iov = self->iov;
    char *records = self->records;
    int lines = 0;
    size_t records_size = 0;
    uint64_t end = self->files.bets_size;
    bool finishing = false;
    for (size_t i = 0; i < count; i++) {
        const lot_store_chunk_t *chunk = &self->pending [i];
        finishing |= chunk->last;
        if (chunk->size)
            iov [lines++] = (struct iovec) { (void *) chunk->lines, chunk->size };
        end += chunk->size;
        lot_journal_record_t record = {
            .agency = chunk->agency, .position = chunk->position, .count = chunk->count,
            .last = chunk->last, .group = self->files.group + 1, .end = end,
            .lines_crc = lot_journal_crc (chunk->lines, chunk->size)
        };
        records_size += lot_journal_record_format (&record, records + records_size);
    }
    struct iovec journal = { records, records_size };
    int64_t start = s_now_ns ();
    int rc = lot_file_write_all (self->files.bets_fd, iov, lines)
          || lot_file_write_all (self->files.journal_fd, &journal, 1);
    int64_t written = s_now_ns ();
    //  The bets file alone is made durable: recovery adopts its lines
    //  past the journal's last record. A finished agency must not depend
    //  on that (the flag is in the records only), so a group with a last
    //  chunk makes the journal durable too; so does every
    //  LOT_STORE_JOURNAL_SYNC_GROUPS-th group, which bounds what a
    //  recovery may have to adopt.
    bool both = finishing || self->unsynced + 1 >= LOT_STORE_JOURNAL_SYNC_GROUPS;
    rc = rc || (both ? s_self_sync_both (self, false)
                     : s_self_sync (self, self->files.bets_fd));
    if (!rc)
        self->unsynced = both ? 0 : self->unsynced + 1;
    const char *reason = NULL;
    if (rc) {
        reason = errno == ENOSPC ? "bets file device full" : "bets file write failed";
        s_self_cut_back (self);
    }
    else {
        size_t slots = (size_t) self->agencies + 1;
        uint64_t offset = self->files.bets_size;
        for (size_t i = 0; i < count; i++) {
            s_self_owe (self, self->pending [i].agency, offset, self->pending [i].size);
            offset += self->pending [i].size;
        }
        memcpy (self->stored, self->next, slots * sizeof *self->stored);
        memcpy (self->finished, self->closing, slots * sizeof *self->finished);
        self->files.bets_size = end;
        self->files.journal_size += records_size;
        self->files.group++;
        uint64_t bets = 0;
        for (size_t i = 0; i < count; i++)
            bets += self->pending [i].count;
        self->stats = (lot_store_stats_t) {
            .chunks = (uint32_t) count, .bets = bets,
            .write_ns = written - start, .sync_ns = s_now_ns () - written
        };
    }
    s_self_drop_pending (self);

    return reason;
}
